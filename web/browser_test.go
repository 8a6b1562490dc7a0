package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rapport-crm/rapport"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// newBrowser starts headless Chromium with a fresh profile, or skips the test
// when Chromium is not installed (fails instead under RAPPORT_REQUIRE_BROWSER=1).
func newBrowser(t *testing.T, width, height int) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := "browser tests need Chromium at " + chromiumPath + " (apt-get install -y chromium); skipping"
		if os.Getenv("RAPPORT_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// The first run starts the browser, which lives as long as that run's
	// context: so start it without the deadline that bounds the test's steps.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelTimeout)
	return ctx
}

// screenshotDir is where screenshots go: RAPPORT_SCREENSHOTS, or a temporary
// directory that the test removes.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("RAPPORT_SCREENSHOTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser drives one Chromium tab through the UI, failing the test with
// the step it was on when anything goes wrong.
type browser struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
}

// void is the result of a browser action that returns nothing.
type void = chromedp.Void

// css selects the first element that matches a CSS selector.
func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

func (b *browser) do(step string, actions ...chromedp.Action[void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
}

func get[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		b.t.Fatalf("read %s: %v", what, err)
	}
	return v
}

func (b *browser) text(sel string) string { b.t.Helper(); return get(b, sel, chromedp.Text(css(sel))) }
func (b *browser) value(sel string) string {
	b.t.Helper()
	return get(b, sel, chromedp.Value(css(sel)))
}
func (b *browser) location() string { b.t.Helper(); return get(b, "location", chromedp.Location()) }
func (b *browser) eval(expr string) bool {
	b.t.Helper()
	return get(b, expr, chromedp.Evaluate[bool](expr))
}
func (b *browser) open(path, waitFor string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path), chromedp.WaitVisible(css(waitFor)))
}

// signIn signs in from the sign-in page and waits for the dashboard: not
// for any heading, since the sign-in page has one too, and opening another
// page before the sign-in lands aborts it.
func (b *browser) signIn(email string) {
	b.t.Helper()
	b.open("/signin", "#f-email")
	b.do("sign in as "+email,
		chromedp.SendKeys(css("#f-email"), email),
		chromedp.SendKeys(css("#f-password"), testPassword),
		chromedp.Submit(css("#f-password")),
		chromedp.WaitVisible(css("#kpi-this-week")),
	)
}

// waitUntil waits for a JavaScript condition to hold.
func (b *browser) waitUntil(step, expr string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[void](expr, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
}

// screenshot saves the whole page as a PNG.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	// A page scrolled down would show the sticky top bar mid-page.
	get(b, "scroll", chromedp.Evaluate[void](`window.scrollTo(0, 0)`))
	buf := get(b, "screenshot", chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// TestBrowser walks through a working day: sign in, find a customer, log a
// moment (first with a mistake), see it on the timeline and the dashboard,
// and sign out, saving a screenshot of each main page.
func TestBrowser(t *testing.T) {
	f := newFixture(t)
	// A minute on, the moment logged is newer than everything the fixture made,
	// customers' first stages included, and tops the timeline.
	f.clock.Add(time.Minute)
	b := &browser{t: t, ctx: newBrowser(t, 1280, 900), base: f.srv.URL, shots: screenshotDir(t)}
	agent := f.users[rapport.RoleAgent]

	b.open("/customers", "#f-email")
	if url := b.location(); !strings.Contains(url, "/signin?next=%2Fcustomers") {
		t.Errorf("signed out, /customers went to %s; want the sign-in page", url)
	}
	b.screenshot("01-signin")

	b.do("sign in with a wrong password",
		chromedp.SendKeys(css("#f-email"), agent.Email),
		chromedp.SendKeys(css("#f-password"), "not the password"),
		chromedp.Submit(css("#f-password")),
		chromedp.WaitVisible(css(".form-error")),
	)
	if got := b.text(".form-error"); !strings.Contains(got, "email or password is not right") {
		t.Errorf("a wrong password shows %q", got)
	}
	if got := b.value("#f-email"); got != agent.Email {
		t.Errorf("after a wrong password the email reads %q; want %q kept", got, agent.Email)
	}
	b.do("sign in",
		chromedp.SendKeys(css("#f-password"), testPassword),
		chromedp.Submit(css("#f-password")),
		chromedp.WaitVisible(css("#customer-search")),
	)

	b.open("/", "#kpi-this-week")
	thisWeek, err := strconv.Atoi(strings.TrimSpace(b.text("#kpi-this-week")))
	if err != nil {
		t.Fatalf("moments this week: %v", err)
	}
	b.screenshot("02-dashboard")

	b.open("/customers", "#customer-search")
	b.screenshot("03-customers")
	b.do("search for a customer", chromedp.SendKeys(css("#customer-search"), "harri"))
	b.waitUntil("wait for the search", `document.querySelectorAll('#customer-results tbody tr').length === 1`)
	if got := b.text("#customer-results tbody tr"); !strings.Contains(got, "Harriet Vane") {
		t.Errorf("searching for harri found %q", got)
	}
	if url := b.location(); !strings.Contains(url, "q=harri") {
		t.Errorf("after searching, the address is %s; want it to keep the search", url)
	}
	b.screenshot("04-customers-search")

	b.do("open the customer", chromedp.Click(css("#customer-results tbody a")), chromedp.WaitVisible(css("#log-moment")))
	b.screenshot("05-customer")

	const note = "Browser test: the parcel never came."
	b.do("log a moment without a touchpoint",
		chromedp.Click(css(`#log-moment input[name=rating][value="1"]`)),
		chromedp.SendKeys(css("#log-moment #f-notes"), note),
		chromedp.Click(css("#log-submit")),
		chromedp.WaitVisible(css("#log-moment #f-touchpoint-error")),
	)
	if got := b.text("#log-moment #f-touchpoint-error"); !strings.Contains(got, "Choose the touchpoint") {
		t.Errorf("the touchpoint's error reads %q", got)
	}
	if got := b.value("#log-moment #f-notes"); got != note {
		t.Errorf("after the error the notes read %q; want %q kept", got, note)
	}
	if !b.eval(`document.querySelector('#log-moment input[name=rating][value="1"]').checked`) {
		t.Error("after the error the rating is no longer 1")
	}
	b.screenshot("06-customer-validation")

	b.do("log the moment",
		chromedp.SetValue(css("#log-moment #f-touchpoint"), "complaint"),
		chromedp.Click(css("#log-moment input[name=channel][value=email]")),
		chromedp.Click(css("#log-submit")),
		chromedp.WaitVisible(css("#log-moment .form-success")),
	)
	// The newest moment: a misery moment also opens a recovery case, listed with it.
	if got := b.text(`#timeline .entry[id^="moment-"]`); !strings.Contains(got, note) || !strings.Contains(got, "Handling a complaint") || !strings.Contains(got, "Misery") {
		t.Errorf("the newest timeline entry reads %q; want the complaint just logged", got)
	}
	b.screenshot("07-customer-logged")

	b.open("/", "#kpi-this-week")
	if got, _ := strconv.Atoi(strings.TrimSpace(b.text("#kpi-this-week"))); got != thisWeek+1 {
		t.Errorf("moments this week went from %d to %d; want %d", thisWeek, got, thisWeek+1)
	}
	if got := b.text(".misery-list li"); !strings.Contains(got, "Harriet Vane") || !strings.Contains(got, note) {
		t.Errorf("the latest misery moment reads %q; want the one just logged", got)
	}

	b.open("/moments/new", "#quick-entry")
	b.screenshot("08-log-a-moment")
	b.open("/touchpoints", "table")
	b.screenshot("09-touchpoints")

	b.do("sign out",
		chromedp.Click(css(".usermenu summary")),
		chromedp.Click(css(".usermenu button[type=submit]")),
		chromedp.WaitVisible(css(".flash")),
	)
	if got := b.text(".flash"); !strings.Contains(got, "signed out") {
		t.Errorf("after signing out the page says %q", got)
	}
	b.screenshot("10-signed-out")
	b.open("/", "#f-email")
	if url := b.location(); !strings.HasSuffix(url, "/signin") {
		t.Errorf("after signing out, / went to %s; want the sign-in page", url)
	}
	t.Logf("screenshots in %s", b.shots)
}

// TestBrowserPhone checks the main pages at phone width and saves their screenshots.
func TestBrowserPhone(t *testing.T) {
	f := newFixture(t)
	b := &browser{t: t, ctx: newBrowser(t, 390, 844), base: f.srv.URL, shots: screenshotDir(t)}
	b.signIn(f.users[rapport.RoleManager].Email)
	for _, p := range []struct{ path, wait, name string }{
		{"/", "#kpi-this-week", "11-phone-dashboard"},
		{"/customers", "#customer-search", "12-phone-customers"},
		{"/customers/" + f.customers["Harriet Vane"].ID, "#log-moment", "13-phone-customer"},
	} {
		b.open(p.path, p.wait)
		if b.eval(`document.documentElement.scrollWidth > window.innerWidth`) {
			t.Errorf("%s is wider than a phone's screen", p.path)
		}
		b.screenshot(p.name)
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
	b := &browser{t: t, ctx: newBrowser(t, 1280, 900), base: f.srv.URL, shots: screenshotDir(t)}
	manager := f.users[rapport.RoleManager]
	b.signIn(manager.Email)
	if got := b.text("#open-alerts"); !strings.Contains(got, "Delivery") || !strings.Contains(got, "Below target") {
		t.Errorf("the dashboard's alerts read %q; want Delivery below target", got)
	}
	b.screenshot("14-dashboard-alerts")

	b.open("/touchpoints", "svg.matrix")
	if got := b.text("#priority-table tbody tr"); !strings.Contains(got, "Handling a complaint") {
		t.Errorf("the first priority is %q; want Handling a complaint", got)
	}
	if n := get(b, "matrix points", chromedp.Evaluate[int](`document.querySelectorAll('svg.matrix .point').length`)); n != 8 {
		t.Errorf("the matrix has %d points; want 8", n)
	}
	b.screenshot("15-touchpoints-matrix")

	b.do("open the complaint's page", chromedp.Click(css(`#priority-table a[href="/touchpoints/complaint"]`)), chromedp.WaitVisible(css("#verdict")))
	if got := b.text("#verdict"); !strings.Contains(got, "call_back_same_day delights most") {
		t.Errorf("the verdict reads %q; want call_back_same_day the winner", got)
	}
	b.screenshot("16-touchpoint-winner")

	const desc = "Pass the call to the duty manager at once."
	b.do("add a response without a key",
		chromedp.SendKeys(css("#add-response #f-description"), desc),
		chromedp.Submit(css("#add-response #f-description")),
		chromedp.WaitVisible(css("#f-key-error")),
	)
	if got := b.value("#add-response #f-description"); got != desc {
		t.Errorf("after the error the description reads %q; want %q kept", got, desc)
	}
	b.do("add the response",
		chromedp.SendKeys(css("#add-response #f-key"), "escalate_to_manager"),
		chromedp.Submit(css("#add-response #f-key")),
		chromedp.WaitVisible(css("#response-escalate_to_manager")),
	)
	if got := b.text("#verdict"); !strings.Contains(got, "too few moments") {
		t.Errorf("with an untried response the verdict reads %q; want too few moments", got)
	}
	b.do("retire it",
		chromedp.Click(css(`#response-escalate_to_manager form:last-of-type button`)),
		chromedp.WaitVisible(css("#promote-winner")),
	)
	if got := b.text("#response-escalate_to_manager"); !strings.Contains(got, "Retired") {
		t.Errorf("the retired response's row reads %q", got)
	}
	b.do("promote the winner", chromedp.Click(css("#promote-winner button")), chromedp.WaitVisible(css("#current-standard")))
	if got := b.text("#current-standard"); !strings.Contains(got, "call_back_same_day") || !strings.Contains(got, "No decay found") {
		t.Errorf("the standard reads %q; want call_back_same_day, no decay found", got)
	}
	b.screenshot("17-touchpoint-standard")

	b.open("/alerts", ".alert-list")
	b.do("acknowledge the alert", chromedp.Click(css(".alert-item button")), chromedp.WaitVisible(css(".flash")))
	if got := b.text(".alert-item"); !strings.Contains(got, "acknowledged") || !strings.Contains(got, manager.Name) {
		t.Errorf("after acknowledging, the alert reads %q", got)
	}
	b.screenshot("18-alerts")
	b.open("/", "#kpi-this-week")
	if b.eval(`document.querySelector('#open-alerts') !== null`) {
		t.Error("the dashboard still shows an open alert after it was acknowledged")
	}

	p := &browser{t: t, ctx: newBrowser(t, 390, 844), base: f.srv.URL, shots: b.shots}
	p.signIn(manager.Email)
	for _, pg := range []struct{ path, wait, name string }{
		{"/touchpoints", "svg.matrix", "19-phone-touchpoints"},
		{"/touchpoints/complaint", "#verdict", "20-phone-touchpoint"},
	} {
		p.open(pg.path, pg.wait)
		if p.eval(`document.documentElement.scrollWidth > window.innerWidth`) {
			t.Errorf("%s is wider than a phone's screen", pg.path)
		}
		p.screenshot(pg.name)
	}
}
