package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rapport-crm/rapport/sqlstore"
)

// TestBackupUnderLoad backs up the demo database while clients keep
// recording moments, restores the backup into a new file, and finds there
// a whole database holding every moment acknowledged before the backup
// began, each once.
func TestBackupUnderLoad(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "rapport.db")
	base, stdout := startServer(t, "--db", db, "--demo")
	m := regexp.MustCompile(`API token \(admin\): (rpt_\S+)`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("serve --demo printed no API token:\n%s", stdout)
	}
	token := m[1]
	var cs struct{ Items []struct{ ID string } }
	var ts struct{ Items []struct{ Key string } }
	if get(t, base+"/api/v1/customers?limit=50", token, &cs) != 200 || get(t, base+"/api/v1/touchpoints", token, &ts) != 200 ||
		len(cs.Items) == 0 || len(ts.Items) == 0 {
		t.Fatal("the demo server lists no customers or touchpoints")
	}

	// Writers record moments until told to stop; each acknowledged moment is
	// noted with the time its answer arrived.
	type ack struct {
		externalID string
		at         time.Time
	}
	var (
		mu     sync.Mutex
		acked  []ack
		failed atomic.Int64
		stop   atomic.Bool
		wg     sync.WaitGroup
	)
	occurred := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	for w := range 4 {
		wg.Go(func() {
			for n := 0; !stop.Load(); n++ {
				id := fmt.Sprintf("backup-%d-%d", w, n)
				body := fmt.Sprintf(`{"external_id": %q, "customer_id": %q, "touchpoint": %q, "channel": "phone", "occurred_at": %q, "rating": 4}`,
					id, cs.Items[n%len(cs.Items)].ID, ts.Items[n%len(ts.Items)].Key, occurred)
				req, _ := http.NewRequest("POST", base+"/api/v1/moments", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusCreated {
					failed.Add(1)
					continue
				}
				mu.Lock()
				acked = append(acked, ack{id, time.Now()})
				mu.Unlock()
			}
		})
	}
	defer func() { stop.Store(true); wg.Wait() }()
	countAcked := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	for countAcked() < 100 {
		time.Sleep(10 * time.Millisecond)
	}

	backup := filepath.Join(dir, "backup.db")
	mu.Lock()
	before := append([]ack(nil), acked...)
	mu.Unlock()
	began := time.Now()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"backup", backup, "--db", db}, noEnv, &out, io.Discard); err != nil {
		t.Fatalf("rapport backup: %v", err)
	}
	ended := time.Now()
	t.Logf("%s", strings.TrimSpace(out.String()))
	for countAcked() < len(before)+100 {
		time.Sleep(10 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	during := 0
	for _, a := range acked {
		if a.at.After(began) && a.at.Before(ended) {
			during++
		}
	}
	t.Logf("moments acknowledged: %d before the backup, %d while it ran, %d in all; %d requests failed",
		len(before), during, len(acked), failed.Load())
	if during == 0 {
		t.Error("no moment was acknowledged while the backup ran; the test did not back up under load")
	}
	if failed.Load() > 0 {
		t.Errorf("%d requests failed while the backup ran; want none", failed.Load())
	}

	// The backup refuses to replace a file unless told to.
	if err := run(context.Background(), []string{"backup", backup, "--db", db}, noEnv, io.Discard, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "--force") {
		t.Errorf("a second backup to the same file = %v; want a refusal that mentions --force", err)
	}
	// Restoring over the database the server has open is refused, even forced.
	if err := run(context.Background(), []string{"restore", backup, "--db", db, "--force"}, noEnv, io.Discard, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "stop the server") {
		t.Errorf("restore over the live database = %v; want a refusal that says to stop the server", err)
	}

	restored := filepath.Join(dir, "restored.db")
	out.Reset()
	if err := run(context.Background(), []string{"restore", backup, "--db", restored}, noEnv, &out, io.Discard); err != nil {
		t.Fatalf("rapport restore: %v", err)
	}
	if !strings.Contains(out.String(), "Restored") {
		t.Errorf("restore printed %q; want what it restored", out.String())
	}
	conn, err := sql.Open("sqlite", "file:"+restored+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var check string
	if err := conn.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check of the restored database = %q, %v; want ok", check, err)
	}
	rows, err := conn.Query(`SELECT external_id, COUNT(*) FROM moments WHERE external_id LIKE 'backup-%' GROUP BY external_id`)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		found[id] = n
	}
	rows.Close()
	missing := 0
	for _, a := range before {
		if found[a.externalID] != 1 {
			missing++
			if missing <= 5 {
				t.Errorf("moment %s, acknowledged before the backup, is in the restored database %d times; want once", a.externalID, found[a.externalID])
			}
		}
	}
	t.Logf("restored database: %d of the test's moments, of which %d acknowledged before the backup; %d missing", len(found), len(before), missing)

	// The restored file is one Rapport opens and serves.
	store, err := sqlstore.Open(context.Background(), restored, nil)
	if err != nil {
		t.Fatalf("open the restored database: %v", err)
	}
	store.Close()
}

// TestRestoreRefusesDamagedBackup: a truncated backup, or a file that is no
// database, is refused with a clear error and the database stays as it was.
func TestRestoreRefusesDamagedBackup(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "rapport.db")
	if err := run(context.Background(), []string{"demo", "--db", db, "--customers", "200", "--moments", "4000"}, noEnv, io.Discard, io.Discard); err != nil {
		t.Fatalf("rapport demo: %v", err)
	}
	backup := filepath.Join(dir, "backup.db")
	if err := run(context.Background(), []string{"backup", backup, "--db", db}, noEnv, io.Discard, io.Discard); err != nil {
		t.Fatalf("rapport backup: %v", err)
	}
	whole, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.db")
	if err := os.WriteFile(truncated, whole[:len(whole)*2/3], 0o600); err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, bytes.Repeat([]byte("not a database "), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	newer := filepath.Join(dir, "newer.db")
	if err := os.WriteFile(newer, whole, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := sql.Open("sqlite", newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_from_the_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	c.Close()
	sum := func(path string) [32]byte {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(b)
	}
	dbBefore := sum(db)

	for _, tc := range []struct {
		file, want string
	}{
		{truncated, "malformed"},
		{junk, "not a readable SQLite database"},
		{newer, "made by a newer"},
		{filepath.Join(dir, "absent.db"), "no such file"},
	} {
		for _, target := range []string{db, filepath.Join(dir, "fresh.db")} {
			err := run(context.Background(), []string{"restore", tc.file, "--db", target, "--force"}, noEnv, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("restore %s into %s = %v; want an error saying %q", filepath.Base(tc.file), filepath.Base(target), err, tc.want)
			}
		}
	}
	if sum(db) != dbBefore {
		t.Error("a refused restore changed the database")
	}
	if _, err := os.Stat(filepath.Join(dir, "fresh.db")); err == nil {
		t.Error("a refused restore created the database")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".partial") {
			t.Errorf("a refused restore left %s behind", e.Name())
		}
	}

	// A good backup restores over the old database when forced.
	if err := run(context.Background(), []string{"restore", backup, "--db", db, "--force"}, noEnv, io.Discard, io.Discard); err != nil {
		t.Errorf("restore a good backup with --force: %v", err)
	}
}

// TestBackupPostgres: both commands point a PostgreSQL user to its tools.
func TestBackupPostgres(t *testing.T) {
	for _, args := range [][]string{
		{"backup", "out.db", "--db", "postgres://127.0.0.1/rapport"},
		{"restore", "in.db", "--db", "postgres://127.0.0.1/rapport"},
	} {
		err := run(context.Background(), args, noEnv, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "pg_dump") || !strings.Contains(err.Error(), "pg_restore") {
			t.Errorf("rapport %s = %v; want a pointer to pg_dump and pg_restore", strings.Join(args, " "), err)
		}
	}
}
