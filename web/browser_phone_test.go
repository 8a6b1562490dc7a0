package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/analytics"
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
	d.srv = httptest.NewServer(web.New(d.services, web.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Clock: clock.Now,
		Currency: demo.Currency}))
	t.Cleanup(d.srv.Close)
	return d
}

// page is a page of the UI to check, an element that shows it loaded, and
// the name of its screenshot.
type page struct{ path, wait, name string }

// user is the demo firm's user who signs in with role.
func (d *demoFirm) user(t *testing.T, role rapport.Role) *rapport.User {
	t.Helper()
	u, err := d.services.Users.FindUserByEmail(context.Background(), d.logins[role])
	if err != nil {
		t.Fatal(err)
	}
	return u
}

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
		{"/customers/" + c + "?touchpoint=complaint", "#f-response", "customer-log-complaint"},
		{"/today", "h1", "my-day"},
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

// responseKeys are the keys of the firm's responses written with an
// underscore: the ones a page would show unread if it showed the key.
func (d *demoFirm) responseKeys(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	tps, err := d.services.Touchpoints.FindTouchpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, tp := range tps {
		rs, err := d.services.Responses.FindResponses(ctx, tp.Key)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if strings.Contains(r.Key, "_") {
				keys = append(keys, r.Key)
			}
		}
	}
	if len(keys) == 0 {
		t.Fatal("the demo firm has no response with a key of more than one word")
	}
	return keys
}

// RawKeys lists the keys the page's text shows as they are.
func (b *browser) RawKeys(keys []string) []string {
	b.T.Helper()
	text := b.Text("body")
	var out []string
	for _, k := range keys {
		if strings.Contains(text, k) {
			out = append(out, k)
		}
	}
	return out
}

// TestBrowserDemoPhone opens every main page of the demo firm as its admin
// on a phone (390 px) and on a desk (1280 px): no page scrolls sideways, no
// button is cut off, no table or chart label is cut off inside its card,
// chart labels are at least 11 px tall, and no response is named by its key. On the phone
// the menu folds behind a button that opens it, with every page in reach.
// It saves a screenshot of each page at each width.
func TestBrowserDemoPhone(t *testing.T) {
	d := newDemoFirm(t)
	pages := d.mainPages(t)
	keys := d.responseKeys(t)
	for _, w := range []struct {
		name          string
		width, height int
	}{{"phone", 390, 844}, {"desk", 1280, 900}} {
		b := newBrowser(t, w.width, w.height, d.srv.URL)
		b.signIn(d.logins[rapport.RoleAdmin])
		for _, p := range pages {
			b.Open(p.path, p.wait)
			if raw := b.RawKeys(keys); len(raw) > 0 {
				t.Errorf("%s at %d px: keys shown rather than names: %q", p.path, w.width, raw)
			}
			if b.WiderThanScreen() {
				width := testbrowser.Get(b.Page, "page width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
				t.Errorf("%s at %d px: the page is %d px wide", p.path, w.width, width)
			}
			if clipped := b.Clipped(); len(clipped) > 0 {
				t.Errorf("%s at %d px: buttons cut off: %q", p.path, w.width, clipped)
			}
			if cut := b.CutOff(); len(cut) > 0 {
				t.Errorf("%s at %d px: cut off inside the page: %q", p.path, w.width, cut)
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

// TestBrowserAgentDay is the demo firm's agent at work on a phone: signed
// in, the recovery queue opens on their own cases with a count on each tab,
// a case opens from it; on that customer's page a complaint is logged, the
// form says a case opened and the open items show it without a reload; on
// the promises page one promise is kept, and another is marked broken only
// once that is confirmed (first declined).
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

	// From the case to the customer, where a complaint is logged: the form
	// says a case opened and links to it, and the panel of open items shows
	// it at once, without the page being loaded again.
	b.Do("open the customer's page", chromedp.Click(css(`.page-head a[href^="/customers/"]`)), chromedp.WaitVisible(css("#log-moment")))
	openCases := testbrowser.Get(b.Page, "open cases", chromedp.Evaluate[int](`document.querySelectorAll('#open-items a[href^="/cases/"]').length`))
	b.Do("log a complaint",
		chromedp.Evaluate[testbrowser.Void](`window.samePage = true`),
		chromedp.SetValue(css("#log-moment #f-touchpoint"), "complaint"),
		chromedp.Click(css("#log-moment input[name=channel][value=phone]")),
		chromedp.Click(css(`#log-moment input[name=rating][value="1"]`)),
		chromedp.SendKeys(css("#log-moment #f-notes"), "Still no refund after two calls."),
		chromedp.Click(css("#log-submit")),
		chromedp.WaitVisible(css("#log-moment .form-success")))
	logged := b.Text("#log-moment .form-success")
	caseLink := testbrowser.Get(b.Page, "the case's link", chromedp.Evaluate[string](`document.querySelector('#log-moment .form-success a')?.getAttribute('href') ?? ''`))
	if !strings.Contains(logged, "A recovery case opened") || !strings.HasPrefix(caseLink, "/cases/") {
		t.Errorf("after logging a complaint rated 1 the form says %q with the link %q; want the case that opened", logged, caseLink)
	}
	if !b.Eval(`window.samePage === true`) {
		t.Error("logging the moment loaded the page again")
	}
	if n := testbrowser.Get(b.Page, "open cases", chromedp.Evaluate[int](`document.querySelectorAll('#open-items a[href^="/cases/"]').length`)); n != openCases+1 ||
		!b.Eval(`document.querySelector('#open-items a[href=`+strconv.Quote(caseLink)+`]') !== null`) {
		t.Errorf("the open items list %d cases after the complaint, before %d, and lack %s; want the new case there at once", n, openCases, caseLink)
	}
	if got := b.Text(`#timeline .entry[id^="moment-"]`); !strings.Contains(got, "Still no refund") {
		t.Errorf("the newest timeline entry reads %q; want the complaint just logged", got)
	}
	b.Screenshot("agent-03-logged")

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
	b.Screenshot("agent-04-confirm-broken")
	b.Do("decline", chromedp.Click(css("#confirm-broken a")), chromedp.WaitVisible(css(".promise-list")))
	if !b.Eval(`document.querySelector('.promise-list .promise-item').id === ` + strconv.Quote(next)) {
		t.Errorf("after declining, the promise %s is not first due, still open", next)
	}
	b.Do("press Broken and confirm", chromedp.Click(css(".promise-list .button-danger")), chromedp.WaitVisible(css("#confirm-broken")),
		chromedp.Click(css("#confirm-broken button")), chromedp.WaitVisible(css(".flash")))
	if got := b.Text(".flash"); !strings.Contains(got, "Promise marked broken") || !strings.Contains(got, "A recovery case opened") {
		t.Errorf("after confirming, the page says %q; want the promise broken and the case it opened", got)
	}
	b.Screenshot("agent-05-promises")
	b.Do("follow the flash to the case", chromedp.Click(css(".flash a")), chromedp.WaitVisible(css("h1")))
	if got := b.Text("main"); !strings.Contains(b.Location(), "/cases/") || !strings.Contains(got, nextText) {
		t.Errorf("the flash's link led to %s, which reads %q; want the case of the broken promise %q", b.Location(), got, nextText)
	}
}

// choose picks an option of a select as a person does, telling the page.
func (b *browser) choose(sel, value string) {
	b.T.Helper()
	b.Do("choose "+value+" in "+sel, chromedp.SetValue(css(sel), value),
		chromedp.Evaluate[testbrowser.Void](`document.querySelector(`+strconv.Quote(sel)+`).dispatchEvent(new Event("change", {bubbles: true}))`))
}

// TestBrowserManagerDay is the demo firm's manager at a desk: the customer
// list filtered to high risk and sorted by it, as the count and the address
// say, exported as shown, saved as a view, and opened again from its name;
// then a service level changed from the service rules the account menu
// leads to; then the outcomes read, each rate with its interval.
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
	b.WaitUntil("the list settles", `!document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping') && document.querySelector('#customer-count')?.textContent.includes('with these filters')`)
	filtered := b.Text("#customer-count")
	if filtered == all || !strings.Contains(b.Location(), "risk=high") {
		t.Errorf("filtered to high risk the list says %q at %s; before it said %q", filtered, b.Location(), all)
	}
	risks := testbrowser.Get(b.Page, "risks", chromedp.Evaluate[[]int](`[...document.querySelectorAll('#customer-results tbody td:nth-child(5) .score')].map(s => +s.textContent)`))
	if len(risks) == 0 || !slices.IsSortedFunc(risks, func(a, b int) int { return b - a }) || risks[len(risks)-1] < 70 {
		t.Errorf("the high-risk list's risks read %v; want 70 or more, the highest first", risks)
	}
	b.Screenshot("manager-01-customers-filtered")

	// The export button gives the whole filtered list in the list's order.
	export := testbrowser.Get(b.Page, "the export", chromedp.Evaluate[string](`fetch(document.querySelector('#export-list').href).then(r => r.text())`,
		chromedp.EvalAwaitPromise))
	rows, err := csv.NewReader(strings.NewReader(export)).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("the export reads %d rows (%v):\n%s", len(rows), err, export)
	}
	if got := b.Text("#export-list"); !strings.Contains(got, strconv.Itoa(len(rows)-1)) || !strings.Contains(filtered, strconv.Itoa(len(rows)-1)) {
		t.Errorf("the export has %d customers; the button reads %q and the list %q", len(rows)-1, got, filtered)
	}
	shown := testbrowser.Get(b.Page, "names", chromedp.Evaluate[[]string](`[...document.querySelectorAll('#customer-results tbody th a')].map(a => a.textContent)`))
	for i, name := range shown {
		if rows[i+1][0] != name {
			t.Errorf("row %d of the export is %q; the list shows %q", i+1, rows[i+1][0], name)
			break
		}
	}
	for _, r := range rows[1:] {
		if risk, err := strconv.Atoi(r[6]); err != nil || risk < 70 {
			t.Errorf("the export of high risk has %q at risk %q", r[0], r[6])
			break
		}
	}

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

	// The outcomes: every rate with its 95% interval and n, the same as the
	// counts give; no revenue growth against a year before the firm's data.
	b.Open("/reports/outcomes", "#outcome-table")
	everyone, err := d.services.Outcomes.Outcomes(context.Background(), rapport.OutcomeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	r := everyone.Retention
	iv, _ := analytics.Proportion{Successes: r.Retained, Trials: r.ActiveAtStart}.Wilson(0.95)
	want := fmt.Sprintf("%.0f–%.0f%% · n=%s", math.Round(100*iv.Lo), math.Round(100*iv.Hi), thousands(r.ActiveAtStart))
	if got := b.Text(`#outcome-table tbody tr:nth-child(6) td:nth-child(2)`); !strings.Contains(got, want) {
		t.Errorf("everyone's retention reads %q; want its interval and n, %q", got, want)
	}
	if n := testbrowser.Get(b.Page, "intervals", chromedp.Evaluate[int](`document.querySelectorAll('#outcome-table td .ci').length`)); n < 6*2 {
		t.Errorf("the outcomes table shows %d intervals; want one under each rate of each column", n)
	}
	// The chart's retention bar of every customer has the same interval as
	// its whisker: the fourth group's first bar, on a 0–100 scale.
	whisker := testbrowser.Get(b.Page, "the retention whisker", chromedp.Evaluate[[]float64](
		`(l => [+l.getAttribute("x1"), +l.getAttribute("x2")])(document.querySelectorAll('.hbars .hbar-group')[3].querySelector('.hbar-ci'))`))
	if len(whisker) != 2 || math.Abs(whisker[0]-100*iv.Lo) > 0.01 || math.Abs(whisker[1]-100*iv.Hi) > 0.01 {
		t.Errorf("everyone's retention whisker runs %v; want %.2f to %.2f, the table's interval", whisker, 100*iv.Lo, 100*iv.Hi)
	}
	if got := b.Text(`#outcome-table tbody tr:nth-child(8) td:nth-child(2)`); got != "not enough history" {
		t.Errorf("everyone's revenue growth over the demo's first year reads %q; want not enough history", got)
	}
	if got := b.Text(`#outcome-table tbody tr:nth-child(9) td:nth-child(2)`); !strings.HasPrefix(got, "£") {
		t.Errorf("everyone's revenue per customer reads %q; want pounds, the demo firm's currency", got)
	}
	b.Screenshot("manager-04-outcomes")

	// Alerts say what happened first; the statistics are behind "Why". The
	// server's sweep raises them; here the test does.
	if _, err := d.services.Alerts.EvaluateAlerts(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.Open("/alerts", "h1")
	plain := testbrowser.Get(b.Page, "alerts", chromedp.Evaluate[[]string](`[...document.querySelectorAll('.alert-item .alert-message')].map(p => p.textContent)`))
	if len(plain) == 0 {
		t.Fatal("the demo firm has no alert to read")
	}
	for _, msg := range plain {
		if strings.Contains(msg, "p <") || strings.Contains(msg, "p =") || strings.Contains(msg, "t-test") || strings.Contains(msg, "one-sided") {
			t.Errorf("an alert opens with statistics: %q", msg)
		}
	}
	b.Do("ask why", chromedp.Click(css(".alert-item .alert-why summary")), chromedp.WaitVisible(css(".alert-item .alert-why p")))
	if got := b.Text(".alert-item .alert-why p"); !strings.Contains(got, "significantly") {
		t.Errorf("the first alert's why reads %q; want the test behind it", got)
	}
	b.Screenshot("manager-05-alerts")
}

// thousands writes n with a comma between each three digits, as the pages do.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
