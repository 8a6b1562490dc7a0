package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/rapport-crm/rapport"
)

// OutcomeService measures relationship outcomes over a window, for every
// customer or a segment's. It reads moments, holdings and stage history
// themselves (not the running totals), since a segment is a set of customers
// that the totals per touchpoint and day cannot be split by.
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

// dissolvedAt selects the customers whose relationship stood dissolved just
// before t: whose latest stage change before t was to dissolution.
func dissolvedAt(b *sqlBuilder, t int64) {
	b.add(`(SELECT DISTINCT s.customer_id FROM stage_changes s
		WHERE s.to_stage = 'dissolution' AND s.changed_at < ?
		AND NOT EXISTS (SELECT 1 FROM stage_changes s2 WHERE s2.customer_id = s.customer_id
			AND s2.changed_at < ? AND s2.changed_at > s.changed_at))`, t, t)
}

// Outcomes measures the outcomes of every customer, or a segment's (as it
// stands now), over a window of whole UTC days; see docs/relationships.md
// for the definition of every figure.
func (s *OutcomeService) Outcomes(ctx context.Context, f rapport.OutcomeFilter) (*rapport.Outcomes, error) {
	fromDay, toDay, err := dayWindow(rapport.ReportFilter{From: f.From, To: f.To}, s.db.now())
	if err != nil {
		return nil, err
	}
	q := s.db.reader()
	from, to := fromDay*dayMicros, toDay*dayMicros
	priorFrom := from - (to - from)
	out := &rapport.Outcomes{From: dayStart(fromDay), To: dayStart(toDay)}
	out.RevenueGrowth.PriorFrom = fromMicros(priorFrom)

	var b sqlBuilder
	b.add(`SELECT
		SUM(CASE WHEN c.created_at < ? AND df.customer_id IS NULL THEN 1 ELSE 0 END),
		SUM(CASE WHEN c.created_at < ? AND df.customer_id IS NULL THEN 1 ELSE 0 END),
		SUM(CASE WHEN c.created_at < ? AND df.customer_id IS NULL AND dt.customer_id IS NULL THEN 1 ELSE 0 END),
		SUM(CASE WHEN c.created_at < ? AND dp.customer_id IS NULL THEN 1 ELSE 0 END),
		SUM(CASE WHEN c.created_at < ? AND dt.customer_id IS NULL THEN 1 ELSE 0 END),
		SUM(CASE WHEN c.created_at < ? AND dt.customer_id IS NULL AND h.n > 1 THEN 1 ELSE 0 END),
		COALESCE(SUM(CASE WHEN c.created_at < ? AND dt.customer_id IS NULL THEN h.n END), 0),
		COALESCE(SUM(mo.moments), 0), COALESCE(SUM(mo.rated), 0), COALESCE(SUM(mo.rating_sum), 0),
		COALESCE(SUM(mo.magic), 0), COALESCE(SUM(mo.misery), 0),
		SUM(CASE WHEN mo.purchases >= 1 THEN 1 ELSE 0 END), SUM(CASE WHEN mo.purchases >= 2 THEN 1 ELSE 0 END),
		COALESCE(SUM(mo.revenue), 0), COALESCE(SUM(mo.prior_revenue), 0), COALESCE(SUM(mo.cost), 0),
		COALESCE(SUM(r.n), 0), SUM(CASE WHEN r.n > 0 THEN 1 ELSE 0 END)`,
		to, from, from, from, to, to, to)
	b.add(segmentFrom + ` LEFT JOIN `)
	dissolvedAt(&b, from)
	b.add(` df ON df.customer_id = c.id LEFT JOIN `)
	dissolvedAt(&b, to)
	b.add(` dt ON dt.customer_id = c.id LEFT JOIN `)
	dissolvedAt(&b, priorFrom)
	b.add(` dp ON dp.customer_id = c.id
		LEFT JOIN (SELECT customer_id,
				SUM(CASE WHEN occurred_at >= ? THEN 1 ELSE 0 END) AS moments,
				SUM(CASE WHEN occurred_at >= ? AND rating IS NOT NULL THEN 1 ELSE 0 END) AS rated,
				COALESCE(SUM(CASE WHEN occurred_at >= ? THEN rating END), 0) AS rating_sum,
				SUM(CASE WHEN occurred_at >= ? AND outcome = 'magic' THEN 1 ELSE 0 END) AS magic,
				SUM(CASE WHEN occurred_at >= ? AND outcome = 'misery' THEN 1 ELSE 0 END) AS misery,
				SUM(CASE WHEN occurred_at >= ? AND revenue > 0 THEN 1 ELSE 0 END) AS purchases,
				COALESCE(SUM(CASE WHEN occurred_at >= ? THEN revenue END), 0) AS revenue,
				COALESCE(SUM(CASE WHEN occurred_at < ? THEN revenue END), 0) AS prior_revenue,
				COALESCE(SUM(CASE WHEN occurred_at >= ? THEN cost END), 0) AS cost
			FROM moments WHERE occurred_at >= ? AND occurred_at < ? GROUP BY customer_id) mo ON mo.customer_id = c.id
		LEFT JOIN (SELECT customer_id, COUNT(DISTINCT product) AS n FROM holdings
			WHERE started_at < ? AND (ended_at IS NULL OR ended_at >= ?) GROUP BY customer_id) h ON h.customer_id = c.id
		LEFT JOIN (SELECT referred_by, COUNT(*) AS n FROM customers
			WHERE referred_by IS NOT NULL AND created_at >= ? AND created_at < ? GROUP BY referred_by) r ON r.referred_by = c.id`,
		from, from, from, from, from, from, from, from, from, priorFrom, to, to, to, from, to)
	if f.Segment != "" {
		sg, err := findSegment(ctx, q, f.Segment)
		if err != nil {
			return nil, err
		}
		cq, err := s.db.compileRule(sg.Rule)
		if err != nil {
			return nil, err
		}
		out.Segment = &rapport.SegmentRef{ID: sg.ID, Name: sg.Name, Rule: sg.Rule}
		b.add(` WHERE `+cq.Where, cq.Args...)
	}

	var (
		customers, activeStart, retained, priorCustomers, activeEnd, multi, products int64
		moments, rated, magic, misery, buyers, repeat, referrals, referrers          nullableCount
		ratingSum, revenue, priorRevenue, cost                                       float64
	)
	err = q.queryRow(ctx, b.b.String(), b.args...).Scan(
		(*nullableCount)(&customers), (*nullableCount)(&activeStart), (*nullableCount)(&retained), (*nullableCount)(&priorCustomers),
		(*nullableCount)(&activeEnd), (*nullableCount)(&multi), &products,
		&moments, &rated, &ratingSum, &magic, &misery, &buyers, &repeat, &revenue, &priorRevenue, &cost, &referrals, &referrers)
	if err != nil {
		return nil, err
	}
	out.Customers = int(customers)
	out.Satisfaction = rapport.OutcomeSatisfaction{Moments: int(moments), Rated: int(rated),
		MeanRating: ratio(ratingSum, float64(rated)), MagicRate: ratio(float64(magic), float64(moments)),
		MiseryRate: ratio(float64(misery), float64(moments))}
	out.Loyalty = rapport.OutcomeLoyalty{Buyers: int(buyers), RepeatBuyers: int(repeat), RepeatRate: ratio(float64(repeat), float64(buyers))}
	out.Retention = rapport.OutcomeRetention{ActiveAtStart: int(activeStart), Retained: int(retained),
		Rate: ratio(float64(retained), float64(activeStart))}
	out.Referrals = rapport.OutcomeReferrals{Count: int(referrals), Referrers: int(referrers),
		Rate: ratio(float64(referrers), float64(customers))}
	g := &out.RevenueGrowth
	g.Revenue, g.PerCustomer = revenue, ratio(revenue, float64(customers))
	g.PriorCustomers, g.PriorRevenue, g.PriorPerCustomer = int(priorCustomers), priorRevenue, ratio(priorRevenue, float64(priorCustomers))
	if g.PerCustomer != nil && g.PriorPerCustomer != nil && *g.PriorPerCustomer > 0 {
		growth := *g.PerCustomer / *g.PriorPerCustomer - 1
		g.Growth = &growth
	}
	out.CrossSell = rapport.OutcomeCrossSell{Customers: int(activeEnd), MultiProduct: int(multi),
		Rate: ratio(float64(multi), float64(activeEnd)), ProductsPerCustomer: ratio(float64(products), float64(activeEnd))}
	out.CostToServe = rapport.OutcomeCostToServe{Cost: cost, PerCustomer: ratio(cost, float64(customers)),
		PerMoment: ratio(cost, float64(moments))}
	return out, nil
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
	query := `SELECT touchpoint, COUNT(*),
			SUM(CASE WHEN outcome = 'magic' THEN 1 ELSE 0 END), SUM(CASE WHEN outcome = 'neutral' THEN 1 ELSE 0 END),
			SUM(CASE WHEN outcome = 'misery' THEN 1 ELSE 0 END),
			COUNT(rating), COALESCE(SUM(rating), 0), COALESCE(SUM(rating * rating), 0), COUNT(effort), COALESCE(SUM(effort), 0),
			COUNT(nps), SUM(CASE WHEN nps >= 9 THEN 1 ELSE 0 END), SUM(CASE WHEN nps <= 6 THEN 1 ELSE 0 END),
			SUM(revenue), SUM(cost)
		FROM moments WHERE occurred_at >= ? AND occurred_at < ?`
	args := []any{fromDay * dayMicros, toDay * dayMicros}
	if f.Channel != "" {
		query, args = query+` AND channel = ?`, append(args, string(f.Channel))
	}
	query, args = query+` AND customer_id IN (`+members+`) GROUP BY touchpoint`, append(args, memberArgs...)
	totals := map[string]stats{}
	err = eachRow(ctx, q, query, args, func(rows *sql.Rows) error {
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
