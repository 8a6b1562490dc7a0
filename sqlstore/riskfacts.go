package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/analytics"
)

// recoveryCasesAsOf reads the recovery cases of a few customers as they
// stood at :now: each case opened by then that was still open, or was
// opened in the 90 days before, with when it was resolved and the outcome
// of the customer's next moment (see nextMomentExpr) among those that had
// happened by then. A case reopened later reads as open all along.
const recoveryCasesAsOf = `SELECT c.customer_id, c.resolved_at,
		(SELECT m.outcome FROM moments m WHERE m.customer_id = c.customer_id AND m.id <> c.moment_id
			AND m.occurred_at >= c.moment_at AND m.occurred_at <= :now AND m.recorded_at >= c.resolved_at
			ORDER BY m.occurred_at, m.id LIMIT 1)
	FROM recovery_cases c
	WHERE c.customer_id IN (:ids) AND c.opened_at <= :now
		AND (c.opened_at >= :from90 OR c.resolved_at IS NULL OR c.resolved_at > :now)`

// queryRecoveryFacts reads what became of each customer's recovery cases
// and promises as known at now. Every customer asked for has an entry.
func queryRecoveryFacts(ctx context.Context, q querier, ids []string, now time.Time) (map[string]*analytics.RecoveryFacts, error) {
	w := windowsAt(now)
	out := make(map[string]*analytics.RecoveryFacts, len(ids))
	for _, id := range ids {
		out[id] = &analytics.RecoveryFacts{}
	}
	err := eachNamedRow(ctx, q, recoveryCasesAsOf, w.args(ids), func(rows *sql.Rows) error {
		var id string
		var resolved sql.NullInt64
		var next sql.NullString
		if err := rows.Scan(&id, &resolved, &next); err != nil {
			return err
		}
		r := out[id]
		switch {
		case r == nil:
		case !resolved.Valid || resolved.Int64 > w.now:
			r.OpenCases++
		case rapport.RecoveryOf(true, rapport.Outcome(next.String)).IsRecovered():
			r.Recovered++
		case rapport.RecoveryOf(true, rapport.Outcome(next.String)).IsNotRecovered():
			r.NotRecovered++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachNamedRow(ctx, q, `SELECT customer_id, COUNT(*) FROM promises
		WHERE customer_id IN (:ids) AND status = 'broken' AND resolved_at > :from365 AND resolved_at <= :now
		GROUP BY customer_id`, w.args(ids), func(rows *sql.Rows) error {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return err
		}
		if r := out[id]; r != nil {
			r.BrokenPromises = n
		}
		return nil
	})
	return out, err
}
