package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/demo"
	"github.com/rapport-crm/rapport/internal/testbrowser"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
	"github.com/rapport-crm/rapport/web"
)

// demoFirm is the UI served over a small demo firm, as a newcomer sees it
// with "rapport serve --demo": its staff sign in with testPassword.
type demoFirm struct {
	srv      *httptest.Server
	services rapport.Services
	logins   map[rapport.Role]string // each role's email
}

// demoDay is the day the demo firm's year ends.
var demoDay = time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)

func newDemoFirm(t *testing.T) *demoFirm {
	t.Helper()
	ctx := context.Background()
	clock := testdb.NewClock(demoDay.Add(10 * time.Hour))
	db := testdb.SQLite(t, clock.Now)
	sum, err := demo.Populate(ctx, db, demo.Config{Seed: 1, Customers: 400, Now: demoDay})
	if err != nil {
		t.Fatalf("demo.Populate = %v", err)
	}
	d := &demoFirm{services: sqlstore.NewServices(db, sqlstore.Options{}), logins: map[rapport.Role]string{}}
	for _, l := range sum.Logins {
		u, err := d.services.Users.FindUserByEmail(ctx, l.Email)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.services.Passwords.SetPassword(ctx, u.ID, testPassword); err != nil {
			t.Fatal(err)
		}
		d.logins[l.Role] = l.Email
	}
	d.srv = httptest.NewServer(web.New(d.services, web.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Clock: clock.Now}))
	t.Cleanup(d.srv.Close)
	return d
}

// page is a page of the UI to check, an element that shows it loaded, and
// the name of its screenshot.
type page struct{ path, wait, name string }

// mainPages are the pages people work from, with a customer, a case and a
// segment of the firm's.
func (d *demoFirm) mainPages(t *testing.T) []page {
	t.Helper()
	ctx := context.Background()
	customers, err := d.services.Customers.FindCustomers(ctx, rapport.CustomerFilter{Limit: 1})
	if err != nil || len(customers.Items) == 0 {
		t.Fatalf("FindCustomers = %v, %d customers", err, len(customers.Items))
	}
	cases, err := d.services.Recovery.FindCases(ctx, rapport.CaseFilter{Limit: 1})
	if err != nil || len(cases.Items) == 0 {
		t.Fatalf("FindCases = %v, %d cases", err, len(cases.Items))
	}
	segments, err := d.services.Segments.FindSegments(ctx)
	if err != nil || len(segments) == 0 {
		t.Fatalf("FindSegments = %v, %d segments", err, len(segments))
	}
	rules, err := d.services.Gestures.FindGestureRules(ctx)
	if err != nil || len(rules) == 0 {
		t.Fatalf("FindGestureRules = %v, %d rules", err, len(rules))
	}
	offers, err := d.services.Offers.FindOffers(ctx)
	if err != nil || len(offers) == 0 {
		t.Fatalf("FindOffers = %v, %d offers", err, len(offers))
	}
	c, k, s := customers.Items[0].ID, cases.Items[0].ID, segments[0].ID
	return []page{
		{"/", "#kpi-this-week", "dashboard"},
		{"/customers", "#customer-search", "customers"},
		{"/customers/" + c, "#log-moment", "customer"},
		{"/customers/" + c + "/timeline", "h1", "timeline"},
		{"/customers/" + c + "/brief", "h1", "brief"},
		{"/customers/" + c + "/edit", "form", "customer-edit"},
		{"/customers/new", "form", "customer-new"},
		{"/customers/import", "form", "customer-import"},
		{"/moments/new", "#quick-entry", "log-moment"},
		{"/cases", "h1", "cases"},
		{"/cases/" + k, "h1", "case"},
		{"/promises", "h1", "promises"},
		{"/segments", "h1", "segments"},
		{"/segments/" + s, "h1", "segment"},
		{"/segments/new", "form", "segment-new"},
		{"/touchpoints", "svg.matrix", "touchpoints"},
		{"/touchpoints/complaint", "#verdict", "touchpoint"},
		{"/touchpoints/complaint/edit", "form", "touchpoint-edit"},
		{"/touchpoints/new", "form", "touchpoint-new"},
		{"/offers", "h1", "offers"},
		{"/offers/" + offers[0].ID, "#offer-report", "offer"},
		{"/gestures", "#gesture-rules", "gestures"},
		{"/gestures/" + rules[0].ID, "#gesture-report", "gesture-rule"},
		{"/alerts", "h1", "alerts"},
		{"/reports/outcomes", "h1", "outcomes"},
		{"/reports/recovery", "h1", "recovery-report"},
		{"/reports/promises", "h1", "promise-report"},
		{"/settings", "h1", "settings"},
		{"/settings/audit", "h1", "audit"},
		{"/settings/rules", "#levels-form", "service-rules"},
		{"/settings/users", "#user-list", "users"},
	}
}

// TestBrowserDemoPhone opens every main page of the demo firm as its admin
// on a phone (390 px) and on a desk (1280 px): no page scrolls sideways, no
// button is cut off, and chart labels are at least 11 px tall. On the phone
// the menu folds behind a button that opens it, with every page in reach.
// It saves a screenshot of each page at each width.
func TestBrowserDemoPhone(t *testing.T) {
	d := newDemoFirm(t)
	pages := d.mainPages(t)
	for _, w := range []struct {
		name          string
		width, height int
	}{{"phone", 390, 844}, {"desk", 1280, 900}} {
		b := newBrowser(t, w.width, w.height, d.srv.URL)
		b.signIn(d.logins[rapport.RoleAdmin])
		for _, p := range pages {
			b.Open(p.path, p.wait)
			if b.WiderThanScreen() {
				width := testbrowser.Get(b.Page, "page width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
				t.Errorf("%s at %d px: the page is %d px wide", p.path, w.width, width)
			}
			if clipped := b.Clipped(); len(clipped) > 0 {
				t.Errorf("%s at %d px: buttons cut off: %q", p.path, w.width, clipped)
			}
			if small := b.SmallText(11); len(small) > 0 {
				t.Errorf("%s at %d px: chart labels too small to read: %q", p.path, w.width, small)
			}
			b.Screenshot("demo-" + w.name + "-" + p.name)
		}
	}
}

// TestBrowserPhoneMenu opens the folded menu on a phone and follows it:
// every page of the menu is on the screen once it is open, and Escape
// folds it again.
func TestBrowserPhoneMenu(t *testing.T) {
	d := newDemoFirm(t)
	b := newBrowser(t, 390, 844, d.srv.URL)
	b.signIn(d.logins[rapport.RoleAgent])
	if b.Eval(`[...document.querySelectorAll('.nav a')].some(a => a.getBoundingClientRect().width > 0)`) {
		t.Error("on a phone the menu's links show before the menu is opened")
	}
	b.Do("open the menu", chromedp.Click(css(".nav-toggle")), chromedp.WaitVisible(css(".nav a[href='/alerts']")))
	if !b.Eval(`[...document.querySelectorAll('.nav a')].every(a => { const r = a.getBoundingClientRect(); return r.width > 0 && r.left >= 0 && r.right <= innerWidth && r.bottom <= innerHeight })`) {
		t.Error("with the menu open, a link of the menu is off the phone's screen")
	}
	if got := b.Text(".nav-toggle"); !strings.Contains(got, "Menu") || !b.Eval(`document.querySelector('.nav-toggle').getAttribute('aria-expanded') === 'true'`) {
		t.Errorf("the open menu's button reads %q and is not marked expanded", got)
	}
	b.Screenshot("phone-menu-open")
	b.Do("follow the menu to the promises", chromedp.Click(css(".nav a[href='/promises']")), chromedp.WaitVisible(css("h1")))
	if got := b.Location(); !strings.HasSuffix(got, "/promises") {
		t.Errorf("the menu's Promises led to %s", got)
	}
	b.Do("open the menu and press Escape", chromedp.Click(css(".nav-toggle")), chromedp.WaitVisible(css(".nav a")), chromedp.KeyEvent("\x1b"))
	b.WaitUntil("the menu folds", `document.querySelector('.nav a').getBoundingClientRect().width === 0`)
}

// TestBrowserAgentDay is the demo firm's agent at work on a phone: the
// recovery queue opens on their own cases with a count on each tab, a case
// opens from it; on the promises page one promise is kept, and another is
// marked broken only once that is confirmed (first declined).
func TestBrowserAgentDay(t *testing.T) {
	d := newDemoFirm(t)
	b := newBrowser(t, 390, 844, d.srv.URL)
	b.signIn(d.logins[rapport.RoleAgent])

	b.Open("/cases", "#cases")
	mine := b.Text("#tab-mine .tab-count")
	if !b.Eval(`document.querySelector('#tab-mine').getAttribute('aria-current') === 'page'`) || mine == "0" {
		t.Errorf("the agent's queue opens elsewhere than on their own %s cases", mine)
	}
	b.Screenshot("agent-01-queue")
	b.Do("open the first case", chromedp.Click(css("#cases .case-link")), chromedp.WaitVisible(css("h1")))
	if !strings.Contains(b.Location(), "/cases/") {
		t.Errorf("the case's link led to %s", b.Location())
	}
	b.Screenshot("agent-02-case")

	b.Open("/promises", ".promise-list")
	first := testbrowser.Get(b.Page, "the first promise", chromedp.Evaluate[string](`document.querySelector('.promise-list .promise-item').id`))
	b.Do("keep the first promise", chromedp.Click(css(".promise-list .button-good")), chromedp.WaitVisible(css(".flash")))
	if got := b.Text(".flash"); !strings.Contains(got, "Promise kept") {
		t.Errorf("after Kept the page says %q", got)
	}
	if b.Eval(`document.getElementById(` + strconv.Quote(first) + `) !== null`) {
		t.Errorf("the kept promise %s is still listed as due", first)
	}
	next := testbrowser.Get(b.Page, "the next promise", chromedp.Evaluate[string](`document.querySelector('.promise-list .promise-item').id`))
	nextText := b.Text(".promise-list .promise-text")
	b.Do("press Broken", chromedp.Click(css(".promise-list .button-danger")), chromedp.WaitVisible(css("#confirm-broken")))
	if got := b.Text("main"); !strings.Contains(got, nextText) || !strings.Contains(got, "a recovery case opens for it") {
		t.Errorf("the confirmation reads %q; want the promise %q and what follows", got, nextText)
	}
	b.Screenshot("agent-03-confirm-broken")
	b.Do("decline", chromedp.Click(css("#confirm-broken a")), chromedp.WaitVisible(css(".promise-list")))
	if !b.Eval(`document.querySelector('.promise-list .promise-item').id === ` + strconv.Quote(next)) {
		t.Errorf("after declining, the promise %s is not first due, still open", next)
	}
	b.Do("press Broken and confirm", chromedp.Click(css(".promise-list .button-danger")), chromedp.WaitVisible(css("#confirm-broken")),
		chromedp.Click(css("#confirm-broken button")), chromedp.WaitVisible(css(".flash")))
	if got := b.Text(".flash"); !strings.Contains(got, "Promise marked broken") {
		t.Errorf("after confirming, the page says %q", got)
	}
	b.Screenshot("agent-04-promises")
}

// choose picks an option of a select as a person does, telling the page.
func (b *browser) choose(sel, value string) {
	b.T.Helper()
	b.Do("choose "+value+" in "+sel, chromedp.SetValue(css(sel), value),
		chromedp.Evaluate[testbrowser.Void](`document.querySelector(`+strconv.Quote(sel)+`).dispatchEvent(new Event("change", {bubbles: true}))`))
}

// TestBrowserManagerDay is the demo firm's manager at a desk: the customer
// list filtered to high risk and sorted by it, as the count and the address
// say, saved as a view, and opened again from its name; then a service
// level changed from the service rules the account menu leads to.
func TestBrowserManagerDay(t *testing.T) {
	d := newDemoFirm(t)
	b := newBrowser(t, 1280, 900, d.srv.URL)
	b.signIn(d.logins[rapport.RoleManager])
	b.Open("/customers", "#customer-count")
	all := b.Text("#customer-count")
	b.choose("#f-risk", "high")
	b.WaitUntil("the list filtered", `document.querySelector('#customer-count').textContent.includes('with these filters')`)
	b.choose("#f-sort", "risk")
	b.WaitUntil("the list sorted", `location.search.includes('sort=risk')`)
	b.WaitUntil("the list sorted", `document.querySelector('th[aria-sort] a')?.textContent === 'Risk'`)
	filtered := b.Text("#customer-count")
	if filtered == all || !strings.Contains(b.Location(), "risk=high") {
		t.Errorf("filtered to high risk the list says %q at %s; before it said %q", filtered, b.Location(), all)
	}
	risks := testbrowser.Get(b.Page, "risks", chromedp.Evaluate[[]int](`[...document.querySelectorAll('#customer-results tbody td:nth-child(5) .score')].map(s => +s.textContent)`))
	if len(risks) == 0 || !slices.IsSortedFunc(risks, func(a, b int) int { return b - a }) || risks[len(risks)-1] < 70 {
		t.Errorf("the high-risk list's risks read %v; want 70 or more, the highest first", risks)
	}
	b.Screenshot("manager-01-customers-filtered")

	b.Do("save the view", chromedp.Click(css(".view-save summary")), chromedp.SendKeys(css("#f-view-name"), "High risk first"),
		chromedp.Submit(css("#f-view-name")), chromedp.WaitVisible(css(".flash")))
	if got := b.Text(".view-current"); !strings.Contains(got, "High risk first") {
		t.Errorf("after saving, the current view reads %q", got)
	}
	b.Open("/customers", "#customer-count")
	b.Do("open the view", chromedp.Click(css(`.view-chip a`)), chromedp.WaitVisible(css(".view-current")))
	if got := b.Text("#customer-count"); got != filtered {
		t.Errorf("the saved view says %q; want %q as when it was saved", got, filtered)
	}
	b.Screenshot("manager-02-customers-view")

	b.Do("open the service rules", chromedp.Click(css(".usermenu summary")), chromedp.Click(css("#rules-link")), chromedp.WaitVisible(css("#levels-form")))
	b.Do("give complaints 8 hours", chromedp.SetValue(css("#f-hours_complaint"), "8"), chromedp.Submit(css("#f-hours_complaint")),
		chromedp.WaitVisible(css(".flash")))
	if got := b.Text(".flash"); !strings.Contains(got, "Service levels saved") || b.Value("#f-hours_complaint") != "8" {
		t.Errorf("after saving, the page says %q and complaints have %s hours; want 8", got, b.Value("#f-hours_complaint"))
	}
	if sl, err := d.services.Recovery.FindServiceLevel(context.Background(), "complaint"); err != nil || sl.Hours != 8 {
		t.Errorf("the complaint's service level is %v (%v); want 8 hours", sl, err)
	}
	b.Screenshot("manager-03-service-rules")
}
