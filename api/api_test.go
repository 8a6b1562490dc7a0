package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/api"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/metrics"
	"github.com/rapport-crm/rapport/sqlstore"
)

// fixture is a running API over a fresh database, with a token per role and
// a customer and a member of staff to refer to.
type fixture struct {
	t        testing.TB
	srv      *httptest.Server
	db       *sqlstore.DB
	tokens   map[rapport.Role]string
	customer string
	staff    string
}

var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func newFixture(t testing.TB, open func(testing.TB, rapport.Clock) *sqlstore.DB) *fixture {
	t.Helper()
	return newFixtureWith(t, open, sqlstore.Options{})
}

// newFixtureWith is newFixture with the services configured by opts.
func newFixtureWith(t testing.TB, open func(testing.TB, rapport.Clock) *sqlstore.DB, opts sqlstore.Options) *fixture {
	t.Helper()
	db := open(t, func() time.Time { return now })
	f := &fixture{t: t, db: db, tokens: map[rapport.Role]string{}}
	ctx := context.Background()
	// The metrics are wired as serve wires them, so that every scenario
	// also goes through them and TestMetrics can scrape them.
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, "test")
	db.ObserveMoments(m.CountMoments)
	services := sqlstore.NewServices(db, opts)
	for _, role := range rapport.Roles {
		secret, err := services.Tokens.CreateToken(ctx, &rapport.Token{Name: string(role), Role: role})
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[role] = secret
	}
	staff := &rapport.User{Email: "ana@harbour.example", Name: "Ana Agent", Role: rapport.RoleAgent}
	if err := services.Users.CreateUser(ctx, staff); err != nil {
		t.Fatal(err)
	}
	c := &rapport.Customer{Name: "Grace Hopper", Email: "grace@example.com"}
	if err := services.Customers.CreateCustomer(ctx, c); err != nil {
		t.Fatal(err)
	}
	f.customer, f.staff = c.ID, staff.ID
	apiOpts := api.Options{Metrics: metrics.Handler(reg), Clock: func() time.Time { return now }}
	f.srv = httptest.NewServer(m.Instrument(api.NewServer(services, apiOpts)))
	t.Cleanup(f.srv.Close)
	return f
}

// do sends a request as role ("" for none) and returns the status and body.
func (f *fixture) do(role rapport.Role, method, path, body string) (int, http.Header, []byte) {
	f.t.Helper()
	secret := ""
	if role != "" {
		secret = f.tokens[role]
	}
	return f.doWithSecret(secret, method, path, body)
}

// doWithSecret sends a request with a bearer secret ("" for none).
func (f *fixture) doWithSecret(secret, method, path, body string) (int, http.Header, []byte) {
	f.t.Helper()
	body = strings.NewReplacer("{customer}", f.customer, "{staff}", f.staff).Replace(body)
	path = strings.NewReplacer("{customer}", f.customer, "{staff}", f.staff).Replace(path)
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b
}

func (f *fixture) countMoments() int {
	f.t.Helper()
	page, err := sqlstore.NewMomentService(f.db).FindMoments(context.Background(), rapport.MomentFilter{Limit: rapport.MaxPageSize})
	if err != nil {
		f.t.Fatal(err)
	}
	return len(page.Items)
}

func TestScenarios(t *testing.T) {
	big := `{"name": "` + strings.Repeat("x", 2<<20) + `"}`
	moment := `{"customer_id": "{customer}", "touchpoint": "complaint", "channel": "phone", "occurred_at": "2026-11-19T10:00:00Z", "rating": 2}`
	scenarios := []struct {
		name     string
		role     rapport.Role
		method   string
		path     string
		body     string
		status   int
		contains []string // substrings the body must hold
		momentsΔ int      // change in the number of stored moments
	}{
		{name: "health needs no token", method: "GET", path: "/healthz", status: 200, contains: []string{`"ok"`}},
		{name: "no token", method: "GET", path: "/api/v1/customers", status: 401, contains: []string{`"status":401`, "Bearer"}},
		{name: "viewer reads", role: rapport.RoleViewer, method: "GET", path: "/api/v1/customers", status: 200, contains: []string{"Grace Hopper"}},
		{name: "viewer cannot create", role: rapport.RoleViewer, method: "POST", path: "/api/v1/customers", body: `{"name": "X"}`, status: 403},
		{name: "agent creates customer", role: rapport.RoleAgent, method: "POST", path: "/api/v1/customers",
			body:   `{"name": "Ada Lovelace", "email": "ada@example.com", "attributes": {"region": "north"}, "preferences": {"likes": ["email"]}}`,
			status: 201, contains: []string{`"id":"`, `"region":"north"`, `"stage":"awareness"`}},
		{name: "malformed JSON", role: rapport.RoleAgent, method: "POST", path: "/api/v1/customers", body: `{"name": `, status: 400},
		{name: "unknown field", role: rapport.RoleAgent, method: "POST", path: "/api/v1/customers", body: `{"name": "A", "nmae": "B"}`,
			status: 422, contains: []string{`"field":"nmae"`}},
		{name: "wrong type", role: rapport.RoleAgent, method: "POST", path: "/api/v1/customers", body: `{"name": 7}`,
			status: 422, contains: []string{`"field":"name"`}},
		{name: "missing name and bad email", role: rapport.RoleAgent, method: "POST", path: "/api/v1/customers", body: `{"email": "nope"}`,
			status: 422, contains: []string{`"field":"name"`, `"field":"email"`}},
		{name: "body too large", role: rapport.RoleAgent, method: "POST", path: "/api/v1/customers", body: big, status: 413},
		{name: "unknown customer", role: rapport.RoleViewer, method: "GET", path: "/api/v1/customers/NOPE", status: 404},
		{name: "patch customer", role: rapport.RoleAgent, method: "PATCH", path: "/api/v1/customers/{customer}",
			body: `{"phone": "+44 20 7946 0000", "owner_id": "{staff}"}`, status: 200, contains: []string{`"owner_id":"{staff}"`, "7946"}},
		{name: "search customers", role: rapport.RoleViewer, method: "GET", path: "/api/v1/customers?q=grace", status: 200, contains: []string{"Grace Hopper"}},
		{name: "bad limit", role: rapport.RoleViewer, method: "GET", path: "/api/v1/customers?limit=-3", status: 422, contains: []string{`"field":"limit"`}},

		{name: "default catalogue", role: rapport.RoleViewer, method: "GET", path: "/api/v1/touchpoints", status: 200,
			contains: []string{`"key":"greeting"`, `"key":"closing"`, `"key":"complaint"`}},
		{name: "agent cannot edit catalogue", role: rapport.RoleAgent, method: "POST", path: "/api/v1/touchpoints",
			body: `{"key": "renewal", "name": "Renewal", "phase": "sale"}`, status: 403},
		{name: "manager adds touchpoint", role: rapport.RoleManager, method: "POST", path: "/api/v1/touchpoints",
			body: `{"key": "renewal", "name": "Renewal", "phase": "sale", "channels": ["email"], "target_score": 4.1}`, status: 201},
		{name: "duplicate touchpoint", role: rapport.RoleManager, method: "POST", path: "/api/v1/touchpoints",
			body: `{"key": "renewal", "name": "Renewal", "phase": "sale"}`, status: 409},
		{name: "patch touchpoint", role: rapport.RoleManager, method: "PATCH", path: "/api/v1/touchpoints/renewal",
			body: `{"target_score": 4.5}`, status: 200, contains: []string{`"target_score":4.5`}},

		{name: "record moment", role: rapport.RoleAgent, method: "POST", path: "/api/v1/moments", body: moment,
			status: 201, contains: []string{`"outcome":"misery"`, `"outcome_source":"rating"`}, momentsΔ: 1},
		{name: "rating out of range", role: rapport.RoleAgent, method: "POST", path: "/api/v1/moments",
			body:   `{"customer_id": "{customer}", "touchpoint": "greeting", "channel": "phone", "occurred_at": "2026-11-19T10:00:00Z", "rating": 6}`,
			status: 422, contains: []string{`"field":"rating"`}},
		{name: "unknown touchpoint, channel and customer", role: rapport.RoleAgent, method: "POST", path: "/api/v1/moments",
			body:   `{"customer_id": "NOPE", "touchpoint": "teleport", "channel": "fax", "occurred_at": "2026-11-19T10:00:00Z"}`,
			status: 422, contains: []string{`"field":"touchpoint"`, `"field":"channel"`, `"field":"customer_id"`}},
		{name: "unreadable time", role: rapport.RoleAgent, method: "POST", path: "/api/v1/moments",
			body:   `{"customer_id": "{customer}", "touchpoint": "greeting", "channel": "phone", "occurred_at": "yesterday"}`,
			status: 422, contains: []string{`"field":"occurred_at"`}},
		{name: "viewer cannot record", role: rapport.RoleViewer, method: "POST", path: "/api/v1/moments", body: moment, status: 403},
		{name: "external id first time", role: rapport.RoleAgent, method: "POST", path: "/api/v1/moments",
			body:   `{"external_id": "call-1", "customer_id": "{customer}", "touchpoint": "greeting", "channel": "chat", "occurred_at": "2026-11-19T11:00:00Z", "outcome": "magic"}`,
			status: 201, contains: []string{`"external_id":"call-1"`, `"outcome_source":"given"`}, momentsΔ: 1},
		{name: "external id retried", role: rapport.RoleAgent, method: "POST", path: "/api/v1/moments",
			body:   `{"external_id": "call-1", "customer_id": "{customer}", "touchpoint": "greeting", "channel": "chat", "occurred_at": "2026-11-19T11:00:00Z", "outcome": "magic"}`,
			status: 200, contains: []string{`"external_id":"call-1"`}},
		{name: "batch with bad items writes nothing", role: rapport.RoleAgent, method: "POST", path: "/api/v1/moments/batch",
			body: `{"moments": [` + moment + `, {"customer_id": "{customer}", "touchpoint": "greeting", "channel": "phone", "occurred_at": "2026-11-19T10:00:00Z", "nps": 11}, ` +
				moment + `, {"customer_id": "NOPE", "touchpoint": "greeting", "channel": "phone", "occurred_at": "2026-11-19T10:00:00Z"}]}`,
			status: 422, contains: []string{`{"index":1,"field":"nps"`, `{"index":3,"field":"customer_id"`, "2 of 4"}},
		{name: "batch", role: rapport.RoleAgent, method: "POST", path: "/api/v1/moments/batch",
			body: `{"moments": [` + moment + `, ` + moment + `]}`, status: 201, contains: []string{`"created":2`}, momentsΔ: 2},
		{name: "empty batch", role: rapport.RoleAgent, method: "POST", path: "/api/v1/moments/batch", body: `{"moments": []}`, status: 422},
		{name: "list moments by outcome", role: rapport.RoleViewer, method: "GET", path: "/api/v1/moments?outcome=magic", status: 200,
			contains: []string{`"external_id":"call-1"`}},
		{name: "bad moment filters", role: rapport.RoleViewer, method: "GET", path: "/api/v1/moments?channel=fax&from=monday", status: 422,
			contains: []string{`"field":"channel"`, `"field":"from"`}},
		{name: "timeline", role: rapport.RoleViewer, method: "GET", path: "/api/v1/customers/{customer}/timeline", status: 200,
			contains: []string{`"kind":"moment"`}},

		{name: "openapi", role: rapport.RoleViewer, method: "GET", path: "/api/v1/openapi.json", status: 200, contains: []string{`"openapi"`}},
		{name: "me", role: rapport.RoleManager, method: "GET", path: "/api/v1/me", status: 200, contains: []string{`"role":"manager"`}},
		{name: "manager cannot list tokens", role: rapport.RoleManager, method: "GET", path: "/api/v1/tokens", status: 403},
		{name: "admin creates user", role: rapport.RoleAdmin, method: "POST", path: "/api/v1/users",
			body: `{"email": "Max@Harbour.example", "name": "Max Manager", "role": "manager"}`, status: 201, contains: []string{`"email":"max@harbour.example"`}},
		{name: "admin creates token", role: rapport.RoleAdmin, method: "POST", path: "/api/v1/tokens",
			body: `{"name": "sync", "role": "agent"}`, status: 201, contains: []string{`"secret":"rpt_`}},
		{name: "unknown endpoint", role: rapport.RoleViewer, method: "GET", path: "/api/v1/nothing", status: 404},
		{name: "wrong method", role: rapport.RoleViewer, method: "PUT", path: "/api/v1/customers", status: 405, contains: []string{"GET, POST"}},
		{name: "unknown role filter", role: rapport.RoleViewer, method: "GET", path: "/api/v1/users?role=emperor", status: 422, contains: []string{`"field":"role"`}},
		{name: "delete customer", role: rapport.RoleAgent, method: "DELETE", path: "/api/v1/customers/{customer}", status: 204, momentsΔ: -4},
		{name: "deleted customer is gone", role: rapport.RoleViewer, method: "GET", path: "/api/v1/customers/{customer}", status: 404},
	}
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			f := newFixture(t, b.Open)
			for _, sc := range scenarios {
				before := f.countMoments()
				status, header, body := f.do(sc.role, sc.method, sc.path, sc.body)
				if status != sc.status {
					t.Fatalf("%s: %s %s = %d; want %d\n%s", sc.name, sc.method, sc.path, status, sc.status, body)
				}
				want := strings.NewReplacer("{customer}", f.customer, "{staff}", f.staff)
				for _, c := range sc.contains {
					if !bytes.Contains(body, []byte(want.Replace(c))) {
						t.Errorf("%s: body lacks %s\n%s", sc.name, want.Replace(c), body)
					}
				}
				if status >= 400 {
					if ct := header.Get("Content-Type"); ct != "application/problem+json" {
						t.Errorf("%s: Content-Type = %q; want application/problem+json", sc.name, ct)
					}
					var p struct {
						Status int    `json:"status"`
						Title  string `json:"title"`
						Detail string `json:"detail"`
					}
					if err := json.Unmarshal(body, &p); err != nil || p.Status != status || p.Title == "" || p.Detail == "" {
						t.Errorf("%s: problem = %s; want status, title and detail", sc.name, body)
					}
				}
				if got := f.countMoments() - before; got != sc.momentsΔ {
					t.Errorf("%s: moments changed by %d; want %d", sc.name, got, sc.momentsΔ)
				}
			}
		})
	}
}
