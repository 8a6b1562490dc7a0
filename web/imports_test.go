package web_test

import (
	"bytes"
	"encoding/csv"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
)

// upload posts a file to an import page as the browser does: multipart,
// with the CSRF token of the page at from unless csrf is false.
func (c *client) upload(from, path, file string, dryRun, csrf bool) (*http.Response, string) {
	c.t.Helper()
	_, page := c.get(from)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if csrf {
		mw.WriteField("csrf_token", csrfIn(page))
	}
	if dryRun {
		mw.WriteField("dry_run", "true")
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
	resp, page := agent.upload("/moments/import", "/moments/import", bad, false, true)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a bad file = %d; want 422", resp.StatusCode)
	}
	for _, want := range []string{"moments.csv was not imported", "2 of 3 rows are not valid; nothing was imported.",
		`<td class="num">3</td><td><code>rating</code></td><td>must be from 1 to 5</td>`,
		`<td class="num">4</td><td><code>customer_id</code></td><td>no customer has the id &#34;nobody&#34;</td>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if n := f.momentCount(t, harriet); n != before {
		t.Fatalf("a refused file recorded %d moments", n-before)
	}

	resp, _ = viewer.upload("/customers", "/moments/import", bad, false, true)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer upload = %d; want 403", resp.StatusCode)
	}
	good := "external_id,customer_id,touchpoint,channel,occurred_at,rating\n" +
		"w-1," + harriet + ",complaint,phone,2026-03-01T10:00:00Z,2\n" +
		"w-2," + harriet + ",greeting,phone,2026-03-01T10:00:00Z,5\n"
	if resp, _ := agent.upload("/moments/import", "/moments/import", good, false, false); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an upload without the CSRF token = %d; want 403", resp.StatusCode)
	}
	resp, page = agent.upload("/moments/import", "/moments/import", good, true, true)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Nothing was written.") || f.momentCount(t, harriet) != before {
		t.Errorf("a dry run = %d, %d moments added", resp.StatusCode, f.momentCount(t, harriet)-before)
	}
	resp, page = agent.upload("/moments/import", "/moments/import", good, false, true)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "2 of 2 rows added; 0 were stored already") || f.momentCount(t, harriet) != before+2 {
		t.Errorf("an import = %d, %d moments added\n%s", resp.StatusCode, f.momentCount(t, harriet)-before, page)
	}
	if _, page = agent.upload("/moments/import", "/moments/import", good, false, true); !strings.Contains(page, "0 of 2 rows added; 2 were stored already") {
		t.Error("importing the same file again did not skip its rows")
	}

	resp, body := agent.get("/moments/export?customer_id=" + harriet)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), `filename="moments-harriet-vane-2026-03-04.csv"`) {
		t.Fatalf("export = %d %v", resp.StatusCode, resp.Header)
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) != 1+before+2 {
		t.Errorf("the timeline's export has %d rows (%v); want a header and %d moments", len(rows), err, before+2)
	}
	resp, body = viewer.get("/customers/export?q=vane")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Harriet Vane") || strings.Contains(body, "Peter Wimsey") ||
		!strings.Contains(body, "attributes.segment") {
		t.Errorf("customers export = %d\n%s", resp.StatusCode, body)
	}

	resp, page = agent.upload("/customers/import", "/customers/import", "name,colour\nAda,blue\n", false, true)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "<code>colour</code>") {
		t.Errorf("a customers file with an unknown column = %d", resp.StatusCode)
	}
	big := "name\n" + strings.Repeat("x", rapport.MaxImportBytes+100<<10)
	if resp, _ := agent.upload("/customers/import", "/customers/import", big, false, true); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a file over 10 MB = %d; want 413", resp.StatusCode)
	}
}
