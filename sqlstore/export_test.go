package sqlstore

import (
	"context"
	"database/sql"
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

// RecoveryReportFromScratch makes the recovery report as it was made before
// the cases kept their facts: three searches of the history for each case
// of the window. It is the reference the kept facts are held to.
func RecoveryReportFromScratch(ctx context.Context, db *DB, f rapport.RecoveryReportFilter) (*rapport.RecoveryReport, error) {
	now := db.now()
	if f.To.IsZero() {
		f.To = now
	}
	if f.From.IsZero() {
		f.From = f.To.AddDate(-1, 0, 0)
	}
	var cases []recoveryFact
	err := eachRow(ctx, db.reader(), `SELECT c.status, c.due_at, c.resolved_at, c.escalated_at,
		(SELECT m.outcome FROM moments m WHERE m.customer_id = c.customer_id AND m.id <> c.moment_id
			AND m.occurred_at >= c.moment_at AND c.resolved_at IS NOT NULL AND m.recorded_at >= c.resolved_at
			ORDER BY m.occurred_at, m.id LIMIT 1),
		CASE WHEN EXISTS (SELECT 1 FROM stage_changes s WHERE s.customer_id = c.customer_id AND s.to_stage = 'dissolution'
			AND s.changed_at > c.moment_at AND s.changed_at <= c.moment_at + ?) THEN 1 ELSE 0 END,
		CASE WHEN EXISTS (SELECT 1 FROM moments p WHERE p.customer_id = c.customer_id AND p.touchpoint = 'purchase'
			AND p.id <> c.moment_id AND p.occurred_at > c.moment_at AND p.occurred_at <= c.moment_at + ?) THEN 1 ELSE 0 END
		FROM recovery_cases c WHERE c.opened_at >= ? AND c.opened_at < ?`,
		[]any{followUpMicros, followUpMicros, micros(f.From), micros(f.To)},
		func(rows *sql.Rows) error {
			var (
				status                 string
				due                    int64
				resolved, escalated    sql.NullInt64
				next                   sql.NullString
				dissolved, repurchased int
			)
			if err := rows.Scan(&status, &due, &resolved, &escalated, &next, &dissolved, &repurchased); err != nil {
				return err
			}
			cases = append(cases, recoveryFact{cases: 1, status: rapport.CaseStatus(status), due: fromMicros(due),
				inTime: resolved.Valid && resolved.Int64 <= due, escalated: escalated.Valid, nextOutcome: rapport.Outcome(next.String),
				dissolved: dissolved == 1, repurchased: repurchased == 1})
			return nil
		})
	if err != nil {
		return nil, err
	}
	return recoveryReportOf(f, cases, now), nil
}

// RebuildCaseFacts works out every recovery case's facts and their counts
// by day afresh, as a bulk load does.
func RebuildCaseFacts(ctx context.Context, db *DB) error {
	return db.inTx(ctx, func(tx *tx) error { return rebuildCaseFacts(ctx, tx) })
}
