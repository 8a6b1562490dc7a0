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

// Options are how the UI presents itself, beyond the services it works
// through.
type Options struct {
	// PublicURL is the address customers reach the server at, such as
	// https://rapport.example.com; survey links are made absolute with it.
	PublicURL string
	Logger    *slog.Logger
	Clock     rapport.Clock
	// SignIns counts wrong passwords per account; the API shares it so an
	// admin can lift a hold there too. Nil makes one for this UI alone.
	SignIns *rapport.Throttle
	// MaxUploadBytes is the largest file an import takes (the store's
	// default when 0).
	MaxUploadBytes int64
	// Currency is the ISO 4217 code amounts are shown in, such as GBP;
	// empty shows them without one.
	Currency string
}

// server is the UI's state: its services, options and parsed templates.
type server struct {
	rapport.Services
	Options
	pages *pageSet
	// accounts and addresses slow the guessing of passwords, per account
	// and per client address.
	accounts, addresses *rapport.Throttle
}

// New returns the UI over services as a handler to mount at "/". It uses no
// path under /api/ or /healthz, which belong to the JSON API.
func New(services rapport.Services, opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.SignIns == nil {
		opts.SignIns = rapport.SignInThrottle(opts.Clock)
	}
	s := &server{Services: services, Options: opts, pages: mustParsePages(),
		accounts: opts.SignIns, addresses: rapport.AddressThrottle(opts.Clock)}
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
