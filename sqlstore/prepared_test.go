package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// The writer's statements are prepared after the transaction that first ran
// them, whether it committed or rolled back, and later transactions run the
// prepared form with their own values.
func TestWriterStatementsPreparedAfterTransaction(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "prepared.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	const insert = `INSERT INTO notes (body) VALUES (?)`
	failed := errors.New("rolled back on purpose")
	err = db.inTx(ctx, func(tx *tx) error {
		if _, err := tx.exec(ctx, insert, "lost"); err != nil {
			return err
		}
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatalf("inTx = %v, want the transaction's own error", err)
	}
	if db.writeStmts.get(insert) == nil {
		t.Fatal("a statement run in a rolled-back transaction was not prepared after it")
	}
	for _, body := range []string{"first", "second"} {
		if err := db.inTx(ctx, func(tx *tx) error {
			_, err := tx.exec(ctx, insert, body)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	var bodies string
	if err := db.reader().queryRow(ctx, `SELECT group_concat(body, ',') FROM (SELECT body FROM notes ORDER BY id)`).Scan(&bodies); err != nil {
		t.Fatal(err)
	}
	if bodies != "first,second" {
		t.Fatalf("notes = %q, want first,second: the prepared statement must take each call's values and nothing rolled back may stay", bodies)
	}
}

// Past the bound, statements still run, parsed each time.
func TestPreparedStatementsBounded(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "bounded.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range maxPrepared + 50 {
		var got int
		if err := db.reader().queryRow(ctx, fmt.Sprintf(`SELECT %d + ?`, i), 1).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != i+1 {
			t.Fatalf("query %d gave %d, want %d", i, got, i+1)
		}
	}
	if n := len(db.readStmts.byQ); n > maxPrepared {
		t.Fatalf("%d statements kept, more than the bound of %d", n, maxPrepared)
	}
}

// A writer transaction that runs a prepared query again while still reading
// the rows of its first run reads both runs whole: the second is parsed
// afresh rather than reset the statement under the first.
func TestWriterQueryReadAgainWhileOpen(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "nested.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.ExecContext(ctx, `INSERT INTO notes (body) VALUES ('a'), ('b'), ('c')`); err != nil {
		t.Fatal(err)
	}
	const list = `SELECT body FROM notes WHERE id >= ? ORDER BY id`
	read := func() (string, error) {
		var got string
		err := db.inTx(ctx, func(tx *tx) error {
			return eachRow(ctx, tx.querier, list, []any{1}, func(rows *sql.Rows) error {
				var outer string
				if err := rows.Scan(&outer); err != nil {
					return err
				}
				var inner []string
				if err := eachRow(ctx, tx.querier, list, []any{2}, func(rows *sql.Rows) error {
					var b string
					err := rows.Scan(&b)
					inner = append(inner, b)
					return err
				}); err != nil {
					return err
				}
				var one string
				if err := tx.queryRow(ctx, list, 3).Scan(&one); err != nil {
					return err
				}
				got += outer + "[" + strings.Join(inner, "") + one + "]"
				return nil
			})
		})
		return got, err
	}
	for run := range 3 { // the first run parses; later ones use the prepared statement
		got, err := read()
		if err != nil {
			t.Fatal(err)
		}
		if want := "a[bcc]b[bcc]c[bcc]"; got != want {
			t.Fatalf("run %d read %q, want %q", run, got, want)
		}
	}
	if db.writeStmts.get(list) == nil {
		t.Fatal("the writer's query was not prepared after its first transaction")
	}
}
