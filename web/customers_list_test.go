package web_test

import (
	"context"
	"net/http"
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
