package demo_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// TestPatternHandovers checks the planted batch of handovers: Chloe's
// customers, handed to Ravi when she left, had more misery after, and the
// handover report names handovers to Ravi as hurting, and no other person.
func TestPatternHandovers(t *testing.T) {
	firm(t)
	checkHandovers(t, defaultFirm.dsn)
}

// checkHandovers checks the planted handovers of the demo firm in dsn.
func checkHandovers(t *testing.T, dsn string) {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), dsn, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	started := time.Now()
	r, err := sqlstore.NewHandoverService(db).HandoverReport(context.Background(), rapport.HandoverReportFilter{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the report took %v", time.Since(started).Round(time.Millisecond))
	t.Logf("%d handovers measured, %d pending, %d comparable customer-days; %s", r.Handovers, r.Pending, r.Comparables, r.Summary)
	t.Logf("%d of the customers measured had dissolved by the day", r.Inactive)
	if g := r.Groups[0]; g.Customers+r.Inactive != r.Handovers {
		t.Errorf("%d customers compared and %d inactive of %d handovers measured; want them to add up", g.Customers, r.Inactive, r.Handovers)
	}
	t.Logf("matched on %v: %s", r.MatchedOn, r.Matching)
	for _, e := range r.Groups[0].Effects {
		t.Logf("  %s: before %v after %v comparable %v difference %v [%v, %v] adjusted p %v", e.Key, fv(e.Before), fv(e.After), fv(e.ComparableChange), fv(e.Difference), fv(e.Low), fv(e.High), fv(e.AdjustedP))
	}
	for _, g := range r.Groups {
		t.Logf("  %s: %d customers, %d unmatched, by risk band %+v", g.Name, g.Customers, g.Unmatched, g.RiskBands)
	}
	for _, h := range r.Hurts {
		t.Logf("  %s", h)
	}
	if !slices.Contains(r.MatchedOn, "risk_band") {
		t.Errorf("matched on %q; want the risk band", r.MatchedOn)
	}
	if r.Handovers < 100 {
		t.Errorf("%d handovers measured; want Chloe's customers", r.Handovers)
	}
	ravi := false
	for _, h := range r.Hurts {
		switch {
		case strings.HasPrefix(h, "Handovers to Ravi Patel hurt: the misery rate"):
			ravi = true
		case strings.HasPrefix(h, "Handovers to ") && !strings.Contains(h, "Ravi Patel") && !strings.Contains(h, "Sales team"):
			t.Errorf("a verdict on someone else: %s", h)
		}
	}
	if !ravi {
		t.Errorf("the report does not name the planted rise in misery after handovers to Ravi: %q", r.Hurts)
	}
}

// fv writes a figure that may be missing.
func fv(v *float64) string {
	if v == nil {
		return "–"
	}
	return fmt.Sprintf("%.3f", *v)
}
