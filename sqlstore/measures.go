package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"maps"
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
	// silenceRescore is how often a customer's risk is worked out again
	// for their silence alone.
	silenceRescore = 7 * oneDay
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

// findHealth reads a customer's stored health and risk, their factors and
// the measures behind them.
func findHealth(ctx context.Context, q querier, customerID string) (*rapport.CustomerHealth, error) {
	h := rapport.CustomerHealth{CustomerID: customerID}
	var hf, rf string
	var last sql.NullInt64
	var computed int64
	m := &h.Measures
	list, dests := selectList([]column{
		{`c.stage`, &h.Stage},
		{`m.health`, &h.Health},
		{`m.risk`, &h.Risk},
		{`m.health_factors`, &hf},
		{`m.risk_factors`, &rf},
		{`m.moments_30d`, &m.Moments30d},
		{`m.moments_90d`, &m.Moments90d},
		{`m.moments_365d`, &m.Moments365d},
		{`m.rated_90d`, &m.Rated90d},
		{`m.rating_90d`, &m.Rating90d},
		{`m.rating_prior_90d`, &m.RatingPrior90d},
		{`m.magic_90d`, &m.Magic90d},
		{`m.misery_30d`, &m.Misery30d},
		{`m.misery_90d`, &m.Misery90d},
		{`m.holdings`, &m.Holdings},
		{`m.revenue_365d`, &m.Revenue365d},
		{`m.cost_365d`, &m.Cost365d},
		{`m.referrals`, &m.Referrals},
		{`m.last_moment_at`, &last},
		{`m.computed_at`, &computed},
	})
	err := q.queryRow(ctx, `SELECT `+list+` FROM customer_measures m
		JOIN customers c ON c.id = m.customer_id WHERE m.customer_id = ?`, customerID).Scan(dests...)
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
	m.LastMomentAt = timePtr(last)
	h.ComputedAt = fromMicros(computed)
	return &h, nil
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
	for _, next := range sweepQueries(unmeasured != 0, checkReferrals) {
		if err := s.sweepKind(ctx, next, res); err != nil {
			return res, err
		}
	}
	if checkReferrals {
		s.referralsChecked.Store(true)
	}
	return res, nil
}

// sweepQuery gives the query, and its arguments but the last (a limit), of
// the next customers of one kind the sweep brings up to date.
type sweepQuery func(now time.Time) (string, []any)

// sweepQueries are the kinds of customer a sweep looks for, in order: those
// never measured (only if there may be some), those whose figures are due,
// and (with checkReferrals) those whose count of referrals is out of step.
func sweepQueries(unmeasured, checkReferrals bool) []sweepQuery {
	var qs []sweepQuery
	if unmeasured {
		qs = append(qs, func(time.Time) (string, []any) {
			return `SELECT c.id FROM customers c LEFT JOIN customer_measures m ON m.customer_id = c.id
				WHERE m.customer_id IS NULL ORDER BY c.id LIMIT ?`, nil
		})
	}
	qs = append(qs, func(now time.Time) (string, []any) {
		return `SELECT customer_id FROM customer_measures WHERE due_at <= ? ORDER BY due_at, customer_id LIMIT ?`,
			[]any{micros(now)}
	})
	if checkReferrals {
		qs = append(qs, func(time.Time) (string, []any) {
			return `SELECT m.customer_id FROM customer_measures m
				LEFT JOIN (SELECT referred_by, COUNT(*) AS n FROM customers WHERE referred_by IS NOT NULL GROUP BY referred_by) r
					ON r.referred_by = m.customer_id
				WHERE m.referrals <> COALESCE(r.n, 0) ORDER BY m.customer_id LIMIT ?`, nil
		})
	}
	return qs
}

// sweepKind brings the customers next finds up to date, a batch at a time
// in its own transaction, and counts them in res.
func (s *HealthService) sweepKind(ctx context.Context, next sweepQuery, res *rapport.SweepResult) error {
	seen := map[string]bool{}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		q, args := next(s.db.now())
		ids, err := queryIDs(ctx, s.db.reader(), q, append(args, insertChunk)...)
		if err != nil {
			return err
		}
		// A customer seen twice in one pass could not be brought up to
		// date (deleted meanwhile, or a clock gone backwards): stop.
		ids = slices.DeleteFunc(ids, func(id string) bool { return seen[id] })
		if len(ids) == 0 {
			return nil
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
			return err
		}
	}
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
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	if err := lockCustomers(ctx, tx, ids); err != nil {
		return res, err
	}
	sc, err := loadScoringFor(ctx, tx, infer)
	if err != nil {
		return res, err
	}
	for start := 0; start < len(ids); start += insertChunk {
		chunk := ids[start:min(start+insertChunk, len(ids))]
		if err := refreshChunk(ctx, tx, chunk, sc, recorded, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// lockCustomers makes transactions that measure the same customers take
// turns. Measuring reads a customer's figures (or moments) and writes the
// figures back; on PostgreSQL two transactions doing so at once would each
// miss the other's moments, and the one to commit last would leave its own
// figures without them. So each locks the customers first, in id order (no
// two can then wait for each other), with the lock that leaves the rows free
// for new moments to refer to. SQLite writes one transaction at a time.
func lockCustomers(ctx context.Context, tx *tx, ids []string) error {
	if tx.d.name != "postgres" {
		return nil
	}
	return inChunks(anys(ids), func(chunk []any) error {
		_, err := tx.exec(ctx, `SELECT id FROM customers WHERE id IN (`+placeholders(len(chunk))+`) ORDER BY id FOR NO KEY UPDATE`, chunk...)
		return err
	})
}

// scoring is what measuring needs besides the facts.
type scoring struct {
	// infer runs the stage rules; without it rules are the defaults, used
	// only for when figures next fall due.
	infer bool
	rules rapport.StageRules
	names touchpointNames
	model *analytics.RiskModel
}

func loadScoring(ctx context.Context, q querier, infer bool) (scoring, error) {
	sc := scoring{infer: infer, rules: rapport.DefaultStageRules()}
	if infer {
		r, err := loadStageRules(ctx, q)
		if err != nil {
			return sc, err
		}
		sc.rules = *r
	}
	var err error
	if sc.names, err = loadTouchpointNames(ctx, q); err != nil {
		return sc, err
	}
	sc.model, err = loadRiskModel(ctx, q)
	return sc, err
}

// loadScoringFor is loadScoring in a write transaction, where a change to
// moments consults the settings kept by the server (settings.go).
func loadScoringFor(ctx context.Context, tx *tx, infer bool) (scoring, error) {
	if tx.settingsVersion == nil {
		return loadScoring(ctx, tx.querier, infer)
	}
	sc := scoring{infer: infer, rules: rapport.DefaultStageRules()}
	if infer {
		r, err := cachedStageRules(ctx, tx)
		if err != nil {
			return sc, err
		}
		sc.rules = *r
	}
	var err error
	if sc.names, err = cachedTouchpointNames(ctx, tx); err != nil {
		return sc, err
	}
	sc.model, err = cachedRiskModel(ctx, tx)
	return sc, err
}

// refreshChunk measures a few customers (at most insertChunk), running the
// stage rules first if sc says so, and counts what it did in res.
func refreshChunk(ctx context.Context, tx *tx, ids []string, sc scoring, recorded map[string][]*rapport.Moment, res *rapport.SweepResult) error {
	facts, err := gatherFacts(ctx, tx.querier, ids, tx.now, false, recorded)
	if err != nil {
		return err
	}
	if sc.infer {
		if err := inferStages(ctx, tx, facts, sc.rules, res); err != nil {
			return err
		}
	}
	rows := make([]measuredCustomer, 0, len(facts))
	for _, f := range facts {
		rows = append(rows, measure(f, sc))
	}
	if err := storeMeasures(ctx, tx, rows); err != nil {
		return err
	}
	res.Customers += len(rows)
	return nil
}

// inferStages runs the stage rules on each customer in turn, counting the
// stages applied and proposed in res.
func inferStages(ctx context.Context, tx *tx, facts []*customerFacts, rules rapport.StageRules, res *rapport.SweepResult) error {
	for _, f := range facts {
		applied, proposed, err := inferStage(ctx, tx, f, rules)
		if err != nil {
			return err
		}
		if applied {
			res.StagesApplied++
		}
		if proposed {
			res.Proposals++
		}
	}
	return nil
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

// touchpointNames are the touchpoints' names by key, for explanations.
type touchpointNames map[string]string

func loadTouchpointNames(ctx context.Context, q querier) (touchpointNames, error) {
	names := touchpointNames{}
	err := eachRow(ctx, q, `SELECT key, name FROM touchpoints`, nil, func(rows *sql.Rows) error {
		var key, name string
		if err := rows.Scan(&key, &name); err != nil {
			return err
		}
		names[key] = name
		return nil
	})
	return names, err
}

// measuredCustomer is one row of customer_measures.
type measuredCustomer struct {
	id                       string
	stage                    string
	created                  int64
	profile                  customerProfile
	health, risk             analytics.Score
	m                        rapport.CustomerMeasures
	ratedPrior               int
	efforts, purchases       int
	effort                   *float64
	rated365, ratedCalm365   int
	rating365, ratingCalm365 *float64
	last, computed, due      int64
	healthJSON, riskJSON     string
	miseryJSON               string
}

// relationshipFacts turns stored facts into the scores' input.
func (f *customerFacts) relationshipFacts(names touchpointNames) analytics.RelationshipFacts {
	daysSince := func(t int64) float64 { return float64(f.now-t) / float64(oneDay/time.Microsecond) }
	rf := analytics.RelationshipFacts{
		Dissolved:  f.stage == rapport.StageDissolution,
		TenureDays: daysSince(f.created),
		HasMoment:  f.last != 0,
		Moments90:  int(f.m90),
		Rated90:    int(f.rated90), RatedPrior: int(f.ratedPrior),
		Magic90:  int(f.magic90),
		Products: f.products, EverHeld: f.everHeld, Referrals: int(f.referrals),
		Stage: f.stage, Efforts90: int(f.efforts90), Purchases365: int(f.purchases365), Rated365: int(f.rated365),
		RatedCalm365: int(f.ratedCalm365),
		Recovery:     f.recovery,
	}
	if f.rated365 > 0 {
		rf.Rating365 = f.ratingSum365 / float64(f.rated365)
	}
	if f.ratedCalm365 > 0 {
		rf.RatingCalm365 = f.ratingSumCalm365 / float64(f.ratedCalm365)
	}
	if f.efforts90 > 0 {
		rf.Effort90 = f.effortSum90 / float64(f.efforts90)
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
	nowSeconds := f.now / 1e6
	for _, key := range slices.Sorted(maps.Keys(f.misery)) {
		m := f.misery[key]
		name, ok := names[key]
		if !ok {
			name = key
		}
		rf.Misery = append(rf.Misery, analytics.MiseryGroup{Key: key, Touchpoint: name, N: int(m.n),
			LatestDaysAgo: daysSince(m.latest), SumDaysAgo: float64(m.n*nowSeconds-m.sumSeconds) / oneDay.Seconds()})
	}
	return rf
}

// measure works out a customer's figures, scores and when they next change.
func measure(f *customerFacts, sc scoring) measuredCustomer {
	rf := f.relationshipFacts(sc.names)
	risk, health := sc.model.Scores(rf)
	mc := measuredCustomer{id: f.id, stage: f.stage, created: f.created, profile: f.profile, health: health, risk: risk, last: f.last, computed: f.now,
		ratedPrior: int(f.ratedPrior), efforts: int(f.efforts90), purchases: int(f.purchases365), rated365: int(f.rated365), ratedCalm365: int(f.ratedCalm365)}
	if f.rated365 > 0 {
		r := rf.Rating365
		mc.rating365 = &r
	}
	if f.ratedCalm365 > 0 {
		r := rf.RatingCalm365
		mc.ratingCalm365 = &r
	}
	if f.efforts90 > 0 {
		e := rf.Effort90
		mc.effort = &e
	}
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
	mc.due = f.dueAt(sc.rules)
	mc.healthJSON, mc.riskJSON = factorsJSON(mc.health), factorsJSON(mc.risk)
	mc.miseryJSON = string(appendMiseryTallies(nil, f.misery))
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
	// Silence weighs on risk the longer it lasts; a week is close enough.
	consider(f.now + us(silenceRescore))
	after(quiet, time.Duration(rules.SilenceDays)*oneDay)
	after(f.created, 90*oneDay)
	after(f.created, time.Duration(rules.CommitmentYears*365*24)*time.Hour)
	after(f.lastEnded, time.Duration(rules.LapsedDays)*oneDay)
	if f.storedDue > f.now && f.storedDue < due {
		due = f.storedDue
	}
	return max(due, f.now+us(minDue))
}

// columns pairs each column of customer_measures with r's value for it.
func (r *measuredCustomer) columns() []columnValue {
	var last any
	if r.last != 0 {
		last = r.last
	}
	return []columnValue{
		{"customer_id", r.id},
		{"health", r.health.Value},
		{"risk", r.risk.Value},
		{"health_factors", r.healthJSON},
		{"risk_factors", r.riskJSON},
		{"moments_30d", r.m.Moments30d},
		{"moments_90d", r.m.Moments90d},
		{"moments_365d", r.m.Moments365d},
		{"rated_90d", r.m.Rated90d},
		{"rating_90d", nullFloat(r.m.Rating90d)},
		{"rated_prior_90d", r.ratedPrior},
		{"rating_prior_90d", nullFloat(r.m.RatingPrior90d)},
		{"magic_90d", r.m.Magic90d},
		{"misery_30d", r.m.Misery30d},
		{"misery_90d", r.m.Misery90d},
		{"holdings", r.m.Holdings},
		{"revenue_365d", r.m.Revenue365d},
		{"cost_365d", r.m.Cost365d},
		{"referrals", r.m.Referrals},
		{"last_moment_at", last},
		{"computed_at", r.computed},
		{"due_at", r.due},
		{"misery_recent", r.miseryJSON},
		{"efforts_90d", r.efforts},
		{"effort_90d", nullFloat(r.effort)},
		{"purchases_365d", r.purchases},
		{"rated_365d", r.rated365},
		{"rating_365d", nullFloat(r.rating365)},
		{"rated_calm_365d", r.ratedCalm365},
		{"rating_calm_365d", nullFloat(r.ratingCalm365)},
		// The customer's profile fields, copied for segment rules.
		{"stage", r.stage},
		{"kind", r.profile.kind},
		{"owner_id", r.profile.owner},
		{"referred_by", r.profile.referredBy},
		{"created_at", r.created},
	}
}

// storeMeasures writes customer_measures rows, replacing what was there.
func storeMeasures(ctx context.Context, tx *tx, rows []measuredCustomer) error {
	if len(rows) == 0 {
		return nil
	}
	var names []string
	for _, c := range rows[0].columns() {
		names = append(names, c.name)
	}
	row := "(" + placeholders(len(names)) + ")"
	args := make([]any, 0, len(rows)*len(names))
	values := make([]byte, 0, len(rows)*(len(row)+2))
	for i := range rows {
		if i > 0 {
			values = append(values, ", "...)
		}
		values = append(values, row...)
		for _, c := range rows[i].columns() {
			args = append(args, c.value)
		}
	}
	set := make([]string, 0, len(names)-1)
	for _, col := range names[1:] { // all but customer_id
		set = append(set, col+" = excluded."+col)
	}
	_, err := tx.exec(ctx, `INSERT INTO customer_measures (`+strings.Join(names, ", ")+`) VALUES `+string(values)+
		` ON CONFLICT (customer_id) DO UPDATE SET `+strings.Join(set, ", "), args...)
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
	sc, err := loadScoring(ctx, q, false)
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
			m := measure(f, sc)
			out = append(out, CustomerScore{CustomerID: f.id, Stage: f.stage, CreatedAt: fromMicros(f.created),
				Health: m.health.Value, Risk: m.risk.Value})
		}
	}
}
