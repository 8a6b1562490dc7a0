package sqlstore

// Each recovery case keeps what its customer did after the misery moment:
// the next moment once the case is resolved, a dissolution and a purchase in
// the follow-up days. The resolved cases are counted in recovery_case_days
// by the day they opened and by those facts, so that the recovery report
// reads a few rows a day and the open cases, however long the history
// (measured at a million moments: 139 ms before, 1.4 ms after).
//
// The facts change when a moment, a stage change or a resolution arrives.
// A change that may move them says exactly how (an added moment becomes
// the next one, a purchase or a dissolution falls in the follow-up days), or,
// for a new or resolved case, has it worked out afresh (caseFactsSet, the
// report's former query, for the cases concerned); either way the case's
// count moves from what it was to what it is (recountCases). Every writer
// holds the case's customer first (lockCustomers, or the customer's row
// updated, on PostgreSQL), so two transactions never work out one
// customer's cases at once:
//
//	moments added or changed   followCases, step 5 of the moment pipeline
//	a case resolved, reopened  UpdateCase, ResolvePastCases
//	a stage change             changeStage (dissolution)
//	a customer deleted         followCases (their cases go with them)
//	a bulk load                OpenMissingCases, rebuildCaseFacts (RebuildFromMoments)
//
// Erasure changes no fact: it clears notes, resolutions and external ids.

import (
	"cmp"
	"context"
	"database/sql"
	"math"
	"slices"

	"github.com/rapport-crm/rapport"
)

// purchaseTouchpoint is where the report looks for a customer buying again.
const purchaseTouchpoint = "purchase"

// followUpMicros is how long after a misery moment the report follows the
// customer.
const followUpMicros = int64(rapport.FollowUpDays) * dayMicros

// caseFactsSet works out a case's facts from the history, with
// followUpMicros as its two arguments. The customer's purchases are found
// through moments_purchases, which holds purchases only.
const caseFactsSet = `(next_moment_id, next_occurred_at, next_outcome) = (SELECT m.id, m.occurred_at, m.outcome
		FROM moments m WHERE recovery_cases.resolved_at IS NOT NULL AND m.customer_id = recovery_cases.customer_id
		AND m.id <> recovery_cases.moment_id AND m.occurred_at >= recovery_cases.moment_at AND m.recorded_at >= recovery_cases.resolved_at
		ORDER BY m.occurred_at, m.id LIMIT 1),
	dissolved = CASE WHEN EXISTS (SELECT 1 FROM stage_changes s WHERE s.customer_id = recovery_cases.customer_id
		AND s.to_stage = 'dissolution' AND s.changed_at > recovery_cases.moment_at
		AND s.changed_at <= recovery_cases.moment_at + ?) THEN 1 ELSE 0 END,
	repurchased = CASE WHEN EXISTS (SELECT 1 FROM moments p WHERE p.customer_id = recovery_cases.customer_id
		AND p.touchpoint = 'purchase' AND p.id <> recovery_cases.moment_id AND p.occurred_at > recovery_cases.moment_at
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

// refreshCases runs write, which resolves or reopens the cases, then works
// out the cases' facts afresh and moves their counts from what they were to
// what they are. The cases' customers are held already.
func refreshCases(ctx context.Context, tx *tx, ids []string, write func() error) error {
	return recountCases(ctx, tx, ids, func() error {
		if err := write(); err != nil {
			return err
		}
		return workOutCases(ctx, tx, ids)
	})
}

// workOutCases works out the cases' facts afresh.
func workOutCases(ctx context.Context, tx *tx, ids []string) error {
	return inChunks(anys(ids), func(chunk []any) error {
		_, err := tx.exec(ctx, `UPDATE recovery_cases SET `+caseFactsSet+` WHERE id IN (`+placeholders(len(chunk))+`)`,
			append([]any{followUpMicros, followUpMicros}, chunk...)...)
		return err
	})
}

// recountCases runs write, which changes the cases, and moves their counts
// from what they were to what they are.
func recountCases(ctx context.Context, tx *tx, ids []string, write func() error) error {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	before, err := resolvedShapes(ctx, tx, ids)
	if err != nil {
		return err
	}
	if err := write(); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
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

// followCases is step 5 of the moment pipeline: the facts a change moves
// are brought up to date. An added moment becomes a resolved case's next
// moment when it was recorded once the case was resolved and happened
// before the one known (the database orders them, as the report did); at
// the purchase touchpoint, it is a purchase for the cases whose follow-up
// days it falls in; a changed moment gives its outcome to the cases it is
// the next moment of; a misery moment's new case (step 3) is worked out
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
	found, err := casesToFollow(ctx, tx, c)
	if err != nil || len(found) == 0 {
		return err
	}
	byCustomer := map[string][]*rapport.Moment{}
	for _, m := range c.added {
		byCustomer[m.CustomerID] = append(byCustomer[m.CustomerID], m)
	}
	changed := map[string]bool{}
	for _, e := range c.changed {
		byCustomer[e.after.CustomerID] = append(byCustomer[e.after.CustomerID], e.after)
		changed[e.after.ID] = true
	}
	var touched, fresh []string // touched: the resolved cases changed, which are counted
	var writes []caseWrite
	for _, id := range sortedKeys(found, cmp.Compare) {
		k := found[id]
		n, isNew := len(writes), false
		for _, m := range byCustomer[k.customerID] {
			if m.ID == k.momentID {
				isNew = true // its case may be new: worked out whole
				continue
			}
			writes = k.follow(writes, m, changed[m.ID])
		}
		if isNew {
			fresh = append(fresh, k.id)
		}
		if k.resolvedAt.Valid && (isNew || len(writes) > n) {
			touched = append(touched, k.id)
		}
	}
	if len(writes) == 0 && len(fresh) == 0 {
		return nil
	}
	return recountCases(ctx, tx, touched, func() error {
		for _, w := range writes {
			if _, err := tx.exec(ctx, w.query, w.args...); err != nil {
				return err
			}
		}
		return workOutCases(ctx, tx, fresh)
	})
}

// casesToFollow finds the cases a change may move, each query by an index:
// the resolved cases of the customers with added moments (by when they were
// resolved), the cases of customers who bought, the cases of the change's
// misery moments, and the cases whose next moment changed.
func casesToFollow(ctx context.Context, tx *tx, c momentChange) (map[string]*followedCase, error) {
	found := map[string]*followedCase{}
	collect := func(where string, fixed []any, ids []string) error {
		ids = slices.Compact(slices.Sorted(slices.Values(ids)))
		return inChunks(anys(ids), func(chunk []any) error {
			return eachRow(ctx, tx.querier, `SELECT id, customer_id, moment_id, moment_at, resolved_at, next_moment_id, next_occurred_at,
				repurchased FROM recovery_cases WHERE `+where+` IN (`+placeholders(len(chunk))+`)`, append(slices.Clone(fixed), chunk...),
				func(rows *sql.Rows) error {
					k := &followedCase{}
					if err := rows.Scan(&k.id, &k.customerID, &k.momentID, &k.momentAt, &k.resolvedAt, &k.nextID, &k.nextAt, &k.repurchased); err != nil {
						return err
					}
					found[k.id] = k
					return nil
				})
		})
	}
	var customers, buyers, misery, changed, changedFor []string
	first, last, recorded := int64(math.MaxInt64), int64(0), int64(0)
	for _, m := range c.added {
		at := micros(m.OccurredAt)
		customers = append(customers, m.CustomerID)
		first, last, recorded = min(first, at), max(last, at), max(recorded, micros(m.RecordedAt))
		if m.Touchpoint == purchaseTouchpoint {
			buyers = append(buyers, m.CustomerID)
		}
		if m.Outcome == rapport.OutcomeMisery {
			misery = append(misery, m.ID)
		}
	}
	for _, e := range c.changed {
		changed, changedFor = append(changed, e.after.ID), append(changedFor, e.after.CustomerID)
		if e.after.Outcome == rapport.OutcomeMisery {
			misery = append(misery, e.after.ID)
		}
	}
	if len(customers) > 0 {
		if err := collect(`resolved_at <= ? AND moment_at <= ? AND (next_occurred_at IS NULL OR next_occurred_at >= ?) AND customer_id`,
			[]any{recorded, last, first}, customers); err != nil {
			return nil, err
		}
	}
	if len(buyers) > 0 {
		if err := collect(`repurchased = 0 AND moment_at < ? AND moment_at >= ? AND customer_id`,
			[]any{last, first - followUpMicros}, buyers); err != nil {
			return nil, err
		}
	}
	if err := collect(`moment_id`, nil, misery); err != nil {
		return nil, err
	}
	for i := range changed { // seldom: a survey answer
		if err := collect(`customer_id = ? AND next_moment_id`, []any{changedFor[i]}, changed[i:i+1]); err != nil {
			return nil, err
		}
	}
	return found, nil
}

// followedCase is what followCases reads of a case.
type followedCase struct {
	id, customerID, momentID string
	momentAt                 int64
	resolvedAt, nextAt       sql.NullInt64
	nextID                   sql.NullString
	repurchased              int
}

// caseWrite is one update of a case's facts.
type caseWrite struct {
	query string
	args  []any
}

// follow adds the updates an added or changed moment of the case's
// customer (not its misery moment) makes to the case's facts. Each says
// exactly what caseFactsSet does, for one more moment.
func (k *followedCase) follow(writes []caseWrite, m *rapport.Moment, changed bool) []caseWrite {
	if changed {
		if k.nextID.Valid && k.nextID.String == m.ID {
			writes = append(writes, caseWrite{`UPDATE recovery_cases SET next_outcome = ? WHERE id = ?`, []any{string(m.Outcome), k.id}})
		}
		return writes
	}
	at := micros(m.OccurredAt)
	if k.resolvedAt.Valid && micros(m.RecordedAt) >= k.resolvedAt.Int64 && at >= k.momentAt && (!k.nextAt.Valid || at <= k.nextAt.Int64) {
		writes = append(writes, caseWrite{`UPDATE recovery_cases SET next_moment_id = ?, next_occurred_at = ?, next_outcome = ?
			WHERE id = ? AND (next_occurred_at IS NULL OR next_occurred_at > ? OR (next_occurred_at = ? AND next_moment_id > ?))`,
			[]any{m.ID, at, string(m.Outcome), k.id, at, at, m.ID}})
	}
	if m.Touchpoint == purchaseTouchpoint && k.repurchased == 0 && at > k.momentAt && at <= k.momentAt+followUpMicros {
		writes = append(writes, caseWrite{`UPDATE recovery_cases SET repurchased = 1 WHERE id = ?`, []any{k.id}})
		k.repurchased = 1
	}
	return writes
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
	const within = `customer_id = ? AND dissolved = 0 AND moment_at < ? AND moment_at >= ?`
	ids, err := queryIDs(ctx, tx.querier, `SELECT id FROM recovery_cases WHERE `+within, customerID, at, at-followUpMicros)
	if err != nil || len(ids) == 0 {
		return err
	}
	return recountCases(ctx, tx, ids, func() error {
		_, err := tx.exec(ctx, `UPDATE recovery_cases SET dissolved = 1 WHERE `+within, customerID, at, at-followUpMicros)
		return err
	})
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
