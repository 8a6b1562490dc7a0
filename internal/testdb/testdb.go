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
}

// Backends returns SQLite and PostgreSQL, for running one suite on both.
func Backends() []Backend {
	return []Backend{{"sqlite", SQLite}, {"postgres", Postgres}}
}

// SQLite opens a new SQLite database in a temporary directory.
func SQLite(t testing.TB, now rapport.Clock) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "rapport.db"), now)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Postgres creates a new database on the test server, opens it, and drops it
// when the test ends.
func Postgres(t testing.TB, now rapport.Clock) *sqlstore.DB {
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
	u, _ := url.Parse(dsn)
	u.Path = "/" + name
	db, err := sqlstore.Open(ctx, u.String(), now)
	if err != nil {
		t.Fatalf("open postgres test database: %v", err)
	}
	t.Cleanup(func() {
		db.Close()
		admin, err := sql.Open("pgx", dsn)
		if err != nil {
			return
		}
		defer admin.Close()
		admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
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
