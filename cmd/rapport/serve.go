package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/api"
	"github.com/rapport-crm/rapport/demo"
	"github.com/rapport-crm/rapport/internal/wiring"
	"github.com/rapport-crm/rapport/metrics"
	"github.com/rapport-crm/rapport/sqlstore"
	"github.com/rapport-crm/rapport/survey"
	"github.com/rapport-crm/rapport/web"
)

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "rapport serve [--addr HOST:PORT] [--db DSN] [--demo]", stderr)
	addr := fs.String("addr", envOr(getenv, "RAPPORT_ADDR", "127.0.0.1:8080"), "address to listen on ($RAPPORT_ADDR)")
	dsn := fs.String("db", defaultDB(getenv), "SQLite file or postgres:// URL ($RAPPORT_DB)")
	withDemo := fs.Bool("demo", false, "on an empty database, generate a demo firm first and print how to sign in")
	watchEvery := fs.Duration("watch", 10*time.Minute, "how often to re-measure impact and raise alerts (0 to never)")
	publicURL := fs.String("public-url", getenv("RAPPORT_PUBLIC_URL"), "the address customers reach Rapport at, for survey links, e.g. https://rapport.example.com ($RAPPORT_PUBLIC_URL)")
	firm := fs.String("firm", getenv("RAPPORT_FIRM"), "the firm's name, shown to customers on survey pages ($RAPPORT_FIRM)")
	webhooksPrivate := fs.Bool("webhooks-private", getenv("RAPPORT_WEBHOOKS_PRIVATE") == "true",
		"let webhooks reach loopback, private and link-local addresses, such as a receiver inside the firm's network ($RAPPORT_WEBHOOKS_PRIVATE=true)")
	logFormat := fs.String("log", envOr(getenv, "RAPPORT_LOG", "text"), "log format: text or json ($RAPPORT_LOG)")
	if err := parse(fs, args); err != nil {
		return err
	}
	logger, err := newLogger(*logFormat, stderr)
	if err != nil {
		return err
	}
	db, err := sqlstore.Open(ctx, *dsn, time.Now)
	if err != nil {
		return err
	}
	defer db.Close()
	if *withDemo {
		if err := serveDemo(ctx, db, stdout); err != nil {
			return err
		}
		if *firm == "" {
			*firm = demo.FirmName
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           newHandler(db, logger, site{publicURL: *publicURL, firm: *firm}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("rapport started", "version", version(), "addr", ln.Addr().String(), "database", db.Backend())
	fmt.Fprintf(stdout, "Rapport is listening on http://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	go watch(ctx, db, logger, *watchEvery)
	// The deliverer is stopped and waited for before the database closes
	// (defers run last first), so that no attempt is recorded half-way.
	background, stopBackground := context.WithCancel(ctx)
	var delivering sync.WaitGroup
	defer func() { stopBackground(); delivering.Wait() }()
	delivering.Go(func() {
		deliverWebhooks(background, sqlstore.NewWebhookService(db, sqlstore.WebhookOptions{AllowPrivate: *webhooksPrivate}), logger, webhookEvery)
	})
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Finish the requests in flight so that every acknowledged write is answered.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("rapport stopped")
	return nil
}

// site is how the server presents itself to customers.
type site struct {
	publicURL string
	firm      string
}

// newHandler assembles the whole server: the JSON API, the health check,
// the metrics, the public survey pages and the web UI, behind the request
// log and the request metrics.
func newHandler(db *sqlstore.DB, logger *slog.Logger, site site) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		metrics.NewPoolCollector(db.Stats))
	m := metrics.New(reg, version())
	db.ObserveMoments(m.CountMoments)
	services := sqlstore.NewServices(db)
	apiConfig := wiring.API(db, services)
	apiConfig.Metrics = metrics.Handler(reg)
	apiConfig.PublicURL, apiConfig.Logger, apiConfig.Clock = site.publicURL, logger, time.Now
	apiServer := api.NewServer(apiConfig)
	webConfig := wiring.Web(services)
	webConfig.PublicURL, webConfig.Logger, webConfig.Clock = site.publicURL, logger, time.Now
	ui := web.New(webConfig)
	mux := http.NewServeMux()
	mux.Handle("/api/", apiServer)
	mux.Handle("/healthz", apiServer)
	mux.Handle("/metrics", apiServer)
	mux.Handle("/s/", survey.New(survey.Config{Surveys: services.Surveys, FirmName: site.firm, Logger: logger, Clock: time.Now, PublicURL: site.publicURL}))
	mux.Handle("/", ui)
	return api.LogRequests(logger, m.Instrument(mux))
}

func newLogger(format string, w io.Writer) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, usageError{fmt.Sprintf("unknown log format %q: use text or json", format)}
}

func envOr(getenv func(string) string, key, fallback string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return fallback
}

func version() string { return rapport.Version }

// watch keeps current what is too costly to compute per request, or what
// happens because time passes: every minute it breaks promises past due
// (which may open recovery cases) and escalates overdue cases; every
// slowEvery it re-measures impact and raises alerts. Several servers on one
// database may all watch: each item is changed or raised once regardless.
func watch(ctx context.Context, db *sqlstore.DB, logger *slog.Logger, slowEvery time.Duration) {
	if slowEvery <= 0 {
		return
	}
	s := sqlstore.NewServices(db)
	reports, alerts, promises, recovery, health, segments, outcomes := s.Reports, s.Alerts, s.Promises, s.Recovery,
		s.HealthScores, s.Segments, s.Outcomes
	tick := time.NewTicker(min(time.Minute, slowEvery))
	defer tick.Stop()
	var lastSlow time.Time
	for {
		if n, err := promises.BreakOverdue(ctx); err != nil && ctx.Err() == nil {
			logger.Error("breaking overdue promises", "err", err)
		} else if n > 0 {
			logger.Info("promises broken", "count", n)
		}
		if n, err := recovery.Escalate(ctx); err != nil && ctx.Err() == nil {
			logger.Error("escalating cases", "err", err)
		} else if n > 0 {
			logger.Warn("cases escalated", "count", n)
		}
		if time.Since(lastSlow) >= slowEvery {
			lastSlow = time.Now()
			// A silence is a moment that did not happen: only a sweep sees it.
			if _, err := health.Sweep(ctx); err != nil && ctx.Err() == nil {
				logger.Error("sweeping relationships", "err", err)
			}
			if _, err := segments.CountSegments(ctx); err != nil && ctx.Err() == nil {
				logger.Error("counting segments", "err", err)
			}
			if _, err := outcomes.RefreshOutcomes(ctx); err != nil && ctx.Err() == nil {
				logger.Error("measuring outcomes", "err", err)
			}
			if err := reports.RefreshImpact(ctx); err != nil && ctx.Err() == nil {
				logger.Error("measuring impact", "err", err)
			}
			if raised, err := alerts.EvaluateAlerts(ctx); err != nil && ctx.Err() == nil {
				logger.Error("evaluating alerts", "err", err)
			} else {
				for _, a := range raised {
					logger.Warn("alert raised", "kind", a.Kind, "touchpoint", a.Touchpoint, "message", a.Message)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// webhookEvery is how often serve posts what the webhook outbox holds: soon
// enough that receivers hear of a moment within seconds, seldom enough that
// an idle server barely asks.
const webhookEvery = 5 * time.Second

// deliverWebhooks posts the due webhook deliveries every so often until ctx
// ends. Several servers on one database may all deliver: each delivery is
// claimed by one of them at a time.
func deliverWebhooks(ctx context.Context, webhooks *sqlstore.WebhookService, logger *slog.Logger, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if n, err := webhooks.Deliver(ctx); err != nil && ctx.Err() == nil {
			logger.Error("delivering webhooks", "err", err)
		} else if n > 0 {
			logger.Debug("webhooks delivered", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
