package csvio

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// Row is one row of a file as a Reader reads it.
type Row[V any] struct {
	// Line is the line the row starts on; the header is line 1.
	Line int
	// Cells are the row's cells as the file has them; nil for a row that
	// is not valid CSV.
	Cells []string
	// Raw is the row exactly as the file has it, for a row that is not
	// valid CSV; it is reused by the next call of Next.
	Raw []byte
	// Value is what the row says; meaningless when it has problems.
	Value V
	// Problems are what is wrong with the row's own cells; references to
	// other records are the store's to check.
	Problems []rapport.FieldError
}

// Reader reads a file of moments or customers one row at a time, in the
// memory of one row whatever the file's size.
type Reader[V any] struct {
	t    *table
	read func() V
	row  Row[V]
}

// NewMomentReader reads a moments file's header and returns a reader of
// its rows. A header at fault is an EINVALID error whose fields say why,
// numbered 1: no row of such a file can be understood.
func NewMomentReader(r io.Reader, opt ReadOptions) (*Reader[rapport.MomentRow], error) {
	t, err := readHeader(r, MomentColumns, false, momentsNeed, opt)
	if err != nil {
		return nil, err
	}
	return newReader(t, t.moment)
}

// NewCustomerReader is NewMomentReader for a customers file; columns that
// are not Rapport's are kept as attributes.
func NewCustomerReader(r io.Reader, opt ReadOptions) (*Reader[rapport.CustomerRow], error) {
	t, err := readHeader(r, CustomerColumns, true, customersNeed, opt)
	if err != nil {
		return nil, err
	}
	return newReader(t, t.customer)
}

func newReader[V any](t *table, read func() V) (*Reader[V], error) {
	if len(t.problems) > 0 {
		return nil, &rapport.Error{Code: rapport.EINVALID, Fields: t.problems,
			Message: "The first row, which names the columns, is not right; nothing was imported."}
	}
	return &Reader[V]{t: t, read: read}, nil
}

// Next reads the next row with something in it, or returns io.EOF.
func (r *Reader[V]) Next() (*Row[V], error) {
	t := r.t
	t.problems = t.problems[:0]
	more, err := t.next()
	if err != nil {
		return nil, err
	}
	if !more {
		return nil, io.EOF
	}
	var zero V
	r.row = Row[V]{Line: t.row, Cells: t.cells, Value: zero}
	if t.cells == nil {
		r.row.Raw = bytes.TrimLeft(t.raw, "\r\n")
	} else {
		r.row.Value = r.read()
	}
	r.row.Problems = t.problems
	return &r.row, nil
}

// Header returns the file's first row as it has it.
func (r *Reader[V]) Header() []string { return r.t.header }

// Offset returns where in the file the next row starts, and its line: a
// place Resume can carry on from.
func (r *Reader[V]) Offset() (offset int64, line int) { return r.t.offset, r.t.nextLine }

// Resume carries on reading at a place Offset returned, from src, which
// reads the same file from there.
func (r *Reader[V]) Resume(src io.Reader, offset int64, line int) {
	r.t.resume(src, offset, line)
}

// Delimiter returns the delimiter the file is read with.
func (r *Reader[V]) Delimiter() rune { return r.t.comma }

// keyID makes an external id from the key columns' values, when the
// options name some and the row has none of its own.
func (t *table) keyID(own string) string {
	if own != "" || len(t.opt.Key) == 0 {
		return own
	}
	h := sha256.New()
	for _, k := range t.opt.Key {
		v, ok := "", false
		if i, found := t.cols[strings.ToLower(k)]; found {
			v, ok = t.cell(k, i), true
		}
		for _, a := range t.attrs {
			if !ok && a.key == k {
				v = t.cell(k, a.at)
			}
		}
		fmt.Fprintf(h, "%d:%s", len(v), v)
	}
	return "key-" + hex.EncodeToString(h.Sum(nil))[:40]
}

// ParseLayout turns a date format people write, such as DD/MM/YYYY hh:mm,
// into Go's layout; a format already in Go's form is returned as it is.
func ParseLayout(format string) string {
	return strings.NewReplacer("YYYY", "2006", "YY", "06", "MM", "01", "DD", "02",
		"hh", "15", "mm", "04", "ss", "05").Replace(format)
}

// time reads a time as ParseTime does or, first, in the options' date format.
func (t *table) time(s string) (time.Time, error) {
	if t.opt.DateFormat != "" {
		if at, err := time.Parse(ParseLayout(t.opt.DateFormat), s); err == nil {
			return at.UTC(), nil
		}
	}
	at, err := ParseTime(s)
	if err != nil && t.opt.DateFormat != "" {
		return at, fmt.Errorf("must be a time in the form %s, or RFC 3339, not %q", t.opt.DateFormat, s)
	}
	return at, err
}
