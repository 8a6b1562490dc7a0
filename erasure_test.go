package rapport

import (
	"encoding/json"
	"testing"
	"time"
)

// TestErase checks what erasing leaves of a customer: the placeholder name,
// nothing personal, what is not personal beyond the link, and the first
// time it was erased.
func TestErase(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	c := &Customer{ID: "01KAH3M2Q8ZJ6V4T9XW5RNBC7D", ExternalID: "crm-1", Kind: KindPerson, Name: "Ada Lovelace",
		Email: "ada@example.com", Phone: "+44 20 7946 0000", Attributes: map[string]any{"city": "London"},
		Preferences: Preferences{Likes: []string{"tea"}}, OwnerID: "owner", ReferredBy: "referrer", Stage: StageCommitment}
	c.Erase(at)
	want := Customer{ID: c.ID, Kind: KindPerson, Name: "Erased customer RNBC7D", Attributes: map[string]any{},
		Preferences: Preferences{Likes: []string{}, Dislikes: []string{}}, OwnerID: "owner", ReferredBy: "referrer",
		Stage: StageCommitment, ErasedAt: &at}
	if got, w := showJSON(t, c), showJSON(t, &want); got != w {
		t.Errorf("Erase left %s; want %s", got, w)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("an erased customer is not valid: %v", err)
	}
	c.Erase(at.Add(time.Hour))
	if !c.ErasedAt.Equal(at) {
		t.Errorf("erasing again moved ErasedAt to %v; want %v", c.ErasedAt, at)
	}
	if got := ErasedName("AB"); got != "Erased customer AB" {
		t.Errorf("ErasedName(%q) = %q; want %q", "AB", got, "Erased customer AB")
	}
}

func showJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
