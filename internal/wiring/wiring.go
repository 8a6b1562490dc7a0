// Package wiring maps the SQL store's services onto what the API and the web
// UI are configured with, so that the server and the tests wire them alike.
// The API and the UI know only the service interfaces; this is the one place
// that knows both sides.
package wiring

import (
	"github.com/rapport-crm/rapport/api"
	"github.com/rapport-crm/rapport/sqlstore"
	"github.com/rapport-crm/rapport/web"
)

// API returns the API's configuration with every service from s and db as
// its health check; the caller sets the logger, clock and public address.
func API(db *sqlstore.DB, s *sqlstore.Services) api.Config {
	return api.Config{
		Customers:    s.Customers,
		Touchpoints:  s.Touchpoints,
		Moments:      s.Moments,
		Timeline:     s.Timeline,
		Users:        s.Users,
		Tokens:       s.Tokens,
		Reports:      s.Reports,
		Responses:    s.Responses,
		Standards:    s.Standards,
		Alerts:       s.Alerts,
		Health:       db,
		Stages:       s.Stages,
		HealthScores: s.HealthScores,
		Holdings:     s.Holdings,
		Segments:     s.Segments,
		Outcomes:     s.Outcomes,
		Recovery:     s.Recovery,
		Promises:     s.Promises,
		Surveys:      s.Surveys,
		Briefs:       s.Briefs,
		Webhooks:     s.Webhooks,
		Imports:      s.Imports,
	}
}

// Web returns the web UI's configuration with every service from s; the
// caller sets the logger, clock and public address.
func Web(s *sqlstore.Services) web.Config {
	return web.Config{
		Customers:    s.Customers,
		Moments:      s.Moments,
		Touchpoints:  s.Touchpoints,
		Timeline:     s.Timeline,
		Users:        s.Users,
		Passwords:    s.Passwords,
		Sessions:     s.Sessions,
		Dashboard:    s.Dashboard,
		Reports:      s.Reports,
		Responses:    s.Responses,
		Standards:    s.Standards,
		Alerts:       s.Alerts,
		Recovery:     s.Recovery,
		Promises:     s.Promises,
		Surveys:      s.Surveys,
		Briefs:       s.Briefs,
		Stages:       s.Stages,
		HealthScores: s.HealthScores,
		Holdings:     s.Holdings,
		Segments:     s.Segments,
		Outcomes:     s.Outcomes,
		Imports:      s.Imports,
		Webhooks:     s.Webhooks,
		Tokens:       s.Tokens,
	}
}
