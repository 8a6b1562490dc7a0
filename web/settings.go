package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/rapport-crm/rapport"
)

// Settings: the webhooks that send events out of Rapport and the API
// tokens that let other systems in. Both are for admins only, as in the
// API: a webhook sends data away and its secret signs in Rapport's name,
// and a token may carry any role. Secrets are shown once, in the answer to
// the form that made them, and never put in a redirect or a cookie.

// deliveriesPageSize is how many deliveries an endpoint's page shows.
const deliveriesPageSize = 50

// settingsData is the settings page: both lists, their forms, and what
// was just made, with its secret, to show this once.
type settingsData struct {
	Webhooks       []*rapport.Webhook
	Tokens         []*rapport.Token
	Webhook, Token *form
	Kinds          []string
	Roles          []rapport.Role
	// NewWebhook and Secret, NewToken and TokenSecret are set only in the
	// answer to the form that created them.
	NewWebhook  *rapport.Webhook
	Secret      string
	NewToken    *rapport.Token
	TokenSecret string
	// AuditRetention is how many days the audit log keeps entries.
	AuditRetention int
	// Deactivated names the deactivated users by id: their tokens refuse
	// until they are reactivated.
	Deactivated map[string]string
	// Holds are the accounts too many wrong passwords hold now.
	Holds []rapport.SignInHold
}

// webhookData is one endpoint's page with its recent deliveries.
type webhookData struct {
	Hook       *rapport.Webhook
	Deliveries []*rapport.WebhookDelivery
	Next       string
	Paged      bool
}

func (s *server) settingsPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderSettings(w, r, http.StatusOK, settingsData{})
	})
}

// renderSettings fills in the lists and any form not given, and shows the
// page.
func (s *server) renderSettings(w http.ResponseWriter, r *http.Request, status int, d settingsData) {
	ctx := r.Context()
	d.Kinds, d.Roles = rapport.EventKinds, rapport.Roles
	if d.Webhook == nil {
		// Every kind ticked: an endpoint usually wants all that happens.
		d.Webhook = newForm(url.Values{"kinds": rapport.EventKinds})
	}
	if d.Token == nil {
		d.Token = newForm(url.Values{"token_role": {string(rapport.RoleViewer)}})
	}
	var err error
	if d.Webhooks, err = s.Webhooks.FindWebhooks(ctx); err != nil {
		s.serverError(w, r, err)
		return
	}
	if d.Tokens, err = s.Tokens.FindTokens(ctx); err != nil {
		s.serverError(w, r, err)
		return
	}
	no := false
	gone, err := s.Users.FindUsers(ctx, rapport.UserFilter{Active: &no})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d.Deactivated = map[string]string{}
	for _, u := range gone {
		d.Deactivated[u.ID] = u.Name
	}
	audit, err := s.Audit.AuditSettings(ctx)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d.AuditRetention = audit.RetentionDays
	if d.Holds, err = rapport.SignInHolds(ctx, s.Users, s.accounts); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, status, "settings", "", s.newPage(r, "Settings", "settings", d))
}

// webhookCreate adds an endpoint and answers with the page itself rather
// than a redirect, because that answer is the only place its secret shows.
func (s *server) webhookCreate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		f := newForm(r.PostForm)
		wh := &rapport.Webhook{URL: f.Get("url"), Description: f.Get("description"), Kinds: r.PostForm["kinds"], Active: true}
		secret, err := s.Webhooks.CreateWebhook(r.Context(), wh, "")
		if err == nil {
			s.renderSettings(w, r, http.StatusCreated, settingsData{NewWebhook: wh, Secret: secret})
			return
		}
		if !f.fromError(err, map[string]string{"url": "url", "kinds": "kinds", "description": "description"}) {
			s.serverError(w, r, err)
			return
		}
		s.renderSettings(w, r, http.StatusUnprocessableEntity, settingsData{Webhook: f})
	})
}

// webhookBack is where a change to an endpoint returns: its own page when
// made there, else the settings page. Only these two, so a posted value
// can never send the browser elsewhere.
func webhookBack(r *http.Request, id string) string {
	if r.PostFormValue("back") == "webhook" {
		return webhookPath(id)
	}
	return "/settings#webhooks"
}

func webhookPath(id string) string { return "/settings/webhooks/" + url.PathEscape(id) }

// webhookSetActive pauses or resumes an endpoint; a paused one keeps its
// deliveries until it is resumed.
func (s *server) webhookSetActive() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		active, err := strconv.ParseBool(r.PostFormValue("active"))
		if err != nil {
			s.renderError(w, r, http.StatusBadRequest, "The form did not say whether to pause or resume the webhook.")
			return
		}
		if _, err := s.Webhooks.UpdateWebhook(r.Context(), id, rapport.WebhookUpdate{Active: &active}); err != nil {
			s.serverError(w, r, err)
			return
		}
		if active {
			setFlash(w, r, "Webhook resumed; held deliveries are sent now.")
		} else {
			setFlash(w, r, "Webhook paused; deliveries wait until it is resumed.")
		}
		redirect(w, r, webhookBack(r, id))
	})
}

func (s *server) webhookDelete() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.Webhooks.DeleteWebhook(r.Context(), r.PathValue("id")); err != nil {
			s.serverError(w, r, err)
			return
		}
		setFlash(w, r, "Webhook deleted, with its deliveries.")
		redirect(w, r, "/settings#webhooks")
	})
}

func (s *server) webhookPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, id := r.Context(), r.PathValue("id")
		wh, err := s.Webhooks.FindWebhookByID(ctx, id)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		cursor := r.URL.Query().Get("cursor")
		page, err := s.Webhooks.FindDeliveries(ctx, id, rapport.DeliveryFilter{Limit: deliveriesPageSize, Cursor: cursor})
		if rapport.ErrorCode(err) == rapport.EINVALID && cursor != "" {
			// A stale or mangled cursor: start again from the newest.
			cursor = ""
			page, err = s.Webhooks.FindDeliveries(ctx, id, rapport.DeliveryFilter{Limit: deliveriesPageSize})
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		d := webhookData{Hook: wh, Deliveries: page.Items, Paged: cursor != ""}
		if page.NextCursor != "" {
			d.Next = webhookPath(id) + "?" + url.Values{"cursor": {page.NextCursor}}.Encode()
		}
		s.render(w, r, http.StatusOK, "webhook", "", s.newPage(r, "Webhook", "settings", d))
	})
}

// webhookTest queues a ping; a paused endpoint says why it cannot take one.
func (s *server) webhookTest() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		_, err := s.Webhooks.TestWebhook(r.Context(), id)
		switch {
		case err == nil:
			setFlash(w, r, "Test ping queued; it is sent within a few seconds.")
		case rapport.ErrorCode(err) == rapport.ECONFLICT:
			setFlash(w, r, rapport.ErrorMessage(err))
		default:
			s.serverError(w, r, err)
			return
		}
		redirect(w, r, webhookPath(id))
	})
}

// tokenCreate issues a token and, like webhookCreate, answers with the
// page, the one place its secret shows. The token belongs to no user: it
// acts with its own role, whoever made it.
func (s *server) tokenCreate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		f := newForm(r.PostForm)
		t := &rapport.Token{Name: f.Get("token_name"), Role: rapport.Role(f.Get("token_role"))}
		secret, err := s.Tokens.CreateToken(r.Context(), t)
		if err == nil {
			s.renderSettings(w, r, http.StatusCreated, settingsData{NewToken: t, TokenSecret: secret})
			return
		}
		if !f.fromError(err, map[string]string{"name": "token_name", "role": "token_role"}) {
			s.serverError(w, r, err)
			return
		}
		s.renderSettings(w, r, http.StatusUnprocessableEntity, settingsData{Token: f})
	})
}

func (s *server) tokenRevoke() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.Tokens.RevokeToken(r.Context(), r.PathValue("id")); err != nil {
			s.serverError(w, r, err)
			return
		}
		setFlash(w, r, "Token revoked; it no longer works.")
		redirect(w, r, "/settings#tokens")
	})
}

// signInHoldLift lets a held account sign in again at once.
func (s *server) signInHoldLift() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		held, err := rapport.LiftSignInHold(r.Context(), s.Users, s.Audit, s.accounts, r.PathValue("id"))
		if err != nil && rapport.ErrorCode(err) != rapport.ENOTFOUND {
			s.serverError(w, r, err)
			return
		}
		if held {
			setFlash(w, r, "Hold lifted: they can sign in again now.")
		} else {
			setFlash(w, r, "That account was no longer held.")
		}
		redirect(w, r, "/settings#sign-in-holds")
	})
}
