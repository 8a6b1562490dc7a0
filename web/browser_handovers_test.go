package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testbrowser"
)

// TestBrowserHandover: a manager hands every customer of an agent who is
// leaving to herself in one step (first forgetting whom to), with a note;
// the customers change hands, her day lists them as first contacts and the
// brief shows the note. Screenshots are named handover-*.
func TestBrowserHandover(t *testing.T) {
	f := newFixture(t)
	agent, manager := f.users[rapport.RoleAgent], f.users[rapport.RoleManager]
	b := newBrowser(t, 1280, 800, f.srv.URL)
	b.signIn(manager.Email)
	b.Open("/customers", "#main h1")
	b.Do("open the handover form", chromedp.Click(css(`a[href="/handovers/new"]`)), chromedp.WaitVisible(css("#handover-form")))
	b.Do("forget the new owner",
		chromedp.SetValue(css("#f-from_owner"), agent.ID),
		chromedp.SendKeys(css("#f-note"), "Harriet likes morning calls; Peter is waiting on his renewal quote."),
		chromedp.Click(css("#handover-submit")),
		chromedp.WaitVisible(css("#f-to_owner-error")),
	)
	if got := b.Value("#f-note"); !strings.Contains(got, "morning calls") {
		t.Errorf("after the error the note reads %q; want it kept", got)
	}
	b.Screenshot("handover-01-form-error")
	b.Do("hand over",
		chromedp.SetValue(css("#f-to_owner"), manager.ID),
		chromedp.Click(css("#handover-submit")),
		chromedp.WaitVisible(css(".flash")),
	)
	if got := b.Text(".flash"); !strings.Contains(got, "Handed over 5 customers") {
		t.Errorf("the flash reads %q; want the five customers handed over", got)
	}
	for name, c := range f.customers {
		got, err := f.services.Customers.FindCustomerByID(context.Background(), c.ID)
		if err != nil || got.OwnerID != manager.ID {
			t.Errorf("%s is owned by %v after the handover; want Mo", name, got.OwnerID)
		}
	}
	b.Open("/", "#my-day")
	if got := b.Text("#my-first-contacts"); !strings.Contains(got, "Harriet Vane") || !strings.Contains(got, "Alex Agent") {
		t.Errorf("my day's first contacts read %q; want Harriet, handed over from Alex", got)
	}
	b.Screenshot("handover-02-my-day")
	b.Open("/customers/"+f.customers["Harriet Vane"].ID+"/brief", "#main h1")
	if got := b.Text(".handover-note"); !strings.Contains(got, "morning calls") {
		t.Errorf("the brief's note reads %q", got)
	}
	b.Screenshot("handover-03-brief")
	b.Open("/reports/handovers", "#handover-summary")
	if got := b.Text("#handover-summary"); !strings.Contains(got, "No handover in the period has had its 90 days after yet") {
		t.Errorf("the handover report reads %q", got)
	}
	if got := b.Text("#main"); !strings.Contains(got, "5 too recent to measure") {
		t.Errorf("the handover report does not count the five handovers as too recent: %q", got)
	}

	p := newBrowser(t, 390, 844, f.srv.URL)
	p.signIn(manager.Email)
	p.Open("/handovers/new", "#handover-form")
	if p.WiderThanScreen() {
		t.Error("the handover form is wider than a phone's screen")
	}
	p.Screenshot("handover-04-form-phone")
}

// TestBrowserHandoverReportOnDemo opens the handover effect report of the
// demo firm, with its risk model refitted on its history, at desktop and
// phone width: the page says what comparable customers were matched on,
// gives the handed customers' risk bands on the day, and names the
// handovers to Ravi Patel for the planted rise in misery. Screenshots are
// named handover-report-*.
func TestBrowserHandoverReportOnDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo firm takes seconds to make")
	}
	viewer := &rapport.User{Email: "hand.viewer@example.com", Name: "Vic Viewer", Role: rapport.RoleViewer}
	services, srv := demoFirmFor(t, viewer)
	if _, err := services.Risk.RefitRisk(context.Background()); err != nil {
		t.Fatalf("RefitRisk = %v", err)
	}

	for _, size := range []struct {
		name          string
		width, height int
	}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
		b := newBrowser(t, size.width, size.height, srv.URL)
		b.signIn(viewer.Email)
		b.Open("/reports/handovers", "#handover-summary")
		if got := b.Text("#handover-matching"); !strings.Contains(got, "Matched on the day, stage and risk band.") ||
			!strings.Contains(got, "the same risk band (low 0–39, medium 40–69, high 70–100)") || strings.Contains(got, "prior") {
			t.Errorf("%s: the matching reads %q; want the day, stage and risk band, scored by the fitted model", size.name, got)
		}
		if got := b.Text("#handover-hurts"); !strings.Contains(got, "Handovers to Ravi Patel hurt: the misery rate") {
			t.Errorf("%s: the verdicts read %q; want the planted rise in misery after handovers to Ravi", size.name, got)
		}
		if got := b.Text(`section[aria-label="Ravi Patel"]`); !strings.Contains(got, "Risk band on the day: low") || !strings.Contains(got, "comparable)") {
			t.Errorf("%s: Ravi's section reads %q; want his customers' risk bands on the day", size.name, got)
		}
		if got := b.Text("#handover-summary-heading + p + p"); !strings.Contains(got, "257 handovers measured. 36 of the customers measured had dissolved") {
			t.Errorf("%s: the count reads %q; want the 257 handovers and the 36 customers who had dissolved by the day", size.name, got)
		}
		if b.WiderThanScreen() {
			t.Errorf("%s: the handover report is wider than the screen", size.name)
		}
		b.Screenshot("handover-report-" + size.name)
		ravi := testbrowser.Get(b.Page, "screenshot Ravi's section", chromedp.Screenshot(css(`section[aria-label="Ravi Patel"]`)))
		if err := os.WriteFile(filepath.Join(b.Shots, "handover-report-"+size.name+"-ravi.png"), ravi, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s", size.name, b.Text("#handover-matching"))
		t.Logf("%s: %s", size.name, b.Text(`section[aria-label="Ravi Patel"] .card-note`))
		t.Logf("screenshots in %s", b.Shots)
	}
}
