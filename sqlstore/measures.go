package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/analytics"
)

// HealthService keeps every customer's measures, health and risk current:
// in the transaction that records their moments (a moment hook), when their
// holdings or stage change, and by a periodic sweep for what time alone
// changes. Nothing is recomputed for everyone per request.
type HealthService struct {
	db *DB
	// referralsChecked is set once a sweep has compared every customer's
	// count of referrals with the referrals themselves.
	referralsChecked atomic.Bool
}

// NewHealthService returns the customer measures kept in db.
func NewHealthService(db *DB) *HealthService { return &HealthService{db: db} }

var _ rapport.HealthService = (*HealthService)(nil)

// oneDay is a day as a duration.
const oneDay = 24 * time.Hour

// The windows of the per-customer measures.
const (
	window30  = 30 * oneDay
	window90  = 90 * oneDay
	window180 = 180 * oneDay
	window365 = 365 * oneDay
	// maxDue is the longest a customer's figures go unchecked; minDue the
	// shortest, so a sweep never spins on one customer.
	maxDue = 30 * oneDay
	minDue = time.Hour
)

// CustomerHealth returns a customer's health and risk with their factors,
// measuring them first if they never were.
func (s *HealthService) CustomerHealth(ctx context.Context, customerID string) (*rapport.CustomerHealth, error) {
	h, err := findHealth(ctx, s.db.reader(), customerID)
	if rapport.ErrorCode(err) != rapport.ENOTFOUND {
		return h, err
	}
	if _, err := findCustomer(ctx, s.db.reader(), customerID); err != nil {
		return nil, err
	}
	err = s.db.inTx(ctx, func(tx *tx) error {
		_, err := refreshCustomers(ctx, tx, []string{customerID}, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	return findHealth(ctx, s.db.reader(), customerID)
}

const measureColumns = `health, risk, health_factors, risk_factors, moments_30d, moments_90d, moments_365d,
	rated_90d, rating_90d, rated_prior_90d, rating_prior_90d, magic_90d, misery_30d, misery_90d, holdings, revenue_365d,
	cost_365d, referrals, last_moment_at, computed_at, due_at, misery_recent`

// profileColumns are the customer's profile fields that customer_measures
// copies for segment rules, stored with the figures.
const profileColumns = `stage, kind, owner_id, referred_by, created_at`

// measureColumnCount counts measureColumns and profileColumns plus customer_id.
const measureColumnCount = 28

func findHealth(ctx context.Context, q querier, customerID string) (*rapport.CustomerHealth, error) {
	var (
		h                   = rapport.CustomerHealth{CustomerID: customerID}
		hf, rf              string
		rating, prior       sql.NullFloat64
		last                sql.NullInt64
		computed, due       int64
		miseryRecent        string
		m30, m90, m365, r90 int64
		ratedPrior          int64
		magic, mis30, mis90 int64
		holdings, referrals int64
		revenue, cost       float64
	)
	err := q.queryRow(ctx, `SELECT c.stage, `+measureColumns+` FROM customer_measures m
		JOIN customers c ON c.id = m.customer_id WHERE m.customer_id = ?`, customerID).Scan(&h.Stage,
		&h.Health, &h.Risk, &hf, &rf, &m30, &m90, &m365, &r90, &rating, &ratedPrior, &prior, &magic, &mis30, &mis90,
		&holdings, &revenue, &cost, &referrals, &last, &computed, &due, &miseryRecent)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rapport.Errorf(rapport.ENOTFOUND, "The customer %q has not been measured yet.", customerID)
	} else if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(hf), &h.HealthFactors); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(rf), &h.RiskFactors); err != nil {
		return nil, err
	}
	h.Measures = rapport.CustomerMeasures{Moments30d: int(m30), Moments90d: int(m90), Moments365d: int(m365),
		Rated90d: int(r90), Rating90d: floatPtr(rating), RatingPrior90d: floatPtr(prior), Magic90d: int(magic),
		Misery30d: int(mis30), Misery90d: int(mis90), Holdings: int(holdings), Revenue365d: revenue, Cost365d: cost,
		Referrals: int(referrals), LastMomentAt: timePtr(last)}
	h.ComputedAt = fromMicros(computed)
	return &h, nil
}

func floatPtr(n sql.NullFloat64) *float64 {
	if !n.Valid {
		return nil
	}
	v := n.Float64
	return &v
}

// Sweep brings up to date, in batches of their own transactions, the
// customers never measured, those whose figures time has changed (due_at
// passed), and, in a service's first sweep, those whose count of referrals
// is out of step; it runs the stage rules on each.
//
// Customers are measured as they are added and referrers as their
// referrals are made, moved or deleted, all in the same transaction, so the
// first and last kinds are a safety net for data from before that or from a
// bulk load: the look for customers never measured runs only when there are
// more customers than measured ones, and the referral counts, which take a
// pass over every customer, are compared once per service.
func (s *HealthService) Sweep(ctx context.Context) (*rapport.SweepResult, error) {
	res := &rapport.SweepResult{}
	var unmeasured int64
	err := s.db.reader().queryRow(ctx, `SELECT (SELECT COUNT(*) FROM customers) - (SELECT COUNT(*) FROM customer_measures)`).Scan(&unmeasured)
	if err != nil {
		return res, err
	}
	checkReferrals := !s.referralsChecked.Load()
	batches := []func(now time.Time) (string, []any){
		func(time.Time) (string, []any) {
			if unmeasured == 0 {
				return "", nil
			}
			return `SELECT c.id FROM customers c LEFT JOIN customer_measures m ON m.customer_id = c.id
				WHERE m.customer_id IS NULL ORDER BY c.id LIMIT ?`, nil
		},
		func(now time.Time) (string, []any) {
			return `SELECT customer_id FROM customer_measures WHERE due_at <= ? ORDER BY due_at, customer_id LIMIT ?`,
				[]any{micros(now)}
		},
		func(time.Time) (string, []any) {
			if !checkReferrals {
				return "", nil
			}
			return `SELECT m.customer_id FROM customer_measures m
				LEFT JOIN (SELECT referred_by, COUNT(*) AS n FROM customers WHERE referred_by IS NOT NULL GROUP BY referred_by) r
					ON r.referred_by = m.customer_id
				WHERE m.referrals <> COALESCE(r.n, 0) ORDER BY m.customer_id LIMIT ?`, nil
		},
	}
	for _, batch := range batches {
		seen := map[string]bool{}
		for {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			q, args := batch(s.db.now())
			if q == "" {
				break // nothing of this kind can be out of step
			}
			ids, err := queryIDs(ctx, s.db.reader(), q, append(args, insertChunk)...)
			if err != nil {
				return res, err
			}
			// A customer seen twice in one pass could not be brought up to
			// date (deleted meanwhile, or a clock gone backwards): stop.
			ids = slices.DeleteFunc(ids, func(id string) bool { return seen[id] })
			if len(ids) == 0 {
				break
			}
			for _, id := range ids {
				seen[id] = true
			}
			err = s.db.inTx(ctx, func(tx *tx) error {
				r, err := refreshCustomers(ctx, tx, ids, true)
				res.Customers += r.Customers
				res.StagesApplied += r.StagesApplied
				res.Proposals += r.Proposals
				return err
			})
			if err != nil {
				return res, err
			}
		}
	}
	if checkReferrals {
		s.referralsChecked.Store(true)
	}
	return res, nil
}

func queryIDs(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// RebuildCustomerMeasures recomputes every customer's daily totals and
// measures them afresh, for after a bulk load that wrote moments, holdings
// and stages directly, and refreshes the planner's statistics at the end.
// It applies no stage rules; the sweep does that as customers fall due.
func (db *DB) RebuildCustomerMeasures(ctx context.Context) error {
	return db.rebuildCustomerMeasures(ctx, false)
}

// rebuildCustomerMeasures is RebuildCustomerMeasures, running the stage
// rules on every customer too when infer is set, as recording does.
func (db *DB) rebuildCustomerMeasures(ctx context.Context, infer bool) error {
	if err := db.inTx(ctx, func(tx *tx) error { return rebuildCustomerDays(ctx, tx) }); err != nil {
		return err
	}
	after := ""
	for {
		ids, err := queryIDs(ctx, db.reader(), `SELECT id FROM customers WHERE id > ? ORDER BY id LIMIT ?`, after, insertChunk)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			// Every row of the figures and daily totals is new.
			return db.analyze(ctx)
		}
		after = ids[len(ids)-1]
		err = db.inTx(ctx, func(tx *tx) error {
			_, err := refreshCustomers(ctx, tx, ids, infer)
			return err
		})
		if err != nil {
			return err
		}
	}
}

// refreshCustomers measures the customers again as of the transaction's
// time and stores the figures; with infer it first runs the stage rules,
// applying or proposing stages. Customers are handled in id order so that
// concurrent transactions on PostgreSQL lock rows in the same order.
func refreshCustomers(ctx context.Context, tx *tx, ids []string, infer bool) (rapport.SweepResult, error) {
	return refreshCustomersWith(ctx, tx, ids, infer, nil)
}

// refreshCustomersWith is refreshCustomers for customers whose moments were
// just recorded: those whose stored figures are current add the new moments
// to them (see gatherFacts).
func refreshCustomersWith(ctx context.Context, tx *tx, ids []string, infer bool, recorded map[string][]*rapport.Moment) (rapport.SweepResult, error) {
	var res rapport.SweepResult
	if len(ids) == 0 {
		return res, nil
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	rules := rapport.DefaultStageRules()
	if infer {
		r, err := loadStageRules(ctx, tx.querier)
		if err != nil {
			return res, err
		}
		rules = *r
	}
	weights, err := loadMiseryWeights(ctx, tx.querier)
	if err != nil {
		return res, err
	}
	for start := 0; start < len(ids); start += insertChunk {
		chunk := ids[start:min(start+insertChunk, len(ids))]
		facts, err := gatherFacts(ctx, tx.querier, chunk, tx.now, false, recorded)
		if err != nil {
			return res, err
		}
		if infer {
			for _, f := range facts {
				applied, proposed, err := inferStage(ctx, tx, f, rules)
				if err != nil {
					return res, err
				}
				if applied {
					res.StagesApplied++
				}
				if proposed {
					res.Proposals++
				}
			}
		}
		rows := make([]measuredCustomer, 0, len(facts))
		for _, f := range facts {
			rows = append(rows, measure(f, weights, rules))
		}
		if err := storeMeasures(ctx, tx, rows); err != nil {
			return res, err
		}
		res.Customers += len(rows)
	}
	return res, nil
}

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
	// From customer_stages; live facts only.
	manual   bool
	proposal rapport.StageProposal
	// dismissed is a proposed stage a person set aside.
	dismissed string

	m30, m90, m365, rated90, ratedPrior int64
	ratingSum90, ratingSumPrior         float64
	magic90, misery30, misery90         int64
	revenue365, cost365                 float64
	last                                int64 // 0 when no moment
	// The oldest moment in each window, and the earliest moment dated after
	// now: when each window next changes. 0 when none.
	oldest30, oldest90, oldestPrior, oldest365, future int64
	// storedDue is the due time of figures carried over from the stored
	// row, with only newly recorded moments added; 0 when read afresh.
	storedDue int64

	products, everHeld int
	lastEnded          int64 // when the latest holding ended, if none is held
	nextHoldingChange  int64
	referrals          int64
	misery             []miseryAt
}

// customerProfile is what customer_measures copies of the customer's
// profile besides the stage and when they joined.
type customerProfile struct {
	kind              string
	owner, referredBy sql.NullString
}

type miseryAt struct {
	touchpoint string
	at         int64
}

// storedMisery is a misery moment as customer_measures keeps it.
type storedMisery struct {
	Touchpoint string `json:"t"`
	At         int64  `json:"at"`
}

// gatherFacts reads the facts of a few customers (at most insertChunk) as of
// now. Live facts take the stage as stored; historical facts (for measuring
// how well the risk score predicts) reconstruct the stage at now from the
// stage history and ignore everything after now. With recorded (moments
// just recorded, by customer), a customer whose stored figures are still
// current (not yet due) takes them with those moments added, rather than
// reading every moment of their year again.
func gatherFacts(ctx context.Context, q querier, ids []string, now time.Time, historical bool, recorded map[string][]*rapport.Moment) ([]*customerFacts, error) {
	nowUS := micros(now)
	t30, t90, t180, t365 := micros(now.Add(-window30)), micros(now.Add(-window90)), micros(now.Add(-window180)), micros(now.Add(-window365))
	in := placeholders(len(ids))
	idArgs := make([]any, len(ids))
	for i, id := range ids {
		idArgs[i] = id
	}
	byID := map[string]*customerFacts{}
	var out []*customerFacts

	customers := `SELECT c.id, c.created_at, c.kind, c.owner_id, c.referred_by, c.stage,
			COALESCE((SELECT MAX(s.changed_at) FROM stage_changes s WHERE s.customer_id = c.id AND s.changed_at <= ?), c.created_at)
		FROM customers c WHERE c.id IN (` + in + `) ORDER BY c.id`
	args := append([]any{nowUS}, idArgs...)
	if historical {
		customers = `SELECT c.id, c.created_at, c.kind, c.owner_id, c.referred_by,
				COALESCE((SELECT s.to_stage FROM stage_changes s WHERE s.customer_id = c.id AND s.changed_at <= ?
					ORDER BY s.changed_at DESC, s.id DESC LIMIT 1), c.stage),
				COALESCE((SELECT MAX(s.changed_at) FROM stage_changes s WHERE s.customer_id = c.id AND s.changed_at <= ?), c.created_at)
			FROM customers c WHERE c.id IN (` + in + `) AND c.created_at <= ? ORDER BY c.id`
		args = append(append([]any{nowUS, nowUS}, idArgs...), nowUS)
	}
	err := eachRow(ctx, q, customers, args, func(rows *sql.Rows) error {
		f := &customerFacts{now: nowUS}
		if err := rows.Scan(&f.id, &f.created, &f.profile.kind, &f.profile.owner, &f.profile.referredBy, &f.stage, &f.stageSince); err != nil {
			return err
		}
		byID[f.id] = f
		out = append(out, f)
		return nil
	})
	if err != nil || len(out) == 0 {
		return out, err
	}

	if !historical {
		err = eachRow(ctx, q, `SELECT customer_id, manual, proposed_stage, proposed_reason, proposed_dissolution_reason,
				proposed_at, dismissed_stage FROM customer_stages WHERE customer_id IN (`+in+`)`, idArgs, func(rows *sql.Rows) error {
			var id string
			var manual int64
			var p rapport.StageProposal
			var at sql.NullInt64
			var dismissed string
			if err := rows.Scan(&id, &manual, &p.Stage, &p.Reason, &p.DissolutionReason, &at, &dismissed); err != nil {
				return err
			}
			if f := byID[id]; f != nil {
				f.manual, f.proposal, f.dismissed = manual == 1, p, dismissed
				if t := timePtr(at); t != nil {
					f.proposal.ProposedAt = *t
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}

	full := ids
	if recorded != nil {
		if full, err = addRecorded(ctx, q, byID, ids, recorded, nowUS); err != nil {
			return nil, err
		}
	}
	fullIn, fullArgs := placeholders(len(full)), make([]any, len(full))
	for i, id := range full {
		fullArgs[i] = id
	}

	// Moments of the last 365 days, in one pass per customer.
	if len(full) > 0 {
		err = eachRow(ctx, q, `SELECT customer_id,
			SUM(CASE WHEN occurred_at >= ? AND occurred_at <= ? THEN 1 ELSE 0 END),
			SUM(CASE WHEN occurred_at >= ? AND occurred_at <= ? THEN 1 ELSE 0 END),
			SUM(CASE WHEN occurred_at <= ? THEN 1 ELSE 0 END),
			SUM(CASE WHEN occurred_at >= ? AND occurred_at <= ? AND rating IS NOT NULL THEN 1 ELSE 0 END),
			COALESCE(SUM(CASE WHEN occurred_at >= ? AND occurred_at <= ? THEN rating END), 0),
			SUM(CASE WHEN occurred_at >= ? AND occurred_at < ? AND rating IS NOT NULL THEN 1 ELSE 0 END),
			COALESCE(SUM(CASE WHEN occurred_at >= ? AND occurred_at < ? THEN rating END), 0),
			SUM(CASE WHEN occurred_at >= ? AND occurred_at <= ? AND outcome = 'magic' THEN 1 ELSE 0 END),
			SUM(CASE WHEN occurred_at >= ? AND occurred_at <= ? AND outcome = 'misery' THEN 1 ELSE 0 END),
			SUM(CASE WHEN occurred_at >= ? AND occurred_at <= ? AND outcome = 'misery' THEN 1 ELSE 0 END),
			COALESCE(SUM(CASE WHEN occurred_at <= ? THEN revenue END), 0),
			COALESCE(SUM(CASE WHEN occurred_at <= ? THEN cost END), 0),
			MAX(CASE WHEN occurred_at <= ? THEN occurred_at END),
			MIN(CASE WHEN occurred_at >= ? AND occurred_at <= ? THEN occurred_at END),
			MIN(CASE WHEN occurred_at >= ? AND occurred_at <= ? THEN occurred_at END),
			MIN(CASE WHEN occurred_at >= ? AND occurred_at < ? THEN occurred_at END),
			MIN(CASE WHEN occurred_at <= ? THEN occurred_at END),
			MIN(CASE WHEN occurred_at > ? THEN occurred_at END)
		FROM moments WHERE customer_id IN (`+fullIn+`) AND occurred_at >= ? GROUP BY customer_id`,
			append(append([]any{
				t30, nowUS, t90, nowUS, nowUS, t90, nowUS, t90, nowUS, t180, t90, t180, t90,
				t90, nowUS, t30, nowUS, t90, nowUS, nowUS, nowUS, nowUS,
				t30, nowUS, t90, nowUS, t180, t90, nowUS, nowUS,
			}, fullArgs...), t365),
			func(rows *sql.Rows) error {
				var id string
				var last, o30, o90, oPrior, o365, future sql.NullInt64
				var f customerFacts
				if err := rows.Scan(&id, &f.m30, &f.m90, &f.m365, &f.rated90, &f.ratingSum90, &f.ratedPrior, &f.ratingSumPrior,
					&f.magic90, &f.misery30, &f.misery90, &f.revenue365, &f.cost365, &last, &o30, &o90, &oPrior, &o365, &future); err != nil {
					return err
				}
				if c := byID[id]; c != nil {
					f.id, f.now, f.created, f.stage, f.stageSince, f.manual, f.proposal = c.id, c.now, c.created, c.stage, c.stageSince, c.manual, c.proposal
					f.profile, f.dismissed = c.profile, c.dismissed
					f.last, f.oldest30, f.oldest90, f.oldestPrior, f.oldest365, f.future = last.Int64, o30.Int64, o90.Int64, oPrior.Int64, o365.Int64, future.Int64
					*c = f
				}
				return nil
			})
		if err != nil {
			return nil, err
		}
	}
	// The latest moment of customers silent for over a year.
	var silent []any
	for _, id := range full {
		if f := byID[id]; f != nil && f.last == 0 {
			silent = append(silent, f.id)
		}
	}
	if len(silent) > 0 {
		err = eachRow(ctx, q, `SELECT customer_id, MAX(occurred_at) FROM moments WHERE customer_id IN (`+placeholders(len(silent))+`)
			AND occurred_at <= ? GROUP BY customer_id`, append(silent, nowUS), func(rows *sql.Rows) error {
			var id string
			var at int64
			if err := rows.Scan(&id, &at); err != nil {
				return err
			}
			if f := byID[id]; f != nil {
				f.last = at
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}

	// The misery moments of the last 90 days, of those who had some.
	var miserable []any
	for _, id := range full {
		if f := byID[id]; f != nil && f.misery90 > 0 {
			miserable = append(miserable, f.id)
		}
	}
	if len(miserable) > 0 {
		err = eachRow(ctx, q, `SELECT customer_id, touchpoint, occurred_at FROM moments WHERE customer_id IN (`+placeholders(len(miserable))+`)
			AND outcome = 'misery' AND occurred_at >= ? AND occurred_at <= ? ORDER BY customer_id, occurred_at`,
			append(miserable, t90, nowUS), func(rows *sql.Rows) error {
				var id string
				var m miseryAt
				if err := rows.Scan(&id, &m.touchpoint, &m.at); err != nil {
					return err
				}
				if f := byID[id]; f != nil {
					f.misery = append(f.misery, m)
				}
				return nil
			})
		if err != nil {
			return nil, err
		}
	}

	// Holdings: what is held now, what was, and when that next changes.
	held := map[string]map[string]bool{}
	err = eachRow(ctx, q, `SELECT customer_id, product, started_at, ended_at FROM holdings WHERE customer_id IN (`+in+`)`,
		idArgs, func(rows *sql.Rows) error {
			var id, product string
			var started int64
			var ended sql.NullInt64
			if err := rows.Scan(&id, &product, &started, &ended); err != nil {
				return err
			}
			f := byID[id]
			if f == nil {
				return nil
			}
			next := func(t int64) {
				if t > nowUS && (f.nextHoldingChange == 0 || t < f.nextHoldingChange) {
					f.nextHoldingChange = t
				}
			}
			if started > nowUS {
				next(started)
				return nil
			}
			f.everHeld++
			if ended.Valid && ended.Int64 <= nowUS {
				f.lastEnded = max(f.lastEnded, ended.Int64)
				return nil
			}
			if ended.Valid {
				next(ended.Int64)
			}
			if held[id] == nil {
				held[id] = map[string]bool{}
			}
			held[id][product] = true
			return nil
		})
	if err != nil {
		return nil, err
	}
	for _, f := range out {
		f.products = len(held[f.id])
		if f.products > 0 {
			f.lastEnded = 0
		}
	}

	if len(full) == 0 {
		return out, nil
	}
	err = eachRow(ctx, q, `SELECT referred_by, COUNT(*) FROM customers WHERE referred_by IN (`+fullIn+`) AND created_at <= ?
		GROUP BY referred_by`, append(append([]any{}, fullArgs...), nowUS), func(rows *sql.Rows) error {
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
	return out, err
}

// eachRow runs a query and calls fn on every row.
func eachRow(ctx context.Context, q querier, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// miseryWeights are each touchpoint's name and the measured extra chance of
// dissolving within 90 days after misery there.
type miseryWeights map[string]miseryWeight

type miseryWeight struct {
	name     string
	weight   float64
	measured bool
}

// minImpactCustomers is how many customers must have met misery at a
// touchpoint before its measured impact weighs misery there.
const minImpactCustomers = 30

func loadMiseryWeights(ctx context.Context, q querier) (miseryWeights, error) {
	w := miseryWeights{}
	err := eachRow(ctx, q, `SELECT t.key, t.name, i.exposed, i.exposed_events, i.unexposed, i.unexposed_events
		FROM touchpoints t LEFT JOIN touchpoint_impact i ON i.touchpoint = t.key`, nil, func(rows *sql.Rows) error {
		var key, name string
		var exposed, exposedEv, unexposed, unexposedEv sql.NullInt64
		if err := rows.Scan(&key, &name, &exposed, &exposedEv, &unexposed, &unexposedEv); err != nil {
			return err
		}
		mw := miseryWeight{name: name, weight: analytics.DefaultMiseryWeight}
		if exposed.Int64 >= minImpactCustomers && unexposed.Int64 > 0 {
			est := analytics.Impact(analytics.Proportion{Successes: int(exposedEv.Int64), Trials: int(exposed.Int64)},
				analytics.Proportion{Successes: int(unexposedEv.Int64), Trials: int(unexposed.Int64)})
			if est.OK {
				mw.weight, mw.measured = est.RiskDifference, true
			}
		}
		w[key] = mw
		return nil
	})
	return w, err
}

// measuredCustomer is one row of customer_measures.
type measuredCustomer struct {
	id                   string
	stage                string
	created              int64
	profile              customerProfile
	health, risk         analytics.Score
	m                    rapport.CustomerMeasures
	ratedPrior           int
	last, computed, due  int64
	healthJSON, riskJSON string
	miseryJSON           string
}

// relationshipFacts turns stored facts into the scores' input.
func (f *customerFacts) relationshipFacts(weights miseryWeights) analytics.RelationshipFacts {
	daysSince := func(t int64) float64 { return float64(f.now-t) / float64(oneDay/time.Microsecond) }
	rf := analytics.RelationshipFacts{
		Dissolved:  f.stage == rapport.StageDissolution,
		TenureDays: daysSince(f.created),
		HasMoment:  f.last != 0,
		Moments90:  int(f.m90),
		Rated90:    int(f.rated90), RatedPrior: int(f.ratedPrior),
		Magic90:  int(f.magic90),
		Products: f.products, EverHeld: f.everHeld, Referrals: int(f.referrals),
	}
	if f.last != 0 {
		rf.SilentDays = daysSince(f.last)
	}
	if f.rated90 > 0 {
		rf.Rating90 = f.ratingSum90 / float64(f.rated90)
	}
	if f.ratedPrior > 0 {
		rf.RatingPrior = f.ratingSumPrior / float64(f.ratedPrior)
	}
	for _, m := range f.misery {
		w, ok := weights[m.touchpoint]
		if !ok {
			w.name, w.weight = m.touchpoint, analytics.DefaultMiseryWeight
		}
		rf.Misery = append(rf.Misery, analytics.MiseryMoment{Touchpoint: w.name, DaysAgo: daysSince(m.at), Weight: w.weight, Measured: w.measured})
	}
	return rf
}

// measure works out a customer's figures, scores and when they next change.
func measure(f *customerFacts, weights miseryWeights, rules rapport.StageRules) measuredCustomer {
	rf := f.relationshipFacts(weights)
	mc := measuredCustomer{id: f.id, stage: f.stage, created: f.created, profile: f.profile, health: analytics.Health(rf), risk: analytics.Risk(rf), last: f.last, computed: f.now,
		ratedPrior: int(f.ratedPrior)}
	mc.m = rapport.CustomerMeasures{
		Moments30d: int(f.m30), Moments90d: int(f.m90), Moments365d: int(f.m365), Rated90d: int(f.rated90),
		Magic90d: int(f.magic90), Misery30d: int(f.misery30), Misery90d: int(f.misery90), Holdings: f.products,
		Revenue365d: f.revenue365, Cost365d: f.cost365, Referrals: int(f.referrals),
	}
	if f.rated90 > 0 {
		r := rf.Rating90
		mc.m.Rating90d = &r
	}
	if f.ratedPrior > 0 {
		r := rf.RatingPrior
		mc.m.RatingPrior90d = &r
	}
	mc.due = f.dueAt(rules)
	mc.healthJSON, mc.riskJSON = factorsJSON(mc.health), factorsJSON(mc.risk)
	list := make([]storedMisery, len(f.misery))
	for i, m := range f.misery {
		list[i] = storedMisery{Touchpoint: m.touchpoint, At: m.at}
	}
	// Newest first, however the moments came, so that the stored figures
	// of a rebuild and of recording one moment at a time are the same.
	slices.SortStableFunc(list, func(a, b storedMisery) int { return cmp.Compare(b.At, a.At) })
	b, _ := json.Marshal(list)
	mc.miseryJSON = string(b)
	return mc
}

func factorsJSON(s analytics.Score) string {
	fs := make([]rapport.Factor, len(s.Factors))
	for i, f := range s.Factors {
		fs[i] = rapport.Factor{Text: f.Text, Points: f.Points}
	}
	b, _ := json.Marshal(fs)
	return string(b)
}

// dueAt is when the customer's figures, scores or stage would next change
// if nothing happened: a moment leaving a window, a silence or a tenure
// passing a threshold, a holding starting or ending, misery fading.
func (f *customerFacts) dueAt(rules rapport.StageRules) int64 {
	us := func(d time.Duration) int64 { return int64(d / time.Microsecond) }
	due := f.now + us(maxDue)
	consider := func(t int64) {
		if t > f.now && t < due {
			due = t
		}
	}
	// A moment at t is in a window of length d until just after t + d.
	after := func(t int64, d time.Duration) {
		if t != 0 {
			consider(t + us(d) + 1)
		}
	}
	after(f.oldest30, window30)
	after(f.oldest90, window90)
	after(f.oldestPrior, window180)
	after(f.oldest365, window365)
	consider(f.future)
	consider(f.nextHoldingChange)
	if f.misery90 > 0 {
		consider(f.now + us(oneDay)) // misery fades day by day
	}
	quiet := f.last
	if quiet == 0 || quiet < f.created {
		quiet = f.created
	}
	after(quiet, analytics.SilentDays*oneDay)
	after(quiet, analytics.LongSilentDays*oneDay)
	after(quiet, time.Duration(rules.SilenceDays)*oneDay)
	after(f.created, 90*oneDay)
	after(f.created, time.Duration(rules.CommitmentYears*365*24)*time.Hour)
	after(f.lastEnded, time.Duration(rules.LapsedDays)*oneDay)
	if f.storedDue > f.now && f.storedDue < due {
		due = f.storedDue
	}
	return max(due, f.now+us(minDue))
}

// storeMeasures writes customer_measures rows, replacing what was there.
func storeMeasures(ctx context.Context, tx *tx, rows []measuredCustomer) error {
	if len(rows) == 0 {
		return nil
	}
	args := make([]any, 0, len(rows)*measureColumnCount)
	row := "(" + placeholders(measureColumnCount) + ")"
	values := make([]byte, 0, len(rows)*(len(row)+2))
	for i, r := range rows {
		if i > 0 {
			values = append(values, ", "...)
		}
		values = append(values, row...)
		var last any
		if r.last != 0 {
			last = r.last
		}
		args = append(args, r.id, r.health.Value, r.risk.Value, r.healthJSON, r.riskJSON, r.m.Moments30d, r.m.Moments90d,
			r.m.Moments365d, r.m.Rated90d, nullFloat(r.m.Rating90d), r.ratedPrior, nullFloat(r.m.RatingPrior90d), r.m.Magic90d,
			r.m.Misery30d, r.m.Misery90d, r.m.Holdings, r.m.Revenue365d, r.m.Cost365d, r.m.Referrals, last,
			r.computed, r.due, r.miseryJSON,
			r.stage, r.profile.kind, r.profile.owner, r.profile.referredBy, r.created)
	}
	set := ""
	for i, col := range splitColumns(measureColumns + ", " + profileColumns) {
		if i > 0 {
			set += ", "
		}
		set += col + " = excluded." + col
	}
	_, err := tx.exec(ctx, `INSERT INTO customer_measures (customer_id, `+measureColumns+`, `+profileColumns+`) VALUES `+string(values)+
		` ON CONFLICT (customer_id) DO UPDATE SET `+set, args...)
	return err
}

// splitColumns turns "a, b,\n\tc" into its column names.
func splitColumns(cols string) []string {
	return strings.Fields(strings.ReplaceAll(cols, ",", " "))
}

func nullFloat(p *float64) any {
	if p == nil || math.IsNaN(*p) {
		return nil
	}
	return *p
}

// CustomerScore is a customer's health and risk as the figures stood at a time.
type CustomerScore struct {
	CustomerID string
	Stage      string
	CreatedAt  time.Time
	Health     int
	Risk       int
}

// ScoreAsOf works out every customer's health and risk as the figures stood
// at a past time (their moments, holdings, referrals and stage up to then),
// storing nothing, so that the scores can be checked against what happened
// next. Misery is weighted by touchpoint impact as last measured: to check
// honestly, measure impact as of that time first, with a database whose
// clock reads it. Customers who joined later are left out.
func (s *HealthService) ScoreAsOf(ctx context.Context, at time.Time) ([]CustomerScore, error) {
	q := s.db.reader()
	weights, err := loadMiseryWeights(ctx, q)
	if err != nil {
		return nil, err
	}
	rules, err := loadStageRules(ctx, q)
	if err != nil {
		return nil, err
	}
	var out []CustomerScore
	after := ""
	for {
		ids, err := queryIDs(ctx, q, `SELECT id FROM customers WHERE id > ? ORDER BY id LIMIT ?`, after, insertChunk)
		if err != nil || len(ids) == 0 {
			return out, err
		}
		after = ids[len(ids)-1]
		facts, err := gatherFacts(ctx, q, ids, at, true, nil)
		if err != nil {
			return nil, err
		}
		for _, f := range facts {
			m := measure(f, weights, *rules)
			out = append(out, CustomerScore{CustomerID: f.id, Stage: f.stage, CreatedAt: fromMicros(f.created),
				Health: m.health.Value, Risk: m.risk.Value})
		}
	}
}

// addRecorded gives each customer whose stored figures are still current
// (due after now) those figures with the recorded moments added, and
// returns the customers whose figures must be read afresh, in ids' order.
// Ratings are whole numbers, so a stored mean times its count gives back
// the exact sum.
func addRecorded(ctx context.Context, q querier, byID map[string]*customerFacts, ids []string, recorded map[string][]*rapport.Moment, now int64) ([]string, error) {
	idArgs := make([]any, len(ids))
	for i, id := range ids {
		idArgs[i] = id
	}
	current := map[string]bool{}
	err := eachRow(ctx, q, `SELECT customer_id, moments_30d, moments_90d, moments_365d, rated_90d, rating_90d, rated_prior_90d,
			rating_prior_90d, magic_90d, misery_30d, misery_90d, revenue_365d, cost_365d, referrals, last_moment_at, due_at,
			misery_recent
		FROM customer_measures WHERE customer_id IN (`+placeholders(len(ids))+`) AND due_at > ?`, append(idArgs, now),
		func(rows *sql.Rows) error {
			var id string
			var rating, prior sql.NullFloat64
			var last sql.NullInt64
			var c customerFacts
			var list string
			if err := rows.Scan(&id, &c.m30, &c.m90, &c.m365, &c.rated90, &rating, &c.ratedPrior, &prior, &c.magic90, &c.misery30,
				&c.misery90, &c.revenue365, &c.cost365, &c.referrals, &last, &c.storedDue, &list); err != nil {
				return err
			}
			var recent []storedMisery
			if err := json.Unmarshal([]byte(list), &recent); err != nil {
				return err
			}
			f := byID[id]
			if f == nil {
				return nil
			}
			current[id] = true
			f.m30, f.m90, f.m365, f.rated90, f.ratedPrior = c.m30, c.m90, c.m365, c.rated90, c.ratedPrior
			f.ratingSum90 = math.Round(rating.Float64 * float64(c.rated90))
			f.ratingSumPrior = math.Round(prior.Float64 * float64(c.ratedPrior))
			f.magic90, f.misery30, f.misery90, f.revenue365, f.cost365 = c.magic90, c.misery30, c.misery90, c.revenue365, c.cost365
			f.referrals, f.last, f.storedDue = c.referrals, last.Int64, c.storedDue
			f.misery = f.misery[:0]
			for _, m := range recent {
				f.misery = append(f.misery, miseryAt{touchpoint: m.Touchpoint, at: m.At})
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	t30, t90 := now-int64(window30/time.Microsecond), now-int64(window90/time.Microsecond)
	t180, t365 := now-int64(window180/time.Microsecond), now-int64(window365/time.Microsecond)
	earliest := func(dst *int64, t int64) {
		if *dst == 0 || t < *dst {
			*dst = t
		}
	}
	var full []string
	for _, id := range ids {
		f := byID[id]
		if f == nil {
			continue
		}
		if !current[id] {
			full = append(full, id)
			continue
		}
		for _, m := range recorded[id] {
			t := micros(m.OccurredAt)
			if t > now {
				earliest(&f.future, t)
				continue
			}
			f.last = max(f.last, t)
			misery, rated := m.Outcome == rapport.OutcomeMisery, m.Rating != nil
			if t >= t30 {
				f.m30++
				if misery {
					f.misery30++
				}
				earliest(&f.oldest30, t)
			}
			switch {
			case t >= t90:
				f.m90++
				if rated {
					f.rated90++
					f.ratingSum90 += float64(*m.Rating)
				}
				if m.Outcome == rapport.OutcomeMagic {
					f.magic90++
				}
				if misery {
					f.misery90++
					f.misery = append(f.misery, miseryAt{touchpoint: m.Touchpoint, at: t})
				}
				earliest(&f.oldest90, t)
			case t >= t180:
				if rated {
					f.ratedPrior++
					f.ratingSumPrior += float64(*m.Rating)
				}
				earliest(&f.oldestPrior, t)
			}
			if t >= t365 {
				f.m365++
				f.revenue365 += m.Revenue
				f.cost365 += m.Cost
				earliest(&f.oldest365, t)
			}
		}
	}
	return full, nil
}
