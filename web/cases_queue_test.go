package web_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
)

// tabCounts reads the counts of the queue's tabs.
func tabCounts(body string) map[string]string {
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`id="tab-([a-z]+)"[^>]*>[^<]*<span class="tab-count">([0-9,]+)</span>`).FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// openCases lists every open case through the service, a page at a time.
func openCases(t *testing.T, f *fixture, keep func(*rapport.RecoveryCase) bool) int {
	t.Helper()
	n, cursor := 0, ""
	for {
		page, err := f.services.Recovery.FindCases(context.Background(), rapport.CaseFilter{Status: rapport.CaseOpen, Cursor: cursor, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Items {
			if keep(c) {
				n++
			}
		}
		if cursor = page.NextCursor; cursor == "" {
			return n
		}
	}
}

// TestCaseQueueTabs counts each tab of the recovery queue as the cases
// listed one by one do, keeps the counts under a filter, and opens on a tab
// with work in it: the agent's own, and for an agent with none of their
// own, the team's.
func TestCaseQueueTabs(t *testing.T) {
	f := newFixture(t)
	rf := f.seedRecovery(t)
	alex := f.users[rapport.RoleAgent]
	now := f.clock.Now()
	want := map[string]int{
		"mine":       openCases(t, f, func(c *rapport.RecoveryCase) bool { return c.AssigneeID == alex.ID }),
		"unassigned": openCases(t, f, func(c *rapport.RecoveryCase) bool { return c.AssigneeID == "" }),
		"overdue":    openCases(t, f, func(c *rapport.RecoveryCase) bool { return c.DueAt.Before(now) }),
		"open":       openCases(t, f, func(*rapport.RecoveryCase) bool { return true }),
		"team": openCases(t, f, func(c *rapport.RecoveryCase) bool {
			return c.AssigneeID == "" || c.AssigneeID == alex.ID || c.AssigneeID == rf.dylan.ID
		}),
	}
	if want["mine"] == 0 || want["overdue"] == 0 {
		t.Fatalf("the fixture's open cases: %v; want some of Alex's and some overdue", want)
	}
	agent := f.signedIn(t, rapport.RoleAgent)
	_, body := agent.get("/cases")
	got := tabCounts(body)
	for tab, n := range want {
		if got[tab] != fmt.Sprint(n) {
			t.Errorf("the %s tab counts %s; want %d", tab, got[tab], n)
		}
	}
	if !strings.Contains(body, `id="tab-mine" aria-current="page"`) {
		t.Error("the agent with cases of their own does not land on Mine")
	}

	_, body = agent.get("/cases?show=open&touchpoint=delivery")
	got = tabCounts(body)
	deliveries := openCases(t, f, func(c *rapport.RecoveryCase) bool { return c.Touchpoint == "delivery" })
	if deliveries == 0 || got["open"] != fmt.Sprint(deliveries) {
		t.Errorf("filtered to deliveries, the All open tab counts %s; want %d", got["open"], deliveries)
	}
	if strings.Contains(body, "Bunter &amp; Co") || !strings.Contains(body, "Mary Quant") {
		t.Errorf("filtered to deliveries, the queue does not show Mary's delivery case alone (Bunter shown %v, Mary shown %v)",
			strings.Contains(body, "Bunter &amp; Co"), strings.Contains(body, "Mary Quant"))
	}
	if !strings.Contains(body, `href="/cases?show=mine&amp;touchpoint=delivery"`) {
		t.Error("the tabs do not keep the touchpoint filter")
	}

	// An agent with no case of their own lands on a tab with work in it.
	nell := &rapport.User{Email: "nell@example.com", Name: "Nell Newcomer", Role: rapport.RoleAgent}
	if err := f.services.Users.CreateUser(context.Background(), nell); err != nil {
		t.Fatal(err)
	}
	if err := f.services.Passwords.SetPassword(context.Background(), nell.ID, testPassword); err != nil {
		t.Fatal(err)
	}
	c := f.newClient(t)
	_, page := c.get("/signin")
	c.post("/signin", map[string][]string{"email": {nell.Email}, "password": {testPassword}, "csrf_token": {csrfIn(page)}})
	_, body = c.get("/cases")
	counts := tabCounts(body)
	landed := regexp.MustCompile(`id="tab-([a-z]+)" aria-current="page"`).FindStringSubmatch(body)
	if counts["mine"] != "0" || landed == nil || landed[1] == "mine" || counts[landed[1]] == "0" {
		t.Errorf("an agent with nothing of their own (tabs %v) lands on %v; want a tab with cases in it", counts, landed)
	}
}

// TestPromiseOrder lists the promises due soonest first (any overdue at the
// top) and every promise the latest due first.
func TestPromiseOrder(t *testing.T) {
	f := newFixture(t)
	f.seedRecovery(t)
	agent := f.signedIn(t, rapport.RoleAgent)
	dues := func(path string) []string {
		_, body := agent.get(path)
		list := body[strings.Index(body, `class="promise-list"`):]
		var out []string
		for _, m := range regexp.MustCompile(`due <time datetime="([^"]+)"`).FindAllStringSubmatch(list, -1) {
			out = append(out, m[1])
		}
		if len(out) < 3 {
			t.Fatalf("GET %s lists %d promises; want several", path, len(out))
		}
		return out
	}
	due := dues("/promises")
	if !slices.IsSorted(due) {
		t.Errorf("promises due read %q; want the soonest first", due)
	}
	all := dues("/promises?show=all")
	if !slices.IsSortedFunc(all, func(a, b string) int { return strings.Compare(b, a) }) {
		t.Errorf("every promise reads %q; want the latest due first", all)
	}
}
