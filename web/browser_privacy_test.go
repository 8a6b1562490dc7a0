package web_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rapport-crm/rapport"
)

// TestBrowserErase walks an admin through a person's requests: download
// everything held on Harriet, then erase her personal data, confirming by
// her name (first mistyped). Her page then shows the placeholder name and a
// notice, and her timeline still has every moment, without notes.
func TestBrowserErase(t *testing.T) {
	f := newFixture(t)
	harriet := f.customers["Harriet Vane"]
	page := "/customers/" + harriet.ID
	momentEntries := `#timeline li[id^="moment-"]`
	for _, width := range []int{390, 1280} {
		b := newBrowser(t, width, 900, f.srv.URL)
		b.signIn(f.users[rapport.RoleAdmin].Email)
		b.Open(page, "#timeline")
		b.Screenshot("erase-" + strconv.Itoa(width) + "-01-customer")
		if width != 1280 {
			if b.WiderThanScreen() {
				t.Errorf("at %d px the customer page scrolls sideways", width)
			}
			continue
		}
		moments := b.Eval(`document.querySelectorAll('` + momentEntries + `').length > 0`)
		withNotes := b.Eval(`document.querySelectorAll('` + momentEntries + ` .notes').length > 0`)
		if !moments || !withNotes {
			t.Fatal("Harriet's timeline shows no moments with notes: the test would prove nothing")
		}

		// The download is the whole document, read with the admin's session.
		b.Eval(`(fetch(document.querySelector('a[href$="/export"]').href).then(r => r.json()).then(d => { window.exported = d }), true)`)
		b.WaitUntil("download the export", `window.exported !== undefined`)
		if !b.Eval(`window.exported.customer.name === "Harriet Vane" && window.exported.moments.length > 0`) {
			t.Error("the downloaded document is not Harriet's, with her moments")
		}

		b.Do("open the erasure", chromedp.Click(css(`a[href$="/erase"]`)), chromedp.WaitVisible(css("#f-confirm_name")))
		b.Screenshot("erase-1280-02-confirm")
		b.Do("mistype the name",
			chromedp.SendKeys(css("#f-confirm_name"), "Harriet"),
			chromedp.Click(css("#erase-submit")),
			chromedp.WaitVisible(css("#f-confirm_name-error")),
		)
		b.Screenshot("erase-1280-03-mistyped")
		b.Do("confirm with her name",
			chromedp.SetValue(css("#f-confirm_name"), "harriet vane"),
			chromedp.Click(css("#erase-submit")),
			chromedp.WaitVisible(css(".erased-notice")),
		)
		b.Screenshot("erase-1280-04-erased")
		if got, want := b.Text("h1"), rapport.ErasedName(harriet.ID); got != want {
			t.Errorf("after erasing, the page's heading reads %q; want %q", got, want)
		}
		if got := b.Text(".flash"); !strings.Contains(got, "Personal data erased") {
			t.Errorf("after erasing, the notice reads %q", got)
		}
		if got := b.Text(".erased-notice"); !strings.Contains(got, "anonymous counts") {
			t.Errorf("the erased customer's page says %q", got)
		}
		if b.Eval(`document.querySelectorAll('` + momentEntries + ` .notes').length > 0`) {
			t.Error("the timeline still shows notes of the erased customer's moments")
		}
		if b.Eval(`document.querySelectorAll('` + momentEntries + `').length === 0`) {
			t.Error("the timeline lost the erased customer's moments")
		}
		if body := b.Text("body"); strings.Contains(body, "Harriet") || strings.Contains(body, "harriet@vane.example") {
			t.Errorf("the erased customer's page still names her:\n%s", body)
		}
		for _, control := range []string{"Log a moment", "Make a promise", "Survey link", "Edit profile", "Erase personal data"} {
			if strings.Contains(b.Text("#main"), control) {
				t.Errorf("the erased customer's page offers %q", control)
			}
		}
	}
}
