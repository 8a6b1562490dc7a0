package csvio_test

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/csvio"
)

var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// problems lists a file's problems as "row N, column: message".
func problems(fields []rapport.FieldError) []string {
	var out []string
	for _, f := range fields {
		row := -1
		if f.Index != nil {
			row = *f.Index
		}
		out = append(out, fmt.Sprintf("row %d, %s: %s", row, f.Field, f.Message))
	}
	return out
}

func TestReadMomentsReportsEveryRow(t *testing.T) {
	in := "\ufeffTouchpoint,channel,occurred_at,customer_external_id,rating,notes,revenue\n" +
		"greeting,Phone,2026-11-19T10:00:00Z,c-1,5,Lovely,12.50\n" +
		"complaint,phone,2026-11-19,c-2,7,,\n" +
		",fax,yesterday,,,,\"1,50\"\n" +
		",,,,,,\n" + // a blank row, as spreadsheets save them: skipped
		"query,email,2026-11-19 09:30:00+01:00,c-3,two,,\n"
	file, err := csvio.ReadMoments(strings.NewReader(in), now)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"row 3, rating: must be from 1 to 5",
		`row 4, revenue: must be a number such as 12.50, with no thousands separator, not "1,50"`,
		`row 4, occurred_at: must be an RFC 3339 time such as 2026-03-01T14:30:00Z, or a date such as 2026-03-01, not "yesterday"`,
		"row 4, customer_id: is required",
		"row 4, touchpoint: is required",
		"row 4, channel: unknown channel \"fax\"; channels are in_person, phone, email, chat, web, system",
		`row 6, rating: must be a whole number, not "two"`,
	}
	if got := problems(file.Problems); !reflect.DeepEqual(got, want) {
		t.Errorf("problems =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(file.Rows) != 4 {
		t.Fatalf("rows = %d; want 4", len(file.Rows))
	}
	first := file.Rows[0]
	if first.Row != 2 || first.CustomerExternalID != "c-1" || first.Moment.Channel != rapport.ChannelPhone ||
		first.Moment.Outcome != rapport.OutcomeMagic || first.Moment.Revenue != 12.5 || first.Moment.Notes != "Lovely" {
		t.Errorf("first row = %+v", first)
	}
	if got := file.Rows[3].Moment.OccurredAt; !got.Equal(time.Date(2026, 11, 19, 8, 30, 0, 0, time.UTC)) || file.Rows[3].Row != 6 {
		t.Errorf("row 6 occurred at %v (row %d); want 08:30 UTC", got, file.Rows[3].Row)
	}
	if got := file.Rows[1].Moment.OccurredAt; !got.Equal(time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("a date alone reads as %v; want midnight UTC", got)
	}
}

func TestReadHeaderProblems(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"touchpoint,channel,occurred_at,customer_id,ratng,colour\n", []string{
			"row 1, ratng,colour: are not a known column; the columns are " + strings.Join(csvio.MomentColumns, ", ") +
				" (name others with a column mapping)"}},
		{"touchpoint,channel,customer_id,Channel\n", []string{
			"row 1, Channel: appears twice in the first row", "row 1, occurred_at: the file needs a column occurred_at"}},
		{"touchpoint,channel,occurred_at\n", []string{
			"row 1, customer_id: the file needs a column customer_id or customer_external_id"}},
		{"touchpoint,,channel\n", []string{"row 1, : column 2 has no name; the first row must name every column",
			"row 1, customer_id: the file needs a column customer_id or customer_external_id", "row 1, occurred_at: the file needs a column occurred_at"}},
		{"touchpoint,channel,occurred_at,customer_id\ngreeting,phone\n", []string{"row 2, : has 2 cells; the first row names 4 columns"}},
		{"touchpoint,channel,occurred_at,customer_id\ngreeting,phone,2026-11-19,\"C1\nx,y\n", []string{
			"row 2, : is not valid CSV: extraneous or missing \" in quoted-field (column 5)"}},
	}
	for _, tt := range tests {
		file, err := csvio.ReadMoments(strings.NewReader(tt.in), now)
		if err != nil {
			t.Errorf("ReadMoments(%q) = %v", tt.in, err)
			continue
		}
		got := problems(file.Problems)
		if len(tt.want) > 0 && !strings.HasPrefix(tt.want[0], "row 2") {
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ReadMoments(%q) problems =\n%s\nwant\n%s", tt.in, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			continue
		}
		if len(got) == 0 || got[0] != tt.want[0] {
			t.Errorf("ReadMoments(%q) problems =\n%s\nwant first\n%s", tt.in, strings.Join(got, "\n"), tt.want[0])
		}
	}
}

func TestReadLimits(t *testing.T) {
	if _, err := csvio.ReadMoments(strings.NewReader(""), now); rapport.ErrorCode(err) != rapport.EINVALID {
		t.Errorf("an empty file: error %v; want EINVALID", err)
	}
	var many strings.Builder
	many.WriteString("name\n")
	for i := range rapport.MaxImportRows + 1 {
		fmt.Fprintf(&many, "Customer %d\n", i)
	}
	if _, err := csvio.ReadCustomers(strings.NewReader(many.String())); rapport.ErrorCode(err) != rapport.ETOOLARGE {
		t.Errorf("%d rows: error %v; want ETOOLARGE", rapport.MaxImportRows+1, err)
	}
	big := "name,phone\n" + strings.Repeat("A,"+strings.Repeat("1", 1000)+"\n", rapport.MaxImportBytes/1000)
	if _, err := csvio.ReadCustomers(strings.NewReader(big)); rapport.ErrorCode(err) != rapport.ETOOLARGE {
		t.Errorf("%d bytes: error %v; want ETOOLARGE", len(big), err)
	}
	exact := "name\n" + strings.Repeat("A\n", rapport.MaxImportRows)
	if file, err := csvio.ReadCustomers(strings.NewReader(exact)); err != nil || len(file.Rows) != rapport.MaxImportRows {
		t.Errorf("%d rows: error %v; want them read", rapport.MaxImportRows, err)
	}
}

func TestReadCustomers(t *testing.T) {
	in := "name,kind,Stage,owner_email,likes,attributes.Region,attributes.policies,attributes.vip,attributes.note,email\n" +
		"Ada,organisation,Commitment,Ana@Harbour.example,\"Mornings\nPlain English\",north,3,true,\"\"\"42\"\"\",ada@example.com\n" +
		"Bo,robot,,,,,,,,not-an-email\n" +
		",,,,,,,,,\n"
	file, err := csvio.ReadCustomers(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	// Rows are numbered by the line they start on: Ada's likes take two.
	want := []string{"row 4, email: must be an email address like name@example.com", "row 4, kind: must be person or organisation"}
	if got := problems(file.Problems); !reflect.DeepEqual(got, want) {
		t.Errorf("problems =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	c := file.Rows[0].Customer
	wantAttrs := map[string]any{"Region": "north", "policies": 3.0, "vip": true, "note": "42"}
	if c.Kind != "organisation" || c.Stage != "commitment" || file.Rows[0].OwnerEmail != "ana@harbour.example" ||
		!reflect.DeepEqual(c.Preferences.Likes, []string{"Mornings", "Plain English"}) || !reflect.DeepEqual(c.Attributes, wantAttrs) {
		t.Errorf("first customer = %+v (owner %q)", c, file.Rows[0].OwnerEmail)
	}
	if file.Rows[1].Customer.Stage != rapport.StageAwareness {
		t.Errorf("an empty stage = %q; want the default, awareness", file.Rows[1].Customer.Stage)
	}
}

func TestDuplicateKeysInOneFile(t *testing.T) {
	in := "external_id,name\nx-1,Ada\nx-2,Bo\nx-1,Cy\n"
	file, err := csvio.ReadCustomers(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"row 4, external_id: is also in row 2; each row must have its own"}
	if got := problems(file.Problems); !reflect.DeepEqual(got, want) {
		t.Errorf("problems = %q; want %q", got, want)
	}
}

// TestFormulasAreGuarded checks that a cell a spreadsheet would run is
// written as text, and read back as it was.
func TestFormulasAreGuarded(t *testing.T) {
	nasty := []string{`=HYPERLINK("http://x.example","click")`, "+44 20 7946 0000", "-2+3", "@SUM(A1)", "'=already", "'plain", "'"}
	var buf bytes.Buffer
	w, err := csvio.NewCustomerWriter(&buf, []string{"note"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range nasty {
		w.Write(&rapport.CustomerRow{Customer: rapport.Customer{Name: s, Kind: "person", Stage: "awareness", Attributes: map[string]any{"note": s}}})
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n")[1:] {
		for _, cell := range strings.Split(line, ",") {
			cell = strings.TrimPrefix(cell, `"`)
			if cell != "" && strings.ContainsAny(cell[:1], "=+-@") {
				t.Errorf("a cell starts with %q: %s", cell[:1], line)
			}
		}
	}
	file, err := csvio.ReadCustomers(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range file.Rows {
		if r.Customer.Name != nasty[i] || r.Customer.Attributes["note"] != nasty[i] {
			t.Errorf("%q read back as name %q, note %q", nasty[i], r.Customer.Name, r.Customer.Attributes["note"])
		}
	}
}

func TestOutcomeSource(t *testing.T) {
	in := "customer_id,touchpoint,channel,occurred_at,rating,outcome,outcome_source\n" +
		"C,greeting,phone,2026-11-19,2,misery,rating\n" +
		"C,greeting,phone,2026-11-19,2,magic,given\n" +
		"C,greeting,phone,2026-11-19,,neutral,default\n" +
		"C,greeting,phone,2026-11-19,2,magic,rating\n" +
		"C,greeting,phone,2026-11-19,,misery,rating\n"
	file, err := csvio.ReadMoments(strings.NewReader(in), now)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"row 5, outcome: is magic, but the outcome_source says it comes from the rating, which makes it misery",
		"row 6, outcome_source: is rating, but the row has no rating",
	}
	if got := problems(file.Problems); !reflect.DeepEqual(got, want) {
		t.Errorf("problems =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i, want := range [][2]string{{"misery", "rating"}, {"magic", "given"}, {"neutral", "default"}} {
		m := file.Rows[i].Moment
		if string(m.Outcome) != want[0] || m.OutcomeSource != want[1] {
			t.Errorf("row %d: outcome %s from %s; want %s from %s", i+2, m.Outcome, m.OutcomeSource, want[0], want[1])
		}
	}
}

func TestParseTime(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Time
	}{
		{"2026-03-01T14:30:00Z", time.Date(2026, 3, 1, 14, 30, 0, 0, time.UTC)},
		{"2026-03-01T14:30:00.123456+02:00", time.Date(2026, 3, 1, 12, 30, 0, 123456000, time.UTC)},
		{"2026-03-01 14:30:00Z", time.Date(2026, 3, 1, 14, 30, 0, 0, time.UTC)},
		{"2026-03-01", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if got, err := csvio.ParseTime(tt.in); err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "2026-03-01T14:30:00", "01/03/2026", "yesterday"} {
		if _, err := csvio.ParseTime(in); err == nil {
			t.Errorf("ParseTime(%q) succeeded; want an error", in)
		}
	}
}
