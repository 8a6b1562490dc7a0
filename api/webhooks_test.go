package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
)

// TestWebhookScenarios walks through webhooks over HTTP, each step
// depending on the ones before, up to a receiver on loopback getting a
// signed event for a moment recorded through the API.
func TestWebhookScenarios(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			f := newFixtureWith(t, b.Open, sqlstore.Options{Webhooks: sqlstore.WebhookOptions{AllowPrivate: true}})
			var mu sync.Mutex
			var got []*http.Request
			var bodies [][]byte
			rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				mu.Lock()
				got, bodies = append(got, r), append(bodies, body)
				mu.Unlock()
			}))
			defer rcv.Close()
			ids := map[string]string{"{customer}": f.customer, "{receiver}": rcv.URL}
			fill, step := f.scenario(t, ids)
			items := func(page map[string]any) []any {
				v, _ := page["items"].([]any)
				return v
			}

			hook := `{"url": "{receiver}/rapport", "description": "CRM sync", "kinds": ["moment.recorded", "case.opened"]}`
			step("manager may not", rapport.RoleManager, "POST", "/api/v1/webhooks", hook, 403)
			step("nor list", rapport.RoleManager, "GET", "/api/v1/webhooks", "", 403)
			step("bad webhook", rapport.RoleAdmin, "POST", "/api/v1/webhooks",
				`{"url": "ftp://example.com", "kinds": ["moment.deleted"], "secret": "short"}`, 422,
				`"field":"url"`, `"field":"kinds"`, `"field":"secret"`)
			step("unknown field", rapport.RoleAdmin, "POST", "/api/v1/webhooks", `{"url": "https://example.com", "kinds": ["ping"], "events": []}`, 422,
				`"field":"events"`)
			created := step("create", rapport.RoleAdmin, "POST", "/api/v1/webhooks", hook, 201,
				`"secret":"whsec_`, `"active":true`, `"kinds":["moment.recorded","case.opened"]`)
			ids["{webhook}"], _ = created["id"].(string)
			secret, _ := created["secret"].(string)
			for _, path := range []string{"/api/v1/webhooks", "/api/v1/webhooks/{webhook}"} {
				if _, _, resp := f.do(rapport.RoleAdmin, "GET", fill(path), ""); !bytes.Contains(resp, []byte(ids["{webhook}"])) ||
					bytes.Contains(resp, []byte(secret)) || bytes.Contains(resp, []byte("secret")) {
					t.Errorf("GET %s = %s; want the webhook without its secret", path, resp)
				}
			}
			step("unknown webhook", rapport.RoleAdmin, "GET", "/api/v1/webhooks/NOPE", "", 404)
			step("pause", rapport.RoleAdmin, "PATCH", "/api/v1/webhooks/{webhook}", `{"active": false}`, 200, `"active":false`)
			step("test while paused", rapport.RoleAdmin, "POST", "/api/v1/webhooks/{webhook}/test", "", 409)
			step("bad patch", rapport.RoleAdmin, "PATCH", "/api/v1/webhooks/{webhook}", `{"url": "not a url", "kinds": []}`, 422,
				`"field":"url"`, `"field":"kinds"`)
			step("resume", rapport.RoleAdmin, "PATCH", "/api/v1/webhooks/{webhook}", `{"active": true, "description": "CRM"}`, 200,
				`"active":true`, `"description":"CRM"`)
			ping := step("test", rapport.RoleAdmin, "POST", "/api/v1/webhooks/{webhook}/test", "", 202, `"kind":"ping"`, `"status":"pending"`)

			step("record misery", rapport.RoleAgent, "POST", "/api/v1/moments",
				`{"external_id": "call-77", "customer_id": "{customer}", "touchpoint": "complaint", "channel": "phone", "occurred_at": "2026-11-20T10:00:00Z", "rating": 1}`, 201)
			step("sent again", rapport.RoleAgent, "POST", "/api/v1/moments",
				`{"external_id": "call-77", "customer_id": "{customer}", "touchpoint": "complaint", "channel": "phone", "occurred_at": "2026-11-20T10:00:00Z", "rating": 1}`, 200)
			page := step("deliveries", rapport.RoleAdmin, "GET", "/api/v1/webhooks/{webhook}/deliveries", "", 200,
				`"kind":"moment.recorded"`, `"kind":"case.opened"`, `"kind":"ping"`)
			if n := len(items(page)); n != 3 {
				t.Errorf("deliveries = %d; want 3: the ping, the moment (once) and its case", n)
			}
			step("bad status", rapport.RoleAdmin, "GET", "/api/v1/webhooks/{webhook}/deliveries?status=lost&limit=0", "", 422,
				`"field":"status"`, `"field":"limit"`)
			step("a page of one", rapport.RoleAdmin, "GET", "/api/v1/webhooks/{webhook}/deliveries?limit=1", "", 200, `"next_cursor":"`)

			// The worker serve runs sends them to the receiver, signed.
			hooks := sqlstore.NewWebhookService(f.db, sqlstore.WebhookOptions{AllowPrivate: true})
			if n, err := hooks.Deliver(context.Background()); err != nil || n != 3 {
				t.Fatalf("Deliver = %d, %v; want 3 delivered", n, err)
			}
			mu.Lock()
			defer mu.Unlock()
			kinds := map[string]bool{}
			for i, r := range got {
				kinds[r.Header.Get("Rapport-Event")] = true
				if err := rapport.VerifyWebhook(secret, r.Header.Get("Rapport-Signature"), bodies[i], now, time.Minute); err != nil || r.URL.Path != "/rapport" {
					t.Errorf("delivery %d to %s: the signature does not verify with the secret from the answer: %v", i, r.URL.Path, err)
				}
				if r.Header.Get("Rapport-Delivery") == ping["id"] && r.Header.Get("Rapport-Event") != rapport.EventPing {
					t.Errorf("delivery %s is the ping but came as %s", ping["id"], r.Header.Get("Rapport-Event"))
				}
			}
			if len(got) != 3 || !kinds[rapport.EventPing] || !kinds[rapport.EventMomentRecorded] || !kinds[rapport.EventCaseOpened] {
				t.Errorf("the receiver got %d requests of kinds %v; want ping, moment.recorded and case.opened", len(got), kinds)
			}
			step("delivered", rapport.RoleAdmin, "GET", "/api/v1/webhooks/{webhook}/deliveries?status=delivered", "", 200,
				`"status":"delivered"`, `"attempts":1`, `"last_status":200`)

			step("delete", rapport.RoleAdmin, "DELETE", "/api/v1/webhooks/{webhook}", "", 204)
			step("deleted", rapport.RoleAdmin, "GET", "/api/v1/webhooks/{webhook}/deliveries", "", 404)
			step("delete again", rapport.RoleAdmin, "DELETE", "/api/v1/webhooks/{webhook}", "", 404)
		})
	}
}

// TestWebhookInternalAddressRefused: a server that keeps webhooks off
// internal addresses refuses, at registration, a URL written with one, on
// the url field; nothing is stored and nothing is contacted.
func TestWebhookInternalAddressRefused(t *testing.T) {
	f := newFixture(t, testdb.Backends()[0].Open)
	for _, url := range []string{
		"http://0.0.0.0/", "http://10.1.2.3/", "http://100.64.0.1/", "http://100.100.100.200/latest/meta-data",
		"http://127.0.0.1:9000/", "http://169.254.169.254/latest/meta-data", "http://172.16.5.4/", "http://192.0.0.8/",
		"http://192.168.1.1/", "http://198.18.0.1/", "http://198.19.255.254/", "http://240.0.0.1/", "http://255.255.255.255/",
		"http://[::1]/", "http://[::ffff:100.64.0.1]/", "http://[::ffff:169.254.169.254]/", "http://[fd00:ec2::254]/",
		"http://[fe80::1%25eth0]/", "http://[64:ff9b::a9fe:a9fe]/", "https://localhost:8443/", "http://metadata.localhost/",
	} {
		status, _, body := f.do(rapport.RoleAdmin, "POST", "/api/v1/webhooks", `{"url": "`+url+`", "kinds": ["moment.recorded"]}`)
		if status != 422 || !bytes.Contains(body, []byte(`"field":"url"`)) || !bytes.Contains(body, []byte("--webhooks-private")) {
			t.Errorf("POST /api/v1/webhooks with url %s = %d %s; want 422 on url naming --webhooks-private", url, status, body)
		}
	}
	status, _, body := f.do(rapport.RoleAdmin, "POST", "/api/v1/webhooks", `{"url": "https://hooks.example.com/rapport", "kinds": ["moment.recorded"]}`)
	if status != 201 {
		t.Fatalf("POST /api/v1/webhooks with a public name = %d %s; want 201", status, body)
	}
	var created struct{ ID string }
	json.Unmarshal(body, &created)
	status, _, body = f.do(rapport.RoleAdmin, "PATCH", "/api/v1/webhooks/"+created.ID, `{"url": "http://100.64.0.1/"}`)
	if status != 422 || !bytes.Contains(body, []byte("100.64.0.0/10")) {
		t.Errorf("PATCH the webhook to 100.64.0.1 = %d %s; want 422 naming 100.64.0.0/10", status, body)
	}
	if _, _, list := f.do(rapport.RoleAdmin, "GET", "/api/v1/webhooks", ""); bytes.Count(list, []byte(`"url"`)) != 1 {
		t.Errorf("GET /api/v1/webhooks = %s; want the one public webhook alone", list)
	}
}
