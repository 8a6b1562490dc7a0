package sqlstore

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Commits reach the database file itself soon after, copied from the
// write-ahead log in the background rather than inside a client's commit:
// a copy of the file alone, without its log, holds them within moments.
func TestLogCopiedToFileInBackground(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "checkpoint.db")
	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE notes (id INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	for range 50 {
		if err := db.inTx(ctx, func(tx *tx) error {
			_, err := tx.exec(ctx, `INSERT INTO notes DEFAULT VALUES`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	var inFile int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if inFile = notesInFileAlone(t, path); inFile == 50 {
			return
		}
	}
	t.Fatalf("the database file alone holds %d of 50 committed rows after 10 s; the log is not being copied back", inFile)
}

// notesInFileAlone counts the notes in a copy of the database file made
// without its write-ahead log.
func notesInFileAlone(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(cp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := sql.Open("sqlite", "file:"+cp+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var n int
	if err := c.QueryRow(`SELECT COUNT(*) FROM notes`).Scan(&n); err != nil {
		return 0 // the table itself is still only in the log
	}
	return n
}
