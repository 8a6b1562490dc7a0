package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// bulkTable is a table the Loader writes, with its columns in insert order.
type bulkTable struct {
	name    string
	columns string
	n       int // number of columns
}

// The tables a Loader writes, parents before children: flushing in this order
// means every row's references are in the database before the row itself,
// which both backends check at the end of each statement.
const (
	bulkUsers = iota
	bulkProducts
	bulkResponses
	bulkCustomers
	bulkHoldings
	bulkMoments
	bulkStageChanges
	bulkPromises
	bulkTableCount
)

var bulkTables = [bulkTableCount]bulkTable{
	bulkUsers:        {"users", userColumns, 7},
	bulkProducts:     {"products", "key, name, created_at", 3},
	bulkResponses:    {"responses", "id, touchpoint, key, description, status, created_at, tags", 7},
	bulkCustomers:    {"customers", customerColumns + ", search", 14},
	bulkHoldings:     {"holdings", "id, customer_id, product, started_at, ended_at", 5},
	bulkMoments:      {"moments", momentColumns, momentColumnCount},
	bulkStageChanges: {"stage_changes", "id, customer_id, from_stage, to_stage, reason, dissolution_reason, changed_by, changed_at", 8},
	bulkPromises:     {"promises", "id, customer_id, staff_id, moment_id, text, due_at, status, resolved_at, created_at", 9},
}

// DefaultLoaderCommitRows is how many rows a Loader writes per transaction:
// large enough that commits cost little, small enough that a 10-million-row
// load never builds a huge transaction or write-ahead log.
const DefaultLoaderCommitRows = 50_000

// Loader writes rows as given (ids and times already set), fast, for
// loading a whole firm at once. It checks nothing beyond what the database
// enforces. Rows are buffered per table, written in chunks of insertChunk
// rows with prepared statements, parents before children, and committed
// every CommitRows rows, so memory stays bounded however much is loaded; a
// load that fails part way leaves what was committed before. Call Flush at
// the end; Close releases an unflushed load. A Loader is not safe for
// concurrent use and, on SQLite, holds the only write connection while a
// transaction is open.
type Loader struct {
	db *DB
	// CommitRows is how many rows go in one transaction.
	CommitRows int

	tx      *sql.Tx
	q       querier
	stmts   [bulkTableCount]*sql.Stmt // INSERTs prepared in tx
	bufs    [bulkTableCount][]any
	counts  [bulkTableCount]int // rows buffered per table
	pending int                 // rows written since the last commit
	written int
	restore []string // PRAGMAs that undo tuneSQLite
	err     error
}

// Loader returns a bulk loader on db.
func (db *DB) Loader() *Loader {
	return &Loader{db: db, CommitRows: DefaultLoaderCommitRows}
}

// Rows returns how many rows the loader has written so far, committed or not.
func (l *Loader) Rows() int { return l.written }

// AddUser buffers a member of staff; managers must be added before their reports.
func (l *Loader) AddUser(ctx context.Context, u *rapport.User) error {
	return l.add(ctx, bulkUsers, u.ID, u.Email, u.Name, string(u.Role), u.Team, nullString(u.ManagerID), micros(u.CreatedAt))
}

// AddProduct buffers a product.
func (l *Loader) AddProduct(ctx context.Context, p *rapport.Product) error {
	return l.add(ctx, bulkProducts, p.Key, p.Name, micros(p.CreatedAt))
}

// AddResponse buffers a response of a touchpoint.
func (l *Loader) AddResponse(ctx context.Context, r *rapport.Response) error {
	tags, err := tagsJSON(r.Tags)
	if err != nil {
		return err
	}
	return l.add(ctx, bulkResponses, r.ID, r.Touchpoint, r.Key, r.Description, r.Status, micros(r.CreatedAt), tags)
}

// AddCustomer buffers a customer; a referrer must be added before those it referred.
func (l *Loader) AddCustomer(ctx context.Context, c *rapport.Customer) error {
	// Store empty documents the way CreateCustomer does, not as JSON null.
	doc := *c
	if doc.Attributes == nil {
		doc.Attributes = map[string]any{}
	}
	if doc.Preferences.Likes == nil {
		doc.Preferences.Likes = []string{}
	}
	if doc.Preferences.Dislikes == nil {
		doc.Preferences.Dislikes = []string{}
	}
	attrs, prefs := marshalCustomerDocs(&doc)
	return l.add(ctx, bulkCustomers, c.ID, nullString(c.ExternalID), c.Kind, c.Name, c.Email, c.Phone, attrs, prefs,
		nullString(c.OwnerID), nullString(c.ReferredBy), c.Stage, micros(c.CreatedAt), micros(c.UpdatedAt), searchText(c))
}

// AddHolding buffers a customer's holding of a product.
func (l *Loader) AddHolding(ctx context.Context, h *rapport.Holding) error {
	return l.add(ctx, bulkHoldings, h.ID, h.CustomerID, h.Product, micros(h.StartedAt), optionalMicros(h.EndedAt))
}

// AddMoment buffers a moment; its outcome and outcome source must be set already.
func (l *Loader) AddMoment(ctx context.Context, m *rapport.Moment) error {
	return l.add(ctx, bulkMoments, m.ID, nullString(m.ExternalID), m.CustomerID, m.Touchpoint, string(m.Channel),
		micros(m.OccurredAt), nullString(m.StaffID), nullString(m.Response), nullInt(m.Rating),
		nullInt(m.Effort), nullInt(m.NPS), string(m.Outcome), m.OutcomeSource, m.Notes, m.Revenue, m.Cost,
		micros(m.RecordedAt))
}

// AddStageChange buffers one step of a customer's relationship history.
func (l *Loader) AddStageChange(ctx context.Context, s *rapport.StageChange) error {
	return l.add(ctx, bulkStageChanges, s.ID, s.CustomerID, s.From, s.To, s.Reason, s.DissolutionReason, s.ChangedBy, micros(s.ChangedAt))
}

// AddPromise buffers a promise; the moment it was made in must be added first.
func (l *Loader) AddPromise(ctx context.Context, p *rapport.Promise) error {
	return l.add(ctx, bulkPromises, p.ID, p.CustomerID, nullString(p.StaffID), nullString(p.MomentID), p.Text,
		micros(p.DueAt), p.Status, optionalMicros(p.ResolvedAt), micros(p.CreatedAt))
}

// SetStage sets a customer's current stage, for a customer added earlier
// whose history was loaded before its final stage was known. It records no
// stage change; add that with AddStageChange.
func (l *Loader) SetStage(ctx context.Context, customerID, stage string, at time.Time) error {
	if err := l.flushThrough(ctx, bulkCustomers); err != nil {
		return err
	}
	res, err := l.q.exec(ctx, `UPDATE customers SET stage = ?, updated_at = ? WHERE id = ?`, stage, micros(at), customerID)
	if err == nil {
		if n, _ := res.RowsAffected(); n == 0 {
			err = rapport.Errorf(rapport.ENOTFOUND, "No customer has the id %q.", customerID)
		}
	}
	return l.fail(err)
}

// Flush writes every buffered row and commits.
func (l *Loader) Flush(ctx context.Context) error {
	if err := l.flushThrough(ctx, bulkTableCount-1); err != nil {
		return err
	}
	if err := l.commit(); err != nil {
		return err
	}
	// Holdings and promises were written directly, so the counts the
	// cross-sell and the promises report read are made afresh.
	err := l.db.inTx(ctx, func(tx *tx) error {
		if err := rebuildProductPairs(ctx, tx.querier); err != nil {
			return err
		}
		return rebuildPromiseCounts(ctx, tx.querier)
	})
	if err := l.fail(err); err != nil {
		return err
	}
	if err := l.fail(l.untuneSQLite(ctx)); err != nil {
		return err
	}
	return l.fail(l.db.analyze(ctx))
}

// tuneSQLite sets the write connection up for a bulk load: a page cache
// large enough to hold the indexes being filled at random places, and the
// journals that let SQLite undo one statement kept in memory rather than in
// temporary files. The settings belong to the connection and take effect
// from the next transaction, so they are made before the first one begins
// and undone by Flush and Close. SQLite's write pool has one connection, so
// the settings reach the connection the transactions use.
func (l *Loader) tuneSQLite(ctx context.Context) error {
	if l.db.dialect.name != "sqlite" || l.restore != nil {
		return nil
	}
	for _, p := range []struct{ name, value string }{{"cache_size", "-131072"}, {"temp_store", "MEMORY"}} {
		var old string
		if err := l.db.write.QueryRowContext(ctx, "PRAGMA "+p.name).Scan(&old); err != nil {
			return err
		}
		if _, err := l.db.write.ExecContext(ctx, "PRAGMA "+p.name+" = "+p.value); err != nil {
			return err
		}
		l.restore = append(l.restore, "PRAGMA "+p.name+" = "+old)
	}
	return nil
}

func (l *Loader) untuneSQLite(ctx context.Context) error {
	var err error
	for _, p := range l.restore {
		_, e := l.db.write.ExecContext(ctx, p)
		err = errors.Join(err, e)
	}
	l.restore = nil
	return err
}

// Close rolls back whatever has not been committed and ends the load; it is
// safe to call after Flush.
func (l *Loader) Close() error {
	for i := range l.bufs {
		l.bufs[i], l.counts[i] = nil, 0
	}
	var err error
	if l.tx != nil {
		err = l.tx.Rollback()
		l.tx, l.stmts = nil, [bulkTableCount]*sql.Stmt{}
	}
	err = errors.Join(err, l.untuneSQLite(context.Background()))
	if l.err == nil {
		l.err = errors.New("sqlstore: the loader is closed")
	}
	return err
}

// add buffers one row of table t, writing the buffer when it holds a full chunk.
func (l *Loader) add(ctx context.Context, t int, args ...any) error {
	if l.err != nil {
		return l.err
	}
	if l.bufs[t] == nil {
		l.bufs[t] = make([]any, 0, insertChunk*bulkTables[t].n)
	}
	l.bufs[t] = append(l.bufs[t], args...)
	if l.counts[t]++; l.counts[t] < insertChunk {
		return nil
	}
	// The parents of this chunk's rows may still be buffered.
	if err := l.flushThrough(ctx, t); err != nil {
		return err
	}
	if l.pending >= l.CommitRows {
		if err := l.flushThrough(ctx, bulkTableCount-1); err != nil {
			return err
		}
		return l.commit()
	}
	return nil
}

// flushThrough writes the buffers of tables 0 to last, parents first.
func (l *Loader) flushThrough(ctx context.Context, last int) error {
	if l.err != nil {
		return l.err
	}
	if l.tx == nil {
		if err := l.tuneSQLite(ctx); err != nil {
			return l.fail(err)
		}
		tx, err := l.db.write.BeginTx(ctx, nil)
		if err != nil {
			return l.fail(fmt.Errorf("begin: %w", err))
		}
		l.tx, l.q = tx, querier{q: tx, d: l.db.dialect}
	}
	for t := 0; t <= last; t++ {
		if l.counts[t] == 0 {
			continue
		}
		if err := l.write(ctx, t); err != nil {
			return l.fail(fmt.Errorf("load %s: %w", bulkTables[t].name, err))
		}
		l.pending += l.counts[t]
		l.written += l.counts[t]
		l.bufs[t], l.counts[t] = l.bufs[t][:0], 0
	}
	return nil
}

// write inserts table t's buffer. PostgreSQL gets one multi-row INSERT, to
// save round trips, and a full chunk reuses a statement prepared once per
// transaction. SQLite gets a prepared single-row INSERT per row: a
// statement that writes several rows and might fail part way makes SQLite
// copy every page it touches into a statement journal first, which for rows
// spread over large indexes costs more than all the rest of the load.
func (l *Loader) write(ctx context.Context, t int) error {
	rows := l.counts[t]
	if l.db.dialect.name == "sqlite" {
		rows = 1
	} else if rows != insertChunk {
		_, err := l.q.exec(ctx, l.insert(t, rows), l.bufs[t]...)
		return err
	}
	if l.stmts[t] == nil {
		stmt, err := l.tx.PrepareContext(ctx, l.db.dialect.rebind(l.insert(t, rows)))
		if err != nil {
			return err
		}
		l.stmts[t] = stmt
	}
	n := bulkTables[t].n * rows
	for i := 0; i < len(l.bufs[t]); i += n {
		if _, err := l.stmts[t].ExecContext(ctx, l.bufs[t][i:i+n]...); err != nil {
			return err
		}
	}
	return nil
}

func (l *Loader) commit() error {
	if l.tx == nil {
		return nil
	}
	err := l.tx.Commit()
	l.tx, l.stmts, l.pending = nil, [bulkTableCount]*sql.Stmt{}, 0
	if err != nil {
		return l.fail(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// fail makes err sticky: after a failed write the loader's transaction is
// rolled back and every later call returns the same error.
func (l *Loader) fail(err error) error {
	if err == nil {
		return nil
	}
	if l.tx != nil {
		l.tx.Rollback()
		l.tx, l.stmts = nil, [bulkTableCount]*sql.Stmt{}
	}
	l.err = err
	return err
}

// insert returns the INSERT of rows rows into table t.
func (l *Loader) insert(t, rows int) string {
	bt := bulkTables[t]
	row := "(" + placeholders(bt.n) + ")"
	var q strings.Builder
	q.Grow(len(bt.columns) + 32 + rows*(len(row)+2))
	q.WriteString("INSERT INTO " + bt.name + " (" + bt.columns + ") VALUES ")
	for i := 0; i < rows; i++ {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(row)
	}
	return q.String()
}

// optionalMicros stores a missing time as NULL.
func optionalMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return micros(*t)
}
