package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
)

// crashEnv, when set in a child process of TestDurabilityAfterCrash, holds
// "path|customer id": the child records one moment there and dies.
const crashEnv = "RAPPORT_TEST_CRASH"

// TestDurabilityAfterCrash checks that a write acknowledged is committed: a
// process that records a moment and dies without closing the database must
// leave the moment there for the next process.
func TestDurabilityAfterCrash(t *testing.T) {
	if v := os.Getenv(crashEnv); v != "" {
		crashAfterRecording(v)
		return
	}
	ctx := context.Background()
	path := testdb.SQLiteDSN(t)
	db, err := sqlstore.Open(ctx, path, nil)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	c := &rapport.Customer{Name: "Ada"}
	if err := sqlstore.NewCustomerService(db).CreateCustomer(ctx, c); err != nil {
		t.Fatalf("CreateCustomer = %v", err)
	}
	db.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestDurabilityAfterCrash$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path+"|"+c.ID)
	out, err := cmd.Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("child process = %v (stderr %s); want it to die with status 1", err, stderrOf(err))
	}
	id, ok := strings.CutPrefix(strings.TrimSpace(string(out)), "recorded ")
	if !ok {
		t.Fatalf("child process printed %q; want the recorded moment's id", out)
	}
	// The child left its write-ahead log behind, so this really is recovery
	// from a crash rather than from a clean close.
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() == 0 {
		t.Errorf("after the crash, write-ahead log = %v, %v; want one left behind", fi, err)
	}

	db, err = sqlstore.Open(ctx, path, nil)
	if err != nil {
		t.Fatalf("Open(after crash) = %v", err)
	}
	defer db.Close()
	m, err := sqlstore.NewMomentService(db).FindMomentByID(ctx, id)
	if err != nil {
		t.Fatalf("FindMomentByID(%s) after the crash = %v; want the acknowledged moment", id, err)
	}
	if m.ExternalID != "crash-1" || m.CustomerID != c.ID {
		t.Errorf("moment after the crash = %s; want crash-1 of %s", show(m), c.ID)
	}
}

// crashAfterRecording is the child's side: record, report, and exit without
// closing anything, as a killed server would.
func crashAfterRecording(v string) {
	path, customerID, _ := strings.Cut(v, "|")
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, path, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	m := &rapport.Moment{ExternalID: "crash-1", CustomerID: customerID, Touchpoint: "purchase",
		Channel: rapport.ChannelWeb, OccurredAt: time.Now(), Rating: ptr(5)}
	if _, err := sqlstore.NewMomentService(db).RecordMoment(ctx, m); err != nil {
		fmt.Fprintln(os.Stderr, "record:", err)
		os.Exit(2)
	}
	fmt.Println("recorded", m.ID)
	os.Exit(1)
}

func stderrOf(err error) string {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return string(exit.Stderr)
	}
	return ""
}

// TestConcurrentRecordMoments checks that many writers at once all succeed (no SQLITE_BUSY) and nothing is lost.
func TestConcurrentRecordMoments(t *testing.T) {
	const writers, each = 12, 20
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		c := s.customer(t, &rapport.Customer{Name: "Ada"})
		var wg sync.WaitGroup
		errs := make(chan error, writers*each+writers)
		start := make(chan struct{})
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for i := range each {
					m := s.moment(c.ID)
					m.ExternalID = fmt.Sprintf("w%d-%d", w, i)
					var err error
					if i%5 == 4 {
						// Some writers send small batches, and readers run alongside.
						_, err = s.moments.RecordMoments(ctx, []*rapport.Moment{m})
						if err == nil {
							_, err = s.moments.FindMoments(ctx, rapport.MomentFilter{CustomerID: c.ID, Limit: 10})
						}
					} else {
						_, err = s.moments.RecordMoment(ctx, m)
					}
					if err != nil {
						errs <- fmt.Errorf("writer %d, moment %d: %w", w, i, err)
					}
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent RecordMoment: %v", err)
		}
		if n := s.count(t, "moments", ""); n != writers*each {
			t.Errorf("after concurrent writes, %d moments stored; want %d", n, writers*each)
		}
		page, err := s.moments.FindMoments(ctx, rapport.MomentFilter{CustomerID: c.ID, Limit: rapport.MaxPageSize})
		if err != nil || len(page.Items) != writers*each {
			t.Errorf("FindMoments after concurrent writes = %d items, %v; want %d", len(page.Items), err, writers*each)
		}
	})
}

// TestConcurrentSameExternalID checks that one moment sent by many clients at once is stored once, and all of them succeed.
func TestConcurrentSameExternalID(t *testing.T) {
	const senders = 16
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		c := s.customer(t, &rapport.Customer{Name: "Ada"})
		for round := range 3 {
			ext := fmt.Sprintf("same-%d", round)
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				created int
				ids     = map[string]int{}
			)
			start := make(chan struct{})
			for range senders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					m := s.moment(c.ID)
					m.ExternalID = ext
					<-start
					ok, err := s.moments.RecordMoment(ctx, m)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						t.Errorf("RecordMoment(%s) from one of %d senders = %v; want success", ext, senders, err)
						return
					}
					if ok {
						created++
					}
					ids[m.ID]++
				}()
			}
			close(start)
			wg.Wait()
			if created != 1 || len(ids) != 1 {
				t.Errorf("%d senders of %s: %d created, ids %v; want 1 created and the same id for all", senders, ext, created, ids)
			}
			if n := s.count(t, "moments", "external_id = '"+ext+"'"); n != 1 {
				t.Errorf("%d senders of %s: %d moments stored; want 1", senders, ext, n)
			}
		}
	})
}

// TestConcurrentCreateConflicts checks that racing creates of the same thing give one success and clean conflicts.
func TestConcurrentCreateConflicts(t *testing.T) {
	const senders = 8
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		creates := []struct {
			name   string
			create func() error
			table  string
		}{
			{"CreateUser(same email)", func() error {
				return s.users.CreateUser(ctx, &rapport.User{Email: "ann@firm.example", Name: "Ann", Role: rapport.RoleAgent})
			}, "users"},
			{"CreateTouchpoint(same key)", func() error {
				return s.touchpoints.CreateTouchpoint(ctx, &rapport.Touchpoint{Key: "renewal", Name: "Renewal", Phase: rapport.PhaseSale})
			}, "touchpoints WHERE key = 'renewal'"},
			{"CreateCustomer(same external id)", func() error {
				return s.customers.CreateCustomer(ctx, &rapport.Customer{Name: "Ada", ExternalID: "crm-1"})
			}, "customers"},
		}
		for _, c := range creates {
			var wg sync.WaitGroup
			codes := make(chan string, senders)
			start := make(chan struct{})
			for range senders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					codes <- rapport.ErrorCode(c.create())
				}()
			}
			close(start)
			wg.Wait()
			close(codes)
			counts := map[string]int{}
			for code := range codes {
				counts[code]++
			}
			if want := map[string]int{"": 1, rapport.ECONFLICT: senders - 1}; !maps.Equal(counts, want) {
				t.Errorf("%d at once: %s results = %v; want one success and %d %s", senders, c.name, counts, senders-1, rapport.ECONFLICT)
			}
			table, where, _ := strings.Cut(c.table, " WHERE ")
			if n := s.count(t, table, where); n != 1 {
				t.Errorf("%d at once: %s stored %d; want 1", senders, c.name, n)
			}
		}
	})
}

// TestConcurrentOpen starts several servers at once on one new database, as
// a deployment of several stateless servers does.
func TestConcurrentOpen(t *testing.T) {
	const servers = 4
	t.Parallel()
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			dsn := b.DSN(t)
			var wg sync.WaitGroup
			errs := make([]error, servers)
			for i := range servers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					db, err := sqlstore.Open(context.Background(), dsn, nil)
					if err == nil {
						err = db.Close()
					}
					errs[i] = err
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("server %d of %d starting at once: Open = %v", i+1, servers, err)
				}
			}
			raw := testdb.SQL(t, dsn)
			var n int
			if err := raw.QueryRow(`SELECT COUNT(*) FROM touchpoints`).Scan(&n); err != nil || n != len(rapport.DefaultTouchpoints()) {
				t.Errorf("after %d servers started at once, %d touchpoints (%v); want %d", servers, n, err, len(rapport.DefaultTouchpoints()))
			}
		})
	}
}
