package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/demo"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
	"github.com/rapport-crm/rapport/web"
)

// TestBrowserRiskPriorUntilHistory has a manager open the risk track record
// of a firm with a few customers and no dissolutions: it says there is no
// track record yet, and refitting keeps the prior, labelled as such, with
// the history's figures.
func TestBrowserRiskPriorUntilHistory(t *testing.T) {
	f := newFixture(t)
	b := newBrowser(t, 1280, 800, f.srv.URL)
	b.signIn(f.users[rapport.RoleManager].Email)
	b.Open("/reports/risk", "#verdict")
	if got := b.Text("#verdict-heading"); got != "No track record yet" {
		t.Errorf("before any refit the verdict reads %q; want No track record yet", got)
	}
	b.Do("refit", chromedp.Click(css("#refit")), chromedp.WaitVisible(css(".flash")))
	if got := b.Text(".flash"); !strings.Contains(got, "too short to fit: the prior stands in") {
		t.Errorf("after a refit the page says %q; want the prior kept", got)
	}
	if got := b.Text("#model"); !strings.Contains(got, "Prior, not yet fitted") || !strings.Contains(got, "A fit needs 500 and 50") {
		t.Errorf("the model section reads %q; want the prior labelled with what a fit needs", got)
	}
	b.Screenshot("risk-01-prior")

	// A viewer may read the page but not refit.
	v := newBrowser(t, 1280, 800, f.srv.URL)
	v.signIn(f.users[rapport.RoleViewer].Email)
	v.Open("/reports/risk", "#verdict")
	if v.Eval(`document.querySelector("#refit") !== null`) {
		t.Errorf("a viewer sees the refit button")
	}
}

// TestBrowserRiskTrackRecordOnDemo opens the track record of the demo firm,
// refitted on its history, at desktop and phone width: it shows the model's
// AUC beside the baseline's, a verdict that matches them, and calibration
// for ten deciles.
func TestBrowserRiskTrackRecordOnDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo firm takes seconds to make")
	}
	ctx := context.Background()
	manager := &rapport.User{Email: "risk.manager@example.com", Name: "Rita Risk", Role: rapport.RoleManager}
	services, srv := demoFirmFor(t, manager)
	started := time.Now()
	tr, err := services.Risk.RefitRisk(ctx)
	t.Logf("refit on the demo firm took %v", time.Since(started).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("RefitRisk = %v", err)
	}
	if tr.AUC == nil || tr.Model.Kind != "fitted" {
		t.Fatalf("RefitRisk on the demo = model %s, AUC %v; want a fitted model with a track record", tr.Model.Kind, tr.AUC)
	}
	t.Logf("demo firm: %s model on %d customer-dates (%d dissolutions); held back %d customers, %d dissolved: AUC %.3f, baseline %.3f",
		tr.Model.Kind, tr.Model.Examples, tr.Model.Events, tr.Customers, tr.Dissolved, *tr.AUC, *tr.BaselineAUC)
	for i, d := range tr.Calibration {
		t.Logf("decile %d: %d customers, predicted %.3f, observed %.3f", i+1, d.Customers, d.Predicted, d.Observed)
	}
	for _, size := range []struct {
		name          string
		width, height int
	}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
		b := newBrowser(t, size.width, size.height, srv.URL)
		b.signIn(manager.Email)
		b.Open("/reports/risk", "#verdict")
		auc, err1 := strconv.ParseFloat(b.Text("#auc"), 64)
		base, err2 := strconv.ParseFloat(b.Text("#baseline-auc"), 64)
		if err1 != nil || err2 != nil || auc <= 0.5 || base <= 0 {
			t.Errorf("%s: AUC reads %q, baseline %q; want real figures", size.name, b.Text("#auc"), b.Text("#baseline-auc"))
		}
		heading := b.Text("#verdict-heading")
		if want := map[bool]string{true: "Risk beats the baseline", false: "Risk does not beat the baseline"}[auc > base]; heading != want {
			t.Errorf("%s: AUC %.3f against %.3f, verdict %q; want %q", size.name, auc, base, heading, want)
		}
		if n := b.Eval(`document.querySelectorAll("#calibration-table tbody tr").length === 10 && document.querySelectorAll(".calibration-chart .point").length === 10`); !n {
			t.Errorf("%s: want ten deciles in the calibration table and chart", size.name)
		}
		if b.WiderThanScreen() {
			t.Errorf("%s: the page scrolls sideways", size.name)
		}
		// Each figure reads on one line, not squeezed into a column a
		// letter wide beside a long label.
		for _, id := range []string{"#auc", "#baseline-auc"} {
			if !b.Eval(`(() => { const r = document.createRange(); r.selectNodeContents(document.querySelector('` + id + `')); return r.getClientRects().length === 1 })()`) {
				t.Errorf("%s: %s does not read on one line", size.name, id)
			}
		}
		if !b.Eval(`(() => { const w = document.querySelector('#calibration-table').parentElement; return w.scrollWidth <= w.clientWidth })()`) {
			t.Errorf("%s: the calibration table must be scrolled sideways to read what was observed", size.name)
		}
		b.Screenshot("risk-02-demo-" + size.name)
	}
}

// demoFirmFor makes the demo firm (seed 7) with u as a user who can sign
// in, and serves its pages.
func demoFirmFor(t *testing.T, u *rapport.User) (rapport.Services, *httptest.Server) {
	t.Helper()
	ctx := context.Background()
	clock := testdb.NewClock(testNow)
	db := testdb.SQLite(t, clock.Now)
	if _, err := demo.Populate(ctx, db, demo.Config{Seed: 7, Now: testNow}); err != nil {
		t.Fatalf("Populate = %v", err)
	}
	services := sqlstore.NewServices(db, sqlstore.Options{})
	if err := services.Users.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := services.Passwords.SetPassword(ctx, u.ID, testPassword); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.New(services, web.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Clock: clock.Now}))
	t.Cleanup(srv.Close)
	return services, srv
}
