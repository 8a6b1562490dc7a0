// Package metrics exports Rapport's metrics to Prometheus: HTTP requests by
// route, moments recorded, the database's connection pools and the build.
// Everything registers on a registry the caller passes in; nothing here uses
// Prometheus's global default registry.
package metrics

import (
	"database/sql"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rapport-crm/rapport"
)

// Metrics are Rapport's own metrics.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	moments  *prometheus.CounterVec
}

// New registers Rapport's metrics, and its build information with version,
// on reg.
func New(reg prometheus.Registerer, version string) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rapport_http_requests_total",
			Help: "HTTP requests answered, by method, route pattern and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "rapport_http_request_duration_seconds",
			Help:    "Time taken to answer HTTP requests, by method, route pattern and status code.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route", "code"}),
		moments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rapport_moments_recorded_total",
			Help: "Moments recorded, by how: single (the API or the web form), batch, import or promise (the misery moment of a broken promise). A retry that finds its external id stored is not counted.",
		}, []string{"how"}),
	}
	// Every series exists from the start, so that rate() sees the first moment.
	for _, source := range rapport.MomentSources {
		m.moments.WithLabelValues(string(source))
	}
	reg.MustRegister(m.requests, m.duration, m.moments, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "rapport_build_info",
		Help:        "Always 1; its version label is the running Rapport's version.",
		ConstLabels: prometheus.Labels{"version": version},
	}, func() float64 { return 1 }))
	return m
}

// Handler serves what g gathers in the Prometheus text format.
func Handler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{})
}

// Instrument counts and times the requests next answers. A request is
// labelled with the pattern of the innermost ServeMux that routed it (the
// pattern's method stripped: the method is its own label), never with its
// path, so that ids and survey tokens cannot become label values. A handler
// that gives its ServeMux a copy of the request (as a middleware adding to
// the context does) must copy the pattern back, as the web UI does, or the
// request is labelled with the outer pattern.
func (m *Metrics) Instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		labels := []string{method(r.Method), route(r.Pattern), strconv.Itoa(rec.status)}
		m.requests.WithLabelValues(labels...).Inc()
		m.duration.WithLabelValues(labels...).Observe(time.Since(start).Seconds())
	})
}

// route is a ServeMux pattern without its method, or "none" when no pattern
// matched.
func route(pattern string) string {
	if pattern == "" {
		return "none"
	}
	if _, path, ok := strings.Cut(pattern, " "); ok {
		return strings.TrimLeft(path, " \t")
	}
	return pattern
}

// method keeps the method label to the methods HTTP defines: a client could
// otherwise make a new series with every request.
func method(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	// Informational answers (1xx) come before the real one.
	if !r.wrote && code >= 200 {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// CountMoments counts n moments added by a route; the store calls it after
// each commit (see sqlstore.DB.ObserveMoments), so every route is counted.
func (m *Metrics) CountMoments(source rapport.MomentSource, n int) {
	m.moments.WithLabelValues(string(source)).Add(float64(n))
}

// poolCollector reads connection pool statistics when scraped.
type poolCollector struct {
	stats   func() map[string]sql.DBStats
	figures []poolFigure
}

// poolFigure is one figure of sql.DBStats, exported as one metric.
type poolFigure struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(sql.DBStats) float64
}

// NewPoolCollector returns a collector of the connection pools' statistics
// that stats reports by pool name, such as sqlstore.DB.Stats.
func NewPoolCollector(stats func() map[string]sql.DBStats) prometheus.Collector {
	figure := func(name, help string, kind prometheus.ValueType, value func(sql.DBStats) float64) poolFigure {
		return poolFigure{prometheus.NewDesc("rapport_db_"+name, help, []string{"pool"}, nil), kind, value}
	}
	gauge, counter := prometheus.GaugeValue, prometheus.CounterValue
	return &poolCollector{stats: stats, figures: []poolFigure{
		figure("max_open_connections", "Maximum number of open connections to the database.", gauge,
			func(s sql.DBStats) float64 { return float64(s.MaxOpenConnections) }),
		figure("open_connections", "Connections established, in use and idle.", gauge,
			func(s sql.DBStats) float64 { return float64(s.OpenConnections) }),
		figure("in_use_connections", "Connections in use.", gauge,
			func(s sql.DBStats) float64 { return float64(s.InUse) }),
		figure("idle_connections", "Idle connections.", gauge,
			func(s sql.DBStats) float64 { return float64(s.Idle) }),
		figure("wait_count_total", "Connections waited for.", counter,
			func(s sql.DBStats) float64 { return float64(s.WaitCount) }),
		figure("wait_duration_seconds_total", "Time spent waiting for a connection.", counter,
			func(s sql.DBStats) float64 { return s.WaitDuration.Seconds() }),
		figure("max_idle_closed_total", "Connections closed because of the limit on idle connections.", counter,
			func(s sql.DBStats) float64 { return float64(s.MaxIdleClosed) }),
		figure("max_idle_time_closed_total", "Connections closed because they were idle too long.", counter,
			func(s sql.DBStats) float64 { return float64(s.MaxIdleTimeClosed) }),
		figure("max_lifetime_closed_total", "Connections closed because they reached their maximum lifetime.", counter,
			func(s sql.DBStats) float64 { return float64(s.MaxLifetimeClosed) }),
	}}
}

// Describe implements prometheus.Collector.
func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range c.figures {
		ch <- f.desc
	}
}

// Collect implements prometheus.Collector.
func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	for pool, s := range c.stats() {
		for _, f := range c.figures {
			ch <- prometheus.MustNewConstMetric(f.desc, f.kind, f.value(s), pool)
		}
	}
}
