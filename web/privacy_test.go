package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
)

// TestPersonalDataRoles checks that only an admin sees, opens and uses the
// controls to download and erase a customer's data, and that a wrong name
// typed to confirm erases nothing.
func TestPersonalDataRoles(t *testing.T) {
	f := newFixture(t)
	harriet := f.customers["Harriet Vane"].ID
	page := "/customers/" + harriet
	for _, role := range []rapport.Role{rapport.RoleManager, rapport.RoleAgent, rapport.RoleViewer} {
		c := f.signedIn(t, role)
		if _, body := c.get(page); strings.Contains(body, "Erase personal data") || strings.Contains(body, page+"/export") {
			t.Errorf("%s sees the controls for personal data", role)
		}
		for _, path := range []string{page + "/export", page + "/erase"} {
			if resp, _ := c.get(path); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s GET %s = %d; want 403", role, path, resp.StatusCode)
			}
		}
		if resp, _ := c.submit(page, page+"/erase", url.Values{"confirm_name": {"Harriet Vane"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s POST erase = %d; want 403", role, resp.StatusCode)
		}
	}
	admin := f.signedIn(t, rapport.RoleAdmin)
	resp, body := admin.get(page + "/export")
	var e rapport.CustomerExport
	if err := json.Unmarshal([]byte(body), &e); resp.StatusCode != http.StatusOK || err != nil || e.Customer.Name != "Harriet Vane" || len(e.Moments) == 0 {
		t.Errorf("admin GET export = %d, %v: %.200s; want Harriet's document with her moments", resp.StatusCode, err, body)
	}
	resp, body = admin.submit(page+"/erase", page+"/erase", url.Values{"confirm_name": {"Harriet"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "nothing was erased") {
		t.Errorf("erase with the wrong name = %d; want 422 asking for the name", resp.StatusCode)
	}
	if c, _ := f.services.Customers.FindCustomerByID(context.Background(), harriet); c.IsErased() {
		t.Error("the wrong name erased the customer")
	}
}
