package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
)

// send makes a request with a body of the given content type as role.
func (f *fixture) send(role rapport.Role, method, path, contentType, body string) (int, http.Header, string) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+f.tokens[role])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

// importSummary is the answer to an import.
type importSummary struct {
	Rows, Created, Skipped, Invalid int
	DryRun                          bool `json:"dry_run"`
	Errors                          []rapport.FieldError
}

func decodeSummary(t *testing.T, body string) importSummary {
	t.Helper()
	var s importSummary
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("answer is not an import summary: %v\n%s", err, body)
	}
	return s
}

func TestCSVImportAndExport(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			f := newFixture(t, b.Open)
			fill := strings.NewReplacer("{customer}", f.customer, "{staff}", f.staff).Replace
			good := fill("external_id,customer_id,touchpoint,channel,occurred_at,staff_email,rating,notes\n" +
				"call-1,{customer},complaint,phone,2026-11-19T10:00:00Z,ana@harbour.example,2,Card late\n" +
				"call-2,{customer},greeting,chat,2026-11-19,,5,\n")
			bad := fill("external_id,customer_id,touchpoint,channel,occurred_at,rating\n" +
				"call-3,{customer},complaint,phone,2026-11-19T10:00:00Z,3\n" +
				"call-4,{customer},teleport,phone,2026-11-19T10:00:00Z,7\n" +
				"call-5,NOPE,greeting,phone,2026-11-19T10:00:00Z,\n")

			// A bad row refuses the whole file, and the report names rows and columns.
			status, header, body := f.send(rapport.RoleAgent, "POST", "/api/v1/moments/import", "text/csv", bad)
			if status != 422 || header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("import of a bad file = %d %s; want 422 problem+json\n%s", status, header.Get("Content-Type"), body)
			}
			for _, want := range []string{`{"index":3,"field":"rating"`, `{"index":3,"field":"touchpoint"`, `{"index":4,"field":"customer_id"`, "2 of 3 rows are not valid; nothing was imported"} {
				if !strings.Contains(body, want) {
					t.Errorf("the report lacks %s\n%s", want, body)
				}
			}
			if n := f.countMoments(); n != 0 {
				t.Fatalf("a refused file recorded %d moments", n)
			}

			for _, tc := range []struct {
				name, role, ct, path string
				status               int
			}{
				{"JSON body", "agent", "application/json", "/api/v1/moments/import", 415},
				{"no content type", "agent", "", "/api/v1/moments/import", 415},
				{"viewer imports moments", "viewer", "text/csv", "/api/v1/moments/import", 403},
				{"viewer imports customers", "viewer", "text/csv", "/api/v1/customers/import", 403},
				{"bad option", "agent", "text/csv", "/api/v1/moments/import?dry_run=yes", 422},
			} {
				if status, _, body := f.send(rapport.Role(tc.role), "POST", tc.path, tc.ct, good); status != tc.status {
					t.Errorf("%s: %d; want %d\n%s", tc.name, status, tc.status, body)
				}
			}
			if n := f.countMoments(); n != 0 {
				t.Fatalf("refused requests recorded %d moments", n)
			}

			status, _, body = f.send(rapport.RoleAgent, "POST", "/api/v1/moments/import?dry_run=true", "text/csv", good)
			if s := decodeSummary(t, body); status != 200 || s.Created != 2 || !s.DryRun || f.countMoments() != 0 {
				t.Fatalf("dry run = %d %s with %d moments stored; want 200, 2 to create, none stored", status, body, f.countMoments())
			}
			status, _, body = f.send(rapport.RoleAgent, "POST", "/api/v1/moments/import", "text/csv; charset=utf-8", good)
			if s := decodeSummary(t, body); status != 201 || s.Rows != 2 || s.Created != 2 || s.Skipped != 0 || len(s.Errors) != 0 {
				t.Fatalf("import = %d %s; want 201 with 2 created", status, body)
			}
			status, _, body = f.send(rapport.RoleAgent, "POST", "/api/v1/moments/import", "text/csv", good)
			if s := decodeSummary(t, body); status != 200 || s.Created != 0 || s.Skipped != 2 || f.countMoments() != 2 {
				t.Fatalf("the same file again = %d %s, %d moments; want 200, 2 skipped, 2 moments", status, body, f.countMoments())
			}
			status, _, body = f.send(rapport.RoleAgent, "POST", "/api/v1/moments/import?skip_invalid=true", "text/csv", bad)
			if s := decodeSummary(t, body); status != 201 || s.Created != 1 || s.Invalid != 2 || len(s.Errors) != 3 {
				t.Fatalf("import leaving bad rows out = %d %s; want 201, 1 created, 2 invalid", status, body)
			}

			// Exports: what the filters select, as CSV that imports again.
			status, header, body = f.send(rapport.RoleViewer, "GET", fill("/api/v1/moments/export?customer_id={customer}&touchpoint=complaint"), "", "")
			if status != 200 || !strings.HasPrefix(header.Get("Content-Type"), "text/csv") ||
				!strings.HasPrefix(header.Get("Content-Disposition"), `attachment; filename="moments-2026-11-20.csv"`) {
				t.Fatalf("export = %d %v\n%s", status, header, body)
			}
			lines := strings.Split(strings.TrimSpace(body), "\n")
			if len(lines) != 3 || !strings.HasPrefix(lines[0], "id,external_id,customer_id,customer_external_id,touchpoint") ||
				!strings.Contains(body, "call-1") || strings.Contains(body, "call-2") {
				t.Errorf("export of complaints holds %d lines; want the header and 2 complaints\n%s", len(lines), body)
			}
			status, _, body = f.send(rapport.RoleViewer, "GET", "/api/v1/moments/export?channel=fax", "", "")
			if status != 422 || !strings.Contains(body, `"field":"channel"`) {
				t.Errorf("export with a bad filter = %d; want 422\n%s", status, body)
			}
			status, _, all := f.send(rapport.RoleViewer, "GET", "/api/v1/moments/export", "", "")
			status2, _, body := f.send(rapport.RoleAgent, "POST", "/api/v1/moments/import", "text/csv", all)
			if s := decodeSummary(t, body); status != 200 || status2 != 200 || s.Skipped != 3 || s.Created != 0 {
				t.Errorf("re-importing the export = %d %s; want 200 with all 3 skipped", status2, body)
			}

			customers := "external_id,name,email,owner_email,stage,attributes.region\n" +
				"pol-1,Ada Lovelace,ada@example.com,ana@harbour.example,commitment,north\n" +
				"pol-2,Bunter & Co,office@bunter.example,,exploration,\n"
			status, _, body = f.send(rapport.RoleAgent, "POST", "/api/v1/customers/import", "text/csv", customers)
			if s := decodeSummary(t, body); status != 201 || s.Created != 2 {
				t.Fatalf("customers import = %d %s; want 201 with 2 created", status, body)
			}
			status, header, body = f.send(rapport.RoleViewer, "GET", "/api/v1/customers/export?stage=commitment", "", "")
			if status != 200 || !strings.Contains(body, "attributes.region") || !strings.Contains(body, "Ada Lovelace") ||
				strings.Contains(body, "Bunter") || !strings.Contains(header.Get("Content-Disposition"), "customers-") {
				t.Errorf("customers export = %d\n%s", status, body)
			}
			status, _, body = f.send(rapport.RoleAgent, "POST", "/api/v1/customers/import", "text/csv", "name\n"+strings.Repeat("A\n", rapport.MaxImportRows+1))
			if status != 413 || !strings.Contains(body, "split it") {
				t.Errorf("a file over the row limit = %d; want 413\n%s", status, body)
			}
			// A column Rapport has no place for is kept as an attribute.
			status, _, body = f.send(rapport.RoleAgent, "POST", "/api/v1/customers/import", "text/csv", "external_id,name,favourite_colour\ncol-1,Ada,blue\n")
			if status != 201 {
				t.Fatalf("an extra column = %d; want 201\n%s", status, body)
			}
			status, _, body = f.send(rapport.RoleViewer, "GET", "/api/v1/customers/export?q=col-1", "", "")
			if status != 200 || !strings.Contains(body, "attributes.favourite_colour") || !strings.Contains(body, ",blue") {
				t.Errorf("the extra column after import = %d; want it as an attribute\n%s", status, body)
			}
			status, _, body = f.send(rapport.RoleAgent, "POST", "/api/v1/moments/import", "text/csv", "customer_id,touchpoint,channel,occurred_at,colour\n")
			if status != 422 || !strings.Contains(body, `{"index":1,"field":"colour","message":"is not a known column`) {
				t.Errorf("an unknown column of moments = %d; want 422 naming it against row 1\n%s", status, body)
			}
		})
	}
}

// TestCSVExportMovesToAFreshDatabase exports customers and moments over
// HTTP and imports them into another server: the moments come out the same.
func TestCSVExportMovesToAFreshDatabase(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			from := newFixture(t, b.Open)
			batch := `{"moments": [
				{"external_id": "call-1", "customer_id": "{customer}", "touchpoint": "complaint", "channel": "phone", "occurred_at": "2026-11-19T10:00:00Z", "rating": 2, "staff_id": "{staff}", "notes": "=cmd|' /C calc'!A0", "cost": 12.5},
				{"customer_id": "{customer}", "touchpoint": "greeting", "channel": "web", "occurred_at": "2026-11-18T09:00:00.123456Z", "outcome": "magic", "nps": 9},
				{"customer_id": "{customer}", "touchpoint": "query", "channel": "email", "occurred_at": "2026-11-17T09:00:00Z"}]}`
			if status, _, body := from.do(rapport.RoleAgent, "POST", "/api/v1/moments/batch", batch); status != 201 {
				t.Fatalf("batch = %d\n%s", status, body)
			}
			_, _, customers := from.send(rapport.RoleViewer, "GET", "/api/v1/customers/export", "", "")
			_, _, moments := from.send(rapport.RoleViewer, "GET", "/api/v1/moments/export", "", "")

			to := newFixture(t, b.Open)
			if status, _, body := to.send(rapport.RoleAgent, "POST", "/api/v1/customers/import", "text/csv", customers); status != 201 {
				t.Fatalf("importing the customers = %d\n%s\n%s", status, body, customers)
			}
			if status, _, body := to.send(rapport.RoleAgent, "POST", "/api/v1/moments/import", "text/csv", moments); status != 201 {
				t.Fatalf("importing the moments = %d\n%s\n%s", status, body, moments)
			}
			list := func(f *fixture) []*rapport.Moment {
				page, err := sqlstore.NewMomentService(f.db).FindMoments(context.Background(), rapport.MomentFilter{CustomerID: from.customer})
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range page.Items {
					m.ID = ""
				}
				return page.Items
			}
			got, want := list(to), list(from)
			if len(got) != len(want) {
				t.Fatalf("moments of the customer in the new database = %d; want %d", len(got), len(want))
			}
			for i := range want {
				w, g := *want[i], *got[i]
				w.RecordedAt = g.RecordedAt
				if w.StaffID != "" {
					w.StaffID = to.staff // the same person, found by email
				}
				wj, _ := json.Marshal(w)
				gj, _ := json.Marshal(g)
				if string(wj) != string(gj) {
					t.Errorf("moment moved as\n%s\nwant\n%s", gj, wj)
				}
			}
		})
	}
}
