package csvio_test

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/csvio"
)

// checkRefusal fails unless a file that could not be read was refused as
// invalid or too large.
func checkRefusal(t *testing.T, read, in string, err error) {
	t.Helper()
	if c := rapport.ErrorCode(err); c != rapport.EINVALID && c != rapport.ETOOLARGE {
		t.Fatalf("%s(%q) = %v; want a problem report, EINVALID or ETOOLARGE", read, in, err)
	}
}

// checkProblems fails unless every problem reported names its row and says
// what is wrong.
func checkProblems(t *testing.T, read, in string, problems []rapport.FieldError) {
	t.Helper()
	for _, p := range problems {
		if p.Index == nil || *p.Index < 1 || p.Message == "" {
			t.Fatalf("%s(%q): problem %+v has no row or message", read, in, p)
		}
	}
}

// goodRows returns the rows of a file that have no problem.
func goodRows[T any](rows []T, row func(T) int, problems []rapport.FieldError) []T {
	bad := map[int]bool{}
	for _, p := range problems {
		if p.Index != nil {
			bad[*p.Index] = true
		}
	}
	var out []T
	for _, r := range rows {
		if !bad[row(r)] {
			out = append(out, r)
		}
	}
	return out
}

// FuzzReadMoments feeds arbitrary files to ReadMoments: it never panics,
// every row it accepts passes the domain's rules, and writing the accepted
// rows and reading them again gives the same values.
func FuzzReadMoments(f *testing.F) {
	for _, seed := range []string{
		"customer_id,touchpoint,channel,occurred_at,rating\nC1,greeting,phone,2026-11-19T10:00:00Z,5\n",
		"\ufeffexternal_id,customer_external_id,touchpoint,channel,occurred_at,staff_email,response,rating,effort,nps,outcome,outcome_source,notes,revenue,cost\n" +
			"call-1,c-9,complaint,Email,2026-11-19,Ana@X.example,call_back,2,5,3,,rating,\"Late, again\n\"\"twice\"\"\",-12.5,3e2\n",
		"id,customer_id,touchpoint,channel,occurred_at,outcome,notes\n01ARZ3NDEKTSV4RRFFQ69G5FAV,C,offer,web,2026-11-19 10:00:00+01:00,MAGIC,=1+1\n",
		"customer_id,touchpoint,channel,occurred_at\nC,greeting,phone,2999-01-01\n,,,\nC,\"bad\"quote,phone,2026-01-01\n",
		"customer_id,touchpoint,channel,occurred_at,nps,cost\nC,greeting,phone,1969-12-31,11,-1\n",
		"touchpoint\n", "", "\n\n", "a,b,a\n", "customer_id,touchpoint,channel,occurred_at,notes\nC,g,phone,2026-01-01,\x00\xff\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		file, err := csvio.ReadMoments(strings.NewReader(in), now)
		if err != nil {
			checkRefusal(t, "ReadMoments", in, err)
			return
		}
		checkProblems(t, "ReadMoments", in, file.Problems)
		good := goodRows(file.Rows, func(r rapport.MomentRow) int { return r.Row }, file.Problems)
		for _, r := range good {
			m := r.Moment
			if m.CustomerID == "" {
				m.CustomerID = "by-external-id"
			}
			if m.OutcomeSource != rapport.OutcomeGiven {
				m.Outcome = "" // derived again, as the store does
			}
			if fields := m.Validate(now, -1); len(fields) > 0 {
				t.Fatalf("ReadMoments(%q) accepted row %d, which the domain refuses: %+v", in, r.Row, fields)
			}
			if m.Outcome != r.Moment.Outcome || m.OutcomeSource != r.Moment.OutcomeSource {
				t.Fatalf("row %d: outcome %s from %s, but it derives as %s from %s", r.Row, r.Moment.Outcome, r.Moment.OutcomeSource, m.Outcome, m.OutcomeSource)
			}
		}
		if len(good) == 0 {
			return
		}
		var buf bytes.Buffer
		w, err := csvio.NewMomentWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		for i := range good {
			if err := w.Write(&good[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		again, err := csvio.ReadMoments(bytes.NewReader(buf.Bytes()), now)
		if err != nil || len(again.Problems) > 0 {
			t.Fatalf("reading what was written: %v %+v\n%s", err, again.Problems, buf.String())
		}
		if len(again.Rows) != len(good) {
			t.Fatalf("wrote %d rows, read back %d\n%s", len(good), len(again.Rows), buf.String())
		}
		for i := range good {
			a, b := good[i], again.Rows[i]
			a.Row, b.Row = 0, 0
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("row read back differs:\nwrote %+v\nread  %+v\n%s", a, b, buf.String())
			}
		}
	})
}

// FuzzReadCustomers does for customers files what FuzzReadMoments does for
// moments files, attributes included.
func FuzzReadCustomers(f *testing.F) {
	for _, seed := range []string{
		"name,email\nAda,ada@example.com\n",
		"id,external_id,kind,name,email,phone,owner_id,owner_email,referred_by,stage,likes,dislikes,attributes.region,attributes.n,attributes.doc\n" +
			"01ARZ3NDEKTSV4RRFFQ69G5FAV,x-1,Organisation,Bunter & Co,,+44 20,U1,Ana@x.example,01ARZ3NDEKTSV4RRFFQ69G5FAW,Expansion,\"a\nb\",,north,-3.5,\"{\"\"k\"\": [1, \"\"2\"\"]}\"\n",
		"name,attributes.Region,attributes.region,attributes.\nA,1,2,3\n",
		"name,attributes.s\nA,\"\"\"\"\"\"\nB,\"  x \"\nC,'=x\nD,true\nE,1e400\n",
		"name,stage,kind\n,nowhere,thing\n", "NAME\n\n", "name\n\"unterminated\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		file, err := csvio.ReadCustomers(strings.NewReader(in))
		if err != nil {
			checkRefusal(t, "ReadCustomers", in, err)
			return
		}
		checkProblems(t, "ReadCustomers", in, file.Problems)
		good := goodRows(file.Rows, func(r rapport.CustomerRow) int { return r.Row }, file.Problems)
		keys := map[string]bool{}
		for _, r := range good {
			c := r.Customer
			if err := c.Validate(); err != nil {
				t.Fatalf("ReadCustomers(%q) accepted row %d, which the domain refuses: %v", in, r.Row, err)
			}
			for k := range c.Attributes {
				keys[k] = true
			}
		}
		if len(good) == 0 {
			return
		}
		var sorted []string
		for k := range keys {
			sorted = append(sorted, k)
		}
		slices.Sort(sorted)
		var buf bytes.Buffer
		w, err := csvio.NewCustomerWriter(&buf, sorted)
		if err != nil {
			t.Fatal(err)
		}
		for i := range good {
			if err := w.Write(&good[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		again, err := csvio.ReadCustomers(bytes.NewReader(buf.Bytes()))
		if err != nil || len(again.Problems) > 0 {
			t.Fatalf("reading what was written: %v %+v\n%s", err, again.Problems, buf.String())
		}
		if len(again.Rows) != len(good) {
			t.Fatalf("wrote %d rows, read back %d\n%s", len(good), len(again.Rows), buf.String())
		}
		for i := range good {
			a, b := good[i], again.Rows[i]
			a.Row, b.Row = 0, 0
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("row read back differs:\nwrote %+v\nread  %+v\n%s", a, b, buf.String())
			}
		}
	})
}

// FuzzReadStageChanges checks that a stage-changes file of any content is
// either refused whole or read into rows of which every good one carries a
// time and passes the domain's rules.
func FuzzReadStageChanges(f *testing.F) {
	for _, seed := range []string{
		"customer_external_id,stage,reason,dissolution_reason,changed_at\npol-1,dissolution,left,defected,2025-06-01\n",
		"customer_id,stage,reason,changed_at\nC1,Exploration,first policy,2024-03-01T10:00:00+02:00\nC1,dissolution,gone,2024-04-01\n",
		"stage,reason\nawareness,x\n", "customer_id,stage,reason,changed_at\n,,,\n", "CHANGED_AT\n\"x\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		file, err := csvio.ReadStageChanges(strings.NewReader(in))
		if err != nil {
			checkRefusal(t, "ReadStageChanges", in, err)
			return
		}
		checkProblems(t, "ReadStageChanges", in, file.Problems)
		for _, r := range goodRows(file.Rows, func(r rapport.StageChangeRow) int { return r.Row }, file.Problems) {
			change := r.Change
			if change.ChangedAt == nil || (r.CustomerID == "" && r.CustomerExternalID == "") {
				t.Fatalf("ReadStageChanges(%q) accepted row %d without a time or a customer: %+v", in, r.Row, r)
			}
			if err := change.Validate(); err != nil {
				t.Fatalf("ReadStageChanges(%q) accepted row %d, which the domain refuses: %v", in, r.Row, err)
			}
		}
	})
}
