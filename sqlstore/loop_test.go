package sqlstore_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/demo"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
)

func ip(n int) *int { return &n }

// TestTouchpointReportExact checks the report's figures against values
// worked out here from the moments themselves, including the window's edges
// and the channel filter.
func TestTouchpointReportExact(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			clock := testdb.NewClock(time.Date(2026, 6, 17, 12, 0, 0, 0, time.UTC)) // a Wednesday
			db := b.Open(t, clock.Now)
			c := &rapport.Customer{Name: "Report Customer"}
			if err := sqlstore.NewCustomerService(db).CreateCustomer(ctx, c); err != nil {
				t.Fatal(err)
			}
			day := func(d int, h int) time.Time { return time.Date(2026, 6, d, h, 0, 0, 0, time.UTC) }
			type m = rapport.Moment
			moments := []*m{
				{Touchpoint: "greeting", Channel: "phone", OccurredAt: day(10, 9), Rating: ip(5), NPS: ip(10), Effort: ip(2)},
				{Touchpoint: "greeting", Channel: "phone", OccurredAt: day(10, 10), Rating: ip(4), NPS: ip(9)},
				{Touchpoint: "greeting", Channel: "chat", OccurredAt: day(11, 23), Rating: ip(2), NPS: ip(3), Effort: ip(6)},
				{Touchpoint: "greeting", Channel: "chat", OccurredAt: day(12, 0), Rating: ip(1)},
				{Touchpoint: "greeting", Channel: "email", OccurredAt: day(12, 1), Outcome: "magic", NPS: ip(7)},
				{Touchpoint: "greeting", Channel: "email", OccurredAt: day(14, 1), Rating: ip(3), Revenue: 100, Cost: 4.5},
				// Outside a window of 10–13 June.
				{Touchpoint: "greeting", Channel: "phone", OccurredAt: day(9, 23), Rating: ip(1)},
				{Touchpoint: "greeting", Channel: "phone", OccurredAt: day(13, 0), Rating: ip(1)},
				{Touchpoint: "complaint", Channel: "phone", OccurredAt: day(11, 12), Rating: ip(2), Cost: 10},
			}
			for _, mo := range moments {
				mo.CustomerID = c.ID
			}
			if _, err := sqlstore.NewMomentService(db).RecordMoments(ctx, moments); err != nil {
				t.Fatal(err)
			}
			reports := sqlstore.NewReportService(db)
			from, to := day(10, 0), day(13, 0)

			// Worked out by hand from the first six greeting moments:
			// ratings 5,4,2,1,3 (mean 3, n 5); outcomes magic,neutral,misery,misery,magic(given),neutral;
			// NPS answers 10,9,3,7: 2 promoters, 1 detractor of 4 → +25; efforts 2,6 → 4.
			// The window 10–13 June (to exclusive) drops the 14 June moment: then
			// ratings 5,4,2,1 (mean 3), outcomes magic,neutral,misery,misery,magic.
			// A To inside 14 June takes in all of 13 and 14 June: the 13 June
			// moment (rating 1, misery) and the 14 June one (rating 3).
			tests := []struct {
				name                string
				f                   rapport.ReportFilter
				volume, rated       int
				mean, magic, misery float64
				nps, effort         float64
				revenue, cost       float64
			}{
				{"10 to 13 June", rapport.ReportFilter{From: from, To: to}, 5, 4, 3, 2.0 / 5, 2.0 / 5, 25, 4, 0, 0},
				{"10 to 14 June 02:00 (whole days)", rapport.ReportFilter{From: from, To: day(14, 2)}, 7, 6, 16.0 / 6, 2.0 / 7, 3.0 / 7, 25, 4, 100, 4.5},
				{"chat only", rapport.ReportFilter{From: from, To: to, Channel: "chat"}, 2, 2, 1.5, 0, 1, -100, 6, 0, 0},
			}
			for _, tt := range tests {
				r, err := reports.TouchpointReport(ctx, tt.f)
				if err != nil {
					t.Fatal(err)
				}
				var g *rapport.TouchpointMeasures
				for i := range r.Touchpoints {
					if r.Touchpoints[i].Key == "greeting" {
						g = &r.Touchpoints[i]
					}
				}
				if g == nil {
					t.Fatalf("%s: no greeting in the report", tt.name)
				}
				if g.Volume != tt.volume || g.Rated != tt.rated {
					t.Errorf("%s: volume, rated = %d, %d; want %d, %d", tt.name, g.Volume, g.Rated, tt.volume, tt.rated)
				}
				checkF := func(what string, got *float64, want float64) {
					if got == nil || math.Abs(*got-want) > 1e-9 {
						t.Errorf("%s: %s = %v; want %v", tt.name, what, derefF(got), want)
					}
				}
				checkF("mean_rating", g.MeanRating, tt.mean)
				checkF("magic_rate", g.MagicRate, tt.magic)
				checkF("misery_rate", g.MiseryRate, tt.misery)
				checkF("nps", g.NPS, tt.nps)
				checkF("mean_effort", g.MeanEffort, tt.effort)
				if g.Revenue != tt.revenue || g.Cost != tt.cost {
					t.Errorf("%s: revenue, cost = %v, %v; want %v, %v", tt.name, g.Revenue, g.Cost, tt.revenue, tt.cost)
				}
				if g.MagicRateCI == nil || g.MagicRateCI[0] > *g.MagicRate || g.MagicRateCI[1] < *g.MagicRate {
					t.Errorf("%s: magic_rate_ci = %v does not hold the rate %v", tt.name, g.MagicRateCI, derefF(g.MagicRate))
				}
			}
			r, err := reports.TouchpointReport(ctx, rapport.ReportFilter{From: from, To: to})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range r.Touchpoints {
				if m.Key == "offer" && (m.Volume != 0 || m.MeanRating != nil || m.MagicRate != nil) {
					t.Errorf("offer with no moments = %+v; want volume 0 and no rates", m)
				}
			}
			trend, err := reports.Trend(ctx, "greeting", 2)
			if err != nil {
				t.Fatal(err)
			}
			// Weeks start Monday: 8–14 June holds all eight greeting moments, 15–21 June none.
			if len(trend.Weeks) != 2 || !trend.Weeks[0].Week.Equal(day(8, 0)) || trend.Weeks[0].Moments != 8 || trend.Weeks[1].Moments != 0 {
				t.Errorf("Trend(greeting, 2) = %+v; want the week of 8 June with 8 moments, then an empty week", trend.Weeks)
			}
		})
	}
}

func derefF(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestBelowTargetAlertRaisedOnce records a month of poor greetings and
// checks the alert is raised once, listed, and acknowledged.
func TestBelowTargetAlertRaisedOnce(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			clock := testdb.NewClock(time.Date(2026, 6, 17, 12, 0, 0, 0, time.UTC))
			db := b.Open(t, clock.Now)
			c := &rapport.Customer{Name: "Unhappy"}
			if err := sqlstore.NewCustomerService(db).CreateCustomer(ctx, c); err != nil {
				t.Fatal(err)
			}
			var ms []*rapport.Moment
			for i := range 40 {
				ms = append(ms, &rapport.Moment{CustomerID: c.ID, Touchpoint: "greeting", Channel: "phone",
					OccurredAt: clock.Now().Add(-time.Duration(i) * 12 * time.Hour), Rating: ip(2 + i%3)})
			}
			if _, err := sqlstore.NewMomentService(db).RecordMoments(ctx, ms); err != nil {
				t.Fatal(err)
			}
			alerts := sqlstore.NewAlertService(db)
			raised, err := alerts.EvaluateAlerts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(raised) != 1 || raised[0].Kind != rapport.AlertBelowTarget || raised[0].Touchpoint != "greeting" {
				t.Fatalf("EvaluateAlerts = %+v; want one below_target alert on greeting", raised)
			}
			if again, _ := alerts.EvaluateAlerts(ctx); len(again) != 0 {
				t.Errorf("second EvaluateAlerts raised %d alerts; want none (raised once)", len(again))
			}
			open, _ := alerts.FindAlerts(ctx, rapport.AlertFilter{Open: true})
			if len(open) != 1 {
				t.Fatalf("open alerts = %d; want 1", len(open))
			}
			if _, err := alerts.AcknowledgeAlert(ctx, open[0].ID); err != nil {
				t.Fatal(err)
			}
			if open, _ = alerts.FindAlerts(ctx, rapport.AlertFilter{Open: true}); len(open) != 0 {
				t.Errorf("open alerts after acknowledging = %d; want 0", len(open))
			}
		})
	}
}

// TestLoopOnDemoFirm runs the five-step loop on the demo firm: the touchpoint
// whose misery drives dissolution tops the priority list, the comparison finds
// the response that delights, and once it is the standard, later moments with
// a lower magic rate raise a decay alert.
func TestLoopOnDemoFirm(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	clock := testdb.NewClock(now)
	db := testdb.SQLite(t, clock.Now)
	if _, err := demo.Populate(ctx, db, demo.Config{Seed: 7, Now: now}); err != nil {
		t.Fatal(err)
	}
	report, err := sqlstore.NewReportService(db).TouchpointReport(ctx, rapport.ReportFilter{})
	if err != nil {
		t.Fatal(err)
	}
	top := report.Touchpoints[0]
	if top.Key != "service" || top.Priority.Rank != 1 {
		t.Errorf("top priority = %s (rank %d); want service", top.Key, top.Priority.Rank)
	}
	for _, m := range report.Touchpoints {
		t.Logf("%-10s rank %d score %6.1f volume %5d misery %.3f impact %+.3f", m.Key, m.Priority.Rank, m.Priority.Score,
			m.Volume, derefF(m.MiseryRate), m.Impact.RiskDifference)
	}
	if top.Impact == nil || top.Impact.RiskDifferenceCI[0] <= 0 {
		t.Errorf("service impact = %+v; want a risk difference whose interval is above 0", top.Impact)
	}

	responses := sqlstore.NewResponseService(db)
	cmp, err := responses.CompareResponses(ctx, "complaint", rapport.ReportFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if cmp.Winner == nil || *cmp.Winner != "call_back_same_day" {
		t.Fatalf("complaint comparison winner = %v (%s); want call_back_same_day", cmp.Winner, cmp.Explanation)
	}

	standards := sqlstore.NewStandardService(db)
	st, err := standards.PromoteResponse(ctx, "complaint", "call_back_same_day")
	if err != nil {
		t.Fatal(err)
	}
	if st.Decayed || st.BaselineMagicRate == nil || *st.BaselineMagicRate < 0.3 {
		t.Fatalf("new standard = %+v; want a baseline magic rate near 45%% and no decay", st)
	}
	alerts := sqlstore.NewAlertService(db)
	if raised, err := alerts.EvaluateAlerts(ctx); err != nil {
		t.Fatal(err)
	} else if hasAlert(raised, rapport.AlertStandardDecayed) {
		t.Fatalf("decay alert before any later moment: %+v", raised)
	}

	// A month later the call-back has become what customers expect: 10% magic.
	clock.Add(30 * 24 * time.Hour)
	customers, err := sqlstore.NewCustomerService(db).FindCustomers(ctx, rapport.CustomerFilter{Limit: 120})
	if err != nil {
		t.Fatal(err)
	}
	var later []*rapport.Moment
	for i, c := range customers.Items {
		rating := 4
		if i%10 == 0 {
			rating = 5
		}
		later = append(later, &rapport.Moment{CustomerID: c.ID, Touchpoint: "complaint", Channel: "phone",
			Response: "call_back_same_day", OccurredAt: clock.Now().Add(-time.Duration(i) * time.Hour), Rating: ip(rating)})
	}
	if _, err := sqlstore.NewMomentService(db).RecordMoments(ctx, later); err != nil {
		t.Fatal(err)
	}
	st, err = standards.FindStandard(ctx, "complaint")
	if err != nil {
		t.Fatal(err)
	}
	if !st.Decayed || st.CurrentMoments != len(later) {
		t.Errorf("standard after a month = decayed %v over %d moments (%s); want decayed over %d", st.Decayed, st.CurrentMoments, st.Explanation, len(later))
	}
	raised, err := alerts.EvaluateAlerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !hasAlert(raised, rapport.AlertStandardDecayed) {
		t.Errorf("EvaluateAlerts after decay = %+v; want a standard_decayed alert", raised)
	}
	if again, _ := alerts.EvaluateAlerts(ctx); hasAlert(again, rapport.AlertStandardDecayed) {
		t.Errorf("the decay alert was raised twice")
	}
}

func hasAlert(as []*rapport.Alert, kind string) bool {
	for _, a := range as {
		if a.Kind == kind {
			return true
		}
	}
	return false
}
