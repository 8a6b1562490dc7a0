package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/rapport-crm/rapport"
)

// Doer sends an HTTP request; *http.Client is one, and tests bring their own.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// WebhookOptions tune delivery; a zero field takes the default named beside it.
type WebhookOptions struct {
	// Client sends the requests: by default an http.Client that gives up
	// after Timeout, follows no redirect, uses no proxy and, unless
	// AllowPrivate, connects to no internal address (rapport.InternalAddress).
	Client Doer
	// AllowPrivate lets webhooks reach internal addresses: loopback,
	// private, link-local and special-use ones. Off, a webhook URL written
	// with one is refused, and no delivery connects to one, so a webhook
	// cannot reach the firm's own internal services through Rapport,
	// whatever its host resolves to.
	AllowPrivate bool
	// Timeout bounds one attempt (10 s).
	Timeout time.Duration
	// MaxAttempts is how many attempts a delivery gets before it is marked
	// failed (12).
	MaxAttempts int
	// FirstRetry is the wait after the first failed attempt; each later
	// wait doubles, up to MaxRetry (30 s and 6 h: twelve attempts span
	// about fifteen hours, enough to outlast a receiver down overnight).
	FirstRetry time.Duration
	MaxRetry   time.Duration
	// Jitter turns a nominal wait into the one used (by default a random
	// wait within a quarter of it either way), so that deliveries failed
	// together do not all come back at the same moment.
	Jitter func(time.Duration) time.Duration
	// Batch is how many deliveries one claim takes (20), Concurrency how
	// many are sent at once (4).
	Batch       int
	Concurrency int
	// Lease is how long a claimed delivery is left to its worker before
	// another may take it (5 min); it must outlast sending one batch.
	Lease time.Duration
	// Retention is how long finished deliveries stay listed (30 days).
	Retention time.Duration
}

func (o WebhookOptions) withDefaults() WebhookOptions {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&o.Timeout, 10*time.Second)
	set(&o.FirstRetry, 30*time.Second)
	set(&o.MaxRetry, 6*time.Hour)
	set(&o.Lease, 5*time.Minute)
	set(&o.Retention, 30*24*time.Hour)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 12
	}
	if o.Batch <= 0 {
		o.Batch = 20
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Jitter == nil {
		o.Jitter = quarterJitter
	}
	if o.Client == nil {
		dialer := &net.Dialer{Timeout: o.Timeout}
		if !o.AllowPrivate {
			// Checked on the address dialled, after the name is resolved, so
			// that no name can be pointed at an internal address later.
			dialer.Control = refusePrivate
		}
		o.Client = &http.Client{
			Timeout:   o.Timeout,
			Transport: &http.Transport{DialContext: dialer.DialContext, TLSHandshakeTimeout: o.Timeout, MaxIdleConnsPerHost: 2},
			// A redirect would carry a signed body somewhere the admin did
			// not choose; it counts as a failed attempt instead.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return o
}

// refusePrivate refuses a connection to an internal address (see
// rapport.InternalAddress). It runs before the connection is made, so
// nothing is sent there.
func refusePrivate(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return err
	}
	if what, internal := rapport.InternalAddress(ip); internal {
		return fmt.Errorf("refused: the address is internal, in %s; webhooks reach internal addresses only when the server allows it (rapport serve --webhooks-private)", what)
	}
	return nil
}

// deliveryError says why an attempt got no answer, for the admins who read
// the delivery list: what failed and where to, without this server's own
// addresses or its DNS resolver's, which are the firm's internals.
func deliveryError(err error) string {
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return "no address found for " + dnsErr.Name
	case errors.As(err, &dnsErr) && dnsErr.IsTimeout:
		return "looking up the address of " + dnsErr.Name + " timed out"
	case errors.As(err, &dnsErr):
		return "could not look up the address of " + dnsErr.Name
	case errors.As(err, &opErr):
		msg := opErr.Op
		if opErr.Addr != nil {
			msg += " " + opErr.Addr.String()
		}
		return msg + ": " + opErr.Err.Error()
	}
	return err.Error()
}

// backoff is the nominal wait after the attempts-th failed attempt of an
// outbox's item (a webhook delivery, an email): first, doubling each time,
// up to most.
func backoff(first, most time.Duration, attempts int) time.Duration {
	d := first
	for i := 1; i < attempts && d < most; i++ {
		d *= 2
	}
	return min(d, most)
}

// quarterJitter is an outbox's default jitter: a random wait within a
// quarter of d either way, so that items failed together do not all come
// back at the same moment.
func quarterJitter(d time.Duration) time.Duration { return d*3/4 + rand.N(d/2+1) }

// claimedDelivery is a delivery a worker holds the lease of, with what it
// needs to send it.
type claimedDelivery struct {
	id, kind, url, secret string
	payload               []byte
	attempts              int
}

// attemptResult is how one attempt went.
type attemptResult struct {
	d      claimedDelivery
	at     time.Time
	status int // 0 when the receiver did not answer
	err    string
	// cut is an attempt the worker's stopping interrupted: not the
	// receiver's fault, so not counted.
	cut bool
}

func (r attemptResult) ok() bool { return r.status >= 200 && r.status < 300 }

// Deliver sends the deliveries that are due, a batch at a time until none
// is left, and removes finished ones past their retention. It returns how
// many were delivered (answered 2xx). Several servers may run it at once:
// each delivery is claimed by one of them at a time.
func (s *WebhookService) Deliver(ctx context.Context) (int, error) {
	sent := 0
	for {
		lease, batch, err := s.claim(ctx)
		if err != nil {
			return sent, err
		}
		if len(batch) == 0 {
			break
		}
		results := s.send(ctx, batch)
		// What was sent is recorded even when the server is stopping, so
		// that it is not sent again; attempts the stop cut short are left to
		// be made again once their lease runs out.
		recordCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		n, err := s.finish(recordCtx, lease, results)
		cancel()
		sent += n
		if err != nil {
			return sent, err
		}
		if ctx.Err() != nil {
			return sent, ctx.Err()
		}
		if len(batch) < s.opts.Batch {
			break
		}
	}
	return sent, s.prune(ctx)
}

// claim takes up to a batch of due deliveries for this worker. It moves
// each one's next_attempt_at past the lease and marks it with a lease token
// of its own, by a statement that requires the delivery to be still due: of
// two servers claiming at once, the second finds it no longer due. Rows are
// claimed, and later finished, one at a time in id order, so that two
// workers always lock them in the same order and never deadlock.
func (s *WebhookService) claim(ctx context.Context) (string, []claimedDelivery, error) {
	var batch []claimedDelivery
	lease := rapport.NewID(s.db.now())
	// Asking the read pool first keeps an idle worker from taking SQLite's
	// one write lock every few seconds.
	if due, err := s.exists(ctx, `SELECT id FROM webhook_deliveries WHERE status = ? AND next_attempt_at <= ? LIMIT 1`,
		rapport.DeliveryPending, micros(s.db.now())); err != nil || !due {
		return lease, nil, err
	}
	err := s.db.inTx(ctx, func(tx *tx) error {
		now := micros(tx.now)
		var due []string
		err := eachRow(ctx, tx.querier, `SELECT d.id FROM webhook_deliveries d WHERE d.status = ? AND d.next_attempt_at <= ?
			AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = d.endpoint_id AND e.active = 1)
			ORDER BY d.next_attempt_at, d.id LIMIT ?`, []any{rapport.DeliveryPending, now, s.opts.Batch}, func(rows *sql.Rows) error {
			var id string
			err := rows.Scan(&id)
			due = append(due, id)
			return err
		})
		if err != nil || len(due) == 0 {
			return err
		}
		slices.Sort(due)
		var ids []any
		for _, id := range due {
			res, err := tx.exec(ctx, `UPDATE webhook_deliveries SET lease = ?, next_attempt_at = ?
				WHERE id = ? AND status = ? AND next_attempt_at <= ?`, lease, micros(tx.now.Add(s.opts.Lease)), id, rapport.DeliveryPending, now)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			return nil
		}
		return eachRow(ctx, tx.querier, `SELECT d.id, d.kind, d.payload, d.attempts, e.url, e.secret
			FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
			WHERE d.id IN (`+placeholders(len(ids))+`) AND d.lease = ? ORDER BY d.id`, append(ids, lease), func(rows *sql.Rows) error {
			var d claimedDelivery
			var payload string
			if err := rows.Scan(&d.id, &d.kind, &payload, &d.attempts, &d.url, &d.secret); err != nil {
				return err
			}
			d.payload = []byte(payload)
			batch = append(batch, d)
			return nil
		})
	})
	return lease, batch, err
}

// send attempts every delivery of a batch, a few at a time.
func (s *WebhookService) send(ctx context.Context, batch []claimedDelivery) []attemptResult {
	// In the batch's id order, which finish keeps.
	results := make([]attemptResult, len(batch))
	inParallel(len(batch), s.opts.Concurrency, func(i int) { results[i] = s.attempt(ctx, batch[i]) })
	return results
}

// attempt posts one delivery, signed at the time it is sent.
func (s *WebhookService) attempt(ctx context.Context, d claimedDelivery) attemptResult {
	r := attemptResult{d: d, at: s.db.now()}
	if ctx.Err() != nil {
		r.cut = true
		return r
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(d.payload))
	if err != nil {
		r.err = err.Error()
		return r
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Rapport-Webhooks/"+rapport.Version)
	req.Header.Set(rapport.HeaderEvent, d.kind)
	req.Header.Set(rapport.HeaderDelivery, d.id)
	req.Header.Set(rapport.HeaderTimestamp, strconv.FormatInt(r.at.Unix(), 10))
	req.Header.Set(rapport.HeaderSignature, rapport.SignWebhook(d.secret, r.at, d.payload))
	res, err := s.opts.Client.Do(req)
	if err != nil {
		r.err, r.cut = clip(deliveryError(err)), parent.Err() != nil
		return r
	}
	defer res.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(res.Body, 200))
	// Reading the rest, within reason, lets the connection be used again.
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	r.status = res.StatusCode
	if !r.ok() {
		r.err = "HTTP " + res.Status
		if loc := res.Header.Get("Location"); loc != "" && res.StatusCode >= 300 && res.StatusCode < 400 {
			r.err += " to " + loc + " (redirects are not followed)"
		}
		if text := strings.TrimSpace(strings.ToValidUTF8(string(snippet), "")); text != "" {
			r.err += ": " + text
		}
		r.err = clip(r.err)
	}
	return r
}

// clip keeps an error short enough to list.
func clip(s string) string {
	const most = 500
	if len(s) <= most {
		return s
	}
	cut := most
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// finish records a batch's attempts: delivered, to be retried after a
// growing wait, or, with the attempts used up, failed. A delivery whose
// lease another worker has taken since is left to that worker.
func (s *WebhookService) finish(ctx context.Context, lease string, results []attemptResult) (int, error) {
	delivered := 0
	err := s.db.inTx(ctx, func(tx *tx) error {
		delivered = 0
		for _, r := range results {
			if r.cut {
				continue
			}
			attempts, at := r.d.attempts+1, micros(r.at)
			var status any
			if r.status != 0 {
				status = r.status
			}
			var err error
			switch {
			case r.ok():
				var res sql.Result
				res, err = tx.exec(ctx, `UPDATE webhook_deliveries SET status = ?, attempts = ?, last_attempt_at = ?, last_status = ?,
					last_error = '', delivered_at = ?, next_attempt_at = ?, lease = '' WHERE id = ? AND lease = ?`,
					rapport.DeliveryDelivered, attempts, at, status, at, at, r.d.id, lease)
				if n, _ := res.RowsAffected(); err == nil && n == 1 {
					delivered++
				}
			case attempts >= s.opts.MaxAttempts:
				_, err = tx.exec(ctx, `UPDATE webhook_deliveries SET status = ?, attempts = ?, last_attempt_at = ?, last_status = ?,
					last_error = ?, next_attempt_at = ?, lease = '' WHERE id = ? AND lease = ?`,
					rapport.DeliveryFailed, attempts, at, status, r.err, at, r.d.id, lease)
			default:
				// The status is left alone: a delivery paused meanwhile stays paused.
				next := r.at.Add(s.opts.Jitter(backoff(s.opts.FirstRetry, s.opts.MaxRetry, attempts)))
				_, err = tx.exec(ctx, `UPDATE webhook_deliveries SET attempts = ?, last_attempt_at = ?, last_status = ?,
					last_error = ?, next_attempt_at = ?, lease = '' WHERE id = ? AND lease = ?`,
					attempts, at, status, r.err, micros(next), r.d.id, lease)
			}
			if err != nil {
				return fmt.Errorf("record delivery %s: %w", r.d.id, err)
			}
		}
		return nil
	})
	return delivered, err
}

// prune removes deliveries finished longer ago than the retention, a
// bounded number per call so that one call never holds the database long.
func (s *WebhookService) prune(ctx context.Context) error {
	if old, err := s.exists(ctx, `SELECT id FROM webhook_deliveries WHERE status IN (?, ?) AND next_attempt_at < ? LIMIT 1`,
		rapport.DeliveryDelivered, rapport.DeliveryFailed, micros(s.db.now().Add(-s.opts.Retention))); err != nil || !old {
		return err
	}
	return s.db.inTx(ctx, func(tx *tx) error {
		_, err := tx.exec(ctx, `DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries
			WHERE status IN (?, ?) AND next_attempt_at < ? LIMIT 1000)`,
			rapport.DeliveryDelivered, rapport.DeliveryFailed, micros(tx.now.Add(-s.opts.Retention)))
		return err
	})
}

// exists reports whether a query on the read pool finds a row.
func (s *WebhookService) exists(ctx context.Context, query string, args ...any) (bool, error) {
	var id string
	err := s.db.reader().queryRow(ctx, query, args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// inParallel calls fn for every index below n, at most limit at a time, and
// returns once every call has.
func inParallel(n, limit int, fn func(i int)) {
	sem := make(chan struct{}, max(limit, 1))
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}()
	}
	wg.Wait()
}
