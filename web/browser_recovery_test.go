package web_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testbrowser"
)

// TestBrowserRecovery walks an agent through keeping promises and recovering
// misery: make a promise from a customer's page (first with a mistake), find
// it among the promises due and mark it kept; make a survey link; open the
// recovery queue and resolve an overdue case; read the handover brief and
// the reports. Then the same pages at phone width. It saves a screenshot of
// each page, named recovery-*.
func TestBrowserRecovery(t *testing.T) {
	f := newFixture(t)
	rf := f.seedRecovery(t)
	// A minute on, what the browser makes is newer than everything seeded.
	f.clock.Add(time.Minute)
	b := newBrowser(t, 1280, 800, f.srv.URL)
	agent := f.users[rapport.RoleAgent]
	harriet := f.customers["Harriet Vane"]
	b.signIn(agent.Email)
	if got := b.Text("#my-day"); !strings.Contains(got, "2\npromises due today") || !strings.Contains(got, "1 overdue") {
		t.Errorf("my day reads %q; want two promises due today and an overdue case", got)
	}
	b.Screenshot("recovery-01-dashboard-my-day")

	// A promise, first without saying what.
	b.Open("/customers/"+harriet.ID, "#promise-form")
	const promise = "Browser test: post Harriet the signed policy"
	b.Do("make a promise without its text",
		chromedp.SetValue(css("#promise-form #f-due_date"), "2026-03-06"),
		chromedp.Click(css("#promise-submit")),
		chromedp.WaitVisible(css("#promise-form #f-text-error")),
	)
	if got := b.Value("#promise-form #f-due_date"); got != "2026-03-06" {
		t.Errorf("after the error the due date reads %q; want 2026-03-06 kept", got)
	}
	b.Screenshot("recovery-02-promise-validation")
	b.Do("make the promise",
		chromedp.SendKeys(css("#promise-form #f-text"), promise),
		chromedp.Click(css("#promise-submit")),
		chromedp.WaitVisible(css(".flash")),
	)
	if got := b.Text(".flash"); !strings.Contains(got, "Promise made, due 6 Mar 2026") {
		t.Errorf("after making the promise the page says %q", got)
	}
	p := f.promiseByText(t, promise)
	if p == nil {
		t.Fatal("the promise made in the browser was not stored")
	}
	if got := b.Text("#timeline .entry-promise"); !strings.Contains(got, promise) || !strings.Contains(got, "Open") {
		t.Errorf("the newest promise on the timeline reads %q; want the one just made", got)
	}

	// A survey link for a moment she has not rated yet, shown in place.
	ms, err := f.services.Moments.FindMoments(context.Background(), rapport.MomentFilter{CustomerID: harriet.ID, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	m := ms.Items[0]
	if m.ID == rf.surveyed.ID {
		m = ms.Items[1]
	}
	b.Do("make a survey link",
		chromedp.Click(css("#moment-"+m.ID+" .entry-actions button")),
		chromedp.WaitVisible(css("#survey-"+m.ID+" .copy-field")),
	)
	if got := b.Value("#survey-" + m.ID + " .copy-field"); !strings.HasPrefix(got, f.srv.URL+"/s/") {
		t.Errorf("the survey link reads %q; want a link on this server", got)
	}
	b.Screenshot("recovery-03-customer-survey-link")

	// Due promises: the new one is there; mark it kept.
	b.Open("/promises", "#promises")
	row := "#promise-" + p.ID
	if got := b.Text(row); !strings.Contains(got, promise) || !strings.Contains(got, harriet.Name) {
		t.Errorf("the promise's row reads %q", got)
	}
	b.Screenshot("recovery-04-promises")
	b.Do("mark it kept", chromedp.Click(css(row+` button.button-good`)), chromedp.WaitVisible(css(".flash")))
	if got := b.Text(".flash"); !strings.Contains(got, "Promise kept") {
		t.Errorf("after marking it kept the page says %q", got)
	}
	if b.Eval(`document.querySelector('` + row + `') !== null`) {
		t.Error("a kept promise is still listed among those due")
	}

	// The recovery queue: resolve the overdue case.
	b.Open("/cases", "#cases")
	if got := b.Text("#case-" + rf.overdue.ID); !strings.Contains(got, "Overdue") || !strings.Contains(got, "Bunter & Co") {
		t.Errorf("the overdue case reads %q", got)
	}
	b.Screenshot("recovery-05-cases")
	b.Do("open the case", chromedp.Click(css("#case-"+rf.overdue.ID+" .case-link")), chromedp.WaitVisible(css("#resolve-form")))
	b.Screenshot("recovery-06-case")
	const done = "Browser test: rebooked the engineer and waived the fee."
	b.Do("resolve it without saying what was done",
		chromedp.Click(css("#resolve-submit")),
		chromedp.WaitVisible(css("#resolve-form #f-resolution-error")),
	)
	b.Do("resolve it",
		chromedp.SendKeys(css("#resolve-form #f-resolution"), done),
		chromedp.Click(css("#resolve-submit")),
		chromedp.WaitVisible(css("#resolution")),
	)
	if got := b.Text("#resolution"); !strings.Contains(got, done) || !strings.Contains(got, "Resolved by "+agent.Name) {
		t.Errorf("the resolution reads %q", got)
	}
	if got := b.Text("#history"); !strings.Contains(got, done) {
		t.Errorf("the history lacks the resolution: %q", got)
	}
	b.Screenshot("recovery-07-case-resolved")

	// The brief: one screen on a laptop.
	b.Open("/customers/"+harriet.ID, "#promise-form")
	b.Do("open the brief", chromedp.Click(css(`a[href$="/brief"]`)), chromedp.WaitVisible(css(".brief")))
	if got := b.Text("#brief-promises"); !strings.Contains(got, "Call Harriet back with the claim reference") {
		t.Errorf("the brief's open promises read %q", got)
	}
	if !b.Eval(`!document.querySelector('[data-print]').hidden`) {
		t.Error("the brief's Print button is hidden")
	}
	if bottom := testbrowser.Get(b.Page, "the brief's height", chromedp.Evaluate[float64](`document.querySelector('.brief').getBoundingClientRect().bottom`)); bottom > 800 {
		t.Errorf("the brief ends %.0f px down; want it on one 1280×800 screen", bottom)
	}
	b.Screenshot("recovery-08-brief")
	// Printed, it fits one sheet of A4 or Letter.
	for _, paper := range []struct {
		name string
		size chromedp.PaperSize
	}{{"a4", chromedp.PaperA4}, {"letter", chromedp.PaperLetter}} {
		pdf := testbrowser.Get(b.Page, "the brief printed on "+paper.name, chromedp.PrintToPDF(chromedp.PDFPaper(paper.size)))
		if n := bytes.Count(pdf, []byte("/Type /Page")) - bytes.Count(pdf, []byte("/Type /Pages")); n != 1 {
			t.Errorf("the brief prints on %d pages of %s; want 1", n, paper.name)
		}
		if err := os.WriteFile(filepath.Join(b.Shots, "recovery-08-brief-"+paper.name+".pdf"), pdf, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	b.Open("/reports/promises", "#staff-table")
	if got := b.Text("#worst-offender"); !strings.Contains(got, rf.dylan.Name) {
		t.Errorf("the promises report names %q as breaking promises most; want %s", got, rf.dylan.Name)
	}
	b.Screenshot("recovery-09-report-promises")
	b.Open("/reports/recovery", "#kpi-opened")
	b.Screenshot("recovery-10-report-recovery")

	ph := newBrowser(t, 390, 844, f.srv.URL)
	ph.signIn(agent.Email)
	for _, pg := range []struct{ path, wait, name string }{
		{"/", "#my-day", "recovery-11-phone-dashboard"},
		{"/cases?show=team", "#cases", "recovery-12-phone-cases"},
		{"/cases/" + rf.escalated.ID, "#resolve-form", "recovery-13-phone-case"},
		{"/promises", "#promises", "recovery-14-phone-promises"},
		{"/reports/promises", "#staff-table", "recovery-15-phone-report-promises"},
		{"/customers/" + harriet.ID + "/brief", ".brief", "recovery-16-phone-brief"},
		{"/customers/" + harriet.ID, "#promise-form", "recovery-17-phone-customer"},
	} {
		ph.Open(pg.path, pg.wait)
		if ph.WiderThanScreen() {
			t.Errorf("%s is wider than a phone's screen", pg.path)
		}
		ph.Screenshot(pg.name)
	}
	t.Logf("screenshots in %s", b.Shots)
}
