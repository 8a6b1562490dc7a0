package web_test

import (
	"bytes"
	"encoding/csv"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
)

// upload posts a file to an import page as the browser does: multipart,
// with the form's fields and the CSRF token of the page at from unless csrf
// is false.
func (c *client) upload(from, path, file string, fields map[string]string, csrf bool) (*http.Response, string) {
	c.t.Helper()
	_, page := c.get(from)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if csrf {
		mw.WriteField("csrf_token", csrfIn(page))
	}
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "moments.csv")
	io.WriteString(fw, file)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, c.base+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp := c.do(req)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// imported follows an upload to its job's page and waits for the job to
// end, returning the page then.
func (c *client) imported(resp *http.Response) (string, string) {
	c.t.Helper()
	job := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(job, "/imports/") {
		c.t.Fatalf("upload = %d to %q; want 303 to the job's page", resp.StatusCode, job)
	}
	for range 200 {
		if _, page := c.get(job); !strings.Contains(page, "hx-trigger=") {
			return job, page
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("the import at %s did not end", job)
	return "", ""
}

func TestImportPage(t *testing.T) {
	f := newFixture(t)
	agent, viewer := f.signedIn(t, rapport.RoleAgent), f.signedIn(t, rapport.RoleViewer)
	harriet := f.customers["Harriet Vane"].ID

	_, list := agent.get("/customers")
	if !strings.Contains(list, `href="/customers/import"`) || !strings.Contains(list, `href="/customers/export"`) {
		t.Error("the customer list offers an agent no Import CSV and Export CSV")
	}
	_, list = viewer.get("/customers")
	if strings.Contains(list, "/customers/import") || !strings.Contains(list, "/customers/export") {
		t.Error("the customer list shows a viewer import controls, or no export")
	}
	if _, page := agent.get("/moments/new"); !strings.Contains(page, `href="/moments/import"`) {
		t.Error("the quick entry has no link to import moments")
	}
	if _, page := agent.get("/customers/" + harriet); !strings.Contains(page, `href="/moments/export?customer_id=`+harriet+`"`) {
		t.Error("the customer page has no Export CSV of the timeline")
	}
	for _, path := range []string{"/moments/import", "/customers/import"} {
		if resp, _ := viewer.get(path); resp.StatusCode != http.StatusForbidden {
			t.Errorf("viewer GET %s = %d; want 403", path, resp.StatusCode)
		}
	}

	before := f.momentCount(t, harriet)
	bad := "external_id,customer_id,touchpoint,channel,occurred_at,rating\n" +
		"w-1," + harriet + ",complaint,phone,2026-03-01T10:00:00Z,2\n" +
		"w-2," + harriet + ",greeting,phone,2026-03-01T10:00:00Z,9\n" +
		"w-3,nobody,greeting,phone,2026-03-01T10:00:00Z,\n"
	job, page := agent.imported(must303(agent.upload("/moments/import", "/moments/import", bad, map[string]string{"strict": "true"}, true)))
	if !strings.Contains(page, "2 of 3 rows are not valid; nothing was imported.") || f.momentCount(t, harriet) != before {
		t.Fatalf("a strict import of a bad file: %d moments added; page\n%s", f.momentCount(t, harriet)-before, page)
	}
	wantReport := "external_id,customer_id,touchpoint,channel,occurred_at,rating,import_line,import_problem,import_raw\n" +
		"w-2," + harriet + ",greeting,phone,2026-03-01T10:00:00Z,9,3,rating: must be from 1 to 5,\n" +
		`w-3,nobody,greeting,phone,2026-03-01T10:00:00Z,,4,"customer_id: no customer has the id ""nobody""",` + "\n"
	if resp, report := agent.get(job + "/errors"); resp.StatusCode != http.StatusOK || report != wantReport {
		t.Errorf("the error report = %d\n%s\nwant\n%s", resp.StatusCode, report, wantReport)
	}
	_, page = agent.imported(must303(agent.upload("/moments/import", "/moments/import", bad, nil, true)))
	if !strings.Contains(page, "1 of 3 rows added; 0 stored already, 2 not valid and left out.") || !strings.Contains(page, "/errors") ||
		f.momentCount(t, harriet) != before+1 {
		t.Fatalf("an import of a bad file: %d moments added; page\n%s", f.momentCount(t, harriet)-before, page)
	}

	resp, _ := viewer.upload("/customers", "/moments/import", bad, nil, true)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer upload = %d; want 403", resp.StatusCode)
	}
	good := "external_id,customer_id,touchpoint,channel,occurred_at,rating\n" +
		"w-1," + harriet + ",complaint,phone,2026-03-01T10:00:00Z,2\n" +
		"w-2," + harriet + ",greeting,phone,2026-03-01T10:00:00Z,5\n"
	if resp, _ := agent.upload("/moments/import", "/moments/import", good, nil, false); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an upload without the CSRF token = %d; want 403", resp.StatusCode)
	}
	_, page = agent.imported(must303(agent.upload("/moments/import", "/moments/import", good, map[string]string{"dry_run": "true"}, true)))
	if !strings.Contains(page, "Nothing was written: 1 of 2 rows would be added; 1 stored already.") || f.momentCount(t, harriet) != before+1 {
		t.Errorf("a dry run: %d moments added; page\n%s", f.momentCount(t, harriet)-before-1, page)
	}
	_, page = agent.imported(must303(agent.upload("/moments/import", "/moments/import", good, nil, true)))
	if !strings.Contains(page, "1 of 2 rows added; 1 stored already.") || f.momentCount(t, harriet) != before+2 {
		t.Errorf("an import: %d moments added\n%s", f.momentCount(t, harriet)-before, page)
	}
	// A file from elsewhere: semicolons, other column names, day-first dates.
	other := "Ref;Client;Moment;Via;When;Score\r\nw-9;" + harriet + ";greeting;phone;01/03/2026 10:00;4\r\n"
	_, page = agent.imported(must303(agent.upload("/moments/import", "/moments/import", other, map[string]string{
		"map": "Ref=external_id\r\nClient=customer_id\r\nMoment=touchpoint\r\nVia=channel\r\nWhen=occurred_at\r\nScore=rating", "date_format": "DD/MM/YYYY hh:mm"}, true)))
	if !strings.Contains(page, "1 of 1 rows added") || f.momentCount(t, harriet) != before+3 {
		t.Errorf("a file with its own column names and dates: %d moments added\n%s", f.momentCount(t, harriet)-before, page)
	}

	resp, body := agent.get("/moments/export?customer_id=" + harriet)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), `filename="moments-harriet-vane-2026-03-04.csv"`) {
		t.Fatalf("export = %d %v", resp.StatusCode, resp.Header)
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) != 1+before+3 {
		t.Errorf("the timeline's export has %d rows (%v); want a header and %d moments", len(rows), err, before+3)
	}
	resp, body = viewer.get("/customers/export?q=vane")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "Name,Kind,Email,Stage,Owner,Health,Risk,Last moment,Id\n") ||
		!strings.Contains(body, "Harriet Vane") || strings.Contains(body, "Peter Wimsey") {
		t.Errorf("customers export = %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := viewer.get("/customers/export?sort=height"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an export in an order the list does not know = %d; want 400", resp.StatusCode)
	}

	if resp, page := agent.upload("/customers/import", "/customers/import", "name\nAda\n", map[string]string{"map": "nonsense"}, true); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "FROM=TO") {
		t.Errorf("a mapping that is not FROM=TO = %d", resp.StatusCode)
	}
	big := "name\n" + strings.Repeat("x", 1<<20)
	if resp, page := agent.upload("/customers/import", "/customers/import", big, nil, true); resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(page, "512 KB") {
		t.Errorf("a file over the limit = %d; want 413", resp.StatusCode)
	}
}

func must303(resp *http.Response, _ string) *http.Response { return resp }

// TestImportPromisesPage: an agent finds Import CSV on the promises page,
// whose form asks for no key columns, and a file of promises imports
// through it; a viewer is refused.
func TestImportPromisesPage(t *testing.T) {
	f := newFixture(t)
	agent, viewer := f.signedIn(t, rapport.RoleAgent), f.signedIn(t, rapport.RoleViewer)
	harriet := f.customers["Harriet Vane"].ID
	if _, page := agent.get("/promises"); !strings.Contains(page, `href="/promises/import"`) {
		t.Error("the promises page offers an agent no Import CSV")
	}
	if _, page := agent.get("/customers"); !strings.Contains(page, `href="/holdings/import"`) {
		t.Error("the customer list offers an agent no Import holdings")
	}
	for _, path := range []string{"/promises/import", "/holdings/import"} {
		if resp, _ := viewer.get(path); resp.StatusCode != http.StatusForbidden {
			t.Errorf("viewer GET %s = %d; want 403", path, resp.StatusCode)
		}
		if _, page := agent.get(path); strings.Contains(page, `name="key"`) || !strings.Contains(page, "is skipped, so importing a file again adds nothing twice") {
			t.Errorf("the form at %s offers key columns, or does not say what importing again does", path)
		}
	}
	file := "customer_id,text,due_at\n" + harriet + ",Send the renewal quote,2026-03-20T09:00:00Z\n" + harriet + ",,2026-03-20T09:00:00Z\n"
	_, page := agent.imported(must303(agent.upload("/promises/import", "/promises/import", file, nil, true)))
	if !strings.Contains(page, "1 of 2 rows added; 0 stored already, 1 not valid and left out.") {
		t.Errorf("the promises import's page:\n%s", page)
	}
	if _, page := agent.get("/promises?show=all"); !strings.Contains(page, "Send the renewal quote") {
		t.Error("the imported promise is not on the promises page")
	}
}
