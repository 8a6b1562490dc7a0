package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/importgen"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
)

// TestImportJobOverHTTP uploads a generated file with planted bad rows:
// the answer comes at once with the job, the job runs in the background to
// the end, and its error report lists exactly the planted rows.
func TestImportJobOverHTTP(t *testing.T) {
	for _, backend := range testdb.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			files := sqlstore.ImportFiles{Dir: t.TempDir(), MaxBytes: 200_000}
			f := newFixtureWith(t, backend.Open, sqlstore.Options{Imports: files})
			var customers strings.Builder
			customers.WriteString("external_id,name\n")
			ids := make([]string, 10)
			for i := range ids {
				ids[i] = fmt.Sprintf("up-%d", i)
				fmt.Fprintf(&customers, "%s,Customer %d\n", ids[i], i)
			}
			if status, _, body := f.send(rapport.RoleAgent, "POST", "/api/v1/customers/import", "text/csv", customers.String()); status != 201 {
				t.Fatalf("customers import = %d %s", status, body)
			}
			var file bytes.Buffer
			planted, err := importgen.Moments(&file, importgen.File{Rows: 1500, Customers: ids, BadEvery: 100, Start: now.Add(-48 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}

			status, header, body := f.send(rapport.RoleAgent, "POST", "/api/v1/imports/moments?file_name=history.csv", "text/csv", file.String())
			var job rapport.ImportJob
			if status != 202 || json.Unmarshal([]byte(body), &job) != nil || job.State != rapport.ImportQueued || header.Get("Location") != "/api/v1/imports/"+job.ID {
				t.Fatalf("upload = %d %v %s; want 202 with a queued job", status, header, body)
			}
			if err := sqlstore.NewImportServiceWith(f.db, files).RunImports(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
				t.Fatal(err)
			}
			status, _, body = f.send(rapport.RoleViewer, "GET", "/api/v1/imports/"+job.ID, "", "")
			if status != 200 || json.Unmarshal([]byte(body), &job) != nil {
				t.Fatalf("GET the job = %d %s", status, body)
			}
			if job.State != rapport.ImportDone || job.FileName != "history.csv" || job.RowsRead != 1500 || job.Stored != 1500-len(planted) || job.Rejected != len(planted) {
				t.Errorf("job = %s; want done, %d stored, %d rejected", body, 1500-len(planted), len(planted))
			}
			// The audit log names who uploaded the file, though a
			// background job stored it.
			if _, _, body := f.send(rapport.RoleAdmin, "GET", "/api/v1/audit?action=import", "", ""); !strings.Contains(body, `"actor":"token:`) ||
				!strings.Contains(body, `"created":{"before":null,"after":`+strconv.Itoa(job.Stored)+`}`) {
				t.Errorf("the audit log of the import = %s; want the agent's token as its actor, with the rows created", body)
			}
			status, _, body = f.send(rapport.RoleViewer, "GET", "/api/v1/imports/"+job.ID+"/errors", "", "")
			r := csv.NewReader(strings.NewReader(body))
			r.FieldsPerRecord = -1
			recs, err := r.ReadAll()
			if status != 200 || err != nil {
				t.Fatalf("GET the errors = %d, %v\n%s", status, err, body)
			}
			var lines []int
			for _, rec := range recs[1:] {
				n, _ := strconv.Atoi(rec[len(rec)-3])
				lines = append(lines, n)
			}
			if !slices.Equal(lines, planted) {
				t.Errorf("the error report lists lines %v; want the planted %v", lines, planted)
			}

			// The moments come out again as JSON lines, each as the API
			// writes the moment, with its customer's external id.
			status, header, body = f.send(rapport.RoleViewer, "GET", "/api/v1/moments/export?format=ndjson", "", "")
			jsonLines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
			if status != 200 || header.Get("Content-Type") != "application/x-ndjson" || len(jsonLines) != job.Stored {
				t.Fatalf("moments export as ndjson = %d %v, %d lines; want %d", status, header, len(jsonLines), job.Stored)
			}
			var line struct {
				rapport.Moment
				CustomerExternalID string `json:"customer_external_id"`
			}
			if err := json.Unmarshal([]byte(jsonLines[0]), &line); err != nil || !strings.HasPrefix(line.CustomerExternalID, "up-") {
				t.Fatalf("first line %s: %v", jsonLines[0], err)
			}
			_, _, one := f.send(rapport.RoleViewer, "GET", "/api/v1/moments/"+line.ID, "", "")
			var stored rapport.Moment
			if json.Unmarshal([]byte(one), &stored) != nil || !reflect.DeepEqual(stored, line.Moment) {
				t.Errorf("the line's moment = %+v; the API has %s", line.Moment, one)
			}
			if status, _, body := f.send(rapport.RoleViewer, "GET", "/api/v1/customers/export?format=ndjson&q=up-3", "", ""); status != 200 || strings.Count(body, "\n") != 1 || !strings.Contains(body, `"external_id":"up-3"`) {
				t.Errorf("customers export as ndjson = %d %s", status, body)
			}
			if status, _, _ := f.send(rapport.RoleViewer, "GET", "/api/v1/moments/export?format=xml", "", ""); status != 422 {
				t.Errorf("an unknown export format = %d; want 422", status)
			}

			if status, _, body := f.send(rapport.RoleAgent, "POST", "/api/v1/imports/"+job.ID+"/cancel", "", ""); status != 200 || !strings.Contains(body, `"state":"done"`) {
				t.Errorf("cancelling an ended job = %d %s; want it as it ended", status, body)
			}
			big := "name\n" + strings.Repeat("Ada\n", 60_000)
			if status, _, body := f.send(rapport.RoleAgent, "POST", "/api/v1/imports/customers", "text/csv", big); status != 413 || !strings.Contains(body, "larger than this server takes") {
				t.Errorf("a file over the limit = %d %s; want 413", status, body)
			}
			// A file whose first row is wrong fails, saying why.
			status, _, body = f.send(rapport.RoleAgent, "POST", "/api/v1/imports/moments", "text/csv", "customer_id,touchpoint,channel,occurred_at,colour\n1,2,3,4,5\n")
			var badHeader rapport.ImportJob
			if status != 202 || json.Unmarshal([]byte(body), &badHeader) != nil {
				t.Fatalf("upload of a file with an unknown column = %d %s", status, body)
			}
			if err := sqlstore.NewImportServiceWith(f.db, files).RunImports(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
				t.Fatal(err)
			}
			if _, _, body := f.send(rapport.RoleViewer, "GET", "/api/v1/imports/"+badHeader.ID, "", ""); !strings.Contains(body, `"state":"failed"`) || !strings.Contains(body, "colour: is not a known column") {
				t.Errorf("a job whose file has an unknown column = %s; want failed, naming it", body)
			}
			if status, _, body := f.send(rapport.RoleAgent, "POST", "/api/v1/imports/moments?delimiter=x", "text/csv", "a\n"); status != 422 || !strings.Contains(body, "delimiter") {
				t.Errorf("a bad delimiter = %d %s; want 422", status, body)
			}
			if status, _, _ := f.send(rapport.RoleViewer, "GET", "/api/v1/imports/nosuch", "", ""); status != 404 {
				t.Errorf("an unknown job = %d; want 404", status)
			}
		})
	}
}

// TestImportPromisesAndHoldingsOverHTTP uploads a file of promises and one
// of holdings: each becomes a job that stores the good rows and reports
// the bad, and sending them again stores nothing twice.
func TestImportPromisesAndHoldingsOverHTTP(t *testing.T) {
	for _, backend := range testdb.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			files := sqlstore.ImportFiles{Dir: t.TempDir()}
			f := newFixtureWith(t, backend.Open, sqlstore.Options{Imports: files})
			if status, _, body := f.send(rapport.RoleAgent, "POST", "/api/v1/customers/import", "text/csv", "external_id,name\nk-1,Kim\nk-2,Lee\n"); status != 201 {
				t.Fatalf("customers import = %d %s", status, body)
			}
			if status, _, body := f.send(rapport.RoleAdmin, "POST", "/api/v1/products", "application/json", `{"key":"savings","name":"Savings"}`); status != 201 {
				t.Fatalf("create product = %d %s", status, body)
			}
			due := now.Add(72 * time.Hour).Format(time.RFC3339)
			past := now.Add(-72 * time.Hour).Format(time.RFC3339)
			uploads := []struct {
				path, file     string
				stored, reject int
			}{
				{"/api/v1/imports/promises", "customer_external_id,text,due_at,status\nk-1,Call back," + due + ",\nk-2,Refund," + past + ",kept\nk-2,Late," + past + ",\n", 2, 1},
				{"/api/v1/imports/holdings", "customer_external_id,product,started_at,ended_at\nk-1,savings,2025-01-01,\nk-2,savings,2024-01-01,2025-01-01\nk-2,yacht,2025-01-01,\n", 2, 1},
			}
			for _, u := range uploads {
				if status, _, _ := f.send(rapport.RoleViewer, "POST", u.path, "text/csv", u.file); status != 403 {
					t.Errorf("a viewer uploading to %s = %d; want 403", u.path, status)
				}
				if status, _, body := f.send(rapport.RoleAgent, "POST", u.path+"?key=text", "text/csv", u.file); status != 422 || !strings.Contains(body, "key") {
					t.Errorf("key columns for %s = %d %s; want 422", u.path, status, body)
				}
				for run, want := range []int{u.stored, 0} {
					status, _, body := f.send(rapport.RoleAgent, "POST", u.path, "text/csv", u.file)
					var job rapport.ImportJob
					if status != 202 || json.Unmarshal([]byte(body), &job) != nil {
						t.Fatalf("upload to %s = %d %s", u.path, status, body)
					}
					if err := sqlstore.NewImportServiceWith(f.db, files).RunImports(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
						t.Fatal(err)
					}
					_, _, body = f.send(rapport.RoleViewer, "GET", "/api/v1/imports/"+job.ID, "", "")
					if json.Unmarshal([]byte(body), &job) != nil || job.State != rapport.ImportDone || job.Stored != want || job.Skipped != u.stored-want || job.Rejected != u.reject {
						t.Errorf("%s, run %d = %s; want %d stored, %d skipped, %d rejected", u.path, run+1, body, want, u.stored-want, u.reject)
					}
				}
			}
			if _, _, body := f.send(rapport.RoleViewer, "GET", "/api/v1/promises?status=kept", "", ""); strings.Count(body, `"text":"Refund"`) != 1 {
				t.Errorf("kept promises = %s; want the refund once", body)
			}

			// A saved mapping reads a file from another system by its own
			// column names and delimiter.
			status, _, body := f.send(rapport.RoleAgent, "POST", "/api/v1/imports/mappings", "application/json",
				`{"kind":"holdings","name":"Bank","map":{"Client":"customer_external_id","Since":"started_at"},"delimiter":";"}`)
			var m rapport.ImportMapping
			if status != 200 || json.Unmarshal([]byte(body), &m) != nil || m.ID == "" {
				t.Fatalf("save a mapping = %d %s", status, body)
			}
			if status, _, body := f.send(rapport.RoleViewer, "GET", "/api/v1/imports/mappings?kind=holdings", "", ""); status != 200 || !strings.Contains(body, `"name":"Bank"`) {
				t.Errorf("list the mappings = %d %s", status, body)
			}
			if status, _, body := f.send(rapport.RoleAgent, "POST", "/api/v1/imports/promises?mapping="+m.ID, "text/csv", "a\n"); status != 422 || !strings.Contains(body, "is a mapping of holdings") {
				t.Errorf("a holdings mapping for promises = %d %s; want 422", status, body)
			}
			status, _, body = f.send(rapport.RoleAgent, "POST", "/api/v1/imports/holdings?mapping="+m.ID, "text/csv", "Client;product;Since\nk-2;savings;2025-06-01\n")
			var job rapport.ImportJob
			if status != 202 || json.Unmarshal([]byte(body), &job) != nil {
				t.Fatalf("upload with a mapping = %d %s", status, body)
			}
			if err := sqlstore.NewImportServiceWith(f.db, files).RunImports(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
				t.Fatal(err)
			}
			if _, _, body := f.send(rapport.RoleViewer, "GET", "/api/v1/imports/"+job.ID, "", ""); !strings.Contains(body, `"stored":1`) {
				t.Errorf("the job read with the mapping = %s; want its row stored", body)
			}
			if status, _, _ := f.send(rapport.RoleAgent, "DELETE", "/api/v1/imports/mappings/"+m.ID, "", ""); status != 204 {
				t.Errorf("delete the mapping = %d; want 204", status)
			}
		})
	}
}
