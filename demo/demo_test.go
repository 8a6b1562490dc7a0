package demo_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/demo"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
)

// now is the end of every test firm's year.
var now = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

const day = int64(24 * time.Hour / time.Microsecond)

// open opens a fresh database of backend b, with a plain handle to check
// what is stored.
func open(t testing.TB, b testdb.Backend) (*sqlstore.DB, *sql.DB) {
	t.Helper()
	dsn := b.DSN(t)
	// The database's clock is the firm's, as when the demo serves.
	db, err := sqlstore.Open(context.Background(), dsn, func() time.Time { return now })
	if err != nil {
		t.Fatalf("Open(%s) = %v", b.Name, err)
	}
	t.Cleanup(func() { db.Close() })
	return db, testdb.SQL(t, dsn)
}

// queryStrings returns a query's one column of strings.
func queryStrings(t testing.TB, raw *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := raw.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		out = append(out, s)
	}
	return out
}

func sqlite() testdb.Backend { return testdb.Backends()[0] }

// demoTables are the tables Populate writes, each with the column it is keyed by.
var demoTables = []string{"users", "products", "responses", "customers", "holdings", "moments", "stage_changes", "promises"}

// digest returns a hash of every row Populate writes, so two databases can
// be compared byte for byte. Rows are sorted in Go, so the databases'
// collations do not matter.
func digest(t testing.TB, raw *sql.DB) string {
	t.Helper()
	h := sha256.New()
	for _, table := range demoTables {
		rows, err := raw.Query("SELECT * FROM " + table)
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		var lines []string
		vals, ptrs := make([]any, len(cols)), make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, v := range vals {
				switch v := v.(type) {
				case nil:
					b.WriteString("NULL")
				case []byte:
					b.WriteString(strconv.Quote(string(v)))
				case string:
					b.WriteString(strconv.Quote(v))
				case float64:
					b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
				default:
					fmt.Fprint(&b, v)
				}
				b.WriteByte('|')
			}
			lines = append(lines, b.String())
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		slices.Sort(lines)
		fmt.Fprintf(h, "%s %d\n", table, len(lines))
		for _, l := range lines {
			fmt.Fprintln(h, l)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func queryInt(t testing.TB, raw *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := raw.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestSameSeedSameFirm populates fresh databases with one Config and
// compares every row: twice on SQLite, once on PostgreSQL.
func TestSameSeedSameFirm(t *testing.T) {
	t.Parallel()
	cfg := demo.Config{Seed: 42, Customers: 250, Now: now}
	backends := append([]testdb.Backend{sqlite()}, testdb.Backends()...)
	digests := make([]string, len(backends))
	summaries := make([]demo.Summary, len(backends))
	for i, b := range backends {
		t.Run(fmt.Sprintf("%s-%d", b.Name, i), func(t *testing.T) {
			db, raw := open(t, b)
			s, err := demo.Populate(context.Background(), db, cfg)
			if err != nil {
				t.Fatalf("Populate = %v", err)
			}
			s.Elapsed = 0
			digests[i], summaries[i] = digest(t, raw), s
		})
	}
	for i := 1; i < len(backends); i++ {
		if digests[i] == "" {
			continue // skipped
		}
		if digests[i] != digests[0] {
			t.Errorf("%s database %d digest = %s; want %s as on the first", backends[i].Name, i, digests[i], digests[0])
		}
		if !reflect.DeepEqual(summaries[i], summaries[0]) {
			t.Errorf("summary %d = %+v; want %+v", i, summaries[i], summaries[0])
		}
	}

	// Another seed is another firm.
	db, raw := open(t, sqlite())
	cfg.Seed = 43
	if _, err := demo.Populate(context.Background(), db, cfg); err != nil {
		t.Fatalf("Populate(seed 43) = %v", err)
	}
	if d := digest(t, raw); d == digests[0] {
		t.Errorf("seeds 42 and 43 gave the same firm")
	}
}

// TestPopulateRefusesNonEmpty shows that Populate leaves a database with
// customers or demo staff exactly as it was.
func TestPopulateRefusesNonEmpty(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			db, raw := open(t, b)
			cfg := demo.Config{Seed: 1, Customers: 30, Now: now}
			if _, err := demo.Populate(ctx, db, cfg); err != nil {
				t.Fatalf("Populate = %v", err)
			}
			before := digest(t, raw)
			_, err := demo.Populate(ctx, db, cfg)
			if rapport.ErrorCode(err) != rapport.ECONFLICT {
				t.Errorf("Populate on a populated database = %v; want %s", err, rapport.ECONFLICT)
			}
			if after := digest(t, raw); after != before {
				t.Errorf("a refused Populate changed the database")
			}

			db, raw = open(t, b)
			if err := sqlstore.NewCustomerService(db).CreateCustomer(ctx, &rapport.Customer{Name: "Real customer"}); err != nil {
				t.Fatal(err)
			}
			if _, err := demo.Populate(ctx, db, cfg); rapport.ErrorCode(err) != rapport.ECONFLICT || !strings.Contains(rapport.ErrorMessage(err), "customers already") {
				t.Errorf("Populate with a customer = %v; want %s about customers", err, rapport.ECONFLICT)
			}
			if n := queryInt(t, raw, "SELECT COUNT(*) FROM users"); n != 0 {
				t.Errorf("a refused Populate added %d users", n)
			}

			db, raw = open(t, b)
			if err := sqlstore.NewUserService(db).CreateUser(ctx, &rapport.User{Name: "Admin", Email: demo.LoginEmail(), Role: rapport.RoleAdmin}); err != nil {
				t.Fatal(err)
			}
			if _, err := demo.Populate(ctx, db, cfg); rapport.ErrorCode(err) != rapport.ECONFLICT {
				t.Errorf("Populate with a demo user = %v; want %s", err, rapport.ECONFLICT)
			}
			if n := queryInt(t, raw, "SELECT COUNT(*) FROM users") + queryInt(t, raw, "SELECT COUNT(*) FROM products"); n != 1 {
				t.Errorf("a refused Populate left %d users and products; want the 1 user", n)
			}
		})
	}
}

func TestPopulateInvalidConfig(t *testing.T) {
	db, _ := open(t, sqlite())
	for _, cfg := range []demo.Config{{Customers: -1}, {Moments: -5}, {Customers: 20_000_000}} {
		if _, err := demo.Populate(context.Background(), db, cfg); rapport.ErrorCode(err) != rapport.EINVALID {
			t.Errorf("Populate(%+v) = %v; want %s", cfg, err, rapport.EINVALID)
		}
	}
}

// defaultFirm is the default-size firm on SQLite, made once for the tests
// that measure it.
var defaultFirm struct {
	once    sync.Once
	summary demo.Summary
	raw     *sql.DB
	err     error
	dir     string
	dsn     string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if defaultFirm.raw != nil {
		defaultFirm.raw.Close()
	}
	if defaultFirm.dir != "" {
		os.RemoveAll(defaultFirm.dir)
	}
	os.Exit(code)
}

func firm(t *testing.T) (demo.Summary, *sql.DB) {
	t.Helper()
	if testing.Short() {
		t.Skip("the default-size firm takes seconds to make")
	}
	defaultFirm.once.Do(func() {
		// The database outlives any one test, so it lives outside
		// t.TempDir; TestMain removes it.
		dir, err := os.MkdirTemp("", "rapport-demo-")
		if err != nil {
			defaultFirm.err = err
			return
		}
		defaultFirm.dir = dir
		defaultFirm.dsn = filepath.Join(dir, "demo.db")
		db, err := sqlstore.Open(context.Background(), defaultFirm.dsn, func() time.Time { return now })
		if err != nil {
			defaultFirm.err = err
			return
		}
		defer db.Close()
		defaultFirm.summary, defaultFirm.err = demo.Populate(context.Background(), db, demo.Config{Seed: 7, Now: now})
		if defaultFirm.err == nil {
			defaultFirm.raw, defaultFirm.err = sql.Open("sqlite", "file:"+defaultFirm.dsn+"?mode=ro")
		}
	})
	if defaultFirm.err != nil {
		t.Fatalf("Populate(default) = %v", defaultFirm.err)
	}
	return defaultFirm.summary, defaultFirm.raw
}

func TestCounts(t *testing.T) {
	s, raw := firm(t)
	t.Logf("default firm, made in %s: %s", s.Elapsed.Round(time.Millisecond), s)
	for _, c := range []struct {
		what  string
		query string
		want  int
	}{
		{"users", "SELECT COUNT(*) FROM users", s.Users},
		{"products", "SELECT COUNT(*) FROM products", s.Products},
		{"customers", "SELECT COUNT(*) FROM customers", s.Customers},
		{"organisations", "SELECT COUNT(*) FROM customers WHERE kind = 'organisation'", s.Organisations},
		{"referred", "SELECT COUNT(*) FROM customers WHERE referred_by IS NOT NULL", s.Referred},
		{"holdings", "SELECT COUNT(*) FROM holdings", s.Holdings},
		{"moments", "SELECT COUNT(*) FROM moments", s.Moments},
		{"stage changes", "SELECT COUNT(*) FROM stage_changes", s.StageChanges},
		{"promises", "SELECT COUNT(*) FROM promises", s.Promises},
		{"dissolutions", "SELECT COUNT(*) FROM customers WHERE stage = 'dissolution'", s.Dissolutions},
		{"segments", "SELECT COUNT(*) FROM segments", s.Segments},
		{"segments with fewer than ten or more than a third of the customers", "SELECT COUNT(*) FROM segments WHERE size < 10 OR size > 1000", 0},
		{"touchpoints used", "SELECT COUNT(DISTINCT touchpoint) FROM moments", 9},
		{"channels used", "SELECT COUNT(DISTINCT channel) FROM moments", 6},
		{"staff who handle moments", "SELECT COUNT(DISTINCT staff_id) FROM moments", 19},
		{"web and system moments with staff", "SELECT COUNT(*) FROM moments WHERE channel IN ('web', 'system') AND staff_id IS NOT NULL", 0},
		{"moments without a cost", "SELECT COUNT(*) FROM moments WHERE cost <= 0", 0},
		{"revenue off purchases and offers", "SELECT COUNT(*) FROM moments WHERE revenue <> 0 AND touchpoint NOT IN ('purchase', 'offer')", 0},
		{"purchases without revenue", "SELECT COUNT(*) FROM moments WHERE touchpoint = 'purchase' AND revenue <= 0", 0},
		{"moments outside the year", "SELECT COUNT(*) FROM moments WHERE occurred_at < ? OR occurred_at > ? OR recorded_at < occurred_at",
			0},
		{"moments before their customer", "SELECT COUNT(*) FROM moments m JOIN customers c ON c.id = m.customer_id WHERE m.occurred_at < c.created_at", 0},
		{"moments after a dissolution", `SELECT COUNT(*) FROM moments m JOIN stage_changes s ON s.customer_id = m.customer_id
			WHERE s.to_stage = 'dissolution' AND m.occurred_at >= s.changed_at`, 0},
		{"outcomes that disagree with the rating", `SELECT COUNT(*) FROM moments WHERE rating IS NOT NULL AND (outcome_source <> 'rating'
			OR outcome <> CASE WHEN rating = 5 THEN 'magic' WHEN rating >= 3 THEN 'neutral' ELSE 'misery' END)`, 0},
		{"customers without an owner", "SELECT COUNT(*) FROM customers WHERE owner_id IS NULL", 0},
	} {
		args := []any{}
		if strings.Contains(c.query, "?") {
			args = []any{s.From.UnixMicro(), s.To.UnixMicro()}
		}
		if got := queryInt(t, raw, c.query, args...); got != c.want {
			t.Errorf("%s = %d; want %d", c.what, got, c.want)
		}
	}
	if s.Users != 20 || s.Products != 6 || s.Customers != demo.DefaultCustomers {
		t.Errorf("summary = %d users, %d products, %d customers; want 20, 6, %d", s.Users, s.Products, s.Customers, demo.DefaultCustomers)
	}
	if want := demo.DefaultCustomers * demo.DefaultMomentsPerCustomer; math.Abs(float64(s.Moments-want)) > 0.1*float64(want) {
		t.Errorf("moments = %d; want %d ± 10%%", s.Moments, want)
	}
	rated := float64(queryInt(t, raw, "SELECT COUNT(*) FROM moments WHERE rating IS NOT NULL")) / float64(s.Moments)
	effort := queryInt(t, raw, "SELECT COUNT(*) FROM moments WHERE effort IS NOT NULL")
	nps := queryInt(t, raw, "SELECT COUNT(*) FROM moments WHERE nps IS NOT NULL")
	notes := queryInt(t, raw, "SELECT COUNT(*) FROM moments WHERE notes <> ''")
	for _, sg := range queryStrings(t, raw, "SELECT name || ': ' || size FROM segments ORDER BY name") {
		t.Logf("segment %s", sg)
	}
	t.Logf("%.0f%% of moments rated; %d with effort, %d with NPS, %d with notes", 100*rated, effort, nps, notes)
	if rated < 0.6 || effort < s.Moments/20 || nps < s.Moments/40 || notes < s.Moments/3 {
		t.Errorf("rated %.2f, effort %d, NPS %d, notes %d of %d moments; want most rated and some of each", rated, effort, nps, notes, s.Moments)
	}
	if !strings.Contains(s.String(), s.LoginEmail) || s.LoginEmail != "harriet@harbour.example" {
		t.Errorf("String() = %q; want it to name the login %s", s, s.LoginEmail)
	}
	if n := queryInt(t, raw, "SELECT COUNT(*) FROM users WHERE email = ? AND role = 'admin'", s.LoginEmail); n != 1 {
		t.Errorf("%d admins with the login email; want 1", n)
	}
	// Every sign-in but the manager's has work of their own: customers,
	// open cases and promises due today; the manager's team has them.
	var roles []string
	for _, l := range s.Logins {
		roles = append(roles, string(l.Role))
		if l.Role == rapport.RoleManager || l.Role == rapport.RoleViewer {
			continue
		}
		owned := queryInt(t, raw, "SELECT COUNT(*) FROM customers c JOIN users u ON u.id = c.owner_id WHERE u.email = ?", l.Email)
		cases := queryInt(t, raw, "SELECT COUNT(*) FROM recovery_cases c JOIN users u ON u.id = c.assignee_id WHERE u.email = ? AND c.status = 'open'", l.Email)
		today := queryInt(t, raw, "SELECT COUNT(*) FROM promises p JOIN users u ON u.id = p.staff_id WHERE u.email = ? AND p.status = 'open' AND p.due_at >= ? AND p.due_at < ?",
			l.Email, now.Truncate(24*time.Hour).UnixMicro(), now.Truncate(24*time.Hour).Add(24*time.Hour).UnixMicro())
		week := queryInt(t, raw, "SELECT COUNT(*) FROM promises p JOIN users u ON u.id = p.staff_id WHERE u.email = ? AND p.status = 'open'", l.Email)
		t.Logf("%s: %d customers, %d open cases, %d promises due today, %d open", l.Email, owned, cases, today, week)
		if owned < 20 || cases < 2 || today < 2 || week < today+3 {
			t.Errorf("%s owns %d customers with %d open cases and %d open promises, %d due today; want at least 20, 2, 5 and 2",
				l.Email, owned, cases, week, today)
		}
	}
	if got := strings.Join(roles, " "); got != "admin manager agent viewer" {
		t.Errorf("the demo's sign-ins are %q; want an admin, a manager, an agent and a viewer", got)
	}
}

// TestMomentsScale checks that Config.Moments sets the number of moments.
func TestMomentsScale(t *testing.T) {
	t.Parallel()
	for _, want := range []int{12_000, 40_000} {
		db, _ := open(t, sqlite())
		s, err := demo.Populate(context.Background(), db, demo.Config{Seed: 3, Customers: 600, Moments: want, Now: now})
		if err != nil {
			t.Fatalf("Populate = %v", err)
		}
		if math.Abs(float64(s.Moments-want)) > 0.15*float64(want) {
			t.Errorf("Populate(600 customers, %d moments) made %d moments; want ± 15%%", want, s.Moments)
		}
	}
}

// proportion compares two proportions: it returns each and the z statistic
// of their difference.
func proportion(hitsA, nA, hitsB, nB int) (a, b, z float64) {
	a, b = float64(hitsA)/float64(nA), float64(hitsB)/float64(nB)
	p := float64(hitsA+hitsB) / float64(nA+nB)
	return a, b, (a - b) / math.Sqrt(p*(1-p)*(1/float64(nA)+1/float64(nB)))
}

// TestPatternServiceMiseryDissolves: planted pattern (a).
func TestPatternServiceMiseryDissolves(t *testing.T) {
	_, raw := firm(t)
	// Misery moments old enough for 90 days to have passed, and whether the
	// customer dissolved within those 90 days.
	rows, err := raw.Query(`SELECT m.touchpoint, COUNT(*),
		SUM(CASE WHEN EXISTS (SELECT 1 FROM stage_changes s WHERE s.customer_id = m.customer_id
			AND s.to_stage = 'dissolution' AND s.changed_at > m.occurred_at AND s.changed_at <= m.occurred_at + ?) THEN 1 ELSE 0 END)
		FROM moments m WHERE m.outcome = 'misery' AND m.occurred_at <= ? GROUP BY m.touchpoint ORDER BY m.touchpoint`,
		90*day, now.UnixMicro()-90*day)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var svcN, svcHit, otherN, otherHit, worstOther int
	var worstRate float64
	for rows.Next() {
		var tp string
		var n, hit int
		if err := rows.Scan(&tp, &n, &hit); err != nil {
			t.Fatal(err)
		}
		t.Logf("misery at %-9s: %4d moments, %5.1f%% dissolved within 90 days", tp, n, 100*float64(hit)/float64(n))
		if tp == "service" {
			svcN, svcHit = n, hit
			continue
		}
		otherN, otherHit = otherN+n, otherHit+hit
		if r := float64(hit) / float64(n); n >= 100 && r > worstRate {
			worstRate, worstOther = r, n
		}
	}
	svc, other, z := proportion(svcHit, svcN, otherHit, otherN)
	var baseHit, baseN int
	err = raw.QueryRow(`SELECT SUM(CASE WHEN EXISTS (SELECT 1 FROM stage_changes s WHERE s.customer_id = m.customer_id
			AND s.to_stage = 'dissolution' AND s.changed_at > m.occurred_at AND s.changed_at <= m.occurred_at + ?) THEN 1 ELSE 0 END), COUNT(*)
		FROM moments m WHERE m.outcome <> 'misery' AND m.occurred_at <= ?`, 90*day, now.UnixMicro()-90*day).Scan(&baseHit, &baseN)
	if err != nil {
		t.Fatal(err)
	}
	base := float64(baseHit) / float64(baseN)
	t.Logf("dissolved within 90 days: %.1f%% after service misery (%d), %.1f%% after other misery (%d), %.1f%% after moments without misery; z = %.1f",
		100*svc, svcN, 100*other, otherN, 100*base, z)
	if svcN < 200 || svc < 0.25 || other > 0.10 || svc < 3*other || z < 8 {
		t.Errorf("service misery dissolves %.2f of %d, other misery %.2f (z %.1f); want a strong, clear difference", svc, svcN, other, z)
	}
	if worstRate > svc/2 {
		t.Errorf("another touchpoint's misery (%d moments) dissolves %.2f; want well under service's %.2f", worstOther, worstRate, svc)
	}
	var reasons []string
	rows2, err := raw.Query(`SELECT DISTINCT dissolution_reason FROM stage_changes WHERE to_stage = 'dissolution' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows2.Close()
	for rows2.Next() {
		var r string
		rows2.Scan(&r)
		reasons = append(reasons, r)
	}
	if !slices.Equal(reasons, []string{"defected", "dissatisfied", "fraud", "low_volume", "other"}) {
		t.Errorf("dissolution reasons = %v; want all five", reasons)
	}
}

// TestPatternComplaintResponses: planted pattern (b).
func TestPatternComplaintResponses(t *testing.T) {
	_, raw := firm(t)
	if n := queryInt(t, raw, "SELECT COUNT(*) FROM moments WHERE (touchpoint = 'complaint') <> (response IS NOT NULL)"); n != 0 {
		t.Errorf("%d moments have a response if and only if they are not complaints; want 0", n)
	}
	if n := queryInt(t, raw, "SELECT COUNT(*) FROM responses WHERE touchpoint = 'complaint' AND status IN ('trial', 'standard')"); n != 2 {
		t.Errorf("%d active complaint responses; want 2", n)
	}
	count := func(response string) (magic, n int) {
		err := raw.QueryRow(`SELECT SUM(CASE WHEN outcome = 'magic' THEN 1 ELSE 0 END), COUNT(*) FROM moments
			WHERE touchpoint = 'complaint' AND response = ?`, response).Scan(&magic, &n)
		if err != nil {
			t.Fatal(err)
		}
		return magic, n
	}
	cbMagic, cbN := count("call_back_same_day")
	apMagic, apN := count("email_apology")
	cb, ap, z := proportion(cbMagic, cbN, apMagic, apN)
	t.Logf("magic rate: call_back_same_day %.1f%% of %d, email_apology %.1f%% of %d; z = %.1f", 100*cb, cbN, 100*ap, apN, z)
	if cbN < 200 || apN < 200 || cb < 0.33 || ap > 0.2 || z < 6 {
		t.Errorf("call back %.2f of %d, apology %.2f of %d (z %.1f); want call back clearly ahead", cb, cbN, ap, apN, z)
	}
	// Since the trial began both responses are in use, so the comparison is fair.
	trialFrom := now.Add(-200 * 24 * time.Hour).UnixMicro()
	var before int
	raw.QueryRow(`SELECT COUNT(*) FROM moments WHERE response = 'call_back_same_day' AND occurred_at < ?`, trialFrom).Scan(&before)
	if before != 0 {
		t.Errorf("%d call backs before the trial began; want 0", before)
	}
}

// TestPatternPromiseBreaker: planted pattern (c).
func TestPatternPromiseBreaker(t *testing.T) {
	_, raw := firm(t)
	rows, err := raw.Query(`SELECT u.email, SUM(CASE WHEN p.status = 'broken' THEN 1 ELSE 0 END), COUNT(*)
		FROM promises p JOIN users u ON u.id = p.staff_id WHERE p.status <> 'open' GROUP BY u.email ORDER BY u.email`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var worst string
	var worstRate float64
	var dylanBroken, dylanN, othersBroken, othersN, othersWorst float64
	for rows.Next() {
		var email string
		var broken, n int
		if err := rows.Scan(&email, &broken, &n); err != nil {
			t.Fatal(err)
		}
		r := float64(broken) / float64(n)
		t.Logf("%-24s broke %3d of %3d promises (%.1f%%)", email, broken, n, 100*r)
		if r > worstRate {
			worst, worstRate = email, r
		}
		if email == "dylan@harbour.example" {
			dylanBroken, dylanN = float64(broken), float64(n)
		} else {
			othersBroken, othersN = othersBroken+float64(broken), othersN+float64(n)
			if n >= 50 {
				othersWorst = max(othersWorst, r)
			}
		}
	}
	dylan, others, z := proportion(int(dylanBroken), int(dylanN), int(othersBroken), int(othersN))
	t.Logf("Dylan broke %.1f%% of %d, the others %.1f%% of %d (worst %.1f%%); z = %.1f", 100*dylan, int(dylanN), 100*others, int(othersN), 100*othersWorst, z)
	if worst != "dylan@harbour.example" || dylanN < 150 || dylan < 0.35 || others > 0.12 || othersWorst > 0.2 || z < 10 {
		t.Errorf("worst promise keeper %s; Dylan %.2f of %.0f, others %.2f; want Dylan far behind", worst, dylan, dylanN, others)
	}
	for _, c := range []struct{ what, query string }{
		{"promises not from their moment", `SELECT COUNT(*) FROM promises p LEFT JOIN moments m ON m.id = p.moment_id
			WHERE m.id IS NULL OR m.customer_id <> p.customer_id OR m.staff_id <> p.staff_id`},
		{"promises resolved wrongly", `SELECT COUNT(*) FROM promises WHERE (status = 'open') <> (resolved_at IS NULL)
			OR status NOT IN ('open', 'kept', 'broken') OR due_at <= created_at`},
		{"kept promises resolved late", `SELECT COUNT(*) FROM promises WHERE status = 'kept' AND resolved_at > due_at`},
		{"broken promises resolved in time", `SELECT COUNT(*) FROM promises WHERE status = 'broken' AND resolved_at <= due_at`},
	} {
		if n := queryInt(t, raw, c.query); n != 0 {
			t.Errorf("%s: %d; want 0", c.what, n)
		}
	}
	if n := queryInt(t, raw, `SELECT COUNT(*) FROM promises WHERE (status = 'open') <> (due_at > ?)`, now.UnixMicro()); n != 0 {
		t.Errorf("%d promises open when overdue or resolved before due; want 0", n)
	}
}

// TestPatternReferrals: planted pattern (d).
func TestPatternReferrals(t *testing.T) {
	s, raw := firm(t)
	share := float64(s.Referred) / float64(s.Customers)
	t.Logf("%.1f%% of customers were referred", 100*share)
	if share < 0.07 || share > 0.13 {
		t.Errorf("%.3f of customers referred; want about 0.10", share)
	}
	if n := queryInt(t, raw, `SELECT COUNT(*) FROM customers c JOIN customers r ON r.id = c.referred_by WHERE r.created_at >= c.created_at`); n != 0 {
		t.Errorf("%d customers were referred by a later one; want 0", n)
	}
}

// TestPatternHoldingsAndStages: planted pattern (e).
func TestPatternHoldingsAndStages(t *testing.T) {
	s, raw := firm(t)
	several := queryInt(t, raw, `SELECT COUNT(*) FROM (SELECT customer_id FROM holdings GROUP BY customer_id HAVING COUNT(DISTINCT product) >= 2) x`)
	t.Logf("%d of %d customers have held two or more products", several, s.Customers)
	if several < s.Customers*35/100 {
		t.Errorf("%d customers hold several products; want at least 35%%", several)
	}
	if n := queryInt(t, raw, `SELECT COUNT(*) FROM holdings WHERE ended_at < started_at`); n != 0 {
		t.Errorf("%d holdings end before they start", n)
	}
	if n := queryInt(t, raw, `SELECT COUNT(*) FROM holdings h JOIN customers c ON c.id = h.customer_id WHERE c.stage = 'dissolution' AND h.ended_at IS NULL`); n != 0 {
		t.Errorf("%d holdings of dissolved customers are still held", n)
	}
	// Home and motor sell together.
	home := queryInt(t, raw, `SELECT COUNT(DISTINCT customer_id) FROM holdings WHERE product = 'home'`)
	motor := queryInt(t, raw, `SELECT COUNT(DISTINCT customer_id) FROM holdings WHERE product = 'motor'`)
	both := queryInt(t, raw, `SELECT COUNT(DISTINCT h.customer_id) FROM holdings h JOIN holdings m ON m.customer_id = h.customer_id
		WHERE h.product = 'home' AND m.product = 'motor'`)
	lift := float64(both) * float64(s.Customers) / float64(home) / float64(motor)
	t.Logf("home %d, motor %d, both %d: lift %.2f", home, motor, both, lift)
	if lift < 1.15 {
		t.Errorf("home and motor together lift %.2f; want above 1.15", lift)
	}

	// Every customer's stage changes run forward in lifecycle order from
	// "" and end at their current stage.
	stages := map[string]string{}
	rows, err := raw.Query(`SELECT id, stage FROM customers`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, stage string
		rows.Scan(&id, &stage)
		stages[id] = stage
	}
	rows.Close()
	rows, err = raw.Query(`SELECT customer_id, from_stage, to_stage, changed_by, changed_at, dissolution_reason, reason FROM stage_changes`)
	if err != nil {
		t.Fatal(err)
	}
	type change struct {
		from, to, by, dissolution, reason string
		at                                int64
	}
	byCustomer := map[string][]change{}
	for rows.Next() {
		var id string
		var c change
		if err := rows.Scan(&id, &c.from, &c.to, &c.by, &c.at, &c.dissolution, &c.reason); err != nil {
			t.Fatal(err)
		}
		byCustomer[id] = append(byCustomer[id], c)
	}
	rows.Close()
	reached := map[string]int{}
	fullPath := 0
	bad := 0
	for id, stage := range stages {
		cs := byCustomer[id]
		slices.SortFunc(cs, func(a, b change) int {
			if a.at != b.at {
				return int(a.at - b.at)
			}
			return slices.Index(rapport.Stages, rapport.Stage(a.to)) - slices.Index(rapport.Stages, rapport.Stage(b.to))
		})
		prev := ""
		for _, c := range cs {
			ok := c.from == prev && c.by == "demo" && c.reason != "" &&
				slices.Index(rapport.Stages, rapport.Stage(c.to)) > slices.Index(rapport.Stages, rapport.Stage(c.from)) &&
				(c.to == rapport.StageDissolution) == slices.Contains(rapport.DissolutionReasons, c.dissolution)
			if !ok {
				bad++
				if bad < 5 {
					t.Errorf("customer %s: stage change %+v after %q is out of order", id, c, prev)
				}
			}
			prev = c.to
			reached[c.to]++
		}
		if prev != stage {
			t.Errorf("customer %s is at %q but their history ends at %q", id, stage, prev)
		}
		if len(cs) >= 4 && cs[3].to == rapport.StageCommitment {
			fullPath++
		}
	}
	t.Logf("stage changes into each stage: %v; %d customers went from awareness to commitment", reached, fullPath)
	for _, st := range rapport.StageValues() {
		if reached[st] < s.Customers/20 {
			t.Errorf("%d changes into %s; want at least %d", reached[st], st, s.Customers/20)
		}
	}
	if fullPath < s.Customers/10 {
		t.Errorf("%d customers went through every stage to commitment; want at least %d", fullPath, s.Customers/10)
	}
}

func TestSummaryString(t *testing.T) {
	s := demo.Summary{Firm: "Harbour Mutual", LoginEmail: "harriet@harbour.example", Users: 20, Customers: 3000, Moments: 1234567,
		From: time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}
	got := s.String()
	for _, want := range []string{"Harbour Mutual", "3,000 customers", "1,234,567 moments", "2 Mar 2025", "harriet@harbour.example"} {
		if !strings.Contains(got, want) {
			t.Errorf("String() = %q; want it to contain %q", got, want)
		}
	}
}

// BenchmarkPopulate makes a firm of 20,000 customers and about 600,000
// moments on SQLite per iteration.
func BenchmarkPopulate(b *testing.B) {
	var moments int
	for b.Loop() {
		b.StopTimer()
		db, _ := open(b, sqlite())
		b.StartTimer()
		s, err := demo.Populate(context.Background(), db, demo.Config{Seed: 1, Customers: 20_000, Now: now})
		if err != nil {
			b.Fatal(err)
		}
		moments += s.Moments
	}
	b.ReportMetric(float64(moments)/b.Elapsed().Seconds(), "moments/s")
}

// TestRecoveryHistory checks that the recovery report has figures to show:
// cases resolved in time and late, recovered and not, and some still open,
// overdue and escalated.
func TestRecoveryHistory(t *testing.T) {
	s, _ := firm(t)
	db, err := sqlstore.Open(context.Background(), defaultFirm.dsn, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rep, err := sqlstore.NewRecoveryService(db).RecoveryReport(context.Background(), rapport.RecoveryReportFilter{From: s.To.Add(-30 * 24 * time.Hour), To: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d opened, %d open (%d overdue, %d escalated), %d resolved (%d in time), %d recovered, %d not, %d awaiting",
		rep.Opened, rep.Open, rep.Overdue, rep.Escalated, rep.Resolved, rep.ResolvedInTime, rep.Recovered, rep.NotRecovered, rep.AwaitingMoment)
	if rep.Resolved != s.ResolvedCases || rep.Open != s.OpenCases {
		t.Errorf("report has %d resolved and %d open; the summary says %d and %d", rep.Resolved, rep.Open, s.ResolvedCases, s.OpenCases)
	}
	if rep.InTimeRate == nil || *rep.InTimeRate < 0.6 || *rep.InTimeRate > 0.95 || rep.RecoveryRate == nil || rep.Recovered < 20 || rep.NotRecovered < 3 {
		t.Errorf("in time %v, recovery rate %v from %d recovered and %d not; want both rates, most in time but not all, and some of each",
			rep.InTimeRate, rep.RecoveryRate, rep.Recovered, rep.NotRecovered)
	}
	if rep.Open < 10 || rep.Overdue < 1 || rep.Escalated < 1 || rep.Open > rep.Resolved {
		t.Errorf("%d open, %d overdue, %d escalated of %d; want some of each, fewer open than resolved", rep.Open, rep.Overdue, rep.Escalated, rep.Opened)
	}
}

// TestTargets checks that the touchpoints' targets make a few alerts, not
// one for every touchpoint: most touchpoints meet their target.
func TestTargets(t *testing.T) {
	firm(t)
	db, err := sqlstore.Open(context.Background(), defaultFirm.dsn, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	alerts, err := sqlstore.NewAlertService(db).EvaluateAlerts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var below []string
	for _, a := range alerts {
		if a.Kind == rapport.AlertBelowTarget {
			below = append(below, a.Touchpoint)
		}
	}
	t.Logf("below target: %v", below)
	if len(below) < 2 || len(below) > 3 {
		t.Errorf("%d touchpoints below target (%v); want two or three of the eight", len(below), below)
	}
}

// TestSameFirmAnyDay checks that the same seed gives the same firm whatever
// the day it is made, and the time of day: the same customers, moments,
// promises, stages, cases and segments, at the same times relative to the
// day the firm's year ends.
func TestSameFirmAnyDay(t *testing.T) {
	t.Parallel()
	firms := make([][]string, 2)
	for i, at := range []time.Time{now, now.Add(9*24*time.Hour + 5*time.Hour)} {
		dsn := sqlite().DSN(t)
		db, err := sqlstore.Open(context.Background(), dsn, func() time.Time { return at })
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		s, err := demo.Populate(context.Background(), db, demo.Config{Seed: 5, Customers: 400, Now: at})
		if err != nil {
			t.Fatalf("Populate(%v) = %v", at, err)
		}
		end := s.To.UnixMicro()
		if !s.To.Equal(at.Truncate(24 * time.Hour)) {
			t.Errorf("Populate(%v) ends the year at %v; want the start of that day", at, s.To)
		}
		raw := testdb.SQL(t, dsn)
		for _, q := range sameFirmQueries {
			var args []any
			if strings.Contains(q, "?") {
				args = append(args, end)
			}
			firms[i] = append(firms[i], queryStrings(t, raw, q, args...)...)
		}
	}
	if len(firms[0]) < 10_000 {
		t.Fatalf("the firm has %d rows; want thousands", len(firms[0]))
	}
	diffs := 0
	for j := range max(len(firms[0]), len(firms[1])) {
		if j >= len(firms[0]) || j >= len(firms[1]) || firms[0][j] != firms[1][j] {
			if diffs++; diffs <= 5 {
				t.Errorf("row %d differs:\n %s\n %s", j, at(firms[0], j), at(firms[1], j))
			}
		}
	}
	if diffs > 0 {
		t.Errorf("%d of %d rows differ between a firm made on one day and nine days later", diffs, len(firms[0]))
	}
}

func at(rows []string, j int) string {
	if j < len(rows) {
		return rows[j]
	}
	return "(none)"
}

// sameFirmQueries describe a firm without its ids, with every time as
// microseconds relative to the end of its year (the one argument).
var sameFirmQueries = []string{
	`SELECT email || ' ' || name || ' ' || role || ' ' || COALESCE(team, '') || ' ' || (created_at - ?) FROM users ORDER BY email`,
	`SELECT external_id || ' ' || kind || ' ' || name || ' ' || COALESCE(email, '') || ' ' || COALESCE(phone, '') || ' ' || COALESCE(attributes, '') || ' ' || COALESCE(preferences, '') || ' ' ||
		COALESCE((SELECT email FROM users u WHERE u.id = c.owner_id), '-') || ' ' || COALESCE((SELECT r.external_id FROM customers r WHERE r.id = c.referred_by), '-') || ' ' ||
		stage || ' ' || (created_at - ?) FROM customers c ORDER BY external_id`,
	`SELECT c.external_id || ' ' || m.touchpoint || ' ' || m.channel || ' ' || (m.occurred_at - ?) || ' ' || (m.recorded_at - m.occurred_at) || ' ' ||
		COALESCE((SELECT email FROM users u WHERE u.id = m.staff_id), '-') || ' ' || COALESCE(m.response, '') || ' ' || COALESCE(m.rating, '-') || ' ' ||
		COALESCE(m.effort, '-') || ' ' || COALESCE(m.nps, '-') || ' ' || m.outcome || ' ' || COALESCE(m.notes, '') || ' ' || m.revenue || ' ' || m.cost
		FROM moments m JOIN customers c ON c.id = m.customer_id ORDER BY c.external_id, m.occurred_at, m.touchpoint, m.recorded_at`,
	`SELECT c.external_id || ' ' || p.text || ' ' || p.status || ' ' || (p.due_at - ?) || ' ' || COALESCE(p.resolved_at - p.due_at, '-') || ' ' || (p.created_at - p.due_at)
		FROM promises p JOIN customers c ON c.id = p.customer_id ORDER BY c.external_id, p.due_at, p.text, p.created_at`,
	`SELECT c.external_id || ' ' || s.from_stage || ' ' || s.to_stage || ' ' || COALESCE(s.reason, '') || ' ' || COALESCE(s.dissolution_reason, '') || ' ' || (s.changed_at - ?)
		FROM stage_changes s JOIN customers c ON c.id = s.customer_id ORDER BY c.external_id, s.changed_at, s.to_stage`,
	`SELECT c.external_id || ' ' || h.product || ' ' || (h.started_at - ?) || ' ' || COALESCE(h.ended_at - h.started_at, '-')
		FROM holdings h JOIN customers c ON c.id = h.customer_id ORDER BY c.external_id, h.started_at, h.product`,
	`SELECT c.external_id || ' ' || k.touchpoint || ' ' || k.status || ' ' || COALESCE((SELECT email FROM users u WHERE u.id = k.assignee_id), k.queue) || ' ' ||
		(k.moment_at - ?) || ' ' || (k.opened_at - k.moment_at) || ' ' || (k.due_at - k.opened_at) || ' ' || COALESCE(k.resolved_at - k.opened_at, '-') || ' ' ||
		COALESCE(k.escalated_at IS NOT NULL, '-') || ' ' || COALESCE(k.resolution, '')
		FROM recovery_cases k JOIN customers c ON c.id = k.customer_id ORDER BY c.external_id, k.moment_at`,
	`SELECT name || ' ' || rule || ' ' || size FROM segments ORDER BY name`,
	`SELECT key || ' ' || target_score FROM touchpoints ORDER BY key`,
}
