package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
)

// TestCustomerLanguageForm: the customer form offers the languages that
// have a catalogue, keeps the one chosen, and refuses one that is not a
// language code.
func TestCustomerLanguageForm(t *testing.T) {
	f := newFixture(t)
	agent := f.signedIn(t, rapport.RoleAgent)
	harriet := f.customers["Harriet Vane"]
	_, page := agent.get("/customers/" + harriet.ID + "/edit")
	if !strings.Contains(page, `<option value="es">Español</option>`) {
		t.Fatalf("the edit form offers no Spanish:\n%s", page)
	}
	form := url.Values{"name": {harriet.Name}, "kind": {harriet.Kind}, "email": {harriet.Email}, "language": {"es"},
		"owner_id": {harriet.OwnerID}}
	if resp, body := agent.submit("/customers/"+harriet.ID+"/edit", "/customers/"+harriet.ID, form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("saving Spanish = %d: %s", resp.StatusCode, body)
	}
	c, err := f.services.Customers.FindCustomerByID(context.Background(), harriet.ID)
	if err != nil || c.Language != "es" {
		t.Errorf("the customer's language = %q, %v; want es", c.Language, err)
	}
	form.Set("language", "spanish")
	if resp, body := agent.submit("/customers/"+harriet.ID+"/edit", "/customers/"+harriet.ID, form); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(body, "two-letter language code") {
		t.Errorf("saving language=spanish = %d; want 422 naming the field", resp.StatusCode)
	}
}
