package sqlstore

import (
	"context"
	"database/sql"
	"time"
)

// SQLite appends each commit to its write-ahead log and copies the log back
// into the database file now and then (a checkpoint), which writes and
// syncs the file. Left to itself it checkpoints inside whichever commit
// crosses a thousand pages of log, and the client of that commit waits for
// it. Rapport checkpoints from a connection of its own instead, a few times
// a second, without blocking writers or readers; the writer checkpoints
// itself only if the log grows far past that (checkpointPages), as when a
// long read holds old pages in place.
//
// A commit is durable once its log is synced, so checkpoints never decide
// whether an acknowledged moment survives a crash.

// checkpointEvery is how often the checkpointer copies the log back.
const checkpointEvery = 250 * time.Millisecond

// checkpointPages is the log size, in pages, past which the writer
// checkpoints inside a commit after all.
const checkpointPages = 16000

// checkpointer copies SQLite's write-ahead log into the database file in
// the background until ctx ends; one runs per open SQLite database.
func checkpointer(ctx context.Context, conn *sql.DB, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			// A checkpoint that cannot finish (a reader still needs old
			// pages) finishes at a later tick; errors are the same.
			conn.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}
}
