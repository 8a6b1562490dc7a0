package sqlstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// WebhookService keeps webhook endpoints, and its Deliver posts what their
// outbox holds (webhook_delivery.go).
type WebhookService struct {
	db   *DB
	opts WebhookOptions
}

// NewWebhookService returns the webhooks stored in db, delivered as opts
// say; zero options take the defaults.
func NewWebhookService(db *DB, opts WebhookOptions) *WebhookService {
	return &WebhookService{db: db, opts: opts.withDefaults()}
}

var _ rapport.WebhookService = (*WebhookService)(nil)

// webhookSecretPrefix marks generated signing secrets, as tokenPrefix marks
// API tokens, so that a leaked one is recognised.
const webhookSecretPrefix = "whsec_"

const webhookColumns = `id, url, description, active, created_at, created_by`

const deliveryColumns = `id, endpoint_id, kind, status, attempts, next_attempt_at, last_attempt_at, last_status, last_error,
	delivered_at, created_at`

// CreateWebhook stores a new endpoint; see rapport.WebhookService.
func (s *WebhookService) CreateWebhook(ctx context.Context, w *rapport.Webhook, secret string) (string, error) {
	if err := s.validateWebhook(w, secret, secret != ""); err != nil {
		return "", err
	}
	if secret == "" {
		var raw [24]byte
		if _, err := rand.Read(raw[:]); err != nil {
			return "", err
		}
		secret = webhookSecretPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw[:]))
	}
	err := s.db.inTx(ctx, func(tx *tx) error {
		w.ID, w.CreatedAt, w.CreatedBy = rapport.NewID(tx.now), tx.now.Truncate(time.Microsecond), rapport.ActorID(ctx)
		_, err := tx.exec(ctx, `INSERT INTO webhook_endpoints (id, url, description, secret, active, created_at, created_by, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, w.ID, w.URL, w.Description, secret, boolInt(w.Active), micros(w.CreatedAt), w.CreatedBy,
			micros(w.CreatedAt))
		if err != nil {
			return err
		}
		if err := setSubscriptions(ctx, tx, w.ID, w.Kinds); err != nil {
			return err
		}
		changes := rapport.AuditChanges(nil, w)
		changes["secret"] = rapport.AuditChange{After: rapport.Redacted}
		return auditChanges(ctx, tx, rapport.AuditCreate, "webhook", w.ID, changes)
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// validateWebhook checks an endpoint and, when one is being set, its secret,
// reporting every problem at once. A URL written with an internal address
// is refused here, unless such addresses are allowed, rather than only
// when a delivery fails.
func (s *WebhookService) validateWebhook(w *rapport.Webhook, secret string, settingSecret bool) error {
	fields := rapport.ErrorFields(w.Validate())
	if !s.opts.AllowPrivate && !slices.ContainsFunc(fields, func(f rapport.FieldError) bool { return f.Field == "url" }) {
		fields = append(fields, rapport.ErrorFields(rapport.CheckWebhookAddress(w.URL))...)
	}
	if settingSecret {
		fields = append(fields, rapport.ErrorFields(rapport.ValidateWebhookSecret(secret))...)
	}
	if len(fields) > 0 {
		return &rapport.Error{Code: rapport.EINVALID, Message: "The webhook is not valid.", Fields: fields}
	}
	return nil
}

func setSubscriptions(ctx context.Context, tx *tx, id string, kinds []string) error {
	if _, err := tx.exec(ctx, `DELETE FROM webhook_subscriptions WHERE endpoint_id = ?`, id); err != nil {
		return err
	}
	for _, k := range kinds {
		if _, err := tx.exec(ctx, `INSERT INTO webhook_subscriptions (endpoint_id, kind) VALUES (?, ?)`, id, k); err != nil {
			return err
		}
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// FindWebhooks returns every endpoint, newest first.
func (s *WebhookService) FindWebhooks(ctx context.Context) ([]*rapport.Webhook, error) {
	return findWebhooks(ctx, s.db.reader(), "")
}

// FindWebhookByID returns one endpoint, or ENOTFOUND.
func (s *WebhookService) FindWebhookByID(ctx context.Context, id string) (*rapport.Webhook, error) {
	return findWebhook(ctx, s.db.reader(), id)
}

func findWebhook(ctx context.Context, q querier, id string) (*rapport.Webhook, error) {
	ws, err := findWebhooks(ctx, q, id)
	if err != nil {
		return nil, err
	}
	if len(ws) == 0 {
		return nil, rapport.Errorf(rapport.ENOTFOUND, "No webhook has the id %q.", id)
	}
	return ws[0], nil
}

// findWebhooks reads one endpoint (id) or all of them ("") with their kinds.
func findWebhooks(ctx context.Context, q querier, id string) ([]*rapport.Webhook, error) {
	where, args := "", []any{}
	if id != "" {
		where, args = ` WHERE id = ?`, []any{id}
	}
	out := []*rapport.Webhook{}
	byID := map[string]*rapport.Webhook{}
	err := eachRow(ctx, q, `SELECT `+webhookColumns+` FROM webhook_endpoints`+where+` ORDER BY created_at DESC, id DESC`, args,
		func(rows *sql.Rows) error {
			var w rapport.Webhook
			var active int
			var created int64
			if err := rows.Scan(&w.ID, &w.URL, &w.Description, &active, &created, &w.CreatedBy); err != nil {
				return err
			}
			w.Active, w.CreatedAt, w.Kinds = active != 0, fromMicros(created), []string{}
			out, byID[w.ID] = append(out, &w), &w
			return nil
		})
	if err != nil || len(out) == 0 {
		return out, err
	}
	where = ""
	if id != "" {
		where = ` WHERE endpoint_id = ?`
	}
	err = eachRow(ctx, q, `SELECT endpoint_id, kind FROM webhook_subscriptions`+where, args, func(rows *sql.Rows) error {
		var endpoint, kind string
		if err := rows.Scan(&endpoint, &kind); err != nil {
			return err
		}
		if w := byID[endpoint]; w != nil {
			w.Kinds = append(w.Kinds, kind)
		}
		return nil
	})
	for _, w := range out {
		// In the documented order rather than the order stored.
		slices.SortFunc(w.Kinds, func(a, b string) int {
			return slices.Index(rapport.EventKinds, a) - slices.Index(rapport.EventKinds, b)
		})
	}
	return out, err
}

// UpdateWebhook changes an endpoint. Pausing it holds its pending
// deliveries; making it active again sends them at once.
func (s *WebhookService) UpdateWebhook(ctx context.Context, id string, u rapport.WebhookUpdate) (*rapport.Webhook, error) {
	var w *rapport.Webhook
	err := s.db.inTx(ctx, func(tx *tx) error {
		var err error
		if w, err = findWebhook(ctx, tx.querier, id); err != nil {
			return err
		}
		wasActive, before := w.Active, *w
		if u.URL != nil {
			w.URL = *u.URL
		}
		if u.Description != nil {
			w.Description = *u.Description
		}
		if u.Kinds != nil {
			w.Kinds = *u.Kinds
		}
		if u.Active != nil {
			w.Active = *u.Active
		}
		var secret string
		if u.Secret != nil {
			secret = *u.Secret
		}
		if err := s.validateWebhook(w, secret, u.Secret != nil); err != nil {
			return err
		}
		now := micros(tx.now)
		if _, err := tx.exec(ctx, `UPDATE webhook_endpoints SET url = ?, description = ?, active = ?, updated_at = ? WHERE id = ?`,
			w.URL, w.Description, boolInt(w.Active), now, id); err != nil {
			return err
		}
		if u.Secret != nil {
			if _, err := tx.exec(ctx, `UPDATE webhook_endpoints SET secret = ? WHERE id = ?`, secret, id); err != nil {
				return err
			}
		}
		if u.Kinds != nil {
			if err := setSubscriptions(ctx, tx, id, w.Kinds); err != nil {
				return err
			}
		}
		changes := rapport.AuditChanges(&before, w)
		if u.Secret != nil {
			changes["secret"] = rapport.AuditChange{Before: rapport.Redacted, After: rapport.Redacted}
		}
		if len(changes) > 0 {
			if err := auditChanges(ctx, tx, rapport.AuditUpdate, "webhook", id, changes); err != nil {
				return err
			}
		}
		switch {
		case wasActive && !w.Active:
			_, err = tx.exec(ctx, `UPDATE webhook_deliveries SET status = ? WHERE endpoint_id = ? AND status = ?`,
				rapport.DeliveryPaused, id, rapport.DeliveryPending)
		case !wasActive && w.Active:
			_, err = tx.exec(ctx, `UPDATE webhook_deliveries SET status = ?, next_attempt_at = ? WHERE endpoint_id = ? AND status = ?`,
				rapport.DeliveryPending, now, id, rapport.DeliveryPaused)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// DeleteWebhook removes an endpoint with its deliveries.
func (s *WebhookService) DeleteWebhook(ctx context.Context, id string) error {
	return s.db.inTx(ctx, func(tx *tx) error {
		w, err := findWebhook(ctx, tx.querier, id)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM webhook_endpoints WHERE id = ?`, id); err != nil {
			return err
		}
		return audit(ctx, tx, rapport.AuditDelete, "webhook", id, w, nil)
	})
}

// FindDeliveries lists an endpoint's deliveries, newest first.
func (s *WebhookService) FindDeliveries(ctx context.Context, webhookID string, f rapport.DeliveryFilter) (rapport.Page[*rapport.WebhookDelivery], error) {
	page := rapport.Page[*rapport.WebhookDelivery]{Items: []*rapport.WebhookDelivery{}}
	q := s.db.reader()
	if _, err := findWebhook(ctx, q, webhookID); err != nil {
		return page, err
	}
	where, args := []string{"endpoint_id = ?"}, []any{webhookID}
	switch f.Status {
	case "":
	case rapport.DeliveryPending, rapport.DeliveryDelivered, rapport.DeliveryFailed, rapport.DeliveryPaused:
		where, args = append(where, "status = ?"), append(args, f.Status)
	default:
		return page, invalidQuery("status", "must be pending, delivered, failed or paused")
	}
	if f.Cursor != "" {
		us, id, err := decodeTimeCursor(f.Cursor)
		if err != nil {
			return page, err
		}
		where, args = append(where, "(created_at < ? OR (created_at = ? AND id < ?))"), append(args, us, us, id)
	}
	return queryPage(ctx, q, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE `+strings.Join(where, " AND ")+
		` ORDER BY created_at DESC, id DESC LIMIT ?`, args, rapport.PageLimit(f.Limit),
		func(rows *sql.Rows) (*rapport.WebhookDelivery, error) { return scanDelivery(rows) },
		func(d *rapport.WebhookDelivery) string { return timeCursor(d.CreatedAt, d.ID) })
}

func scanDelivery(row interface{ Scan(...any) error }) (*rapport.WebhookDelivery, error) {
	var (
		d                   rapport.WebhookDelivery
		next, created       int64
		last, delivered     sql.NullInt64
		lastStatus          sql.NullInt64
		lastError, endpoint string
	)
	if err := row.Scan(&d.ID, &endpoint, &d.Kind, &d.Status, &d.Attempts, &next, &last, &lastStatus, &lastError, &delivered, &created); err != nil {
		return nil, err
	}
	d.WebhookID, d.LastError = endpoint, lastError
	if d.Status == rapport.DeliveryPending {
		t := fromMicros(next)
		d.NextAttemptAt = &t
	}
	d.LastAttemptAt, d.LastStatus, d.DeliveredAt, d.CreatedAt = timePtr(last), intPtr(lastStatus), timePtr(delivered), fromMicros(created)
	return &d, nil
}

// TestWebhook queues a ping to an active endpoint; see rapport.WebhookService.
func (s *WebhookService) TestWebhook(ctx context.Context, id string) (*rapport.WebhookDelivery, error) {
	var d *rapport.WebhookDelivery
	err := s.db.inTx(ctx, func(tx *tx) error {
		w, err := findWebhook(ctx, tx.querier, id)
		if err != nil {
			return err
		}
		if !w.Active {
			return rapport.Errorf(rapport.ECONFLICT, "The webhook is paused; make it active to test it.")
		}
		ids, err := insertEvents(ctx, tx, rapport.EventPing, []string{id}, []any{map[string]string{"webhook_id": id}})
		if err != nil {
			return err
		}
		d, err = scanDelivery(tx.queryRow(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE id = ?`, ids[0]))
		return err
	})
	return d, err
}

// webhookSubscribers returns the active endpoints that want each event
// kind. It asks once per transaction, and in a change to moments not at all
// while the settings' version stands (settings.go): an endpoint that another
// server sharing the database adds moves the version, and so gets the
// events this server causes from its next change on.
func (t *tx) webhookSubscribers(ctx context.Context) (map[string][]string, error) {
	if t.subscribers != nil {
		return t.subscribers, nil
	}
	subs, err := setting(ctx, t, settingSubscribers, loadSubscribers)
	if err != nil {
		return nil, err
	}
	t.subscribers = subs
	return subs, nil
}

// loadSubscribers reads the active endpoints that want each event kind.
func loadSubscribers(ctx context.Context, q querier) (map[string][]string, error) {
	subs := map[string][]string{}
	err := eachRow(ctx, q, `SELECT e.id, s.kind FROM webhook_endpoints e
		JOIN webhook_subscriptions s ON s.endpoint_id = e.id WHERE e.active = 1 ORDER BY e.id`, nil, func(rows *sql.Rows) error {
		var id, kind string
		if err := rows.Scan(&id, &kind); err != nil {
			return err
		}
		subs[kind] = append(subs[kind], id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return subs, nil
}

// enqueue writes an event of kind for each item to the outbox of every
// active endpoint that wants kind, in the caller's transaction: the events
// are kept exactly when the change that caused them is.
func enqueue[T any](ctx context.Context, tx *tx, kind string, items []T) error {
	if len(items) == 0 {
		return nil
	}
	endpoints, err := subscribed(ctx, tx, kind)
	if err != nil || len(endpoints) == 0 {
		return err
	}
	data := make([]any, len(items))
	for i, it := range items {
		data[i] = it
	}
	_, err = insertEvents(ctx, tx, kind, endpoints, data)
	return err
}

func subscribed(ctx context.Context, tx *tx, kind string) ([]string, error) {
	subs, err := tx.webhookSubscribers(ctx)
	return subs[kind], err
}

// deliveryColumnCount is the number of columns insertEvents writes.
const deliveryColumnCount = 9

// eventCustomer is the customer an event's data tells of, "" for none, kept
// beside the delivery so that erasing the customer finds it.
func eventCustomer(data any) string {
	switch d := data.(type) {
	case *rapport.Moment:
		return d.CustomerID
	case *rapport.RecoveryCase:
		return d.CustomerID
	case *rapport.Promise:
		return d.CustomerID
	case *rapport.StageChange:
		return d.CustomerID
	case *rapport.SurveyResponse:
		return d.CustomerID
	case *rapport.EmailRecord:
		return d.CustomerID
	case *rapport.OfferAssigned:
		return d.CustomerID
	}
	return ""
}

// insertEvents writes one event per item of data, to each endpoint, and
// returns the deliveries' ids.
func insertEvents(ctx context.Context, tx *tx, kind string, endpoints []string, data []any) ([]string, error) {
	now := tx.now.Truncate(time.Microsecond)
	at := micros(now)
	var ids []string
	var args []any
	rows := 0
	flush := func() error {
		if rows == 0 {
			return nil
		}
		_, err := tx.exec(ctx, `INSERT INTO webhook_deliveries (id, endpoint_id, kind, payload, status, attempts, next_attempt_at,
			created_at, customer_id) VALUES `+strings.TrimSuffix(strings.Repeat("("+placeholders(deliveryColumnCount)+"), ", rows), ", "), args...)
		args, rows = args[:0], 0
		return err
	}
	for _, d := range data {
		body, err := marshalEvent(rapport.WebhookEvent{ID: rapport.NewID(now), Kind: kind, CreatedAt: now, Data: d})
		if err != nil {
			return nil, err
		}
		customer := eventCustomer(d)
		for _, e := range endpoints {
			id := rapport.NewID(now)
			ids = append(ids, id)
			args = append(args, id, e, kind, body, rapport.DeliveryPending, 0, at, at, customer)
			if rows++; rows == insertChunk {
				if err := flush(); err != nil {
					return nil, err
				}
			}
		}
	}
	return ids, flush()
}

// marshalEvent is the body as sent: compact JSON, with <, > and & as
// themselves, as the API writes them.
func marshalEvent(e rapport.WebhookEvent) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// enqueueMomentEvents tells webhooks of moments: moment.recorded for each
// newly recorded one, moment.misery for the misery ones among them and for
// each moment a change has made misery. Moments sent again with a known
// external id are not new and never reach it.
func enqueueMomentEvents(ctx context.Context, tx *tx, recorded, madeMisery []*rapport.Moment) error {
	if err := enqueue(ctx, tx, rapport.EventMomentRecorded, recorded); err != nil {
		return err
	}
	var misery []*rapport.Moment
	for _, m := range recorded {
		if m.Outcome == rapport.OutcomeMisery {
			misery = append(misery, m)
		}
	}
	return enqueue(ctx, tx, rapport.EventMomentMisery, append(misery, madeMisery...))
}

// enqueueCasesOpened tells webhooks of the cases openCases inserted, given
// the ids it tried: an id whose moment had a case already was not inserted
// and finds nothing.
func enqueueCasesOpened(ctx context.Context, tx *tx, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if endpoints, err := subscribed(ctx, tx, rapport.EventCaseOpened); err != nil || len(endpoints) == 0 {
		return err
	}
	var cases []*rapport.RecoveryCase
	err := inChunks(anys(ids), func(chunk []any) error {
		return eachRow(ctx, tx.querier, caseSelect+` WHERE c.id IN (`+placeholders(len(chunk))+`) ORDER BY c.id`, chunk,
			func(rows *sql.Rows) error {
				c, err := scanCase(rows, tx.now)
				cases = append(cases, c)
				return err
			})
	})
	if err != nil {
		return err
	}
	return enqueue(ctx, tx, rapport.EventCaseOpened, cases)
}

// enqueueStageChanged tells webhooks of the stage change just written for
// a customer at changedAt (microseconds), which no other change of theirs
// shares.
func enqueueStageChanged(ctx context.Context, tx *tx, customerID string, changedAt int64) error {
	if endpoints, err := subscribed(ctx, tx, rapport.EventStageChanged); err != nil || len(endpoints) == 0 {
		return err
	}
	sc, err := scanStageChange(tx.queryRow(ctx, `SELECT `+stageChangeColumns+` FROM stage_changes
		WHERE customer_id = ? AND changed_at = ?`, customerID, changedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return rapport.Errorf(rapport.EINTERNAL, "The stage change of customer %s at %d is not stored.", customerID, changedAt)
	} else if err != nil {
		return err
	}
	return enqueue(ctx, tx, rapport.EventStageChanged, []*rapport.StageChange{sc})
}
