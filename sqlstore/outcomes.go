package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rapport-crm/rapport"
)

// OutcomeService measures relationship outcomes over a window, for every
// customer or a segment's. It reads each customer's daily totals of moments
// (customer_day_stats), their holdings and their stage history: a segment is
// a set of customers, which the totals per touchpoint cannot be split by.
type OutcomeService struct{ db *DB }

// NewOutcomeService returns the outcomes of the customers in db.
func NewOutcomeService(db *DB) *OutcomeService { return &OutcomeService{db: db} }

var _ rapport.OutcomeService = (*OutcomeService)(nil)

// sqlBuilder writes SQL and keeps its arguments in the order of their
// placeholders.
type sqlBuilder struct {
	b    strings.Builder
	args []any
}

func (s *sqlBuilder) add(sql string, args ...any) {
	s.b.WriteString(sql)
	s.args = append(s.args, args...)
}

// dissolvedAt writes a query of the customers whose relationship stood
// dissolved just before t: whose latest stage change before t was to
// dissolution. It reads only the changes to dissolution (a small share),
// each with one look at the customer's later changes.
func dissolvedAt(b *sqlBuilder, t int64) {
	b.add(`SELECT s.customer_id FROM stage_changes s
		WHERE s.to_stage = 'dissolution' AND s.changed_at < ?
		AND NOT EXISTS (SELECT 1 FROM stage_changes s2 WHERE s2.customer_id = s.customer_id
			AND s2.changed_at < ? AND s2.changed_at > s.changed_at)`, t, t)
}

// outcomePart is one aggregate query of the outcomes report: one row, read
// into its targets.
type outcomePart struct {
	b       sqlBuilder
	targets []any
}

// snapshotAge is how long a measurement of outcomes answers the same
// question again; the periodic sweep measures the default windows afresh
// more often than that.
const snapshotAge = 15 * time.Minute

// snapshotsKept is how long an unused measurement is kept.
const snapshotsKept = 7 * 24 * time.Hour

// Outcomes answers with the outcomes of every customer, or a segment's (as
// it stands now), over a window of whole UTC days; see docs/relationships.md
// for the definition of every figure. A measurement of the same customers
// (the same rule) and window made in the last snapshotAge answers unless f
// asks for a fresh one; each new measurement is kept for the next reader.
func (s *OutcomeService) Outcomes(ctx context.Context, f rapport.OutcomeFilter) (*rapport.Outcomes, error) {
	now := s.db.now()
	fromDay, toDay, err := dayWindow(rapport.ReportFilter{From: f.From, To: f.To}, now)
	if err != nil {
		return nil, err
	}
	key := "everyone"
	var sg *rapport.Segment
	if f.Segment != "" {
		if sg, err = findSegment(ctx, s.db.reader(), f.Segment); err != nil {
			return nil, err
		}
		rule := sha256.Sum256([]byte(sg.Rule))
		key = "segment " + sg.ID + " " + hex.EncodeToString(rule[:12])
	}
	key += " " + strconv.FormatInt(fromDay, 10) + " " + strconv.FormatInt(toDay, 10)
	if !f.Fresh {
		out, err := s.snapshot(ctx, key, now.Add(-snapshotAge))
		if err != nil || out != nil {
			if out != nil && sg != nil {
				out.Segment = &rapport.SegmentRef{ID: sg.ID, Name: sg.Name, Rule: sg.Rule}
			}
			return out, err
		}
	}
	out, err := s.measure(ctx, sg, fromDay, toDay)
	if err != nil {
		return nil, err
	}
	out.MeasuredAt = now.Truncate(time.Microsecond)
	body, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	err = s.db.inTx(ctx, func(tx *tx) error {
		_, err := tx.exec(ctx, `INSERT INTO outcome_snapshots (key, measured_at, body) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET measured_at = excluded.measured_at, body = excluded.body`,
			key, micros(out.MeasuredAt), string(body))
		return err
	})
	return out, err
}

// snapshot returns the measurement kept under key if it was made after
// since, or nil.
func (s *OutcomeService) snapshot(ctx context.Context, key string, since time.Time) (*rapport.Outcomes, error) {
	var body string
	err := s.db.reader().queryRow(ctx, `SELECT body FROM outcome_snapshots WHERE key = ? AND measured_at > ?`,
		key, micros(since)).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out rapport.Outcomes
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RefreshOutcomes measures the default window afresh for every customer and
// for each segment, and forgets measurements unused for a week.
func (s *OutcomeService) RefreshOutcomes(ctx context.Context) (int, error) {
	sgs, err := NewSegmentService(s.db).FindSegments(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range append([]string{""}, segmentIDs(sgs)...) {
		_, err := s.Outcomes(ctx, rapport.OutcomeFilter{Segment: id, Fresh: true})
		if rapport.ErrorCode(err) == rapport.ENOTFOUND {
			continue // deleted meanwhile
		}
		if err != nil {
			return n, err
		}
		n++
	}
	err = s.db.inTx(ctx, func(tx *tx) error {
		_, err := tx.exec(ctx, `DELETE FROM outcome_snapshots WHERE measured_at < ?`, micros(tx.now.Add(-snapshotsKept)))
		return err
	})
	return n, err
}

func segmentIDs(sgs []*rapport.Segment) []string {
	ids := make([]string, len(sgs))
	for i, sg := range sgs {
		ids[i] = sg.ID
	}
	return ids
}

// measure works out the outcomes of every customer, or sg's members, over
// [fromDay, toDay).
//
// The report is a handful of one-row aggregates, none of which reads every
// customer: who had joined by a day is counted on an index, and who stood
// dissolved is worked out from the changes to dissolution alone, then
// subtracted. For everyone the parts run at once on the read pool; for a
// segment they run as one statement that evaluates the rule once, into a
// materialised list of members that every part reads.
func (s *OutcomeService) measure(ctx context.Context, sg *rapport.Segment, fromDay, toDay int64) (*rapport.Outcomes, error) {
	w := newOutcomeWindow(fromDay, toDay)
	pop, err := s.population(sg)
	if err != nil {
		return nil, err
	}
	var c outcomeCounts
	if err := runOutcomeParts(ctx, s.db.reader(), pop, c.parts(pop, w)); err != nil {
		return nil, err
	}
	out := c.outcomes(w)
	if err := s.checkHistory(ctx, w, &out.RevenueGrowth); err != nil {
		return nil, err
	}
	if sg != nil {
		out.Segment = &rapport.SegmentRef{ID: sg.ID, Name: sg.Name, Rule: sg.Rule}
	}
	return out, nil
}

// checkHistory keeps a revenue growth only when the firm's moments cover
// the whole window before: otherwise its revenue is that of a window that
// had hardly begun, and the growth (+41,041% on the demo firm's first
// year) says nothing.
func (s *OutcomeService) checkHistory(ctx context.Context, w outcomeWindow, g *rapport.OutcomeRevenueGrowth) error {
	var first sql.NullInt64
	if err := s.db.reader().queryRow(ctx, `SELECT MIN(occurred_at) FROM moments`).Scan(&first); err != nil {
		return fmt.Errorf("first moment: %w", err)
	}
	g.PriorCovered = first.Valid && first.Int64 < w.priorFrom+dayMicros
	if !g.PriorCovered {
		g.Growth = nil
	}
	return nil
}

// outcomeWindow is the window measured, [fromDay, toDay), and the window of
// the same length before it, as days and as times.
type outcomeWindow struct {
	fromDay, toDay, priorFromDay int64
	from, to, priorFrom          int64
}

func newOutcomeWindow(fromDay, toDay int64) outcomeWindow {
	prior := fromDay - (toDay - fromDay)
	return outcomeWindow{fromDay: fromDay, toDay: toDay, priorFromDay: prior,
		from: fromDay * dayMicros, to: toDay * dayMicros, priorFrom: prior * dayMicros}
}

// outcomePopulation is whom the outcomes count: every customer, or a
// segment's members materialised by with (as p).
type outcomePopulation struct {
	segment bool
	with    sqlBuilder
	// people is the population with its join dates.
	people string
	// member limits a column to the population.
	member func(col string) string
}

func (s *OutcomeService) population(sg *rapport.Segment) (*outcomePopulation, error) {
	pop := &outcomePopulation{people: "customers", member: func(string) string { return "" }}
	if sg == nil {
		return pop, nil
	}
	cq, err := s.db.compileRule(sg.Rule)
	if err != nil {
		return nil, err
	}
	pop.segment = true
	pop.with.add(`WITH p AS MATERIALIZED (SELECT m.customer_id AS id, m.created_at`+segmentFrom(cq)+` WHERE `+cq.Where+`) `, cq.Args...)
	pop.people = "p"
	pop.member = func(col string) string { return ` AND ` + col + ` IN (SELECT id FROM p)` }
	return pop, nil
}

// outcomeCounts are the figures the one-row aggregates of the outcomes
// report read, from which every outcome is worked out.
type outcomeCounts struct {
	joinedByTo, joinedByFrom                                       nullableCount
	dissolvedFrom, dissolvedTo, dissolvedPrior, leftOrGone         nullableCount
	moments, rated, magic, misery, buyers, repeat                  nullableCount
	multi, products, multiGone, productsGone, referrals, referrers nullableCount
	ratingSum, revenue, prior, cost                                float64
}

// parts are the aggregate queries that fill c.
func (c *outcomeCounts) parts(pop *outcomePopulation, w outcomeWindow) []*outcomePart {
	return []*outcomePart{
		c.joinedPart(pop, w),
		c.dissolvedPart(pop, w),
		c.momentsPart(pop, w),
		c.buyersPart(pop, w),
		c.heldPart(pop, w, &c.multi, &c.products, &sqlBuilder{}),
		c.heldPart(pop, w, &c.multiGone, &c.productsGone, goneAt(w.to)),
		c.referralsPart(pop, w),
	}
}

// joinedPart counts who had joined by the start and by the end.
func (c *outcomeCounts) joinedPart(pop *outcomePopulation, w outcomeWindow) *outcomePart {
	p := &outcomePart{targets: []any{&c.joinedByTo, &c.joinedByFrom}}
	p.b.add(`SELECT (SELECT COUNT(*) FROM `+pop.people+` WHERE created_at < ?), (SELECT COUNT(*) FROM `+pop.people+` WHERE created_at < ?)`, w.to, w.from)
	return p
}

// dissolvedPart counts who stood dissolved at the start, the end and the
// start of the prior window, and who of those who had joined by the start
// was dissolved at the start or the end. A dissolution lasts from its
// change until the customer's next change; whoever stood dissolved at a
// time had joined before it, so these are subtracted from the counts of
// who had joined.
func (c *outcomeCounts) dissolvedPart(pop *outcomePopulation, w outcomeWindow) *outcomePart {
	p := &outcomePart{targets: []any{&c.dissolvedFrom, &c.dissolvedTo, &c.dissolvedPrior, &c.leftOrGone}}
	covers := func(t int64) (string, []any) {
		return `since < ? AND (until IS NULL OR until >= ?)`, []any{t, t}
	}
	cf, af := covers(w.from)
	ct, at := covers(w.to)
	cp, ap := covers(w.priorFrom)
	p.b.add(`SELECT COUNT(DISTINCT CASE WHEN `+cf+` THEN customer_id END), `, af...)
	p.b.add(`COUNT(DISTINCT CASE WHEN `+ct+` THEN customer_id END), `, at...)
	p.b.add(`COUNT(DISTINCT CASE WHEN `+cp+` THEN customer_id END), `, ap...)
	p.b.add(`COUNT(DISTINCT CASE WHEN (`+cf+`) OR (created_at < ? AND `+ct+`) THEN customer_id END)`, append(append(af, w.from), at...)...)
	p.b.add(` FROM (SELECT s.customer_id, s.changed_at AS since, c.created_at,
			(SELECT MIN(s2.changed_at) FROM stage_changes s2 WHERE s2.customer_id = s.customer_id AND s2.changed_at > s.changed_at) AS until
		FROM stage_changes s JOIN `+pop.people+` c ON c.id = s.customer_id
		WHERE s.to_stage = 'dissolution' AND s.changed_at < ?) d`, w.to)
	return p
}

// momentsPart sums their moments, in the window and the one before: for
// every customer from the running totals per touchpoint and day, for a
// segment from each customer's daily totals.
func (c *outcomeCounts) momentsPart(pop *outcomePopulation, w outcomeWindow) *outcomePart {
	p := &outcomePart{targets: []any{&c.moments, &c.rated, &c.ratingSum, &c.magic, &c.misery, &c.revenue, &c.prior, &c.cost}}
	table := `moment_stats`
	if pop.segment {
		table = `customer_day_stats`
	}
	from := w.fromDay
	p.b.add(`SELECT SUM(CASE WHEN day >= ? THEN moments ELSE 0 END), SUM(CASE WHEN day >= ? THEN rated ELSE 0 END),
			COALESCE(SUM(CASE WHEN day >= ? THEN rating_sum END), 0),
			SUM(CASE WHEN day >= ? THEN magic ELSE 0 END), SUM(CASE WHEN day >= ? THEN misery ELSE 0 END),
			COALESCE(SUM(CASE WHEN day >= ? THEN revenue END), 0), COALESCE(SUM(CASE WHEN day < ? THEN revenue END), 0),
			COALESCE(SUM(CASE WHEN day >= ? THEN cost END), 0)
		FROM `+table+` WHERE day >= ? AND day < ?`+pop.member("customer_id"),
		from, from, from, from, from, from, from, from, w.priorFromDay, w.toDay)
	return p
}

// buyersPart counts who bought, and who bought again.
func (c *outcomeCounts) buyersPart(pop *outcomePopulation, w outcomeWindow) *outcomePart {
	p := &outcomePart{targets: []any{&c.buyers, &c.repeat}}
	p.b.add(`SELECT COUNT(*), SUM(CASE WHEN n >= 2 THEN 1 ELSE 0 END) FROM (SELECT customer_id, SUM(purchases) AS n
		FROM customer_day_stats WHERE purchases > 0 AND day >= ? AND day < ?`+pop.member("customer_id")+` GROUP BY customer_id) b`,
		w.fromDay, w.toDay)
	return p
}

// heldPart counts who held more than one product at the end, and the
// products held, of the customers cond selects. What the customers who had
// joined and were not dissolved at the end held is what everyone held, less
// what those who had not joined or stood dissolved held (goneAt): the few
// of them are looked up one by one rather than every holding tested
// against them.
func (c *outcomeCounts) heldPart(pop *outcomePopulation, w outcomeWindow, multi, products *nullableCount, cond *sqlBuilder) *outcomePart {
	p := &outcomePart{targets: []any{multi, products}}
	p.b.add(`SELECT SUM(CASE WHEN n > 1 THEN 1 ELSE 0 END), COALESCE(SUM(n), 0) FROM (SELECT customer_id, COUNT(DISTINCT product) AS n
			FROM holdings WHERE started_at < ? AND (ended_at IS NULL OR ended_at >= ?)`+pop.member("customer_id"), w.to, w.to)
	p.b.add(cond.b.String()+` GROUP BY customer_id) h`, cond.args...)
	return p
}

// goneAt limits holdings to the customers who had not joined by t or stood
// dissolved just before it.
func goneAt(t int64) *sqlBuilder {
	var gone sqlBuilder
	gone.add(` AND customer_id IN (SELECT id FROM customers WHERE created_at >= ? UNION `, t)
	dissolvedAt(&gone, t)
	gone.add(`)`)
	return &gone
}

// referralsPart counts the new customers they referred, and who referred them.
func (c *outcomeCounts) referralsPart(pop *outcomePopulation, w outcomeWindow) *outcomePart {
	p := &outcomePart{targets: []any{&c.referrals, &c.referrers}}
	p.b.add(`SELECT COUNT(*), COUNT(DISTINCT referred_by) FROM customers
		WHERE referred_by IS NOT NULL AND created_at >= ? AND created_at < ?`+pop.member("referred_by"), w.from, w.to)
	return p
}

// runOutcomeParts runs the parts: for everyone at once on the read pool;
// for a segment as one statement, the parts cross-joined (each one row)
// after the WITH that materialises the members.
func runOutcomeParts(ctx context.Context, q querier, pop *outcomePopulation, parts []*outcomePart) error {
	if !pop.segment {
		return runParts(ctx, q, parts)
	}
	var all sqlBuilder
	var targets []any
	all.add(pop.with.b.String()+`SELECT * FROM `, pop.with.args...)
	for i, p := range parts {
		if i > 0 {
			all.add(` CROSS JOIN `)
		}
		all.add(`(`+p.b.b.String()+`) AS part`+strconv.Itoa(i), p.b.args...)
		targets = append(targets, p.targets...)
	}
	return q.queryRow(ctx, all.b.String(), all.args...).Scan(targets...)
}

// outcomes works the outcomes out from the counts.
func (c *outcomeCounts) outcomes(w outcomeWindow) *rapport.Outcomes {
	out := &rapport.Outcomes{From: dayStart(w.fromDay), To: dayStart(w.toDay)}
	customers := c.joinedByTo - c.dissolvedFrom
	activeStart := c.joinedByFrom - c.dissolvedFrom
	retained := c.joinedByFrom - c.leftOrGone
	priorCustomers := c.joinedByFrom - c.dissolvedPrior
	activeEnd := c.joinedByTo - c.dissolvedTo
	multi, products := c.multi-c.multiGone, c.products-c.productsGone

	out.Customers = int(customers)
	out.Satisfaction = rapport.OutcomeSatisfaction{Moments: int(c.moments), Rated: int(c.rated),
		MeanRating: ratio(c.ratingSum, float64(c.rated)), MagicRate: ratio(float64(c.magic), float64(c.moments)),
		MiseryRate: ratio(float64(c.misery), float64(c.moments))}
	out.Loyalty = rapport.OutcomeLoyalty{Buyers: int(c.buyers), RepeatBuyers: int(c.repeat),
		RepeatRate: ratio(float64(c.repeat), float64(c.buyers))}
	out.Retention = rapport.OutcomeRetention{ActiveAtStart: int(activeStart), Retained: int(retained),
		Rate: ratio(float64(retained), float64(activeStart))}
	out.Referrals = rapport.OutcomeReferrals{Count: int(c.referrals), Referrers: int(c.referrers),
		Rate: ratio(float64(c.referrers), float64(customers))}
	g := &out.RevenueGrowth
	g.PriorFrom = fromMicros(w.priorFrom)
	g.Revenue, g.PerCustomer = c.revenue, ratio(c.revenue, float64(customers))
	g.PriorCustomers, g.PriorRevenue, g.PriorPerCustomer = int(priorCustomers), c.prior, ratio(c.prior, float64(priorCustomers))
	if g.PerCustomer != nil && g.PriorPerCustomer != nil && *g.PriorPerCustomer > 0 {
		growth := *g.PerCustomer / *g.PriorPerCustomer - 1
		g.Growth = &growth
	}
	out.CrossSell = rapport.OutcomeCrossSell{Customers: int(activeEnd), MultiProduct: int(multi),
		Rate: ratio(float64(multi), float64(activeEnd)), ProductsPerCustomer: ratio(float64(products), float64(activeEnd))}
	out.CostToServe = rapport.OutcomeCostToServe{Cost: c.cost, PerCustomer: ratio(c.cost, float64(customers)),
		PerMoment: ratio(c.cost, float64(c.moments))}
	return out
}

// runParts runs independent one-row queries at once on the read pool.
func runParts(ctx context.Context, q querier, parts []*outcomePart) error {
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = q.queryRow(ctx, p.b.b.String(), p.b.args...).Scan(p.targets...)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// nullableCount scans a SUM that is NULL over no rows as 0.
type nullableCount int64

func (n *nullableCount) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*n = 0
	case int64:
		*n = nullableCount(v)
	case float64:
		*n = nullableCount(v)
	case []byte:
		return n.Scan(string(v))
	case string:
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return err
		}
		*n = nullableCount(x)
	default:
		return errUnexpectedCount
	}
	return nil
}

var errUnexpectedCount = rapport.Errorf(rapport.EINTERNAL, "a count came back as an unexpected type")

// ratio is a/b, or nil when b is 0.
func ratio(a, b float64) *float64 {
	if b == 0 {
		return nil
	}
	r := a / b
	return &r
}

// segmentTouchpointStats sums, per touchpoint, the moments of a segment's
// customers (as it stands now) over whole days [fromDay, toDay), as
// sumStats sums the running totals: those cannot be split by customer, so a
// segment's touchpoint report reads the moments themselves.
func (db *DB) segmentTouchpointStats(ctx context.Context, f rapport.ReportFilter, fromDay, toDay int64) (map[string]stats, error) {
	q := db.reader()
	members, memberArgs, _, err := db.segmentCustomers(ctx, q, f.Segment)
	if err != nil {
		return nil, err
	}
	query := `SELECT touchpoint, ` + momentSums + `
		FROM moments WHERE occurred_at >= ? AND occurred_at < ?`
	args := []any{fromDay * dayMicros, toDay * dayMicros}
	if f.Channel != "" {
		query, args = query+` AND channel = ?`, append(args, string(f.Channel))
	}
	query, args = query+` AND customer_id IN (`+members+`) GROUP BY touchpoint`, append(args, memberArgs...)
	return statsByKey(ctx, q, query, args)
}

// momentSums are the sums over a set of moments that a stats holds, in the
// order of its scanTargets.
const momentSums = `COUNT(*),
			SUM(CASE WHEN outcome = 'magic' THEN 1 ELSE 0 END), SUM(CASE WHEN outcome = 'neutral' THEN 1 ELSE 0 END),
			SUM(CASE WHEN outcome = 'misery' THEN 1 ELSE 0 END),
			COUNT(rating), COALESCE(SUM(rating), 0), COALESCE(SUM(rating * rating), 0), COUNT(effort), COALESCE(SUM(effort), 0),
			COUNT(nps), SUM(CASE WHEN nps >= 9 THEN 1 ELSE 0 END), SUM(CASE WHEN nps <= 6 THEN 1 ELSE 0 END),
			SUM(revenue), SUM(cost)`

// statsByKey runs query, whose rows are a key and then momentSums, and
// returns the stats of each key.
func statsByKey(ctx context.Context, q querier, query string, args []any) (map[string]stats, error) {
	totals := map[string]stats{}
	err := eachRow(ctx, q, query, args, func(rows *sql.Rows) error {
		var key string
		var st stats
		if err := rows.Scan(append([]any{&key}, st.scanTargets()...)...); err != nil {
			return err
		}
		totals[key] = st
		return nil
	})
	return totals, err
}
