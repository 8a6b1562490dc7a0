package sqlstore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
)

// epoch is the controlled clock's starting time in every test.
var epoch = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// store is one open database with its services, a controlled clock, and a
// plain database/sql handle for checking what is stored.
type store struct {
	backend     string
	dsn         string
	clock       *testdb.Clock
	db          *sqlstore.DB
	customers   *sqlstore.CustomerService
	touchpoints *sqlstore.TouchpointService
	moments     *sqlstore.MomentService
	timelines   *sqlstore.TimelineService
	users       *sqlstore.UserService
	tokens      *sqlstore.TokenService
	raw         *sql.DB
}

// eachBackend runs test on a fresh database of every backend. Each test has
// databases of its own, so tests run in parallel: most of their time is spent
// waiting for PostgreSQL to create a database.
func eachBackend(t *testing.T, test func(t *testing.T, s *store)) {
	t.Parallel()
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s := &store{backend: b.Name, dsn: b.DSN(t), clock: testdb.NewClock(epoch)}
			s.open(t)
			s.raw = testdb.SQL(t, s.dsn)
			test(t, s)
		})
	}
}

// open opens (or reopens) the store's database.
func (s *store) open(t testing.TB) {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), s.dsn, s.clock.Now)
	if err != nil {
		t.Fatalf("Open(%s) = %v", s.backend, err)
	}
	t.Cleanup(func() { db.Close() })
	s.db = db
	s.customers = sqlstore.NewCustomerService(db)
	s.touchpoints = sqlstore.NewTouchpointService(db)
	s.moments = sqlstore.NewMomentService(db)
	s.timelines = sqlstore.NewTimelineService(db)
	s.users = sqlstore.NewUserService(db)
	s.tokens = sqlstore.NewTokenService(db)
}

// reopen closes the database the way a stopping server does and opens it again.
func (s *store) reopen(t testing.TB) {
	t.Helper()
	if err := s.db.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	s.open(t)
}

// count returns the number of rows in a table that match where (SQL with no
// placeholders), read directly rather than through the store.
func (s *store) count(t testing.TB, table, where string) int {
	t.Helper()
	q := "SELECT COUNT(*) FROM " + table
	if where != "" {
		q += " WHERE " + where
	}
	var n int
	if err := s.raw.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func (s *store) user(t testing.TB, name string) *rapport.User {
	t.Helper()
	u := &rapport.User{Name: name, Email: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@firm.example", Role: rapport.RoleAgent}
	if err := s.users.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("CreateUser(%q) = %v", name, err)
	}
	return u
}

func (s *store) customer(t testing.TB, c *rapport.Customer) *rapport.Customer {
	t.Helper()
	if err := s.customers.CreateCustomer(context.Background(), c); err != nil {
		t.Fatalf("CreateCustomer(%q) = %v", c.Name, err)
	}
	return c
}

func (s *store) record(t testing.TB, m *rapport.Moment) *rapport.Moment {
	t.Helper()
	if _, err := s.moments.RecordMoment(context.Background(), m); err != nil {
		t.Fatalf("RecordMoment(%q) = %v", m.ExternalID, err)
	}
	return m
}

// moment returns a valid moment for a customer, an hour before the clock's time.
func (s *store) moment(customerID string) *rapport.Moment {
	return &rapport.Moment{CustomerID: customerID, Touchpoint: "query", Channel: rapport.ChannelPhone,
		OccurredAt: s.clock.Now().Add(-time.Hour), Rating: ptr(4)}
}

func ptr[T any](v T) *T { return &v }

// show renders a value as JSON, so that values holding pointers and maps
// compare and print by content.
func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v (%v)", v, err)
	}
	return string(b)
}

// fieldNames lists an error's field errors as "field", or "index:field" in a
// batch, sorted.
func fieldNames(err error) []string {
	out := []string{}
	for _, f := range rapport.ErrorFields(err) {
		if f.Index != nil {
			out = append(out, fmt.Sprintf("%d:%s", *f.Index, f.Field))
		} else {
			out = append(out, f.Field)
		}
	}
	sort.Strings(out)
	return out
}

// wantCode fails the test unless err carries the application error code.
func wantCode(t testing.TB, call string, err error, code string) {
	t.Helper()
	if got := rapport.ErrorCode(err); got != code {
		t.Fatalf("%s error code = %q (%v); want %q", call, got, err, code)
	}
}

// TestMigrationsFreshDatabase checks that a new database records every embedded migration, at the time it ran.
func TestMigrationsFreshDatabase(t *testing.T) {
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations found: %v", err)
	}
	var want []string
	for _, f := range files {
		want = append(want, filepath.Base(f))
	}
	eachBackend(t, func(t *testing.T, s *store) {
		got, applied := migrations(t, s)
		if !slices.Equal(got, want) {
			t.Errorf("schema_migrations = %q; want %q", got, want)
		}
		for i, at := range applied {
			if at != epoch.UnixMicro() {
				t.Errorf("migration %s applied_at = %d; want %d (the clock's time)", got[i], at, epoch.UnixMicro())
			}
		}
	})
}

// migrations returns the names and application times recorded in schema_migrations.
func migrations(t testing.TB, s *store) (names []string, applied []int64) {
	t.Helper()
	rows, err := s.raw.Query(`SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			version int
			name    string
			at      int64
		)
		if err := rows.Scan(&version, &name, &at); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(name, fmt.Sprintf("%04d_", version)) {
			t.Errorf("migration %q recorded as version %d", name, version)
		}
		names, applied = append(names, name), append(applied, at)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return names, applied
}

// TestMigrationsReopen checks that reopening a database applies nothing twice and keeps its data.
func TestMigrationsReopen(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		wantNames, wantApplied := migrations(t, s)
		c := s.customer(t, &rapport.Customer{Name: "Ada Lovelace", Email: "ada@example.com"})
		m := s.record(t, s.moment(c.ID))
		if _, err := s.touchpoints.UpdateTouchpoint(ctx, "greeting", rapport.TouchpointUpdate{Name: ptr("Welcome")}); err != nil {
			t.Fatalf("UpdateTouchpoint = %v", err)
		}

		for range 2 {
			s.clock.Add(24 * time.Hour)
			s.reopen(t)
		}

		gotNames, gotApplied := migrations(t, s)
		if !slices.Equal(gotNames, wantNames) || !slices.Equal(gotApplied, wantApplied) {
			t.Errorf("after reopening, schema_migrations = %q at %d; want %q at %d (nothing applied twice)",
				gotNames, gotApplied, wantNames, wantApplied)
		}
		if n := s.count(t, "touchpoints", ""); n != len(rapport.DefaultTouchpoints()) {
			t.Errorf("after reopening, %d touchpoints; want %d", n, len(rapport.DefaultTouchpoints()))
		}
		if tp, err := s.touchpoints.FindTouchpointByKey(ctx, "greeting"); err != nil || tp.Name != "Welcome" {
			t.Errorf("after reopening, FindTouchpointByKey(greeting) = %+v, %v; want the edited name kept", tp, err)
		}
		if got, err := s.customers.FindCustomerByID(ctx, c.ID); err != nil || got.Name != c.Name {
			t.Errorf("after reopening, FindCustomerByID = %+v, %v; want %q", got, err, c.Name)
		}
		if got, err := s.moments.FindMomentByID(ctx, m.ID); err != nil || got.CustomerID != c.ID {
			t.Errorf("after reopening, FindMomentByID = %+v, %v; want the moment kept", got, err)
		}
	})
}

// TestDefaultCatalogue checks that a new firm starts with the eight default touchpoints, and only once.
func TestDefaultCatalogue(t *testing.T) {
	wantKeys := []string{"greeting", "query", "complaint", "offer", "purchase", "delivery", "service", "closing"}
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		check := func(when string) {
			t.Helper()
			tps, err := s.touchpoints.FindTouchpoints(ctx)
			if err != nil {
				t.Fatalf("FindTouchpoints = %v", err)
			}
			var keys []string
			for _, tp := range tps {
				keys = append(keys, tp.Key)
				if tp.Name == "" {
					t.Errorf("%s: touchpoint %q has no name", when, tp.Key)
				}
				if tp.Phase != rapport.PhasePreSales && tp.Phase != rapport.PhaseSale && tp.Phase != rapport.PhasePostSales {
					t.Errorf("%s: touchpoint %q phase = %q; want a journey phase", when, tp.Key, tp.Phase)
				}
				if tp.TargetScore < 1 || tp.TargetScore > 5 {
					t.Errorf("%s: touchpoint %q target score = %v; want 1 to 5", when, tp.Key, tp.TargetScore)
				}
				if !tp.CreatedAt.Equal(epoch) {
					t.Errorf("%s: touchpoint %q created at %v; want %v (first start)", when, tp.Key, tp.CreatedAt, epoch)
				}
			}
			sort.Strings(keys)
			want := slices.Sorted(slices.Values(wantKeys))
			if !slices.Equal(keys, want) {
				t.Errorf("%s: catalogue keys = %q; want %q", when, keys, want)
			}
			for _, def := range rapport.DefaultTouchpoints() {
				tp, err := s.touchpoints.FindTouchpointByKey(ctx, def.Key)
				if err != nil {
					t.Errorf("%s: FindTouchpointByKey(%q) = %v", when, def.Key, err)
					continue
				}
				if tp.Name != def.Name || tp.Phase != def.Phase || tp.TargetScore != def.TargetScore {
					t.Errorf("%s: touchpoint %q = %q, %s, %v; want %q, %s, %v", when, def.Key,
						tp.Name, tp.Phase, tp.TargetScore, def.Name, def.Phase, def.TargetScore)
				}
			}
		}
		check("fresh")
		s.clock.Add(time.Hour)
		s.reopen(t)
		check("reopened")
	})
}
