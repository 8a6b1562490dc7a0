package metrics

import (
	"database/sql"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestInstrumentLabels(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /customers/{id}", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("POST /s/{token}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusCreated)
		w.WriteHeader(http.StatusTeapot) // superfluous: net/http ignores it
	})
	reg := prometheus.NewRegistry()
	m := New(reg, "v")
	h := m.Instrument(mux)
	for _, tc := range []struct {
		method, path string
		labels       []string // method, route, code
	}{
		{"GET", "/customers/01KAG9V1D6F8K2M4P7R9T3W5Y0", []string{"GET", "/customers/{id}", "200"}},
		{"HEAD", "/customers/42", []string{"HEAD", "/customers/{id}", "200"}},
		{"POST", "/s/secret-token", []string{"POST", "/s/{token}", "201"}},
		{"GET", "/nowhere", []string{"GET", "none", "404"}},
		{"BREW", "/customers/42", []string{"other", "none", "405"}},
	} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tc.method, tc.path, nil))
		c, err := m.requests.GetMetricWithLabelValues(tc.labels...)
		if err != nil {
			t.Fatal(err)
		}
		if got := counterValue(t, c); got != 1 {
			t.Errorf("%s %s: requests%v = %v; want 1", tc.method, tc.path, tc.labels, got)
		}
	}
}

func TestRoute(t *testing.T) {
	for _, tc := range []struct{ pattern, want string }{
		{"GET /api/v1/customers/{id}", "/api/v1/customers/{id}"},
		{"/api/", "/api/"},
		{"POST  /s/{token}", "/s/{token}"},
		{"", "none"},
	} {
		if got := route(tc.pattern); got != tc.want {
			t.Errorf("route(%q) = %q; want %q", tc.pattern, got, tc.want)
		}
	}
}

func TestPoolCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewPoolCollector(func() map[string]sql.DBStats {
		return map[string]sql.DBStats{"read": {OpenConnections: 3, InUse: 1, Idle: 2}, "write": {MaxOpenConnections: 1}}
	}))
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, fam := range families {
		for _, m := range fam.GetMetric() {
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
			got[fam.GetName()+"/"+m.GetLabel()[0].GetValue()] = v
		}
	}
	for key, want := range map[string]float64{
		"rapport_db_open_connections/read":      3,
		"rapport_db_in_use_connections/read":    1,
		"rapport_db_idle_connections/read":      2,
		"rapport_db_max_open_connections/write": 1,
		"rapport_db_wait_count_total/write":     0,
	} {
		if v, ok := got[key]; !ok || v != want {
			t.Errorf("%s = %v (found %t); want %v", key, v, ok, want)
		}
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return families[0].GetMetric()[0].GetCounter().GetValue()
}
