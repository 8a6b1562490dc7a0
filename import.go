package rapport

import (
	"context"
	"io"
	"slices"
	"strings"
	"time"
)

// Limits on one import sent whole (POST /moments/import and
// /customers/import): the whole file is checked before anything is
// written, so it is held in memory. Files of any size go through an import
// job instead (StartImport), which streams them.
const (
	MaxImportRows  = 10_000
	MaxImportBytes = 10 << 20
	// ImportChunk rows are written per transaction: short enough that
	// people logging moments meanwhile are never kept waiting long.
	ImportChunk = 1000
	// MaxImportProblems is how many problems a refused file lists, so
	// that a file wrong in every row still gets a readable answer.
	MaxImportProblems = 1000
	// DefaultMaxImportBytes is the largest file an import job takes unless
	// the server is told otherwise: 10 GB, about 150 million moments.
	DefaultMaxImportBytes = 10 << 30
)

// MomentRow is one moment as a file carries it: the moment, and the other
// keys a file may name its customer and member of staff by.
type MomentRow struct {
	// Row is the row's number in its file, counting the header as row 1.
	Row                int
	Moment             Moment
	CustomerExternalID string
	StaffEmail         string
}

// CustomerRow is one customer as a file carries it: the customer, and the
// email a file may name its owner by.
type CustomerRow struct {
	// Row is the row's number in its file, counting the header as row 1.
	Row        int
	Customer   Customer
	OwnerEmail string
}

// PromiseRow is one promise as a file carries it: the promise, and the
// other keys a file may name its customer and member of staff by.
type PromiseRow struct {
	// Row is the row's number in its file, counting the header as row 1.
	Row                int
	Promise            Promise
	CustomerExternalID string
	StaffEmail         string
}

// HoldingRow is one holding as a file carries it: the holding, and the
// external id a file may name its customer by.
type HoldingRow struct {
	// Row is the row's number in its file, counting the header as row 1.
	Row                int
	Holding            Holding
	CustomerExternalID string
}

// StageChangeRow is one step of a customer's past as a file carries it:
// the customer, by id or external id, and the change, dated.
type StageChangeRow struct {
	// Row is the row's number in its file, counting the header as row 1.
	Row                int
	CustomerID         string
	CustomerExternalID string
	Change             StageInput
}

// StageChangeFile is a file of stage changes read for import, with the
// problems found while reading it; Index in each problem is a row number.
type StageChangeFile struct {
	Rows     []StageChangeRow
	Problems []FieldError
}

// MomentFile is a file of moments read for import, with the problems found
// while reading it; Index in each problem is a row number.
type MomentFile struct {
	Rows     []MomentRow
	Problems []FieldError
}

// CustomerFile is a file of customers read for import, with the problems
// found while reading it; Index in each problem is a row number.
type CustomerFile struct {
	Rows     []CustomerRow
	Problems []FieldError
}

// ImportOptions say how an import treats its file.
type ImportOptions struct {
	// DryRun checks the file and says what would happen, writing nothing.
	DryRun bool
	// SkipInvalid imports the good rows and reports the bad ones; without
	// it, one bad row refuses the whole file.
	SkipInvalid bool
}

// ImportResult says what an import did (or, in a dry run, would do).
type ImportResult struct {
	Rows    int  `json:"rows"`    // rows read, not counting the header
	Created int  `json:"created"` // rows that became new records
	Skipped int  `json:"skipped"` // rows already stored, by id or external id
	Invalid int  `json:"invalid"` // bad rows left out (only with SkipInvalid)
	DryRun  bool `json:"dry_run"`
	// Errors lists the problems of the rows left out, by row and column.
	Errors []FieldError `json:"errors"`
}

// ImportService brings moments and customers in from files and takes them
// out again, in bulk.
type ImportService interface {
	// ImportMoments checks every row of the file and, when all are good
	// (or SkipInvalid), records them; rows whose id or external id is
	// stored already are skipped. A refused file is an EINVALID error whose
	// fields are indexed by row, and nothing is written.
	ImportMoments(ctx context.Context, f *MomentFile, opt ImportOptions) (*ImportResult, error)
	// ImportCustomers does for customers what ImportMoments does for moments.
	ImportCustomers(ctx context.Context, f *CustomerFile, opt ImportOptions) (*ImportResult, error)
	// ImportStageChanges brings in customers' past stage changes, dated,
	// in the order of the file. Each must come after the customer's latest
	// change (stored, or earlier in the file) and not be in the future; a
	// row equal to a stored change (customer, stage and time) is skipped.
	ImportStageChanges(ctx context.Context, f *StageChangeFile, opt ImportOptions) (*ImportResult, error)
	// StartImport keeps the file body reads and queues a job that imports
	// it in the background; the file may be of any size up to the
	// server's limit (ETOOLARGE past it).
	StartImport(ctx context.Context, req ImportRequest, body io.Reader) (*ImportJob, error)
	// FindImport returns an import job with its progress, or ENOTFOUND.
	FindImport(ctx context.Context, id string) (*ImportJob, error)
	// CancelImport stops a job: what it stored stays, the rest is not
	// imported. A job that has ended is left as it is.
	CancelImport(ctx context.Context, id string) (*ImportJob, error)
	ImportMappingService
	// ImportReport opens a job's error report: its rejected rows as CSV,
	// each with its line and what is wrong with it.
	ImportReport(ctx context.Context, id string) (io.ReadCloser, error)
	// ExportMoments calls each for every moment the filter selects, newest
	// first, reading them a page at a time; the filter's Limit and Cursor
	// are ignored.
	ExportMoments(ctx context.Context, f MomentFilter, each func(*MomentRow) error) error
	// CustomerAttributeKeys returns, sorted, every attribute key of the
	// customers the filter selects, for the columns of an export.
	CustomerAttributeKeys(ctx context.Context, f CustomerFilter) ([]string, error)
	// ExportCustomers calls each for every customer the filter selects,
	// newest first, a page at a time.
	ExportCustomers(ctx context.Context, f CustomerFilter, each func(*CustomerRow) error) error
}

// The kinds of file an import job takes.
const (
	ImportMomentsKind   = "moments"
	ImportCustomersKind = "customers"
	ImportPromisesKind  = "promises"
	ImportHoldingsKind  = "holdings"
)

// ImportKinds are the kinds of file an import job takes, in the order
// people are shown them.
var ImportKinds = []string{ImportMomentsKind, ImportCustomersKind, ImportPromisesKind, ImportHoldingsKind}

// The states of an import job.
const (
	ImportQueued    = "queued"
	ImportRunning   = "running"
	ImportDone      = "done"
	ImportRefused   = "refused" // strict, and some row was bad: nothing stored
	ImportFailed    = "failed"  // the file could not be read, or the server could not go on
	ImportCancelled = "cancelled"
)

// ImportRequest is what an import job is asked to do.
type ImportRequest struct {
	Kind     string `json:"kind"`      // one of ImportKinds
	FileName string `json:"file_name"` // as the person named it, for them to recognise
	// Strict refuses the whole file when any row is bad; otherwise every
	// good row is stored and every bad one goes to the error report.
	Strict bool `json:"strict"`
	// DryRun checks the whole file and stores nothing.
	DryRun bool `json:"dry_run"`
	// Delimiter is "," ";" or a tab; empty detects it.
	Delimiter string `json:"delimiter,omitempty"`
	// DateFormat reads times that are not RFC 3339, as DD/MM/YYYY hh:mm.
	DateFormat string `json:"date_format,omitempty"`
	// Map renames the file's columns to Rapport's.
	Map map[string]string `json:"map,omitempty"`
	// Key names columns whose values make the external id of a row that
	// has none, so that importing the file again stores nothing twice.
	Key []string `json:"key,omitempty"`
	// Path is where the file is kept while it is imported (not shown).
	Path string `json:"-"`
	// CreatedBy is the user who started it.
	CreatedBy string `json:"created_by,omitempty"`
}

// Check reports what is wrong with a request.
func (r *ImportRequest) Check() error {
	var v validation
	if !slices.Contains(ImportKinds, r.Kind) {
		v.add("kind", "must be moments, customers, promises or holdings")
	}
	if len(r.Key) > 0 && r.Kind != ImportMomentsKind && r.Kind != ImportCustomersKind {
		// Promises and holdings have no external id: a row equal to a
		// stored one is what is skipped.
		v.add("key", "is for moments and customers; a promise or holding equal to a stored one is skipped anyway")
	}
	switch r.Delimiter {
	case "", ",", ";", "\t":
	default:
		v.add("delimiter", "must be a comma, a semicolon or a tab")
	}
	return v.err("import")
}

// ImportJob is a file being imported in the background, and how far it is.
type ImportJob struct {
	ID string `json:"id"`
	ImportRequest
	Size      int64  `json:"size"`  // bytes
	State     string `json:"state"` // one of the Import* states
	Phase     string `json:"phase"` // checking or storing
	Message   string `json:"message"`
	BytesRead int64  `json:"bytes_read"`
	RowsRead  int    `json:"rows_read"`
	Stored    int    `json:"stored"`   // rows stored (in a dry run: that would be)
	Skipped   int    `json:"skipped"`  // rows stored already, by id or external id
	Rejected  int    `json:"rejected"` // bad rows, in the error report
	// RowsPerSecond and EstimatedFinish are measured while it runs.
	RowsPerSecond   float64    `json:"rows_per_second"`
	EstimatedFinish *time.Time `json:"estimated_finish,omitempty"`
	CreatedAt       time.Time  `json:"created_at"`
	StartedAt       *time.Time `json:"started_at,omitempty"`
	FinishedAt      *time.Time `json:"finished_at,omitempty"`
	// UpdatedAt is when its progress was last recorded.
	UpdatedAt time.Time `json:"updated_at"`
}

// Ended reports whether the job will do nothing more.
func (j *ImportJob) Ended() bool {
	return j.State != ImportQueued && j.State != ImportRunning
}

// Measure sets the job's rate and estimated finish from its progress, the
// time it started (or resumed) and the rows and bytes it has read since:
// the rest of the file is expected to go at the rate so far.
func (j *ImportJob) Measure(since time.Time, rowsSince int, bytesSince int64) {
	j.RowsPerSecond, j.EstimatedFinish = 0, nil
	took := j.UpdatedAt.Sub(since).Seconds()
	if j.Ended() || took <= 0 || bytesSince <= 0 {
		return
	}
	j.RowsPerSecond = float64(rowsSince) / took
	left := time.Duration(float64(j.Size-j.BytesRead) / (float64(bytesSince) / took) * float64(time.Second))
	finish := j.UpdatedAt.Add(left)
	j.EstimatedFinish = &finish
}

// ImportMapping is how a firm's files of one kind from another system are
// read: their column names as Rapport's, their delimiter, date format and
// key columns. A person names it once and picks it on the next upload.
type ImportMapping struct {
	ID   string `json:"id"`
	Kind string `json:"kind"` // one of ImportKinds
	Name string `json:"name"`
	// Map renames the file's columns to Rapport's: {"E-mail": "email"}.
	Map        map[string]string `json:"map"`
	Delimiter  string            `json:"delimiter,omitempty"`
	DateFormat string            `json:"date_format,omitempty"`
	Key        []string          `json:"key,omitempty"`
	CreatedBy  string            `json:"created_by,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
}

// Limits on saved import mappings.
const (
	maxMappingName    = 60
	maxMappingColumns = 200
	// MaxImportMappings is how many mappings a firm keeps of each kind.
	MaxImportMappings = 100
)

// Validate checks a mapping, trimming its name and columns.
func (m *ImportMapping) Validate() error {
	v := validation{index: -1}
	m.Name = strings.TrimSpace(m.Name)
	checkText(&v, "name", m.Name, 1, maxMappingName)
	if m.Map == nil {
		m.Map = map[string]string{}
	}
	trimmed := make(map[string]string, len(m.Map))
	for from, to := range m.Map {
		from, to = strings.TrimSpace(from), strings.TrimSpace(to)
		if from == "" || to == "" || !StorableText(from) || !StorableText(to) || len(from) > 200 || len(to) > 200 {
			v.add("map", "each column needs the file's name and Rapport's, as E-mail=email")
			break
		}
		trimmed[from] = to
	}
	m.Map = trimmed
	if len(m.Map) > maxMappingColumns {
		v.add("map", "map at most %d columns", maxMappingColumns)
	}
	if len(m.Map) == 0 && m.Delimiter == "" && m.DateFormat == "" && len(m.Key) == 0 {
		v.add("map", "a mapping needs a column to rename, a delimiter, a date format or key columns")
	}
	req := ImportRequest{Kind: m.Kind, Delimiter: m.Delimiter, Key: m.Key}
	for _, f := range ErrorFields(req.Check()) {
		v.add(f.Field, "%s", f.Message)
	}
	return v.err("mapping")
}

// Apply reads a file as the mapping says, where the request does not say
// otherwise: the request's own column names, delimiter, date format and
// key columns win.
func (m *ImportMapping) Apply(req *ImportRequest) {
	if len(m.Map) > 0 {
		merged := make(map[string]string, len(m.Map)+len(req.Map))
		for from, to := range m.Map {
			merged[from] = to
		}
		for from, to := range req.Map {
			merged[from] = to
		}
		req.Map = merged
	}
	if req.Delimiter == "" {
		req.Delimiter = m.Delimiter
	}
	if req.DateFormat == "" {
		req.DateFormat = m.DateFormat
	}
	if len(req.Key) == 0 {
		req.Key = m.Key
	}
}

// ImportMappingService keeps a firm's saved import mappings.
type ImportMappingService interface {
	// SaveImportMapping keeps a mapping, replacing the one of the same
	// kind and name; a firm keeps MaxImportMappings of each kind.
	SaveImportMapping(ctx context.Context, m *ImportMapping) error
	// FindImportMappings lists the mappings of a kind (every kind when
	// empty), by name.
	FindImportMappings(ctx context.Context, kind string) ([]*ImportMapping, error)
	// FindImportMapping returns one mapping, or ENOTFOUND.
	FindImportMapping(ctx context.Context, id string) (*ImportMapping, error)
	// DeleteImportMapping removes a mapping, or ENOTFOUND.
	DeleteImportMapping(ctx context.Context, id string) error
}
