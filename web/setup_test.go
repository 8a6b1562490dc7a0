package web_test

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
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
	"github.com/rapport-crm/rapport/web"
)

// testPassword is every fixture user's password.
const testPassword = "correct horse battery"

// testNow is the fixture's time: a Wednesday, so this week and last both
// have days before and after it.
var testNow = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

// fixture is the UI served from a fresh SQLite database with a small firm:
// a user of each role and a few customers with some history.
type fixture struct {
	srv       *httptest.Server
	clock     *testdb.Clock
	cfg       web.Config
	users     map[rapport.Role]*rapport.User
	customers map[string]*rapport.Customer // by name
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	clock := testdb.NewClock(testNow)
	db := testdb.SQLite(t, clock.Now)
	f := &fixture{clock: clock, users: map[rapport.Role]*rapport.User{}, customers: map[string]*rapport.Customer{}}
	f.cfg = web.Config{
		Customers:   sqlstore.NewCustomerService(db),
		Moments:     sqlstore.NewMomentService(db),
		Touchpoints: sqlstore.NewTouchpointService(db),
		Timeline:    sqlstore.NewTimelineService(db),
		Users:       sqlstore.NewUserService(db),
		Passwords:   sqlstore.NewPasswordService(db),
		Sessions:    sqlstore.NewSessionService(db),
		Dashboard:   sqlstore.NewDashboardService(db),
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Clock:       clock.Now,
	}
	for _, u := range []*rapport.User{
		{Email: "ada@example.com", Name: "Ada Admin", Role: rapport.RoleAdmin},
		{Email: "mo@example.com", Name: "Mo Manager", Role: rapport.RoleManager},
		{Email: "alex@example.com", Name: "Alex Agent", Role: rapport.RoleAgent, Team: "Front desk"},
		{Email: "vic@example.com", Name: "Vic Viewer", Role: rapport.RoleViewer},
	} {
		if err := f.cfg.Users.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if err := f.cfg.Passwords.SetPassword(ctx, u.ID, testPassword); err != nil {
			t.Fatal(err)
		}
		f.users[u.Role] = u
	}
	agent := f.users[rapport.RoleAgent]
	for _, c := range []*rapport.Customer{
		{Name: "Harriet Vane", Email: "harriet@vane.example", Phone: "+44 20 7946 0001", Stage: rapport.StageCommitment,
			Preferences: rapport.Preferences{Likes: []string{"Morning calls", "Plain English"}, Dislikes: []string{"Hold music"}},
			Attributes:  map[string]any{"segment": "premium", "policies": 3.0}},
		{Name: "Peter Wimsey", Email: "peter@wimsey.example", Stage: rapport.StageExpansion},
		{Name: "Bunter & Co", Kind: rapport.KindOrganisation, Email: "office@bunter.example", Stage: rapport.StageExploration},
		{Name: "Miss Climpson", Phone: "+44 20 7946 0004", Stage: rapport.StageAwareness},
		{Name: "Sally Conway", Email: "sally@example.org", Stage: rapport.StageDissolution},
	} {
		c.OwnerID = agent.ID
		if err := f.cfg.Customers.CreateCustomer(ctx, c); err != nil {
			t.Fatal(err)
		}
		f.customers[c.Name] = c
	}
	f.seedMoments(t)
	f.srv = httptest.NewServer(web.New(f.cfg))
	t.Cleanup(f.srv.Close)
	return f
}

// seedMoments gives the customers twelve weeks of moments, from a fixed
// seed so that pages and screenshots are the same on every run.
func (f *fixture) seedMoments(t *testing.T) {
	t.Helper()
	rnd := rand.New(rand.NewPCG(4, 2))
	tps := []string{"greeting", "query", "complaint", "offer", "purchase", "delivery", "service", "closing"}
	var names []string
	for n := range f.customers {
		names = append(names, n)
	}
	notes := map[int][]string{
		1: {"Waited forty minutes on hold.", "Card arrived late, and nobody called back."},
		2: {"Had to explain the problem three times.", ""},
		3: {"", "Asked about renewal dates."},
		4: {"", "Quick answer about cover."},
		5: {"Very pleased with the quick answer.", "Remembered her last visit by name.", ""},
	}
	var ms []*rapport.Moment
	for i := range 90 {
		rating := 1 + rnd.IntN(5)
		if rnd.IntN(3) > 0 {
			rating = max(rating, 3+rnd.IntN(3)) // mostly good, as in most firms
		}
		ms = append(ms, &rapport.Moment{
			CustomerID: f.customers[names[i%len(names)]].ID,
			Touchpoint: tps[rnd.IntN(len(tps))],
			Channel:    rapport.Channels[rnd.IntN(5)],
			OccurredAt: testNow.Add(-time.Duration(rnd.IntN(12*7*24)) * time.Hour).Add(-time.Hour),
			StaffID:    f.users[rapport.RoleAgent].ID,
			Rating:     &rating,
			Notes:      notes[rating][rnd.IntN(len(notes[rating]))],
		})
	}
	if _, err := f.cfg.Moments.RecordMoments(context.Background(), ms); err != nil {
		t.Fatal(err)
	}
}

// client is a browser stand-in: it keeps cookies and does not follow redirects.
type client struct {
	t    *testing.T
	http *http.Client
	base string
}

func (f *fixture) newClient(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: f.srv.URL, http: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// signedIn returns a client signed in as the fixture's user of that role.
func (f *fixture) signedIn(t *testing.T, role rapport.Role) *client {
	t.Helper()
	c := f.newClient(t)
	_, body := c.get("/signin")
	resp := c.post("/signin", url.Values{"email": {f.users[role].Email}, "password": {testPassword}, "csrf_token": {csrfIn(body)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in as %s: status %d; want 303", role, resp.StatusCode)
	}
	return c
}

func (c *client) do(req *http.Request) *http.Response {
	c.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp
}

// get fetches a page and returns its status and body.
func (c *client) get(path string) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.base+path, nil)
	resp := c.do(req)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// post sends a form as it is, token included or not.
func (c *client) post(path string, form url.Values) *http.Response {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp := c.do(req)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(strings.NewReader(string(b)))
	return resp
}

// submit posts a form with the CSRF token of the page at from.
func (c *client) submit(from, path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	_, page := c.get(from)
	form.Set("csrf_token", csrfIn(page))
	resp := c.post(path, form)
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var csrfPattern = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrfIn returns the first CSRF token in a page.
func csrfIn(page string) string {
	m := csrfPattern.FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return m[1]
}
