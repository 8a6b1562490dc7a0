package rapport

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Webhooks tell other systems what happened in Rapport as it happens. Each
// event is written to an outbox in the same transaction as the change that
// caused it, so an acknowledged change never loses its event and a change
// rolled back never sends one; a worker then posts it, signed, retrying
// until the receiver answers 2xx or the attempts run out.

// The event kinds. Every kind but ping can be subscribed to.
const (
	EventMomentRecorded   = "moment.recorded"   // data: the moment
	EventMomentMisery     = "moment.misery"     // data: the moment, when its outcome is misery
	EventCaseOpened       = "case.opened"       // data: the recovery case
	EventPromiseBroken    = "promise.broken"    // data: the promise
	EventStageChanged     = "stage.changed"     // data: the stage change
	EventCustomerErased   = "customer.erased"   // data: a CustomerErased
	EventSurveySent       = "survey.sent"       // data: the email record of a survey invitation or reminder sent
	EventSurveyAnswered   = "survey.answered"   // data: the survey response
	EventNotificationSent = "notification.sent" // data: the email record of a notification sent to staff
	EventOfferAssigned    = "offer.assigned"    // data: an OfferAssigned, per offered customer when an offer starts
	EventPing             = "ping"              // data: the webhook's id; sent only on request
)

// EventKinds lists the kinds an endpoint may subscribe to.
var EventKinds = []string{EventMomentRecorded, EventMomentMisery, EventCaseOpened, EventPromiseBroken, EventStageChanged,
	EventCustomerErased, EventSurveySent, EventSurveyAnswered, EventNotificationSent, EventOfferAssigned}

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
	// DeliveryPaused is a pending delivery held while its endpoint is not active.
	DeliveryPaused = "paused"
)

// The headers of every delivery.
const (
	HeaderEvent     = "Rapport-Event"
	HeaderDelivery  = "Rapport-Delivery"
	HeaderTimestamp = "Rapport-Timestamp"
	HeaderSignature = "Rapport-Signature"
)

// MinWebhookSecretLength is the shortest secret an admin may choose; shorter
// ones could be guessed from signatures.
const MinWebhookSecretLength = 16

// Webhook is an endpoint Rapport posts events to. Its secret is not part of
// it: the secret is shown once, when the webhook is created.
type Webhook struct {
	ID          string    `json:"id"`
	URL         string    `json:"url"`
	Description string    `json:"description,omitempty"`
	Kinds       []string  `json:"kinds"`
	Active      bool      `json:"active"`
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by,omitempty"`
}

// Validate checks a webhook's own fields and puts its kinds in the order of
// EventKinds, once each.
func (w *Webhook) Validate() error {
	v := validation{index: -1}
	w.URL = strings.TrimSpace(w.URL)
	w.Description = strings.TrimSpace(w.Description)
	checkWebhookURL(&v, w.URL)
	checkText(&v, "description", w.Description, 0, 200)
	w.Kinds = checkKinds(&v, w.Kinds)
	return v.err("webhook")
}

func checkWebhookURL(v *validation, s string) {
	u, err := url.Parse(s)
	switch {
	case s == "":
		v.add("url", "is required")
	case len(s) > 2000:
		v.add("url", "must be at most 2000 characters")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "":
		v.add("url", "must be an absolute http or https URL, such as https://example.com/rapport")
	case strings.Contains(s, "#"):
		v.add("url", "must not have a #fragment, which is never sent")
	}
}

// checkKinds returns the kinds in the order of EventKinds, once each.
func checkKinds(v *validation, kinds []string) []string {
	if len(kinds) == 0 {
		v.add("kinds", "must name at least one of %s", strings.Join(EventKinds, ", "))
		return kinds
	}
	for _, k := range kinds {
		if !slices.Contains(EventKinds, k) {
			v.add("kinds", "%q is not an event kind; use %s", k, strings.Join(EventKinds, ", "))
			return kinds
		}
	}
	var out []string
	for _, k := range EventKinds {
		if slices.Contains(kinds, k) {
			out = append(out, k)
		}
	}
	return out
}

// ValidateWebhookSecret reports whether an admin may set secret, as an
// EINVALID error on the field "secret".
func ValidateWebhookSecret(secret string) error {
	v := validation{index: -1}
	switch {
	case len(secret) < MinWebhookSecretLength:
		v.add("secret", "must be at least %d characters", MinWebhookSecretLength)
	case len(secret) > 200:
		v.add("secret", "must be at most 200 characters")
	case strings.TrimSpace(secret) != secret:
		v.add("secret", "must not start or end with spaces")
	}
	return v.err("webhook")
}

// WebhookUpdate changes a webhook; nil means unchanged. A new secret is not
// shown again either.
type WebhookUpdate struct {
	URL         *string   `json:"url"`
	Description *string   `json:"description"`
	Kinds       *[]string `json:"kinds"`
	Active      *bool     `json:"active"`
	Secret      *string   `json:"secret"`
}

// WebhookDelivery is one event on its way to one endpoint.
type WebhookDelivery struct {
	ID        string `json:"id"`
	WebhookID string `json:"webhook_id"`
	Kind      string `json:"kind"`
	Status    string `json:"status"`
	Attempts  int    `json:"attempts"`
	// NextAttemptAt is when a pending delivery is tried next.
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	LastAttemptAt *time.Time `json:"last_attempt_at,omitempty"`
	// LastStatus is the HTTP status the receiver last answered; absent when
	// it did not answer at all.
	LastStatus  *int       `json:"last_status,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
}

// DeliveryFilter selects one webhook's deliveries, newest first.
type DeliveryFilter struct {
	Status string
	Limit  int
	Cursor string
}

// WebhookEvent is the JSON body of every delivery. ID names the event, the
// same for every endpoint it goes to; the Rapport-Delivery header names the
// delivery, the same for every attempt.
type WebhookEvent struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	CreatedAt time.Time `json:"created_at"`
	Data      any       `json:"data"`
}

// WebhookService keeps webhook endpoints and shows their deliveries.
type WebhookService interface {
	// CreateWebhook stores w, signing with secret, or a new random secret
	// when it is "", and returns the secret, which is never shown again.
	CreateWebhook(ctx context.Context, w *Webhook, secret string) (string, error)
	FindWebhooks(ctx context.Context) ([]*Webhook, error)
	FindWebhookByID(ctx context.Context, id string) (*Webhook, error)
	UpdateWebhook(ctx context.Context, id string, u WebhookUpdate) (*Webhook, error)
	// DeleteWebhook removes the endpoint and its deliveries, sent or not.
	DeleteWebhook(ctx context.Context, id string) error
	FindDeliveries(ctx context.Context, webhookID string, f DeliveryFilter) (Page[*WebhookDelivery], error)
	// TestWebhook queues a ping to an active endpoint.
	TestWebhook(ctx context.Context, id string) (*WebhookDelivery, error)
}

// SignWebhook returns the Rapport-Signature header for a body sent at t:
// t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the secret>.
// Signing the time with the body lets a receiver refuse old deliveries
// replayed by someone who captured them.
func SignWebhook(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + webhookMAC(secret, ts, body)
}

func webhookMAC(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// ErrBadSignature is what VerifyWebhook returns for a signature that does
// not match, or is not in Rapport's form.
var ErrBadSignature = errors.New("rapport: the webhook signature does not match")

// ErrStaleSignature is what VerifyWebhook returns for a signature made too
// long before (or after) now.
var ErrStaleSignature = errors.New("rapport: the webhook signature is too old")

// VerifyWebhook checks a Rapport-Signature header against the body and the
// secret, and that it was made within tolerance of now. It accepts any one
// matching v1 value, so that a header may carry several.
func VerifyWebhook(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = val
		case "v1":
			sigs = append(sigs, val)
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrBadSignature
	}
	want := webhookMAC(secret, ts, body)
	ok := false
	for _, s := range sigs {
		ok = ok || hmac.Equal([]byte(s), []byte(want))
	}
	if !ok {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
		return ErrStaleSignature
	}
	return nil
}
