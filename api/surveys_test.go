package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testdb"
)

// TestSurveyPolicyAPI: a manager sets a touchpoint's survey policy and
// anyone reads it back; bad input is a 422 naming each field and changes
// nothing; an unknown touchpoint is a 404; the report answers with the
// window's counts.
func TestSurveyPolicyAPI(t *testing.T) {
	f := newFixture(t, testdb.SQLite)
	const path = "/api/v1/touchpoints/query/survey-policy"
	status, _, body := f.do(rapport.RoleViewer, "GET", path, "")
	if status != http.StatusOK || !strings.Contains(string(body), `"enabled":false`) {
		t.Fatalf("GET the default policy = %d %s; want 200, turned off", status, body)
	}
	good := `{"enabled":true,"channels":["chat","phone"],"sample_percent":50,"delay_minutes":120,"quiet_days":30,"reminder_days":3,"reasons":["Kept waiting"," Kept  waiting "]}`
	if status, _, body := f.do(rapport.RoleManager, "PUT", path, good); status != http.StatusOK {
		t.Fatalf("PUT = %d %s", status, body)
	}
	for _, tc := range []struct{ body, field string }{
		{`{"sample_percent":50}`, "enabled"},
		{`{"enabled":true,"sample_percent":150}`, "sample_percent"},
		{`{"enabled":true,"channels":["fax"]}`, "channels"},
		{`{"enabled":true,"reminder_days":30}`, "reminder_days"},
	} {
		status, _, body := f.do(rapport.RoleManager, "PUT", path, tc.body)
		if status != http.StatusUnprocessableEntity || !strings.Contains(string(body), `"field":"`+tc.field+`"`) {
			t.Errorf("PUT %s = %d %s; want 422 on %s", tc.body, status, body, tc.field)
		}
	}
	if status, _, _ := f.do(rapport.RoleManager, "PUT", path, `{"enabled":true,"bogus":1}`); status != http.StatusUnprocessableEntity {
		t.Errorf("PUT with an unknown field = %d; want 422", status)
	}
	_, _, body = f.do(rapport.RoleAgent, "GET", path, "")
	var got rapport.SurveyPolicy
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if !got.Enabled || got.SamplePercent != 50 || len(got.Channels) != 2 || len(got.Reasons) != 1 || got.Reasons[0] != "Kept waiting" {
		t.Errorf("the policy after bad PUTs = %s; want the good one kept, reasons tidied", body)
	}
	if status, _, _ := f.do(rapport.RoleManager, "GET", "/api/v1/touchpoints/nosuch/survey-policy", ""); status != http.StatusNotFound {
		t.Errorf("GET an unknown touchpoint's policy = %d; want 404", status)
	}
	status, _, body = f.do(rapport.RoleViewer, "GET", "/api/v1/touchpoints/query/survey-report?from=2026-01-01&to=2026-02-01", "")
	if status != http.StatusOK || !strings.Contains(string(body), `"invited":0`) || !strings.Contains(string(body), `"low_response":true`) {
		t.Errorf("GET the report = %d %s; want none invited, too few to trust", status, body)
	}
	if status, _, _ := f.do(rapport.RoleViewer, "GET", "/api/v1/touchpoints/query/survey-report?from=yesterday", ""); status != http.StatusUnprocessableEntity {
		t.Errorf("GET the report from=yesterday = %d; want 422", status)
	}
}
