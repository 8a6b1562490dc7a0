package survey_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
	"github.com/rapport-crm/rapport/survey"
)

var epoch = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// fixture is the survey pages on a real server over a SQLite database,
// with one customer's moment to rate.
type fixture struct {
	t       *testing.T
	clock   *testdb.Clock
	db      *sqlstore.DB
	srv     *httptest.Server
	surveys *sqlstore.SurveyService
	moment  *rapport.Moment
}

func newFixture(t *testing.T, cfg survey.Config) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{t: t, clock: testdb.NewClock(epoch)}
	f.db = testdb.SQLite(t, f.clock.Now)
	f.surveys = sqlstore.NewSurveyService(f.db)
	c := &rapport.Customer{Name: "Secret Customer", Email: "secret@example.com"}
	if err := sqlstore.NewCustomerService(f.db).CreateCustomer(ctx, c); err != nil {
		t.Fatal(err)
	}
	f.moment = &rapport.Moment{CustomerID: c.ID, Touchpoint: "service", Channel: rapport.ChannelPhone,
		OccurredAt: time.Date(2026, 11, 19, 15, 0, 0, 0, time.UTC), Notes: "Claim 4471 for Secret Customer"}
	if _, err := sqlstore.NewMomentService(f.db).RecordMoment(ctx, f.moment); err != nil {
		t.Fatal(err)
	}
	cfg.Surveys, cfg.Clock = f.surveys, f.clock.Now
	if cfg.Emails == nil {
		cfg.Emails = sqlstore.NewEmailService(f.db, sqlstore.EmailOptions{})
	}
	if cfg.FirmName == "" {
		cfg.FirmName = "Harbour Mutual"
	}
	f.srv = httptest.NewServer(survey.New(cfg))
	t.Cleanup(f.srv.Close)
	return f
}

// link makes a survey link for the moment and returns its URL on the server.
func (f *fixture) link(ttl time.Duration) string {
	f.t.Helper()
	l, err := f.surveys.CreateSurveyLink(context.Background(), f.moment.ID, ttl)
	if err != nil {
		f.t.Fatal(err)
	}
	return f.srv.URL + l.URL
}

// browser is a client that keeps cookies, as a phone's browser does.
func (f *fixture) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

func (f *fixture) get(c *http.Client, u string) (int, http.Header, string) {
	f.t.Helper()
	res, err := c.Get(u)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

// post sends the form as the page does, with the nonce it showed and the
// browser's Origin.
func (f *fixture) post(c *http.Client, u string, form url.Values, origin string) (int, string) {
	f.t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	res, err := c.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

var nonceRE = regexp.MustCompile(`name="nonce" value="([^"]+)"`)

func nonceOf(t *testing.T, page string) string {
	t.Helper()
	m := nonceRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no nonce in the page:\n%s", page)
	}
	return m[1]
}

func (f *fixture) storedMoment() *rapport.Moment {
	f.t.Helper()
	m, err := sqlstore.NewMomentService(f.db).FindMomentByID(context.Background(), f.moment.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return m
}

func TestSurveyAnsweredOnce(t *testing.T) {
	f := newFixture(t, survey.Config{})
	u := f.link(0)
	b := f.browser()
	status, h, page := f.get(b, u)
	if status != 200 {
		t.Fatalf("GET link = %d; want 200\n%s", status, page)
	}
	for _, want := range []string{"Harbour Mutual", "Service visit", "19 November 2026", `name="rating"`, `name="effort"`, `name="nps"`, `name="comment"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, secret := range []string{"Secret Customer", "secret@example.com", "4471", f.moment.ID, f.moment.CustomerID} {
		if strings.Contains(page, secret) {
			t.Errorf("page reveals %q", secret)
		}
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "style=") || regexp.MustCompile(`(src|href)="(https?:)?//`).MatchString(page) {
		t.Errorf("page has a script, inline style or external resource:\n%s", page)
	}
	for k, want := range map[string]string{
		"Content-Security-Policy": "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"Referrer-Policy":         "same-origin", "X-Frame-Options": "DENY", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q; want %q", k, got, want)
		}
	}
	if c := h.Get("Set-Cookie"); !strings.Contains(c, "SameSite=Strict") || !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "Path=/s/") {
		t.Errorf("Set-Cookie = %q; want a SameSite=Strict, HttpOnly cookie for the link's path", c)
	}
	if status, h, css := f.get(b, f.srv.URL+"/s/static/survey.css"); status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/css") || !strings.Contains(css, ".options") {
		t.Errorf("GET stylesheet = %d %q", status, h.Get("Content-Type"))
	}

	nonce := nonceOf(t, page)
	form := url.Values{"nonce": {nonce}, "rating": {"2"}, "effort": {"6"}, "nps": {""}, "comment": {"Took three calls"}}
	// A form sent from another site is refused, and changes nothing.
	if status, _ := f.post(b, u, form, "https://evil.example"); status != http.StatusForbidden {
		t.Errorf("POST from another origin = %d; want 403", status)
	}
	// A form without the page's cookie is refused and shown again.
	if status, body := f.post(http.DefaultClient, u, form, f.srv.URL); status != http.StatusForbidden || !strings.Contains(body, "send it again") {
		t.Errorf("POST without the cookie = %d; want 403 and the form again", status)
	}
	// An invalid answer is shown again with the problem.
	bad := url.Values{"nonce": {nonce}, "rating": {"9"}, "comment": {"kept"}}
	if status, body := f.post(b, u, bad, f.srv.URL); status != http.StatusUnprocessableEntity || !strings.Contains(body, "from 1 to 5") ||
		!strings.Contains(body, ">kept</textarea>") {
		t.Errorf("POST rating 9 = %d; want 422 with the error and the comment kept\n%s", status, body)
	}
	if m := f.storedMoment(); m.Rating != nil {
		t.Fatalf("refused answers changed the moment: %s", m.Notes)
	}

	_, _, page = f.get(b, u)
	form.Set("nonce", nonceOf(t, page))
	status, body := f.post(b, u, form, f.srv.URL)
	if status != 200 || !strings.Contains(body, "Thank you") {
		t.Fatalf("POST answer = %d; want 200 and thanks\n%s", status, body)
	}
	m := f.storedMoment()
	if m.Rating == nil || *m.Rating != 2 || m.Effort == nil || *m.Effort != 6 || m.NPS != nil || m.Outcome != rapport.OutcomeMisery ||
		!strings.Contains(m.Notes, "Took three calls") {
		t.Errorf("moment after the answer = rating %v, outcome %s, notes %q", m.Rating, m.Outcome, m.Notes)
	}
	cases, err := sqlstore.NewRecoveryService(f.db).FindCases(context.Background(), rapport.CaseFilter{CustomerID: m.CustomerID})
	if err != nil || len(cases.Items) != 1 {
		t.Errorf("cases after a misery answer = %d, %v; want 1", len(cases.Items), err)
	}

	// A second answer is refused politely, and the page says it is answered.
	form.Set("rating", "5")
	if status, body := f.post(b, u, form, f.srv.URL); status != http.StatusConflict || !strings.Contains(body, "answered already") {
		t.Errorf("second POST = %d; want 409 and a polite refusal\n%s", status, body)
	}
	if status, _, body := f.get(b, u); status != 200 || !strings.Contains(body, "answered already") || strings.Contains(body, `name="rating"`) {
		t.Errorf("GET after answering = %d; want the answered page without the form", status)
	}
	if m := f.storedMoment(); *m.Rating != 2 {
		t.Errorf("after the refused second answer, rating %d; want 2", *m.Rating)
	}
}

func TestSurveyUnknownAndExpired(t *testing.T) {
	f := newFixture(t, survey.Config{})
	u := f.link(time.Hour)
	b := f.browser()
	_, _, page := f.get(b, u)
	nonce := nonceOf(t, page)
	_, _, unknown := f.get(b, f.srv.URL+"/s/q3Vx9mZk2bN7wR4tY8uE1oP6sA0dF5gH2jK9lC3vB7n")
	f.clock.Add(time.Hour)
	status, _, expired := f.get(b, u)
	if status != http.StatusNotFound || expired != unknown {
		t.Errorf("GET expired = %d; want 404 with the very page an unknown token gets", status)
	}
	if !strings.Contains(expired, "does not work any more") || strings.Contains(expired, "Service visit") {
		t.Errorf("expired page reveals the survey or is not polite:\n%s", expired)
	}
	if status, _ := f.post(b, u, url.Values{"nonce": {nonce}, "rating": {"4"}}, ""); status != http.StatusNotFound {
		t.Errorf("POST to an expired link = %d; want 404", status)
	}
	for _, path := range []string{"/s/", "/s/x", "/s/static/nothing.css", "/s/" + strings.Repeat("A", 43)} {
		if status, _, body := f.get(b, f.srv.URL+path); status != http.StatusNotFound || body != unknown {
			t.Errorf("GET %s = %d; want the same 404 page", path, status)
		}
	}
	if m := f.storedMoment(); m.Rating != nil {
		t.Errorf("an expired link changed the moment")
	}
}

func TestSurveyRateLimit(t *testing.T) {
	f := newFixture(t, survey.Config{RatePerMinute: 6, Burst: 3})
	u := f.link(0)
	b := f.browser()
	for i := range 3 {
		if status, _, _ := f.get(b, u); status != 200 {
			t.Fatalf("request %d = %d; want 200 within the burst", i+1, status)
		}
	}
	res, err := b.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "11" || !strings.Contains(string(body), "Please wait") {
		t.Errorf("request past the burst = %d, Retry-After %q; want 429 after 11 seconds", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if status, _, _ := f.get(b, f.srv.URL+"/s/static/survey.css"); status != 200 {
		t.Errorf("stylesheet while limited = %d; want 200 (only the pages are limited)", status)
	}
	f.clock.Add(10 * time.Second)
	if status, _, _ := f.get(b, u); status != 200 {
		t.Errorf("after 10 seconds = %d; want 200 (one token back)", status)
	}
	if status, _, _ := f.get(b, u); status != http.StatusTooManyRequests {
		t.Errorf("straight after = %d; want 429", status)
	}
}

// TestSurveyOrigins checks where a post may come from when a browser says
// so by its headers: the page itself, or the public address a proxy serves it
// at; not another site, nor a hidden ("null") origin with nothing else to go on.
func TestSurveyOrigins(t *testing.T) {
	f := newFixture(t, survey.Config{PublicURL: "https://feedback.harbour.example/rapport", Burst: 100})
	u := f.link(0)
	b := f.browser()
	for _, tc := range []struct {
		origin, fetchSite string
		want              int
	}{
		{"null", "", http.StatusForbidden},
		{"https://evil.example", "", http.StatusForbidden},
		{"", "cross-site", http.StatusForbidden},
		{"", "same-site", http.StatusForbidden},
		{"null", "same-origin", http.StatusOK},
		{"https://feedback.harbour.example", "", http.StatusOK},
	} {
		_, _, page := f.get(b, u)
		form := url.Values{"nonce": {nonceOf(t, page)}, "rating": {"9"}}
		req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		if tc.fetchSite != "" {
			req.Header.Set("Sec-Fetch-Site", tc.fetchSite)
		}
		res, err := b.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		// A post that passes the origin check fails on the rating 9 (422),
		// so the moment is never changed here.
		got := res.StatusCode
		if got == http.StatusUnprocessableEntity {
			got = http.StatusOK
		}
		if got != tc.want {
			t.Errorf("POST with Origin %q, Sec-Fetch-Site %q = %d; want %d (422 counts as passing the check)", tc.origin, tc.fetchSite, res.StatusCode, tc.want)
		}
	}
}
