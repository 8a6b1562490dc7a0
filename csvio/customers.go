package csvio

import (
	"encoding/csv"
	"io"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// CustomerColumns are the columns of a customers file, in the order an
// export writes them, before one attributes.<key> column per attribute. A
// file to import needs name; likes and dislikes hold one entry per line.
var CustomerColumns = []string{
	"id", "external_id", "kind", "name", "email", "phone", "owner_id", "owner_email", "referred_by", "stage",
	"likes", "dislikes", "created_at",
}

var customersNeed = [][]string{{"name"}}

// ReadCustomers reads a customers file as ReadMoments reads moments.
func ReadCustomers(r io.Reader) (*rapport.CustomerFile, error) {
	t, err := readHeader(r, CustomerColumns, true, customersNeed, wholeFile(time.Time{}))
	if err != nil {
		return nil, err
	}
	rows, err := readRows(t, t.customer, func(r rapport.CustomerRow) (string, string) { return r.Customer.ID, r.Customer.ExternalID })
	if err != nil {
		return nil, err
	}
	return &rapport.CustomerFile{Rows: rows, Problems: t.problems}, nil
}

// customer reads the current row as a customer.
func (t *table) customer() rapport.CustomerRow {
	row := rapport.CustomerRow{Row: t.row, OwnerEmail: strings.ToLower(t.get("owner_email"))}
	c := &row.Customer
	c.ID = t.id("id")
	c.ExternalID = t.keyID(t.get("external_id"))
	c.Kind = strings.ToLower(t.get("kind"))
	c.Name = t.get("name")
	c.Email = t.get("email")
	c.Phone = t.get("phone")
	c.OwnerID = t.get("owner_id")
	c.ReferredBy = t.id("referred_by")
	c.Stage = rapport.Stage(strings.ToLower(t.get("stage")))
	c.Preferences = rapport.Preferences{Likes: entries(t.get("likes")), Dislikes: entries(t.get("dislikes"))}
	c.CreatedAt, _ = t.timeCell("created_at")
	c.Attributes = map[string]any{}
	for _, a := range t.attrs {
		if s := t.cell(attributePrefix+a.key, a.at); s != "" {
			c.Attributes[a.key] = rapport.ParseAttribute(s)
		}
	}
	t.addDomain(rapport.ErrorFields(c.Validate()), nil)
	return row
}

// entries splits a cell of likes or dislikes into its non-blank lines.
func entries(s string) []string {
	out := []string{}
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// CustomerWriter writes customers as CSV with every column of
// CustomerColumns and one per attribute key it was made with.
type CustomerWriter struct {
	w    *csv.Writer
	keys []string
}

// NewCustomerWriter writes the header row, with a column for each of the
// attribute keys, and returns a writer for the rows.
func NewCustomerWriter(w io.Writer, attributeKeys []string) (*CustomerWriter, error) {
	cw := &CustomerWriter{w: csv.NewWriter(w), keys: attributeKeys}
	header := append([]string{}, CustomerColumns...)
	for _, k := range attributeKeys {
		header = append(header, attributePrefix+k)
	}
	return cw, cw.w.Write(header)
}

// Write writes one customer; attributes with no column are left out.
func (cw *CustomerWriter) Write(r *rapport.CustomerRow) error {
	c := &r.Customer
	rec := []string{
		escape(c.ID), escape(c.ExternalID), escape(c.Kind), escape(c.Name), escape(c.Email), escape(c.Phone),
		escape(c.OwnerID), escape(r.OwnerEmail), escape(c.ReferredBy), escape(string(c.Stage)),
		escape(strings.Join(c.Preferences.Likes, "\n")), escape(strings.Join(c.Preferences.Dislikes, "\n")),
		formatTimeOrEmpty(c.CreatedAt),
	}
	for _, k := range cw.keys {
		rec = append(rec, attributeCell(c.Attributes, k))
	}
	return cw.w.Write(rec)
}

// formatTimeOrEmpty writes a time, or nothing when it is not set.
func formatTimeOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t)
}

// attributeCell writes one attribute's value. An empty cell means the
// customer has no such attribute, so empty text is written as "" in JSON.
func attributeCell(attrs map[string]any, key string) string {
	v, ok := attrs[key]
	switch {
	case !ok:
		return ""
	case v == "":
		return `""`
	}
	s := rapport.FormatAttribute(v)
	if _, text := v.(string); text {
		return escape(s)
	}
	return s
}

// Flush writes what is buffered and reports any error writing so far.
func (cw *CustomerWriter) Flush() error {
	cw.w.Flush()
	return cw.w.Error()
}
