package csvio

import (
	"encoding/csv"
	"io"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// MomentColumns are the columns of a moments file, in the order an export
// writes them. A file to import may hold any of them, in any order; it needs
// touchpoint, channel, occurred_at, and customer_id or customer_external_id.
var MomentColumns = []string{
	"id", "external_id", "customer_id", "customer_external_id", "touchpoint", "channel", "occurred_at",
	"staff_id", "staff_email", "response", "rating", "effort", "nps", "outcome", "outcome_source",
	"notes", "revenue", "cost",
}

var momentsNeed = [][]string{{"customer_id", "customer_external_id"}, {"touchpoint"}, {"channel"}, {"occurred_at"}}

// ReadMoments reads a moments file whole, up to rapport.MaxImportRows and
// rapport.MaxImportBytes. Every row is checked against the domain's rules
// and every problem is kept, by row and column, in the file's Problems;
// the returned error is for a file that cannot be taken at all (empty, or
// over the limits). now is the time moments may not be more than a day
// ahead of.
func ReadMoments(r io.Reader, now time.Time) (*rapport.MomentFile, error) {
	t, err := readHeader(r, MomentColumns, false, momentsNeed, wholeFile(now))
	if err != nil {
		return nil, err
	}
	rows, err := readRows(t, t.moment, func(r rapport.MomentRow) (string, string) { return r.Moment.ID, r.Moment.ExternalID })
	if err != nil {
		return nil, err
	}
	return &rapport.MomentFile{Rows: rows, Problems: t.problems}, nil
}

// wholeFile are the options of a file read whole.
func wholeFile(now time.Time) ReadOptions {
	return ReadOptions{MaxBytes: rapport.MaxImportBytes, MaxRows: rapport.MaxImportRows, Now: now}
}

// readRows reads every row of t with read, unless the header has problems
// already (then no row is read: the columns cannot be trusted). Two rows
// with one id or external id are a mistake in a file read whole: the
// second would silently be the first.
func readRows[R any](t *table, read func() R, keys func(R) (id, externalID string)) ([]R, error) {
	if len(t.problems) > 0 {
		return nil, nil
	}
	seen := newDuplicates(t)
	var rows []R
	for {
		more, err := t.next()
		if err != nil || !more {
			return rows, err
		}
		if t.cells == nil {
			continue
		}
		row := read()
		id, ext := keys(row)
		seen.check("id", id)
		seen.check("external_id", ext)
		rows = append(rows, row)
	}
}

// moment reads the current row as a moment.
func (t *table) moment() rapport.MomentRow {
	row := rapport.MomentRow{Row: t.row, CustomerExternalID: t.get("customer_external_id"), StaffEmail: strings.ToLower(t.get("staff_email"))}
	m := &row.Moment
	m.ID = t.id("id")
	m.ExternalID = t.keyID(t.get("external_id"))
	m.CustomerID = t.get("customer_id")
	m.Touchpoint = t.get("touchpoint")
	m.Channel = rapport.Channel(strings.ToLower(t.get("channel")))
	m.StaffID = t.get("staff_id")
	m.Response = t.get("response")
	m.Rating, m.Effort, m.NPS = t.int("rating"), t.int("effort"), t.int("nps")
	m.Notes = t.get("notes")
	m.Revenue, m.Cost = t.float("revenue"), t.float("cost")
	badTime := false
	if s := t.get("occurred_at"); s != "" {
		at, err := t.time(s)
		if err != nil {
			t.fail("occurred_at", "%v", err)
			badTime = true
		}
		m.OccurredAt = at
	}
	outcome := rapport.Outcome(strings.ToLower(t.get("outcome")))
	source := strings.ToLower(t.get("outcome_source"))
	switch source {
	case "", rapport.OutcomeGiven:
		m.Outcome = outcome
	case rapport.OutcomeRated, rapport.OutcomeDefault:
		// An export says where each outcome came from, so that a moment
		// re-imported keeps deriving its outcome from its rating (as a
		// survey answer later does) rather than holding the one it had.
		derived, from := rapport.DeriveOutcome("", m.Rating)
		if from != source && m.Rating == nil {
			t.fail("outcome_source", "is %s, but the row has no rating", source)
		} else if from != source {
			t.fail("outcome_source", "is %s, but the row has a rating", source)
		} else if outcome != "" && outcome != derived {
			t.fail("outcome", "is %s, but the outcome_source says it comes from the rating, which makes it %s", outcome, derived)
		}
	default:
		t.fail("outcome_source", "must be given, rating or default, or empty")
	}
	byExternalID := row.CustomerExternalID != ""
	t.addDomain(m.Validate(t.opt.Now, t.row), func(field string) bool {
		return field == "customer_id" && byExternalID || field == "occurred_at" && badTime
	})
	return row
}

// duplicates finds an id or external id given by two rows of one file,
// which is a mistake: the second would silently be the first.
type duplicates struct {
	t    *table
	rows map[string]int
}

func newDuplicates(t *table) *duplicates { return &duplicates{t: t, rows: map[string]int{}} }

func (d *duplicates) check(col, v string) {
	if v == "" {
		return
	}
	if first, ok := d.rows[col+"\x00"+v]; ok {
		d.t.fail(col, "is also in row %d; each row must have its own", first)
		return
	}
	d.rows[col+"\x00"+v] = d.t.row
}

// MomentWriter writes moments as CSV with every column of MomentColumns.
type MomentWriter struct{ w *csv.Writer }

// NewMomentWriter writes the header row and returns a writer for the rows.
func NewMomentWriter(w io.Writer) (*MomentWriter, error) {
	mw := &MomentWriter{w: csv.NewWriter(w)}
	return mw, mw.w.Write(MomentColumns)
}

// Write writes one moment. Its outcome is written with where it came from,
// and an outcome not yet derived is derived first, so the row reads back
// the same.
func (mw *MomentWriter) Write(r *rapport.MomentRow) error {
	m := &r.Moment
	outcome, source := m.Outcome, m.OutcomeSource
	if outcome == "" || source == "" {
		outcome, source = rapport.DeriveOutcome(outcome, m.Rating)
	}
	occurred := ""
	if !m.OccurredAt.IsZero() {
		occurred = formatTime(m.OccurredAt)
	}
	return mw.w.Write([]string{
		escape(m.ID), escape(m.ExternalID), escape(m.CustomerID), escape(r.CustomerExternalID),
		escape(m.Touchpoint), escape(string(m.Channel)), occurred, escape(m.StaffID), escape(r.StaffEmail),
		escape(m.Response), intCell(m.Rating), intCell(m.Effort), intCell(m.NPS), string(outcome), source,
		escape(m.Notes), floatCell(m.Revenue), floatCell(m.Cost),
	})
}

// Flush writes what is buffered and reports any error writing so far.
func (mw *MomentWriter) Flush() error {
	mw.w.Flush()
	return mw.w.Error()
}
