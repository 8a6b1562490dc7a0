package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
)

// TestSuggestionsAPI: responses are created with tags and retagged through
// the API; the suggestion for a customer who dislikes sales calls names the
// email response with its evidence and flags the call; bad requests get a
// clear 4xx and change nothing.
func TestSuggestionsAPI(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			f := newFixture(t, b.Open)
			must := func(role rapport.Role, method, path, body string, want int) []byte {
				t.Helper()
				status, _, got := f.do(role, method, path, body)
				if status != want {
					t.Fatalf("%s %s = %d; want %d: %s", method, path, status, want, got)
				}
				return got
			}
			must(rapport.RoleManager, "POST", "/api/v1/touchpoints/complaint/responses",
				`{"key":"call_back","description":"Call back.","status":"trial","tags":["phone_call"]}`, http.StatusCreated)
			must(rapport.RoleManager, "POST", "/api/v1/touchpoints/complaint/responses",
				`{"key":"email_apology","description":"Email.","status":"trial"}`, http.StatusCreated)
			got := must(rapport.RoleManager, "PUT", "/api/v1/touchpoints/complaint/responses/email_apology/tags", `{"tags":["email","email"]}`, http.StatusOK)
			if !strings.Contains(string(got), `"tags":["email"]`) {
				t.Errorf("retagged response %s; want tags [email]", got)
			}
			for _, bad := range []struct {
				role rapport.Role
				body string
				want int
			}{
				{rapport.RoleManager, `{"tags":["Phone Call"]}`, http.StatusUnprocessableEntity},
				{rapport.RoleManager, `{}`, http.StatusUnprocessableEntity},
				{rapport.RoleManager, `{"tags":["email"],"more":1}`, http.StatusUnprocessableEntity},
				{rapport.RoleManager, `{"tags":`, http.StatusBadRequest},
				{rapport.RoleAgent, `{"tags":[]}`, http.StatusForbidden},
			} {
				must(bad.role, "PUT", "/api/v1/touchpoints/complaint/responses/email_apology/tags", bad.body, bad.want)
			}
			must(rapport.RoleManager, "POST", "/api/v1/touchpoints/complaint/standard", `{"response":"call_back"}`, http.StatusCreated)

			var batch []string
			var disliker string
			for i := range 120 {
				body := fmt.Sprintf(`{"name":"Customer %d","attributes":{"prefers":"email"},"preferences":{"likes":[],"dislikes":["sales calls"]}}`, i)
				good := "email_apology"
				if i%2 == 1 {
					body = fmt.Sprintf(`{"name":"Customer %d","preferences":{"likes":["phone calls"],"dislikes":[]}}`, i)
					good = "call_back"
				}
				var c rapport.Customer
				if err := json.Unmarshal(must(rapport.RoleAgent, "POST", "/api/v1/customers", body, http.StatusCreated), &c); err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					disliker = c.ID
				}
				for j, resp := range []string{"call_back", "email_apology"} {
					out := "neutral"
					if resp == good && (i/2+j)%10 < 6 || resp != good && (i/2+j)%10 == 9 {
						out = "magic"
					}
					batch = append(batch, fmt.Sprintf(`{"customer_id":%q,"touchpoint":"complaint","channel":"phone","occurred_at":"2026-02-01T10:00:00Z","response":%q,"outcome":%q}`, c.ID, resp, out))
				}
			}
			must(rapport.RoleAgent, "POST", "/api/v1/moments/batch", `{"moments":[`+strings.Join(batch, ",")+`]}`, http.StatusCreated)
			if err := sqlstore.NewSuggestionService(f.db).RefreshSuggestionGroups(t.Context()); err != nil {
				t.Fatal(err)
			}
			var sg rapport.Suggestions
			if err := json.Unmarshal(must(rapport.RoleViewer, "GET", "/api/v1/customers/"+disliker+"/suggestions?touchpoint=complaint", "", http.StatusOK), &sg); err != nil {
				t.Fatal(err)
			}
			if sg.Suggested != "email_apology" || !sg.Personal || sg.Basis != "dislike:sales calls" || sg.Responses[0].Moments != 60 {
				t.Errorf("suggested %q personal %v basis %q n %d (%s); want email_apology from 60 moments of dislikers",
					sg.Suggested, sg.Personal, sg.Basis, sg.Responses[0].Moments, sg.Reason)
			}
			if cb := sg.Find("call_back"); cb == nil || len(cb.Conflicts) != 1 {
				t.Errorf("call_back %+v; want flagged against the dislike of sales calls", cb)
			}
			must(rapport.RoleViewer, "GET", "/api/v1/customers/"+disliker+"/suggestions", "", http.StatusUnprocessableEntity)
			must(rapport.RoleViewer, "GET", "/api/v1/customers/"+disliker+"/suggestions?touchpoint=nowhere", "", http.StatusNotFound)
			must(rapport.RoleViewer, "GET", "/api/v1/customers/nobody/suggestions?touchpoint=complaint", "", http.StatusNotFound)

			// A segment variant of the standard, on the segment's own evidence.
			var seg rapport.Segment
			if err := json.Unmarshal(must(rapport.RoleManager, "POST", "/api/v1/segments", `{"name":"Prefers email","rule":"attributes.prefers = \"email\""}`, http.StatusCreated), &seg); err != nil {
				t.Fatal(err)
			}
			var cmp rapport.Comparison
			if err := json.Unmarshal(must(rapport.RoleViewer, "GET", "/api/v1/touchpoints/complaint/variants/comparison?segment="+seg.ID, "", http.StatusOK), &cmp); err != nil {
				t.Fatal(err)
			}
			if cmp.Winner == nil || *cmp.Winner != "email_apology" {
				t.Errorf("winner within the segment %v; want email_apology", cmp.Winner)
			}
			must(rapport.RoleManager, "POST", "/api/v1/touchpoints/complaint/variants", `{"segment":"`+seg.ID+`","response":"call_back"}`, http.StatusConflict)
			must(rapport.RoleManager, "POST", "/api/v1/touchpoints/complaint/variants", `{"segment":"`+seg.ID+`"}`, http.StatusUnprocessableEntity)
			must(rapport.RoleAgent, "POST", "/api/v1/touchpoints/complaint/variants", `{"segment":"`+seg.ID+`","response":"email_apology"}`, http.StatusForbidden)
			must(rapport.RoleManager, "POST", "/api/v1/touchpoints/complaint/variants", `{"segment":"`+seg.ID+`","response":"email_apology"}`, http.StatusCreated)
			var vs rapport.Page[*rapport.StandardVariant]
			if err := json.Unmarshal(must(rapport.RoleViewer, "GET", "/api/v1/touchpoints/complaint/variants", "", http.StatusOK), &vs); err != nil {
				t.Fatal(err)
			}
			if len(vs.Items) != 1 || vs.Items[0].Response != "email_apology" || vs.Items[0].SegmentName != "Prefers email" || vs.Items[0].BaselineMoments != 60 {
				t.Errorf("variants %+v; want email_apology for Prefers email on 60 moments", vs.Items)
			}
		})
	}
}
