package api_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/api"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
)

// tokenID asks the API which token a role's secret is.
func (f *fixture) tokenID(role rapport.Role) string {
	f.t.Helper()
	_, _, body := f.do(role, "GET", "/api/v1/me", "")
	var p rapport.Principal
	if err := json.Unmarshal(body, &p); err != nil || p.TokenID == "" {
		f.t.Fatalf("GET /api/v1/me as %s = %s, %v", role, body, err)
	}
	return p.TokenID
}

func auditPage(t *testing.T, f *fixture, query string) rapport.Page[*rapport.AuditEntry] {
	t.Helper()
	status, _, body := f.do(rapport.RoleAdmin, "GET", "/api/v1/audit"+query, "")
	var page rapport.Page[*rapport.AuditEntry]
	if status != 200 || json.Unmarshal(body, &page) != nil {
		t.Fatalf("GET /api/v1/audit%s = %d %s", query, status, body)
	}
	return page
}

// TestAuditAPI: changes through the API are in the log with the token and
// the address they came from; admins read it with filters and pages and
// export it; no other role reads it, and nothing changes it.
func TestAuditAPI(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			f := newFixture(t, b.Open)
			agent, admin := f.tokenID(rapport.RoleAgent), f.tokenID(rapport.RoleAdmin)
			if status, _, body := f.do(rapport.RoleAgent, "PATCH", "/api/v1/customers/{customer}", `{"phone": "+44 20 7946 0000", "owner_id": "{staff}"}`); status != 200 {
				t.Fatalf("PATCH customer = %d %s", status, body)
			}
			if status, _, body := f.do(rapport.RoleAdmin, "POST", "/api/v1/customers", `{"name": "Ada Lovelace"}`); status != 201 {
				t.Fatalf("POST customer = %d %s", status, body)
			}

			page := auditPage(t, f, "?entity_type=customer&entity_id={customer}&action=update")
			if len(page.Items) != 1 {
				t.Fatalf("entries for the patched customer = %d; want 1", len(page.Items))
			}
			e := page.Items[0]
			if e.Actor != "token:"+agent || e.TokenID != agent || e.Address != "127.0.0.1" {
				t.Errorf("entry by %q with token %q from %q; want token:%s from 127.0.0.1", e.Actor, e.TokenID, e.Address, agent)
			}
			if got, want := e.Changes["phone"], (rapport.AuditChange{Before: nil, After: rapport.Redacted}); got != want {
				t.Errorf("phone change = %+v; want %+v", got, want)
			}
			if got := e.Changes["owner_id"]; got.After != f.staff {
				t.Errorf("owner_id change = %+v; want after %s", got, f.staff)
			}
			if got := auditPage(t, f, "?actor=token:"+admin+"&entity_type=customer").Items; len(got) != 1 || got[0].Action != "create" {
				t.Errorf("the admin token's customer changes = %d; want 1 creation", len(got))
			}
			if got := auditPage(t, f, "?actor="+admin+"&from=2026-11-20&to=2026-11-21").Items; len(got) != 1 {
				t.Errorf("the admin token's changes on the day = %d; want 1", len(got))
			}
			if got := auditPage(t, f, "?from=2026-11-21").Items; len(got) != 0 {
				t.Errorf("changes after the day = %d; want 0", len(got))
			}

			// Pages of one together hold every entry once.
			all := auditPage(t, f, "")
			var paged []string
			for cursor := ""; ; {
				p := auditPage(t, f, "?limit=1&cursor="+cursor)
				for _, e := range p.Items {
					paged = append(paged, e.ID)
				}
				if cursor = p.NextCursor; cursor == "" {
					break
				}
			}
			var ids []string
			for _, e := range all.Items {
				ids = append(ids, e.ID)
			}
			if len(ids) < 8 || !slices.Equal(paged, ids) {
				t.Errorf("pages of one = %q; want %q (at least 8: tokens, staff, customers)", paged, ids)
			}

			// Exports hold the same entries.
			status, h, body := f.do(rapport.RoleAdmin, "GET", "/api/v1/audit/export?entity_type=customer", "")
			rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
			if status != 200 || err != nil || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || len(rows) != 4 ||
				strings.Join(rows[0], ",") != "id,at,actor,token_id,address,action,entity_type,entity_id,changes" {
				t.Errorf("CSV export = %d %s %v: %q; want a header and 3 rows", status, h.Get("Content-Type"), err, rows)
			}
			status, _, body = f.do(rapport.RoleAdmin, "GET", "/api/v1/audit/export?format=ndjson&action=update", "")
			lines := strings.Split(strings.TrimSpace(string(body)), "\n")
			var first rapport.AuditEntry
			if status != 200 || len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &first) != nil || first.ID != e.ID {
				t.Errorf("NDJSON export = %d %q; want the one update", status, body)
			}

			// Bad queries and settings.
			for _, bad := range []string{"/api/v1/audit?from=yesterday", "/api/v1/audit?cursor=%21%21", "/api/v1/audit?limit=0",
				"/api/v1/audit/export?format=xml"} {
				if status, _, body := f.do(rapport.RoleAdmin, "GET", bad, ""); status != 422 {
					t.Errorf("GET %s = %d %s; want 422", bad, status, body)
				}
			}
			for _, body := range []string{`{}`, `{"retention_days": 3}`, `{"retention_days": "long"}`} {
				if status, _, got := f.do(rapport.RoleAdmin, "PUT", "/api/v1/audit/settings", body); status != 422 {
					t.Errorf("PUT settings %s = %d %s; want 422", body, status, got)
				}
			}
			if status, _, got := f.do(rapport.RoleAdmin, "PUT", "/api/v1/audit/settings", `{"retention_days": 30}`); status != 200 || !strings.Contains(string(got), `"retention_days":30`) {
				t.Errorf("PUT settings 30 days = %d %s", status, got)
			}
			if status, _, got := f.do(rapport.RoleAdmin, "GET", "/api/v1/audit/settings", ""); status != 200 || !strings.Contains(string(got), `"retention_days":30`) {
				t.Errorf("GET settings = %d %s; want 30 days", status, got)
			}
			if got := auditPage(t, f, "?entity_type=audit_settings").Items; len(got) != 1 || got[0].Changes["retention_days"].After != 30.0 {
				t.Errorf("entries for the settings = %+v; want one, to 30 days", got)
			}

			// Only admins.
			for _, role := range []rapport.Role{rapport.RoleManager, rapport.RoleAgent, rapport.RoleViewer, ""} {
				want := 403
				if role == "" {
					want = 401
				}
				for _, rt := range []struct{ method, path, body string }{
					{"GET", "/api/v1/audit", ""}, {"GET", "/api/v1/audit/export", ""},
					{"GET", "/api/v1/audit/settings", ""}, {"PUT", "/api/v1/audit/settings", `{"retention_days": 7}`},
				} {
					if status, _, _ := f.do(role, rt.method, rt.path, rt.body); status != want {
						t.Errorf("%s %s as %q = %d; want %d", rt.method, rt.path, role, status, want)
					}
				}
			}
			// Nothing changes an entry.
			for _, method := range []string{"DELETE", "PATCH", "PUT", "POST"} {
				if status, _, _ := f.do(rapport.RoleAdmin, method, "/api/v1/audit", `{}`); status != 405 {
					t.Errorf("%s /api/v1/audit = %d; want 405", method, status)
				}
			}
		})
	}
}

// TestRequestLogNamesPrincipal: the request log says which user or token
// asked, never the secret.
func TestRequestLogNamesPrincipal(t *testing.T) {
	f := newFixture(t, testdb.SQLite)
	var logs bytes.Buffer
	handler := api.LogRequests(slog.New(slog.NewJSONHandler(&logs, nil)),
		api.NewServer(sqlstore.NewServices(f.db, sqlstore.Options{}), api.Options{}))
	req := httptest.NewRequest("GET", "/api/v1/customers", nil)
	req.Header.Set("Authorization", "Bearer "+f.tokens[rapport.RoleViewer])
	handler.ServeHTTP(httptest.NewRecorder(), req)
	line := logs.String()
	if !strings.Contains(line, `"token_id":"`+f.tokenID(rapport.RoleViewer)+`"`) || strings.Contains(line, f.tokens[rapport.RoleViewer]) {
		t.Errorf("request log = %s; want the token's id and not its secret", line)
	}
}
