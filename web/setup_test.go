package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
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
	db        *sqlstore.DB
	services  rapport.Services
	opts      web.Options
	users     map[rapport.Role]*rapport.User
	customers map[string]*rapport.Customer // by name
	// importsPaused holds import jobs queued, so that a test sees one waiting.
	importsPaused atomic.Bool
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	clock := testdb.NewClock(testNow)
	db := testdb.SQLite(t, clock.Now)
	f := &fixture{clock: clock, db: db, users: map[rapport.Role]*rapport.User{}, customers: map[string]*rapport.Customer{}}
	// Uploads are kept small so that a test can go past the limit.
	files := sqlstore.ImportFiles{Dir: t.TempDir(), MaxBytes: 512 << 10}
	f.services = sqlstore.NewServices(db, sqlstore.Options{Imports: files})
	f.opts = web.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Clock: clock.Now, MaxUploadBytes: files.MaxBytes}
	// Import jobs run in the background, as on a server.
	ctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		imports := sqlstore.NewImportServiceWith(db, files)
		sqlstore.RunJobs(ctx, []sqlstore.Job{{Name: "imports", Every: 100 * time.Millisecond,
			Run: func(ctx context.Context, logger *slog.Logger) error {
				if f.importsPaused.Load() {
					return nil
				}
				return imports.RunImports(ctx, logger)
			}}}, f.opts.Logger)
	}()
	t.Cleanup(func() { stop(); <-done })
	for _, u := range []*rapport.User{
		{Email: "ada@example.com", Name: "Ada Admin", Role: rapport.RoleAdmin},
		{Email: "mo@example.com", Name: "Mo Manager", Role: rapport.RoleManager},
		{Email: "alex@example.com", Name: "Alex Agent", Role: rapport.RoleAgent, Team: "Front desk"},
		{Email: "vic@example.com", Name: "Vic Viewer", Role: rapport.RoleViewer},
	} {
		if err := f.services.Users.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if err := f.services.Passwords.SetPassword(ctx, u.ID, testPassword); err != nil {
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
		if err := f.services.Customers.CreateCustomer(ctx, c); err != nil {
			t.Fatal(err)
		}
		f.customers[c.Name] = c
	}
	f.seedMoments(t)
	f.srv = httptest.NewServer(web.New(f.services, f.opts))
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
	slices.Sort(names) // a map's order differs from run to run
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
	if _, err := f.services.Moments.RecordMoments(context.Background(), ms); err != nil {
		t.Fatal(err)
	}
}

// seedLoop gives the firm what the five-step loop works on, through the
// services as the server's own watcher would:
//   - customers from about 200 days ago, whose misery at some touchpoints
//     (complaints most of all) was followed by dissolution, so that impact
//     can be measured and the touchpoints ranked;
//   - two responses to complaints, used over the last seven weeks, of which
//     calling back the same day delights far more often: the comparison
//     names it the winner;
//   - a bad month of deliveries, which raises a below-target alert.
func (f *fixture) seedLoop(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	rnd := rand.New(rand.NewPCG(5, 7))
	rating := func(weights ...float64) *int { // weights of ratings 1 to 5
		x := rnd.Float64() * (weights[0] + weights[1] + weights[2] + weights[3] + weights[4])
		for i, w := range weights {
			if x -= w; x < 0 {
				r := i + 1
				return &r
			}
		}
		r := 5
		return &r
	}

	// Customers then: how many had a moment at each touchpoint, how often it
	// went wrong, and how likely misery there made them leave.
	type past struct {
		customers    int
		misery, harm float64
	}
	history := map[string]past{
		"complaint": {45, 0.35, 0.6}, "delivery": {80, 0.2, 0.3}, "service": {30, 0.2, 0.15},
		"greeting": {110, 0.1, 0.04}, "query": {95, 0.12, 0.05}, "purchase": {60, 0.1, 0.08},
		"offer": {38, 0.15, 0.0}, "closing": {70, 0.1, 0.02},
	}
	first := []string{"Ann", "Ben", "Cai", "Dee", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jo", "Kit", "Lou"}
	last := []string{"Archer", "Brook", "Carter", "Dale", "Ellis", "Frost", "Grant", "Hale", "Irving", "Judd"}
	const n = 120
	then := testNow.AddDate(0, 0, -200)
	keys := []string{"complaint", "delivery", "service", "greeting", "query", "purchase", "offer", "closing"}
	moments := make([][]*rapport.Moment, n)
	stay := make([]float64, n) // the chance each customer stays
	for i := range stay {
		stay[i] = 0.97
	}
	for _, k := range keys {
		h := history[k]
		for _, i := range rnd.Perm(n)[:h.customers] {
			r := rating(0, 0, 3, 4, 3)
			if rnd.Float64() < h.misery {
				r = rating(1, 1, 0, 0, 0)
				stay[i] *= 1 - h.harm
			}
			moments[i] = append(moments[i], &rapport.Moment{Touchpoint: k, Channel: rapport.ChannelPhone,
				OccurredAt: then.Add(time.Duration(rnd.IntN(20*24)) * time.Hour), Rating: r})
		}
	}
	var all []*rapport.Moment
	for i := range n {
		c := &rapport.Customer{Name: fmt.Sprintf("%s %s %d", first[i%len(first)], last[i%len(last)], i), Stage: rapport.StageCommitment}
		if rnd.Float64() > stay[i] {
			// Created already dissolved, a month or two after their moments.
			c.Stage = rapport.StageDissolution
			back := testNow.Sub(then.AddDate(0, 0, 25+rnd.IntN(40)))
			f.clock.Add(-back)
			err := f.services.Customers.CreateCustomer(ctx, c)
			f.clock.Add(back)
			if err != nil {
				t.Fatal(err)
			}
		} else if err := f.services.Customers.CreateCustomer(ctx, c); err != nil {
			t.Fatal(err)
		}
		for _, m := range moments[i] {
			m.CustomerID = c.ID
			all = append(all, m)
		}
	}

	for _, r := range []*rapport.Response{
		{Touchpoint: "complaint", Key: "apologise_and_fix", Description: "Apologise, fix the problem, and confirm in writing.", Status: rapport.ResponseTrial},
		{Touchpoint: "complaint", Key: "call_back_same_day", Description: "Call the customer back the same day with the fix and a named contact.", Status: rapport.ResponseTrial},
	} {
		if err := f.services.Responses.CreateResponse(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	var regulars []string
	for _, c := range f.customers {
		regulars = append(regulars, c.ID)
	}
	sort.Strings(regulars)
	for i := range 90 {
		m := &rapport.Moment{CustomerID: regulars[i%len(regulars)], Touchpoint: "complaint", Channel: rapport.ChannelPhone,
			OccurredAt: testNow.Add(-time.Duration(2+rnd.IntN(48*24)) * time.Hour)}
		if i%2 == 0 {
			m.Response, m.Rating = "call_back_same_day", rating(0, 0, 1, 3, 6)
		} else {
			m.Response, m.Rating = "apologise_and_fix", rating(2, 2, 3, 2, 1)
		}
		// Some customers also say how hard it was and whether they would
		// recommend the firm, in line with how it went.
		if i%3 == 0 {
			effort, nps := 6-*m.Rating, min(10, 2*(*m.Rating)+rnd.IntN(2))
			m.Effort, m.NPS = &effort, &nps
		}
		all = append(all, m)
	}
	for i := range 40 {
		all = append(all, &rapport.Moment{CustomerID: regulars[i%len(regulars)], Touchpoint: "delivery", Channel: rapport.ChannelEmail,
			OccurredAt: testNow.Add(-time.Duration(2+rnd.IntN(26*24)) * time.Hour), Rating: rating(2, 4, 3, 1, 0)})
	}
	if _, err := f.services.Moments.RecordMoments(ctx, all); err != nil {
		t.Fatal(err)
	}
	if err := f.services.Reports.RefreshImpact(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.services.Alerts.EvaluateAlerts(ctx); err != nil {
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
