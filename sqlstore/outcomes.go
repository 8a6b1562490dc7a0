package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"sync"

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
// for the definition of every figure. It runs a few aggregate queries, each
// a single pass over one table (customers, their daily totals, holdings),
// limited to the segment's customers by a membership test worked out once.
func (s *OutcomeService) Outcomes(ctx context.Context, f rapport.OutcomeFilter) (*rapport.Outcomes, error) {
	fromDay, toDay, err := dayWindow(rapport.ReportFilter{From: f.From, To: f.To}, s.db.now())
	if err != nil {
		return nil, err
	}
	q := s.db.reader()
	from, to := fromDay*dayMicros, toDay*dayMicros
	priorFromDay := fromDay - (toDay - fromDay)
	priorFrom := priorFromDay * dayMicros
	out := &rapport.Outcomes{From: dayStart(fromDay), To: dayStart(toDay)}
	out.RevenueGrowth.PriorFrom = fromMicros(priorFrom)

	// in limits a query to the population: " AND col IN (…)" for a segment.
	in := func(col string) (string, []any) { return "", nil }
	population, whereArgs := ` FROM customers c`, []any(nil)
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
		population, whereArgs = segmentFrom+` WHERE `+cq.Where, cq.Args
		in = func(col string) (string, []any) {
			return ` AND ` + col + ` IN (SELECT c.id` + segmentFrom + ` WHERE ` + cq.Where + `)`, cq.Args
		}
	}

	// The queries are independent, each one pass over one table; they run
	// at once on the read pool.
	var (
		customers, activeStart, retained, priorCustomers, activeEnd nullableCount
		moments, rated, magic, misery, buyers, repeat               nullableCount
		multi, products, referrals, referrers                       nullableCount
		ratingSum, revenue, prior, cost                             float64
	)
	queries := []func() error{
		// Who was a customer when.
		func() error {
			var b sqlBuilder
			b.add(`SELECT
				SUM(CASE WHEN c.created_at < ? AND c.id NOT IN `, to)
			dissolvedAt(&b, from)
			b.add(` THEN 1 ELSE 0 END), SUM(CASE WHEN c.created_at < ? AND c.id NOT IN `, from)
			dissolvedAt(&b, from)
			b.add(` THEN 1 ELSE 0 END), SUM(CASE WHEN c.created_at < ? AND c.id NOT IN `, from)
			dissolvedAt(&b, from)
			b.add(` AND c.id NOT IN `)
			dissolvedAt(&b, to)
			b.add(` THEN 1 ELSE 0 END), SUM(CASE WHEN c.created_at < ? AND c.id NOT IN `, from)
			dissolvedAt(&b, priorFrom)
			b.add(` THEN 1 ELSE 0 END), SUM(CASE WHEN c.created_at < ? AND c.id NOT IN `, to)
			dissolvedAt(&b, to)
			b.add(` THEN 1 ELSE 0 END)`+population, whereArgs...)
			return q.queryRow(ctx, b.b.String(), b.args...).Scan(&customers, &activeStart, &retained, &priorCustomers, &activeEnd)
		},
		// Their moments, in the window and the one before: for every
		// customer from the running totals per touchpoint and day, for a
		// segment from each customer's daily totals.
		func() error {
			table, cond, args := `moment_stats`, "", []any(nil)
			if f.Segment != "" {
				table = `customer_day_stats`
				cond, args = in("customer_id")
			}
			return q.queryRow(ctx, `SELECT SUM(CASE WHEN day >= ? THEN moments ELSE 0 END), SUM(CASE WHEN day >= ? THEN rated ELSE 0 END),
					COALESCE(SUM(CASE WHEN day >= ? THEN rating_sum END), 0),
					SUM(CASE WHEN day >= ? THEN magic ELSE 0 END), SUM(CASE WHEN day >= ? THEN misery ELSE 0 END),
					COALESCE(SUM(CASE WHEN day >= ? THEN revenue END), 0), COALESCE(SUM(CASE WHEN day < ? THEN revenue END), 0),
					COALESCE(SUM(CASE WHEN day >= ? THEN cost END), 0)
				FROM `+table+` WHERE day >= ? AND day < ?`+cond,
				append([]any{fromDay, fromDay, fromDay, fromDay, fromDay, fromDay, fromDay, fromDay, priorFromDay, toDay}, args...)...).
				Scan(&moments, &rated, &ratingSum, &magic, &misery, &revenue, &prior, &cost)
		},
		// Who bought, and who bought again.
		func() error {
			cond, args := in("customer_id")
			return q.queryRow(ctx, `SELECT COUNT(*), SUM(CASE WHEN n >= 2 THEN 1 ELSE 0 END) FROM (SELECT customer_id, SUM(purchases) AS n
				FROM customer_day_stats WHERE purchases > 0 AND day >= ? AND day < ?`+cond+` GROUP BY customer_id) b`,
				append([]any{fromDay, toDay}, args...)...).Scan(&buyers, &repeat)
		},
		// What the customers not dissolved at the end held then.
		func() error {
			cond, args := in("customer_id")
			var b sqlBuilder
			b.add(`SELECT SUM(CASE WHEN n > 1 THEN 1 ELSE 0 END), COALESCE(SUM(n), 0) FROM (SELECT customer_id, COUNT(DISTINCT product) AS n
				FROM holdings WHERE started_at < ? AND (ended_at IS NULL OR ended_at >= ?)
					AND customer_id IN (SELECT id FROM customers WHERE created_at < ?) AND customer_id NOT IN `, to, to, to)
			dissolvedAt(&b, to)
			b.add(cond+` GROUP BY customer_id) h`, args...)
			return q.queryRow(ctx, b.b.String(), b.args...).Scan(&multi, &products)
		},
		// The new customers they referred.
		func() error {
			cond, args := in("referred_by")
			return q.queryRow(ctx, `SELECT COUNT(*), COUNT(DISTINCT referred_by) FROM customers
				WHERE referred_by IS NOT NULL AND created_at >= ? AND created_at < ?`+cond,
				append([]any{from, to}, args...)...).Scan(&referrals, &referrers)
		},
	}
	errs := make([]error, len(queries))
	var wg sync.WaitGroup
	for i, query := range queries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = query()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
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
	g.PriorCustomers, g.PriorRevenue, g.PriorPerCustomer = int(priorCustomers), prior, ratio(prior, float64(priorCustomers))
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
