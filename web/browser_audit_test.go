package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rapport-crm/rapport"
)

// TestBrowserAudit: an admin edits a customer, opens the audit log from
// the account menu and reads who changed what and when, without the
// customer's data; at phone width each entry still reads whole. A manager
// is refused the page.
func TestBrowserAudit(t *testing.T) {
	f := newFixture(t)
	f.clock.Add(time.Minute)
	harriet := f.customers["Harriet Vane"]
	for _, width := range []int{1280, 390} {
		b := newBrowser(t, width, 900, f.srv.URL)
		b.signIn(f.users[rapport.RoleAdmin].Email)
		newPhone := "+44 20 7946 0999"
		if width != 1280 {
			newPhone = "+44 20 7946 0888"
		}
		b.Open("/customers/"+harriet.ID+"/edit", "#f-phone")
		b.Do("change the phone number",
			chromedp.SetValue(css("#f-phone"), newPhone),
			chromedp.Submit(css("#f-phone")),
			chromedp.WaitVisible(css("#log-moment")),
		)
		b.Do("open the audit log from the account menu",
			chromedp.Click(css(".usermenu summary")),
			chromedp.Click(css("#audit-link")),
			chromedp.WaitVisible(css("#audit-list")),
		)
		entry := "#audit-list tbody tr:first-child"
		got := b.Text(entry)
		for _, want := range []string{"Ada Admin", "update", "customer", harriet.ID, "phone: [redacted] → [redacted]", "10:01"} {
			if !strings.Contains(got, want) {
				t.Errorf("at %dpx the newest entry reads %q; want it to hold %q", width, got, want)
			}
		}
		if strings.Contains(got, "7946") {
			t.Errorf("at %dpx the audit log shows the phone number: %q", width, got)
		}
		b.Do("filter by another kind of thing",
			chromedp.SetValue(css("#f-entity-type"), "webhook"),
			chromedp.Submit(css("#f-entity-type")),
			chromedp.WaitVisible(css(".empty")),
		)
		if got := b.Text(".empty"); !strings.Contains(got, "No changes match") {
			t.Errorf("filtered to webhooks, the page reads %q", got)
		}
		b.Open("/settings/audit?entity_type=customer&action=update", "#audit-list")
		if b.WiderThanScreen() {
			t.Errorf("at %dpx the audit log is wider than the screen", width)
		}
		if width == 1280 {
			b.Screenshot("audit-desktop")
		} else {
			b.Screenshot("audit-phone")
		}
	}

	manager := newBrowser(t, 1280, 900, f.srv.URL)
	manager.signIn(f.users[rapport.RoleManager].Email)
	manager.Open("/settings/audit", "h1")
	if got := manager.Text("main"); !strings.Contains(got, "Forbidden") || !strings.Contains(got, "role does not allow") {
		t.Errorf("a manager opening the audit log reads %q; want a refusal", got)
	}
	if manager.Eval(`document.querySelector('#audit-list') !== null`) {
		t.Error("a manager sees the audit log")
	}
	c := f.signedIn(t, rapport.RoleManager)
	if res, _ := c.get("/settings/audit"); res.StatusCode != http.StatusForbidden {
		t.Errorf("GET /settings/audit as a manager = %d; want 403", res.StatusCode)
	}
}
