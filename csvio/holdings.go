package csvio

import (
	"io"
	"strings"

	"github.com/rapport-crm/rapport"
)

// HoldingColumns are the columns of a holdings file. A file needs
// customer_id or customer_external_id, product and started_at.
var HoldingColumns = []string{"customer_id", "customer_external_id", "product", "started_at", "ended_at"}

var holdingsNeed = [][]string{{"customer_id", "customer_external_id"}, {"product"}, {"started_at"}}

// NewHoldingReader is NewMomentReader for a holdings file.
func NewHoldingReader(r io.Reader, opt ReadOptions) (*Reader[rapport.HoldingRow], error) {
	t, err := readHeader(r, HoldingColumns, false, holdingsNeed, opt)
	if err != nil {
		return nil, err
	}
	return newReader(t, t.holding)
}

// holding reads the current row as a holding.
func (t *table) holding() rapport.HoldingRow {
	row := rapport.HoldingRow{Row: t.row, CustomerExternalID: t.get("customer_external_id")}
	h := &row.Holding
	h.CustomerID = t.get("customer_id")
	h.Product = strings.ToLower(t.get("product"))
	bad := map[string]bool{}
	h.StartedAt, bad["started_at"] = t.timeCell("started_at")
	if at, failed := t.timeCell("ended_at"); !at.IsZero() {
		h.EndedAt = &at
	} else {
		bad["ended_at"] = failed
	}
	byExternalID := row.CustomerExternalID != ""
	t.addDomain(h.ValidateImported(t.opt.Now, -1), func(field string) bool {
		return field == "customer_id" && byExternalID || bad[field]
	})
	return row
}
