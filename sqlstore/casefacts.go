package sqlstore

// Each recovery case keeps what its customer did after the misery moment:
// the next moment once the case is resolved, a dissolution and a purchase in
// the follow-up days. The resolved cases are counted in recovery_case_days
// by the day they opened and by those facts, so that the recovery report
// reads a few rows a day and the open cases, however long the history
// (measured at a million moments: 170 ms before, a few ms after).
//
// The facts change when a moment, a stage change or a resolution arrives.
// Rather than work out how each changes them, a case concerned is worked
// out afresh (caseFactsSet, the report's own former query, for one case)
// and its count moved from what it was to what it is (refreshCases). Every
// writer holds the case's customer first (lockCustomers on PostgreSQL), so
// two transactions never work out one customer's cases at once:
//
//	moments added or changed   followCases, step 5 of the moment pipeline
//	a case resolved, reopened  UpdateCase, ResolvePastCases
//	a stage change             changeStage (dissolution)
//	a customer deleted         followCases (their cases go with them)
//	a bulk load                rebuildCaseFacts, from RebuildFromMoments

import (
	"cmp"
	"context"
	"database/sql"
	"slices"

	"github.com/rapport-crm/rapport"
)

// purchaseTouchpoint is where the report looks for a customer buying again.
const purchaseTouchpoint = "purchase"

// followUpMicros is how long after a misery moment the report follows the
// customer.
const followUpMicros = int64(rapport.FollowUpDays) * dayMicros

// caseFactsSet works out a case's facts from the history, with
// followUpMicros as its two arguments.
const caseFactsSet = `(next_moment_id, next_occurred_at, next_outcome) = (SELECT m.id, m.occurred_at, m.outcome
		FROM moments m WHERE m.customer_id = recovery_cases.customer_id AND m.id <> recovery_cases.moment_id
		AND m.occurred_at >= recovery_cases.moment_at AND m.recorded_at >= recovery_cases.resolved_at
		ORDER BY m.occurred_at, m.id LIMIT 1),
	dissolved = CASE WHEN EXISTS (SELECT 1 FROM stage_changes s WHERE s.customer_id = recovery_cases.customer_id
		AND s.to_stage = 'dissolution' AND s.changed_at > recovery_cases.moment_at
		AND s.changed_at <= recovery_cases.moment_at + ?) THEN 1 ELSE 0 END,
	repurchased = CASE WHEN EXISTS (SELECT 1 FROM moments p WHERE p.customer_id = recovery_cases.customer_id
		AND p.touchpoint || '' = 'purchase' AND p.id <> recovery_cases.moment_id AND p.occurred_at > recovery_cases.moment_at
		AND p.occurred_at <= recovery_cases.moment_at + ?) THEN 1 ELSE 0 END`

// caseShape is what the report asks of a resolved case, and the key of its
// count in recovery_case_days.
type caseShape struct {
	day                    int64
	inTime, escalated      bool
	nextOutcome            string
	dissolved, repurchased bool
}

// caseShapeColumns reads a caseShape from recovery_cases.
const caseShapeColumns = `opened_at / 86400000000, CASE WHEN resolved_at IS NOT NULL AND resolved_at <= due_at THEN 1 ELSE 0 END,
	CASE WHEN escalated_at IS NOT NULL THEN 1 ELSE 0 END, COALESCE(next_outcome, ''), dissolved, repurchased`

func scanCaseShape(rows *sql.Rows, extra ...any) (caseShape, error) {
	var s caseShape
	var inTime, escalated, dissolved, repurchased int
	err := rows.Scan(append([]any{&s.day, &inTime, &escalated, &s.nextOutcome, &dissolved, &repurchased}, extra...)...)
	s.inTime, s.escalated, s.dissolved, s.repurchased = inTime == 1, escalated == 1, dissolved == 1, repurchased == 1
	return s, err
}

// resolvedShapes returns the shapes of those of the cases that are resolved.
func resolvedShapes(ctx context.Context, tx *tx, ids []string) ([]caseShape, error) {
	var out []caseShape
	err := inChunks(anys(ids), func(chunk []any) error {
		return eachRow(ctx, tx.querier, `SELECT `+caseShapeColumns+` FROM recovery_cases WHERE status <> 'open'
			AND id IN (`+placeholders(len(chunk))+`)`, chunk, func(rows *sql.Rows) error {
			s, err := scanCaseShape(rows)
			out = append(out, s)
			return err
		})
	})
	return out, err
}

// refreshCases runs write, which changes the cases (or nothing, when nil),
// then works out the cases' facts afresh and moves their counts from what
// they were to what they are. The cases' customers are held already.
func refreshCases(ctx context.Context, tx *tx, ids []string, write func() error) error {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	before, err := resolvedShapes(ctx, tx, ids)
	if err != nil {
		return err
	}
	if write != nil {
		if err := write(); err != nil {
			return err
		}
	}
	if len(ids) == 0 {
		return nil
	}
	err = inChunks(anys(ids), func(chunk []any) error {
		_, err := tx.exec(ctx, `UPDATE recovery_cases SET `+caseFactsSet+` WHERE id IN (`+placeholders(len(chunk))+`)`,
			append([]any{followUpMicros, followUpMicros}, chunk...)...)
		return err
	})
	if err != nil {
		return err
	}
	after, err := resolvedShapes(ctx, tx, ids)
	if err != nil {
		return err
	}
	moves := map[caseShape]int{}
	for _, s := range before {
		moves[s]--
	}
	for _, s := range after {
		moves[s]++
	}
	return moveCaseCounts(ctx, tx, moves)
}

// moveCaseCounts adds to the counts of recovery_case_days, in key order so
// that concurrent writers on PostgreSQL cannot wait for each other, and lets
// go of counts that reach nothing, as a rebuild leaves none.
func moveCaseCounts(ctx context.Context, tx *tx, moves map[caseShape]int) error {
	for _, s := range sortedKeys(moves, compareShapes) {
		n := moves[s]
		if n == 0 {
			continue
		}
		if _, err := tx.exec(ctx, `INSERT INTO recovery_case_days (day, in_time, escalated, next_outcome, dissolved, repurchased, cases)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (day, in_time, escalated, next_outcome, dissolved, repurchased)
			DO UPDATE SET cases = recovery_case_days.cases + excluded.cases`,
			s.day, bit(s.inTime), bit(s.escalated), s.nextOutcome, bit(s.dissolved), bit(s.repurchased), n); err != nil {
			return err
		}
		if n < 0 {
			if _, err := tx.exec(ctx, `DELETE FROM recovery_case_days WHERE day = ? AND in_time = ? AND escalated = ?
				AND next_outcome = ? AND dissolved = ? AND repurchased = ? AND cases = 0`,
				s.day, bit(s.inTime), bit(s.escalated), s.nextOutcome, bit(s.dissolved), bit(s.repurchased)); err != nil {
				return err
			}
		}
	}
	return nil
}

func compareShapes(a, b caseShape) int {
	return cmp.Or(cmp.Compare(a.day, b.day), cmp.Compare(bit(a.inTime), bit(b.inTime)), cmp.Compare(bit(a.escalated), bit(b.escalated)),
		cmp.Compare(a.nextOutcome, b.nextOutcome), cmp.Compare(bit(a.dissolved), bit(b.dissolved)),
		cmp.Compare(bit(a.repurchased), bit(b.repurchased)))
}

func bit(b bool) int {
	if b {
		return 1
	}
	return 0
}

// followCases is step 5 of the moment pipeline: the cases whose facts a
// change may move are worked out afresh. An added moment may be a resolved
// case's next moment (recorded once it was resolved, and happened before
// the one known) or, at the purchase touchpoint, a purchase in a case's
// follow-up days; a changed moment may be a case's next moment, whose
// outcome it changes; a misery moment's new case (step 3) is worked out
// whole. A removed moment's case goes with it, and with its customer the
// customer's other cases: their counts go.
func followCases(ctx context.Context, tx *tx, c momentChange) error {
	if len(c.removed) > 0 {
		if err := forgetCases(ctx, tx, c.removed); err != nil {
			return err
		}
	}
	if len(c.added) == 0 && len(c.changed) == 0 {
		return nil
	}
	byCustomer := map[string][]*rapport.Moment{}
	changed := map[string]bool{}
	latest := int64(0)
	note := func(m *rapport.Moment) {
		byCustomer[m.CustomerID] = append(byCustomer[m.CustomerID], m)
		latest = max(latest, micros(m.OccurredAt))
	}
	for _, m := range c.added {
		note(m)
	}
	for _, e := range c.changed {
		note(e.after)
		changed[e.after.ID] = true
	}
	customers := sortedKeys(byCustomer, cmp.Compare)
	var stale []string
	err := inChunks(anys(customers), func(chunk []any) error {
		return eachRow(ctx, tx.querier, `SELECT id, customer_id, moment_id, moment_at, resolved_at, next_moment_id, next_occurred_at, repurchased
			FROM recovery_cases WHERE moment_at <= ? AND customer_id IN (`+placeholders(len(chunk))+`)`, append([]any{latest}, chunk...),
			func(rows *sql.Rows) error {
				var k followedCase
				if err := rows.Scan(&k.id, &k.customerID, &k.momentID, &k.momentAt, &k.resolvedAt, &k.nextID, &k.nextAt, &k.repurchased); err != nil {
					return err
				}
				for _, m := range byCustomer[k.customerID] {
					if k.movedBy(m, changed[m.ID]) {
						stale = append(stale, k.id)
						break
					}
				}
				return nil
			})
	})
	if err != nil || len(stale) == 0 {
		return err
	}
	return refreshCases(ctx, tx, stale, nil)
}

// followedCase is what followCases reads of a case.
type followedCase struct {
	id, customerID, momentID string
	momentAt                 int64
	resolvedAt, nextAt       sql.NullInt64
	nextID                   sql.NullString
	repurchased              int
}

// movedBy says whether an added or changed moment of the case's customer may
// change its facts.
func (k followedCase) movedBy(m *rapport.Moment, changed bool) bool {
	if m.ID == k.momentID {
		return true // the misery moment itself: its case may be new
	}
	if changed {
		return k.nextID.Valid && k.nextID.String == m.ID
	}
	at := micros(m.OccurredAt)
	if k.resolvedAt.Valid && micros(m.RecordedAt) >= k.resolvedAt.Int64 && at >= k.momentAt && (!k.nextAt.Valid || at <= k.nextAt.Int64) {
		return true
	}
	return m.Touchpoint == purchaseTouchpoint && k.repurchased == 0 && at > k.momentAt && at <= k.momentAt+followUpMicros
}

// forgetCases takes the counts of the cases of the removed moments' customers
// away; the cases are deleted with their customer.
func forgetCases(ctx context.Context, tx *tx, removed []*rapport.Moment) error {
	seen := map[string]bool{}
	var customers []any
	for _, m := range removed {
		if !seen[m.CustomerID] {
			seen[m.CustomerID] = true
			customers = append(customers, m.CustomerID)
		}
	}
	moves := map[caseShape]int{}
	err := inChunks(customers, func(chunk []any) error {
		return eachRow(ctx, tx.querier, `SELECT `+caseShapeColumns+` FROM recovery_cases WHERE status <> 'open'
			AND customer_id IN (`+placeholders(len(chunk))+`)`, chunk, func(rows *sql.Rows) error {
			s, err := scanCaseShape(rows)
			moves[s]--
			return err
		})
	})
	if err != nil {
		return err
	}
	return moveCaseCounts(ctx, tx, moves)
}

// noteStageChange is called when a customer's stage changes: a dissolution
// counts for their cases whose follow-up days it falls in. The customer is
// held already (changeStage has updated their row).
func noteStageChange(ctx context.Context, tx *tx, customerID string, to rapport.Stage, at int64) error {
	if to != rapport.StageDissolution {
		return nil
	}
	ids, err := queryIDs(ctx, tx.querier, `SELECT id FROM recovery_cases WHERE customer_id = ? AND dissolved = 0
		AND moment_at < ? AND moment_at >= ?`, customerID, at, at-followUpMicros)
	if err != nil || len(ids) == 0 {
		return err
	}
	return refreshCases(ctx, tx, ids, nil)
}

// rebuildCaseFacts works out every case's facts and the counts afresh, for
// after a bulk load.
func rebuildCaseFacts(ctx context.Context, tx *tx) error {
	if _, err := tx.exec(ctx, `UPDATE recovery_cases SET `+caseFactsSet, followUpMicros, followUpMicros); err != nil {
		return err
	}
	if _, err := tx.exec(ctx, `DELETE FROM recovery_case_days`); err != nil {
		return err
	}
	_, err := tx.exec(ctx, `INSERT INTO recovery_case_days (day, in_time, escalated, next_outcome, dissolved, repurchased, cases)
		SELECT `+caseShapeColumns+`, COUNT(*) FROM recovery_cases WHERE status <> 'open'
		GROUP BY `+caseShapeColumns)
	return err
}
