package demo

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// A batch of handovers with a planted drop: Chloe Dawson, a sales agent,
// left 140 days before Now, and all her customers went to Ravi Patel, who
// had joined shortly before and had not gauged the relationships yet. In
// the 90 days after, the customers alive throughout had more misery: a
// handling of a query gone wrong for 70% of them, a second for 30%. The
// handover report finds their satisfaction fell, and names Ravi.
const (
	leavingStaff       = "chloe"
	receivingStaff     = "ravi"
	handoverDaysBefore = 140
)

// staffMember returns the member of staff with the given first name.
func (g *generator) staffMember(first string) *member {
	for _, m := range g.staff {
		if m.user.Email == first+"@"+emailDomain {
			return m
		}
	}
	return nil
}

// plantHandoverDrop writes the misery that followed the handover for the
// leaving person's customers, before the customers' figures are measured.
func (g *generator) plantHandoverDrop(ctx context.Context, db *sqlstore.DB) error {
	leaving, receiving := g.staffMember(leavingStaff), g.staffMember(receivingStaff)
	at := g.now.AddDate(0, 0, -handoverDaysBefore)
	l := db.Loader()
	defer l.Close()
	stages, customers := sqlstore.NewStageService(db), sqlstore.NewCustomerService(db)
	r := rand.New(rand.NewPCG(uint64(g.cfg.Seed), 0x4a2d))
	cursor := ""
	for {
		page, err := customers.FindCustomers(ctx, rapport.CustomerFilter{OwnerID: leaving.user.ID, Limit: rapport.MaxPageSize, Cursor: cursor})
		if err != nil {
			return err
		}
		for _, c := range page.Items {
			if !c.CreatedAt.Before(at) {
				continue
			}
			alive, err := neverDissolved(ctx, stages, c.ID)
			if err != nil {
				return err
			}
			if !alive {
				continue
			}
			for _, p := range []float64{0.7, 0.3} {
				if r.Float64() >= p {
					continue
				}
				when := at.AddDate(0, 0, 5+r.IntN(80)).Add(time.Duration(9*60+r.IntN(8*60)) * time.Minute)
				rating := 1 + r.IntN(2)
				m := &rapport.Moment{ID: newID(r, when), CustomerID: c.ID, Touchpoint: "query", Channel: rapport.ChannelPhone,
					OccurredAt: when, StaffID: receiving.user.ID, Rating: &rating, Cost: 4 + 3*r.Float64(),
					Notes: "Had to explain the policy history again.", RecordedAt: when.Add(3 * time.Minute)}
				m.Outcome, m.OutcomeSource = rapport.DeriveOutcome("", m.Rating)
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

// handOverLeaving hands the leaving person's customers to the receiving
// one, as their manager did on the day they left.
func (g *generator) handOverLeaving(ctx context.Context, db *sqlstore.DB) error {
	leaving, receiving := g.staffMember(leavingStaff), g.staffMember(receivingStaff)
	manager := g.staffMember("sophie")
	_, err := sqlstore.NewHandoverService(db).HandOver(asStaff(ctx, manager), rapport.HandoverInput{
		FromOwner: leaving.user.ID, ToOwner: receiving.user.ID, MovePromises: true, MoveCases: true,
		At:   g.now.AddDate(0, 0, -handoverDaysBefore),
		Note: "Chloe's customers: most renew in the spring; the families prefer a call after six."})
	return err
}
