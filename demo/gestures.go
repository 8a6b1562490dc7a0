package demo

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// Two gesture rules:
//
//   - "Anniversary card", which ran for 30 days from 150 days before Now,
//     with a quarter of the customers reaching their anniversary held out.
//     Each chosen customer alive throughout was sent the card within three
//     days, and was then delighted more often: a magic closing call for 90%
//     of them and a second for 60%, in the 60 days after. The rule's report
//     finds the magic rate and the mean rating higher than the holdout's.
//   - "Tenth delight thank-you", running from 60 days before Now to 30 days
//     after, on committed customers' tenth magic moment: its recent
//     milestones are on their owners' days.
//
// The arms are drawn as the store draws them (rapport.GestureArm), so the
// moments that followed the cards are written with the firm's history; the
// sweep then finds the milestones once the customers' stages are measured.
var demoGestureRules = []rapport.GestureRule{
	{Name: "Anniversary card", Description: "A card from the owner, with a voucher for a free policy review.",
		Milestone: rapport.MilestoneAnniversary, Kind: rapport.OfferGift, Cost: 6, HoldoutShare: 0.25, Seed: 1601},
	{Name: "Tenth delight thank-you", Description: "A call from the owner to thank them for their loyalty.",
		Milestone: rapport.MilestoneMagicCount, Count: 10, Kind: rapport.OfferFreeService, Cost: 4, HoldoutShare: 0.1, Seed: 1602},
}

// demoGesturePeriods are the rules' periods, in days from Now.
var demoGesturePeriods = [][2]int{{-150, -120}, {-60, 30}}

// makeGestureRules keeps the demo's gesture rules, as the manager who
// keeps the segments did; the touchpoint their moments are written on is
// then in the catalogue.
func (g *generator) makeGestureRules(ctx context.Context, db *sqlstore.DB) ([]*rapport.GestureRule, error) {
	ctx = asStaff(ctx, g.segmentKeeper())
	gestures := sqlstore.NewGestureService(db)
	var out []*rapport.GestureRule
	for i, rule := range demoGestureRules {
		rule.StartsAt = g.now.AddDate(0, 0, demoGesturePeriods[i][0])
		rule.EndsAt = g.now.AddDate(0, 0, demoGesturePeriods[i][1])
		if err := gestures.CreateGestureRule(ctx, &rule); err != nil {
			return nil, err
		}
		out = append(out, &rule)
	}
	return out, nil
}

// plantGestures writes the anniversary cards and what followed them for
// the chosen customers alive throughout.
func (g *generator) plantGestures(ctx context.Context, db *sqlstore.DB, card *rapport.GestureRule) error {
	l := db.Loader()
	defer l.Close()
	stages := sqlstore.NewStageService(db)
	customers := sqlstore.NewCustomerService(db)
	r := rand.New(rand.NewPCG(uint64(g.cfg.Seed), 0x6e57))
	cursor := ""
	for {
		page, err := customers.FindCustomers(ctx, rapport.CustomerFilter{Limit: rapport.MaxPageSize, Cursor: cursor})
		if err != nil {
			return err
		}
		for _, c := range page.Items {
			at, years, ok := anniversaryIn(c.CreatedAt, card.StartsAt, card.EndsAt)
			what := rapport.Ordinal(years) + " anniversary"
			if !ok || rapport.GestureArm(card.Seed, c.ID, what, card.HoldoutShare) != rapport.ArmOffered {
				continue
			}
			alive, err := neverDissolved(ctx, stages, c.ID)
			if err != nil {
				return err
			}
			if !alive {
				continue
			}
			for _, m := range followGesture(r, card, c, at) {
				if err := l.AddMoment(ctx, m); err != nil {
					return err
				}
				g.sum.Moments++
			}
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	return l.Flush(ctx)
}

// anniversaryIn returns a customer's anniversary in [from, to) and its
// number, if they have one.
func anniversaryIn(joined, from, to time.Time) (time.Time, int, bool) {
	for years := 1; ; years++ {
		at := joined.AddDate(years, 0, 0)
		if !at.Before(to) {
			return time.Time{}, 0, false
		}
		if !at.Before(from) {
			return at, years, true
		}
	}
}

// followGesture is the card, sent within three days of the anniversary,
// and the magic calls that followed it.
func followGesture(r *rand.Rand, rule *rapport.GestureRule, c *rapport.Customer, milestone time.Time) []*rapport.Moment {
	at := func(fromDay, toDay int) time.Time {
		d := fromDay + r.IntN(toDay-fromDay)
		return milestone.AddDate(0, 0, d).Add(time.Duration(60+r.IntN(6*60)) * time.Minute)
	}
	moment := func(tp string, ch rapport.Channel, when time.Time, rating int, cost float64) *rapport.Moment {
		m := &rapport.Moment{ID: newID(r, when), CustomerID: c.ID, Touchpoint: tp, Channel: ch, OccurredAt: when,
			StaffID: c.OwnerID, Rating: &rating, Cost: cost, RecordedAt: when.Add(2 * time.Minute)}
		m.Outcome, m.OutcomeSource = rapport.DeriveOutcome("", m.Rating)
		return m
	}
	out := []*rapport.Moment{moment(rule.Touchpoint, rapport.ChannelEmail, at(0, 3), 4+r.IntN(2), rule.Cost)}
	for _, p := range []float64{0.9, 0.6} {
		if r.Float64() < p {
			out = append(out, moment("closing", rapport.ChannelPhone, at(4, 60), 5, 3+r.Float64()*2))
		}
	}
	return out
}

// findMilestones runs what the sweep runs: the rules' milestones up to now
// go on the owners' lists.
func (g *generator) findMilestones(ctx context.Context, db *sqlstore.DB) error {
	_, err := sqlstore.NewGestureService(db).EvaluateGestures(ctx)
	return err
}
