package sqlstore_test

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/csvio"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
)

// importMoments reads a moments file and imports it.
func importMoments(t *testing.T, s *store, file string, opt rapport.ImportOptions) (*rapport.ImportResult, error) {
	t.Helper()
	f, err := csvio.ReadMoments(strings.NewReader(file), s.clock.Now())
	if err != nil {
		t.Fatalf("ReadMoments = %v", err)
	}
	return sqlstore.NewImportService(s.db).ImportMoments(context.Background(), f, opt)
}

func importCustomers(t *testing.T, s *store, file string, opt rapport.ImportOptions) (*rapport.ImportResult, error) {
	t.Helper()
	f, err := csvio.ReadCustomers(strings.NewReader(file))
	if err != nil {
		t.Fatalf("ReadCustomers = %v", err)
	}
	return sqlstore.NewImportService(s.db).ImportCustomers(context.Background(), f, opt)
}

// rowProblems lists an error's fields as "row N, column".
func rowProblems(err error) []string {
	var out []string
	for _, f := range rapport.ErrorFields(err) {
		out = append(out, fmt.Sprintf("row %d, %s", *f.Index, f.Field))
	}
	return out
}

func TestImportMomentsBadRowWritesNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ana := s.user(t, "Ana Agent")
		s.customer(t, &rapport.Customer{Name: "Grace", ExternalID: "c-1"})
		other := s.customer(t, &rapport.Customer{Name: "Other", ExternalID: "c-2"})
		file := "external_id,customer_external_id,customer_id,touchpoint,channel,occurred_at,staff_email,rating\n" +
			"m-1,c-1,,greeting,phone,2026-03-01T10:00:00Z,ana.agent@firm.example,5\n" +
			"m-2,c-404,,greeting,phone,2026-03-01T10:00:00Z,,4\n" +
			"m-3,c-1,,teleport,phone,2026-03-01T10:00:00Z,bob@firm.example,9\n" +
			"m-4,c-1," + other.ID + ",greeting,phone,2026-03-01T10:00:00Z,,\n"
		_, err := importMoments(t, s, file, rapport.ImportOptions{})
		want := []string{"row 3, customer_external_id", "row 4, rating", "row 4, staff_email", "row 4, touchpoint", "row 5, customer_id"}
		if rapport.ErrorCode(err) != rapport.EINVALID || !reflect.DeepEqual(rowProblems(err), want) {
			t.Fatalf("import = %v %q; want EINVALID naming %q", err, rowProblems(err), want)
		}
		if !strings.Contains(rapport.ErrorMessage(err), "3 of 4 rows are not valid; nothing was imported") {
			t.Errorf("message = %q", rapport.ErrorMessage(err))
		}
		if n := s.count(t, "moments", ""); n != 0 {
			t.Fatalf("a refused file wrote %d moments; want 0", n)
		}

		// Leaving the bad rows out imports the good one, and lists the rest.
		res, err := importMoments(t, s, file, rapport.ImportOptions{SkipInvalid: true})
		if err != nil || res.Created != 1 || res.Invalid != 3 || len(res.Errors) != 5 {
			t.Fatalf("import leaving bad rows out = %+v, %v; want 1 created, 3 invalid, 5 errors", res, err)
		}
		var staff string
		s.raw.QueryRow(`SELECT staff_id FROM moments WHERE external_id = 'm-1'`).Scan(&staff)
		if staff != ana.ID {
			t.Errorf("staff_email found staff %q; want %q", staff, ana.ID)
		}
	})
}

func TestImportMomentsTwiceCreatesNothingNew(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		c := s.customer(t, &rapport.Customer{Name: "Grace", ExternalID: "c-1"})
		var file strings.Builder
		file.WriteString("external_id,customer_id,touchpoint,channel,occurred_at,rating\n")
		const n = 2*rapport.ImportChunk + 500 // three transactions
		for i := range n {
			fmt.Fprintf(&file, "m-%d,%s,query,email,2026-03-01T10:%02d:00Z,%d\n", i, c.ID, i%60, 1+i%5)
		}
		dry, err := importMoments(t, s, file.String(), rapport.ImportOptions{DryRun: true})
		if err != nil || dry.Created != n || !dry.DryRun || s.count(t, "moments", "") != 0 {
			t.Fatalf("dry run = %+v, %v, %d moments stored; want %d to create and none stored", dry, err, s.count(t, "moments", ""), n)
		}
		first, err := importMoments(t, s, file.String(), rapport.ImportOptions{})
		if err != nil || first.Rows != n || first.Created != n || first.Skipped != 0 {
			t.Fatalf("first import = %+v, %v; want %d created", first, err, n)
		}
		again, err := importMoments(t, s, file.String(), rapport.ImportOptions{})
		if err != nil || again.Created != 0 || again.Skipped != n {
			t.Fatalf("second import = %+v, %v; want all %d skipped", again, err, n)
		}
		if got := s.count(t, "moments", ""); got != n {
			t.Errorf("moments stored = %d; want %d", got, n)
		}
		// The running totals saw every imported moment once.
		var total int
		s.raw.QueryRow(`SELECT COALESCE(SUM(moments), 0) FROM moment_stats`).Scan(&total)
		if total != n {
			t.Errorf("moment_stats count %d moments; want %d", total, n)
		}
	})
}

func TestImportCustomers(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ana := s.user(t, "Ana Agent")
		s.customer(t, &rapport.Customer{Name: "Already Here", ExternalID: "x-0"})
		referrer, referred := rapport.NewID(s.clock.Now()), rapport.NewID(s.clock.Now())
		// The referred customer comes first, as in an export (newest first).
		file := "id,external_id,name,owner_email,referred_by,stage,attributes.region,likes\n" +
			referred + ",x-2,Bo,ana.agent@firm.example," + referrer + ",exploration,south,\n" +
			referrer + ",x-1,Ada,,,commitment,north,\"Mornings\nTea\"\n" +
			",x-0,Already Here,,,,,\n"
		res, err := importCustomers(t, s, file, rapport.ImportOptions{})
		if err != nil || res.Created != 2 || res.Skipped != 1 {
			t.Fatalf("import = %+v, %v; want 2 created, 1 skipped", res, err)
		}
		bo, err := s.customers.FindCustomerByID(context.Background(), referred)
		if err != nil {
			t.Fatalf("the customer was not kept under the id of the file: %v", err)
		}
		if bo.ReferredBy != referrer || bo.OwnerID != ana.ID || bo.Stage != rapport.StageExploration || bo.Attributes["region"] != "south" {
			t.Errorf("imported customer = %s", show(bo))
		}
		if n := s.count(t, "stage_changes", "customer_id = '"+referred+"'"); n != 1 {
			t.Errorf("stage changes of an imported customer = %d; want 1", n)
		}
		if n := s.count(t, "customer_measures", "customer_id = '"+referred+"'"); n != 1 {
			t.Errorf("measures of an imported customer = %d; want 1", n)
		}
		again, err := importCustomers(t, s, file, rapport.ImportOptions{})
		if err != nil || again.Created != 0 || again.Skipped != 3 {
			t.Errorf("second import = %+v, %v; want all 3 skipped", again, err)
		}

		a, b := rapport.NewID(s.clock.Now()), rapport.NewID(s.clock.Now())
		loop := "id,name,referred_by,owner_id\n" + a + ",A," + b + ",\n" + b + ",B," + a + ",\n,C,,NOBODY\n"
		_, err = importCustomers(t, s, loop, rapport.ImportOptions{})
		want := []string{"row 2, referred_by", "row 3, referred_by", "row 4, owner_id"}
		if !reflect.DeepEqual(rowProblems(err), want) {
			t.Errorf("import of a referral loop = %v %q; want %q", err, rowProblems(err), want)
		}
	})
}

// TestExportReimportsIntoAFreshDatabase moves customers and moments to a
// new database through their exports, where the staff have other ids.
func TestExportReimportsIntoAFreshDatabase(t *testing.T) {
	eachBackend(t, func(t *testing.T, from *store) {
		ctx := context.Background()
		ana := from.user(t, "Ana Agent")
		ada := from.customer(t, &rapport.Customer{Name: "Ada", ExternalID: "x-1", OwnerID: ana.ID, Stage: rapport.StageCommitment,
			Attributes: map[string]any{"region": "north", "policies": 3.0, "note": "=1+1"}, Preferences: rapport.Preferences{Likes: []string{"Tea"}}})
		bo := from.customer(t, &rapport.Customer{Name: "Bo, the second", Kind: rapport.KindOrganisation, ReferredBy: ada.ID, Phone: "+44 20 7946 0000"})
		tests := []*rapport.Moment{
			{ExternalID: "m-1", CustomerID: ada.ID, Touchpoint: "complaint", Channel: rapport.ChannelPhone, OccurredAt: epoch.Add(-time.Hour), StaffID: ana.ID, Rating: ptr(2), Notes: "Late, \"again\"\nand again", Revenue: -12.5, Cost: 3},
			{CustomerID: bo.ID, Touchpoint: "greeting", Channel: rapport.ChannelWeb, OccurredAt: epoch.Add(-2 * time.Hour), Outcome: rapport.OutcomeMagic, NPS: ptr(10), Effort: ptr(1)},
			{CustomerID: bo.ID, Touchpoint: "query", Channel: rapport.ChannelEmail, OccurredAt: epoch.Add(-3*time.Hour + time.Microsecond)},
		}
		if _, err := from.moments.RecordMoments(ctx, tests); err != nil {
			t.Fatal(err)
		}
		exports := sqlstore.NewImportService(from.db)
		var customersCSV, momentsCSV bytes.Buffer
		keys, err := exports.CustomerAttributeKeys(ctx, rapport.CustomerFilter{})
		if err != nil || !reflect.DeepEqual(keys, []string{"note", "policies", "region"}) {
			t.Fatalf("attribute keys = %q, %v", keys, err)
		}
		cw, _ := csvio.NewCustomerWriter(&customersCSV, keys)
		if err := exports.ExportCustomers(ctx, rapport.CustomerFilter{}, cw.Write); err != nil || cw.Flush() != nil {
			t.Fatal(err)
		}
		mw, _ := csvio.NewMomentWriter(&momentsCSV)
		if err := exports.ExportMoments(ctx, rapport.MomentFilter{}, mw.Write); err != nil || mw.Flush() != nil {
			t.Fatal(err)
		}

		to := &store{backend: from.backend, clock: from.clock}
		to.dsn = fresh(t, from.backend)
		to.open(t)
		to.user(t, "Someone Else")
		ana2 := to.user(t, "Ana Agent")
		if res, err := importCustomers(t, to, customersCSV.String(), rapport.ImportOptions{}); err != nil || res.Created != 2 {
			t.Fatalf("importing the customers export = %+v, %v\n%s", res, err, customersCSV.String())
		}
		if res, err := importMoments(t, to, momentsCSV.String(), rapport.ImportOptions{}); err != nil || res.Created != 3 {
			t.Fatalf("importing the moments export = %+v, %v\n%s", res, err, momentsCSV.String())
		}
		for _, c := range []*rapport.Customer{ada, bo} {
			got, err := to.customers.FindCustomerByID(ctx, c.ID)
			if err != nil {
				t.Fatalf("customer %s: %v", c.Name, err)
			}
			want := *c
			if want.OwnerID != "" {
				want.OwnerID = ana2.ID
			}
			want.CreatedAt, want.UpdatedAt = got.CreatedAt, got.UpdatedAt
			if show(got) != show(want) {
				t.Errorf("customer moved as\n%s\nwant\n%s", show(got), show(want))
			}
		}
		page, err := to.moments.FindMoments(ctx, rapport.MomentFilter{})
		if err != nil || len(page.Items) != len(tests) {
			t.Fatalf("moments in the new database: %d, %v", len(page.Items), err)
		}
		for i, got := range page.Items {
			want := *tests[i]
			if want.StaffID != "" {
				want.StaffID = ana2.ID
			}
			want.ID, want.RecordedAt = got.ID, got.RecordedAt
			if show(got) != show(want) {
				t.Errorf("moment moved as\n%s\nwant\n%s", show(got), show(want))
			}
		}
	})
}

// fresh returns the address of another new database on the same backend.
func fresh(t *testing.T, backend string) string {
	t.Helper()
	for _, b := range testdb.Backends() {
		if b.Name == backend {
			return b.DSN(t)
		}
	}
	t.Fatalf("no backend %q", backend)
	return ""
}

// TestImportKeepsAGivenOutcome imports moments whose outcome says something
// other than their rating would: one from a file's outcome column, one
// handed to the import service with no word on where its outcome came
// from. Both keep the outcome given; a row whose outcome came from its
// rating takes it from the rating again.
func TestImportKeepsAGivenOutcome(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		c := s.customer(t, &rapport.Customer{Name: "Grace", ExternalID: "c-1"})
		file := "external_id,customer_id,touchpoint,channel,occurred_at,rating,outcome,outcome_source\n" +
			"m-file,c-1,query,email,2026-03-01T10:00:00Z,4,misery,\n" +
			"m-rated,c-1,query,email,2026-03-01T11:00:00Z,5,,rating\n"
		file = strings.ReplaceAll(file, ",c-1,", ","+c.ID+",")
		if _, err := importMoments(t, s, file, rapport.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		direct := &rapport.MomentFile{Rows: []rapport.MomentRow{{Row: 2, CustomerExternalID: "c-1", Moment: rapport.Moment{
			ExternalID: "m-direct", Touchpoint: "query", Channel: rapport.ChannelEmail, OccurredAt: s.clock.Now().Add(-time.Hour),
			Rating: ptr(4), Outcome: rapport.OutcomeMisery}}}}
		if _, err := sqlstore.NewImportService(s.db).ImportMoments(context.Background(), direct, rapport.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		for ext, want := range map[string]string{"m-file": "misery", "m-direct": "misery", "m-rated": "magic"} {
			var got string
			if err := s.raw.QueryRow(`SELECT outcome FROM moments WHERE external_id = $1`, ext).Scan(&got); err != nil {
				t.Fatalf("%s: %v", ext, err)
			}
			if got != want {
				t.Errorf("%s stored as %s; want %s", ext, got, want)
			}
		}
	})
}
