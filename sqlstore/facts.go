package sqlstore

import (
	"context"
	"database/sql"
	"math"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/analytics"
)

// customerFacts is what is known of one customer as of now, for their
// measures, scores and stage.
type customerFacts struct {
	id      string
	now     int64
	created int64
	stage   string
	// The profile fields segment rules test, copied into customer_measures.
	profile    customerProfile
	stageSince int64
	stageState
	momentTotals
	// storedDue is the due time of figures carried over from the stored
	// row, with only newly recorded moments added; 0 when read afresh.
	storedDue int64
	holdingFacts
	referrals int64
	misery    miseryTallies
	// recovery is what became of the customer's recovery cases and the
	// promises broken to them, as known at now.
	recovery *analytics.RecoveryFacts
}

// customerProfile is what customer_measures copies of the customer's
// profile besides the stage and when they joined.
type customerProfile struct {
	kind              string
	owner, referredBy sql.NullString
}

// stageState is a customer's row of customer_stages; live facts only.
type stageState struct {
	manual   bool
	proposal rapport.StageProposal
	// dismissed is a proposed stage a person set aside.
	dismissed string
}

// momentTotals are a customer's moments summed over the windows of their
// measures.
type momentTotals struct {
	m30, m90, m365, rated90, ratedPrior int64
	ratingSum90, ratingSumPrior         float64
	magic90, misery30, misery90         int64
	efforts90                           int64
	rated365, ratedCalm365              int64
	ratingSum365, ratingSumCalm365      float64
	effortSum90                         float64
	purchases365                        int64
	revenue365, cost365                 float64
	last                                int64 // 0 when no moment
	// The oldest moment in each window, and the earliest moment dated after
	// now: when each window next changes. 0 when none.
	oldest30, oldest90, oldestPrior, oldest365, future int64
}

// holdingFacts are what a customer holds now, what they held, and when that
// next changes.
type holdingFacts struct {
	products, everHeld int
	lastEnded          int64 // when the latest holding ended, if none is held
	nextHoldingChange  int64
}

// miseryTallies are a customer's misery moments of the last 90 days, by
// touchpoint key: what the risk score needs of them, however many there are.
type miseryTallies map[string]*miseryTally

// miseryTally is a customer's misery moments at one touchpoint.
type miseryTally struct {
	n int64
	// sumSeconds adds up the moments' times in whole seconds since 1970;
	// with n it gives how long ago they were, added up.
	sumSeconds     int64
	latest, oldest int64 // microseconds
}

// add counts a misery moment at touchpoint at t (microseconds).
func (ts *miseryTallies) add(touchpoint string, t int64) {
	if *ts == nil {
		*ts = miseryTallies{}
	}
	x := (*ts)[touchpoint]
	if x == nil {
		x = &miseryTally{latest: t, oldest: t}
		(*ts)[touchpoint] = x
	}
	x.n++
	x.sumSeconds += t / 1e6
	x.latest, x.oldest = max(x.latest, t), min(x.oldest, t)
}

// windows are the bounds of a customer's measures as of now, in
// microseconds: each window starts at its from time and ends at now, but
// the prior 90 days, which run from from180 until just before from90.
type windows struct {
	now, from30, from90, from180, from365 int64
}

func windowsAt(now time.Time) windows {
	return windows{now: micros(now), from30: micros(now.Add(-window30)), from90: micros(now.Add(-window90)),
		from180: micros(now.Add(-window180)), from365: micros(now.Add(-window365))}
}

// args are the windows as named query arguments, with the customers' ids.
func (w windows) args(ids []string) namedArgs {
	return namedArgs{"ids": ids, "now": w.now, "from30": w.from30, "from90": w.from90,
		"from180": w.from180, "from365": w.from365}
}

// gatherFacts reads the facts of a few customers (at most insertChunk) as of
// now. Live facts take the stage as stored; historical facts (for measuring
// how well the risk score predicts) reconstruct the stage at now from the
// stage history and ignore everything after now. With recorded (moments
// just recorded, by customer), a customer whose stored figures are still
// current (not yet due) takes them with those moments added, rather than
// reading every moment of their year again.
//
// Each step is one query over all the customers it concerns.
func gatherFacts(ctx context.Context, q querier, ids []string, now time.Time, historical bool, recorded map[string][]*rapport.Moment) ([]*customerFacts, error) {
	w := windowsAt(now)
	out, err := queryCustomers(ctx, q, ids, w.now, historical)
	if err != nil || len(out) == 0 {
		return out, err
	}
	found := make([]string, len(out))
	byID := make(map[string]*customerFacts, len(out))
	for i, f := range out {
		found[i], byID[f.id] = f.id, f
	}
	if !historical {
		if err := addStageStates(ctx, q, byID, found); err != nil {
			return nil, err
		}
	}
	fresh := found
	if recorded != nil {
		if fresh, err = addRecorded(ctx, q, byID, found, recorded, w); err != nil {
			return nil, err
		}
	}
	if err := addMomentFacts(ctx, q, byID, fresh, w); err != nil {
		return nil, err
	}
	if err := addHoldingFacts(ctx, q, byID, found, w.now); err != nil {
		return nil, err
	}
	if err := addReferrals(ctx, q, byID, fresh, w.now); err != nil {
		return nil, err
	}
	recovery, err := queryRecoveryFacts(ctx, q, found, now, !historical)
	if err != nil {
		return nil, err
	}
	for id, r := range recovery {
		byID[id].recovery = r
	}
	return out, nil
}

// stageSinceSQL is when customer c entered the stage they are in at :now.
const stageSinceSQL = `COALESCE((SELECT MAX(s.changed_at) FROM stage_changes s
	WHERE s.customer_id = c.id AND s.changed_at <= :now), c.created_at)`

const liveCustomersQuery = `SELECT c.id, c.created_at, c.kind, c.owner_id, c.referred_by, c.stage,
		` + stageSinceSQL + `
	FROM customers c WHERE c.id IN (:ids) ORDER BY c.id`

// historicalCustomersQuery reads the stage as it stood at :now and leaves
// out customers who joined later.
const historicalCustomersQuery = `SELECT c.id, c.created_at, c.kind, c.owner_id, c.referred_by,
		COALESCE((SELECT s.to_stage FROM stage_changes s WHERE s.customer_id = c.id AND s.changed_at <= :now
			ORDER BY s.changed_at DESC, s.id DESC LIMIT 1), c.stage),
		` + stageSinceSQL + `
	FROM customers c WHERE c.id IN (:ids) AND c.created_at <= :now ORDER BY c.id`

// queryCustomers starts the facts of the customers that exist (and, for
// historical facts, had joined by now), in id order.
func queryCustomers(ctx context.Context, q querier, ids []string, now int64, historical bool) ([]*customerFacts, error) {
	query := liveCustomersQuery
	if historical {
		query = historicalCustomersQuery
	}
	var out []*customerFacts
	err := eachNamedRow(ctx, q, query, namedArgs{"ids": ids, "now": now}, func(rows *sql.Rows) error {
		f := &customerFacts{now: now}
		if err := rows.Scan(&f.id, &f.created, &f.profile.kind, &f.profile.owner, &f.profile.referredBy,
			&f.stage, &f.stageSince); err != nil {
			return err
		}
		out = append(out, f)
		return nil
	})
	return out, err
}

// addStageStates reads whether each customer's stage is held by hand and
// what the rules last proposed.
func addStageStates(ctx context.Context, q querier, byID map[string]*customerFacts, ids []string) error {
	return eachNamedRow(ctx, q, `SELECT customer_id, manual, proposed_stage, proposed_reason, proposed_dissolution_reason,
			proposed_at, dismissed_stage
		FROM customer_stages WHERE customer_id IN (:ids)`, namedArgs{"ids": ids}, func(rows *sql.Rows) error {
		var id string
		var manual int64
		var s stageState
		var at sql.NullInt64
		if err := rows.Scan(&id, &manual, &s.proposal.Stage, &s.proposal.Reason, &s.proposal.DissolutionReason,
			&at, &s.dismissed); err != nil {
			return err
		}
		s.manual = manual == 1
		if t := timePtr(at); t != nil {
			s.proposal.ProposedAt = *t
		}
		if f := byID[id]; f != nil {
			f.stageState = s
		}
		return nil
	})
}

// addMomentFacts reads the moments of the customers whose figures are read
// afresh: their totals over the year, the latest moment of those silent for
// over a year, and the misery of the last 90 days of those who had some.
func addMomentFacts(ctx context.Context, q querier, byID map[string]*customerFacts, ids []string, w windows) error {
	if len(ids) == 0 {
		return nil
	}
	totals, err := queryMomentTotals(ctx, q, ids, w)
	if err != nil {
		return err
	}
	var silent, miserable []string
	for _, id := range ids {
		f := byID[id]
		f.momentTotals = totals[id]
		if f.last == 0 {
			silent = append(silent, id)
		}
		if f.misery90 > 0 {
			miserable = append(miserable, id)
		}
	}
	lasts, err := queryLastMoments(ctx, q, silent, w.now)
	if err != nil {
		return err
	}
	for id, at := range lasts {
		byID[id].last = at
	}
	misery, err := queryMisery(ctx, q, miserable, w)
	if err != nil {
		return err
	}
	for id, tallies := range misery {
		byID[id].misery = tallies
	}
	return nil
}

// The windows as conditions on a moment's time.
const (
	upToNow     = `occurred_at <= :now`
	within30d   = `occurred_at >= :from30 AND occurred_at <= :now`
	within90d   = `occurred_at >= :from90 AND occurred_at <= :now`
	priorWindow = `occurred_at >= :from180 AND occurred_at < :from90`
	// notMisery leaves out misery moments: the calm 365-day rating is how
	// the customer rates the firm when nothing went wrong.
	notMisery = `outcome <> 'misery'`
)

// columns are the sums of momentTotals over the moments of the last 365
// days (up to now) and of those dated later, beside the fields they fill.
func (t *momentTotals) columns() []column {
	count := func(cond string) string { return `SUM(CASE WHEN ` + cond + ` THEN 1 ELSE 0 END)` }
	sum := func(cond, v string) string { return `COALESCE(SUM(CASE WHEN ` + cond + ` THEN ` + v + ` END), 0)` }
	first := func(cond string) string { return `COALESCE(MIN(CASE WHEN ` + cond + ` THEN occurred_at END), 0)` }
	return []column{
		{count(within30d), &t.m30},
		{count(within90d), &t.m90},
		{count(upToNow), &t.m365},
		{count(within90d + ` AND rating IS NOT NULL`), &t.rated90},
		{sum(within90d, `rating`), &t.ratingSum90},
		{count(priorWindow + ` AND rating IS NOT NULL`), &t.ratedPrior},
		{sum(priorWindow, `rating`), &t.ratingSumPrior},
		{count(within90d + ` AND outcome = 'magic'`), &t.magic90},
		{count(within30d + ` AND outcome = 'misery'`), &t.misery30},
		{count(within90d + ` AND outcome = 'misery'`), &t.misery90},
		{count(within90d + ` AND effort IS NOT NULL`), &t.efforts90},
		{sum(within90d, `effort`), &t.effortSum90},
		{count(upToNow + ` AND revenue > 0`), &t.purchases365},
		{count(upToNow + ` AND rating IS NOT NULL`), &t.rated365},
		{sum(upToNow, `rating`), &t.ratingSum365},
		{count(upToNow + ` AND rating IS NOT NULL AND ` + notMisery), &t.ratedCalm365},
		{sum(upToNow+` AND `+notMisery, `rating`), &t.ratingSumCalm365},
		{sum(upToNow, `revenue`), &t.revenue365},
		{sum(upToNow, `cost`), &t.cost365},
		{`COALESCE(MAX(CASE WHEN ` + upToNow + ` THEN occurred_at END), 0)`, &t.last},
		{first(within30d), &t.oldest30},
		{first(within90d), &t.oldest90},
		{first(priorWindow), &t.oldestPrior},
		{first(upToNow), &t.oldest365},
		{first(`occurred_at > :now`), &t.future},
	}
}

// queryMomentTotals sums each customer's moments of the last 365 days in
// one pass. Customers without such moments are missing from the result.
func queryMomentTotals(ctx context.Context, q querier, ids []string, w windows) (map[string]momentTotals, error) {
	var id string
	var t momentTotals
	list, dests := selectList(t.columns())
	dests = append([]any{&id}, dests...)
	out := make(map[string]momentTotals, len(ids))
	err := eachNamedRow(ctx, q, `SELECT customer_id,
		`+list+`
		FROM moments WHERE customer_id IN (:ids) AND occurred_at >= :from365 GROUP BY customer_id`,
		w.args(ids), func(rows *sql.Rows) error {
			if err := rows.Scan(dests...); err != nil {
				return err
			}
			out[id] = t
			return nil
		})
	return out, err
}

// queryLastMoments returns when each customer's latest moment up to now
// was.
func queryLastMoments(ctx context.Context, q querier, ids []string, now int64) (map[string]int64, error) {
	out := map[string]int64{}
	if len(ids) == 0 {
		return out, nil
	}
	err := eachNamedRow(ctx, q, `SELECT customer_id, MAX(occurred_at) FROM moments
		WHERE customer_id IN (:ids) AND occurred_at <= :now GROUP BY customer_id`,
		namedArgs{"ids": ids, "now": now}, func(rows *sql.Rows) error {
			var id string
			var at int64
			if err := rows.Scan(&id, &at); err != nil {
				return err
			}
			out[id] = at
			return nil
		})
	return out, err
}

// queryMisery tallies each customer's misery moments of the last 90 days.
func queryMisery(ctx context.Context, q querier, ids []string, w windows) (map[string]miseryTallies, error) {
	out := map[string]miseryTallies{}
	if len(ids) == 0 {
		return out, nil
	}
	err := eachNamedRow(ctx, q, `SELECT customer_id, touchpoint, occurred_at FROM moments
		WHERE customer_id IN (:ids) AND outcome = 'misery' AND `+within90d+`
		ORDER BY customer_id, occurred_at`, w.args(ids), func(rows *sql.Rows) error {
		var id, touchpoint string
		var at int64
		if err := rows.Scan(&id, &touchpoint, &at); err != nil {
			return err
		}
		tallies := out[id]
		tallies.add(touchpoint, at)
		out[id] = tallies
		return nil
	})
	return out, err
}

// addHoldingFacts reads what each customer holds now, held before, and
// when that next changes.
func addHoldingFacts(ctx context.Context, q querier, byID map[string]*customerFacts, ids []string, now int64) error {
	holdings, err := queryHoldings(ctx, q, ids, now)
	if err != nil {
		return err
	}
	for _, id := range ids {
		byID[id].holdingFacts = holdings[id]
	}
	return nil
}

// queryHoldings works out each customer's holdingFacts from their holdings.
// Customers who never held anything are missing from the result.
func queryHoldings(ctx context.Context, q querier, ids []string, now int64) (map[string]holdingFacts, error) {
	facts := map[string]*holdingFacts{}
	held := map[string]map[string]bool{} // products held now, by customer
	err := eachNamedRow(ctx, q, `SELECT customer_id, product, started_at, ended_at FROM holdings WHERE customer_id IN (:ids)`,
		namedArgs{"ids": ids}, func(rows *sql.Rows) error {
			var id, product string
			var started int64
			var ended sql.NullInt64
			if err := rows.Scan(&id, &product, &started, &ended); err != nil {
				return err
			}
			h := facts[id]
			if h == nil {
				h = &holdingFacts{}
				facts[id] = h
			}
			if h.add(started, ended, now) {
				if held[id] == nil {
					held[id] = map[string]bool{}
				}
				held[id][product] = true
			}
			return nil
		})
	out := make(map[string]holdingFacts, len(facts))
	for id, h := range facts {
		h.products = len(held[id])
		if h.products > 0 {
			h.lastEnded = 0
		}
		out[id] = *h
	}
	return out, err
}

// add counts a holding from started until ended (if it has ended) and
// reports whether it is held at now.
func (h *holdingFacts) add(started int64, ended sql.NullInt64, now int64) bool {
	next := func(t int64) {
		if t > now && (h.nextHoldingChange == 0 || t < h.nextHoldingChange) {
			h.nextHoldingChange = t
		}
	}
	if started > now {
		next(started)
		return false
	}
	h.everHeld++
	if ended.Valid && ended.Int64 <= now {
		h.lastEnded = max(h.lastEnded, ended.Int64)
		return false
	}
	if ended.Valid {
		next(ended.Int64)
	}
	return true
}

// addReferrals counts the customers each customer had referred by now.
func addReferrals(ctx context.Context, q querier, byID map[string]*customerFacts, ids []string, now int64) error {
	if len(ids) == 0 {
		return nil
	}
	return eachNamedRow(ctx, q, `SELECT referred_by, COUNT(*) FROM customers
		WHERE referred_by IN (:ids) AND created_at <= :now GROUP BY referred_by`,
		namedArgs{"ids": ids, "now": now}, func(rows *sql.Rows) error {
			var id string
			var n int64
			if err := rows.Scan(&id, &n); err != nil {
				return err
			}
			if f := byID[id]; f != nil {
				f.referrals = n
			}
			return nil
		})
}

// storedFigures are the figures customer_measures keeps of a customer,
// which newly recorded moments can be added to while they are current.
// The oldest moment of each window is not kept: storedDue stands in for it.
type storedFigures struct {
	momentTotals
	rating90, ratingPrior float64 // means; 0 when nothing was rated
	effort90              float64 // mean; 0 when no effort was given
	rating365             float64 // mean; 0 when nothing was rated
	ratingCalm365         float64 // mean of moments not misery; 0 when none was rated
	referrals             int64
	due                   int64
	miseryJSON            string
}

// columns are the stored figures beside the fields they fill.
func (s *storedFigures) columns() []column {
	return []column{
		{`moments_30d`, &s.m30},
		{`moments_90d`, &s.m90},
		{`moments_365d`, &s.m365},
		{`rated_90d`, &s.rated90},
		{`COALESCE(rating_90d, 0)`, &s.rating90},
		{`rated_prior_90d`, &s.ratedPrior},
		{`COALESCE(rating_prior_90d, 0)`, &s.ratingPrior},
		{`magic_90d`, &s.magic90},
		{`misery_30d`, &s.misery30},
		{`misery_90d`, &s.misery90},
		{`efforts_90d`, &s.efforts90},
		{`COALESCE(effort_90d, 0)`, &s.effort90},
		{`purchases_365d`, &s.purchases365},
		{`rated_365d`, &s.rated365},
		{`COALESCE(rating_365d, 0)`, &s.rating365},
		{`rated_calm_365d`, &s.ratedCalm365},
		{`COALESCE(rating_calm_365d, 0)`, &s.ratingCalm365},
		{`revenue_365d`, &s.revenue365},
		{`cost_365d`, &s.cost365},
		{`referrals`, &s.referrals},
		{`COALESCE(last_moment_at, 0)`, &s.last},
		{`due_at`, &s.due},
		{`misery_recent`, &s.miseryJSON},
	}
}

// queryCurrentFigures returns the stored figures of the customers whose
// figures are still current (due after now).
func queryCurrentFigures(ctx context.Context, q querier, ids []string, now int64) (map[string]storedFigures, error) {
	var id string
	var s storedFigures
	list, dests := selectList(s.columns())
	dests = append([]any{&id}, dests...)
	out := map[string]storedFigures{}
	err := eachNamedRow(ctx, q, `SELECT customer_id,
		`+list+`
		FROM customer_measures WHERE customer_id IN (:ids) AND due_at > :now`,
		namedArgs{"ids": ids, "now": now}, func(rows *sql.Rows) error {
			if err := rows.Scan(dests...); err != nil {
				return err
			}
			out[id] = s
			return nil
		})
	return out, err
}

// addRecorded gives each customer whose stored figures are still current
// (due after now) those figures with the recorded moments added, and
// returns the customers whose figures must be read afresh, in ids' order.
func addRecorded(ctx context.Context, q querier, byID map[string]*customerFacts, ids []string, recorded map[string][]*rapport.Moment, w windows) ([]string, error) {
	current, err := queryCurrentFigures(ctx, q, ids, w.now)
	if err != nil {
		return nil, err
	}
	var fresh []string
	for _, id := range ids {
		f := byID[id]
		s, ok := current[id]
		if !ok {
			fresh = append(fresh, id)
			continue
		}
		if err := f.takeStored(s); err != nil {
			return nil, err
		}
		for _, m := range recorded[id] {
			f.addMoment(m, w)
		}
	}
	return fresh, nil
}

// takeStored starts f's moment facts from its stored figures. Ratings are
// whole numbers, so a stored mean times its count gives back the exact sum.
func (f *customerFacts) takeStored(s storedFigures) error {
	recent, err := parseMiseryTallies(s.miseryJSON)
	if err != nil {
		return err
	}
	f.momentTotals = s.momentTotals
	f.ratingSum90 = math.Round(s.rating90 * float64(s.rated90))
	f.ratingSumPrior = math.Round(s.ratingPrior * float64(s.ratedPrior))
	f.effortSum90 = math.Round(s.effort90 * float64(s.efforts90))
	f.ratingSum365 = math.Round(s.rating365 * float64(s.rated365))
	f.ratingSumCalm365 = math.Round(s.ratingCalm365 * float64(s.ratedCalm365))
	f.referrals, f.storedDue = s.referrals, s.due
	f.misery = recent
	return nil
}

// addMoment adds a newly recorded moment to f's moment facts.
func (f *customerFacts) addMoment(m *rapport.Moment, w windows) {
	t := micros(m.OccurredAt)
	if t > w.now {
		earliest(&f.future, t)
		return
	}
	f.last = max(f.last, t)
	misery, rated := m.Outcome == rapport.OutcomeMisery, m.Rating != nil
	if t >= w.from30 {
		f.m30++
		if misery {
			f.misery30++
		}
		earliest(&f.oldest30, t)
	}
	switch {
	case t >= w.from90:
		f.m90++
		if rated {
			f.rated90++
			f.ratingSum90 += float64(*m.Rating)
		}
		if m.Outcome == rapport.OutcomeMagic {
			f.magic90++
		}
		if m.Effort != nil {
			f.efforts90++
			f.effortSum90 += float64(*m.Effort)
		}
		if misery {
			f.misery90++
			f.misery.add(m.Touchpoint, t)
		}
		earliest(&f.oldest90, t)
	case t >= w.from180:
		if rated {
			f.ratedPrior++
			f.ratingSumPrior += float64(*m.Rating)
		}
		earliest(&f.oldestPrior, t)
	}
	if t >= w.from365 {
		f.m365++
		if m.Revenue > 0 {
			f.purchases365++
		}
		if rated {
			f.rated365++
			f.ratingSum365 += float64(*m.Rating)
			if !misery {
				f.ratedCalm365++
				f.ratingSumCalm365 += float64(*m.Rating)
			}
		}
		f.revenue365 += m.Revenue
		f.cost365 += m.Cost
		earliest(&f.oldest365, t)
	}
}

// earliest sets *dst to t if t is earlier or *dst is not set (0).
func earliest(dst *int64, t int64) {
	if *dst == 0 || t < *dst {
		*dst = t
	}
}
