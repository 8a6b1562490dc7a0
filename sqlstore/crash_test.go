package sqlstore_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
)

// groupCrashEnv, when set in a child process of TestGroupedWritesSurviveKill,
// holds "dsn|customer ids": the child records moments from many clients at
// once, saying each one it is told is stored, until it is killed.
const groupCrashEnv = "RAPPORT_TEST_GROUP_CRASH"

// crashBatch is how many moments each batch of the crash test holds.
const crashBatch = 10

// TestGroupedWritesSurviveKill kills, with SIGKILL, a process in the middle
// of recording from 32 clients at once (single moments sharing transactions,
// and batches), on each database. Every moment it acknowledged is there
// once, every batch is whole or absent, and everything derived from the
// moments agrees with a rebuild from them.
func TestGroupedWritesSurviveKill(t *testing.T) {
	if v := os.Getenv(groupCrashEnv); v != "" {
		recordUntilKilled(v)
		return
	}
	t.Parallel()
	for _, backend := range testdb.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			f := newPipelineFirm(t, backend)
			dsn := f.dsn
			ids := make([]string, 0, len(f.customers))
			for _, id := range f.customers {
				ids = append(ids, id)
			}
			f.db.Close()

			cmd := exec.Command(os.Args[0], "-test.run=^TestGroupedWritesSurviveKill$", "-test.count=1")
			cmd.Env = append(os.Environ(), groupCrashEnv+"="+dsn+"|"+strings.Join(ids, ","))
			cmd.Stderr = os.Stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			acked, batches := map[string]bool{}, map[string]bool{}
			lines := bufio.NewScanner(out)
			deadline := time.Now().Add(60 * time.Second)
			for len(acked) < 400 && time.Now().Before(deadline) && lines.Scan() {
				kind, ext, _ := strings.Cut(lines.Text(), " ")
				switch kind {
				case "moment":
					acked[ext] = true
				case "batch":
					batches[ext] = true
				}
			}
			// Mid-write: the clients are still sending.
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			for lines.Scan() {
				kind, ext, _ := strings.Cut(lines.Text(), " ")
				if kind == "moment" {
					acked[ext] = true
				} else if kind == "batch" {
					batches[ext] = true
				}
			}
			cmd.Wait()
			if len(acked) < 100 || len(batches) == 0 {
				t.Fatalf("the child acknowledged %d moments and %d batches before it was killed; want enough to prove something", len(acked), len(batches))
			}

			db, err := sqlstore.Open(context.Background(), dsn, f.clock.Now)
			if err != nil {
				t.Fatalf("open after the kill: %v", err)
			}
			t.Cleanup(func() { db.Close() })
			f.db = db
			stored := map[string]int{}
			rows, err := f.raw.Query(`SELECT external_id FROM moments`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var ext string
				if err := rows.Scan(&ext); err != nil {
					t.Fatal(err)
				}
				stored[ext]++
			}
			rows.Close()
			for ext := range acked {
				if stored[ext] != 1 {
					t.Errorf("acknowledged moment %s is stored %d times; want once", ext, stored[ext])
				}
			}
			whole := map[string]int{}
			for ext, n := range stored {
				if n != 1 {
					t.Errorf("moment %s is stored %d times", ext, n)
				}
				if prefix, _, ok := strings.Cut(ext, "/"); ok {
					whole[prefix]++
				}
			}
			for prefix, n := range whole {
				if n != crashBatch {
					t.Errorf("batch %s has %d of its %d moments stored; want all or none", prefix, n, crashBatch)
				}
			}
			for prefix := range batches {
				if whole[prefix] != crashBatch {
					t.Errorf("acknowledged batch %s has %d moments stored; want %d", prefix, whole[prefix], crashBatch)
				}
			}
			kept := f.snapshot()
			if err := db.RebuildFromMoments(context.Background(), sqlstore.Rebuild{InferStages: true, OpenCasesSince: f.clock.Now().AddDate(0, 0, -30)}); err != nil {
				t.Fatal(err)
			}
			// Cases and stages change with the order moments came in and
			// the time; the totals must agree exactly.
			sameDerived(t, "after the kill, rebuilt against kept", f.snapshot(), kept, "moment_stats", "customer_day_stats")
			t.Logf("%s: %d moments and %d batches acknowledged before the kill, %d moments stored", backend.Name, len(acked), len(batches), len(stored))
		})
	}
}

// recordUntilKilled is the child's side: 30 clients record single moments
// and 2 record batches, each printing what it was told is stored, until the
// process is killed.
func recordUntilKilled(v string) {
	dsn, list, _ := strings.Cut(v, "|")
	customers := strings.Split(list, ",")
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	moments := sqlstore.NewMomentService(db)
	var out sync.Mutex
	say := func(format string, args ...any) {
		out.Lock()
		defer out.Unlock()
		fmt.Fprintf(os.Stdout, format+"\n", args...)
	}
	now := time.Now()
	moment := func(ext string, i int) *rapport.Moment {
		r := 1 + i%5
		return &rapport.Moment{ExternalID: ext, CustomerID: customers[i%len(customers)], Touchpoint: benchTouchpoints[i%len(benchTouchpoints)],
			Channel: rapport.ChannelPhone, OccurredAt: now.Add(-time.Duration(i) * time.Minute), Rating: &r, Revenue: float64(i % 7)}
	}
	for c := range 32 {
		go func() {
			for i := 0; ; i++ {
				if c < 2 {
					prefix := fmt.Sprintf("b%d-%d", c, i)
					batch := make([]*rapport.Moment, crashBatch)
					for j := range batch {
						batch[j] = moment(fmt.Sprintf("%s/%d", prefix, j), i*crashBatch+j)
					}
					if _, err := moments.RecordMoments(ctx, batch); err == nil {
						say("batch %s", prefix)
					}
					continue
				}
				ext := fmt.Sprintf("s%d-%d", c, i)
				if _, err := moments.RecordMoment(ctx, moment(ext, c*1000+i)); err == nil {
					say("moment %s", ext)
				}
			}
		}()
	}
	select {}
}
