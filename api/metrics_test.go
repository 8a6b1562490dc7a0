package api_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testdb"
)

// sample is the value of the sample of name whose labels include want, and
// whether there is one, in a scrape in the Prometheus text format.
func sample(scrape, name string, want map[string]string) (float64, bool) {
	label := regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`)
	for line := range strings.Lines(scrape) {
		series, value, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || strings.HasPrefix(line, "#") || (series != name && !strings.HasPrefix(series, name+"{")) {
			continue
		}
		got := map[string]string{}
		for _, m := range label.FindAllStringSubmatch(series, -1) {
			got[m[1]] = m[2]
		}
		match := true
		for k, v := range want {
			match = match && got[k] == v
		}
		if match {
			v, err := strconv.ParseFloat(value, 64)
			return v, err == nil
		}
	}
	return 0, false
}

func TestMetrics(t *testing.T) {
	f := newFixture(t, testdb.SQLite)
	scrape := func() string {
		t.Helper()
		status, header, body := f.do(rapport.RoleViewer, "GET", "/metrics", "")
		if status != 200 {
			t.Fatalf("GET /metrics as viewer = %d; want 200\n%s", status, body)
		}
		if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("GET /metrics: Content-Type = %q; want text/plain", ct)
		}
		return string(body)
	}
	customer := map[string]string{"method": "GET", "route": "/api/v1/customers/{id}", "code": "200"}
	before, _ := sample(scrape(), "rapport_http_requests_total", customer)

	for range 2 {
		if status, _, body := f.do(rapport.RoleViewer, "GET", "/api/v1/customers/{customer}", ""); status != 200 {
			t.Fatalf("GET /api/v1/customers/{customer} = %d; want 200\n%s", status, body)
		}
	}
	f.do(rapport.RoleViewer, "GET", "/api/v1/customers/01NOSUCHCUSTOMER", "")
	f.do(rapport.RoleViewer, "GET", "/api/v1/no/such/path", "")
	moment := `{"external_id": "call-9", "customer_id": "{customer}", "touchpoint": "greeting", "channel": "phone", "occurred_at": "2026-11-19T10:00:00Z"}`
	for _, req := range []struct{ path, body string }{
		{"/api/v1/moments", moment},
		{"/api/v1/moments", moment}, // a retry stores nothing
		{"/api/v1/moments/batch", `{"moments": [` + strings.Replace(moment, "call-9", "call-10", 1) + `, ` + strings.Replace(moment, "call-9", "call-11", 1) + `]}`},
	} {
		if status, _, body := f.do(rapport.RoleAgent, "POST", req.path, req.body); status >= 300 {
			t.Fatalf("POST %s = %d\n%s", req.path, status, body)
		}
	}

	got := scrape()
	if after, ok := sample(got, "rapport_http_requests_total", customer); !ok || after-before != 2 {
		t.Errorf("rapport_http_requests_total%v rose by %v (found %t); want 2\n%s", customer, after-before, ok, got)
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"rapport_http_requests_total", map[string]string{"method": "GET", "route": "/api/v1/customers/{id}", "code": "404"}, 1},
		{"rapport_http_requests_total", map[string]string{"method": "GET", "route": "/api/", "code": "404"}, 1},
		{"rapport_http_requests_total", map[string]string{"method": "GET", "route": "/metrics", "code": "200"}, 1},
		{"rapport_http_request_duration_seconds_count", map[string]string{"method": "GET", "route": "/api/v1/customers/{id}", "code": "200"}, 2},
		{"rapport_moments_recorded_total", map[string]string{"how": "single"}, 1},
		{"rapport_moments_recorded_total", map[string]string{"how": "batch"}, 2},
		{"rapport_build_info", map[string]string{"version": "test"}, 1},
	} {
		if v, ok := sample(got, c.name, c.labels); !ok || v != c.want {
			t.Errorf("%s%v = %v (found %t); want %v", c.name, c.labels, v, ok, c.want)
		}
	}
	// Paths hold ids, and survey paths their secret tokens: only patterns
	// may be label values.
	for _, raw := range []string{f.customer, "01NOSUCHCUSTOMER", "/no/such/path"} {
		if strings.Contains(got, raw) {
			t.Errorf("the metrics hold %q, from a request's path", raw)
		}
	}

	for _, role := range rapport.Roles {
		if status, _, _ := f.do(role, "GET", "/metrics", ""); status != 200 {
			t.Errorf("GET /metrics as %s = %d; want 200", role, status)
		}
	}
	if status, _, body := f.do("", "GET", "/metrics", ""); status != 401 {
		t.Errorf("GET /metrics without a token = %d; want 401\n%s", status, body)
	}
	f.tokens["wrong"] = "rpt_wrong"
	if status, _, _ := f.do("wrong", "GET", "/metrics", ""); status != 401 {
		t.Errorf("GET /metrics with a wrong token = %d; want 401", status)
	}
}
