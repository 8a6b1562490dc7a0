package sqlstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// webhook creates an endpoint wanting kinds and returns it with its secret.
func (s *store) webhook(t testing.TB, url string, kinds ...string) (*rapport.Webhook, string) {
	t.Helper()
	w := &rapport.Webhook{URL: url, Kinds: kinds, Active: true}
	secret, err := sqlstore.NewWebhookService(s.db, sqlstore.WebhookOptions{AllowPrivate: true}).CreateWebhook(context.Background(), w, "")
	if err != nil {
		t.Fatalf("CreateWebhook(%q, %q) = %v", url, kinds, err)
	}
	return w, secret
}

// events returns the kinds and data of an endpoint's deliveries, oldest
// first, read from the outbox directly.
func (s *store) events(t testing.TB, endpointID string) []rapport.WebhookEvent {
	t.Helper()
	rows, err := s.raw.Query(`SELECT payload FROM webhook_deliveries WHERE endpoint_id = '` + endpointID + `' ORDER BY created_at, id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []rapport.WebhookEvent
	for rows.Next() {
		var payload string
		if err := rows.Scan(&payload); err != nil {
			t.Fatal(err)
		}
		var e rapport.WebhookEvent
		if err := json.Unmarshal([]byte(payload), &e); err != nil {
			t.Fatalf("payload %s is not an event: %v", payload, err)
		}
		out = append(out, e)
	}
	return out
}

func kindsOf(es []rapport.WebhookEvent) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.Kind)
	}
	slices.Sort(out)
	return out
}

// dataID is the id of the thing an event is about.
func dataID(e rapport.WebhookEvent) string {
	m, _ := e.Data.(map[string]any)
	id, _ := m["id"].(string)
	return id
}

// TestWebhookEventsFromMoments checks that recording moments writes one
// delivery per event to each endpoint that wants it, and nothing for a
// moment sent again, a batch refused, or a transaction rolled back.
func TestWebhookEventsFromMoments(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		c := s.customer(t, &rapport.Customer{Name: "Ada"})
		all, _ := s.webhook(t, "https://crm-sync.example/hook", rapport.EventMomentRecorded, rapport.EventMomentMisery, rapport.EventCaseOpened)
		other, _ := s.webhook(t, "https://other.example/hook", rapport.EventPromiseBroken)
		paused, _ := s.webhook(t, "https://paused.example/hook", rapport.EventMomentRecorded)
		hooks := sqlstore.NewWebhookService(s.db, sqlstore.WebhookOptions{AllowPrivate: true})
		if _, err := hooks.UpdateWebhook(ctx, paused.ID, rapport.WebhookUpdate{Active: ptr(false)}); err != nil {
			t.Fatalf("UpdateWebhook(pause) = %v", err)
		}

		m := s.moment(c.ID)
		m.ExternalID = "call-1"
		s.record(t, m)
		es := s.events(t, all.ID)
		if len(es) != 1 || es[0].Kind != rapport.EventMomentRecorded || dataID(es[0]) != m.ID || es[0].ID == "" {
			t.Fatalf("after one moment, the subscribed endpoint has %s; want one moment.recorded for %s", show(es), m.ID)
		}
		if n := len(s.events(t, other.ID)) + len(s.events(t, paused.ID)); n != 0 {
			t.Errorf("endpoints not subscribed, or paused, got %d deliveries; want 0", n)
		}

		again := s.moment(c.ID)
		again.ExternalID = "call-1"
		if created, err := s.moments.RecordMoment(ctx, again); err != nil || created {
			t.Fatalf("RecordMoment(call-1 again) = %v, %v; want not created", created, err)
		}
		if _, err := s.moments.RecordMoments(ctx, []*rapport.Moment{again, {ExternalID: "call-1"}}); rapport.ErrorCode(err) != rapport.EINVALID {
			t.Fatalf("RecordMoments(bad batch) = %v; want invalid", err)
		}
		dup := *again
		if _, err := s.moments.RecordMoments(ctx, []*rapport.Moment{&dup}); err != nil {
			t.Fatalf("RecordMoments(call-1 again) = %v", err)
		}
		lost := s.misery(c.ID, "complaint")
		if err := sqlstore.RecordMomentsThenFail(ctx, s.db, []*rapport.Moment{lost}); !errors.Is(err, sqlstore.ErrTestRollback) {
			t.Fatalf("RecordMomentsThenFail = %v; want the test's rollback", err)
		}
		if n := len(s.events(t, all.ID)); n != 1 {
			t.Fatalf("after a moment sent again, a bad batch and a rollback, %d deliveries; want still 1", n)
		}
		if n := s.count(t, "moments", ""); n != 1 {
			t.Fatalf("%d moments stored; want 1", n)
		}

		misery := s.record(t, s.misery(c.ID, "complaint"))
		es = s.events(t, all.ID)
		want := []string{rapport.EventCaseOpened, rapport.EventMomentMisery, rapport.EventMomentRecorded, rapport.EventMomentRecorded}
		if got := kindsOf(es); !slices.Equal(got, want) {
			t.Fatalf("after a misery moment, kinds %q; want %q", got, want)
		}
		cases := s.cases(t, rapport.CaseFilter{})
		for _, e := range es {
			if dataID(e) == m.ID {
				continue // the first moment's
			}
			wantID := misery.ID
			if e.Kind == rapport.EventCaseOpened {
				wantID = cases[0].ID
				if d, _ := e.Data.(map[string]any); d["moment_id"] != misery.ID {
					t.Errorf("case.opened data = %v; want the misery moment's case", e.Data)
				}
			}
			if dataID(e) != wantID {
				t.Errorf("%s is about %q; want %q", e.Kind, dataID(e), wantID)
			}
		}

		// A batch is one event per moment.
		batch := []*rapport.Moment{s.moment(c.ID), s.moment(c.ID), s.moment(c.ID)}
		if _, err := s.moments.RecordMoments(ctx, batch); err != nil {
			t.Fatalf("RecordMoments = %v", err)
		}
		if n := len(s.events(t, all.ID)); n != 7 {
			t.Errorf("after a batch of 3, %d deliveries; want 7", n)
		}
	})
}

// TestWebhookEventsFromPromisesAndStages checks promise.broken and
// stage.changed, and that a delivery waits while its endpoint is paused.
func TestWebhookEventsFromPromisesAndStages(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		c := s.customer(t, &rapport.Customer{Name: "Ada"})
		w, _ := s.webhook(t, "https://crm-sync.example/hook", rapport.EventPromiseBroken, rapport.EventStageChanged)

		p := s.promise(t, c.ID, "", time.Hour)
		if _, err := sqlstore.NewPromiseService(s.db).SetPromiseStatus(ctx, p.ID, rapport.PromiseBroken); err != nil {
			t.Fatalf("SetPromiseStatus(broken) = %v", err)
		}
		late := s.promise(t, c.ID, "", time.Hour)
		s.clock.Add(2 * time.Hour)
		if n, err := sqlstore.NewPromiseService(s.db).BreakOverdue(ctx); err != nil || n != 1 {
			t.Fatalf("BreakOverdue = %d, %v; want 1", n, err)
		}
		manager := s.user(t, "Mia Manager")
		if _, err := sqlstore.NewStageService(s.db).SetStage(asUser(manager), c.ID, rapport.StageInput{Stage: rapport.StageExploration, Reason: "asked for quotes"}); err != nil {
			t.Fatalf("SetStage = %v", err)
		}
		es := s.events(t, w.ID)
		want := []string{rapport.EventPromiseBroken, rapport.EventPromiseBroken, rapport.EventStageChanged}
		if got := kindsOf(es); !slices.Equal(got, want) {
			t.Fatalf("kinds %q; want %q", got, want)
		}
		var broken []string
		for _, e := range es {
			d, _ := e.Data.(map[string]any)
			switch e.Kind {
			case rapport.EventPromiseBroken:
				broken = append(broken, dataID(e))
				if d["status"] != string(rapport.PromiseBroken) {
					t.Errorf("promise.broken data = %v; want status broken", d)
				}
			case rapport.EventStageChanged:
				if d["customer_id"] != c.ID || d["from"] != rapport.StageAwareness || d["to"] != rapport.StageExploration ||
					d["changed_by"] != manager.ID || d["reason"] != "asked for quotes" || d["id"] == "" {
					t.Errorf("stage.changed data = %v; want awareness to exploration by the manager", d)
				}
			}
		}
		slices.Sort(broken)
		if wantIDs := slices.Sorted(slices.Values([]string{p.ID, late.ID})); !slices.Equal(broken, wantIDs) {
			t.Errorf("promise.broken for %q; want %q", broken, wantIDs)
		}
	})
}

// receiver is a loopback HTTP server that answers deliveries with the
// statuses it is given, in turn, and keeps what it received.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	got      []received
}

type received struct {
	header http.Header
	body   []byte
}

func newReceiver(t testing.TB, statuses ...int) *receiver {
	r := &receiver{statuses: statuses}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{header: req.Header.Clone(), body: body})
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, http.StatusText(status))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) received() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// exact has no jitter, so that tests know each wait.
func exact(d time.Duration) time.Duration { return d }

// deliveries lists an endpoint's deliveries.
func deliveries(t testing.TB, hooks *sqlstore.WebhookService, id string) []*rapport.WebhookDelivery {
	t.Helper()
	page, err := hooks.FindDeliveries(context.Background(), id, rapport.DeliveryFilter{Limit: rapport.MaxPageSize})
	if err != nil {
		t.Fatalf("FindDeliveries = %v", err)
	}
	return page.Items
}

// TestWebhookRefusesPrivateAddresses checks that, unless allowed, a webhook
// cannot reach a loopback address (where the firm's internal services
// would be): the attempt fails, saying why, and the receiver hears nothing.
func TestWebhookRefusesPrivateAddresses(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		rcv := newReceiver(t, 200)
		w, _ := s.webhook(t, rcv.URL+"/internal", rapport.EventMomentRecorded)
		hooks := sqlstore.NewWebhookService(s.db, sqlstore.WebhookOptions{Jitter: exact})
		s.record(t, s.moment(s.customer(t, &rapport.Customer{Name: "Ada"}).ID))
		if n, err := hooks.Deliver(ctx); err != nil || n != 0 {
			t.Fatalf("Deliver = %d, %v; want nothing delivered", n, err)
		}
		d := deliveries(t, hooks, w.ID)[0]
		if d.Status != rapport.DeliveryPending || d.Attempts != 1 || !strings.Contains(d.LastError, "127.0.0.0/8 (loopback)") {
			t.Errorf("delivery = %s; want a failed attempt saying the address is refused", show(d))
		}
		if got := rcv.received(); len(got) != 0 {
			t.Errorf("the loopback receiver got %d requests; want none", len(got))
		}
	})
}

// TestWebhookDeliverySignedWithRetries checks the request a receiver gets,
// its signature, and the waits between attempts when it fails twice.
func TestWebhookDeliverySignedWithRetries(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		rcv := newReceiver(t, 500, 500, 200)
		w, secret := s.webhook(t, rcv.URL+"/rapport", rapport.EventMomentRecorded)
		hooks := sqlstore.NewWebhookService(s.db, sqlstore.WebhookOptions{AllowPrivate: true, FirstRetry: 30 * time.Second, Jitter: exact})
		m := s.record(t, s.moment(s.customer(t, &rapport.Customer{Name: "Ada"}).ID))

		start := s.clock.Now()
		wantNext := []time.Time{start.Add(30 * time.Second), start.Add(90 * time.Second)}
		for i, next := range wantNext {
			if n, err := hooks.Deliver(ctx); err != nil || n != 0 {
				t.Fatalf("attempt %d: Deliver = %d, %v; want 0 delivered", i+1, n, err)
			}
			ds := deliveries(t, hooks, w.ID)
			if len(ds) != 1 {
				t.Fatalf("%d deliveries; want 1", len(ds))
			}
			d := ds[0]
			if d.Status != rapport.DeliveryPending || d.Attempts != i+1 || d.NextAttemptAt == nil || !d.NextAttemptAt.Equal(next) ||
				d.LastStatus == nil || *d.LastStatus != 500 || d.LastError == "" {
				t.Fatalf("after failed attempt %d: %s; want pending, next at %v, last status 500", i+1, show(d), next)
			}
			// Not due yet: nothing is sent.
			if n, err := hooks.Deliver(ctx); err != nil || n != 0 || len(rcv.received()) != i+1 {
				t.Fatalf("before the wait: Deliver = %d, %v with %d requests; want nothing sent", n, err, len(rcv.received()))
			}
			s.clock.Add(next.Sub(s.clock.Now()))
		}
		if n, err := hooks.Deliver(ctx); err != nil || n != 1 {
			t.Fatalf("third attempt: Deliver = %d, %v; want 1 delivered", n, err)
		}
		d := deliveries(t, hooks, w.ID)[0]
		if d.Status != rapport.DeliveryDelivered || d.Attempts != 3 || d.DeliveredAt == nil || !d.DeliveredAt.Equal(wantNext[1]) ||
			d.NextAttemptAt != nil || *d.LastStatus != 200 || d.LastError != "" {
			t.Errorf("after the third attempt: %s; want delivered at %v in 3 attempts", show(d), wantNext[1])
		}
		if n, err := hooks.Deliver(ctx); err != nil || n != 0 || len(rcv.received()) != 3 {
			t.Errorf("once delivered: Deliver = %d, %v with %d requests; want nothing more sent", n, err, len(rcv.received()))
		}

		got := rcv.received()
		times := []time.Time{start, wantNext[0], wantNext[1]}
		for i, r := range got {
			h := r.header
			if h.Get("Rapport-Event") != rapport.EventMomentRecorded || h.Get("Rapport-Delivery") != d.ID ||
				h.Get("Content-Type") != "application/json" || h.Get("Rapport-Timestamp") != strconv.FormatInt(times[i].Unix(), 10) {
				t.Errorf("request %d headers = %v; want the event, delivery %s, JSON and the time %v", i+1, h, d.ID, times[i])
			}
			sig := h.Get("Rapport-Signature")
			if err := rapport.VerifyWebhook(secret, sig, r.body, times[i], 5*time.Minute); err != nil {
				t.Errorf("request %d: the signature %q does not verify with the secret: %v", i+1, sig, err)
			}
			if err := rapport.VerifyWebhook("whsec_another_secret_entirely", sig, r.body, times[i], 5*time.Minute); !errors.Is(err, rapport.ErrBadSignature) {
				t.Errorf("request %d: the signature verifies with another secret (%v)", i+1, err)
			}
			if string(r.body) != string(got[0].body) {
				t.Errorf("request %d body differs from the first: %s", i+1, r.body)
			}
		}
		var e rapport.WebhookEvent
		if err := json.Unmarshal(got[0].body, &e); err != nil || e.Kind != rapport.EventMomentRecorded || dataID(e) != m.ID {
			t.Errorf("body = %s (%v); want moment.recorded for %s", got[0].body, err, m.ID)
		}
	})
}

// TestWebhookDeliveryGivesUp checks that a delivery the receiver never
// accepts is marked failed after the last attempt, and that a redirect is
// an answer that failed, never followed.
func TestWebhookDeliveryGivesUp(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		target := newReceiver(t)
		rcv := newReceiver(t, 503, 503, 503, 503, 503)
		redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
		t.Cleanup(redirect.Close)
		w, _ := s.webhook(t, rcv.URL, rapport.EventMomentRecorded)
		moved, _ := s.webhook(t, redirect.URL, rapport.EventMomentRecorded)
		hooks := sqlstore.NewWebhookService(s.db, sqlstore.WebhookOptions{AllowPrivate: true, MaxAttempts: 3, FirstRetry: time.Minute, Jitter: exact})
		s.record(t, s.moment(s.customer(t, &rapport.Customer{Name: "Ada"}).ID))

		for range 10 {
			if _, err := hooks.Deliver(ctx); err != nil {
				t.Fatalf("Deliver = %v", err)
			}
			s.clock.Add(time.Hour)
		}
		if n := len(rcv.received()); n != 3 {
			t.Errorf("the receiver was tried %d times; want 3", n)
		}
		d := deliveries(t, hooks, w.ID)[0]
		if d.Status != rapport.DeliveryFailed || d.Attempts != 3 || d.NextAttemptAt != nil || *d.LastStatus != 503 ||
			d.LastError != "HTTP 503 Service Unavailable: Service Unavailable" {
			t.Errorf("after 3 refusals: %s; want failed after 3 attempts with the last answer", show(d))
		}
		r := deliveries(t, hooks, moved.ID)[0]
		if r.Status != rapport.DeliveryFailed || *r.LastStatus != http.StatusTemporaryRedirect || len(target.received()) != 0 {
			t.Errorf("redirected: %s with %d requests at the target; want failed on 307, the target never reached", show(r), len(target.received()))
		}
	})
}

// TestWebhookConcurrentWorkers checks that two servers delivering from one
// database at once send each delivery once.
func TestWebhookConcurrentWorkers(t *testing.T) {
	const moments = 60
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		rcv := newReceiver(t)
		w, _ := s.webhook(t, rcv.URL, rapport.EventMomentRecorded)
		c := s.customer(t, &rapport.Customer{Name: "Ada"})
		var batch []*rapport.Moment
		for range moments {
			batch = append(batch, s.moment(c.ID))
		}
		if _, err := s.moments.RecordMoments(ctx, batch); err != nil {
			t.Fatalf("RecordMoments = %v", err)
		}
		second, err := sqlstore.Open(ctx, s.dsn, s.clock.Now)
		if err != nil {
			t.Fatalf("Open(second server) = %v", err)
		}
		t.Cleanup(func() { second.Close() })
		opts := sqlstore.WebhookOptions{AllowPrivate: true, Batch: 5, Concurrency: 2}
		workers := []*sqlstore.WebhookService{sqlstore.NewWebhookService(s.db, opts), sqlstore.NewWebhookService(second, opts)}
		var wg sync.WaitGroup
		sent := make([]int, len(workers))
		start := make(chan struct{})
		for i, wk := range workers {
			wg.Go(func() {
				<-start
				for range 3 {
					n, err := wk.Deliver(ctx)
					if err != nil {
						t.Errorf("worker %d: Deliver = %v", i, err)
					}
					sent[i] += n
				}
			})
		}
		close(start)
		wg.Wait()
		// Workers that lost part of a claim to each other stop for this
		// round; what they left is sent on the next.
		n, err := workers[0].Deliver(ctx)
		if err != nil {
			t.Fatalf("Deliver = %v", err)
		}
		sent[0] += n
		seen := map[string]int{}
		for _, r := range rcv.received() {
			seen[r.header.Get("Rapport-Delivery")]++
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("delivery %s was sent %d times; want once", id, n)
			}
		}
		if len(seen) != moments || sent[0]+sent[1] != moments {
			t.Errorf("%d deliveries received, %d and %d reported sent; want %d in all", len(seen), sent[0], sent[1], moments)
		}
		if n := s.count(t, "webhook_deliveries", "endpoint_id = '"+w.ID+"' AND status = 'delivered'"); n != moments {
			t.Errorf("%d deliveries marked delivered; want %d", n, moments)
		}
	})
}

// TestWebhookEndpoints checks creating, finding, changing, pausing, testing
// and deleting endpoints, and that finished deliveries are removed after
// the retention.
func TestWebhookEndpoints(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		rcv := newReceiver(t)
		hooks := sqlstore.NewWebhookService(s.db, sqlstore.WebhookOptions{AllowPrivate: true, Retention: 24 * time.Hour})
		admin := s.user(t, "Ada Admin")

		bad := &rapport.Webhook{URL: "ftp://example.com/x", Kinds: []string{"moment.recorded", "moment.deleted"}}
		_, err := hooks.CreateWebhook(ctx, bad, "short")
		wantCode(t, "CreateWebhook(bad)", err, rapport.EINVALID)
		if got, want := fieldNames(err), []string{"kinds", "secret", "url"}; !slices.Equal(got, want) {
			t.Errorf("CreateWebhook(bad) fields = %q; want %q", got, want)
		}
		for _, url := range []string{"", "example.com/hook", "https://", "/relative", "https://example.com/a#b", "mailto:a@example.com"} {
			_, err := hooks.CreateWebhook(ctx, &rapport.Webhook{URL: url, Kinds: []string{rapport.EventPing}}, "")
			if got := fieldNames(err); !slices.Contains(got, "url") {
				t.Errorf("CreateWebhook(url %q) fields = %q; want url refused", url, got)
			}
		}

		w := &rapport.Webhook{URL: rcv.URL, Description: "billing sync", Kinds: []string{rapport.EventStageChanged, rapport.EventMomentRecorded, rapport.EventStageChanged}, Active: true}
		secret, err := hooks.CreateWebhook(asUser(admin), w, "")
		if err != nil || len(secret) < 40 || secret[:6] != "whsec_" {
			t.Fatalf("CreateWebhook = %q, %v; want a generated whsec_ secret", secret, err)
		}
		if want := []string{rapport.EventMomentRecorded, rapport.EventStageChanged}; !slices.Equal(w.Kinds, want) || w.CreatedBy != admin.ID {
			t.Errorf("created %s; want kinds %q once each, by the admin", show(w), want)
		}
		s.clock.Add(time.Second)
		given := &rapport.Webhook{URL: "http://127.0.0.1:9/x", Kinds: []string{rapport.EventCaseOpened}}
		if got, err := hooks.CreateWebhook(ctx, given, "my-own-secret-of-enough-length"); err != nil || got != "my-own-secret-of-enough-length" {
			t.Errorf("CreateWebhook(with a secret) = %q, %v; want that secret", got, err)
		}
		if n := s.count(t, "webhook_endpoints", "secret = '"+secret+"'"); n != 1 {
			t.Errorf("the secret is stored %d times; want once, as given, to sign with", n)
		}
		list, err := hooks.FindWebhooks(ctx)
		if err != nil || len(list) != 2 || list[0].ID != given.ID || list[1].ID != w.ID || !slices.Equal(list[1].Kinds, w.Kinds) {
			t.Errorf("FindWebhooks = %s, %v; want both, newest first", show(list), err)
		}

		// Paused, a test waits; made active again, it goes at once.
		_, err = hooks.UpdateWebhook(ctx, w.ID, rapport.WebhookUpdate{Active: ptr(false), Kinds: &[]string{rapport.EventPromiseBroken}})
		if err != nil {
			t.Fatalf("UpdateWebhook(pause) = %v", err)
		}
		_, err = hooks.TestWebhook(ctx, w.ID)
		wantCode(t, "TestWebhook(paused)", err, rapport.ECONFLICT)
		if _, err := hooks.UpdateWebhook(ctx, w.ID, rapport.WebhookUpdate{Active: ptr(true)}); err != nil {
			t.Fatalf("UpdateWebhook(active) = %v", err)
		}
		ping, err := hooks.TestWebhook(ctx, w.ID)
		if err != nil || ping.Kind != rapport.EventPing || ping.Status != rapport.DeliveryPending || ping.WebhookID != w.ID {
			t.Fatalf("TestWebhook = %s, %v; want a pending ping", show(ping), err)
		}
		if _, err := hooks.UpdateWebhook(ctx, w.ID, rapport.WebhookUpdate{Active: ptr(false)}); err != nil {
			t.Fatalf("UpdateWebhook(pause) = %v", err)
		}
		if n, err := hooks.Deliver(ctx); err != nil || n != 0 || len(rcv.received()) != 0 {
			t.Fatalf("paused: Deliver = %d, %v; want nothing sent", n, err)
		}
		if d := deliveries(t, hooks, w.ID)[0]; d.Status != rapport.DeliveryPaused {
			t.Errorf("paused: the ping is %s; want paused", d.Status)
		}
		s.clock.Add(time.Hour)
		got, err := hooks.UpdateWebhook(ctx, w.ID, rapport.WebhookUpdate{Active: ptr(true), URL: ptr(rcv.URL + "/v2"), Secret: ptr("rotated-secret-0123456789")})
		if err != nil || !got.Active || got.URL != rcv.URL+"/v2" || !slices.Equal(got.Kinds, []string{rapport.EventPromiseBroken}) {
			t.Fatalf("UpdateWebhook(resume) = %s, %v", show(got), err)
		}
		if n, err := hooks.Deliver(ctx); err != nil || n != 1 {
			t.Fatalf("resumed: Deliver = %d, %v; want the ping sent", n, err)
		}
		r := rcv.received()[0]
		if err := rapport.VerifyWebhook("rotated-secret-0123456789", r.header.Get("Rapport-Signature"), r.body, s.clock.Now(), time.Minute); err != nil {
			t.Errorf("the ping is not signed with the new secret: %v", err)
		}
		var e rapport.WebhookEvent
		if json.Unmarshal(r.body, &e); e.Kind != rapport.EventPing || e.Data.(map[string]any)["webhook_id"] != w.ID {
			t.Errorf("ping body = %s; want a ping naming the webhook", r.body)
		}

		_, err = hooks.UpdateWebhook(ctx, w.ID, rapport.WebhookUpdate{Kinds: &[]string{}, Secret: ptr("x")})
		wantCode(t, "UpdateWebhook(no kinds, short secret)", err, rapport.EINVALID)
		_, err = hooks.UpdateWebhook(ctx, "NOPE", rapport.WebhookUpdate{})
		wantCode(t, "UpdateWebhook(unknown)", err, rapport.ENOTFOUND)
		_, err = hooks.FindDeliveries(ctx, w.ID, rapport.DeliveryFilter{Status: "lost"})
		wantCode(t, "FindDeliveries(status lost)", err, rapport.EINVALID)

		// Past the retention, a finished delivery is removed.
		s.clock.Add(25 * time.Hour)
		if _, err := hooks.Deliver(ctx); err != nil {
			t.Fatalf("Deliver = %v", err)
		}
		if ds := deliveries(t, hooks, w.ID); len(ds) != 0 {
			t.Errorf("after the retention, deliveries = %s; want none", show(ds))
		}

		if _, err := hooks.TestWebhook(ctx, w.ID); err != nil {
			t.Fatal(err)
		}
		if err := hooks.DeleteWebhook(ctx, w.ID); err != nil {
			t.Fatalf("DeleteWebhook = %v", err)
		}
		wantCode(t, "DeleteWebhook(again)", hooks.DeleteWebhook(ctx, w.ID), rapport.ENOTFOUND)
		_, err = hooks.FindWebhookByID(ctx, w.ID)
		wantCode(t, "FindWebhookByID(deleted)", err, rapport.ENOTFOUND)
		if n := s.count(t, "webhook_deliveries", "endpoint_id = '"+w.ID+"'") + s.count(t, "webhook_subscriptions", "endpoint_id = '"+w.ID+"'"); n != 0 {
			t.Errorf("%d rows of the deleted webhook remain; want 0", n)
		}
	})
}

// TestWebhookDeliveryStopping checks that a worker stopped mid-batch keeps
// what it delivered and does not count the attempts the stop cut short,
// which are made again once their lease runs out.
func TestWebhookDeliveryStopping(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx, stop := context.WithCancel(context.Background())
		defer stop()
		var mu sync.Mutex
		requests := map[string]int{}
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// Read first: the server notices the client going away only once
			// the body is read.
			io.Copy(io.Discard, r.Body)
			mu.Lock()
			requests[r.Header.Get("Rapport-Delivery")]++
			n := len(requests)
			mu.Unlock()
			if n == 2 && ctx.Err() == nil {
				stop() // the server is told to stop while this request is under way
				select {
				case <-r.Context().Done():
				case <-time.After(time.Minute): // never wait for ever
				}
				return
			}
		}))
		defer rcv.Close()
		w, _ := s.webhook(t, rcv.URL, rapport.EventMomentRecorded)
		c := s.customer(t, &rapport.Customer{Name: "Ada"})
		if _, err := s.moments.RecordMoments(context.Background(), []*rapport.Moment{s.moment(c.ID), s.moment(c.ID), s.moment(c.ID)}); err != nil {
			t.Fatalf("RecordMoments = %v", err)
		}
		hooks := sqlstore.NewWebhookService(s.db, sqlstore.WebhookOptions{AllowPrivate: true, Concurrency: 1, Lease: 5 * time.Minute})
		if n, err := hooks.Deliver(ctx); !errors.Is(err, context.Canceled) || n != 1 {
			t.Fatalf("Deliver, stopped at the second request = %d, %v; want 1 delivered and the stop", n, err)
		}
		count := func(status string, attempts int) int {
			n := 0
			for _, d := range deliveries(t, hooks, w.ID) {
				if d.Status == status && d.Attempts == attempts {
					n++
				}
			}
			return n
		}
		if count(rapport.DeliveryDelivered, 1) != 1 || count(rapport.DeliveryPending, 0) != 2 {
			t.Fatalf("after the stop: %s; want 1 delivered and 2 pending with no attempt counted", show(deliveries(t, hooks, w.ID)))
		}
		if n, err := hooks.Deliver(context.Background()); err != nil || n != 0 {
			t.Fatalf("within the lease: Deliver = %d, %v; want nothing sent", n, err)
		}
		s.clock.Add(5 * time.Minute)
		if n, err := hooks.Deliver(context.Background()); err != nil || n != 2 {
			t.Fatalf("after the lease: Deliver = %d, %v; want the other 2 delivered", n, err)
		}
		mu.Lock()
		defer mu.Unlock()
		once := 0
		for _, n := range requests {
			if n == 1 {
				once++
			}
		}
		if len(requests) != 3 || once != 2 {
			t.Errorf("requests per delivery = %v; want the first and the never-tried one once, the cut one twice", requests)
		}
	})
}

// TestWebhookRegistrationRefusesInternalAddresses: unless the server allows
// internal addresses, a URL written with one is refused when it is
// registered or changed to, on the url field, and nothing is stored.
func TestWebhookRegistrationRefusesInternalAddresses(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		hooks := sqlstore.NewWebhookService(s.db, sqlstore.WebhookOptions{})
		allowing := sqlstore.NewWebhookService(s.db, sqlstore.WebhookOptions{AllowPrivate: true})
		urls := map[string]string{
			"http://0.0.0.0:8080/":             "0.0.0.0/8",
			"http://10.0.0.5/":                 "10.0.0.0/8",
			"http://100.100.100.200/meta-data": "100.64.0.0/10",
			"http://127.0.0.1:9/":              "127.0.0.0/8",
			"http://169.254.169.254/":          "169.254.0.0/16",
			"http://172.20.0.1/":               "172.16.0.0/12",
			"http://192.0.0.170/":              "192.0.0.0/24",
			"http://192.168.0.1/":              "192.168.0.0/16",
			"http://198.18.5.5/":               "198.18.0.0/15",
			"http://240.1.2.3/":                "240.0.0.0/4",
			"http://255.255.255.255/":          "240.0.0.0/4",
			"http://[::1]:9/":                  "::/96",
			"http://[::ffff:100.64.0.1]/":      "100.64.0.0/10",
			"http://[::ffff:198.18.0.1]/":      "198.18.0.0/15",
			"http://[fd12:3456::1]/":           "fc00::/7",
			"http://[fe80::1]/":                "fe80::/10",
			"http://localhost:9/":              "localhost",
		}
		for url, want := range urls {
			_, err := hooks.CreateWebhook(ctx, &rapport.Webhook{URL: url, Kinds: []string{rapport.EventMomentRecorded}}, "")
			wantCode(t, "CreateWebhook("+url+")", err, rapport.EINVALID)
			if f := rapport.ErrorFields(err); len(f) != 1 || f[0].Field != "url" || !strings.Contains(f[0].Message, want) ||
				!strings.Contains(f[0].Message, "--webhooks-private") {
				t.Errorf("CreateWebhook(%s) fields = %v; want url refused as in %s, naming --webhooks-private", url, f, want)
			}
		}
		if n := s.count(t, "webhook_endpoints", "1 = 1"); n != 0 {
			t.Errorf("%d webhooks stored; want none", n)
		}
		w := &rapport.Webhook{URL: "https://hooks.example.com/rapport", Kinds: []string{rapport.EventMomentRecorded}, Active: true}
		if _, err := hooks.CreateWebhook(ctx, w, ""); err != nil {
			t.Fatalf("CreateWebhook(public name) = %v", err)
		}
		_, err := hooks.UpdateWebhook(ctx, w.ID, rapport.WebhookUpdate{URL: ptr("http://100.64.0.1/")})
		if f := rapport.ErrorFields(err); len(f) != 1 || f[0].Field != "url" {
			t.Errorf("UpdateWebhook(to 100.64.0.1) = %v; want url refused", err)
		}
		if got, _ := hooks.FindWebhookByID(ctx, w.ID); got.URL != w.URL {
			t.Errorf("after a refused update the URL is %s; want %s", got.URL, w.URL)
		}
		// A server that allows internal addresses takes them.
		if _, err := allowing.CreateWebhook(ctx, &rapport.Webhook{URL: "http://100.64.0.1/", Kinds: []string{rapport.EventMomentRecorded}}, ""); err != nil {
			t.Errorf("CreateWebhook(100.64.0.1) allowing internal addresses = %v; want it stored", err)
		}
	})
}

// failingDoer answers every request with err, as a client whose
// connection failed would.
type failingDoer struct{ err error }

func (d failingDoer) Do(*http.Request) (*http.Response, error) { return nil, d.err }

// TestWebhookDeliveryErrorHidesInternals: the error admins read for a
// failed attempt says what failed, without the DNS resolver's address or
// this server's own.
func TestWebhookDeliveryErrorHidesInternals(t *testing.T) {
	type errorCase struct {
		name      string
		err       error
		want      string
		internals []string
	}
	cases := []errorCase{
		{"no such host", &url.Error{Op: "Post", URL: "https://hooks.example.com/x", Err: &net.OpError{Op: "dial", Net: "tcp",
			Err: &net.DNSError{Err: "no such host", Name: "hooks.example.com", Server: "10.96.0.10:53", IsNotFound: true}}},
			"no address found for hooks.example.com", []string{"10.96.0.10"}},
		{"lookup timed out", &url.Error{Op: "Post", URL: "https://hooks.example.com/x", Err: &net.OpError{Op: "dial", Net: "tcp",
			Err: &net.DNSError{Err: "i/o timeout", Name: "hooks.example.com", Server: "[fd00::53]:53", IsTimeout: true}}},
			"looking up the address of hooks.example.com timed out", []string{"fd00::53"}},
		{"lookup failed", &net.DNSError{Err: "server misbehaving", Name: "hooks.example.com", Server: "192.168.0.53:53"},
			"could not look up the address of hooks.example.com", []string{"192.168.0.53"}},
		{"connection reset", &url.Error{Op: "Post", URL: "https://hooks.example.com/x", Err: &net.OpError{Op: "read", Net: "tcp",
			Source: &net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 43210}, Addr: &net.TCPAddr{IP: net.ParseIP("203.0.113.5"), Port: 443},
			Err: errors.New("connection reset by peer")}},
			"read 203.0.113.5:443: connection reset by peer", []string{"10.1.2.3"}},
	}
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		for _, tt := range cases {
			w, _ := s.webhook(t, "https://hooks.example.com/x", rapport.EventMomentRecorded)
			hooks := sqlstore.NewWebhookService(s.db, sqlstore.WebhookOptions{Client: failingDoer{tt.err}, Jitter: exact})
			if _, err := hooks.TestWebhook(ctx, w.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := hooks.Deliver(ctx); err != nil {
				t.Fatal(err)
			}
			d := deliveries(t, hooks, w.ID)[0]
			if !strings.Contains(d.LastError, tt.want) {
				t.Errorf("%s: last error = %q; want %q", tt.name, d.LastError, tt.want)
			}
			for _, internal := range tt.internals {
				if strings.Contains(d.LastError, internal) {
					t.Errorf("%s: last error = %q; shows the internal address %s", tt.name, d.LastError, internal)
				}
			}
		}
	})
}
