package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testsmtp"
	"github.com/rapport-crm/rapport/sqlstore"
)

// syncBuffer is a buffer the server goroutine writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func noEnv(key string) string {
	if key == "SHORT" {
		return "short"
	}
	return ""
}

// startServer runs "rapport serve" with args until the test ends and returns
// its base URL once /healthz answers.
func startServer(t *testing.T, args ...string) (base string, stdout *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout = &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), noEnv, stdout, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v after SIGINT; want nil", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop within 20s of being cancelled")
		}
	})
	listening := regexp.MustCompile(`listening on (http://\S+)`)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("serve stopped early: %v\n%s", err, stdout)
		default:
		}
		if m := listening.FindStringSubmatch(stdout.String()); m != nil {
			res, err := http.Get(m[1] + "/healthz")
			if err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					return m[1], stdout
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("server did not become healthy; output:\n%s", stdout)
	return "", nil
}

func get(t *testing.T, url, token string, v any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if v != nil {
		json.NewDecoder(res.Body).Decode(v)
	}
	return res.StatusCode
}

func TestServeAndTokenCreate(t *testing.T) {
	db := filepath.Join(t.TempDir(), "rapport.db")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"token", "create", "--db", db, "--name", "ci", "--role", "viewer"}, noEnv, &out, io.Discard); err != nil {
		t.Fatalf("token create: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	token := lines[len(lines)-1]
	if !strings.HasPrefix(token, "rpt_") {
		t.Fatalf("last line of token create = %q; want the token", token)
	}
	base, _ := startServer(t, "--db", db)
	var me struct{ Role string }
	if got := get(t, base+"/api/v1/me", token, &me); got != 200 || me.Role != "viewer" {
		t.Errorf("GET /api/v1/me with the new token = %d, role %q; want 200, viewer", got, me.Role)
	}
	if got := get(t, base+"/api/v1/me", "rpt_wrong", nil); got != 401 {
		t.Errorf("GET /api/v1/me with a wrong token = %d; want 401", got)
	}

	// A survey link's path is its secret: the metrics must hold only its pattern.
	res, err := http.Get(base + "/s/not-a-real-survey-token")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	// A page of the web UI is labelled with its own pattern.
	if res, err = http.Get(base + "/signin"); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET /metrics = %d; want 200\n%s", res.StatusCode, body)
	}
	for _, want := range []string{
		`rapport_http_requests_total{code="200",method="GET",route="/api/v1/me"} 1`,
		`rapport_http_requests_total{code="200",method="GET",route="/healthz"}`,
		`route="/s/{token}"`,
		`rapport_http_requests_total{code="200",method="GET",route="/signin"} 1`,
		`rapport_moments_recorded_total{how="single"} 0`,
		`rapport_db_max_open_connections{pool="write"} 1`,
		`rapport_db_open_connections{pool="read"}`,
		`rapport_build_info{version="` + version() + `"} 1`,
		"go_goroutines ",
		"process_resident_memory_bytes ",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("GET /metrics lacks %s", want)
		}
	}
	if strings.Contains(string(body), "not-a-real-survey-token") {
		t.Error("GET /metrics holds a survey token")
	}
	if got := get(t, base+"/metrics", "", nil); got != 401 {
		t.Errorf("GET /metrics without a token = %d; want 401", got)
	}
}

func TestServeDemo(t *testing.T) {
	db := filepath.Join(t.TempDir(), "rapport.db")
	base, stdout := startServer(t, "--db", db, "--demo")
	m := regexp.MustCompile(`API token \(admin\): (rpt_\S+)`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("serve --demo printed no API token:\n%s", stdout)
	}
	password := regexp.MustCompile(`Sign in to the web UI with the password (\S+) as`).FindStringSubmatch(stdout.String())
	logins := regexp.MustCompile(`(?m)^  (\S+@\S+) .* \((\w+)\)$`).FindAllStringSubmatch(stdout.String(), -1)
	if password == nil || len(logins) == 0 {
		t.Fatalf("serve --demo printed no sign-in:\n%s", stdout)
	}
	db2, err := sqlstore.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	var roles []string
	for _, l := range logins {
		u, err := sqlstore.NewPasswordService(db2).AuthenticatePassword(context.Background(), l[1], password[1])
		if err != nil {
			t.Errorf("the printed demo sign-in %s does not work: %v", l[1], err)
			continue
		}
		if string(u.Role) != l[2] {
			t.Errorf("%s signs in as %s; printed as %s", l[1], u.Role, l[2])
		}
		roles = append(roles, l[2])
	}
	if got := strings.Join(roles, " "); got != "admin manager agent viewer" {
		t.Errorf("demo sign-ins have roles %q; want an admin, a manager, an agent and a viewer", got)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/signin") {
		t.Errorf("GET / signed out = %d to %q; want 303 to /signin", res.StatusCode, loc)
	}
	var page struct {
		Items []struct{ ID string } `json:"items"`
	}
	if got := get(t, base+"/api/v1/moments?limit=10", m[1], &page); got != 200 || len(page.Items) != 10 {
		t.Errorf("GET /api/v1/moments on the demo = %d with %d moments; want 200 with 10", got, len(page.Items))
	}
}

func TestCommandLine(t *testing.T) {
	db := filepath.Join(t.TempDir(), "rapport.db")
	brokenMessages := t.TempDir()
	if err := os.WriteFile(filepath.Join(brokenMessages, "en.json"), []byte(`{"invitation.subject": "{{.Firm"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args     []string
		wantErr  bool
		wantCode int
		wantOut  string
	}{
		{args: []string{"version"}, wantOut: "rapport "},
		{args: []string{"--help"}, wantOut: "Usage:"},
		{args: []string{"serve", "--help"}, wantErr: true, wantCode: 0},
		{args: []string{"token", "create", "--help"}, wantErr: true, wantCode: 0},
		{args: []string{"demo", "--help"}, wantErr: true, wantCode: 0},
		{args: []string{"demo", "--db", filepath.Join(t.TempDir(), "demo.db"), "--customers", "40"}, wantOut: "harriet@harbour.example"},
		{args: []string{"frobnicate"}, wantErr: true, wantCode: 2},
		{args: []string{}, wantErr: true, wantCode: 2},
		{args: []string{"serve", "--bogus"}, wantErr: true, wantCode: 2},
		{args: []string{"serve", "--db", db, "--smtp-url", "smtp://127.0.0.1:2525"}, wantErr: true, wantCode: 2},
		{args: []string{"serve", "--db", db, "--smtp-url", "http://mail", "--smtp-from", "a@b.example", "--public-url", "http://x"}, wantErr: true, wantCode: 2},
		{args: []string{"serve", "--db", db, "--smtp-url", "smtp://127.0.0.1:2525", "--smtp-from", "a@b.example"}, wantErr: true, wantCode: 2},
		{args: []string{"serve", "--db", db, "--messages", brokenMessages, "--addr", "127.0.0.1:0"}, wantErr: true, wantCode: 2},
		{args: []string{"token", "create", "--db", db, "--name", "x", "--role", "emperor"}, wantErr: true, wantCode: 1},
		{args: []string{"user", "create", "--db", db, "--email", "ana@harbour.example", "--name", "Ana", "--role", "agent"}, wantOut: "Password (shown once): "},
		{args: []string{"user", "create", "--db", db, "--email", "bo@harbour.example", "--name", "Bo", "--role", "agent", "--password-env", "SHORT"}, wantErr: true, wantCode: 1},
		{args: []string{"user", "create", "--db", db, "--email", "ana@harbour.example", "--name", "Ana", "--role", "agent"}, wantErr: true, wantCode: 1},
		{args: []string{"user", "deactivate", "--db", db, "--email", "ana@harbour.example"}, wantOut: "Ana <ana@harbour.example> is deactivated"},
		{args: []string{"user", "deactivate", "--db", db, "--email", "nobody@harbour.example"}, wantErr: true, wantCode: 1},
		{args: []string{"user", "reactivate", "--db", db, "--email", "ana@harbour.example"}, wantOut: "Ana <ana@harbour.example> is active again"},
		{args: []string{"user", "create", "--db", db, "--email", "root@harbour.example", "--name", "Root", "--role", "admin"}, wantOut: "with role admin"},
		{args: []string{"user", "deactivate", "--db", db, "--email", "root@harbour.example"}, wantErr: true, wantCode: 1},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		err := run(context.Background(), tt.args, noEnv, &out, io.Discard)
		if (err != nil) != tt.wantErr {
			t.Errorf("run(%q) error = %v; want error %v", tt.args, err, tt.wantErr)
			continue
		}
		if err != nil && exitCode(err) != tt.wantCode {
			t.Errorf("run(%q) exit code = %d; want %d (%v)", tt.args, exitCode(err), tt.wantCode, err)
		}
		if err != nil && tt.wantCode == 0 && !errors.Is(err, flag.ErrHelp) {
			t.Errorf("run(%q) = %v; want help", tt.args, err)
		}
		if !strings.Contains(out.String(), tt.wantOut) {
			t.Errorf("run(%q) printed %q; want it to contain %q", tt.args, out.String(), tt.wantOut)
		}
	}
}

// TestServeDeliversWebhooks checks the whole way of an event: a webhook
// created through the API, a moment recorded through the API, and the
// signed event arriving at a receiver on loopback, sent by serve itself.
func TestServeDeliversWebhooks(t *testing.T) {
	db := filepath.Join(t.TempDir(), "rapport.db")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"token", "create", "--db", db, "--name", "ci", "--role", "admin"}, noEnv, &out, io.Discard); err != nil {
		t.Fatalf("token create: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	token := lines[len(lines)-1]
	got := make(chan *http.Request, 10)
	bodies := make(chan []byte, 10)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- b
	}))
	defer rcv.Close()
	// The receiver is on loopback, which serve reaches only when told to.
	base, _ := startServer(t, "--db", db, "--webhooks-private")
	post := func(path, body string, v any) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			b, _ := io.ReadAll(res.Body)
			t.Fatalf("POST %s = %d; want 201\n%s", path, res.StatusCode, b)
		}
		json.NewDecoder(res.Body).Decode(v)
	}
	var hook struct{ ID, Secret string }
	post("/api/v1/webhooks", `{"url": "`+rcv.URL+`", "kinds": ["moment.recorded"]}`, &hook)
	var customer, moment struct{ ID string }
	post("/api/v1/customers", `{"name": "Ada Lovelace"}`, &customer)
	post("/api/v1/moments", `{"customer_id": "`+customer.ID+`", "touchpoint": "greeting", "channel": "phone", "occurred_at": "`+
		time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)+`", "rating": 5}`, &moment)
	select {
	case r := <-got:
		body := <-bodies
		if r.Header.Get("Rapport-Event") != rapport.EventMomentRecorded || !strings.Contains(string(body), moment.ID) {
			t.Errorf("received %s %s; want moment.recorded for %s", r.Header.Get("Rapport-Event"), body, moment.ID)
		}
		if err := rapport.VerifyWebhook(hook.Secret, r.Header.Get("Rapport-Signature"), body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("the signature does not verify: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("no webhook arrived within a minute of the moment")
	}
}

// TestServeWatchZeroKeepsPromisesAndCases checks that --watch 0 stops only
// the sweep: serve still breaks a promise past due and escalates an overdue
// case, work that falls due every minute.
func TestServeWatchZeroKeepsPromisesAndCases(t *testing.T) {
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "rapport.db")
	month := time.Now().AddDate(0, -1, 0)
	db, err := sqlstore.Open(ctx, dsn, func() time.Time { return month })
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	staff := &rapport.User{Email: "kate@harbour.example", Name: "Kate Keeper", Role: rapport.RoleAgent}
	if err := sqlstore.NewUserService(db).CreateUser(ctx, staff); err != nil {
		t.Fatal(err)
	}
	c := &rapport.Customer{Name: "Ada Lovelace", OwnerID: staff.ID}
	if err := sqlstore.NewCustomerService(db).CreateCustomer(ctx, c); err != nil {
		t.Fatal(err)
	}
	// A month ago: a promise due the next hour, and a misery moment whose
	// case was due long since.
	promises, recovery := sqlstore.NewPromiseService(db), sqlstore.NewRecoveryService(db)
	p := &rapport.Promise{CustomerID: c.ID, StaffID: staff.ID, Text: "Call back", DueAt: month.Add(time.Hour)}
	if err := promises.CreatePromise(ctx, p); err != nil {
		t.Fatal(err)
	}
	rating := 1
	m := &rapport.Moment{CustomerID: c.ID, Touchpoint: "complaint", Channel: rapport.ChannelPhone, OccurredAt: month.Add(-time.Hour), Rating: &rating}
	if _, err := sqlstore.NewMomentService(db).RecordMoment(ctx, m); err != nil {
		t.Fatal(err)
	}
	cases, err := recovery.FindCases(ctx, rapport.CaseFilter{CustomerID: c.ID})
	if err != nil || len(cases.Items) != 1 || cases.Items[0].Escalated {
		t.Fatalf("cases before serve = %d, %v; want 1 not escalated", len(cases.Items), err)
	}

	startServer(t, "--db", dsn, "--watch", "0")
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := promises.FindPromiseByID(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := recovery.FindCaseByID(ctx, cases.Items[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == rapport.PromiseBroken && cs.Escalated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("with --watch 0, serve left the promise %s and the case escalated %v; want broken and escalated", got.Status, cs.Escalated)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCommandLineAudited: a token made on the command line is in the audit
// log as the command line's, with the account that ran it.
func TestCommandLineAudited(t *testing.T) {
	db := filepath.Join(t.TempDir(), "rapport.db")
	env := func(k string) string {
		if k == "USER" {
			return "ops"
		}
		return ""
	}
	if err := run(context.Background(), []string{"token", "create", "--db", db, "--name", "ci", "--role", "viewer"}, env, io.Discard, io.Discard); err != nil {
		t.Fatalf("token create: %v", err)
	}
	store, err := sqlstore.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	page, err := sqlstore.NewAuditService(store).FindAudit(context.Background(), rapport.AuditFilter{EntityType: "token"})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("FindAudit(token) = %d entries, %v; want 1", len(page.Items), err)
	}
	if e := page.Items[0]; e.Actor != rapport.ActorCLI || e.Address != "cli:ops" || e.Action != rapport.AuditCreate {
		t.Errorf("entry = %s by %q from %q; want create by cli from cli:ops", e.Action, e.Actor, e.Address)
	}
}

// TestServeSendsSurveyInvitations: serve with --smtp-url sends, from its
// own job, the invitation a moment recorded through the API causes, to a
// real SMTP server, with a link at --public-url.
func TestServeSendsSurveyInvitations(t *testing.T) {
	db := filepath.Join(t.TempDir(), "rapport.db")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"token", "create", "--db", db, "--name", "ci", "--role", "admin"}, noEnv, &out, io.Discard); err != nil {
		t.Fatalf("token create: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	token := lines[len(lines)-1]
	smtp := testsmtp.Start(t, testsmtp.Options{Username: "rapport", Password: "pw"})
	base, _ := startServer(t, "--db", db, "--smtp-url", smtp.URL(), "--smtp-from", "Harbour <care@harbour.example>",
		"--public-url", "https://rapport.harbour.example", "--firm", "Harbour")
	call := func(method, path, body string, want int, v any) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != want {
			b, _ := io.ReadAll(res.Body)
			t.Fatalf("%s %s = %d; want %d\n%s", method, path, res.StatusCode, want, b)
		}
		json.NewDecoder(res.Body).Decode(v)
	}
	call("PUT", "/api/v1/touchpoints/greeting/survey-policy", `{"enabled": true, "delay_minutes": 0}`, http.StatusOK, nil)
	var customer struct{ ID string }
	call("POST", "/api/v1/customers", `{"name": "Ada Lovelace", "email": "ada@example.com", "language": "es"}`, http.StatusCreated, &customer)
	call("POST", "/api/v1/moments", `{"customer_id": "`+customer.ID+`", "touchpoint": "greeting", "channel": "phone", "occurred_at": "`+
		time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)+`", "rating": 4}`, http.StatusCreated, nil)
	got := smtp.Wait(t, 1, 60*time.Second)[0]
	if got.To != "ada@example.com" || !strings.Contains(got.Subject, "con Harbour") ||
		!strings.Contains(got.Text, "https://rapport.harbour.example/s/") || !strings.Contains(got.Text, "https://rapport.harbour.example/s/unsubscribe/") {
		t.Errorf("the invitation to %q, %q:\n%s", got.To, got.Subject, got.Text)
	}
}

// TestHelpMatchesREADME checks that "rapport --help" lists every option of
// serve, and that the README's configuration table names the same options,
// each with the environment variable serve reads for it.
func TestHelpMatchesREADME(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `--([a-z-]+)` \\| (?:`(RAPPORT_[A-Z_]+)[^`]*`)? *\\|")
	documented := map[string]string{} // flag to its environment variable
	for _, m := range row.FindAllStringSubmatch(string(readme), -1) {
		documented[m[1]] = m[2]
	}
	if len(documented) < 10 {
		t.Fatalf("the README's configuration table has %d options; want the table found", len(documented))
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatalf("run(--help) = %v", err)
	}
	fs, _ := serveFlags(func(string) string { return "" }, io.Discard)
	seen := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) {
		seen[f.Name] = true
		env, ok := documented[f.Name]
		if !ok {
			t.Errorf("serve's --%s is not in the README's configuration table", f.Name)
		}
		if !regexp.MustCompile(`(?m)^  -` + regexp.QuoteMeta(f.Name) + `\b`).MatchString(out.String()) {
			t.Errorf("rapport --help does not list --%s", f.Name)
		}
		if env != "" && !strings.Contains(f.Usage, "$"+env) {
			t.Errorf("the README reads --%s from %s; serve's help says %q", f.Name, env, f.Usage)
		}
	})
	for name := range documented {
		if !seen[name] {
			t.Errorf("the README's configuration table has --%s, which serve does not take", name)
		}
	}
}
