package demo

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// Two past offers, planted so that the offer report has something to find
// and something not to:
//
//   - "Family loyalty upgrade", made to family customers 120 days before
//     Now with a quarter held out: offered customers given it were then
//     delighted more often (a magic closing call for 80% of them, a second
//     for 40%) and bought more (a purchase of 250 to 650 for 60%, in their first month), so their magic rate
//     and revenue rise against the holdout's.
//   - "Affluent newsletter gift", made to affluent customers 100 days
//     before Now with a quarter held out: given to the offered customers at
//     a small cost, it changed nothing else.
//
// Each offered customer alive throughout is given the offer (a moment on the
// offer touchpoint, at the offer's cost) in its first week. The arms are
// drawn as the store draws them (rapport.OfferArm, from each offer's seed),
// so the moments can be written before the offers are started; the offers
// are started once the customers' figures are measured, as segments are.
type demoOffer struct {
	offer rapport.Offer
	// daysBefore Now the offer started.
	daysBefore int
	segment    string // the attribute segment it is made to
	uplift     bool
}

var demoOffers = []demoOffer{
	{offer: rapport.Offer{Name: "Family loyalty upgrade", Kind: rapport.OfferUpgrade, Cost: 15,
		Description: "A free upgrade to the next cover level for a year.", HoldoutShare: 0.25, Seed: 1501},
		daysBefore: 120, segment: "family", uplift: true},
	{offer: rapport.Offer{Name: "Affluent newsletter gift", Kind: rapport.OfferGift, Cost: 1,
		Description: "A printed guide to protecting the home, posted with the newsletter.", HoldoutShare: 0.25, Seed: 1502},
		daysBefore: 100, segment: "affluent"},
}

// offerSegmentRule is the rule of an offer's segment. It names no date,
// so that the firm is the same whatever day it is made; customers who
// joined after the start are drawn too (an offer starts on its segment's
// members when it is made), are never given it, and dilute its effect a
// little, as customers never reached do.
func offerSegmentRule(o demoOffer) string {
	return `attributes.segment = "` + o.segment + `"`
}

// plantOffers writes the moments that followed each demo offer for its
// offered customers, before the customers' figures are measured.
func (g *generator) plantOffers(ctx context.Context, db *sqlstore.DB) error {
	l := db.Loader()
	defer l.Close()
	stages := sqlstore.NewStageService(db)
	customers := sqlstore.NewCustomerService(db)
	r := rand.New(rand.NewPCG(uint64(g.cfg.Seed), 0x0ffe5))
	for _, o := range demoOffers {
		start := g.now.AddDate(0, 0, -o.daysBefore)
		cursor := ""
		for {
			page, err := customers.FindCustomers(ctx, rapport.CustomerFilter{Limit: rapport.MaxPageSize, Cursor: cursor})
			if err != nil {
				return err
			}
			for _, c := range page.Items {
				if c.Attributes["segment"] != o.segment || !c.CreatedAt.Before(start) ||
					rapport.OfferArm(o.offer.Seed, c.ID, o.offer.HoldoutShare) != rapport.ArmOffered {
					continue
				}
				alive, err := neverDissolved(ctx, stages, c.ID)
				if err != nil {
					return err
				}
				if !alive {
					continue
				}
				for _, m := range followOffer(r, o, c, start) {
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
	}
	return l.Flush(ctx)
}

// neverDissolved reports whether a customer's relationship never
// dissolved, so moments after the offer never follow a dissolution.
func neverDissolved(ctx context.Context, stages *sqlstore.StageService, id string) (bool, error) {
	h, err := stages.StageHistory(ctx, id)
	if err != nil {
		return false, err
	}
	for _, e := range h {
		if e.To == rapport.StageDissolution {
			return false, nil
		}
	}
	return true, nil
}

// followOffer is the offer given to one customer in its first week, and
// for an offer with an uplift what followed it.
func followOffer(r *rand.Rand, o demoOffer, c *rapport.Customer, start time.Time) []*rapport.Moment {
	at := func(fromDay, toDay int) time.Time {
		d := fromDay + r.IntN(toDay-fromDay)
		return start.AddDate(0, 0, d).Add(time.Duration(9*60+r.IntN(8*60)) * time.Minute)
	}
	moment := func(tp string, ch rapport.Channel, when time.Time, rating int, revenue, cost float64) *rapport.Moment {
		m := &rapport.Moment{ID: newID(r, when), CustomerID: c.ID, Touchpoint: tp, Channel: ch, OccurredAt: when,
			StaffID: c.OwnerID, Rating: &rating, Revenue: revenue, Cost: cost, RecordedAt: when.Add(2 * time.Minute)}
		m.Outcome, m.OutcomeSource = rapport.DeriveOutcome("", m.Rating)
		return m
	}
	out := []*rapport.Moment{moment("offer", rapport.ChannelEmail, at(0, 7), 4+r.IntN(2), 0, o.offer.Cost)}
	if !o.uplift {
		return out
	}
	for _, p := range []float64{0.8, 0.4} {
		if r.Float64() < p {
			out = append(out, moment("closing", rapport.ChannelPhone, at(7, 80), 5, 0, 3+r.Float64()*2))
		}
	}
	if r.Float64() < 0.6 {
		out = append(out, moment("purchase", rapport.ChannelPhone, at(10, 28), 4+r.IntN(2), float64(250+r.IntN(400)), 4+r.Float64()*3))
	}
	return out
}

// startOffers starts the demo offers on their segments, as the manager
// who keeps the segments did, once the customers' figures are measured.
func (g *generator) startOffers(ctx context.Context, db *sqlstore.DB) error {
	ctx = asStaff(ctx, g.segmentKeeper())
	segments, offers := sqlstore.NewSegmentService(db), sqlstore.NewOfferService(db)
	for _, o := range demoOffers {
		start := g.now.AddDate(0, 0, -o.daysBefore)
		sg := &rapport.Segment{Name: "Offer: " + o.offer.Name, Rule: offerSegmentRule(o)}
		if err := segments.CreateSegment(ctx, sg); err != nil {
			return err
		}
		g.sum.Segments++
		offer := o.offer
		offer.Segment, offer.StartsAt, offer.EndsAt = sg.ID, start, start.AddDate(0, 0, 30)
		if err := offers.CreateOffer(ctx, &offer); err != nil {
			return err
		}
	}
	return nil
}
