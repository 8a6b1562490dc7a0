// Package csvio reads moments and customers from CSV files and writes them
// back out. It touches no database: reading checks each row's own fields with
// the domain's rules and leaves references (customers, touchpoints, staff)
// to the store. A file names its columns in its first row, in any order;
// what it writes it reads back as the same values, so an export re-imports.
package csvio

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rapport-crm/rapport"
)

// errTooLarge stops reading a file past ReadOptions.MaxBytes.
var errTooLarge = rapport.Errorf(rapport.ETOOLARGE, "The file is larger than this server takes; split it into smaller files.")

// limitedReader fails once more than max bytes have been read, so that a
// huge upload is refused rather than read to its end.
type limitedReader struct {
	r   io.Reader
	max int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.max < 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > l.max+1 {
		p = p[:l.max+1]
	}
	n, err := l.r.Read(p)
	l.max -= int64(n)
	if l.max < 0 {
		return n, errTooLarge
	}
	return n, err
}

// table reads a file's rows as cells by column name, one row at a time, so
// that a file of any size is read in the memory of one row.
type table struct {
	r        *csv.Reader
	src      *tap
	cols     map[string]int // column name to its place in a row
	attrs    []attrColumn   // attributes.<key> columns, in file order
	header   []string       // the first row as the file has it
	width    int
	comma    rune
	maxRows  int   // rows past which the file is refused; 0 for no limit
	rows     int   // rows read, not counting the header
	base     int64 // the file's offset where r started reading
	lineBase int   // the line r started reading at, less one
	offset   int64 // the file's offset after the row last read
	nextLine int   // the line the row after it starts on
	row      int   // the line the row last read starts on; the header is 1
	raw      []byte
	cells    []string
	problems []rapport.FieldError
	opt      ReadOptions
}

type attrColumn struct {
	key string
	at  int
}

// attributePrefix starts the name of a column holding one attribute.
const attributePrefix = "attributes."

// Columns an error report adds to a file's own: a report, put right, is
// imported again as it is, so a reader ignores them.
const (
	ReportLine    = "import_line"
	ReportProblem = "import_problem"
	ReportRaw     = "import_raw"
)

// ReadOptions say how to read a file as people have it.
type ReadOptions struct {
	// Delimiter separates cells; 0 detects a comma, semicolon or tab
	// from the first row.
	Delimiter rune
	// Map renames the file's columns to Rapport's: {"email address": "email"}.
	// Names are matched ignoring case.
	Map map[string]string
	// DateFormat is the layout of dates and times that are not RFC 3339,
	// such as DD/MM/YYYY or DD/MM/YYYY hh:mm (see ParseLayout); such times
	// are UTC.
	DateFormat string
	// Key names columns whose values, joined, make a row's external id when
	// it has none, so that importing the file again stores nothing twice.
	Key []string
	// MaxBytes and MaxRows refuse a file past them; 0 is no limit.
	MaxBytes int64
	MaxRows  int
	// Now is the time moments may not be more than a day ahead of.
	Now time.Time
}

// readHeader reads the first row: every column must be known (or an
// attribute, where allowed), and none may appear twice. Problems with the
// header are reported against row 1; a file with any is not read further,
// since its rows cannot be understood.
func readHeader(r io.Reader, known []string, attributes bool, required [][]string, opt ReadOptions) (*table, error) {
	if opt.MaxBytes > 0 {
		r = &limitedReader{r: r, max: opt.MaxBytes}
	}
	br := bufio.NewReaderSize(r, 64<<10)
	comma := opt.Delimiter
	if comma == 0 {
		comma = detectDelimiter(br)
	}
	t := &table{src: &tap{r: br}, cols: map[string]int{}, comma: comma, maxRows: opt.MaxRows, opt: opt, nextLine: 1}
	t.r = t.newReader()
	header, err := t.r.Read()
	switch {
	case errors.Is(err, io.EOF):
		return nil, rapport.Errorf(rapport.EINVALID, "The file is empty; its first row must name the columns, such as %s.", strings.Join(known[:4], ","))
	case errors.Is(err, errTooLarge):
		return nil, err
	case err != nil:
		t.row = 1
		t.fail("", "is not valid CSV: %s", csvProblem(err))
		return t, nil
	}
	t.keep()
	t.row, t.width, t.header = 1, len(header), header
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff") // as some spreadsheets save UTF-8
	}
	mapped := map[string]string{}
	for from, to := range opt.Map {
		mapped[strings.ToLower(strings.TrimSpace(from))] = to
	}
	var unknown []string
	seen := map[string]bool{}
	for i, name := range header {
		name = strings.TrimSpace(name)
		if to, ok := mapped[strings.ToLower(name)]; ok {
			name = to
		}
		// Column names ignore case; attribute keys do not.
		canonical := strings.ToLower(name)
		isAttr := attributes && strings.HasPrefix(canonical, attributePrefix) && len(name) > len(attributePrefix)
		if isAttr {
			canonical = attributePrefix + name[len(attributePrefix):]
		}
		switch {
		case name == "":
			t.fail("", "column %d has no name; the first row must name every column", i+1)
			continue
		case seen[canonical]:
			t.fail(name, "appears twice in the first row")
			continue
		case canonical == ReportLine || canonical == ReportProblem || canonical == ReportRaw:
			continue
		}
		seen[canonical] = true
		switch {
		case slices.Contains(known, canonical):
			t.cols[canonical] = i
		case isAttr:
			t.attrs = append(t.attrs, attrColumn{key: name[len(attributePrefix):], at: i})
		case attributes:
			// Columns Rapport has no place for are kept as attributes.
			t.attrs = append(t.attrs, attrColumn{key: name, at: i})
		default:
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		t.fail(strings.Join(unknown, ","), "%s not a known column; the columns are %s (name others with a column mapping)",
			plural(len(unknown), "is", "are"), strings.Join(known, ", "))
	}
	for _, alts := range required {
		found := false
		for _, c := range alts {
			_, ok := t.cols[c]
			found = found || ok
		}
		if !found {
			t.fail(alts[0], "the file needs a column %s", strings.Join(alts, " or "))
		}
	}
	for _, k := range opt.Key {
		if _, ok := t.cols[strings.ToLower(k)]; !ok && !slices.ContainsFunc(t.attrs, func(a attrColumn) bool { return a.key == k }) {
			t.fail(k, "is named as part of the key, but the file has no such column")
		}
	}
	return t, nil
}

func (t *table) newReader() *csv.Reader {
	cr := csv.NewReader(t.src)
	cr.Comma = t.comma
	cr.FieldsPerRecord = -1
	return cr
}

// Resume carries on reading from offset (where a row starts, as Offset
// said) in r, which reads the same file from there; line is the line that
// row starts on.
func (t *table) resume(r io.Reader, offset int64, line int) {
	t.src = &tap{r: bufio.NewReaderSize(r, 64<<10)}
	t.r = t.newReader()
	t.base, t.lineBase, t.offset, t.nextLine = offset, line-1, offset, line
}

// detectDelimiter guesses the delimiter from the first line: whichever of
// comma, semicolon and tab it holds most of outside quotes.
func detectDelimiter(br *bufio.Reader) rune {
	head, _ := br.Peek(br.Size())
	counts := map[byte]int{}
	quoted := false
	for _, c := range head {
		if c == '"' {
			quoted = !quoted
		} else if !quoted && (c == '\n' || c == '\r') {
			break
		} else if !quoted {
			counts[c]++
		}
	}
	best := byte(',')
	for _, c := range []byte{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return rune(best)
}

// tap keeps the bytes read since the start of the row being read, so
// that a rejected row is reported exactly as the file had it.
type tap struct {
	r     io.Reader
	buf   []byte
	start int // where the row being read starts in buf
}

func (p *tap) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.buf = append(p.buf, b[:n]...)
	return n, err
}

// keep moves the row just read out of the tap into t.raw.
func (t *table) keep() {
	end := t.base + t.r.InputOffset()
	n := int(end - t.offset)
	p := t.src
	t.raw = append(t.raw[:0], p.buf[p.start:p.start+n]...)
	p.start += n
	if p.start > 64<<10 {
		p.buf = append(p.buf[:0], p.buf[p.start:]...)
		p.start = 0
	}
	t.offset = end
	t.nextLine += bytes.Count(t.raw, []byte("\n"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// next reads the next row with something in it, reporting false at the
// end of the file. A row that is not valid CSV is read as a row with that
// problem: the reader carries on at the line after it.
func (t *table) next() (bool, error) {
	for {
		t.cells = nil
		rec, err := t.r.Read()
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		if errors.Is(err, errTooLarge) {
			return false, err
		}
		t.keep()
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			t.row = t.lineBase + pe.StartLine
			t.fail("", "is not valid CSV: %s", csvProblem(err))
			return true, nil
		} else if err != nil {
			return false, err
		}
		line, _ := t.r.FieldPos(0)
		t.row = t.lineBase + line
		t.rows++
		if t.maxRows > 0 && t.rows > t.maxRows {
			return false, rapport.Errorf(rapport.ETOOLARGE, "The file has more than %d rows; split it into smaller files.", t.maxRows)
		}
		empty := true
		for _, c := range rec {
			empty = empty && strings.TrimSpace(c) == ""
		}
		if empty {
			continue // spreadsheets often save blank rows at the end
		}
		if len(rec) != t.width {
			t.fail("", "has %d cells; the first row names %d columns", len(rec), t.width)
		}
		t.cells = rec
		return true, nil
	}
}

// csvProblem describes a CSV syntax error without the reader's own prefix.
func csvProblem(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("%v (column %d)", pe.Err, pe.Column)
	}
	return err.Error()
}

// fail records a problem with the current row.
func (t *table) fail(field, format string, args ...any) {
	t.problems = append(t.problems, rapport.NewFieldError(t.row, field, format, args...))
}

// get returns the current row's cell in a column, trimmed and with a
// spreadsheet guard removed (see escape); "" when the file has no such column.
func (t *table) get(col string) string {
	i, ok := t.cols[col]
	if !ok {
		return ""
	}
	return t.cell(col, i)
}

func (t *table) cell(name string, i int) string {
	if i >= len(t.cells) {
		return ""
	}
	s := t.cells[i]
	if !utf8.ValidString(s) {
		t.fail(name, "is not UTF-8 text; save the file as CSV UTF-8")
		return ""
	}
	if strings.ContainsRune(s, 0) {
		t.fail(name, "holds a NUL character")
		return ""
	}
	return unescape(strings.TrimSpace(s))
}

// int reads an optional whole number.
func (t *table) int(col string) *int {
	s := t.get(col)
	if s == "" {
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		t.fail(col, "must be a whole number, not %q", s)
		return nil
	}
	return &n
}

// float reads an optional number, 0 when empty. Thousands separators are
// refused rather than guessed at: "1,50" is one and a half in much of Europe.
func (t *table) float(col string) float64 {
	s := t.get(col)
	if s == "" {
		return 0
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.fail(col, "must be a number such as 12.50, with no thousands separator, not %q", s)
		return 0
	}
	return x
}

// id reads an optional Rapport id.
func (t *table) id(col string) string {
	s := t.get(col)
	if s != "" && !rapport.ValidID(s) {
		t.fail(col, "must be a Rapport id (26 capital letters and digits) as an export writes it, or empty")
		return ""
	}
	return s
}

// addDomain adds the domain's own problems with the row, numbered by row.
func (t *table) addDomain(fields []rapport.FieldError, skip func(field string) bool) {
	for _, f := range fields {
		if skip != nil && skip(f.Field) {
			continue
		}
		t.fail(f.Field, "%s", f.Message)
	}
}

// ParseTime reads a time as a file or a command line may give it: an RFC
// 3339 time (with a T or a space between date and time), or a date alone,
// meaning midnight UTC. A time without an offset is refused rather than
// guessed at.
func ParseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("must be an RFC 3339 time such as 2026-03-01T14:30:00Z, or a date such as 2026-03-01, not %q", s)
}

// formatTime writes a stored time so that ParseTime reads back the same instant.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Spreadsheets run a cell that starts with one of these as a formula, so a
// customer's name or a note could make a spreadsheet fetch or compute
// something when a member of staff opens an export. Such a cell is written
// with a leading apostrophe, which spreadsheets show as text, and the
// apostrophe is taken off again on reading.
const formulaStarts = "=+-@\t\r"

// escape guards a text cell against being run as a formula. A value that
// itself starts with an apostrophe before one of those characters gets
// another, so that unescape gives back exactly what was written.
// Escape keeps a spreadsheet from running a cell as a formula: a cell that
// starts like one gets a quote in front, which Rapport's reader takes off
// again, so what is written imports unchanged.
func Escape(s string) string { return escape(s) }

func escape(s string) string {
	if s == "" {
		return s
	}
	if strings.ContainsRune(formulaStarts, rune(s[0])) || s[0] == '\'' && len(s) > 1 && strings.ContainsRune(formulaStarts+"'", rune(s[1])) {
		return "'" + s
	}
	return s
}

func unescape(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.ContainsRune(formulaStarts+"'", rune(s[1])) {
		return s[1:]
	}
	return s
}

// intCell writes an optional whole number.
func intCell(p *int) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(*p)
}

// floatCell writes a number so that strconv reads back the same value;
// zero, the default, is left empty.
func floatCell(x float64) string {
	if x == 0 && !math.Signbit(x) {
		return ""
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}
