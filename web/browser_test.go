package web_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testbrowser"
)

// browser is a Chromium tab on the UI.
type browser struct{ *testbrowser.Page }

// newBrowser starts Chromium at a window size, on the fixture's server.
func newBrowser(t *testing.T, width, height int, base string) *browser {
	return &browser{testbrowser.New(t, width, height, base)}
}

// css selects the first element that matches a CSS selector.
func css(sel string) chromedp.CSS { return testbrowser.CSS(sel) }

// signIn signs in from the sign-in page and waits for the dashboard: not
// for any heading, since the sign-in page has one too, and opening another
// page before the sign-in lands aborts it.
func (b *browser) signIn(email string) {
	b.T.Helper()
	b.Open("/signin", "#f-email")
	b.Do("sign in as "+email,
		chromedp.SendKeys(css("#f-email"), email),
		chromedp.SendKeys(css("#f-password"), testPassword),
		chromedp.Submit(css("#f-password")),
		chromedp.WaitVisible(css("#kpi-this-week")),
	)
}

// TestBrowser walks through a working day: sign in, find a customer, log a
// moment (first with a mistake), see it on the timeline and the dashboard,
// and sign out, saving a screenshot of each main page.
func TestBrowser(t *testing.T) {
	f := newFixture(t)
	// A minute on, the moment logged is newer than everything the fixture made,
	// customers' first stages included, and tops the timeline.
	f.clock.Add(time.Minute)
	b := newBrowser(t, 1280, 900, f.srv.URL)
	agent := f.users[rapport.RoleAgent]

	b.Open("/customers", "#f-email")
	if url := b.Location(); !strings.Contains(url, "/signin?next=%2Fcustomers") {
		t.Errorf("signed out, /customers went to %s; want the sign-in page", url)
	}
	b.Screenshot("01-signin")

	b.Do("sign in with a wrong password",
		chromedp.SendKeys(css("#f-email"), agent.Email),
		chromedp.SendKeys(css("#f-password"), "not the password"),
		chromedp.Submit(css("#f-password")),
		chromedp.WaitVisible(css(".form-error")),
	)
	if got := b.Text(".form-error"); !strings.Contains(got, "email or password is not right") {
		t.Errorf("a wrong password shows %q", got)
	}
	if got := b.Value("#f-email"); got != agent.Email {
		t.Errorf("after a wrong password the email reads %q; want %q kept", got, agent.Email)
	}
	b.Do("sign in",
		chromedp.SendKeys(css("#f-password"), testPassword),
		chromedp.Submit(css("#f-password")),
		chromedp.WaitVisible(css("#customer-search")),
	)

	b.Open("/", "#kpi-this-week")
	thisWeek, err := strconv.Atoi(strings.ReplaceAll(strings.TrimSpace(b.Text("#kpi-this-week")), ",", ""))
	if err != nil {
		t.Fatalf("moments this week: %v", err)
	}
	b.Screenshot("02-dashboard")

	b.Open("/customers", "#customer-search")
	b.Screenshot("03-customers")
	b.Do("search for a customer", chromedp.SendKeys(css("#customer-search"), "harri"))
	b.WaitUntil("wait for the search", `document.querySelectorAll('#customer-results tbody tr').length === 1`)
	if got := b.Text("#customer-results tbody tr"); !strings.Contains(got, "Harriet Vane") {
		t.Errorf("searching for harri found %q", got)
	}
	if url := b.Location(); !strings.Contains(url, "q=harri") {
		t.Errorf("after searching, the address is %s; want it to keep the search", url)
	}
	b.Screenshot("04-customers-search")

	b.Do("open the customer", chromedp.Click(css("#customer-results tbody a")), chromedp.WaitVisible(css("#log-moment")))
	b.Screenshot("05-customer")

	const note = "Browser test: the parcel never came."
	b.Do("log a moment without a touchpoint",
		chromedp.Click(css(`#log-moment input[name=rating][value="1"]`)),
		chromedp.SendKeys(css("#log-moment #f-notes"), note),
		chromedp.Click(css("#log-submit")),
		chromedp.WaitVisible(css("#log-moment #f-touchpoint-error")),
	)
	if got := b.Text("#log-moment #f-touchpoint-error"); !strings.Contains(got, "Choose the touchpoint") {
		t.Errorf("the touchpoint's error reads %q", got)
	}
	if got := b.Value("#log-moment #f-notes"); got != note {
		t.Errorf("after the error the notes read %q; want %q kept", got, note)
	}
	if !b.Eval(`document.querySelector('#log-moment input[name=rating][value="1"]').checked`) {
		t.Error("after the error the rating is no longer 1")
	}
	b.Screenshot("06-customer-validation")

	b.Do("log the moment",
		chromedp.SetValue(css("#log-moment #f-touchpoint"), "complaint"),
		chromedp.Click(css("#log-moment input[name=channel][value=email]")),
		chromedp.Click(css("#log-submit")),
		chromedp.WaitVisible(css("#log-moment .form-success")),
	)
	// The newest moment: a misery moment also opens a recovery case, listed with it.
	if got := b.Text(`#timeline .entry[id^="moment-"]`); !strings.Contains(got, note) || !strings.Contains(got, "Handling a complaint") || !strings.Contains(got, "Misery") {
		t.Errorf("the newest timeline entry reads %q; want the complaint just logged", got)
	}
	// It says so, when the case is due and who has it, and links to it.
	logged := b.Text("#log-moment .form-success")
	b.Screenshot("07-customer-logged")
	b.Do("open the case the moment opened", chromedp.Click(css("#log-moment .form-success a")), chromedp.WaitVisible(css("h1")))
	opened := caseAt(t, f, b.Location())
	if want := "A recovery case opened, due " + opened.DueAt.UTC().Format("2 Jan 2006, 15:04") + " UTC, " + caseHolder(opened) + "."; !strings.Contains(logged, want) {
		t.Errorf("after logging a misery moment the form says %q; want %q", logged, want)
	}
	if opened.CustomerName != "Harriet Vane" || !opened.Status.IsOpen() {
		t.Errorf("the link leads to %s's %s case; want Harriet Vane's open case", opened.CustomerName, opened.Status)
	}

	// The quick entry says the same after it moves to the customer's page.
	b.Open("/moments/new?customer="+opened.CustomerID, "#quick-entry")
	b.Do("log a misery moment from the quick entry",
		chromedp.SetValue(css("#quick-entry #f-touchpoint"), "service"),
		chromedp.Click(css(`#quick-entry input[name=channel][value=phone]`)),
		chromedp.Click(css(`#quick-entry input[name=rating][value="1"]`)),
		chromedp.Submit(css("#quick-entry")),
		chromedp.WaitVisible(css(".flash a")),
	)
	flashed := b.Text(".flash")
	b.Screenshot("07-quick-entry-logged")
	b.Do("open the case from the message", chromedp.Click(css(".flash a")), chromedp.WaitVisible(css("h1")))
	second := caseAt(t, f, b.Location())
	if second.ID == opened.ID || second.Touchpoint != "service" || !strings.Contains(flashed, "Moment logged for Harriet Vane. A recovery case opened, due ") ||
		!strings.Contains(flashed, caseHolder(second)) {
		t.Errorf("after the quick entry the page says %q and links to the %s case; want the new service case", flashed, second.Touchpoint)
	}

	b.Open("/", "#kpi-this-week")
	if got, _ := strconv.Atoi(strings.ReplaceAll(strings.TrimSpace(b.Text("#kpi-this-week")), ",", "")); got != thisWeek+2 {
		t.Errorf("moments this week went from %d to %d; want %d", thisWeek, got, thisWeek+2)
	}
	if got := b.Text(".misery-list"); !strings.Contains(got, "Harriet Vane") || !strings.Contains(got, note) {
		t.Errorf("the latest misery moments read %q; want the ones just logged", got)
	}

	b.Open("/moments/new", "#quick-entry")
	b.Screenshot("08-log-a-moment")
	b.Open("/touchpoints", "table")
	b.Screenshot("09-touchpoints")

	b.Do("sign out",
		chromedp.Click(css(".usermenu summary")),
		chromedp.Click(css(".usermenu button[type=submit]")),
		chromedp.WaitVisible(css(".flash")),
	)
	if got := b.Text(".flash"); !strings.Contains(got, "signed out") {
		t.Errorf("after signing out the page says %q", got)
	}
	b.Screenshot("10-signed-out")
	b.Open("/", "#f-email")
	if url := b.Location(); !strings.HasSuffix(url, "/signin") {
		t.Errorf("after signing out, / went to %s; want the sign-in page", url)
	}
	t.Logf("screenshots in %s", b.Shots)
}

// TestBrowserPhone checks the main pages at phone width and saves their screenshots.
func TestBrowserPhone(t *testing.T) {
	f := newFixture(t)
	b := newBrowser(t, 390, 844, f.srv.URL)
	b.signIn(f.users[rapport.RoleManager].Email)
	for _, p := range []struct{ path, wait, name string }{
		{"/", "#kpi-this-week", "11-phone-dashboard"},
		{"/customers", "#customer-search", "12-phone-customers"},
		{"/customers/" + f.customers["Harriet Vane"].ID, "#log-moment", "13-phone-customer"},
	} {
		b.Open(p.path, p.wait)
		if b.WiderThanScreen() {
			t.Errorf("%s is wider than a phone's screen", p.path)
		}
		b.Screenshot(p.name)
		// Every link of the main menu is on the screen once the menu is open.
		b.Do("open the menu", chromedp.Click(css(".nav-toggle")), chromedp.WaitVisible(css(".nav a")))
		if !b.Eval(`[...document.querySelectorAll('.nav a')].every(a => { const r = a.getBoundingClientRect(); return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth })`) {
			t.Errorf("%s: a link of the main menu is off a phone's screen", p.path)
		}
	}
}

// TestBrowserLoop walks a manager through the five-step loop: the alert on
// the dashboard, the priority matrix, a touchpoint's page where a response is
// added (first with a mistake) and retired, the winner of the comparison
// promoted to the standard, and the alert acknowledged; then the same pages
// at phone width. It saves a screenshot of each.
func TestBrowserLoop(t *testing.T) {
	f := newFixture(t)
	f.seedLoop(t)
	b := newBrowser(t, 1280, 900, f.srv.URL)
	manager := f.users[rapport.RoleManager]
	b.signIn(manager.Email)
	if got := b.Text("#open-alerts"); !strings.Contains(got, "Delivery") || !strings.Contains(got, "Below target") {
		t.Errorf("the dashboard's alerts read %q; want Delivery below target", got)
	}
	b.Screenshot("14-dashboard-alerts")

	b.Open("/touchpoints", "svg.matrix")
	if got := b.Text("#priority-table tbody tr"); !strings.Contains(got, "Handling a complaint") {
		t.Errorf("the first priority is %q; want Handling a complaint", got)
	}
	if n := testbrowser.Get(b.Page, "matrix points", chromedp.Evaluate[int](`document.querySelectorAll('svg.matrix .point').length`)); n != 8 {
		t.Errorf("the matrix has %d points; want 8", n)
	}
	b.Screenshot("15-touchpoints-matrix")

	b.Do("open the complaint's page", chromedp.Click(css(`#priority-table a[href="/touchpoints/complaint"]`)), chromedp.WaitVisible(css("#verdict")))
	if got := b.Text("#verdict"); !strings.Contains(got, "Call back same day delights most") {
		t.Errorf("the verdict reads %q; want Call back same day the winner", got)
	}
	b.Screenshot("16-touchpoint-winner")

	const desc = "Pass the call to the duty manager at once."
	b.Do("add a response without a key",
		chromedp.SendKeys(css("#add-response #f-description"), desc),
		chromedp.Submit(css("#add-response #f-description")),
		chromedp.WaitVisible(css("#f-key-error")),
	)
	if got := b.Value("#add-response #f-description"); got != desc {
		t.Errorf("after the error the description reads %q; want %q kept", got, desc)
	}
	b.Do("add the response",
		chromedp.SendKeys(css("#add-response #f-key"), "escalate_to_manager"),
		chromedp.Submit(css("#add-response #f-key")),
		chromedp.WaitVisible(css("#response-escalate_to_manager")),
	)
	if got := b.Text("#verdict"); !strings.Contains(got, "too few moments") {
		t.Errorf("with an untried response the verdict reads %q; want too few moments", got)
	}
	b.Do("retire it",
		chromedp.Click(css(`#response-escalate_to_manager form:last-of-type button`)),
		chromedp.WaitVisible(css("#promote-winner")),
	)
	if got := b.Text("#response-escalate_to_manager"); !strings.Contains(got, "Retired") {
		t.Errorf("the retired response's row reads %q", got)
	}
	b.Do("promote the winner", chromedp.Click(css("#promote-winner button")), chromedp.WaitVisible(css("#current-standard")))
	if got := b.Text("#current-standard"); !strings.Contains(got, "Call back same day") || !strings.Contains(got, "Nothing to judge yet") {
		t.Errorf("the standard reads %q; want Call back same day, nothing to judge yet", got)
	}
	b.Screenshot("17-touchpoint-standard")

	b.Open("/alerts", ".alert-list")
	b.Do("acknowledge the alert", chromedp.Click(css(".alert-item button")), chromedp.WaitVisible(css(".flash")))
	if got := b.Text(".alert-item"); !strings.Contains(got, "acknowledged") || !strings.Contains(got, manager.Name) {
		t.Errorf("after acknowledging, the alert reads %q", got)
	}
	b.Screenshot("18-alerts")
	b.Open("/", "#kpi-this-week")
	if b.Eval(`document.querySelector('#open-alerts') !== null`) {
		t.Error("the dashboard still shows an open alert after it was acknowledged")
	}

	p := newBrowser(t, 390, 844, f.srv.URL)
	p.signIn(manager.Email)
	for _, pg := range []struct{ path, wait, name string }{
		{"/touchpoints", "svg.matrix", "19-phone-touchpoints"},
		{"/touchpoints/complaint", "#verdict", "20-phone-touchpoint"},
	} {
		p.Open(pg.path, pg.wait)
		if p.WiderThanScreen() {
			t.Errorf("%s is wider than a phone's screen", pg.path)
		}
		p.Screenshot(pg.name)
	}
}

// TestBrowserSignInStaysHere signs in from a link whose next hides another
// site behind a tab (a browser drops it and would read //evil.example): the
// browser ends on this site's dashboard. A next on this site is followed.
func TestBrowserSignInStaysHere(t *testing.T) {
	f := newFixture(t)
	b := newBrowser(t, 1280, 900, f.srv.URL)
	agent := f.users[rapport.RoleAgent]
	signInFrom := func(next, waitFor string) string {
		b.Open("/signin?next="+next, "#f-email")
		b.Do("sign in",
			chromedp.SendKeys(css("#f-email"), agent.Email),
			chromedp.SendKeys(css("#f-password"), testPassword),
			chromedp.Submit(css("#f-password")),
		)
		// Wherever the browser goes, it leaves the sign-in page; a poll in
		// the page would die with the page, so ask from outside.
		var loc string
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if l, err := chromedp.Run(b.Ctx, chromedp.Location()); err == nil && !strings.Contains(l, "/signin") {
				loc = l
				break
			}
		}
		if !strings.HasPrefix(loc, f.srv.URL+"/") {
			return loc
		}
		b.Do("wait for the page", chromedp.WaitVisible(css(waitFor)))
		b.Do("sign out", chromedp.Click(css(".usermenu summary")), chromedp.Click(css(".usermenu button[type=submit]")), chromedp.WaitVisible(css(".flash")))
		return loc
	}
	if got := signInFrom("%2F%09%2Fevil.example%2Fphish", "#kpi-this-week"); got != f.srv.URL+"/" {
		t.Fatalf("signed in with next=/<tab>/evil.example/phish, the browser is at %q (empty: still loading elsewhere); want %s/", got, f.srv.URL)
	}
	if got := signInFrom("%2Fcustomers%3Fq%3Dvane", "#customer-search"); got != f.srv.URL+"/customers?q=vane" {
		t.Errorf("signed in with next=/customers?q=vane, the browser is at %s", got)
	}
}

// TestBrowserSignInHeld guesses a password five times in Chromium: the page
// then says to wait, keeps the email, and refuses the right password until
// the wait is over.
func TestBrowserSignInHeld(t *testing.T) {
	f := newFixture(t)
	b := newBrowser(t, 390, 844, f.srv.URL)
	agent := f.users[rapport.RoleAgent]
	b.Open("/signin", "#f-email")
	b.Do("type the email", chromedp.SendKeys(css("#f-email"), agent.Email))
	// The page that answers a sign-in has the password empty again.
	const answered = `document.readyState === "complete" && document.querySelector("#f-password")?.value === "" && !!document.querySelector(".form-error")`
	for i := 1; i <= 5; i++ {
		b.Do(fmt.Sprintf("wrong password %d", i), chromedp.SendKeys(css("#f-password"), "guess"), chromedp.Submit(css("#f-password")))
		b.Settle(fmt.Sprintf("the answer to wrong password %d", i), answered)
	}
	if got := b.Text(".form-error"); !strings.Contains(got, "Too many attempts to sign in. Please wait 1 minute") {
		t.Errorf("after five wrong passwords the page says %q; want to wait a minute", got)
	}
	if got := b.Value("#f-email"); got != agent.Email {
		t.Errorf("the email reads %q; want %q kept", got, agent.Email)
	}
	b.Screenshot("21-phone-signin-held")
	b.Do("the right password, held", chromedp.SendKeys(css("#f-password"), testPassword), chromedp.Submit(css("#f-password")))
	b.Settle("the answer to the right password", answered)
	if got := b.Text(".form-error"); !strings.Contains(got, "Too many attempts") {
		t.Errorf("the right password while held: the page says %q", got)
	}
	f.clock.Add(time.Minute)
	b.Do("the right password after the wait", chromedp.SendKeys(css("#f-password"), testPassword), chromedp.Submit(css("#f-password")),
		chromedp.WaitVisible(css("#kpi-this-week")))
}

// caseAt returns the case whose page is at address u.
func caseAt(t *testing.T, f *fixture, u string) *rapport.RecoveryCase {
	t.Helper()
	_, id, ok := strings.Cut(u, "/cases/")
	if !ok {
		t.Fatalf("the link led to %s; want a case's page", u)
	}
	c, err := f.services.Recovery.FindCaseByID(context.Background(), id)
	if err != nil {
		t.Fatalf("FindCaseByID(%s) = %v", id, err)
	}
	return c
}

// caseHolder says who has a case, as the confirmation does.
func caseHolder(c *rapport.RecoveryCase) string {
	if c.AssigneeName != "" {
		return "assigned to " + c.AssigneeName
	}
	return "waiting in the " + c.Queue + " queue"
}
