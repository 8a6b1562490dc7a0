package sqlstore

import (
	"context"
	"database/sql"

	"github.com/rapport-crm/rapport"
)

// OfferReport measures what followed an offer for each of its customers,
// over each of rapport.OfferWindows from the start, and compares the arms.
// Every customer drawn counts in their arm, whether or not the offer was
// then given to them: the draw made the arms alike, and only the whole arm
// keeps them so.
func (s *OfferService) OfferReport(ctx context.Context, id string) (*rapport.OfferReport, error) {
	q := s.db.reader()
	o, err := findOffer(ctx, q, id)
	if err != nil {
		return nil, err
	}
	now := s.db.now()
	units, err := offerUnits(ctx, q, o)
	if err != nil {
		return nil, err
	}
	if err := offerStages(ctx, q, o, units); err != nil {
		return nil, err
	}
	if err := offerHoldings(ctx, q, o, units); err != nil {
		return nil, err
	}
	windows := make([]rapport.OfferWindowUnits, len(rapport.OfferWindows))
	for i, days := range rapport.OfferWindows {
		to := o.StartsAt.AddDate(0, 0, days)
		w := rapport.OfferWindowUnits{Days: days, From: o.StartsAt, To: to, Complete: !now.Before(to),
			Offered: []rapport.OfferUnit{}, Holdout: []rapport.OfferUnit{}}
		for _, u := range units.order {
			cu := units.byID[u]
			if cu.arm == rapport.ArmOffered {
				w.Offered = append(w.Offered, cu.windows[i])
			} else {
				w.Holdout = append(w.Holdout, cu.windows[i])
			}
		}
		windows[i] = w
	}
	return rapport.NewOfferReport(o, windows, now), nil
}

// offerCustomer is one assigned customer's arm and figures per window.
type offerCustomer struct {
	arm     string
	windows []rapport.OfferUnit
}

type offerCustomers struct {
	order []string
	byID  map[string]*offerCustomer
}

// offerUnits sums each assigned customer's moments in each window, in one
// reading of their moments from the start to the end of the longest.
func offerUnits(ctx context.Context, q querier, o *rapport.Offer) (offerCustomers, error) {
	out := offerCustomers{byID: map[string]*offerCustomer{}}
	var b sqlBuilder
	b.add(`SELECT a.customer_id, a.arm`)
	n := len(rapport.OfferWindows)
	for _, days := range rapport.OfferWindows {
		end := micros(o.StartsAt.AddDate(0, 0, days))
		// Satisfaction and purchases leave the offer's own moments out;
		// revenue and cost count them.
		own := ` AND m.touchpoint <> ?`
		b.add(`, SUM(CASE WHEN m.occurred_at < ?`+own+` THEN 1 ELSE 0 END)`, end, o.Touchpoint)
		b.add(`, SUM(CASE WHEN m.occurred_at < ?`+own+` AND m.outcome = 'magic' THEN 1 ELSE 0 END)`, end, o.Touchpoint)
		b.add(`, SUM(CASE WHEN m.occurred_at < ?`+own+` AND m.rating IS NOT NULL THEN 1 ELSE 0 END)`, end, o.Touchpoint)
		b.add(`, SUM(CASE WHEN m.occurred_at < ?`+own+` AND m.rating IS NOT NULL THEN m.rating ELSE 0 END)`, end, o.Touchpoint)
		b.add(`, SUM(CASE WHEN m.occurred_at < ?`+own+` AND m.revenue > 0 THEN 1 ELSE 0 END)`, end, o.Touchpoint)
		b.add(`, COALESCE(SUM(CASE WHEN m.occurred_at < ? THEN m.revenue ELSE 0 END), 0)`, end)
		b.add(`, COALESCE(SUM(CASE WHEN m.occurred_at < ? THEN m.cost ELSE 0 END), 0)`, end)
	}
	longest := micros(o.StartsAt.AddDate(0, 0, rapport.OfferWindows[n-1]))
	b.add(` FROM offer_assignments a LEFT JOIN moments m ON m.customer_id = a.customer_id AND m.occurred_at >= ? AND m.occurred_at < ?
		WHERE a.offer_id = ? GROUP BY a.customer_id, a.arm ORDER BY a.customer_id`, micros(o.StartsAt), longest, o.ID)
	err := eachRow(ctx, q, b.b.String(), b.args, func(rows *sql.Rows) error {
		c := &offerCustomer{windows: make([]rapport.OfferUnit, n)}
		var id string
		targets := []any{&id, &c.arm}
		ratingSums := make([]sql.NullFloat64, n)
		for i := range c.windows {
			u := &c.windows[i]
			targets = append(targets, &u.Moments, &u.Magic, &u.Rated, &ratingSums[i], &u.Purchases, &u.Revenue, &u.Cost)
		}
		if err := rows.Scan(targets...); err != nil {
			return err
		}
		for i := range c.windows {
			c.windows[i].RatingSum = ratingSums[i].Float64
		}
		out.order = append(out.order, id)
		out.byID[id] = c
		return nil
	})
	return out, err
}

// offerStages marks, per window, who was active at the start and retained
// at the end: not dissolved just before each time, by their latest stage
// change before it.
func offerStages(ctx context.Context, q querier, o *rapport.Offer, cs offerCustomers) error {
	type change struct {
		at        int64
		dissolved bool
	}
	changes := map[string][]change{}
	longest := micros(o.StartsAt.AddDate(0, 0, rapport.OfferWindows[len(rapport.OfferWindows)-1]))
	err := eachRow(ctx, q, `SELECT s.customer_id, s.to_stage, s.changed_at FROM stage_changes s
		JOIN offer_assignments a ON a.customer_id = s.customer_id AND a.offer_id = ?
		WHERE s.changed_at < ? ORDER BY s.customer_id, s.changed_at, s.id`, []any{o.ID, longest}, func(rows *sql.Rows) error {
		var id, stage string
		var at int64
		if err := rows.Scan(&id, &stage, &at); err != nil {
			return err
		}
		changes[id] = append(changes[id], change{at, stage == string(rapport.StageDissolution)})
		return nil
	})
	if err != nil {
		return err
	}
	dissolvedBefore := func(id string, t int64) bool {
		d := false
		for _, c := range changes[id] {
			if c.at < t {
				d = c.dissolved
			}
		}
		return d
	}
	start := micros(o.StartsAt)
	for id, c := range cs.byID {
		active := !dissolvedBefore(id, start)
		for i, days := range rapport.OfferWindows {
			c.windows[i].ActiveAtStart = active
			c.windows[i].Retained = active && !dissolvedBefore(id, micros(o.StartsAt.AddDate(0, 0, days)))
		}
	}
	return nil
}

// offerHoldings marks, per window, who took up a product in it that they
// did not hold at the start.
func offerHoldings(ctx context.Context, q querier, o *rapport.Offer, cs offerCustomers) error {
	start := micros(o.StartsAt)
	held := map[string]bool{} // customer id + " " + product, held at the start
	type taken struct {
		id, product string
		at          int64
	}
	var starts []taken
	longest := micros(o.StartsAt.AddDate(0, 0, rapport.OfferWindows[len(rapport.OfferWindows)-1]))
	err := eachRow(ctx, q, `SELECT h.customer_id, h.product, h.started_at, h.ended_at FROM holdings h
		JOIN offer_assignments a ON a.customer_id = h.customer_id AND a.offer_id = ?
		WHERE h.started_at < ?`, []any{o.ID, longest}, func(rows *sql.Rows) error {
		var t taken
		var ended sql.NullInt64
		if err := rows.Scan(&t.id, &t.product, &t.at, &ended); err != nil {
			return err
		}
		if t.at < start {
			if !ended.Valid || ended.Int64 > start {
				held[t.id+" "+t.product] = true
			}
			return nil
		}
		starts = append(starts, t)
		return nil
	})
	if err != nil {
		return err
	}
	for _, t := range starts {
		c := cs.byID[t.id]
		if c == nil || held[t.id+" "+t.product] {
			continue
		}
		for i, days := range rapport.OfferWindows {
			if t.at < micros(o.StartsAt.AddDate(0, 0, days)) {
				c.windows[i].CrossSold = true
			}
		}
	}
	return nil
}
