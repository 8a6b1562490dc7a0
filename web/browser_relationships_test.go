package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rapport-crm/rapport"
)

// TestBrowserRelationships walks a manager through relationships: set a
// customer's stage by hand (first forgetting the dissolution reason), write
// a segment rule (first with a mistake) and see its members, and compare
// outcomes. It saves a screenshot of each page, named relationships-*.
func TestBrowserRelationships(t *testing.T) {
	f := newFixture(t)
	f.seedProducts(t)
	f.clock.Add(time.Minute)
	b := newBrowser(t, 1280, 800, f.srv.URL)
	b.signIn(f.users[rapport.RoleManager].Email)

	// Dissolution without its reason, then with it.
	peter := f.customers["Peter Wimsey"]
	b.Open("/customers/"+peter.ID, "#relationship")
	b.Do("set dissolution without a reason",
		chromedp.Click(css(".rel-set summary")),
		chromedp.SetValue(css("#f-stage"), "dissolution"),
		chromedp.SendKeys(css("#stage-form #f-reason"), "Moved his cover to a rival"),
		chromedp.Click(css("#stage-submit")),
		chromedp.WaitVisible(css("#f-dissolution_reason-error")),
	)
	if got := b.Value("#stage-form #f-reason"); got != "Moved his cover to a rival" {
		t.Errorf("after the error the reason reads %q; want it kept", got)
	}
	b.Do("set dissolution",
		chromedp.SetValue(css("#f-dissolution_reason"), "defected"),
		chromedp.Click(css("#stage-submit")),
		chromedp.WaitVisible(css(".flash")),
	)
	if got := b.Text("#rel-stage"); got != "Dissolution" {
		t.Errorf("after setting it the stage reads %q; want Dissolution", got)
	}
	if got := b.Text("#stage-history"); !strings.Contains(got, "Moved his cover to a rival") || !strings.Contains(got, "Mo Manager") {
		t.Errorf("the stage history reads %q; want the change by Mo Manager", got)
	}
	b.Screenshot("relationships-01-customer-panel-peter")
	b.Open("/customers/"+f.customers["Harriet Vane"].ID, "#relationship")
	b.Screenshot("relationships-02-customer-panel-harriet")

	// A segment, first with a rule that cannot be read.
	b.Open("/segments", "#main h1")
	b.Do("new segment", chromedp.Click(css(`a[href="/segments/new"]`)), chromedp.WaitVisible(css("#segment-form")))
	// The form previews who a rule matches as it is typed.
	b.Do("preview a rule",
		chromedp.SendKeys(css("#f-rule"), "holdings >= 1"),
		chromedp.WaitVisible(css("#preview-size")),
	)
	if got, list := b.Text("#preview-size"), b.Text("#preview-members"); got != "2" || !strings.Contains(list, "Harriet Vane") {
		t.Errorf("the preview reads %q matching %q; want 2 with Harriet", got, list)
	}
	b.Screenshot("relationships-03-segment-preview")
	b.Open("/segments/new", "#segment-form")
	b.Do("write a bad rule",
		chromedp.SendKeys(css("#f-name"), "Holders"),
		chromedp.SendKeys(css("#f-rule"), `holdings >= and stage = "commitment"`),
		chromedp.Click(css("#segment-submit")),
		chromedp.WaitVisible(css("#rule-caret")),
	)
	if got := b.Text("#f-rule-error"); !strings.Contains(got, "Line 1, column 13") {
		t.Errorf("the rule error reads %q; want it at line 1, column 13", got)
	}
	b.Screenshot("relationships-03-segment-rule-error-b")
	b.Do("write a good rule",
		chromedp.SetValue(css("#f-rule"), "holdings >= 1"),
		chromedp.Click(css("#segment-submit")),
		chromedp.WaitVisible(css("#segment-members")),
	)
	members := b.Text("#segment-members")
	if !strings.Contains(members, "Harriet Vane") || !strings.Contains(members, "Peter Wimsey") || strings.Contains(members, "Miss Climpson") {
		t.Errorf("the segment's members read %q; want Harriet and Peter only", members)
	}
	b.Screenshot("relationships-04-segment")
	b.Open("/segments", "#segment-list")
	b.Screenshot("relationships-05-segments")

	b.Open("/reports/outcomes", "#outcome-table")
	if got := strings.ToLower(b.Text("#outcome-table thead")); !strings.Contains(got, "all customers") || !strings.Contains(got, "holders") {
		t.Errorf("the outcomes table heads read %q; want all customers and Holders", got)
	}
	b.Screenshot("relationships-06-outcomes")
}
