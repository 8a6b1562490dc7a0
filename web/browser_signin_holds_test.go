package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rapport-crm/rapport"
)

// TestBrowserOwnBrowserNotHeld has someone guess a person's password in one
// Chromium until the account is held there, while the person signs in at
// once from the browser they used before; an admin then sees the hold in
// settings and lifts it, and the audit log says who did.
func TestBrowserOwnBrowserNotHeld(t *testing.T) {
	f := newFixture(t)
	agent, admin := f.users[rapport.RoleAgent], f.users[rapport.RoleAdmin]
	own := newBrowser(t, 1280, 900, f.srv.URL)
	own.signIn(agent.Email)
	own.Do("sign out", chromedp.Click(css(".usermenu summary")), chromedp.Click(css(".usermenu button[type=submit]")), chromedp.WaitVisible(css(".flash")))

	other := newBrowser(t, 390, 844, f.srv.URL)
	other.Open("/signin", "#f-email")
	other.Do("type the email", chromedp.SendKeys(css("#f-email"), agent.Email))
	const answered = `document.readyState === "complete" && document.querySelector("#f-password")?.value === "" && !!document.querySelector(".form-error")`
	for i := 1; i <= 6; i++ {
		other.Do(fmt.Sprintf("wrong password %d", i), chromedp.SendKeys(css("#f-password"), "guess"), chromedp.Submit(css("#f-password")))
		other.Settle(fmt.Sprintf("the answer to wrong password %d", i), answered)
	}
	other.Do("the right password, held", chromedp.SendKeys(css("#f-password"), testPassword), chromedp.Submit(css("#f-password")))
	other.Settle("the answer to the right password", answered)
	if got := other.Text(".form-error"); !strings.Contains(got, "Too many attempts") {
		t.Fatalf("the guessing browser, with the right password after six wrong ones: the page says %q; want it held", got)
	}

	own.signIn(agent.Email) // waits for the dashboard: the person is not held
	own.Do("sign out", chromedp.Click(css(".usermenu summary")), chromedp.Click(css(".usermenu button[type=submit]")), chromedp.WaitVisible(css(".flash")))

	own.signIn(admin.Email)
	own.Open("/settings#sign-in-holds", "#holds-heading")
	row := own.Text("#sign-in-holds tbody tr")
	if !strings.Contains(row, agent.Name) || !strings.Contains(row, "\t5\t") {
		t.Errorf("settings list the hold as %q; want %s with 5 wrong passwords (tries while held are not counted)", row, agent.Name)
	}
	own.Screenshot("31-settings-sign-in-hold")
	own.Do("lift the hold", chromedp.Click(css("#sign-in-holds button[type=submit]")), chromedp.WaitVisible(css(".flash")))
	if got := own.Text(".flash"); !strings.Contains(got, "Hold lifted") {
		t.Errorf("after lifting, the page says %q", got)
	}
	if got := own.Text("#sign-in-holds"); !strings.Contains(got, "No account is held.") {
		t.Errorf("after lifting, settings still list %q", got)
	}

	other.Do("the right password after the lift", chromedp.SendKeys(css("#f-password"), testPassword), chromedp.Submit(css("#f-password")),
		chromedp.WaitVisible(css("#kpi-this-week")))

	entries, err := f.services.Audit.FindAudit(context.Background(), rapport.AuditFilter{Action: rapport.AuditLiftHold})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries.Items) != 1 || entries.Items[0].Actor != admin.ID || entries.Items[0].EntityID != agent.ID {
		t.Errorf("the audit log has %+v; want one lift of %s's hold by %s", entries.Items, agent.ID, admin.ID)
	}
}
