package csvio

import (
	"io"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// PromiseColumns are the columns of a promises file. A file needs
// customer_id or customer_external_id, text and due_at.
var PromiseColumns = []string{
	"customer_id", "customer_external_id", "staff_id", "staff_email", "text", "due_at", "status", "resolved_at", "created_at",
}

var promisesNeed = [][]string{{"customer_id", "customer_external_id"}, {"text"}, {"due_at"}}

// NewPromiseReader is NewMomentReader for a promises file.
func NewPromiseReader(r io.Reader, opt ReadOptions) (*Reader[rapport.PromiseRow], error) {
	t, err := readHeader(r, PromiseColumns, false, promisesNeed, opt)
	if err != nil {
		return nil, err
	}
	return newReader(t, t.promise)
}

// promise reads the current row as a promise.
func (t *table) promise() rapport.PromiseRow {
	row := rapport.PromiseRow{Row: t.row, CustomerExternalID: t.get("customer_external_id"), StaffEmail: strings.ToLower(t.get("staff_email"))}
	p := &row.Promise
	p.CustomerID = t.get("customer_id")
	p.StaffID = t.get("staff_id")
	p.Text = t.get("text")
	p.Status = rapport.PromiseStatus(strings.ToLower(t.get("status")))
	bad := map[string]bool{}
	p.DueAt, bad["due_at"] = t.timeCell("due_at")
	p.CreatedAt, bad["created_at"] = t.timeCell("created_at")
	if at, failed := t.timeCell("resolved_at"); !at.IsZero() {
		p.ResolvedAt = &at
	} else {
		bad["resolved_at"] = failed
	}
	byExternalID := row.CustomerExternalID != ""
	t.addDomain(p.ValidateImported(t.opt.Now, -1), func(field string) bool {
		return field == "customer_id" && byExternalID || bad[field]
	})
	return row
}

// timeCell reads an optional time in a column, reporting whether it was
// there but could not be read (the problem is recorded).
func (t *table) timeCell(col string) (time.Time, bool) {
	s := t.get(col)
	if s == "" {
		return time.Time{}, false
	}
	at, err := t.time(s)
	if err != nil {
		t.fail(col, "%v", err)
		return time.Time{}, true
	}
	return at, false
}
