package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
)

// listedNames are the customers' names in the order a customer list shows them.
func listedNames(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<th scope="row"><a href="/customers/[^"]+">([^<]+)</a>`).FindAllStringSubmatch(body, -1) {
		out = append(out, strings.ReplaceAll(m[1], "&amp;", "&"))
	}
	return out
}

// TestCustomerList filters the list by stage, owner, band and search, sorts
// it by risk and health, counts what it shows, and refuses a filter it does
// not know with a 400.
func TestCustomerList(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	risks := map[string]int{}
	for name, c := range f.customers {
		h, err := f.services.HealthScores.CustomerHealth(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		risks[name] = h.Risk
	}
	agent := f.signedIn(t, rapport.RoleAgent)
	for _, tc := range []struct {
		path  string
		want  []string // in order
		count string
	}{
		{"/customers", []string{"Bunter & Co", "Harriet Vane", "Miss Climpson", "Peter Wimsey", "Sally Conway"}, "<strong>5</strong> customers"},
		{"/customers?stage=commitment", []string{"Harriet Vane"}, "<strong>1</strong> customer with these filters"},
		{"/customers?owner=me", []string{"Bunter & Co", "Harriet Vane", "Miss Climpson", "Peter Wimsey", "Sally Conway"}, "<strong>5</strong> customers with these filters"},
		{"/customers?owner=none", nil, "No customers with these filters"},
		{"/customers?q=wimsey&sort=-name", []string{"Peter Wimsey"}, "<strong>1</strong> customer matching “wimsey”"},
		{"/customers?sort=-name", []string{"Sally Conway", "Peter Wimsey", "Miss Climpson", "Harriet Vane", "Bunter & Co"}, "<strong>5</strong> customers"},
	} {
		resp, body := agent.get(tc.path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d", tc.path, resp.StatusCode)
		}
		if got := listedNames(body); !slices.Equal(got, tc.want) {
			t.Errorf("GET %s lists %q; want %q", tc.path, got, tc.want)
		}
		if !strings.Contains(body, tc.count) {
			t.Errorf("GET %s does not say %q", tc.path, tc.count)
		}
	}

	_, body := agent.get("/customers?sort=risk")
	got := listedNames(body)
	if !slices.IsSortedFunc(got, func(a, b string) int { return risks[strings.ReplaceAll(b, "&amp;", "&")] - risks[a] }) || len(got) != 5 {
		t.Errorf("sorted by risk the list reads %q; want the highest risk first (risks %v)", got, risks)
	}
	if !strings.Contains(body, `aria-sort="descending"><a class="sort-link" href="/customers?sort=-risk">Risk</a>`) {
		t.Error("sorted by risk, the Risk column is not marked as sorted, highest first, with a link to turn it round")
	}
	for name, r := range risks {
		if r >= 70 {
			_, body := agent.get("/customers?risk=high")
			if !slices.Contains(listedNames(body), name) {
				t.Errorf("risk high leaves out %s at risk %d", name, r)
			}
		}
	}

	for _, bad := range []string{"/customers?stage=lost", "/customers?risk=extreme", "/customers?sort=shoe", "/customers?segment=01NOSUCHSEGMENT00000000000"} {
		if resp, body := agent.get(bad); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "This list cannot be shown") {
			t.Errorf("GET %s = %d; want 400 saying the list cannot be shown", bad, resp.StatusCode)
		}
	}
}

// TestSavedViews saves the list's filter under a name, lists it above the
// list marked as the one shown, keeps it to its owner, refuses a view with
// no name or a filter the list does not know, and deletes it.
func TestSavedViews(t *testing.T) {
	f := newFixture(t)
	agent := f.signedIn(t, rapport.RoleAgent)
	manager := f.signedIn(t, rapport.RoleManager)

	resp, _ := agent.submit("/customers?stage=commitment&sort=risk", "/customers/views", url.Values{"name": {"Committed at risk"}, "query": {"stage=commitment&sort=risk&page=2"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/customers?sort=risk&stage=commitment" {
		t.Fatalf("save a view = %d to %q; want 303 to the list it keeps", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body := agent.get("/customers?sort=risk&stage=commitment")
	wantInPage(t, "the saved view's list", body, `View “Committed at risk” saved`,
		`<a href="/customers?sort=risk&amp;stage=commitment" aria-current="page">Committed at risk</a>`)
	if names := listedNames(body); !slices.Equal(names, []string{"Harriet Vane"}) {
		t.Errorf("the view lists %q; want Harriet Vane", names)
	}
	if _, body := manager.get("/customers"); strings.Contains(body, "Committed at risk") {
		t.Error("the agent's view shows on the manager's list")
	}

	for _, bad := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"name": {"  "}, "query": {"stage=commitment"}}, "Give the view a name."},
		{url.Values{"name": {"Odd"}, "query": {"stage=lost"}}, "Choose one of the stages."},
		{url.Values{"name": {"Odd"}, "query": {"colour=red"}}, "which the list does not know"},
	} {
		resp, body := agent.submit("/customers", "/customers/views", bad.form)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, bad.want) {
			t.Errorf("save a view %v = %d; want 422 saying %q", bad.form, resp.StatusCode, bad.want)
		}
	}

	views, err := f.services.SavedViews.FindSavedViews(context.Background(), f.users[rapport.RoleAgent].ID)
	if err != nil || len(views) != 1 {
		t.Fatalf("the agent keeps %d views (%v); want the one saved", len(views), err)
	}
	if resp, _ := manager.submit("/customers", "/customers/views/"+views[0].ID+"/delete", url.Values{}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the manager deleting the agent's view = %d; want 404", resp.StatusCode)
	}
	if resp, _ := agent.submit("/customers", "/customers/views/"+views[0].ID+"/delete", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("deleting one's view = %d; want 303", resp.StatusCode)
	}
	if _, body := agent.get("/customers"); strings.Contains(body, "Committed at risk") {
		t.Error("the deleted view is still listed")
	}
}
