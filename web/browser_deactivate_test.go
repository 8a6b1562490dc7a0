package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testbrowser"
)

// TestBrowserDeactivateUser is the demo firm's admin deactivating the agent
// on the Users page, at desk and phone widths. The page asks first, saying
// what follows and how many customers to hand over; "No" changes nothing;
// "Yes" marks the agent deactivated and points to handing their customers
// over. The agent, signed in meanwhile in another browser, is signed out
// at once, and their password is then refused with the reason. Reactivated,
// they sign in again. The admin's own deactivation, as the only admin, is
// refused beside the button.
func TestBrowserDeactivateUser(t *testing.T) {
	d := newDemoFirm(t)
	ctx := context.Background()
	agent, admin := d.user(t, rapport.RoleAgent), d.user(t, rapport.RoleAdmin)
	owned, err := d.services.CustomerList.ListCustomers(ctx, rapport.CustomerListFilter{OwnerID: agent.ID, Limit: 1})
	if err != nil || owned.Total == 0 {
		t.Fatalf("the demo agent owns %v customers (%v); want some to hand over", owned, err)
	}
	row := "#user-" + agent.ID
	for _, size := range []struct{ w, h int }{{1280, 900}, {390, 844}} {
		t.Run(fmt.Sprint(size.w), func(t *testing.T) {
			shot := func(name string) string { return fmt.Sprintf("deactivate-%s-%d", name, size.w) }
			ab := newBrowser(t, size.w, size.h, d.srv.URL)
			ab.signIn(agent.Email)
			b := newBrowser(t, size.w, size.h, d.srv.URL)
			b.signIn(admin.Email)

			b.Open("/settings/users", "#user-list")
			b.Do("open the agent's row", chromedp.Click(css(row+" .user-edit summary")), chromedp.WaitVisible(css(row+" .user-active-form button")))
			b.Do("deactivate", chromedp.Click(css(row+" .user-active-form button")), chromedp.WaitVisible(css("#confirm-deactivate")))
			page := b.Text("#confirm-deactivate")
			for _, want := range []string{agent.Name + " is signed out at once", "API tokens made for " + agent.Name + " stop working at once",
				fmt.Sprintf("The %s customers they own stay theirs until you hand them over", thousands(owned.Total))} {
				if !strings.Contains(page, want) {
					t.Errorf("the confirmation reads %q; want %q", page, want)
				}
			}
			if b.WiderThanScreen() {
				t.Error("the confirmation is wider than the screen")
			}
			b.Screenshot(shot("01-confirm"))
			b.Do("keep them active", chromedp.Click(css("#confirm-deactivate a.button")), chromedp.WaitVisible(css("#user-list")))
			if u, _ := d.services.Users.FindUserByID(ctx, agent.ID); !u.Active {
				t.Fatal("after No the agent is deactivated")
			}

			b.Do("open the agent's row again", chromedp.Click(css(row+" .user-edit summary")), chromedp.WaitVisible(css(row+" .user-active-form button")))
			b.Do("deactivate again", chromedp.Click(css(row+" .user-active-form button")), chromedp.WaitVisible(css("#confirm-deactivate")))
			b.Do("yes", chromedp.Click(css("#confirm-deactivate-form button")), chromedp.WaitVisible(css(".flash")))
			if got, want := b.Text(".flash"), agent.Name+" is deactivated: signed out everywhere, and can no longer sign in."; !strings.Contains(got, want) {
				t.Errorf("after deactivating, the page says %q; want %q", got, want)
			}
			if href := testbrowser.Get(b.Page, "the flash's link", chromedp.Evaluate[string](`document.querySelector(".flash a")?.getAttribute("href") ?? ""`)); !strings.Contains(href, "/handovers/new?from="+agent.ID) {
				t.Errorf("the flash links to %q; want the handover of the agent's customers", href)
			}
			if got := b.Text(row); !strings.Contains(got, "Deactivated") || !strings.Contains(got, "Still owns "+thousands(owned.Total)+" customers") {
				t.Errorf("the agent's row reads %q; want Deactivated, and the customers still theirs", got)
			}
			if b.WiderThanScreen() {
				t.Error("the users page is wider than the screen")
			}
			b.Screenshot(shot("02-deactivated"))

			// The flash leads to handing the customers over: from the agent,
			// marked deactivated, to someone active only.
			b.Do("hand them over", chromedp.Click(css(".flash a")), chromedp.WaitVisible(css("#handover-form")))
			if got := b.Value("#f-from_owner"); got != agent.ID {
				t.Errorf("the handover form is from %q; want the deactivated agent", got)
			}
			from := testbrowser.Get(b.Page, "the handover's from", chromedp.Evaluate[string](`document.querySelector("#f-from_owner").selectedOptions[0].textContent`))
			if got := from; got != agent.Name+" (deactivated)" {
				t.Errorf("the handover is from %q; want %q", got, agent.Name+" (deactivated)")
			}
			if b.Eval(`!!document.querySelector("#f-to_owner option[value='` + agent.ID + `']")`) {
				t.Error("the deactivated agent is offered as the new owner")
			}
			b.Open("/settings/users", "#user-list")

			// The agent's open session ended: the next page is the sign-in.
			ab.Open("/customers", "#f-email")
			if loc := ab.Location(); !strings.Contains(loc, "/signin") {
				t.Errorf("the deactivated agent's browser opened /customers at %s; want the sign-in page", loc)
			}
			ab.Do("sign in, deactivated", chromedp.SendKeys(css("#f-email"), agent.Email), chromedp.SendKeys(css("#f-password"), testPassword),
				chromedp.Submit(css("#f-password")))
			ab.Settle("the refusal", `document.readyState === "complete" && !!document.querySelector(".form-error")`)
			if got := ab.Text(".form-error"); !strings.Contains(got, "This account has been deactivated. Ask an admin of your firm") {
				t.Errorf("signing in deactivated, the page says %q; want the reason", got)
			}
			ab.Screenshot(shot("03-signin-refused"))

			b.Do("open the row to reactivate", chromedp.Click(css(row+" .user-edit summary")), chromedp.WaitVisible(css(row+" .user-active-form button")))
			b.Do("reactivate", chromedp.Click(css(row+" .user-active-form button")), chromedp.WaitVisible(css(".flash")))
			if got, want := b.Text(".flash"), agent.Name+" is active again and can sign in with their password."; !strings.Contains(got, want) {
				t.Errorf("after reactivating, the page says %q; want %q", got, want)
			}
			ab.signIn(agent.Email)
		})
	}

	b := newBrowser(t, 1280, 900, d.srv.URL)
	b.signIn(admin.Email)
	b.Open("/settings/users", "#user-list")
	row = "#user-" + admin.ID
	b.Do("open the admin's own row", chromedp.Click(css(row+" .user-edit summary")), chromedp.WaitVisible(css(row+" .user-active-form button")))
	b.Do("deactivate themselves", chromedp.Click(css(row+" .user-active-form button")), chromedp.WaitVisible(css(row+" .user-active-form .form-error")))
	if got, want := b.Text(row+" .user-active-form .form-error"), admin.Name+" is the only active admin: make someone else an admin before deactivating them."; got != want {
		t.Errorf("the admin deactivating themselves reads %q; want %q", got, want)
	}
	if u, _ := d.services.Users.FindUserByID(ctx, admin.ID); !u.Active {
		t.Error("the only admin was deactivated")
	}
	b.Screenshot("deactivate-04-last-admin")
}
