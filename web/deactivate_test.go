package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
)

// TestDeactivatedUserInPickers: the admin deactivates the agent who owns
// every customer, asked first. The agent's open session ends at once. The
// pickers that give work no longer offer them (a new customer's owner, the
// new owner in a handover, a case's assignee), except as the value a
// customer already has; the filters that look back still find them,
// marked deactivated; and the case a misery moment of their customer opens
// goes to the queue.
func TestDeactivatedUserInPickers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	agent, harriet := f.users[rapport.RoleAgent], f.customers["Harriet Vane"]
	agentSession := f.signedIn(t, rapport.RoleAgent)
	if _, err := f.services.Tokens.CreateToken(ctx, &rapport.Token{Name: "alex's phone", Role: rapport.RoleAgent, UserID: agent.ID}); err != nil {
		t.Fatal(err)
	}
	if resp, _ := agentSession.get("/customers"); resp.StatusCode != http.StatusOK {
		t.Fatalf("the agent's session before = %d", resp.StatusCode)
	}
	admin := f.signedIn(t, rapport.RoleAdmin)

	resp, page := admin.submit("/settings/users", "/settings/users/"+agent.ID+"/active", url.Values{"active": {"false"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Deactivate Alex Agent?") || !strings.Contains(page, "The 5 customers they own stay theirs") {
		t.Fatalf("deactivate without confirming = %d; want the question, with the customers they own\n%s", resp.StatusCode, page)
	}
	if u, _ := f.services.Users.FindUserByID(ctx, agent.ID); !u.Active {
		t.Fatal("asking deactivated the agent")
	}
	resp, _ = admin.submit("/settings/users", "/settings/users/"+agent.ID+"/active", url.Values{"active": {"false"}, "confirm": {"yes"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("deactivate, confirmed = %d; want 303", resp.StatusCode)
	}
	if resp, _ := agentSession.get("/customers"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/signin") {
		t.Errorf("the agent's session after = %d to %q; want sent to sign in", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, page := admin.get("/settings"); !strings.Contains(page, "Stopped: Alex Agent is deactivated") {
		t.Error("the API tokens do not say that the agent's token is stopped")
	}

	f.clock.Add(time.Minute)
	if _, err := f.services.Moments.RecordMoment(ctx, &rapport.Moment{CustomerID: harriet.ID, Touchpoint: "complaint",
		Channel: rapport.ChannelPhone, OccurredAt: f.clock.Now(), Rating: ptr(1)}); err != nil {
		t.Fatal(err)
	}
	cases, err := f.services.Recovery.FindCases(ctx, rapport.CaseFilter{CustomerID: harriet.ID, Status: rapport.CaseOpen, Limit: rapport.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	var fresh *rapport.RecoveryCase
	for _, c := range cases.Items {
		if fresh == nil || c.OpenedAt.After(fresh.OpenedAt) {
			fresh = c
		}
	}
	if fresh == nil || fresh.AssigneeID != "" {
		t.Fatalf("the misery moment of the deactivated agent's customer opened %+v; want a case for the queue", fresh)
	}

	manager := f.signedIn(t, rapport.RoleManager)
	option := `<option value="` + agent.ID + `"`
	for _, tt := range []struct {
		path    string
		offered bool
		marked  bool // labelled deactivated
	}{
		{"/customers/new", false, false},
		{"/handovers/new", true, true}, // offered to hand over from, not to
		{"/cases/" + fresh.ID, false, false},
		{"/customers/" + harriet.ID + "/edit", true, true},
		{"/customers", true, true},
		{"/promises", true, true},
	} {
		resp, page := manager.get(tt.path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", tt.path, resp.StatusCode)
			continue
		}
		if got := strings.Count(page, option); (got > 0) != tt.offered {
			t.Errorf("GET %s offers the deactivated agent %d times; want offered %v", tt.path, got, tt.offered)
		}
		if got := strings.Contains(page, "Alex Agent (deactivated)"); got != tt.marked {
			t.Errorf("GET %s marks the agent deactivated: %v; want %v", tt.path, got, tt.marked)
		}
	}
	if _, page := manager.get("/handovers/new"); strings.Count(page, option) != 1 {
		t.Errorf("the handover form offers the deactivated agent %d times; want once, to hand over from", strings.Count(page, option))
	}
}
