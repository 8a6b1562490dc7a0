package api

import (
	"net/http"

	"github.com/rapport-crm/rapport"
)

// webhookRoutes are the endpoints events are posted to, and their
// deliveries. They are for admins only: a webhook sends data out of
// Rapport, and its secret signs in Rapport's name.
func (s *Server) webhookRoutes() []route {
	admin := rapport.PermManageUsers
	return []route{
		{method: "GET", pattern: "/api/v1/webhooks", perm: admin, handler: s.handleListWebhooks},
		{method: "POST", pattern: "/api/v1/webhooks", perm: admin, handler: s.handleCreateWebhook},
		{method: "GET", pattern: "/api/v1/webhooks/{id}", perm: admin, handler: s.handleGetWebhook},
		{method: "PATCH", pattern: "/api/v1/webhooks/{id}", perm: admin, handler: s.handleUpdateWebhook},
		{method: "DELETE", pattern: "/api/v1/webhooks/{id}", perm: admin, handler: s.handleDeleteWebhook},
		{method: "GET", pattern: "/api/v1/webhooks/{id}/deliveries", perm: admin, handler: s.handleListDeliveries},
		{method: "POST", pattern: "/api/v1/webhooks/{id}/test", perm: admin, handler: s.handleTestWebhook},
	}
}

// webhookInput is what an admin sets on a new webhook.
type webhookInput struct {
	URL         string   `json:"url"`
	Description string   `json:"description"`
	Kinds       []string `json:"kinds"`
	// Active is true unless sent as false.
	Active *bool `json:"active"`
	// Secret signs deliveries; Rapport makes one when it is not sent.
	Secret string `json:"secret"`
}

// createdWebhook is a new webhook with its secret, shown this once only.
type createdWebhook struct {
	*rapport.Webhook
	Secret string `json:"secret"`
}

func (s *Server) handleListWebhooks(w http.ResponseWriter, r *http.Request) {
	ws, err := s.Webhooks.FindWebhooks(r.Context())
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, rapport.Page[*rapport.Webhook]{Items: ws})
}

func (s *Server) handleCreateWebhook(w http.ResponseWriter, r *http.Request) {
	var in webhookInput
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	wh := &rapport.Webhook{URL: in.URL, Description: in.Description, Kinds: in.Kinds, Active: in.Active == nil || *in.Active}
	secret, err := s.Webhooks.CreateWebhook(r.Context(), wh, in.Secret)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	w.Header().Set("Location", "/api/v1/webhooks/"+wh.ID)
	encode(w, http.StatusCreated, createdWebhook{Webhook: wh, Secret: secret})
}

func (s *Server) handleGetWebhook(w http.ResponseWriter, r *http.Request) {
	wh, err := s.Webhooks.FindWebhookByID(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, wh)
}

func (s *Server) handleUpdateWebhook(w http.ResponseWriter, r *http.Request) {
	var u rapport.WebhookUpdate
	if err := decode(w, r, maxBodyBytes, &u); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	wh, err := s.Webhooks.UpdateWebhook(r.Context(), r.PathValue("id"), u)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, wh)
}

func (s *Server) handleDeleteWebhook(w http.ResponseWriter, r *http.Request) {
	if err := s.Webhooks.DeleteWebhook(r.Context(), r.PathValue("id")); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleListDeliveries(w http.ResponseWriter, r *http.Request) {
	p := &params{r: r}
	f := rapport.DeliveryFilter{Status: p.get("status"), Cursor: p.get("cursor"), Limit: p.limit()}
	switch f.Status {
	case "", rapport.DeliveryPending, rapport.DeliveryDelivered, rapport.DeliveryFailed, rapport.DeliveryPaused:
	default:
		p.add("status", "must be pending, delivered, failed or paused")
	}
	if err := p.err(); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	page, err := s.Webhooks.FindDeliveries(r.Context(), r.PathValue("id"), f)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, page)
}

func (s *Server) handleTestWebhook(w http.ResponseWriter, r *http.Request) {
	d, err := s.Webhooks.TestWebhook(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusAccepted, d)
}
