// Package api serves Rapport's versioned JSON API under /api/v1, with bearer
// token authentication, role checks and RFC 9457 problem details for errors.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/netaddr"
)

// Options are how the API presents itself, beyond the services it serves.
type Options struct {
	Logger *slog.Logger
	Clock  rapport.Clock
	// Metrics answers GET /metrics, such as a Prometheus exposition handler;
	// without it /metrics is 404.
	Metrics http.Handler
	// SurveyTTL is how long a survey link works; zero means rapport.DefaultSurveyTTL.
	SurveyTTL time.Duration
	// PublicURL, such as https://rapport.example.com, makes survey links
	// absolute; without it they are paths (/s/…).
	PublicURL string
	// SignIns counts the web UI's wrong passwords per account, so that an
	// admin can list and lift its holds; nil shows none.
	SignIns *rapport.Throttle
}

// Server is the JSON API.
type Server struct {
	rapport.Services
	Options
	mux     *http.ServeMux
	routes  []route
	openAPI []byte
	// addresses slows the guessing of tokens from one client address.
	addresses *rapport.Throttle
}

// route is one endpoint: what it answers and who may call it. The table of
// routes (routes.go) is also what the OpenAPI test checks against.
type route struct {
	method, pattern string
	perm            rapport.Permission
	public          bool
	handler         http.HandlerFunc
}

// NewServer returns the API over services as an http.Handler for /api/v1/,
// /healthz and /metrics.
func NewServer(services rapport.Services, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	doc, err := OpenAPI()
	if err != nil {
		// The document is embedded and checked by tests: failing here is a build defect.
		panic(err)
	}
	s := &Server{Services: services, Options: opts, mux: http.NewServeMux(), openAPI: doc,
		addresses: rapport.AddressThrottle(opts.Clock)}
	s.routes = s.routeTable()
	for _, rt := range s.routes {
		h := http.Handler(rt.handler)
		if !rt.public {
			h = s.authorize(rt.perm, h)
		}
		s.mux.Handle(rt.method+" "+rt.pattern, h)
	}
	s.mux.HandleFunc("/api/", s.handleNoRoute)
	return s
}

// handleNoRoute answers requests no route matched: 405 with Allow when the
// path exists under other methods, 404 otherwise.
func (s *Server) handleNoRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{"GET", "POST", "PATCH", "PUT", "DELETE"} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "/api/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, r, s.Logger, rapport.Errorf(rapport.EMETHOD, "%s does not answer %s; it answers %s.", r.URL.Path, r.Method, strings.Join(allow, ", ")))
		return
	}
	writeError(w, r, s.Logger, rapport.Errorf(rapport.ENOTFOUND, "No API endpoint answers %s %s.", r.Method, r.URL.Path))
}

// ServeHTTP serves the API, recovering from panics so one bad request cannot
// take the server down.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v) // a stream cut short on purpose (see handleExportMoments)
			}
			s.Logger.ErrorContext(r.Context(), "panic", "method", r.Method, "path", r.URL.Path, "panic", v)
			writeError(w, r, s.Logger, rapport.Errorf(rapport.EINTERNAL, "panic: %v", v))
		}
	}()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if err := checkAddress(r); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// authorize admits requests with a valid bearer token whose role has perm.
func (s *Server) authorize(perm rapport.Permission, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, secret, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
			writeError(w, r, s.Logger, rapport.Errorf(rapport.EUNAUTHORIZED, "Send an API token as Authorization: Bearer <token>."))
			return
		}
		// A client that has sent many wrong tokens waits before any token of
		// its is checked, so guessing learns nothing while it waits.
		addr := netaddr.Client(r)
		if wait := s.addresses.Wait(addr); wait > 0 {
			s.tooMany(w, r, wait)
			return
		}
		p, err := s.Tokens.Authenticate(r.Context(), strings.TrimSpace(secret))
		if p != nil {
			p.Address = addr
		}
		if rapport.ErrorCode(err) == rapport.EUNAUTHORIZED {
			s.addresses.Fail(addr)
		}
		if err != nil {
			writeError(w, r, s.Logger, err)
			return
		}
		if !p.Role.Can(perm) {
			writeError(w, r, s.Logger, rapport.Errorf(rapport.EFORBIDDEN, "The %s role may not do this.", p.Role))
			return
		}
		next.ServeHTTP(w, r.WithContext(rapport.NewContextWithPrincipal(r.Context(), p)))
	})
}

// tooMany refuses a client that must wait before it tries again.
func (s *Server) tooMany(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	secs := int(wait.Round(time.Second) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	writeError(w, r, s.Logger, rapport.Errorf(rapport.ETOOMANY,
		"Too many requests from this address came with a wrong token; try again in %d seconds.", max(secs, 1)))
}

// handleMetrics serves the metrics to any signed-in caller: they describe
// load and errors, not customers.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	if s.Metrics == nil {
		writeError(w, r, s.Logger, rapport.Errorf(rapport.ENOTFOUND, "This server does not export metrics."))
		return
	}
	s.Metrics.ServeHTTP(w, r)
}

// handleHealth answers 200 when the database answers, 503 otherwise.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.Ping(ctx); err != nil {
		s.Logger.WarnContext(ctx, "health check failed", "err", err)
		encode(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
		return
	}
	encode(w, http.StatusOK, map[string]string{"status": "ok"})
}
