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

// TestBrowserImportMapping walks an agent bringing in two files from an
// old system whose columns are named its own way, semicolon separated: the
// first time they map the columns and save the options as "Old CRM"; the
// second time they only pick "Old CRM", and the file imports as the first
// did. Screenshots: import-mapping-*.
func TestBrowserImportMapping(t *testing.T) {
	f := newFixture(t)
	b := newBrowser(t, 1280, 900, f.srv.URL)
	dir := t.TempDir()
	first, second := filepath.Join(dir, "crm-export-1.csv"), filepath.Join(dir, "crm-export-2.csv")
	os.WriteFile(first, []byte("Full name;E-mail;Since\nAda Lovelace;ada@example.com;03/02/2021\nBo Diddley;bo@example.com;15/06/2022\n"), 0o600)
	os.WriteFile(second, []byte("Full name;E-mail;Since\nCy Twombly;cy@example.com;28/12/2023\n"), 0o600)

	b.signIn(f.users[rapport.RoleAgent].Email)
	b.Open("/customers/import", "#f-file")
	if n := b.Eval(`document.querySelector('#f-mapping') === null`); !n {
		t.Error("the form offers saved mappings before any was saved")
	}
	b.Do("map the columns and save them as Old CRM",
		chromedp.Click(css(".import-options summary")),
		chromedp.WaitVisible(css("#f-map")),
		chromedp.SendKeys(css("#f-map"), "Full name=name\nE-mail=email\nSince=created_at"),
		chromedp.SendKeys(css("#f-date-format"), "DD/MM/YYYY"),
		chromedp.SendKeys(css("#f-save-as"), "Old CRM"),
		chromedp.SetUploadFiles(css("#f-file"), []string{first}),
	)
	b.choose("#f-delimiter", ";")
	b.Screenshot("import-mapping-01-first-file")
	b.Do("import the first file", chromedp.Click(css("#import-submit")), chromedp.WaitVisible(css("#import-bar")))
	b.WaitUntil("the first import ends", `document.querySelector('#import-result') !== null`)
	if got := b.Text("#import-result"); !strings.Contains(got, "2 of 2 rows added") {
		t.Errorf("the first import's result reads %q; want both rows added", got)
	}

	b.Open("/customers/import", "#f-mapping")
	offered := b.Text("#f-mapping")
	if !strings.Contains(offered, "Old CRM (Full name → name; E-mail → email; Since → created_at; semicolons; dates DD/MM/YYYY)") &&
		!strings.Contains(offered, "Old CRM (E-mail → email; Full name → name; Since → created_at; semicolons; dates DD/MM/YYYY)") {
		t.Errorf("the form offers %q; want Old CRM, saying what it does", offered)
	}
	id := testbrowser.Get(b.Page, "the mapping's option", chromedp.Evaluate[string](
		`[...document.querySelectorAll('#f-mapping option')].find(o => o.textContent.startsWith('Old CRM')).value`))
	b.choose("#f-mapping", id)
	b.Do("choose the second file", chromedp.SetUploadFiles(css("#f-file"), []string{second}))
	b.Screenshot("import-mapping-02-picked")
	b.Do("import the second file", chromedp.Click(css("#import-submit")), chromedp.WaitVisible(css("#import-bar")))
	b.WaitUntil("the second import ends", `document.querySelector('#import-result') !== null`)
	if got := b.Text("#import-result"); !strings.Contains(got, "1 of 1 rows added") {
		t.Errorf("the second import's result reads %q; want its row added", got)
	}
	b.Screenshot("import-mapping-03-done")
	page, err := f.services.Customers.FindCustomers(t.Context(), rapport.CustomerFilter{Query: "Cy Twombly"})
	if err != nil || len(page.Items) != 1 || page.Items[0].Email != "cy@example.com" || page.Items[0].CreatedAt.Format("2006-01-02") != "2023-12-28" {
		t.Fatalf("Cy after the import = %+v, %v; want him, with the email and the day read as the mapping says", page.Items, err)
	}

	phone := newBrowser(t, 390, 844, f.srv.URL)
	phone.signIn(f.users[rapport.RoleAgent].Email)
	phone.Open("/customers/import", "#saved-mappings")
	if phone.WiderThanScreen() {
		t.Error("the import page with a saved mapping scrolls sideways on a phone")
	}
	phone.Screenshot("import-mapping-04-phone")
	// The file field is on the page before the deletion too: wait for the
	// page the deletion leads to, which offers no mapping.
	phone.Do("delete the mapping", chromedp.Click(css(`#saved-mappings button`)))
	phone.Settle("the mapping is no longer offered", `document.querySelector('#saved-mappings') === null && document.querySelector('#f-mapping') === null`)
}
