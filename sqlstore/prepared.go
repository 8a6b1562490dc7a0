package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// SQLite parses every statement it is given afresh, and on a busy writer
// parsing took about a seventh of the time spent recording a moment. The
// statements a program runs are few and repeat, so Rapport keeps them
// prepared: on the read pool, each connection prepares a statement the
// first time it runs it; on the single writer connection, a statement seen
// in one transaction is prepared once that transaction is over (preparing
// needs the connection the transaction holds) and reused by every
// transaction after.
//
// The writer's queries are kept as well, with one care: a statement's rows
// are read from the statement itself, so a transaction that runs a query
// again while still reading the rows of its first run parses the second run
// afresh rather than reset the statement under the first reader. On the read
// pool that cannot happen, since a connection with open rows is not handed
// to anyone else.
//
// PostgreSQL needs none of this: its driver keeps statements described.

// maxPrepared bounds the statements kept per pool. Statements with a list of
// a varying length (IN (?, ?, …), multi-row inserts) have one form per
// length, and a bound keeps rarely used forms from piling up; a statement
// past the bound is parsed each time, as without the cache.
const maxPrepared = 512

// preparedStmts are one pool's prepared statements by their SQL.
type preparedStmts struct {
	pool *sql.DB
	mu   sync.Mutex
	byQ  map[string]*sql.Stmt
	// seen are writer statements run in a transaction and not prepared
	// yet, to prepare once the connection is free.
	seen map[string]bool
}

func newPreparedStmts(pool *sql.DB) *preparedStmts {
	return &preparedStmts{pool: pool, byQ: map[string]*sql.Stmt{}, seen: map[string]bool{}}
}

// get returns the statement prepared for query, or nil.
func (p *preparedStmts) get(query string) *sql.Stmt {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.byQ[query]
}

// prepare returns query's statement, preparing it on the pool if there is
// room; nil if there is not or preparing failed (the caller then runs the
// query unprepared and meets the error there, if it is the query's own).
func (p *preparedStmts) prepare(ctx context.Context, query string) *sql.Stmt {
	if s := p.get(query); s != nil {
		return s
	}
	p.mu.Lock()
	full := len(p.byQ) >= maxPrepared
	p.mu.Unlock()
	if full {
		return nil
	}
	s, err := p.pool.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if old := p.byQ[query]; old != nil { // another caller was first
		s.Close()
		return old
	}
	p.byQ[query] = s
	return s
}

// note records a writer statement to prepare after the transaction.
func (p *preparedStmts) note(query string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.byQ)+len(p.seen) < maxPrepared {
		p.seen[query] = true
	}
}

// prepareSeen prepares the writer statements noted since the last call; it
// runs with no transaction open on the writer.
func (p *preparedStmts) prepareSeen(ctx context.Context) {
	p.mu.Lock()
	seen := p.seen
	if len(seen) == 0 {
		p.mu.Unlock()
		return
	}
	p.seen = map[string]bool{}
	p.mu.Unlock()
	for q := range seen {
		p.prepare(ctx, q)
	}
}

// close releases every statement.
func (p *preparedStmts) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for q, s := range p.byQ {
		s.Close()
		delete(p.byQ, q)
	}
}

// preparedPool runs statements on a pool through its prepared statements.
type preparedPool struct {
	pool  *sql.DB
	stmts *preparedStmts
}

func (p preparedPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := p.stmts.prepare(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return p.pool.ExecContext(ctx, query, args...)
}

func (p preparedPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := p.stmts.prepare(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return p.pool.QueryContext(ctx, query, args...)
}

func (p preparedPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := p.stmts.prepare(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return p.pool.QueryRowContext(ctx, query, args...)
}

// preparedTx runs a writer transaction's statements through the writer's
// prepared statements, and notes the ones not prepared yet.
type preparedTx struct {
	*sql.Tx
	stmts *preparedStmts
	// reading are the rows last returned for each prepared query, which
	// hold its statement until they are closed.
	reading map[string]*sql.Rows
}

func newPreparedTx(t *sql.Tx, stmts *preparedStmts) *preparedTx {
	return &preparedTx{Tx: t, stmts: stmts, reading: map[string]*sql.Rows{}}
}

func (t *preparedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := t.stmts.get(query); s != nil {
		return t.Tx.StmtContext(ctx, s).ExecContext(ctx, args...)
	}
	t.stmts.note(query)
	return t.Tx.ExecContext(ctx, query, args...)
}

func (t *preparedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := t.free(query); s != nil {
		rows, err := t.Tx.StmtContext(ctx, s).QueryContext(ctx, args...)
		if err == nil {
			t.reading[query] = rows
		}
		return rows, err
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

// QueryRowContext reads through the prepared statement too: a row is read
// and its statement released when it is scanned, which every caller does
// before running anything else.
func (t *preparedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := t.free(query); s != nil {
		return t.Tx.StmtContext(ctx, s).QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}

// free returns query's prepared statement if no rows of it are still being
// read, or nil, noting the query to prepare when it has none.
func (t *preparedTx) free(query string) *sql.Stmt {
	s := t.stmts.get(query)
	if s == nil {
		t.stmts.note(query)
		return nil
	}
	if rows := t.reading[query]; rows != nil {
		if _, err := rows.Columns(); err == nil { // still open
			return nil
		}
		delete(t.reading, query)
	}
	return s
}
