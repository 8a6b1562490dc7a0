// Package sqlstore keeps Rapport's data in SQL: embedded SQLite by default,
// PostgreSQL for larger firms. One implementation serves both; the few
// differences between the two live in dialect.go.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/rapport-crm/rapport"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// DB is an open Rapport database.
type DB struct {
	// write takes every write. On SQLite it holds a single connection, so
	// writers queue in Go rather than fail with SQLITE_BUSY.
	write *sql.DB
	// read serves queries; on PostgreSQL it is the same pool as write.
	read    *sql.DB
	dialect dialect
	now     rapport.Clock
	// observeMoments counts added moments for the metrics; see ObserveMoments.
	observeMoments func(rapport.MomentSource, int)
	// commits gathers single moments into shared transactions.
	commits committer
	// settings are the settings the moment pipeline consults, as last read.
	settings settingsCache
	// writeStmts and readStmts keep SQLite's statements prepared; nil on
	// PostgreSQL. See prepared.go.
	writeStmts, readStmts *preparedStmts
	// tokens are the API tokens found lately; see TokenService.Authenticate.
	tokens tokenCache
	// stopCheckpoints ends SQLite's checkpointer and waits for it; nil on
	// PostgreSQL. See checkpoint.go.
	stopCheckpoints func()
	// email says how emails are written; see SetEmail.
	email *EmailSetup
	// refitting lets one refit of the risk model run at a time.
	refitting sync.Mutex
}

// Open connects to the database named by dsn, applies any pending migrations
// and creates the default touchpoint catalogue on first start. A dsn starting
// with postgres:// or postgresql:// is PostgreSQL; anything else is the path
// of a SQLite file.
func Open(ctx context.Context, dsn string, now rapport.Clock) (*DB, error) {
	if now == nil {
		now = time.Now
	}
	db := &DB{now: func() time.Time { return now().UTC() }}
	var err error
	if isPostgres(dsn) {
		db.dialect = postgres
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		// Plan every query with its actual values. Server-side prepared
		// statements switch to a generic plan after a few runs, and a plan made
		// while a table was empty stays slow long after the table has grown.
		cfg.DefaultQueryExecMode = pgx.QueryExecModeCacheDescribe
		db.write = stdlib.OpenDB(*cfg)
		db.write.SetMaxOpenConns(4 * runtime.NumCPU())
		db.write.SetMaxIdleConns(4 * runtime.NumCPU())
		db.read = db.write
	} else {
		db.dialect = sqlite
		path := strings.TrimPrefix(dsn, "sqlite:")
		if db.write, err = sql.Open("sqlite", sqliteDSN(path, false)); err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		db.write.SetMaxOpenConns(1)
		if db.read, err = sql.Open("sqlite", sqliteDSN(path, true)); err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		db.read.SetMaxOpenConns(max(4, runtime.NumCPU()))
		db.writeStmts, db.readStmts = newPreparedStmts(db.write), newPreparedStmts(db.read)
		checkpoints, err := sql.Open("sqlite", sqliteDSN(path, false))
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		checkpoints.SetMaxOpenConns(1)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go checkpointer(ctx, checkpoints, done)
		db.stopCheckpoints = func() { cancel(); <-done; checkpoints.Close() }
	}
	err = db.write.PingContext(ctx)
	for try := 0; err != nil && db.dialect.name == "sqlite" && strings.Contains(err.Error(), "SQLITE_BUSY") && try < 20; try++ {
		// Processes opening a new SQLite file at once can deadlock while it
		// turns to WAL mode, and SQLite then fails one at once rather than
		// wait; moments later the file is in WAL mode and the next try works.
		time.Sleep(10 * time.Millisecond)
		err = db.write.PingContext(ctx)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.ensureCatalogue(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Close releases the database.
func (db *DB) Close() error {
	if db.stopCheckpoints != nil {
		db.stopCheckpoints()
	}
	if db.writeStmts != nil {
		db.writeStmts.close()
		db.readStmts.close()
	}
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	return db.read.PingContext(ctx)
}

// Stats reports each connection pool's statistics, by pool: on SQLite
// "write" (its one connection) and "read"; on PostgreSQL one "read_write" pool.
func (db *DB) Stats() map[string]sql.DBStats {
	if db.read == db.write {
		return map[string]sql.DBStats{"read_write": db.write.Stats()}
	}
	return map[string]sql.DBStats{"write": db.write.Stats(), "read": db.read.Stats()}
}

// Backend names the database engine: "sqlite" or "postgres".
func (db *DB) Backend() string { return db.dialect.name }

// analyze refreshes PostgreSQL's statistics and visibility map after a bulk
// load. Without statistics the planner guesses from table sizes alone and
// reads whole tables where an index would do (measured: re-measuring a
// million customers after a load went from about 110 to 6,000 customers a
// second), and autovacuum, which would do this in time, may be off or not
// have run yet.
// SQLite's planner needs no statistics for Rapport's queries, which are
// benchmarked without them.
func (db *DB) analyze(ctx context.Context) error {
	if db.dialect.name != "postgres" {
		return nil
	}
	// VACUUM as well: until it has run, PostgreSQL cannot answer from an
	// index alone and visits the table for every entry (measured at a
	// million customers: the outcomes' aggregates took 4 to 6 s before, 0.2
	// to 1.5 s after).
	_, err := db.write.ExecContext(ctx, `VACUUM ANALYZE`)
	return err
}

// migrate applies the embedded migrations not yet recorded, each in its own
// transaction. Several servers may start at once on one PostgreSQL database:
// the version row is inserted first, so a second migrator waits on it and then
// finds the migration done.
func (db *DB) migrate(ctx context.Context) error {
	create := `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`
	_, err := db.write.ExecContext(ctx, create)
	if err != nil {
		// On PostgreSQL, servers creating the table at once collide in the
		// system catalogue; the losers fail only once the winner has
		// committed, so a second try finds the table.
		_, err = db.write.ExecContext(ctx, create)
	}
	if err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with its number", base)
		}
		body, err := migrationFiles.ReadFile(name)
		if err != nil {
			return err
		}
		if err := db.applyMigration(ctx, version, base, forDialect(string(body), db.dialect.name)); err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
	}
	return nil
}

// forDialect keeps the parts of a migration for one database. SQL after a
// line "-- dialect: NAME" is for that database alone, up to the next such
// line; everything before the first is for both. Only what cannot be said
// portably (triggers) goes in such a part.
func forDialect(body, name string) string {
	var out strings.Builder
	keep := true
	for line := range strings.Lines(body) {
		if d, ok := strings.CutPrefix(strings.TrimSpace(line), "-- dialect:"); ok {
			keep = strings.TrimSpace(d) == name
			continue
		}
		if keep {
			out.WriteString(line)
		}
	}
	return out.String()
}

func (db *DB) applyMigration(ctx context.Context, version int, name, body string) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	q := db.dialect.rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?) ON CONFLICT (version) DO NOTHING`)
	res, err := tx.ExecContext(ctx, q, version, name, micros(db.now()))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // applied already
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return err
	}
	return tx.Commit()
}

// ensureCatalogue creates the default touchpoints when the catalogue is empty.
func (db *DB) ensureCatalogue(ctx context.Context) error {
	err := db.inTx(ctx, func(tx *tx) error {
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM touchpoints`).Scan(&n); err != nil || n > 0 {
			return err
		}
		for _, t := range rapport.DefaultTouchpoints() {
			if err := t.Validate(); err != nil {
				return err
			}
			if err := insertTouchpoint(ctx, tx, t, db.now()); err != nil {
				return err
			}
		}
		return nil
	})
	if db.dialect.uniqueViolation(err) {
		// Another server starting at the same time created the catalogue.
		return nil
	}
	return err
}

// querier runs SQL written with ? placeholders on a connection, transaction or pool.
type querier struct {
	q interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}
	d dialect
}

func (q querier) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return q.q.ExecContext(ctx, q.d.rebind(query), args...)
}

func (q querier) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return q.q.QueryContext(ctx, q.d.rebind(query), args...)
}

func (q querier) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return q.q.QueryRowContext(ctx, q.d.rebind(query), args...)
}

// tx is a write transaction.
type tx struct {
	querier
	now time.Time
	// subscribers are the active webhook endpoints that want each event
	// kind, read once per transaction by the first event it causes.
	subscribers map[string][]string
	// observe is told of moments added, once the transaction commits.
	observe func(rapport.MomentSource, int)
	// committed run, in order, after the transaction commits.
	committed []func()
	// email says how the emails the transaction queues are written.
	email *EmailSetup
	// settings are the server's settings kept between transactions, and
	// settingsVersion their version while a change to moments runs.
	settings        *settingsCache
	settingsVersion *int64
	// conn is the connection the transaction runs on, when it was begun
	// with inConnTx.
	conn *sql.Conn
	// measureLater makes the customers of added moments due to be measured
	// rather than measuring them in the transaction: an import job's chunks,
	// which would otherwise measure the same customers chunk after chunk,
	// and which measures them once when its file is stored.
	measureLater bool
}

// onCommit runs fn once the transaction has committed, and never if it
// rolls back.
func (tx *tx) onCommit(fn func()) { tx.committed = append(tx.committed, fn) }

// inTx runs fn in a write transaction, committing if it returns nil. A
// successful return means the write is durable.
func (db *DB) inTx(ctx context.Context, fn func(*tx) error) error {
	return db.runTx(ctx, db.write, nil, fn)
}

// inConnTx is inTx on a connection of the writer's pool taken for it,
// which fn may use directly through tx.conn, in the transaction: a
// PostgreSQL COPY goes through the driver's own connection. SQLite has no
// COPY, and its one writer connection is needed after the transaction to
// prepare the statements it saw, so there it is inTx.
func (db *DB) inConnTx(ctx context.Context, fn func(*tx) error) error {
	if db.dialect.name != "postgres" {
		return db.inTx(ctx, fn)
	}
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("take a connection: %w", err)
	}
	defer conn.Close()
	return db.runTx(ctx, conn, conn, fn)
}

// runTx runs fn in a write transaction begun on b; conn, when not nil, is
// the connection it runs on.
func (db *DB) runTx(ctx context.Context, b interface {
	BeginTx(context.Context, *sql.TxOptions) (*sql.Tx, error)
}, conn *sql.Conn, fn func(*tx) error) error {
	sqlTx, err := b.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		sqlTx.Rollback()
		if db.writeStmts != nil {
			// Statements first seen in this transaction are prepared now that
			// the writer is free, whether it committed or not.
			db.writeStmts.prepareSeen(context.WithoutCancel(ctx))
		}
	}()
	q := querier{q: sqlTx, d: db.dialect}
	if db.writeStmts != nil {
		q.q = newPreparedTx(sqlTx, db.writeStmts)
	}
	t := &tx{querier: q, now: db.now(), observe: db.observeMoments, email: db.emailSetup(), settings: &db.settings, conn: conn}
	if err := fn(t); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	for _, f := range t.committed {
		f()
	}
	return nil
}

// ObserveMoments has fn told, after each commit, how many moments were
// added and by which route, however they came: the API, the web form, an
// import or a broken promise. Call it before the database is in use.
func (db *DB) ObserveMoments(fn func(source rapport.MomentSource, n int)) { db.observeMoments = fn }

// reader returns a querier on the read pool.
func (db *DB) reader() querier {
	if db.readStmts != nil {
		return querier{q: preparedPool{db.read, db.readStmts}, d: db.dialect}
	}
	return querier{q: db.read, d: db.dialect}
}

// micros turns a time into the stored form: microseconds since the Unix epoch.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros turns a stored time back into a UTC time.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// nullString stores "" as NULL, for optional references.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nullInt stores a missing number as NULL.
func nullInt(p *int) any {
	if p == nil {
		return nil
	}
	return int64(*p)
}

func intPtr(n sql.NullInt64) *int {
	if !n.Valid {
		return nil
	}
	v := int(n.Int64)
	return &v
}

// microsPtr is t in microseconds, or NULL for no time.
func microsPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return micros(*t)
}

func timePtr(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromMicros(n.Int64)
	return &t
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// insertRows runs head ("INSERT INTO t (a, b) VALUES") with rows' values,
// as few statements as the databases' limits on values allow: one round
// trip to PostgreSQL and one parse on SQLite for most changes, however many
// rows they bring.
func insertRows(ctx context.Context, tx *tx, head string, rows [][]any) error {
	return upsertRows(ctx, tx, head, "", rows)
}

// upsertRows is insertRows with tail ("ON CONFLICT … DO UPDATE …") after
// each statement's values.
func upsertRows(ctx context.Context, tx *tx, head, tail string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	cols := len(rows[0])
	per := max(1, min(insertChunk, 30000/cols))
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		args := make([]any, 0, len(chunk)*cols)
		for _, r := range chunk {
			args = append(args, r...)
		}
		if _, err := tx.exec(ctx, head+" "+repeatRows(cols, len(chunk))+tail, args...); err != nil {
			return err
		}
	}
	return nil
}

// likePattern makes a case-insensitive substring pattern, escaping LIKE's wildcards.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}
