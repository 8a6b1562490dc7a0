package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/api"
	"github.com/rapport-crm/rapport/demo"
	"github.com/rapport-crm/rapport/mail"
	"github.com/rapport-crm/rapport/metrics"
	"github.com/rapport-crm/rapport/sqlstore"
	"github.com/rapport-crm/rapport/survey"
	"github.com/rapport-crm/rapport/web"
)

// serveOptions is how serve is configured: each flag, most with an
// environment variable as its default.
type serveOptions struct {
	addr            string
	dsn             string
	withDemo        bool
	watchEvery      time.Duration
	publicURL       string
	firm            string
	webhooksPrivate bool
	smtpURL         string
	smtpFrom        string
	messagesDir     string
	logFormat       string
	importDir       string
	maxImport       string
	debugAddr       string
	currency        string
}

// serveFlags are serve's flags, read into o.
func serveFlags(getenv func(string) string, stderr io.Writer) (*flag.FlagSet, *serveOptions) {
	fs := newFlags("serve", "rapport serve [--addr HOST:PORT] [--db DSN] [--demo] [OPTIONS]", stderr)
	o := &serveOptions{}
	fs.StringVar(&o.addr, "addr", envOr(getenv, "RAPPORT_ADDR", "127.0.0.1:8080"), "address to listen on ($RAPPORT_ADDR)")
	fs.StringVar(&o.dsn, "db", defaultDB(getenv), "SQLite file or postgres:// URL ($RAPPORT_DB)")
	fs.BoolVar(&o.withDemo, "demo", false, "on an empty database, generate a demo firm first and print how to sign in")
	fs.DurationVar(&o.watchEvery, "watch", 10*time.Minute, "how often to sweep relationships, re-measure impact and raise alerts (0 to never); promises, cases and webhooks are kept up whatever it is")
	fs.StringVar(&o.publicURL, "public-url", getenv("RAPPORT_PUBLIC_URL"), "the address customers reach Rapport at, for survey links, e.g. https://rapport.example.com ($RAPPORT_PUBLIC_URL)")
	fs.StringVar(&o.firm, "firm", getenv("RAPPORT_FIRM"), "the firm's name, shown to customers on survey pages ($RAPPORT_FIRM)")
	fs.BoolVar(&o.webhooksPrivate, "webhooks-private", getenv("RAPPORT_WEBHOOKS_PRIVATE") == "true",
		"let webhooks reach internal addresses (loopback, private, link-local and other special-use ranges), such as a receiver inside the firm's network ($RAPPORT_WEBHOOKS_PRIVATE=true)")
	fs.StringVar(&o.smtpURL, "smtp-url", getenv("RAPPORT_SMTP_URL"),
		"the mail server survey invitations and notifications go through, smtp://user:password@host:587 (STARTTLS where offered) or smtps://…:465 ($RAPPORT_SMTP_URL); without it, emails wait in the outbox")
	fs.StringVar(&o.smtpFrom, "smtp-from", getenv("RAPPORT_SMTP_FROM"), "the sender of Rapport's emails, e.g. \"Harbour Bank <care@harbour.example>\" ($RAPPORT_SMTP_FROM)")
	fs.StringVar(&o.messagesDir, "messages", getenv("RAPPORT_MESSAGES"),
		"a directory of message catalogues (en.json, es.json, …) whose sentences replace the shipped wording of emails and survey pages, key by key ($RAPPORT_MESSAGES)")
	fs.StringVar(&o.logFormat, "log", envOr(getenv, "RAPPORT_LOG", "text"), "log format: text or json ($RAPPORT_LOG)")
	fs.StringVar(&o.importDir, "import-dir", envOr(getenv, "RAPPORT_IMPORT_DIR", "rapport-imports"),
		"where uploaded files wait to be imported, with their error reports; servers sharing a database must share it ($RAPPORT_IMPORT_DIR)")
	fs.StringVar(&o.maxImport, "max-import-size", envOr(getenv, "RAPPORT_MAX_IMPORT_SIZE", "10GB"), "the largest file an import takes, as 500MB or 10GB ($RAPPORT_MAX_IMPORT_SIZE)")
	fs.StringVar(&o.currency, "currency", envOr(getenv, "RAPPORT_CURRENCY", currencyOfLocale(getenv)),
		"the ISO 4217 code amounts are shown in, e.g. GBP or EUR ($RAPPORT_CURRENCY); by default the one of the locale's country ($LC_ALL, $LC_MONETARY or $LANG)")
	fs.StringVar(&o.debugAddr, "debug-addr", getenv("RAPPORT_DEBUG_ADDR"), "a loopback address to serve Go's profiles at /debug/pprof/, e.g. 127.0.0.1:6060 ($RAPPORT_DEBUG_ADDR)")
	return fs, o
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, o := serveFlags(getenv, stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	logger, err := newLogger(o.logFormat, stderr)
	if err != nil {
		return err
	}
	mailer, err := newMailer(o.smtpURL, o.smtpFrom, o.publicURL)
	if err != nil {
		return err
	}
	var override iofs.FS
	if o.messagesDir != "" {
		override = os.DirFS(o.messagesDir)
	}
	messages, err := mail.LoadCatalogues(override)
	if err != nil {
		return usageError{"--messages: " + err.Error()}
	}
	currency, err := checkCurrency(o.currency)
	if err != nil {
		return usageError{"--currency: " + err.Error()}
	}
	db, err := sqlstore.Open(ctx, o.dsn, time.Now)
	if err != nil {
		return err
	}
	defer db.Close()
	if o.withDemo {
		if err := serveDemo(ctx, db, stdout); err != nil {
			return err
		}
		if o.firm == "" {
			o.firm = demo.FirmName
		}
		if currency == "" {
			currency = demo.Currency
		}
	}
	if currency == "" {
		logger.Warn("no --currency and none from the locale: amounts are shown without one")
	}
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, version())
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		metrics.NewPoolCollector(db.Stats))
	db.ObserveMoments(m.CountMoments)
	maxImportBytes, err := parseSize(o.maxImport)
	if err != nil {
		return usageError{"--max-import-size: " + err.Error()}
	}
	db.SetEmail(sqlstore.EmailSetup{PublicURL: o.publicURL, Firm: o.firm, Messages: messages})
	opts := sqlstore.Options{Webhooks: sqlstore.WebhookOptions{AllowPrivate: o.webhooksPrivate},
		Imports: sqlstore.ImportFiles{Dir: o.importDir, MaxBytes: maxImportBytes}}
	if mailer != nil {
		defer mailer.Close()
		opts.Email.Mailer = mailer
	} else {
		logger.Warn("no --smtp-url: survey invitations and notifications wait in the outbox until a mail server is set")
	}
	services := sqlstore.NewServices(db, opts)
	if o.debugAddr != "" {
		stop, err := serveProfiles(o.debugAddr, logger)
		if err != nil {
			return err
		}
		defer stop()
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           newHandler(services, m, metrics.Handler(reg), logger, site{publicURL: o.publicURL, firm: o.firm, messages: messages, currency: currency}, maxImportBytes),
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
	// The jobs are stopped and waited for before the database closes
	// (defers run last first), so that no attempt is recorded half-way.
	background, stopBackground := context.WithCancel(ctx)
	var jobs sync.WaitGroup
	defer func() { stopBackground(); jobs.Wait() }()
	jobs.Go(func() { sqlstore.RunJobs(background, sqlstore.Jobs(db, opts, o.watchEvery), logger) })
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

// serveProfiles serves the runtime's profiles (CPU, heap, goroutines,
// blocking) on their own listener, which must be a loopback address: they
// show the program's insides and are never part of the public server.
func serveProfiles(addr string, logger *slog.Logger) (stop func(), err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, usageError{fmt.Sprintf("--debug-addr %q: %v", addr, err)}
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, usageError{fmt.Sprintf("--debug-addr %q: profiles are served on a loopback address only, such as 127.0.0.1:6060", addr)}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	logger.Info("profiles served", "addr", "http://"+ln.Addr().String()+"/debug/pprof/")
	return func() { srv.Close() }, nil
}

// site is how the server presents itself to customers.
type site struct {
	publicURL string
	firm      string
	messages  *mail.Catalogues
	currency  string
}

// newHandler assembles the whole server: the JSON API, the health check,
// the metrics, the public survey pages and the web UI, behind the request
// log and the request metrics.
func newHandler(services rapport.Services, m *metrics.Metrics, exposition http.Handler, logger *slog.Logger, site site, maxUpload int64) http.Handler {
	signIns := rapport.SignInThrottle(time.Now)
	apiServer := api.NewServer(services, api.Options{Logger: logger, Clock: time.Now, Metrics: exposition, PublicURL: site.publicURL, SignIns: signIns})
	ui := web.New(services, web.Options{Logger: logger, Clock: time.Now, PublicURL: site.publicURL, SignIns: signIns, MaxUploadBytes: maxUpload,
		Currency: site.currency})
	mux := http.NewServeMux()
	mux.Handle("/api/", apiServer)
	mux.Handle("/healthz", apiServer)
	mux.Handle("/metrics", apiServer)
	mux.Handle("/s/", survey.New(survey.Config{Surveys: services.Surveys, Emails: services.Emails, Messages: site.messages, FirmName: site.firm, Logger: logger, Clock: time.Now, PublicURL: site.publicURL}))
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

// newMailer returns the mailer an SMTP URL names, or nil for none. Emails
// carry links back to Rapport, so sending them needs the public URL.
func newMailer(smtpURL, from, publicURL string) (*mail.Mailer, error) {
	if smtpURL == "" {
		return nil, nil
	}
	srv, err := mail.ParseURL(smtpURL)
	if err != nil {
		return nil, usageError{"--smtp-url: " + err.Error()}
	}
	if from == "" {
		return nil, usageError{"--smtp-url needs --smtp-from, the address emails come from, such as \"Harbour Bank <care@harbour.example>\""}
	}
	if publicURL == "" {
		return nil, usageError{"--smtp-url needs --public-url: the links in emails must say where customers reach Rapport"}
	}
	m, err := mail.New(srv, mail.Options{From: from})
	if err != nil {
		return nil, usageError{"--smtp-from: " + err.Error()}
	}
	return m, nil
}

// parseSize reads a size such as 500MB, 10GB or 1048576 (bytes).
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		n      int64
	}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}}
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(rest), u.n
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size such as 500MB or 10GB", s)
	}
	return n * mult, nil
}
