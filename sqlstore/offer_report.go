package sqlstore

import (
	"context"
	"database/sql"
	"time"

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
	src := armSource{own: o.Touchpoint,
		query: `SELECT customer_id AS unit_id, customer_id, arm, CAST(? AS BIGINT) AS start_at FROM offer_assignments WHERE offer_id = ?`,
		args:  []any{micros(o.StartsAt), o.ID}}
	windows, err := armWindows(ctx, q, src, func(days int) (from, to time.Time, complete bool) {
		to = o.StartsAt.AddDate(0, 0, days)
		return o.StartsAt, to, !now.Before(to)
	})
	if err != nil {
		return nil, err
	}
	return rapport.NewOfferReport(o, windows, now), nil
}

// armSource is where a report's units come from: a query whose rows are
// each unit's id, customer, arm and start (unit_id, customer_id, arm,
// start_at), and the touchpoint of the treatment's own moments, which the
// satisfaction figures leave out. An offer's units are its customers, all
// from its start; a gesture rule's are its milestones, each from its own.
type armSource struct {
	query string
	args  []any
	own   string
}

// armWindows reads every unit's figures in each of rapport.OfferWindows
// from its start, and gathers them by arm; span says each window's period
// and whether it has ended.
func armWindows(ctx context.Context, q querier, src armSource, span func(days int) (from, to time.Time, complete bool)) ([]rapport.OfferWindowUnits, error) {
	units, err := armUnits(ctx, q, src)
	if err != nil {
		return nil, err
	}
	if err := armStages(ctx, q, src, units); err != nil {
		return nil, err
	}
	if err := armHoldings(ctx, q, src, units); err != nil {
		return nil, err
	}
	windows := make([]rapport.OfferWindowUnits, len(rapport.OfferWindows))
	for i, days := range rapport.OfferWindows {
		w := rapport.OfferWindowUnits{Days: days, Offered: []rapport.OfferUnit{}, Holdout: []rapport.OfferUnit{}}
		w.From, w.To, w.Complete = span(days)
		for _, id := range units.order {
			u := units.byID[id]
			if u.arm == rapport.ArmOffered {
				w.Offered = append(w.Offered, u.windows[i])
			} else {
				w.Holdout = append(w.Holdout, u.windows[i])
			}
		}
		windows[i] = w
	}
	return windows, nil
}

// armUnit is one unit's customer, arm, start and figures per window.
type armUnit struct {
	customer, arm string
	start         int64
	windows       []rapport.OfferUnit
}

type armUnitSet struct {
	order []string
	byID  map[string]*armUnit
}

// longestWindow is the longest window in microseconds.
func longestWindow() int64 {
	return int64(rapport.OfferWindows[len(rapport.OfferWindows)-1]) * dayMicros
}

// armUnits sums each unit's moments in each window, in one reading of its
// customer's moments from its start to the end of the longest window.
func armUnits(ctx context.Context, q querier, src armSource) (armUnitSet, error) {
	out := armUnitSet{byID: map[string]*armUnit{}}
	var b sqlBuilder
	b.add(`SELECT a.unit_id, a.customer_id, a.arm, a.start_at`)
	n := len(rapport.OfferWindows)
	for _, days := range rapport.OfferWindows {
		end := int64(days) * dayMicros
		// Satisfaction and purchases leave the treatment's own moments
		// out; revenue and cost count them.
		in := `m.occurred_at < a.start_at + ?`
		own := ` AND m.touchpoint <> ?`
		b.add(`, SUM(CASE WHEN `+in+own+` THEN 1 ELSE 0 END)`, end, src.own)
		b.add(`, SUM(CASE WHEN `+in+own+` AND m.outcome = 'magic' THEN 1 ELSE 0 END)`, end, src.own)
		b.add(`, SUM(CASE WHEN `+in+own+` AND m.rating IS NOT NULL THEN 1 ELSE 0 END)`, end, src.own)
		b.add(`, SUM(CASE WHEN `+in+own+` AND m.rating IS NOT NULL THEN m.rating ELSE 0 END)`, end, src.own)
		b.add(`, SUM(CASE WHEN `+in+own+` AND m.revenue > 0 THEN 1 ELSE 0 END)`, end, src.own)
		b.add(`, COALESCE(SUM(CASE WHEN `+in+` THEN m.revenue ELSE 0 END), 0)`, end)
		b.add(`, COALESCE(SUM(CASE WHEN `+in+` THEN m.cost ELSE 0 END), 0)`, end)
	}
	b.add(` FROM (`+src.query+`) a`, src.args...)
	b.add(` LEFT JOIN moments m ON m.customer_id = a.customer_id AND m.occurred_at >= a.start_at AND m.occurred_at < a.start_at + ?
		GROUP BY a.unit_id, a.customer_id, a.arm, a.start_at ORDER BY a.unit_id`, longestWindow())
	err := eachRow(ctx, q, b.b.String(), b.args, func(rows *sql.Rows) error {
		u := &armUnit{windows: make([]rapport.OfferUnit, n)}
		var id string
		targets := []any{&id, &u.customer, &u.arm, &u.start}
		ratingSums := make([]sql.NullFloat64, n)
		for i := range u.windows {
			w := &u.windows[i]
			targets = append(targets, &w.Moments, &w.Magic, &w.Rated, &ratingSums[i], &w.Purchases, &w.Revenue, &w.Cost)
		}
		if err := rows.Scan(targets...); err != nil {
			return err
		}
		for i := range u.windows {
			u.windows[i].RatingSum = ratingSums[i].Float64
		}
		out.order = append(out.order, id)
		out.byID[id] = u
		return nil
	})
	return out, err
}

// armStages marks, per window, which units' customers were active at the
// start and retained at the end: not dissolved just before each time, by
// their latest stage change before it.
func armStages(ctx context.Context, q querier, src armSource, us armUnitSet) error {
	type change struct {
		at        int64
		dissolved bool
	}
	changes := map[string][]change{}
	err := eachRow(ctx, q, `SELECT s.customer_id, s.to_stage, s.changed_at FROM stage_changes s
		WHERE s.customer_id IN (SELECT customer_id FROM (`+src.query+`) a)
		ORDER BY s.customer_id, s.changed_at, s.id`, src.args, func(rows *sql.Rows) error {
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
	for _, u := range us.byID {
		active := !dissolvedBefore(u.customer, u.start)
		for i, days := range rapport.OfferWindows {
			u.windows[i].ActiveAtStart = active
			u.windows[i].Retained = active && !dissolvedBefore(u.customer, u.start+int64(days)*dayMicros)
		}
	}
	return nil
}

// armHoldings marks, per window, which units' customers took up a product
// in it that they did not hold at the unit's start.
func armHoldings(ctx context.Context, q querier, src armSource, us armUnitSet) error {
	type holding struct {
		product    string
		start, end int64 // end 0 while held
	}
	held := map[string][]holding{}
	err := eachRow(ctx, q, `SELECT h.customer_id, h.product, h.started_at, h.ended_at FROM holdings h
		WHERE h.customer_id IN (SELECT customer_id FROM (`+src.query+`) a)`, src.args, func(rows *sql.Rows) error {
		var id string
		var h holding
		var ended sql.NullInt64
		if err := rows.Scan(&id, &h.product, &h.start, &ended); err != nil {
			return err
		}
		h.end = ended.Int64
		held[id] = append(held[id], h)
		return nil
	})
	if err != nil {
		return err
	}
	for _, u := range us.byID {
		hs := held[u.customer]
		atStart := map[string]bool{}
		for _, h := range hs {
			if h.start < u.start && (h.end == 0 || h.end > u.start) {
				atStart[h.product] = true
			}
		}
		for _, h := range hs {
			if h.start < u.start || atStart[h.product] {
				continue
			}
			for i, days := range rapport.OfferWindows {
				if h.start < u.start+int64(days)*dayMicros {
					u.windows[i].CrossSold = true
				}
			}
		}
	}
	return nil
}
