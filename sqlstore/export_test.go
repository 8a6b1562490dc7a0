package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/rapport-crm/rapport"
)

// ErrTestRollback is what RecordMomentsThenFail fails with.
var ErrTestRollback = errors.New("the test rolls this transaction back")

// RecordMomentsThenFail stores moments through the moment pipeline, as
// recording does, and then fails, so that a test can see that nothing the
// hooks wrote outlives the transaction.
func RecordMomentsThenFail(ctx context.Context, db *DB, ms []*rapport.Moment) error {
	return db.inTx(ctx, func(tx *tx) error {
		for _, m := range ms {
			m.ID, m.RecordedAt = rapport.NewID(tx.now), tx.now.Truncate(time.Microsecond)
			m.Outcome, m.OutcomeSource = rapport.DeriveOutcome(m.Outcome, m.Rating)
		}
		if err := addMoments(ctx, tx, rapport.SourceBatch, ms); err != nil {
			return err
		}
		return ErrTestRollback
	})
}

// PendingMoments is how many single moments wait for a shared
// transaction or for the one they are in to commit.
func PendingMoments(db *DB) int {
	db.commits.mu.Lock()
	defer db.commits.mu.Unlock()
	return db.commits.pending
}

// SharedTransactions is how many shared transactions db has tried.
func SharedTransactions(db *DB) int {
	db.commits.mu.Lock()
	defer db.commits.mu.Unlock()
	return db.commits.groups
}

// RebuildProductPairs counts the product pairs afresh from every holding,
// as a bulk load does.
func RebuildProductPairs(ctx context.Context, db *DB) error {
	return db.inTx(ctx, func(tx *tx) error { return rebuildProductPairs(ctx, tx.querier) })
}

// RebuildPromiseCounts counts promise_counts afresh from every promise, as
// a bulk load does.
func RebuildPromiseCounts(ctx context.Context, db *DB) error {
	return db.inTx(ctx, func(tx *tx) error { return rebuildPromiseCounts(ctx, tx.querier) })
}

// HandoverReportOnStage is the handover report with comparable customers
// matched on the day and stage alone, to show what the risk band changes.
func HandoverReportOnStage(ctx context.Context, db *DB, f rapport.HandoverReportFilter) (*rapport.HandoverReport, error) {
	return NewHandoverService(db).handoverReport(ctx, f, false)
}
