package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
)

// TestServiceRules has a manager change the recovery policy, a service
// level and the stage rules from the settings page; a mistake is refused
// with the API's message beside its field and changes nothing; agents may
// not open the page.
func TestServiceRules(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	mgr := f.signedIn(t, rapport.RoleManager)
	if resp, body := mgr.get("/settings/rules"); resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="f-hours_complaint"`) {
		t.Fatalf("the manager's GET /settings/rules = %d, without the complaint's service level", resp.StatusCode)
	}

	resp, _ := mgr.submit("/settings/rules", "/settings/recovery-policy", url.Values{"queue": {"Care team"}, "escalation_role": {"admin"}, "open_within_days": {"14"}})
	p, _ := f.services.Recovery.FindRecoveryPolicy(ctx)
	if resp.StatusCode != http.StatusSeeOther || p.Queue != "Care team" || p.EscalationRole != rapport.RoleAdmin || p.OpenWithinDays != 14 || p.AssignToOwner {
		t.Errorf("save the policy = %d, policy %+v", resp.StatusCode, p)
	}
	resp, body := mgr.submit("/settings/rules", "/settings/recovery-policy", url.Values{"queue": {""}, "escalation_role": {"agent"}, "open_within_days": {"14"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "This must be manager or admin.") {
		t.Errorf("a policy escalating to agents = %d; want 422 saying who it may go to", resp.StatusCode)
	}
	if p2, _ := f.services.Recovery.FindRecoveryPolicy(ctx); *p2 != *p {
		t.Errorf("a refused policy changed it to %+v", p2)
	}

	resp, _ = mgr.submit("/settings/rules", "/settings/service-levels", url.Values{"hours_complaint": {"6"}, "hours_delivery": {"72"}})
	if sl, _ := f.services.Recovery.FindServiceLevel(ctx, "complaint"); resp.StatusCode != http.StatusSeeOther || sl.Hours != 6 {
		t.Errorf("set the complaint's service level = %d, %d hours; want 6", resp.StatusCode, sl.Hours)
	}
	resp, body = mgr.submit("/settings/rules", "/settings/service-levels", url.Values{"hours_complaint": {"2"}, "hours_delivery": {"9999"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "This must be from 1 to 720.") {
		t.Errorf("a service level of 9999 hours = %d; want 422 saying the range", resp.StatusCode)
	}
	if sl, _ := f.services.Recovery.FindServiceLevel(ctx, "complaint"); sl.Hours != 6 {
		t.Errorf("a refused form changed the complaint's level to %d hours; want 6 kept", sl.Hours)
	}

	rules := url.Values{"exploration_moments": {"3"}, "expansion_products": {"2"}, "commitment_products": {"4"}, "commitment_years": {"1.5"},
		"min_rating": {"3.5"}, "silence_days": {"200"}, "lapsed_days": {"100"}, "auto_apply": {"on"}}
	resp, _ = mgr.submit("/settings/rules", "/settings/stage-rules", rules)
	got, _ := f.services.Stages.StageRules(ctx)
	if resp.StatusCode != http.StatusSeeOther || got.CommitmentProducts != 4 || got.CommitmentYears != 1.5 || !got.AutoApply || got.AutoDissolve {
		t.Errorf("save the stage rules = %d, rules %+v", resp.StatusCode, got)
	}
	rules.Set("commitment_products", "1")
	if resp, body := mgr.submit("/settings/rules", "/settings/stage-rules", rules); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(body, "This must be from expansion_products to 100.") {
		t.Errorf("commitment below expansion = %d; want 422", resp.StatusCode)
	}

	agent := f.signedIn(t, rapport.RoleAgent)
	if resp, _ := agent.get("/settings/rules"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an agent's GET /settings/rules = %d; want 403", resp.StatusCode)
	}
}

// TestUsersPage has an admin add a user, whose first password, shown once,
// signs them in; a duplicate email is refused; managers may not add users.
func TestUsersPage(t *testing.T) {
	f := newFixture(t)
	admin := f.signedIn(t, rapport.RoleAdmin)
	resp, body := admin.submit("/settings/users", "/settings/users", url.Values{"name": {"Nora Newhire"}, "email": {"nora@example.com"},
		"role": {"agent"}, "team": {"Front desk"}, "manager_id": {f.users[rapport.RoleManager].ID}})
	if resp.StatusCode != http.StatusCreated || !strings.Contains(body, "Nora Newhire can sign in now.") {
		t.Fatalf("add a user = %d", resp.StatusCode)
	}
	i := strings.Index(body, `id="new-password" type="text" readonly value="`)
	if i < 0 {
		t.Fatal("the answer does not show the first password")
	}
	password := body[i+len(`id="new-password" type="text" readonly value="`):]
	password = password[:strings.IndexByte(password, '"')]
	nora := f.newClient(t)
	_, page := nora.get("/signin")
	if resp := nora.post("/signin", url.Values{"email": {"nora@example.com"}, "password": {password}, "csrf_token": {csrfIn(page)}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("signing in with the first password = %d; want 303", resp.StatusCode)
	}
	u, err := f.services.Users.FindUserByEmail(context.Background(), "nora@example.com")
	if err != nil || u.Role != rapport.RoleAgent || u.Team != "Front desk" || u.ManagerID != f.users[rapport.RoleManager].ID {
		t.Errorf("the added user = %+v, %v", u, err)
	}
	if _, body := admin.get("/settings/users"); strings.Contains(body, password) {
		t.Error("the first password is shown again")
	}

	resp, body = admin.submit("/settings/users", "/settings/users", url.Values{"name": {"Nora Again"}, "email": {"nora@example.com"}, "role": {"agent"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Nora Again") {
		t.Errorf("a second user with Nora's email = %d; want 422 with the form kept", resp.StatusCode)
	}
	mgr := f.signedIn(t, rapport.RoleManager)
	if resp, _ := mgr.get("/settings/users"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a manager's GET /settings/users = %d; want 403", resp.StatusCode)
	}
}
