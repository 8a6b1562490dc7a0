// Package testdb opens real databases for tests: a SQLite file in a temporary
// directory, and a fresh database on the PostgreSQL server named by
// RAPPORT_TEST_POSTGRES (default postgres://postgres@127.0.0.1:5432/postgres).
// When PostgreSQL cannot be reached its tests skip with a message, unless
// RAPPORT_REQUIRE_POSTGRES=1 (set by CI), where they fail instead.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// DefaultPostgres is the server tests use when RAPPORT_TEST_POSTGRES is unset.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Backend opens a fresh, migrated database for one test.
type Backend struct {
	Name string
	Open func(t testing.TB, now rapport.Clock) *sqlstore.DB
	// DSN returns the address of a new, empty database that lives until the
	// test ends, for tests that open, close and reopen it themselves, or look
	// at its tables directly (see SQL).
	DSN func(t testing.TB) string
}

// Backends returns SQLite and PostgreSQL, for running one suite on both.
func Backends() []Backend {
	return []Backend{
		{Name: "sqlite", Open: SQLite, DSN: SQLiteDSN},
		{Name: "postgres", Open: Postgres, DSN: PostgresDatabase},
	}
}

// SQLite opens a new SQLite database in a temporary directory.
func SQLite(t testing.TB, now rapport.Clock) *sqlstore.DB {
	t.Helper()
	return open(t, SQLiteDSN(t), now)
}

// SQLiteDSN returns the path of a new SQLite file in a temporary directory.
func SQLiteDSN(t testing.TB) string {
	return filepath.Join(t.TempDir(), "rapport.db")
}

// Postgres creates a new database on the test server, opens it, and drops it
// when the test ends.
func Postgres(t testing.TB, now rapport.Clock) *sqlstore.DB {
	t.Helper()
	return open(t, PostgresDatabase(t), now)
}

func open(t testing.TB, dsn string, now rapport.Clock) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), dsn, now)
	if err != nil {
		t.Fatalf("open %s: %v", dsn, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// PostgresDatabase creates a new, empty database on the test server and
// returns its address; the database is dropped when the test ends.
func PostgresDatabase(t testing.TB) string {
	t.Helper()
	dsn := PostgresDSN(t)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	defer admin.Close()
	var b [6]byte
	rand.Read(b[:])
	name := "rapport_test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	// Cleanups run last first, so a store opened on this database later in
	// the test is closed before the database is dropped.
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", dsn)
		if err != nil {
			return
		}
		defer admin.Close()
		admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, _ := url.Parse(dsn)
	u.Path = "/" + name
	return u.String()
}

// SQL opens the database at dsn with database/sql alone, so a test can check
// what is stored without going through the store; it is closed when the test ends.
func SQL(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	driver, source := "pgx", dsn
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		driver, source = "sqlite", "file:"+dsn+"?_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		t.Fatalf("open %s: %v", dsn, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// PostgresDSN returns the test server's address, skipping the test (or failing
// it under RAPPORT_REQUIRE_POSTGRES=1) when the server does not answer.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("RAPPORT_TEST_POSTGRES")
	if dsn == "" {
		dsn = DefaultPostgres
	}
	if err := ping(dsn); err != nil {
		msg := fmt.Sprintf("PostgreSQL is not reachable at %s (%v); set RAPPORT_TEST_POSTGRES to a server where the user may create databases", dsn, err)
		if os.Getenv("RAPPORT_REQUIRE_POSTGRES") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dsn
}

func ping(dsn string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

// Clock is a settable clock for tests, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock that reads t until moved.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock on.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
