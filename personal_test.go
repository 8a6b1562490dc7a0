package rapport_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
)

func TestTagMatches(t *testing.T) {
	for _, tt := range []struct {
		tag, pref string
		want      bool
	}{
		{"phone_call", "sales calls", true},
		{"phone_call", "Calls during working hours", true},
		{"phone_call", "automated phone menus", true},
		{"phone_call", "email updates", false},
		{"email", "email updates", true},
		{"email", "e-mail", true},
		{"paperwork", "paper post", true},
		{"paperwork", "paperless documents", false},
		{"discount", "loyalty discounts", true},
		{"visit", "evening appointments", true},
		{"home_visit", "a home visit", true}, // an unknown tag matches its own words
		{"home_visit", "homely", false},
	} {
		if got := rapport.TagMatches(tt.tag, tt.pref); got != tt.want {
			t.Errorf("TagMatches(%q, %q) = %v; want %v", tt.tag, tt.pref, got, tt.want)
		}
	}
}

func TestCustomerGroups(t *testing.T) {
	c := &rapport.Customer{Stage: rapport.StageExpansion, Attributes: map[string]any{"segment": "Retired"},
		Preferences: rapport.Preferences{Likes: []string{"Phone  calls"}, Dislikes: []string{"jargon"}}}
	got := rapport.CustomerGroups(c)
	want := []string{"dislike:jargon", "like:phone calls", "likes:phone_call", "segment:retired", "stage:expansion"}
	if !slices.Equal(got, want) {
		t.Errorf("CustomerGroups = %v; want %v", got, want)
	}
	for group, want := range map[string]string{"dislike:jargon": "customers who dislike jargon",
		"dislikes:phone_call": "customers who dislike phone calls", "stage:expansion": "customers in the expansion stage"} {
		if p := rapport.GroupPhrase(group); p != want {
			t.Errorf("GroupPhrase(%q) = %q; want %q", group, p, want)
		}
	}
}

// TestSuggestWithoutEvidence: no moments anywhere: no claim, the standard
// is suggested and says why; with no responses at all, nothing is.
func TestSuggestWithoutEvidence(t *testing.T) {
	c := &rapport.Customer{ID: "c1", Stage: rapport.StageAwareness}
	rs := []*rapport.Response{
		{Touchpoint: "query", Key: "a", Status: rapport.ResponseTrial},
		{Touchpoint: "query", Key: "call_back", Status: rapport.ResponseStandard},
	}
	s := rapport.Suggest(rapport.SuggestionFacts{Customer: c, Responses: rs, Standard: "call_back"})
	if s.Suggested != "call_back" || s.Personal || !strings.Contains(s.Reason, "Call back is the standard") || s.Responses[0].Response != "call_back" {
		t.Errorf("suggested %q personal %v (%s); want the standard call_back first, named in words", s.Suggested, s.Personal, s.Reason)
	}
	for _, r := range s.Responses {
		if r.MagicRate != 0.5 || r.MagicRateCI[0] > 0.03 || r.MagicRateCI[1] < 0.97 {
			t.Errorf("%s with no moments: %.2f %v; want a coin toss with a wide interval", r.Response, r.MagicRate, r.MagicRateCI)
		}
	}
	s = rapport.Suggest(rapport.SuggestionFacts{Customer: c})
	if s.Suggested != "" || len(s.Responses) != 0 {
		t.Errorf("no responses: suggested %q; want none", s.Suggested)
	}
}

func FuzzCheckTags(f *testing.F) {
	f.Add("phone_call,email")
	f.Add(",,Bad Tag")
	f.Fuzz(func(t *testing.T, s string) {
		tags, err := rapport.CheckTags(strings.Split(s, ","))
		if err != nil {
			return
		}
		if !slices.IsSorted(tags) || len(slices.Compact(slices.Clone(tags))) != len(tags) {
			t.Fatalf("CheckTags(%q) = %v; want sorted without repeats", s, tags)
		}
		for _, tag := range tags {
			if !rapport.ValidKey(tag) {
				t.Fatalf("CheckTags(%q) kept %q", s, tag)
			}
			rapport.TagMatches(tag, s)
		}
	})
}
