package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// ImportFiles say where import jobs keep their files and how large a file
// may be.
type ImportFiles struct {
	// Dir holds uploaded files while they are imported, and their error
	// reports. Servers sharing a database must share it too.
	Dir string
	// MaxBytes is the largest file an upload may be; 0 is rapport.DefaultMaxImportBytes.
	MaxBytes int64
	// Lease is how long a server holds a job without word from it before
	// another may take it up; 0 is DefaultImportLease.
	Lease time.Duration
	// ChunkRows fixes how many rows a job stores per transaction; 0 lets
	// the chunks grow and shrink with how quickly they go (nextChunkSize),
	// from rapport.ImportChunk.
	ChunkRows int
}

// DefaultImportLease is how long a job stays with a server that has gone
// quiet. A chunk commits in well under a second, renewing the lease.
const DefaultImportLease = 30 * time.Second

// ImportEvery is how often a server looks for import jobs to run.
const ImportEvery = 2 * time.Second

const (
	phaseChecking = "checking"
	phaseStoring  = "storing"
)

// errJobLost stops a job whose row no longer says this server runs it: it
// was cancelled, or another server took it up after the lease ran out.
var errJobLost = errors.New("the import job was cancelled or taken up elsewhere")

// NewImportServiceWith returns imports and exports over db, keeping import
// jobs' files as files say.
func NewImportServiceWith(db *DB, files ImportFiles) *ImportService {
	if files.Dir == "" {
		files.Dir = filepath.Join(os.TempDir(), "rapport-imports")
	}
	if files.MaxBytes <= 0 {
		files.MaxBytes = rapport.DefaultMaxImportBytes
	}
	if files.Lease <= 0 {
		files.Lease = DefaultImportLease
	}
	var b [8]byte
	rand.Read(b[:])
	return &ImportService{db: db, moments: NewMomentService(db), files: files, worker: hex.EncodeToString(b[:])}
}

// StartImport keeps the uploaded file and queues its job; see rapport.ImportService.
func (s *ImportService) StartImport(ctx context.Context, req rapport.ImportRequest, body io.Reader) (*rapport.ImportJob, error) {
	if err := req.Check(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(s.files.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("make the import directory: %w", err)
	}
	id := rapport.NewID(s.db.now())
	req.Path = filepath.Join(s.files.Dir, id+".csv")
	size, err := keepFile(req.Path, body, s.files.MaxBytes)
	if err != nil {
		os.Remove(req.Path)
		return nil, err
	}
	return s.queue(ctx, id, req, size, filepath.Join(s.files.Dir, id+".errors.csv"))
}

// keepFile writes body to path, durably, refusing it past max bytes.
func keepFile(path string, body io.Reader, max int64) (int64, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, fmt.Errorf("keep the upload: %w", err)
	}
	defer f.Close()
	n, err := io.Copy(f, io.LimitReader(body, max+1))
	switch {
	case err != nil:
		return n, rapport.Errorf(rapport.EINVALID, "The file could not be received whole: %v.", err)
	case n > max:
		return n, rapport.Errorf(rapport.ETOOLARGE, "The file is larger than this server takes (%s); split it, or raise the limit.", byteSize(max))
	}
	if err := f.Sync(); err != nil {
		return n, fmt.Errorf("keep the upload: %w", err)
	}
	return n, f.Close()
}

// byteSize writes a size for people: 10 GB, 512 MB.
func byteSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// QueueFile queues a job that imports a file in place, as the command line
// does, writing its error report to reportPath.
func (s *ImportService) QueueFile(ctx context.Context, req rapport.ImportRequest, reportPath string) (*rapport.ImportJob, error) {
	if err := req.Check(); err != nil {
		return nil, err
	}
	st, err := os.Stat(req.Path)
	if err != nil {
		return nil, err
	}
	return s.queue(ctx, rapport.NewID(s.db.now()), req, st.Size(), reportPath)
}

// starter is who started a job, as its row keeps them.
type starter struct {
	UserID  string       `json:"user_id,omitempty"`
	TokenID string       `json:"token_id,omitempty"`
	Name    string       `json:"name,omitempty"`
	Role    rapport.Role `json:"role,omitempty"`
	Address string       `json:"address,omitempty"`
}

func (s *ImportService) queue(ctx context.Context, id string, req rapport.ImportRequest, size int64, reportPath string) (*rapport.ImportJob, error) {
	who := ""
	if p := rapport.PrincipalFromContext(ctx); p != nil {
		doc, _ := json.Marshal(starter{p.UserID, p.TokenID, p.Name, p.Role, p.Address})
		who = string(doc)
		if req.CreatedBy == "" {
			req.CreatedBy = rapport.ActorID(ctx)
		}
	}
	opts, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	err = s.db.inTx(ctx, func(tx *tx) error {
		_, err := tx.exec(ctx, `INSERT INTO import_jobs (id, kind, file_name, path, report_path, size, options, created_by, principal,
			created_at, state, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, req.Kind, req.FileName, req.Path, reportPath, size, string(opts), req.CreatedBy, who, micros(tx.now), rapport.ImportQueued, micros(tx.now))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("queue the import: %w", err)
	}
	return s.FindImport(ctx, id)
}

// jobColumns are an import job's columns, as scanJob reads them.
const jobColumns = `id, options, principal, path, report_path, size, state, phase, message, next_offset, next_line, report_bytes,
	rows_read, rows_stored, rows_skipped, rows_rejected, run_started_at, run_rows, run_bytes,
	created_at, started_at, finished_at, updated_at`

// jobRow is an import job as its row holds it.
type jobRow struct {
	rapport.ImportJob
	starter     string // who started it, as JSON
	reportPath  string
	nextLine    int
	reportBytes int64
	runStarted  int64
	runRows     int
	runBytes    int64
	updated     int64
}

func scanJob(row interface{ Scan(...any) error }) (*jobRow, error) {
	var j jobRow
	var opts string
	var started, finished sql.NullInt64
	var created int64
	err := row.Scan(&j.ID, &opts, &j.starter, &j.Path, &j.reportPath, &j.Size, &j.State, &j.Phase, &j.Message, &j.BytesRead, &j.nextLine,
		&j.reportBytes, &j.RowsRead, &j.Stored, &j.Skipped, &j.Rejected, &j.runStarted, &j.runRows, &j.runBytes,
		&created, &started, &finished, &j.updated)
	if err != nil {
		return nil, err
	}
	path := j.Path
	if err := json.Unmarshal([]byte(opts), &j.ImportRequest); err != nil {
		return nil, fmt.Errorf("import job %s options: %w", j.ID, err)
	}
	j.Path = path
	j.CreatedAt, j.UpdatedAt = fromMicros(created), fromMicros(j.updated)
	if started.Valid {
		t := fromMicros(started.Int64)
		j.StartedAt = &t
	}
	if finished.Valid {
		t := fromMicros(finished.Int64)
		j.FinishedAt = &t
	}
	j.Measure(fromMicros(j.runStarted), j.RowsRead-j.runRows, j.BytesRead-j.runBytes)
	return &j, nil
}

func (s *ImportService) findJob(ctx context.Context, id string) (*jobRow, error) {
	j, err := scanJob(s.db.reader().queryRow(ctx, `SELECT `+jobColumns+` FROM import_jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rapport.Errorf(rapport.ENOTFOUND, "No import has the id %q.", id)
	}
	return j, err
}

// FindImport returns a job and its progress; see rapport.ImportService.
func (s *ImportService) FindImport(ctx context.Context, id string) (*rapport.ImportJob, error) {
	j, err := s.findJob(ctx, id)
	if err != nil {
		return nil, err
	}
	return &j.ImportJob, nil
}

// CancelImport stops a job; see rapport.ImportService. The server running
// it finds out at its next chunk, whose rows it then does not store.
func (s *ImportService) CancelImport(ctx context.Context, id string) (*rapport.ImportJob, error) {
	err := s.db.inTx(ctx, func(tx *tx) error {
		_, err := tx.exec(ctx, `UPDATE import_jobs SET state = ?, message = ?, finished_at = ?, updated_at = ?, lease_until = 0
			WHERE id = ? AND state IN (?, ?)`, rapport.ImportCancelled, "Cancelled; the rows stored before stay.",
			micros(tx.now), micros(tx.now), id, rapport.ImportQueued, rapport.ImportRunning)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.FindImport(ctx, id)
}

// ImportReport opens a job's error report; see rapport.ImportService.
func (s *ImportService) ImportReport(ctx context.Context, id string) (io.ReadCloser, error) {
	j, err := s.findJob(ctx, id)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(j.reportPath)
	if errors.Is(err, os.ErrNotExist) {
		return io.NopCloser(strings.NewReader("")), nil // not started yet
	}
	if err != nil {
		return nil, err
	}
	// Only what the job has committed to: a chunk being written may add
	// rows it then takes back.
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(f, j.reportBytes), f}, nil
}

// ImportKeep is how long an ended job and its error report are kept: the
// report holds rows as the file had them, personal data included.
const ImportKeep = 30 * 24 * time.Hour

// RunImports runs the jobs waiting, one after another, until none is left:
// a server's background job. Each job is claimed first, so that of several
// servers on one database only one runs it. It first lets go of the jobs
// that ended more than ImportKeep ago, with their files.
func (s *ImportService) RunImports(ctx context.Context, logger *slog.Logger) error {
	if n, err := s.forgetEnded(ctx); err != nil {
		return err
	} else if n > 0 {
		logger.InfoContext(ctx, "import jobs past their keeping removed", "count", n)
	}
	for ctx.Err() == nil {
		j, err := s.claim(ctx, "")
		if err != nil || j == nil {
			return err
		}
		logger.InfoContext(ctx, "import started", "id", j.ID, "kind", j.Kind, "file", j.FileName, "resumed_at_line", j.nextLine)
		if err := s.run(ctx, j, nil); err != nil {
			return fmt.Errorf("import %s: %w", j.ID, err)
		}
		done, err := s.FindImport(context.WithoutCancel(ctx), j.ID)
		if err == nil {
			logger.InfoContext(ctx, "import ended", "id", j.ID, "state", done.State, "stored", done.Stored,
				"skipped", done.Skipped, "rejected", done.Rejected)
		}
	}
	return nil
}

// RunJob claims and runs one job, as the command line does with the job
// it queued, calling progress after every chunk.
func (s *ImportService) RunJob(ctx context.Context, id string, progress func(*rapport.ImportJob)) (*rapport.ImportJob, error) {
	j, err := s.claim(ctx, id)
	if err != nil {
		return nil, err
	}
	if j == nil {
		return nil, rapport.Errorf(rapport.ECONFLICT, "Import %s is running elsewhere or has ended.", id)
	}
	if err := s.run(ctx, j, progress); err != nil {
		return nil, err
	}
	return s.FindImport(context.WithoutCancel(ctx), id)
}

// claim takes up a job that is waiting, or whose server has gone quiet:
// the one named, or else the oldest. On PostgreSQL, servers looking at once
// skip each other's rows rather than wait; SQLite has one writer.
func (s *ImportService) claim(ctx context.Context, id string) (*jobRow, error) {
	waiting := func(now int64) (string, []any) {
		where, args := `state IN (?, ?) AND lease_until < ?`, []any{rapport.ImportQueued, rapport.ImportRunning, now}
		if id != "" {
			where, args = where+` AND id = ?`, append(args, id)
		}
		return where, args
	}
	// Asked on the read pool first: a server looks every few seconds, and
	// on SQLite a write transaction would take the writer each time.
	where, args := waiting(micros(s.db.now()))
	var found int
	err := s.db.reader().queryRow(ctx, `SELECT 1 FROM import_jobs WHERE `+where+` LIMIT 1`, args...).Scan(&found)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var claimed *jobRow
	err = s.db.inTx(ctx, func(tx *tx) error {
		now := micros(tx.now)
		where, args := waiting(now)
		lock := ""
		if tx.d.name == "postgres" {
			lock = " FOR UPDATE SKIP LOCKED"
		}
		var found string
		err := tx.queryRow(ctx, `SELECT id FROM import_jobs WHERE `+where+` ORDER BY created_at LIMIT 1`+lock, args...).Scan(&found)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE import_jobs SET state = ?, claimed_by = ?, lease_until = ?, started_at = COALESCE(started_at, ?),
			run_started_at = ?, run_rows = rows_read, run_bytes = next_offset, updated_at = ? WHERE id = ?`,
			rapport.ImportRunning, s.worker, micros(tx.now.Add(s.files.Lease)), now, now, now, found); err != nil {
			return err
		}
		claimed, err = scanJob(tx.queryRow(ctx, `SELECT `+jobColumns+` FROM import_jobs WHERE id = ?`, found))
		return err
	})
	return claimed, err
}

// run runs a claimed job to its end, or until ctx ends (when it lets the
// job go for the next server to take up) or the job is cancelled.
func (s *ImportService) run(ctx context.Context, j *jobRow, progress func(*rapport.ImportJob)) error {
	var who starter
	if rapport.PrincipalFromContext(ctx) == nil && json.Unmarshal([]byte(j.starter), &who) == nil {
		// The job acts for whoever started it, in the audit log too.
		ctx = rapport.NewContextWithPrincipal(ctx, &rapport.Principal{UserID: who.UserID, TokenID: who.TokenID,
			Name: who.Name, Role: who.Role, Address: who.Address})
	}
	r := &jobRun{s: s, j: j, progress: progress}
	err := r.run(ctx)
	switch {
	case errors.Is(err, errJobLost):
		// Cancelled: the customers of the rows stored before are measured
		// now (taken up elsewhere: the other server measures them).
		if j, ferr := s.findJob(ctx, j.ID); ferr == nil && j.State == rapport.ImportCancelled && j.Kind == rapport.ImportMomentsKind {
			r.lost = true
			return r.measureStored(ctx)
		}
		return nil
	case ctx.Err() != nil:
		// Let it go at once rather than when the lease runs out.
		_, err := s.db.write.ExecContext(context.WithoutCancel(ctx), s.db.dialect.rebind(
			`UPDATE import_jobs SET lease_until = 0 WHERE id = ? AND claimed_by = ?`), j.ID, s.worker)
		return err
	case err != nil && rapport.ErrorCode(err) != rapport.EINTERNAL:
		return r.finish(ctx, rapport.ImportFailed, rapport.ErrorMessage(err))
	case err != nil:
		return errors.Join(err, r.finish(ctx, rapport.ImportFailed, "The server could not go on; the rows stored before stay. Start the import again to complete it."))
	}
	return nil
}

// jobRun is one server's run of a job.
type jobRun struct {
	s        *ImportService
	j        *jobRow
	progress func(*rapport.ImportJob)
	file     *os.File
	report   *os.File
	csv      *csv.Writer
	reader   *fileReader
	// lost: the job is no longer this server's to renew (cancelled).
	lost bool
}

func (r *jobRun) run(ctx context.Context) error {
	var err error
	if r.file, err = os.Open(r.j.Path); err != nil {
		return rapport.Errorf(rapport.EINVALID, "The file cannot be read: %v.", err)
	}
	defer r.file.Close()
	if err := r.openReport(); err != nil {
		return err
	}
	defer r.report.Close()
	if r.j.Phase == "" {
		r.j.Phase = phaseStoring
		if r.j.Strict || r.j.DryRun {
			r.j.Phase = phaseChecking
		}
	}
	if r.j.Phase == phaseChecking {
		if err := r.pass(ctx, false); err != nil {
			return err
		}
		j, err := r.s.findJob(ctx, r.j.ID)
		if err != nil {
			return err
		}
		switch {
		case j.Rejected > 0 && !j.DryRun:
			return r.finish(ctx, rapport.ImportRefused, fmt.Sprintf("%d of %d rows are not valid; nothing was imported. The error report lists them.", j.Rejected, j.RowsRead))
		case j.DryRun:
			return r.finish(ctx, rapport.ImportDone, "Checked; nothing was written.")
		}
		if err := r.startStoring(ctx); err != nil {
			return err
		}
	}
	if err := r.pass(ctx, true); err != nil {
		return err
	}
	if r.j.Kind == rapport.ImportMomentsKind {
		if err := r.measureStored(ctx); err != nil {
			return err
		}
	}
	j, err := r.s.findJob(ctx, r.j.ID)
	if err != nil {
		return err
	}
	if err := r.s.auditImport(ctx, r.j.Kind, &rapport.ImportResult{Rows: j.RowsRead, Created: j.Stored, Skipped: j.Skipped, Invalid: j.Rejected}); err != nil {
		return err
	}
	return r.finish(ctx, rapport.ImportDone, "")
}

// openReport opens the error report as far as the job has committed to,
// dropping what a run stopped part way through a chunk had written.
func (r *jobRun) openReport() error {
	f, err := os.OpenFile(r.j.reportPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("open the error report: %w", err)
	}
	if err := f.Truncate(r.j.reportBytes); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Seek(r.j.reportBytes, io.SeekStart); err != nil {
		f.Close()
		return err
	}
	r.report, r.csv = f, csv.NewWriter(f)
	return nil
}

// startStoring moves a strict job whose check found nothing wrong on to
// storing, from the top of the file.
func (r *jobRun) startStoring(ctx context.Context) error {
	r.j.Phase, r.j.BytesRead, r.j.nextLine, r.j.reportBytes = phaseStoring, 0, 0, 0
	if err := r.report.Truncate(0); err != nil {
		return err
	}
	if _, err := r.report.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return r.s.db.inTx(ctx, func(tx *tx) error {
		_, err := tx.exec(ctx, `UPDATE import_jobs SET phase = ?, next_offset = 0, next_line = 0, report_bytes = 0,
			rows_read = 0, rows_stored = 0, rows_skipped = 0, rows_rejected = 0, run_started_at = ?, run_rows = 0, run_bytes = 0
			WHERE id = ? AND claimed_by = ? AND state = ?`, phaseStoring, micros(tx.now), r.j.ID, r.s.worker, rapport.ImportRunning)
		return err
	})
}

// finish ends the job in state, with message.
func (r *jobRun) finish(ctx context.Context, state, message string) error {
	ctx = context.WithoutCancel(ctx)
	err := r.s.db.inTx(ctx, func(tx *tx) error {
		_, err := tx.exec(ctx, `UPDATE import_jobs SET state = ?, message = ?, finished_at = ?, updated_at = ?, lease_until = 0
			WHERE id = ? AND claimed_by = ? AND state = ?`, state, message, micros(tx.now), micros(tx.now), r.j.ID, r.s.worker, rapport.ImportRunning)
		return err
	})
	if err == nil && r.s.kept(r.j.Path) {
		os.Remove(r.j.Path) // an upload, which may be large, is not needed again
	}
	return err
}

// chunkCounts is what one chunk of rows came to.
type chunkCounts struct {
	read, stored, skipped, rejected int
	offset                          int64
	line                            int
}

// commit records the job's progress past a chunk in the chunk's own
// transaction, renewing the lease; a job no longer this server's is
// errJobLost, and the chunk rolls back.
func (r *jobRun) commit(ctx context.Context, tx *tx, c chunkCounts) error {
	res, err := tx.exec(ctx, `UPDATE import_jobs SET phase = ?, next_offset = ?, next_line = ?, report_bytes = ?,
		rows_read = rows_read + ?, rows_stored = rows_stored + ?, rows_skipped = rows_skipped + ?, rows_rejected = rows_rejected + ?,
		lease_until = ?, updated_at = ? WHERE id = ? AND claimed_by = ? AND state = ?`,
		r.j.Phase, c.offset, c.line, r.j.reportBytes, c.read, c.stored, c.skipped, c.rejected,
		micros(tx.now.Add(r.s.files.Lease)), micros(tx.now), r.j.ID, r.s.worker, rapport.ImportRunning)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errJobLost
	}
	return nil
}

// renew renews the job's lease in tx, as commit does, without progress.
func (r *jobRun) renew(ctx context.Context, tx *tx) error {
	if r.lost {
		return nil
	}
	res, err := tx.exec(ctx, `UPDATE import_jobs SET lease_until = ?, updated_at = ? WHERE id = ? AND claimed_by = ? AND state = ?`,
		micros(tx.now.Add(r.s.files.Lease)), micros(tx.now), r.j.ID, r.s.worker, rapport.ImportRunning)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errJobLost
	}
	return nil
}

// kept reports whether path is a file the server keeps for a job.
func (s *ImportService) kept(path string) bool {
	return strings.HasPrefix(path, s.files.Dir+string(filepath.Separator))
}

// forgetEnded removes the jobs that ended more than ImportKeep ago, their
// error reports and any file left of them, and returns how many.
func (s *ImportService) forgetEnded(ctx context.Context) (int, error) {
	before := micros(s.db.now().Add(-ImportKeep))
	type ended struct{ id, path, report string }
	var old []ended
	err := eachRow(ctx, s.db.reader(), `SELECT id, path, report_path FROM import_jobs WHERE finished_at < ?`, []any{before},
		func(rows *sql.Rows) error {
			var e ended
			old = append(old, e)
			return rows.Scan(&old[len(old)-1].id, &old[len(old)-1].path, &old[len(old)-1].report)
		})
	if err != nil {
		return 0, err
	}
	for _, e := range old {
		// Only what the server keeps: the command line's report is the
		// person's own, beside their file.
		for _, f := range []string{e.report, e.path} {
			if s.kept(f) {
				os.Remove(f)
			}
		}
		if err := s.db.inTx(ctx, func(tx *tx) error {
			_, err := tx.exec(ctx, `DELETE FROM import_jobs WHERE id = ?`, e.id)
			return err
		}); err != nil {
			return 0, err
		}
	}
	return len(old), nil
}

// forgetReports removes the error reports this server keeps of the jobs
// that have ended, for an erasure: a report holds rows as the file had
// them, and which of them name the person erased is not known. The jobs
// stay, with their counts; their reports read empty from then on. A report
// the command line wrote beside a person's own file is theirs, and stays.
func (s *ImportService) forgetReports(ctx context.Context) error {
	var paths []string
	err := eachRow(ctx, s.db.reader(), `SELECT report_path FROM import_jobs WHERE finished_at > 0`, nil,
		func(rows *sql.Rows) error {
			var p string
			if err := rows.Scan(&p); err != nil {
				return err
			}
			paths = append(paths, p)
			return nil
		})
	if err != nil {
		return err
	}
	for _, p := range paths {
		if !s.kept(p) {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing an import's error report: %w", err)
		}
	}
	return nil
}
