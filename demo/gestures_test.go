package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// TestPatternGestures checks the planted gesture rules: the anniversary
// card's report finds the magic rate planted after the cards, and the
// running thank-you rule has put recent milestones on their owners' days.
func TestPatternGestures(t *testing.T) {
	firm(t)
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, defaultFirm.dsn, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	gestures := sqlstore.NewGestureService(db)
	rules, err := gestures.FindGestureRules(ctx)
	if err != nil || len(rules) != 2 {
		t.Fatalf("FindGestureRules = %d rules, %v; want the two planted", len(rules), err)
	}
	byName := map[string]*rapport.GestureRule{}
	for _, g := range rules {
		byName[g.Name] = g
	}
	card, thanks := byName["Anniversary card"], byName["Tenth delight thank-you"]
	if card == nil || thanks == nil {
		t.Fatalf("rules = %v; want the anniversary card and the thank-you", rules)
	}
	rep, err := gestures.GestureReport(ctx, card.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d chosen (%d made), %d held out; %s", card.Name, card.Chosen, card.Given, card.Holdout, rep.Summary)
	for _, v := range rep.Verdicts {
		t.Logf("  %s", v)
	}
	if card.Holdout < 30 || card.Chosen < 2*card.Holdout || card.Given < card.Chosen*3/4 {
		t.Errorf("card: %d chosen, %d made, %d held out; want a quarter held out and most chosen sent the card", card.Chosen, card.Given, card.Holdout)
	}
	for _, w := range rep.Windows {
		if !w.Complete {
			t.Errorf("card: the %d-day window has not ended", w.Days)
		}
		for _, m := range w.Metrics {
			if m.Key == "magic_rate" && w.Days == 90 && !m.Significant {
				t.Errorf("card: the planted magic rate over 90 days was not found: %v against %v, adjusted p %v", *m.Offered, *m.Holdout, *m.AdjustedP)
			}
			if m.Significant && m.Key != "cost_per_customer" && *m.Difference < 0 {
				t.Errorf("card: a verdict against the gesture: %s", m.Verdict)
			}
		}
	}

	if thanks.Chosen == 0 {
		t.Fatal("the thank-you rule found no tenth magic moments")
	}
	open, err := gestures.Gestures(ctx, thanks.ID, rapport.GestureFilter{Open: true, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	recent := 0
	for _, x := range open.Items {
		if now.Sub(x.MilestoneAt) < rapport.GestureListDays*24*time.Hour {
			recent++
			contacts, err := sqlstore.NewTodayService(db).Today(ctx, rapport.TodayFilter{StaffIDs: []string{x.OwnerID}, Limit: rapport.MaxPageSize})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, c := range contacts {
				for _, r := range c.Reasons {
					found = found || (c.CustomerID == x.CustomerID && r.Kind == rapport.ContactGesture)
				}
			}
			if !found {
				t.Errorf("%s's %s (%s) is not on %s's day", x.Name, x.Milestone, x.MilestoneAt.Format(time.DateOnly), x.OwnerName)
			}
			break
		}
	}
	t.Logf("%s: %d chosen, %d open", thanks.Name, thanks.Chosen, len(open.Items))
	if recent == 0 {
		t.Error("no thank-you in the last two weeks for an owner's day")
	}
}
