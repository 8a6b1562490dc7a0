// Package web serves Rapport's user interface: server-rendered pages for
// staff to sign in, watch the dashboard, look after customers, log moments,
// keep the touchpoint catalogue and manage the moments of truth through the
// five-step loop, and for admins to keep webhooks and API tokens. Pages are
// html/template; the few interactive parts use a vendored htmx, and every
// form still works without JavaScript. Static files are embedded, so serving the UI needs nothing but
// the rapport binary.
package web

import (
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/rapport-crm/rapport"
)

//go:embed templates/*.html
var templateFiles embed.FS

// staticFiles are the stylesheet, the script and the icon, plus htmx.min.js:
// htmx 2.0.11 (0BSD licence) as published in the npm package htmx.org; to
// upgrade, replace the file with the dist/htmx.min.js of a newer 2.x.
//
//go:embed static
var staticFiles embed.FS

// Config holds what the UI needs: the services it reads and writes through,
// a logger and a clock.
type Config struct {
	Customers   rapport.CustomerService
	Moments     rapport.MomentService
	Touchpoints rapport.TouchpointService
	Timeline    rapport.TimelineService
	Users       rapport.UserService
	Passwords   rapport.PasswordService
	Sessions    rapport.SessionService
	Dashboard   rapport.DashboardService
	Reports     rapport.ReportService
	Responses   rapport.ResponseService
	Standards   rapport.StandardService
	Alerts      rapport.AlertService
	// Recovery cases, promises, survey links and handover briefs.
	Recovery rapport.RecoveryService
	Promises rapport.PromiseService
	Surveys  rapport.SurveyService
	Briefs   rapport.BriefService
	// Relationships: stages, health and risk, holdings and referrals,
	// segments and their outcomes. Pages that need one answer 503 without it.
	Stages       rapport.StageService
	HealthScores rapport.HealthService
	Holdings     rapport.HoldingService
	Segments     rapport.SegmentService
	Outcomes     rapport.OutcomeService
	// Imports brings CSV files of moments and customers in and takes them
	// out; the import pages answer 503 without it.
	Imports rapport.ImportService
	// Webhooks and Tokens are the admins' settings page; each part of it
	// answers 503 without its service.
	Webhooks rapport.WebhookService
	Tokens   rapport.TokenService
	// PublicURL is the address customers reach the server at, such as
	// https://rapport.example.com; survey links are made absolute with it.
	PublicURL string
	Logger    *slog.Logger
	Clock     rapport.Clock
}

// server is the UI's state: its configuration and parsed templates.
type server struct {
	Config
	pages *pageSet
}

// New returns the UI as a handler to mount at "/". It uses no path under
// /api/ or /healthz, which belong to the JSON API.
func New(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	s := &server{Config: cfg, pages: mustParsePages()}
	return s.routes()
}

// staticFS is the static directory, for serving and for cache-busting names.
func staticFS() fs.FS {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err)
	}
	return sub
}
