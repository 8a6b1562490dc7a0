package rapport

import "context"

// Limits on one import. The whole file is checked before anything is
// written, so it is held in memory; larger files are split.
const (
	MaxImportRows  = 10_000
	MaxImportBytes = 10 << 20
	// ImportChunk rows are written per transaction: short enough that
	// people logging moments meanwhile are never kept waiting long.
	ImportChunk = 1000
	// MaxImportProblems is how many problems a refused file lists, so
	// that a file wrong in every row still gets a readable answer.
	MaxImportProblems = 1000
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
