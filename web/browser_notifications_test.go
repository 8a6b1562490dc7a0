package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rapport-crm/rapport"
)

// TestBrowserNotifications: the agent who owns the customers sees in the
// navigation how many notifications are unread (the cases their misery
// moments opened), reads them, chooses not to get broken promises by email,
// and marks all read, which takes the count away. At phone width too.
func TestBrowserNotifications(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	agent := f.users[rapport.RoleAgent]
	list, err := f.services.Notifications.FindNotifications(ctx, agent.ID, 100)
	if err != nil || list.Unread == 0 {
		t.Fatalf("the agent's notifications = %v, %v; want the seeded cases", list, err)
	}
	for _, size := range []struct {
		name          string
		width, height int
	}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
		t.Run(size.name, func(t *testing.T) {
			b := newBrowser(t, size.width, size.height, f.srv.URL)
			b.signIn(agent.Email)
			if size.name == "desktop" {
				if got := b.Text("#unread-count"); got != strconv.Itoa(list.Unread) {
					t.Errorf("the unread count reads %q; want %d", got, list.Unread)
				}
				b.Do("open the notifications", chromedp.Click(css("#inbox-link")), chromedp.WaitVisible(css("#notifications")))
			} else {
				b.Open("/notifications", "#email-settings-form")
			}
			if b.WiderThanScreen() {
				t.Errorf("the notifications page is wider than the screen at %d px", size.width)
			}
			b.Screenshot("notifications-" + size.name)
			if size.name == "phone" {
				return
			}
			if got := b.Text("#notifications"); !strings.Contains(got, "is yours, due") {
				t.Errorf("the list reads %q; want the recovery cases", got)
			}
			b.Do("no email for broken promises, and the rest once a day",
				chromedp.Click(css(`#email-settings-form input[value="promise.broken"]`)),
				chromedp.Click(css(`#f-digest`)),
				chromedp.Click(css(`#email-settings-form button[type=submit]`)),
				chromedp.WaitVisible(css(".flash")))
			prefs, err := f.services.Notifications.FindNotificationPrefs(ctx, agent.ID)
			if err != nil || prefs.Emails(rapport.NotifyPromiseBroken) || !prefs.Emails(rapport.NotifyCaseAssigned) || !prefs.Digest() {
				t.Errorf("the stored choices = %v, %v; want broken promises off, cases on, a daily digest", prefs, err)
			}
			b.Do("mark all read", chromedp.Click(css("#mark-read")))
			b.Settle("the count goes", `document.querySelector('#unread-count') === null && document.querySelector('#notifications') !== null`)
			if got := b.Text("#list-heading"); got != "All read" {
				t.Errorf("after marking all read the list says %q", got)
			}
			if l, _ := f.services.Notifications.FindNotifications(ctx, agent.ID, 0); l.Unread != 0 {
				t.Errorf("unread after marking all read = %d", l.Unread)
			}
		})
	}
}
