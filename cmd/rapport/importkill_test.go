package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/importgen"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
)

// apiServeEnv, when set in a child process of TestImportThroughAPISurvivesKill,
// holds "dsn|import dir": the child is a `rapport serve` on that database
// until it is killed.
const apiServeEnv = "RAPPORT_TEST_API_IMPORT_SERVE"

// TestImportThroughAPISurvivesKill uploads a generated file of moments, a
// few of its rows bad on purpose and none with an id or external id, to a
// running server as an import job, follows the job's progress, kills the
// server with SIGKILL half way through, starts it again on the same
// database and follows the job until it completes: every good row stored
// exactly once, the error report listing exactly the planted rows, and the
// running totals agreeing with the moments stored.
//
// It measures as well: the server's resident memory, sampled from /proc
// in each of its lives, and the rate. RAPPORT_IMPORT_ROWS (20,000 unless
// set), RAPPORT_IMPORT_BAD_EVERY (500) and RAPPORT_IMPORT_KILL_AT (the
// share of rows read at the kill, 0.5; 0 for no kill) make it the run of
// millions that docs/performance.md reports; RAPPORT_IMPORT_BACKEND=sqlite
// or postgres runs one database only.
func TestImportThroughAPISurvivesKill(t *testing.T) {
	if v := os.Getenv(apiServeEnv); v != "" {
		serveUntilKilled(v)
		return
	}
	rows, badEvery := envInt(t, "RAPPORT_IMPORT_ROWS", 20_000), envInt(t, "RAPPORT_IMPORT_BAD_EVERY", 500)
	killAt := 0.5
	if v := os.Getenv("RAPPORT_IMPORT_KILL_AT"); v != "" {
		var err error
		if killAt, err = strconv.ParseFloat(v, 64); err != nil || killAt < 0 || killAt >= 1 {
			t.Fatalf("RAPPORT_IMPORT_KILL_AT=%q; want a share from 0 to below 1", v)
		}
	}
	big := rows > 100_000
	for _, backend := range testdb.Backends() {
		if only := os.Getenv("RAPPORT_IMPORT_BACKEND"); only != "" && only != backend.Name {
			continue
		}
		t.Run(backend.Name, func(t *testing.T) {
			run := &apiImportRun{t: t, dsn: backend.DSN(t), dir: t.TempDir(), big: big}
			run.importAndKill(rows, badEvery, killAt)
		})
	}
}

// apiImportRun is one server, killed and started again, and the job it runs.
type apiImportRun struct {
	t        *testing.T
	dsn, dir string
	big      bool // log progress as it goes, and follow it less often
	token    string
	server   *exec.Cmd
	base     string
	log      *os.File
	peakRSS  []int64 // kB, each life's peak
	// readAtKill and resumed: the rows read when the server was killed, and
	// when the restarted server had read more.
	readAtKill int
	resumed    time.Time
	minRSS     []int64 // kB, each life's smallest sample after its first minute of importing
}

func (r *apiImportRun) importAndKill(rows, badEvery int, killAt float64) {
	t := r.t
	ctx := context.Background()
	customers := 1_000
	if rows < 100_000 {
		customers = 20
	}
	path, planted := r.prepare(ctx, rows, customers, badEvery)
	good := rows - len(planted)

	r.start()
	started := time.Now()
	job := r.upload(path)
	first := time.Now()
	var killed time.Time
	if killAt > 0 {
		job = r.follow(job.ID, func(j *rapport.ImportJob) bool { return j.RowsRead >= int(killAt*float64(rows)) })
		if err := r.server.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		r.server.Wait()
		killed = time.Now()
		raw := testdb.SQL(t, r.dsn)
		var read, stored int
		var state string
		if err := raw.QueryRow(`SELECT rows_read, rows_stored, state FROM import_jobs WHERE id = '`+job.ID+`'`).Scan(&read, &stored, &state); err != nil {
			t.Fatal(err)
		}
		if state != rapport.ImportRunning || read == 0 || read >= rows {
			t.Fatalf("at the kill the job was %s with %d of %d rows read; want it running, part way", state, read, rows)
		}
		if n := count(t, raw, "SELECT COUNT(*) FROM moments"); n != stored {
			t.Fatalf("at the kill %d moments are stored and the job says %d; want them equal", n, stored)
		}
		r.readAtKill = read
		t.Logf("killed the server at %d of %d rows read (%d stored), %s after the upload", read, rows, stored, killed.Sub(first).Round(time.Second))
		r.start()
	}
	job = r.follow(job.ID, (*rapport.ImportJob).Ended)
	took := time.Since(first)
	if job.State != rapport.ImportDone || job.RowsRead != rows || job.Stored != good || job.Rejected != len(planted) {
		t.Fatalf("the job ended %+v; want done, %d read, %d stored, %d rejected", job, rows, good, len(planted))
	}
	if got := r.reportLines(job.ID); !slices.Equal(got, planted) {
		if len(got) > 20 || len(planted) > 20 {
			t.Errorf("the error report lists %d lines; want the %d planted, once each", len(got), len(planted))
		} else {
			t.Errorf("the error report lists lines %v; want the planted %v, once each", got, planted)
		}
	}
	r.stop()

	raw := testdb.SQL(t, r.dsn)
	if n := count(t, raw, "SELECT COUNT(*) FROM moments"); n != good {
		t.Errorf("%d moments stored; want the %d good rows, each once", n, good)
	}
	agree(t, raw)
	var down time.Duration
	if !killed.IsZero() {
		down = r.resumed.Sub(killed)
	}
	t.Logf("%d rows (%d planted bad) through the API: uploaded in %s, imported in %s, %s of it from the kill until the job went on: %.0f rows/s while importing; server's peak resident memory per life %v kB, smallest after its first minute %v kB",
		rows, len(planted), first.Sub(started).Round(time.Millisecond), took.Round(time.Second), down.Round(time.Second),
		float64(rows)/(took-down).Seconds(), r.peakRSS, r.minRSS)
}

// prepare adds the customers the file names and a token, and writes the
// file; it returns the file's path and the lines of its planted bad rows.
func (r *apiImportRun) prepare(ctx context.Context, rows, customers, badEvery int) (string, []int) {
	t := r.t
	db, err := sqlstore.Open(ctx, r.dsn, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	file := &rapport.CustomerFile{}
	ids := make([]string, customers)
	for i := range ids {
		ids[i] = fmt.Sprintf("c-%d", i)
		file.Rows = append(file.Rows, rapport.CustomerRow{Row: i + 2, Customer: rapport.Customer{
			Name: fmt.Sprintf("Customer %d", i), ExternalID: ids[i], Kind: "person", Stage: rapport.StageAwareness}})
	}
	if _, err := sqlstore.NewImportService(db).ImportCustomers(ctx, file, rapport.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	var out strings.Builder
	if err := run(ctx, []string{"token", "create", "--db", r.dsn, "--name", "import", "--role", "admin"}, noEnv, &out, io.Discard); err != nil {
		t.Fatalf("token create: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	r.token = lines[len(lines)-1]

	path := filepath.Join(t.TempDir(), "moments.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	planted, err := importgen.Moments(f, importgen.File{Rows: rows, Customers: ids, BadEvery: badEvery, NoExternalIDs: true,
		Start: time.Now().Add(-time.Duration(rows+1) * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if len(planted) == 0 {
		t.Fatal("no bad rows planted; the test would prove nothing of the report")
	}
	return path, planted
}

// start runs the server, as a child process so that it can be killed, and
// waits until it answers.
func (r *apiImportRun) start() {
	t := r.t
	var err error
	if r.log == nil {
		if r.log, err = os.Create(filepath.Join(t.TempDir(), "server.log")); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			r.stop()
			if t.Failed() {
				b, _ := os.ReadFile(r.log.Name())
				if len(b) > 4000 {
					b = b[len(b)-4000:]
				}
				t.Logf("the server's log ends:\n%s", b)
			}
		})
	}
	r.server = exec.Command(os.Args[0], "-test.run=^TestImportThroughAPISurvivesKill$", "-test.count=1")
	r.server.Env = append(os.Environ(), apiServeEnv+"="+r.dsn+"|"+r.dir)
	r.server.Stderr = r.log
	out, err := r.server.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.server.Start(); err != nil {
		t.Fatal(err)
	}
	r.peakRSS, r.minRSS = append(r.peakRSS, 0), append(r.minRSS, 0)
	listening := regexp.MustCompile(`listening on (http://\S+)`)
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if m := listening.FindStringSubmatch(lines.Text()); m != nil {
			r.base = m[1]
			break
		}
	}
	go io.Copy(io.Discard, out)
	if r.base == "" {
		t.Fatal("the server stopped before it listened")
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if res, err := http.Get(r.base + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
	}
	t.Fatal("the server did not become healthy")
}

// stop ends the server, if it runs, as an operator stopping it would.
func (r *apiImportRun) stop() {
	if r.server == nil || r.server.ProcessState != nil {
		return
	}
	r.server.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { r.server.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		r.server.Process.Kill()
		<-done
	}
}

// serveUntilKilled is the child's side: rapport serve, until killed.
func serveUntilKilled(v string) {
	dsn, dir, _ := strings.Cut(v, "|")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// SIGTERM from stop: end as serve does on a signal.
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM)
		<-ch
		cancel()
	}()
	err := run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", dsn, "--import-dir", dir}, func(string) string { return "" }, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// upload sends the file as the body of an import job and returns the job.
func (r *apiImportRun) upload(path string) *rapport.ImportJob {
	t := r.t
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	req, _ := http.NewRequest("POST", r.base+"/api/v1/imports/moments?file_name=moments.csv", f)
	req.Header.Set("Authorization", "Bearer "+r.token)
	req.Header.Set("Content-Type", "text/csv")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var job rapport.ImportJob
	if err := json.NewDecoder(res.Body).Decode(&job); err != nil || res.StatusCode != http.StatusAccepted || job.ID == "" {
		t.Fatalf("POST /api/v1/imports/moments = %d, %+v, %v; want 202 and a job", res.StatusCode, job, err)
	}
	return &job
}

// follow reads the job's progress, sampling the server's memory, until
// until says stop; it fails the test if the job ends first or the server
// dies.
func (r *apiImportRun) follow(id string, until func(*rapport.ImportJob) bool) *rapport.ImportJob {
	t := r.t
	every, say := 20*time.Millisecond, time.Time{}
	if r.big {
		every = time.Second
	}
	life := len(r.peakRSS) - 1
	var importing time.Time
	// A small file is done in seconds but for the killed server's lease
	// (sqlstore.DefaultImportLease); a large one takes what it takes.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if !r.big && time.Now().After(deadline) {
			t.Fatalf("the job %s was not where it should be within 3 minutes", id)
		}
		var job rapport.ImportJob
		if code := get(t, r.base+"/api/v1/imports/"+id, r.token, &job); code != http.StatusOK {
			t.Fatalf("GET /api/v1/imports/%s = %d; want 200", id, code)
		}
		rss, peak := residentKB(r.server.Process.Pid)
		r.peakRSS[life] = max(r.peakRSS[life], peak)
		if job.State == rapport.ImportRunning && importing.IsZero() {
			importing = time.Now()
		}
		if !importing.IsZero() && time.Since(importing) > time.Minute && (r.minRSS[life] == 0 || rss < r.minRSS[life]) {
			r.minRSS[life] = rss
		}
		if r.big && time.Since(say) >= 30*time.Second {
			say = time.Now()
			t.Logf("%s %s: %d rows read, %d stored, %d rejected, %.0f rows/s; server resident %d kB (peak %d kB)",
				job.State, job.Phase, job.RowsRead, job.Stored, job.Rejected, job.RowsPerSecond, rss, peak)
		}
		if r.readAtKill > 0 && r.resumed.IsZero() && job.RowsRead > r.readAtKill {
			r.resumed = time.Now()
		}
		if until(&job) {
			return &job
		}
		if job.Ended() {
			t.Fatalf("the job ended %+v before it was expected to", job)
		}
		if r.server.ProcessState != nil {
			t.Fatal("the server stopped")
		}
		time.Sleep(every)
	}
}

// reportLines downloads the job's error report and returns the line each
// of its rows started on in the file.
func (r *apiImportRun) reportLines(id string) []int {
	t := r.t
	req, _ := http.NewRequest("GET", r.base+"/api/v1/imports/"+id+"/errors", nil)
	req.Header.Set("Authorization", "Bearer "+r.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/imports/%s/errors = %d; want 200", id, res.StatusCode)
	}
	rd := csv.NewReader(res.Body)
	rd.FieldsPerRecord = -1
	header, err := rd.Read()
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(header, "import_line")
	if col < 0 {
		t.Fatalf("the error report's header %v has no import_line", header)
	}
	var lines []int
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			return lines
		}
		if err != nil {
			t.Fatal(err)
		}
		n, err := strconv.Atoi(rec[col])
		if err != nil {
			t.Fatalf("import_line %q: %v", rec[col], err)
		}
		lines = append(lines, n)
	}
}

// agree checks that the running totals kept as moments are stored equal
// the moments themselves: per touchpoint, and per customer.
func agree(t *testing.T, raw *sql.DB) {
	t.Helper()
	for _, c := range []struct{ what, kept, stored string }{
		{"touchpoint totals",
			`SELECT touchpoint, SUM(moments), SUM(magic), SUM(misery), SUM(rated), SUM(rating_sum) FROM moment_stats GROUP BY touchpoint ORDER BY touchpoint`,
			`SELECT touchpoint, COUNT(*), SUM(CASE WHEN outcome = 'magic' THEN 1 ELSE 0 END), SUM(CASE WHEN outcome = 'misery' THEN 1 ELSE 0 END),
				COUNT(rating), COALESCE(SUM(rating), 0) FROM moments GROUP BY touchpoint ORDER BY touchpoint`},
		{"customers' daily totals",
			`SELECT customer_id, SUM(moments), SUM(magic), SUM(misery), SUM(rated), SUM(rating_sum) FROM customer_day_stats GROUP BY customer_id ORDER BY customer_id`,
			`SELECT customer_id, COUNT(*), SUM(CASE WHEN outcome = 'magic' THEN 1 ELSE 0 END), SUM(CASE WHEN outcome = 'misery' THEN 1 ELSE 0 END),
				COUNT(rating), COALESCE(SUM(rating), 0) FROM moments GROUP BY customer_id ORDER BY customer_id`},
	} {
		kept, stored := totals(t, raw, c.kept), totals(t, raw, c.stored)
		if len(stored) == 0 {
			t.Fatalf("%s: no moments to compare", c.what)
		}
		if !slices.Equal(kept, stored) {
			t.Errorf("%s kept:\n%v\nfrom the moments stored:\n%v", c.what, kept, stored)
		}
	}
}

func totals(t *testing.T, raw *sql.DB, query string) []string {
	t.Helper()
	rows, err := raw.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var key string
		var n, magic, misery, rated int64
		var sum float64
		if err := rows.Scan(&key, &n, &magic, &misery, &rated, &sum); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %d %d %d %d %g", key, n, magic, misery, rated, sum))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func count(t *testing.T, raw *sql.DB, query string) int {
	t.Helper()
	var n int
	if err := raw.QueryRow(query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// residentKB reads a process's resident memory and its peak from /proc, in
// kB; zeros where there is no /proc.
func residentKB(pid int) (rss, peak int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		field, value, _ := strings.Cut(line, ":")
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		switch field {
		case "VmRSS":
			rss = n
		case "VmHWM":
			peak = n
		}
	}
	return rss, peak
}

func envInt(t *testing.T, key string, def int) int {
	t.Helper()
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q; want a positive whole number", key, v)
	}
	return n
}
