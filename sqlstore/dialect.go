package sqlstore

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// dialect holds everything that differs between the two backends. The SQL
// itself is shared; only placeholders, error codes and row locks differ.
type dialect struct {
	name            string
	dollarParams    bool
	uniqueViolation func(error) bool
	// shareLock and updateLock end a SELECT to lock the rows it reads until
	// the transaction ends: shared, against a change of the row, or alone.
	// SQLite has one writer at a time, which locks everything, and needs
	// neither.
	shareLock, updateLock string
}

var (
	sqlite = dialect{name: "sqlite", uniqueViolation: func(err error) bool {
		return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
	}}
	postgres = dialect{name: "postgres", dollarParams: true, uniqueViolation: func(err error) bool {
		var pgErr *pgconn.PgError
		return errors.As(err, &pgErr) && pgErr.Code == "23505"
	}, shareLock: " FOR KEY SHARE", updateLock: " FOR UPDATE"}
)

// rebind turns ? placeholders into $1, $2, … for PostgreSQL, leaving quoted
// text alone.
func (d dialect) rebind(q string) string {
	if !d.dollarParams || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n, quoted := 0, false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case c == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// sqliteDSN configures SQLite for a server: write-ahead logging so readers
// never block the writer, a busy timeout instead of instant failure, foreign
// keys enforced, and synchronous=FULL so a committed write survives power loss.
// The write pool begins transactions IMMEDIATE, taking the write lock up
// front, and has secure_delete on: what a write removes or replaces is
// overwritten with zeros in the file, so an erased customer's data does not
// linger in freed space (measured: no cost on recording a moment; see
// docs/privacy.md).
func sqliteDSN(path string, readOnly bool) string {
	v := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(1)", "synchronous(FULL)"} {
		v.Add("_pragma", p)
	}
	if readOnly {
		v.Add("_pragma", "query_only(1)")
	} else {
		v.Set("_txlock", "immediate")
		v.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", checkpointPages))
		v.Add("_pragma", "secure_delete(1)")
	}
	return "file:" + path + "?" + v.Encode()
}
