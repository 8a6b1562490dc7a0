package sqlstore

import (
	"cmp"
	"context"
	"strings"

	"github.com/rapport-crm/rapport"
)

// customerDay is one row of customer_day_stats.
type customerDay struct {
	customer string
	day      int64
}

// customerDayTotals are a customer's moments of one day, summed.
type customerDayTotals struct {
	moments, rated, magic, misery, purchases int64
	ratingSum, revenue, cost                 float64
}

// customerDayColumns are customer_day_stats' totals, in the order of customerDayTotals.
const customerDayColumns = `moments, rated, rating_sum, magic, misery, purchases, revenue, cost`

// addCustomerDays adds moments to each customer's daily totals, or takes
// them away (sign -1), in key order so that concurrent writers on
// PostgreSQL take row locks in the same order.
func addCustomerDays(ctx context.Context, tx *tx, ms []signedMoment) error {
	groups := map[customerDay]*customerDayTotals{}
	for _, sm := range ms {
		m, n := sm.m, int64(sm.sign)
		k := customerDay{m.CustomerID, dayOf(m.OccurredAt)}
		g := groups[k]
		if g == nil {
			g = &customerDayTotals{}
			groups[k] = g
		}
		g.moments += n
		if m.Rating != nil {
			g.rated += n
			g.ratingSum += float64(n) * float64(*m.Rating)
		}
		switch m.Outcome {
		case rapport.OutcomeMagic:
			g.magic += n
		case rapport.OutcomeMisery:
			g.misery += n
		}
		if m.Revenue > 0 {
			g.purchases += n
		}
		g.revenue += float64(n) * m.Revenue
		g.cost += float64(n) * m.Cost
	}
	keys := sortedKeys(groups, func(a, b customerDay) int {
		return cmp.Or(strings.Compare(a.customer, b.customer), cmp.Compare(a.day, b.day))
	})
	var set strings.Builder
	for i, c := range splitColumns(customerDayColumns) {
		if i > 0 {
			set.WriteString(", ")
		}
		set.WriteString(c + " = customer_day_stats." + c + " + excluded." + c)
	}
	const perRow = 10
	for start := 0; start < len(keys); start += insertChunk {
		chunk := keys[start:min(start+insertChunk, len(keys))]
		var q strings.Builder
		q.WriteString(`INSERT INTO customer_day_stats (customer_id, day, ` + customerDayColumns + `) VALUES `)
		args := make([]any, 0, len(chunk)*perRow)
		for i, k := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(" + placeholders(perRow) + ")")
			g := groups[k]
			args = append(args, k.customer, k.day, g.moments, g.rated, g.ratingSum, g.magic, g.misery, g.purchases, g.revenue, g.cost)
		}
		q.WriteString(` ON CONFLICT (customer_id, day) DO UPDATE SET ` + set.String())
		if _, err := tx.exec(ctx, q.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// customerStaff is one row of customer_staff_stats.
type customerStaff struct{ customer, staff string }

// customerStaffTally is how many of a customer's moments one person served,
// and the latest.
type customerStaffTally struct{ moments, lastAt int64 }

// addCustomerStaff adds moments to the tally of who served each customer,
// or takes them away (sign -1), in key order as addCustomerDays does. A
// moment taken away leaves the latest time as it was: a change keeps the
// moment's time, and moments are removed only with their customer, whose
// tallies go with them.
func addCustomerStaff(ctx context.Context, tx *tx, ms []signedMoment) error {
	tallies := map[customerStaff]*customerStaffTally{}
	for _, sm := range ms {
		m := sm.m
		if m.StaffID == "" {
			continue
		}
		k := customerStaff{m.CustomerID, m.StaffID}
		t := tallies[k]
		if t == nil {
			t = &customerStaffTally{}
			tallies[k] = t
		}
		t.moments += int64(sm.sign)
		t.lastAt = max(t.lastAt, micros(m.OccurredAt))
	}
	keys := sortedKeys(tallies, func(a, b customerStaff) int {
		return cmp.Or(strings.Compare(a.customer, b.customer), strings.Compare(a.staff, b.staff))
	})
	rows := make([][]any, len(keys))
	for i, k := range keys {
		t := tallies[k]
		rows[i] = []any{k.customer, k.staff, t.moments, t.lastAt}
	}
	return upsertRows(ctx, tx, `INSERT INTO customer_staff_stats (customer_id, staff_id, moments, last_at) VALUES`,
		` ON CONFLICT (customer_id, staff_id) DO UPDATE SET moments = customer_staff_stats.moments + excluded.moments,
			last_at = CASE WHEN excluded.last_at > customer_staff_stats.last_at THEN excluded.last_at ELSE customer_staff_stats.last_at END`,
		rows)
}

// rebuildCustomerDays recomputes every customer's daily totals, and who
// served them, from the moments.
func rebuildCustomerDays(ctx context.Context, tx *tx) error {
	if _, err := tx.exec(ctx, `DELETE FROM customer_day_stats`); err != nil {
		return err
	}
	_, err := tx.exec(ctx, `INSERT INTO customer_day_stats (customer_id, day, `+customerDayColumns+`)
		SELECT customer_id, occurred_at / 86400000000, COUNT(*), COUNT(rating), COALESCE(SUM(rating), 0),
			SUM(CASE WHEN outcome = 'magic' THEN 1 ELSE 0 END), SUM(CASE WHEN outcome = 'misery' THEN 1 ELSE 0 END),
			SUM(CASE WHEN revenue > 0 THEN 1 ELSE 0 END), SUM(revenue), SUM(cost)
		FROM moments
		GROUP BY customer_id, occurred_at / 86400000000`)
	if err != nil {
		return err
	}
	if _, err := tx.exec(ctx, `DELETE FROM customer_staff_stats`); err != nil {
		return err
	}
	_, err = tx.exec(ctx, `INSERT INTO customer_staff_stats (customer_id, staff_id, moments, last_at)
		SELECT customer_id, staff_id, COUNT(*), MAX(occurred_at) FROM moments
		WHERE staff_id IS NOT NULL GROUP BY customer_id, staff_id`)
	return err
}
