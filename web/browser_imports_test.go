package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testbrowser"
)

// TestBrowserImport walks an agent through importing customers from the
// customer list: the upload answers at once with the job's page, whose
// progress bar follows the job as it runs and then shows what it did, and
// the rows that were wrong come back as a report to put right.
// Screenshots: import-*.
func TestBrowserImport(t *testing.T) {
	f := newFixture(t)
	b := newBrowser(t, 1280, 800, f.srv.URL)
	dir := t.TempDir()
	file := filepath.Join(dir, "customers.csv")
	os.WriteFile(file, []byte("external_id,name,email,owner_email,stage,region\n"+
		"pol-1,Ada Lovelace,ada@example.com,alex@example.com,commitment,north\n"+
		"pol-2,,bo at example,,exploration,south\n"+
		"pol-3,Cy Young,cy@example.com,,awareness,\n"), 0o600)

	f.importsPaused.Store(true)
	b.signIn(f.users[rapport.RoleAgent].Email)
	b.Open("/customers", "#customer-search")
	b.Do("open the import page", chromedp.Click(css(`a[href="/customers/import"]`)), chromedp.WaitVisible(css("#f-file")))
	b.Screenshot("import-01-form")
	b.Do("upload the file",
		chromedp.SetUploadFiles(css("#f-file"), []string{file}),
		chromedp.Click(css("#import-submit")),
		chromedp.WaitVisible(css("#import-bar")),
	)
	if got := b.Text("#progress-heading"); got != "Waiting to start" {
		t.Errorf("the job's page says %q before the job starts; want Waiting to start", got)
	}
	b.Screenshot("import-02-waiting")

	// The page follows the job by itself: no reload.
	b.Eval(`(window.sameDocument = true)`)
	f.importsPaused.Store(false)
	b.WaitUntil("the result shows", `document.querySelector('#import-result') !== null`)
	if !b.Eval(`window.sameDocument === true`) {
		t.Error("the page reloaded to show the result; want it swapped in")
	}
	if got := b.Text("#import-result"); !strings.Contains(got, "2 of 3 rows added; 0 stored already, 1 not valid and left out.") {
		t.Errorf("the result reads %q", got)
	}
	b.Screenshot("import-03-done")

	b.Eval(`(fetch(document.querySelector('#import-errors').href).then(r => r.text()).then(t => { window.report = t }), true)`)
	b.WaitUntil("the report arrives", `typeof window.report === 'string'`)
	want := "external_id,name,email,owner_email,stage,region,import_line,import_problem,import_raw\n" +
		`pol-2,,bo at example,,exploration,south,3,name: is required; email: must be an email address like name@example.com,` + "\n"
	if got := testbrowser.Get(b.Page, "the report", chromedp.Evaluate[string](`window.report`)); got != want {
		t.Errorf("the error report =\n%s\nwant the row that was wrong, with its line and problems:\n%s", got, want)
	}
	c, err := f.services.Customers.FindCustomers(t.Context(), rapport.CustomerFilter{Query: "Ada Lovelace"})
	if err != nil || len(c.Items) != 1 || c.Items[0].Attributes["region"] != "north" {
		t.Errorf("Ada after the import = %+v, %v; want her, with the extra column as an attribute", c.Items, err)
	}

	phone := newBrowser(t, 390, 844, f.srv.URL)
	phone.signIn(f.users[rapport.RoleAgent].Email)
	phone.Open(strings.TrimPrefix(b.Location(), f.srv.URL), "#import-result")
	if phone.WiderThanScreen() {
		t.Error("the import's page scrolls sideways on a phone")
	}
	phone.Screenshot("import-04-done-phone")
}
