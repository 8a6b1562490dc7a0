package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/analytics"
)

// openCasesAsOf counts each customer's recovery cases open at :now: opened
// by then and not resolved by then (a case reopened later reads as open all
// along). Live, every case open now has the status open, which an index on
// the customer finds without reading their resolved cases.
const (
	openCasesAsOf = `SELECT customer_id, COUNT(*) AS n FROM recovery_cases
	WHERE customer_id IN (:ids) AND opened_at <= :now AND (resolved_at IS NULL OR resolved_at > :now)
	GROUP BY customer_id`
	openCasesNow = `SELECT customer_id, COUNT(*) AS n FROM recovery_cases
	WHERE customer_id IN (:ids) AND status = 'open' GROUP BY customer_id`
)

// resolvedCasesAsOf reads the cases of a few customers opened in the 90
// days before :now and resolved by then, each with the outcome of the
// customer's next moment (as casefacts.go keeps it) among those that had happened
// by then. Such a case was resolved in those days too, which the index on
// the customer and resolution time finds without reading open cases.
const resolvedCasesAsOf = `SELECT c.customer_id,
		(SELECT m.outcome FROM moments m WHERE m.customer_id = c.customer_id AND m.id <> c.moment_id
			AND m.occurred_at >= c.moment_at AND m.occurred_at <= :now AND m.recorded_at >= c.resolved_at
			ORDER BY m.occurred_at, m.id LIMIT 1) AS next
	FROM recovery_cases c
	WHERE c.customer_id IN (:ids) AND c.resolved_at >= :from90 AND c.resolved_at <= :now
		AND c.opened_at >= :from90 AND c.opened_at <= :now`

// queryRecoveryFacts reads what became of each customer's recovery cases
// and promises as known at now; live, now is the present. Every customer
// asked for has an entry.
func queryRecoveryFacts(ctx context.Context, q querier, ids []string, now time.Time, live bool) (map[string]*analytics.RecoveryFacts, error) {
	w := windowsAt(now)
	out := make(map[string]*analytics.RecoveryFacts, len(ids))
	for _, id := range ids {
		out[id] = &analytics.RecoveryFacts{}
	}
	open := openCasesAsOf
	if live {
		open = openCasesNow
	}
	// One query, each row tagged with its kind of fact, so that a group of
	// moments recorded makes one round trip for them rather than three.
	query := `SELECT 'open', x.customer_id, x.n, NULL FROM (` + open + `) x
		UNION ALL SELECT 'resolved', r.customer_id, 0, r.next FROM (` + resolvedCasesAsOf + `) r
		UNION ALL SELECT 'broken', customer_id, COUNT(*), NULL FROM promises
		WHERE customer_id IN (:ids) AND status = 'broken' AND resolved_at > :from365 AND resolved_at <= :now
		GROUP BY customer_id`
	err := eachNamedRow(ctx, q, query, w.args(ids), func(rows *sql.Rows) error {
		var kind, id string
		var n int
		var next sql.NullString
		if err := rows.Scan(&kind, &id, &n, &next); err != nil {
			return err
		}
		r := out[id]
		if r == nil {
			return nil
		}
		switch kind {
		case "open":
			r.OpenCases = n
		case "broken":
			r.BrokenPromises = n
		default:
			switch recovery := rapport.RecoveryOf(true, rapport.Outcome(next.String)); {
			case recovery.IsRecovered():
				r.Recovered++
			case recovery.IsNotRecovered():
				r.NotRecovered++
			}
		}
		return nil
	})
	return out, err
}
