package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rapport-crm/rapport"
)

// TestBrowserUserRoleAndTeam is the demo firm's admin on the Users page: the
// agent is made a manager in another team from the form that opens on
// their row, and the page says so; the admin's own demotion is refused,
// being the only admin, with the reason beside the form, and nothing
// changes.
func TestBrowserUserRoleAndTeam(t *testing.T) {
	d := newDemoFirm(t)
	ctx := context.Background()
	agent, admin := d.user(t, rapport.RoleAgent), d.user(t, rapport.RoleAdmin)
	admins, err := d.services.Users.FindUsers(ctx, rapport.UserFilter{Role: &admin.Role})
	if err != nil || len(admins) != 1 {
		t.Fatalf("the demo firm has %d admins (%v); want one", len(admins), err)
	}
	b := newBrowser(t, 1280, 900, d.srv.URL)
	b.signIn(admin.Email)
	b.Open("/settings/users", "#user-list")

	row := "#user-" + agent.ID
	b.Do("change the agent", chromedp.Click(css(row+" .user-edit summary")), chromedp.WaitVisible(css(row+" select[name=role]")))
	b.choose(row+" select[name=role]", "manager")
	b.Do("give a team and save", chromedp.SetValue(css(row+" input[name=team]"), "Complaints desk"),
		chromedp.Click(css(row+" .user-edit-form button")), chromedp.WaitVisible(css(".flash")))
	if got, want := b.Text(".flash"), agent.Name+" is now a manager in the team Complaints desk."; !strings.Contains(got, want) {
		t.Errorf("after saving, the page says %q; want %q", got, want)
	}
	if got := b.Text(row); !strings.Contains(got, "Manager") || !strings.Contains(got, "Complaints desk") {
		t.Errorf("the agent's row reads %q; want Manager in Complaints desk", got)
	}
	if u, _ := d.services.Users.FindUserByID(ctx, agent.ID); u.Role != rapport.RoleManager || u.Team != "Complaints desk" {
		t.Errorf("the agent is stored as %s in %q; want manager in Complaints desk", u.Role, u.Team)
	}
	b.Screenshot("users-01-changed")

	row = "#user-" + admin.ID
	b.Do("open the admin's own form", chromedp.Click(css(row+" .user-edit summary")), chromedp.WaitVisible(css(row+" select[name=role]")))
	b.choose(row+" select[name=role]", "viewer")
	b.Do("save", chromedp.Click(css(row+" .user-edit-form button")), chromedp.WaitVisible(css(row+" .form-error")))
	if got := b.Text(row + " .user-edit-form"); !strings.Contains(got, admin.Name+" is the only admin: make someone else an admin first.") ||
		!strings.Contains(got, "The firm needs at least one admin.") {
		t.Errorf("the refused form reads %q; want the reason", got)
	}
	if u, _ := d.services.Users.FindUserByID(ctx, admin.ID); u.Role != rapport.RoleAdmin {
		t.Errorf("after the refusal the admin is %s", u.Role)
	}
	b.Screenshot("users-02-last-admin")
}
