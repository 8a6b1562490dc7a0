package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rapport-crm/rapport"
)

// TestBrowserImport walks an agent through importing customers from the
// customer list: a file with mistakes is refused with its problems shown by
// row and column, and once corrected it is imported. Screenshots: import-*.
func TestBrowserImport(t *testing.T) {
	f := newFixture(t)
	b := newBrowser(t, 1280, 800, f.srv.URL)
	dir := t.TempDir()
	bad := filepath.Join(dir, "customers.csv")
	good := filepath.Join(dir, "customers-fixed.csv")
	os.WriteFile(bad, []byte("external_id,name,email,owner_email,stage,attributes.region\n"+
		"pol-1,Ada Lovelace,ada@example.com,alex@example.com,commitment,north\n"+
		"pol-2,,bo at example,,exploration,south\n"+
		"pol-3,Cy Young,cy@example.com,nobody@example.com,retired,\n"), 0o600)
	os.WriteFile(good, []byte("external_id,name,email,owner_email,stage,attributes.region\n"+
		"pol-1,Ada Lovelace,ada@example.com,alex@example.com,commitment,north\n"+
		"pol-2,Bo Diddley,bo@example.com,,exploration,south\n"+
		"pol-3,Cy Young,cy@example.com,,awareness,\n"), 0o600)

	b.signIn(f.users[rapport.RoleAgent].Email)
	b.Open("/customers", "#customer-search")
	b.Do("open the import page", chromedp.Click(css(`a[href="/customers/import"]`)), chromedp.WaitVisible(css("#f-file")))
	b.Do("import a file with mistakes",
		chromedp.SetUploadFiles(css("#f-file"), []string{bad}),
		chromedp.Click(css("#import-submit")),
		chromedp.WaitVisible(css(".import-problems")),
	)
	got := b.Text(".import-problems tbody")
	for _, want := range []string{"name", "is required", "email", "owner_email", "no user has the email", "stage"} {
		if !strings.Contains(got, want) {
			t.Errorf("the problems read %q; want %q among them", got, want)
		}
	}
	if !b.Eval(`document.querySelectorAll('.import-problems tbody tr').length === 4`) {
		t.Errorf("the table does not list the 4 problems of rows 3 and 4: %q", got)
	}
	b.Screenshot("import-01-refused")
	b.Do("import the corrected file",
		chromedp.SetUploadFiles(css("#f-file"), []string{good}),
		chromedp.Click(css("#import-submit")),
		chromedp.WaitVisible(css(".form-success")),
	)
	if got := b.Text(".form-success"); !strings.Contains(got, "3 of 3 rows added") {
		t.Errorf("after importing the page says %q", got)
	}
	b.Screenshot("import-02-imported")
}
