package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testdb"
)

// TestOfferRoutes starts an offer on a segment through the API, as a
// manager may and an agent may not, refuses bad input without storing
// anything, and reads the offer, its list and its report.
func TestOfferRoutes(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			f := newFixture(t, b.Open)
			status, _, body := f.do(rapport.RoleManager, "POST", "/api/v1/segments", `{"name": "Everyone", "rule": "moments_365d >= 0"}`)
			if status != http.StatusCreated {
				t.Fatalf("create segment = %d: %s", status, body)
			}
			var sg rapport.Segment
			json.Unmarshal(body, &sg)

			refused := []struct{ name, role, body, field string }{
				{"agent", "agent", `{"name": "X", "kind": "gift", "segment": "` + sg.ID + `"}`, ""},
				{"unknown kind", "manager", `{"name": "X", "kind": "cash", "segment": "` + sg.ID + `"}`, "kind"},
				{"no segment", "manager", `{"name": "X", "kind": "gift"}`, "segment"},
				{"unknown segment", "manager", `{"name": "X", "kind": "gift", "segment": "nosuch"}`, "segment"},
				{"holdout too large", "manager", `{"name": "X", "kind": "gift", "segment": "` + sg.ID + `", "holdout_share": 0.9}`, "holdout_share"},
				{"negative seed", "manager", `{"name": "X", "kind": "gift", "segment": "` + sg.ID + `", "seed": -4}`, "seed"},
				{"future start", "manager", `{"name": "X", "kind": "gift", "segment": "` + sg.ID + `", "starts_at": "2099-01-01T00:00:00Z"}`, "starts_at"},
				{"unknown field", "manager", `{"name": "X", "kind": "gift", "segment": "` + sg.ID + `", "budget": 4}`, "budget"},
			}
			for _, tt := range refused {
				status, _, body := f.do(rapport.Role(tt.role), "POST", "/api/v1/offers", tt.body)
				want := http.StatusUnprocessableEntity
				if tt.role == "agent" {
					want = http.StatusForbidden
				}
				if status != want || (tt.field != "" && !strings.Contains(string(body), `"field":"`+tt.field+`"`)) {
					t.Errorf("%s: POST /api/v1/offers = %d: %s; want %d naming %s", tt.name, status, body, want, tt.field)
				}
			}
			if _, _, body := f.do(rapport.RoleViewer, "GET", "/api/v1/offers", ""); string(body) != "{\"items\":[]}\n" {
				t.Fatalf("offers after refused input = %s; want none", body)
			}

			status, hdr, body := f.do(rapport.RoleManager, "POST", "/api/v1/offers",
				`{"name": "Welcome gift", "kind": "gift", "cost": 3, "segment": "`+sg.ID+`", "holdout_share": 0.2, "seed": 11}`)
			if status != http.StatusCreated {
				t.Fatalf("POST /api/v1/offers = %d: %s", status, body)
			}
			var o rapport.Offer
			json.Unmarshal(body, &o)
			wantArm := rapport.OfferArm(11, f.customer, 0.2)
			if o.Offered+o.Holdout != 1 || (wantArm == rapport.ArmOffered) != (o.Offered == 1) || o.Seed != 11 || o.Touchpoint != "offer" {
				t.Fatalf("offer = %s; want the one customer drawn %s with seed 11 on offer", body, wantArm)
			}
			if hdr.Get("Location") != "/api/v1/offers/"+o.ID {
				t.Errorf("Location = %q", hdr.Get("Location"))
			}
			for _, path := range []string{"/api/v1/offers/" + o.ID, "/api/v1/offers/" + o.ID + "/customers?open=true&owner=me",
				"/api/v1/offers/" + o.ID + "/report"} {
				if status, _, body := f.do(rapport.RoleAgent, "GET", path, ""); status != http.StatusOK {
					t.Errorf("GET %s = %d: %s", path, status, body)
				}
			}
			status, _, body = f.do(rapport.RoleAgent, "GET", "/api/v1/offers/"+o.ID+"/report", "")
			if status != http.StatusOK {
				t.Fatalf("GET the report = %d: %s", status, body)
			}
			var rep rapport.OfferReport
			json.Unmarshal(body, &rep)
			if status != http.StatusOK || len(rep.Windows) != 2 || rep.Windows[0].Complete || len(rep.Verdicts) != 0 || !strings.Contains(rep.Summary, "No window has ended") {
				t.Errorf("report of an offer just started = %s", body)
			}
			if status, _, body := f.do(rapport.RoleAgent, "GET", "/api/v1/offers/"+o.ID+"/customers?open=maybe", ""); status != http.StatusUnprocessableEntity {
				t.Errorf("open=maybe = %d: %s; want 422", status, body)
			}
			if status, _, _ := f.do(rapport.RoleAgent, "GET", "/api/v1/offers/nosuch/report", ""); status != http.StatusNotFound {
				t.Errorf("report of an unknown offer = %d; want 404", status)
			}
		})
	}
}
