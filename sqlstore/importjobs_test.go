package sqlstore_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/csvio"
	"github.com/rapport-crm/rapport/internal/importgen"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
)

// importFirm stores customers for generated files and returns their
// external ids.
func importFirm(t *testing.T, s *store, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		c := s.customer(t, &rapport.Customer{Name: fmt.Sprintf("Customer %d", i), ExternalID: fmt.Sprintf("c-%d", i)})
		ids = append(ids, c.ExternalID)
	}
	return ids
}

// generate writes a moments file into the test's directory.
func generate(t *testing.T, s *store, f importgen.File) (string, []int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "moments.csv")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if f.Start.IsZero() {
		f.Start = s.clock.Now().Add(-time.Duration(f.Rows+10) * time.Minute)
	}
	planted, err := importgen.Moments(out, f)
	if err != nil {
		t.Fatal(err)
	}
	return path, planted
}

// runFile queues a file and runs its job to the end.
func runFile(t *testing.T, imports *sqlstore.ImportService, req rapport.ImportRequest) *rapport.ImportJob {
	t.Helper()
	ctx := context.Background()
	job, err := imports.QueueFile(ctx, req, req.Path+".errors.csv")
	if err != nil {
		t.Fatalf("QueueFile = %v", err)
	}
	done, err := imports.RunJob(ctx, job.ID, nil)
	if err != nil {
		t.Fatalf("RunJob = %v", err)
	}
	return done
}

// reportLines reads a job's error report and returns the lines it lists,
// checking that each row is the file's own, cell for cell.
func reportLines(t *testing.T, imports *sqlstore.ImportService, job *rapport.ImportJob, file string) []int {
	t.Helper()
	rc, err := imports.ImportReport(context.Background(), job.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	r := csv.NewReader(rc)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("the error report is not CSV: %v", err)
	}
	original, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(original), "\n")
	if want := strings.TrimSpace(lines[0]) + "," + csvio.ReportLine + "," + csvio.ReportProblem + "," + csvio.ReportRaw; strings.Join(recs[0], ",") != want {
		t.Errorf("report header = %q; want %q", strings.Join(recs[0], ","), want)
	}
	var got []int
	for _, rec := range recs[1:] {
		n := len(rec)
		line, err := strconv.Atoi(rec[n-3])
		if err != nil || rec[n-2] == "" {
			t.Fatalf("report row %q has no line or no problem", rec)
		}
		got = append(got, line)
		was := strings.Join(rec[:n-3], ",")
		if rec[n-1] != "" {
			was = rec[n-1] // not valid CSV: kept as raw text
		}
		if was != lines[line-1] {
			t.Errorf("report row for line %d = %q; the file has %q", line, was, lines[line-1])
		}
	}
	return got
}

// TestImportJobStoresGoodRowsAndReportsBad imports a generated file with
// planted bad rows of every kind: every good row is stored, the error
// report lists exactly the planted rows as the file has them, and
// importing the file again stores nothing twice.
func TestImportJobStoresGoodRowsAndReportsBad(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		imports := sqlstore.NewImportServiceWith(s.db, sqlstore.ImportFiles{Dir: t.TempDir()})
		customers := importFirm(t, s, 20)
		const rows = 2500
		path, planted := generate(t, s, importgen.File{Rows: rows, Customers: customers, BadEvery: 97})
		job := runFile(t, imports, rapport.ImportRequest{Kind: rapport.ImportMomentsKind, FileName: "moments.csv", Path: path})
		good := rows - len(planted)
		if job.State != rapport.ImportDone || job.RowsRead != rows || job.Stored != good || job.Rejected != len(planted) || job.Skipped != 0 {
			t.Fatalf("job = %+v; want done, %d read, %d stored, %d rejected", job, rows, good, len(planted))
		}
		if n := s.count(t, "moments", ""); n != good {
			t.Errorf("%d moments stored; want %d", n, good)
		}
		if got := reportLines(t, imports, job, path); !slices.Equal(got, planted) {
			t.Errorf("report lists lines %v; want the planted %v", got, planted)
		}

		again := runFile(t, imports, rapport.ImportRequest{Kind: rapport.ImportMomentsKind, Path: path})
		if again.Stored != 0 || again.Skipped != good || again.Rejected != len(planted) {
			t.Errorf("the same file again = %+v; want nothing stored, %d skipped", again, good)
		}
		if n := s.count(t, "moments", ""); n != good {
			t.Errorf("after importing twice, %d moments; want %d", n, good)
		}
	})
}

// TestImportJobStrictAndDryRun: a strict import of a file with a bad row
// stores nothing and lists it; a dry run stores nothing and says what
// would be stored; a strict import of a good file stores it all.
func TestImportJobStrictAndDryRun(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		imports := sqlstore.NewImportServiceWith(s.db, sqlstore.ImportFiles{Dir: t.TempDir()})
		customers := importFirm(t, s, 5)
		bad, planted := generate(t, s, importgen.File{Rows: 1500, Customers: customers, BadEvery: 300}) // one of each kind
		strict := runFile(t, imports, rapport.ImportRequest{Kind: rapport.ImportMomentsKind, Path: bad, Strict: true})
		if strict.State != rapport.ImportRefused || strict.Rejected != len(planted) || s.count(t, "moments", "") != 0 {
			t.Errorf("strict import of a file with %d bad rows = %+v, %d moments; want refused, nothing stored",
				len(planted), strict, s.count(t, "moments", ""))
		}
		if got := reportLines(t, imports, strict, bad); !slices.Equal(got, planted) {
			t.Errorf("strict report lists %v; want %v", got, planted)
		}
		dry := runFile(t, imports, rapport.ImportRequest{Kind: rapport.ImportMomentsKind, Path: bad, DryRun: true})
		if dry.State != rapport.ImportDone || dry.Stored != 1500-len(planted) || dry.Rejected != len(planted) || s.count(t, "moments", "") != 0 {
			t.Errorf("dry run = %+v; want done, %d would be stored, nothing stored", dry, 1500-len(planted))
		}
		good, _ := generate(t, s, importgen.File{Rows: 1500, Customers: customers})
		ok := runFile(t, imports, rapport.ImportRequest{Kind: rapport.ImportMomentsKind, Path: good, Strict: true})
		if ok.State != rapport.ImportDone || ok.Stored != 1500 || s.count(t, "moments", "") != 1500 {
			t.Errorf("strict import of a good file = %+v; want all 1500 stored", ok)
		}
	})
}

// TestImportJobResumesWithoutStoringTwice stops a job part way (as a
// server stopping does) and takes it up again: rows with no id or external
// id, which nothing else could tell apart, are stored exactly once,
// because a chunk and the job's progress past it commit together.
func TestImportJobResumesWithoutStoringTwice(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		dir := t.TempDir()
		customers := importFirm(t, s, 5)
		path, planted := generate(t, s, importgen.File{Rows: 3500, Customers: customers, BadEvery: 500, NoExternalIDs: true})
		first := sqlstore.NewImportServiceWith(s.db, sqlstore.ImportFiles{Dir: dir, ChunkRows: rapport.ImportChunk})
		job, err := first.QueueFile(context.Background(), rapport.ImportRequest{Kind: rapport.ImportMomentsKind, Path: path}, path+".errors.csv")
		if err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(context.Background())
		chunks := 0
		if _, err := first.RunJob(ctx, job.ID, func(j *rapport.ImportJob) {
			if chunks++; chunks == 2 {
				stop()
			}
		}); err != nil {
			t.Fatalf("RunJob stopped part way = %v", err)
		}
		part, err := first.FindImport(context.Background(), job.ID)
		if err != nil || part.State != rapport.ImportRunning || part.RowsRead != 2*rapport.ImportChunk {
			t.Fatalf("after stopping = %+v, %v; want running, %d rows read", part, err, 2*rapport.ImportChunk)
		}
		// Another server (or this one, restarted) takes it up.
		second := sqlstore.NewImportServiceWith(s.db, sqlstore.ImportFiles{Dir: dir})
		if err := second.RunImports(context.Background(), discard()); err != nil {
			t.Fatal(err)
		}
		done, err := second.FindImport(context.Background(), job.ID)
		good := 3500 - len(planted)
		if err != nil || done.State != rapport.ImportDone || done.Stored != good || done.Rejected != len(planted) || done.RowsRead != 3500 {
			t.Fatalf("resumed job = %+v, %v; want done, %d stored", done, err, good)
		}
		if n := s.count(t, "moments", ""); n != good {
			t.Errorf("%d moments stored; want %d, each once", n, good)
		}
		// Customers the killed server's chunks made due are measured too.
		if n := s.count(t, "customer_measures", "due_at = 0 OR last_moment_at IS NULL"); n != 0 {
			t.Errorf("%d customers left unmeasured after the restart; want 0", n)
		}
		if got := reportLines(t, second, done, path); !slices.Equal(got, planted) {
			t.Errorf("report lists %v; want %v", got, planted)
		}
	})
}

// TestImportJobCancel: a cancelled job stops at its next chunk, and what
// it stored before stays.
func TestImportJobCancel(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		imports := sqlstore.NewImportServiceWith(s.db, sqlstore.ImportFiles{Dir: t.TempDir(), ChunkRows: rapport.ImportChunk})
		customers := importFirm(t, s, 5)
		path, _ := generate(t, s, importgen.File{Rows: 3000, Customers: customers})
		ctx := context.Background()
		job, err := imports.QueueFile(ctx, rapport.ImportRequest{Kind: rapport.ImportMomentsKind, Path: path}, path+".errors.csv")
		if err != nil {
			t.Fatal(err)
		}
		done, err := imports.RunJob(ctx, job.ID, func(j *rapport.ImportJob) {
			if j.RowsRead == rapport.ImportChunk {
				if _, err := imports.CancelImport(ctx, job.ID); err != nil {
					t.Error(err)
				}
			}
		})
		if err != nil || done.State != rapport.ImportCancelled || done.Stored != rapport.ImportChunk {
			t.Fatalf("cancelled job = %+v, %v; want cancelled after %d stored", done, err, rapport.ImportChunk)
		}
		if n := s.count(t, "moments", ""); n != rapport.ImportChunk {
			t.Errorf("%d moments stored; want the %d before the cancel", n, rapport.ImportChunk)
		}
		// The customers of the rows stored are measured, not left due.
		if n := s.count(t, "customer_measures", "due_at = 0 OR last_moment_at IS NULL"); n != 0 {
			t.Errorf("%d customers left unmeasured after the cancel; want 0", n)
		}
	})
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// importCrashEnv, when set in a child process of TestImportSurvivesKill,
// holds "dsn|dir": the child runs the import jobs waiting until it is killed.
const importCrashEnv = "RAPPORT_TEST_IMPORT_CRASH"

// crashLease is how long a killed server's job waits for another to take it.
const crashLease = time.Second

// TestImportSurvivesKill kills, with SIGKILL, a server in the middle of an
// import job of rows with no id or external id, then starts another on the
// same database: it takes the job up where the killed one stopped and
// completes it, every good row stored exactly once and the error report
// listing exactly the planted rows, once each.
func TestImportSurvivesKill(t *testing.T) {
	if v := os.Getenv(importCrashEnv); v != "" {
		importUntilKilled(v)
		return
	}
	eachBackend(t, func(t *testing.T, s *store) {
		dir := t.TempDir()
		customers := importFirm(t, s, 20)
		const rows = 30_000
		path, planted := generate(t, s, importgen.File{Rows: rows, Customers: customers, BadEvery: 500, NoExternalIDs: true})
		queued, err := sqlstore.NewImportServiceWith(s.db, sqlstore.ImportFiles{Dir: dir}).QueueFile(context.Background(),
			rapport.ImportRequest{Kind: rapport.ImportMomentsKind, Path: path}, filepath.Join(dir, "errors.csv"))
		if err != nil {
			t.Fatal(err)
		}

		cmd := exec.Command(os.Args[0], "-test.run=^TestImportSurvivesKill$", "-test.count=1")
		cmd.Env = append(os.Environ(), importCrashEnv+"="+s.dsn+"|"+dir)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		read := 0
		for deadline := time.Now().Add(60 * time.Second); read < 5*rapport.ImportChunk && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			s.raw.QueryRow(`SELECT rows_read FROM import_jobs WHERE id = '` + queued.ID + `'`).Scan(&read)
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		var state string
		s.raw.QueryRow(`SELECT rows_read, state FROM import_jobs WHERE id = '`+queued.ID+`'`).Scan(&read, &state)
		if state != rapport.ImportRunning || read == 0 || read >= rows {
			t.Fatalf("at the kill the job was %s with %d of %d rows read; want it running, part way", state, read, rows)
		}
		if n := s.count(t, "moments", ""); n == 0 {
			t.Fatal("the killed server stored nothing; the test proves nothing")
		}

		// Another server, on the real clock as the killed one was.
		db, err := sqlstore.Open(context.Background(), s.dsn, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		again := sqlstore.NewImportServiceWith(db, sqlstore.ImportFiles{Dir: dir, Lease: crashLease})
		time.Sleep(crashLease + 100*time.Millisecond) // the killed server's lease runs out
		if err := again.RunImports(context.Background(), discard()); err != nil {
			t.Fatal(err)
		}
		done, err := again.FindImport(context.Background(), queued.ID)
		good := rows - len(planted)
		if err != nil || done.State != rapport.ImportDone || done.RowsRead != rows || done.Stored != good || done.Rejected != len(planted) {
			t.Fatalf("after the restart the job = %+v, %v; want done, %d read, %d stored, %d rejected", done, err, rows, good, len(planted))
		}
		if n := s.count(t, "moments", ""); n != good {
			t.Errorf("%d moments stored; want %d, each once", n, good)
		}
		// Customers the killed server's chunks made due are measured too.
		if n := s.count(t, "customer_measures", "due_at = 0 OR last_moment_at IS NULL"); n != 0 {
			t.Errorf("%d customers left unmeasured after the restart; want 0", n)
		}
		if got := reportLines(t, again, done, path); !slices.Equal(got, planted) {
			t.Errorf("the report lists %v; want the planted %v, once each", got, planted)
		}
		t.Logf("%s: killed at %d of %d rows read; completed after the restart", s.backend, read, rows)
	})
}

// importUntilKilled is the child's side: a server running import jobs.
func importUntilKilled(v string) {
	dsn, dir, _ := strings.Cut(v, "|")
	db, err := sqlstore.Open(context.Background(), dsn, time.Now)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	imports := sqlstore.NewImportServiceWith(db, sqlstore.ImportFiles{Dir: dir, Lease: crashLease, ChunkRows: rapport.ImportChunk})
	if err := imports.RunImports(context.Background(), discard()); err != nil {
		fmt.Fprintln(os.Stderr, "import:", err)
	}
	select {} // as a server does, waiting for the next job
}

// BenchmarkImportJob imports a generated file of 20,000 moments into a
// fresh SQLite database per run, reporting rows a second. With
// RAPPORT_IMPORT_BENCH_ROWS it imports that many, spread a minute apart
// over the past as history brought in is, so that few are recent enough to
// open recovery cases, for 1,000 customers as `rapport import --generate`
// makes.
func BenchmarkImportJob(b *testing.B) {
	rows, start, customers := 20_000, epoch.Add(-30*24*time.Hour), 100
	if v := os.Getenv("RAPPORT_IMPORT_BENCH_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("RAPPORT_IMPORT_BENCH_ROWS=%q; want a positive whole number", v)
		}
		rows, start, customers = n, epoch.Add(-time.Duration(n+1)*time.Minute), 1_000
	}
	for range b.N {
		b.StopTimer()
		s := &store{backend: "sqlite", dsn: filepath.Join(b.TempDir(), "bench.db"), clock: testdb.NewClock(epoch)}
		s.open(b)
		var ids []string
		for i := range customers {
			c := s.customer(b, &rapport.Customer{Name: fmt.Sprintf("C %d", i), ExternalID: fmt.Sprintf("c-%d", i)})
			ids = append(ids, c.ExternalID)
		}
		path := filepath.Join(b.TempDir(), "moments.csv")
		out, _ := os.Create(path)
		importgen.Moments(out, importgen.File{Rows: rows, Customers: ids, Start: start})
		out.Close()
		imports := sqlstore.NewImportServiceWith(s.db, sqlstore.ImportFiles{Dir: b.TempDir()})
		job, err := imports.QueueFile(context.Background(), rapport.ImportRequest{Kind: rapport.ImportMomentsKind, Path: path}, path+".errors.csv")
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		began := time.Now()
		if job, err = imports.RunJob(context.Background(), job.ID, nil); err != nil || job.Stored != rows {
			b.Fatalf("RunJob = %+v, %v", job, err)
		}
		rate := float64(rows) / time.Since(began).Seconds()
		b.StopTimer()
		// The ceiling in the same run: the bare batched insert of the same
		// rows, as `rapport import --ceiling` measures it.
		ceiling := bareInsertRate(b, s, path, rows)
		b.ReportMetric(rate, "rows/s")
		b.ReportMetric(ceiling, "ceiling-rows/s")
		b.ReportMetric(100*rate/ceiling, "%-of-ceiling")
	}
}

// bareInsertRate inserts the moments of a generated file, batched as an
// import job does, into a copy of the moments table with nothing derived,
// and returns the rows a second.
func bareInsertRate(b *testing.B, s *store, path string, want int) float64 {
	b.Helper()
	ctx := context.Background()
	customers := map[string]string{}
	for f := (rapport.CustomerFilter{Limit: rapport.MaxPageSize}); ; {
		page, err := s.customers.FindCustomers(ctx, f)
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range page.Items {
			customers[c.ExternalID] = c.ID
		}
		if f.Cursor = page.NextCursor; f.Cursor == "" {
			break
		}
	}
	file, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer file.Close()
	now := s.clock.Now()
	rd, err := csvio.NewMomentReader(file, csvio.ReadOptions{Now: now})
	if err != nil {
		b.Fatal(err)
	}
	rows, took, err := s.db.InsertCeiling(ctx, func(int) []*rapport.Moment {
		var ms []*rapport.Moment
		for len(ms) < rapport.ImportChunk {
			row, err := rd.Next()
			if err != nil {
				break
			}
			m := row.Value.Moment
			m.CustomerID = customers[row.Value.CustomerExternalID]
			m.Validate(now, -1)
			m.ID, m.RecordedAt = rapport.NewID(now), now
			ms = append(ms, &m)
		}
		return ms
	}, time.Hour)
	if err != nil || rows != want {
		b.Fatalf("InsertCeiling = %d rows, %v", rows, err)
	}
	return float64(rows) / took.Seconds()
}

// TestImportJobsRunOnceOnSeveralServers queues several jobs and lets three
// servers on one database take them up at once: each job runs once, and
// every row is stored once.
func TestImportJobsRunOnceOnSeveralServers(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		dir := t.TempDir()
		customers := importFirm(t, s, 5)
		var ids []string
		want := 0
		for i := range 4 {
			path, planted := generate(t, s, importgen.File{Rows: 1200 + 100*i, Customers: customers, BadEvery: 300, NoExternalIDs: true})
			want += 1200 + 100*i - len(planted)
			job, err := sqlstore.NewImportServiceWith(s.db, sqlstore.ImportFiles{Dir: dir}).QueueFile(context.Background(),
				rapport.ImportRequest{Kind: rapport.ImportMomentsKind, Path: path}, path+".errors.csv")
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, job.ID)
		}
		errs := make(chan error, 3)
		for range 3 {
			go func() {
				errs <- sqlstore.NewImportServiceWith(s.db, sqlstore.ImportFiles{Dir: dir}).RunImports(context.Background(), discard())
			}()
		}
		for range 3 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range ids {
			job, err := sqlstore.NewImportService(s.db).FindImport(context.Background(), id)
			if err != nil || job.State != rapport.ImportDone {
				t.Errorf("job %s = %+v, %v; want done", id, job, err)
			}
		}
		if n := s.count(t, "moments", ""); n != want {
			t.Errorf("%d moments stored; want %d, each job's rows once", n, want)
		}
	})
}

// TestImportJobsAreForgotten: a job that ended more than ImportKeep ago
// goes, with its error report, the next time a server looks for jobs; a
// newer one stays.
func TestImportJobsAreForgotten(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		dir := t.TempDir()
		imports := sqlstore.NewImportServiceWith(s.db, sqlstore.ImportFiles{Dir: dir})
		customers := importFirm(t, s, 2)
		path, _ := generate(t, s, importgen.File{Rows: 10, Customers: customers, BadEvery: 5})
		run := func(report string) *rapport.ImportJob {
			job, err := imports.QueueFile(context.Background(), rapport.ImportRequest{Kind: rapport.ImportMomentsKind, Path: path}, report)
			if err == nil {
				job, err = imports.RunJob(context.Background(), job.ID, nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			return job
		}
		old := run(filepath.Join(dir, "old.errors.csv"))
		mine := run(path + ".errors.csv") // as the command line writes it, beside the file
		s.clock.Add(sqlstore.ImportKeep - time.Hour)
		recent := run(filepath.Join(dir, "recent.errors.csv"))
		s.clock.Add(2 * time.Hour)
		if err := imports.RunImports(context.Background(), discard()); err != nil {
			t.Fatal(err)
		}
		if _, err := imports.FindImport(context.Background(), old.ID); rapport.ErrorCode(err) != rapport.ENOTFOUND {
			t.Errorf("a job ended %v ago = %v; want it gone", sqlstore.ImportKeep+time.Hour, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "old.errors.csv")); !os.IsNotExist(err) {
			t.Errorf("its error report: %v; want it gone", err)
		}
		if _, err := imports.FindImport(context.Background(), mine.ID); rapport.ErrorCode(err) != rapport.ENOTFOUND {
			t.Errorf("a command line's job ended long ago = %v; want it gone", err)
		}
		if _, err := os.Stat(path + ".errors.csv"); err != nil {
			t.Errorf("the error report the command line wrote beside its file: %v; want it left alone", err)
		}
		if _, err := imports.FindImport(context.Background(), recent.ID); err != nil {
			t.Errorf("a job ended an hour ago = %v; want it kept", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "recent.errors.csv")); err != nil {
			t.Errorf("its error report: %v; want it kept", err)
		}
	})
}

// TestErasureRemovesImportReports: an upload's error report holds its bad
// rows as the file had them, a person's name and email among them; erasing
// any customer removes the reports the server keeps of ended jobs, which
// then read empty, while the job and its counts stay.
func TestErasureRemovesImportReports(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		files := sqlstore.ImportFiles{Dir: t.TempDir()}
		imports := sqlstore.NewImportServiceWith(s.db, files)
		file := "name,email\nAda Lovelace,ada@example.com\nZelda Quux,not-an-email\n=1+2,x\n"
		job, err := imports.StartImport(ctx, rapport.ImportRequest{Kind: rapport.ImportCustomersKind, FileName: "people.csv"}, strings.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		if job, err = imports.RunJob(ctx, job.ID, nil); err != nil || job.Stored != 1 || job.Rejected != 2 {
			t.Fatalf("RunJob = %+v, %v; want one stored and two rejected", job, err)
		}
		report := func() string {
			rc, err := imports.ImportReport(ctx, job.ID)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			b, _ := io.ReadAll(rc)
			return string(b)
		}
		got := report()
		if !strings.Contains(got, "Zelda Quux") {
			t.Fatalf("the error report reads %q; want Zelda's row", got)
		}
		// Opened in a spreadsheet, no cell of the report runs as a formula.
		if recs, err := csv.NewReader(strings.NewReader(got)).ReadAll(); err != nil || len(recs) != 3 || recs[2][0] != "'=1+2" {
			t.Errorf("the report's formula row reads %q (%v); want it quoted", recs, err)
		}
		page, err := s.customers.FindCustomers(ctx, rapport.CustomerFilter{Query: "Ada"})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("FindCustomers = %v, %v", page.Items, err)
		}
		if _, err := sqlstore.NewErasureServiceWith(s.db, files).EraseCustomer(ctx, page.Items[0].ID); err != nil {
			t.Fatal(err)
		}
		if got := report(); got != "" {
			t.Errorf("after an erasure the error report reads %q; want it gone", got)
		}
		left, err := os.ReadDir(files.Dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range left {
			if b, _ := os.ReadFile(filepath.Join(files.Dir, e.Name())); strings.Contains(string(b), "Zelda") {
				t.Errorf("%s still holds Zelda's row", e.Name())
			}
		}
		if again, err := imports.FindImport(ctx, job.ID); err != nil || again.Rejected != 2 {
			t.Errorf("the job after the erasure = %+v, %v; want it kept with its counts", again, err)
		}
	})
}
