package web_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
)

// TestAuditRetentionAndExport: an admin sets the audit log's retention on
// the settings page (a value out of range changes nothing) and exports the
// log as CSV, filtered as the page is.
func TestAuditRetentionAndExport(t *testing.T) {
	f := newFixture(t)
	c := f.signedIn(t, rapport.RoleAdmin)
	ctx := context.Background()
	_, body := c.get("/settings")
	wantInPage(t, "settings page", body, `id="audit-form"`, `name="retention_days"`, `value="365"`, `href="/settings/audit"`)

	for _, bad := range []string{"3", "forever", ""} {
		resp, _ := c.submit("/settings", "/settings/audit", url.Values{"retention_days": {bad}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("retention %q = %d; want 303 back to settings", bad, resp.StatusCode)
		}
		if s, err := f.services.Audit.AuditSettings(ctx); err != nil || s.RetentionDays != 365 {
			t.Errorf("after retention %q, settings = %+v, %v; want 365 kept", bad, s, err)
		}
	}
	c.submit("/settings", "/settings/audit", url.Values{"retention_days": {"90"}})
	_, body = c.get("/settings")
	wantInPage(t, "settings page after saving", body, "now keeps entries for 90 days", `value="90"`)

	resp, body := c.get("/settings/audit/export?entity_type=audit_settings")
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if resp.StatusCode != 200 || err != nil || len(rows) != 2 || rows[1][2] != f.users[rapport.RoleAdmin].ID || rows[1][6] != "audit_settings" {
		t.Errorf("export of the settings' changes = %d %v: %q; want the header and the admin's one change", resp.StatusCode, err, rows)
	}
	if resp, _ := c.get("/settings/audit?from=not-a-date"); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a bad date = %d; want 422", resp.StatusCode)
	}
	agent := f.signedIn(t, rapport.RoleAgent)
	for _, path := range []string{"/settings/audit", "/settings/audit/export"} {
		if resp, _ := agent.get(path); resp.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s as an agent = %d; want 403", path, resp.StatusCode)
		}
	}
	if resp, _ := agent.submit("/", "/settings/audit", url.Values{"retention_days": {"7"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an agent setting the retention = %d; want 403", resp.StatusCode)
	}
}
