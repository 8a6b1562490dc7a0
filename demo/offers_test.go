package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// TestPatternOffers checks the two planted offers: the offer report finds
// the family upgrade's uplift in magic rate (over 90 days) and revenue, the revenue's
// interval holding the uplift planted, and gives the newsletter gift, which
// changed nothing, no verdict on anything.
func TestPatternOffers(t *testing.T) {
	firm(t)
	checkOffers(t, defaultFirm.dsn)
}

// checkOffers checks the planted offers of the demo firm in dsn.
func checkOffers(t *testing.T, dsn string) {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), dsn, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	offers := sqlstore.NewOfferService(db)
	list, err := offers.FindOffers(context.Background())
	if err != nil || len(list) != 2 {
		t.Fatalf("FindOffers = %d offers, %v; want the two planted", len(list), err)
	}
	byName := map[string]*rapport.Offer{}
	for _, o := range list {
		byName[o.Name] = o
	}
	for name, want := range map[string]bool{"Family loyalty upgrade": true, "Affluent newsletter gift": false} {
		o := byName[name]
		if o == nil {
			t.Fatalf("no offer %q", name)
		}
		rep, err := offers.OfferReport(context.Background(), o.ID)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d offered (%d given), %d held out; %s", name, o.Offered, o.Given, o.Holdout, rep.Summary)
		for _, v := range rep.Verdicts {
			t.Logf("  %s", v)
		}
		if o.Holdout < 80 || o.Offered < 3*o.Holdout-80 || o.Given < o.Offered*3/4 {
			t.Errorf("%s: %d offered, %d given, %d held out; want a quarter held out and most offered given it", name, o.Offered, o.Given, o.Holdout)
		}
		for _, w := range rep.Windows {
			if !w.Complete {
				t.Errorf("%s: the %d-day window has not ended", name, w.Days)
			}
			for _, m := range w.Metrics {
				switch {
				case m.Key == "cost_per_customer":
				case !want && m.Significant:
					t.Errorf("%s: a verdict on an offer that changed nothing: %s", name, m.Verdict)
				// The magic closing calls fall from day 7 to day 80, about a
				// third of them in the first 30 days: too few for the 30-day
				// window to find them on every seed, so magic rate is asked
				// of the longest window only; revenue (a purchase by day 28)
				// of each.
				case want && (m.Key == "magic_rate" && w.Days == rapport.OfferWindows[len(rapport.OfferWindows)-1] || m.Key == "revenue_per_customer") && !m.Significant:
					t.Errorf("%s: the planted uplift in %s over %d days was not found: %v against %v, p %v", name, m.Key, w.Days,
						*m.Offered, *m.Holdout, *m.AdjustedP)
				case want && m.Significant && *m.Difference < 0:
					t.Errorf("%s: a verdict against the offer: %s", name, m.Verdict)
				}
				// Planted: a purchase of 250 to 650 (449.5 on average) in the
				// first month for 60% of those given the offer.
				if truth := float64(o.Given) / float64(o.Offered) * 0.6 * 449.5; want && m.Key == "revenue_per_customer" &&
					!(*m.Low <= truth && truth <= *m.High) {
					t.Errorf("%s: revenue uplift over %d days %.2f to %.2f; want it to hold the planted %.2f", name, w.Days, *m.Low, *m.High, truth)
				}
			}
		}
	}
}
