package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/mail"
)

// EmailSetup is what the store needs to write emails: where customers and
// staff reach Rapport (the links in emails are absolute), the firm's name,
// and the wording.
type EmailSetup struct {
	PublicURL string
	Firm      string
	Messages  *mail.Catalogues
}

// SetEmail says how emails are written; until it is called, links are
// relative to http://localhost:8080 and the wording is the shipped one.
func (db *DB) SetEmail(s EmailSetup) {
	if s.Messages == nil {
		s.Messages = shippedMessages()
	}
	s.PublicURL = strings.TrimSuffix(s.PublicURL, "/")
	db.email = &s
}

var shippedMessages = sync.OnceValue(mail.MustCatalogues)

func (db *DB) emailSetup() *EmailSetup {
	if db.email == nil {
		return &EmailSetup{PublicURL: "http://localhost:8080", Firm: "us", Messages: shippedMessages()}
	}
	return db.email
}

// outboxEmail is one email on its way into the outbox.
type outboxEmail struct {
	kind         string
	customerID   string
	userID       string
	invitationID string
	email        rapport.Email
	due          time.Time
}

// queueEmail writes an email to the outbox, due at e.due, in the
// transaction of the change that causes it.
func queueEmail(ctx context.Context, tx *tx, e outboxEmail) error {
	return queueEmailRows(ctx, tx, [][]any{e.row(tx.now)})
}

// queueEmailRows writes emails' rows (outboxEmail.row) to the outbox.
func queueEmailRows(ctx context.Context, tx *tx, rows [][]any) error {
	err := insertRows(ctx, tx, `INSERT INTO email_outbox (id, kind, customer_id, user_id, invitation_id, to_addr, subject, text_body,
		html_body, unsubscribe_url, status, next_attempt_at, created_at) VALUES`, rows)
	if err != nil {
		return fmt.Errorf("queue email: %w", err)
	}
	return nil
}

// row is the email's outbox row, queued now.
func (e outboxEmail) row(now time.Time) []any {
	return []any{rapport.NewID(now), e.kind, nullString(e.customerID), nullString(e.userID), nullString(e.invitationID), e.email.To,
		e.email.Subject, e.email.Text, e.email.HTML, e.email.Unsubscribe, rapport.EmailPending, micros(e.due), micros(now)}
}

// inviteToSurveys is step 7 of the moment pipeline: each added moment whose
// touchpoint's survey policy asks for it invites its customer, with a
// survey link, an invitation email due after the policy's delay and
// perhaps a reminder after that. The broken promise's moment is Rapport's
// own and invites nobody.
func inviteToSurveys(ctx context.Context, tx *tx, c momentChange, setup *EmailSetup) error {
	if len(c.added) == 0 || c.source == rapport.SourcePromise {
		return nil
	}
	policies, err := cachedSurveyPolicies(ctx, tx)
	if err != nil || len(policies) == 0 {
		return err
	}
	names := map[string]string{}
	for _, m := range c.added {
		p := policies[m.Touchpoint]
		// What needs no lookup first, so that an import of history asks
		// nothing of the database. The customer was locked by step 4, so two
		// transactions cannot both find them outside their quiet period.
		if p == nil || (len(p.Channels) > 0 && !slices.Contains(p.Channels, m.Channel)) || !rapport.Sampled(m.ID, p.SamplePercent) ||
			tx.now.Sub(m.OccurredAt) > rapport.MaxInvitationAge {
			continue
		}
		who, name, lang, err := findInvitee(ctx, tx.querier, m.CustomerID)
		if err != nil {
			return err
		}
		sendAt, ok := p.Invitation(m, who, tx.now)
		if !ok {
			continue
		}
		if names[m.Touchpoint] == "" {
			tp, err := findTouchpoint(ctx, tx.querier, m.Touchpoint)
			if err != nil {
				return err
			}
			names[m.Touchpoint] = tp.Name
		}
		inv := invitation{moment: m, policy: p, to: who.Email, name: name, language: lang, touchpointName: names[m.Touchpoint], sendAt: sendAt}
		if err := invite(ctx, tx, inv, setup); err != nil {
			return err
		}
	}
	return nil
}

// findInvitee gathers what deciding an invitation needs to know of a
// customer, their name and their language.
func findInvitee(ctx context.Context, q querier, customerID string) (rapport.Invitee, string, string, error) {
	var who rapport.Invitee
	var name, lang string
	var erased, optedOut, last sql.NullInt64
	err := q.queryRow(ctx, `SELECT c.email, c.name, c.language, c.erased_at,
		(SELECT o.opted_out_at FROM email_opt_outs o WHERE o.customer_id = c.id),
		(SELECT MAX(i.send_at) FROM survey_invitations i WHERE i.customer_id = c.id)
		FROM customers c WHERE c.id = ?`, customerID).Scan(&who.Email, &name, &lang, &erased, &optedOut, &last)
	if err != nil {
		return who, "", "", fmt.Errorf("find invitee %s: %w", customerID, err)
	}
	if erased.Valid {
		who.Email = ""
	}
	who.OptedOut = optedOut.Valid
	if last.Valid {
		who.LastInvited = fromMicros(last.Int64)
	}
	return who, name, lang, nil
}

// invitation is one customer invited to rate one moment.
type invitation struct {
	moment         *rapport.Moment
	policy         *rapport.SurveyPolicy
	to, name       string
	language       string
	touchpointName string
	sendAt         time.Time
}

// invite stores an invitation with its survey link and unsubscribe token,
// and queues its email and reminder.
func invite(ctx context.Context, tx *tx, inv invitation, setup *EmailSetup) error {
	m := inv.moment
	link, err := insertSurveyLink(ctx, tx, m.ID, m.CustomerID, tx.now, inv.sendAt.Add(rapport.DefaultSurveyTTL))
	if err != nil {
		return err
	}
	id := rapport.NewID(tx.now)
	if _, err := tx.exec(ctx, `INSERT INTO survey_invitations (id, moment_id, customer_id, touchpoint, link_id, send_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, id, m.ID, m.CustomerID, m.Touchpoint, link.ID, micros(inv.sendAt), micros(tx.now)); err != nil {
		return fmt.Errorf("store invitation: %w", err)
	}
	unsubscribe, err := newUnsubscribeToken(ctx, tx, m.CustomerID)
	if err != nil {
		return err
	}
	s := mail.Survey{Language: inv.language, Firm: setup.Firm, Name: inv.name, Touchpoint: inv.touchpointName, OccurredAt: m.OccurredAt,
		ExpiresAt: link.ExpiresAt, URL: setup.PublicURL + link.URL, Unsubscribe: setup.PublicURL + rapport.UnsubscribePath(unsubscribe)}
	e := setup.Messages.SurveyInvitation(s)
	e.To = inv.to
	if err := queueEmail(ctx, tx, outboxEmail{kind: rapport.EmailSurveyInvitation, customerID: m.CustomerID, invitationID: id,
		email: e, due: inv.sendAt}); err != nil {
		return err
	}
	if inv.policy.ReminderDays == 0 {
		return nil
	}
	s.Reminder = true
	r := setup.Messages.SurveyInvitation(s)
	r.To = inv.to
	return queueEmail(ctx, tx, outboxEmail{kind: rapport.EmailSurveyReminder, customerID: m.CustomerID, invitationID: id,
		email: r, due: inv.sendAt.Add(time.Duration(inv.policy.ReminderDays) * 24 * time.Hour)})
}

// newUnsubscribeToken makes a token whose link stops survey email to the
// customer, keeping only its hash.
func newUnsubscribeToken(ctx context.Context, tx *tx, customerID string) (string, error) {
	token, hash := newToken()
	_, err := tx.exec(ctx, `INSERT INTO unsubscribe_tokens (token_hash, customer_id, created_at) VALUES (?, ?, ?)`,
		hash, customerID, micros(tx.now))
	return token, err
}

// EmailOptions tune sending; a zero field takes the default named beside it.
type EmailOptions struct {
	// Mailer hands emails to the mail server. Without one, emails wait in
	// the outbox.
	Mailer rapport.Mailer
	// MaxAttempts is how many attempts an email gets before it is marked
	// failed (8); FirstRetry the wait after the first failure (1 min),
	// doubling up to MaxRetry (2 h): eight attempts span about four hours.
	MaxAttempts int
	FirstRetry  time.Duration
	MaxRetry    time.Duration
	// Jitter turns a nominal wait into the one used (by default within a
	// quarter of it either way).
	Jitter func(time.Duration) time.Duration
	// Batch is how many emails one claim takes (50), Concurrency how many
	// are sent at once (4), Lease how long a claimed email is left to its
	// worker (5 min).
	Batch       int
	Concurrency int
	Lease       time.Duration
}

func (o EmailOptions) withDefaults() EmailOptions {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.FirstRetry <= 0 {
		o.FirstRetry = time.Minute
	}
	if o.MaxRetry <= 0 {
		o.MaxRetry = 2 * time.Hour
	}
	if o.Jitter == nil {
		o.Jitter = quarterJitter
	}
	if o.Batch <= 0 {
		o.Batch = 50
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Lease <= 0 {
		o.Lease = 5 * time.Minute
	}
	return o
}

// EmailService sends the email outbox and takes customers' unsubscribes.
type EmailService struct {
	db   *DB
	opts EmailOptions
}

// NewEmailService returns the email outbox of db, sent as opts say.
func NewEmailService(db *DB, opts EmailOptions) *EmailService {
	return &EmailService{db: db, opts: opts.withDefaults()}
}

var _ rapport.EmailService = (*EmailService)(nil)

// claimedEmail is an email a worker holds the lease of.
type claimedEmail struct {
	id, kind, customerID, userID string
	email                        rapport.Email
	attempts                     int
}

// Send sends the emails that are due, a batch at a time until none is
// left, and returns how many the mail server took. Several servers may run
// it at once: each email is claimed by one of them at a time.
func (s *EmailService) Send(ctx context.Context) (int, error) {
	if s.opts.Mailer == nil {
		return 0, nil
	}
	sent := 0
	for {
		lease, batch, err := s.claim(ctx)
		if err != nil {
			return sent, err
		}
		if len(batch) == 0 {
			return sent, nil
		}
		errs := s.send(ctx, batch)
		recordCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		n, err := s.finish(recordCtx, lease, batch, errs)
		cancel()
		sent += n
		if err != nil {
			return sent, err
		}
		if ctx.Err() != nil {
			return sent, ctx.Err()
		}
	}
}

// claim first skips the survey emails due that are no longer wanted (the
// customer opted out, or answered already), then takes a batch of the
// rest, as WebhookService.claim does.
func (s *EmailService) claim(ctx context.Context) (string, []claimedEmail, error) {
	lease := rapport.NewID(s.db.now())
	var id string
	err := s.db.reader().queryRow(ctx, `SELECT id FROM email_outbox WHERE status = ? AND next_attempt_at <= ? LIMIT 1`,
		rapport.EmailPending, micros(s.db.now())).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return lease, nil, nil
	} else if err != nil {
		return lease, nil, err
	}
	var batch []claimedEmail
	err = s.db.inTx(ctx, func(tx *tx) error {
		batch = batch[:0]
		now := micros(tx.now)
		if _, err := tx.exec(ctx, `UPDATE email_outbox SET status = ?, text_body = '', html_body = '', next_attempt_at = ?
			WHERE status = ? AND next_attempt_at <= ? AND kind IN (?, ?) AND (
				customer_id IN (SELECT customer_id FROM email_opt_outs)
				OR invitation_id IN (SELECT i.id FROM survey_invitations i JOIN survey_links l ON l.id = i.link_id WHERE l.answered_at IS NOT NULL))`,
			rapport.EmailSkipped, now, rapport.EmailPending, now, rapport.EmailSurveyInvitation, rapport.EmailSurveyReminder); err != nil {
			return fmt.Errorf("skip unwanted survey email: %w", err)
		}
		var due []string
		err := eachRow(ctx, tx.querier, `SELECT id FROM email_outbox WHERE status = ? AND next_attempt_at <= ?
			ORDER BY next_attempt_at, id LIMIT ?`, []any{rapport.EmailPending, now, s.opts.Batch}, func(rows *sql.Rows) error {
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
			res, err := tx.exec(ctx, `UPDATE email_outbox SET lease = ?, next_attempt_at = ? WHERE id = ? AND status = ? AND next_attempt_at <= ?`,
				lease, micros(tx.now.Add(s.opts.Lease)), id, rapport.EmailPending, now)
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
		return eachRow(ctx, tx.querier, `SELECT id, kind, customer_id, user_id, to_addr, subject, text_body, html_body, unsubscribe_url,
			attempts FROM email_outbox WHERE id IN (`+placeholders(len(ids))+`) AND lease = ? ORDER BY id`, append(ids, lease),
			func(rows *sql.Rows) error {
				var c claimedEmail
				var customer, user sql.NullString
				err := rows.Scan(&c.id, &c.kind, &customer, &user, &c.email.To, &c.email.Subject, &c.email.Text, &c.email.HTML,
					&c.email.Unsubscribe, &c.attempts)
				c.email.ID, c.customerID, c.userID = c.id, customer.String, user.String
				batch = append(batch, c)
				return err
			})
	})
	return lease, batch, err
}

// send hands every email of a batch to the mailer, a few at a time, and
// returns each one's error.
func (s *EmailService) send(ctx context.Context, batch []claimedEmail) []error {
	errs := make([]error, len(batch))
	inParallel(len(batch), s.opts.Concurrency, func(i int) { errs[i] = s.opts.Mailer.Send(ctx, batch[i].email) })
	return errs
}

// finish records how each email of a batch went: sent (its bodies, which
// hold one-time links, cleared, and the webhooks told), to be retried after
// a growing wait, or failed when the server refused it for good or the
// attempts ran out. The emails sent are recorded by one statement, since a
// batch is mostly those: on PostgreSQL a statement per email made the
// sender four times slower (BenchmarkEmailSend).
func (s *EmailService) finish(ctx context.Context, lease string, batch []claimedEmail, errs []error) (int, error) {
	sent := 0
	err := s.db.inTx(ctx, func(tx *tx) error {
		at := micros(tx.now)
		var ok []any
		for i, c := range batch {
			err, attempts := errs[i], c.attempts+1
			var perm *rapport.PermanentError
			var q string
			var args []any
			switch {
			case err == nil:
				ok = append(ok, c.id)
				continue
			case errors.As(err, &perm) || attempts >= s.opts.MaxAttempts:
				status := rapport.EmailFailed
				if perm != nil {
					status = rapport.EmailBounced
				}
				q = `UPDATE email_outbox SET status = ?, attempts = ?, last_attempt_at = ?, last_error = ?, next_attempt_at = ?,
					text_body = '', html_body = '', lease = '' WHERE id = ? AND lease = ?`
				args = []any{status, attempts, at, clip(err.Error()), at, c.id, lease}
			default:
				next := tx.now.Add(s.opts.Jitter(backoff(s.opts.FirstRetry, s.opts.MaxRetry, attempts)))
				q = `UPDATE email_outbox SET attempts = ?, last_attempt_at = ?, last_error = ?, next_attempt_at = ?, lease = ''
					WHERE id = ? AND lease = ?`
				args = []any{attempts, at, clip(err.Error()), micros(next), c.id, lease}
			}
			if _, err := tx.exec(ctx, q, args...); err != nil {
				return fmt.Errorf("record email %s: %w", c.id, err)
			}
		}
		if len(ok) == 0 {
			return nil
		}
		// A lease another worker has taken since is left to that worker.
		res, err := tx.exec(ctx, `UPDATE email_outbox SET status = ?, attempts = attempts + 1, last_attempt_at = ?, last_error = '',
			sent_at = ?, next_attempt_at = ?, text_body = '', html_body = '', lease = '' WHERE id IN (`+placeholders(len(ok))+`) AND lease = ?`,
			append([]any{rapport.EmailSent, at, at, at}, append(ok, lease)...)...)
		if err != nil {
			return fmt.Errorf("record emails sent: %w", err)
		}
		n, _ := res.RowsAffected()
		sent = int(n)
		return enqueueEmailsSent(ctx, tx, ok, at)
	})
	return sent, err
}

// enqueueEmailsSent tells webhooks of the emails of ids sent at at:
// survey.sent for a survey invitation or reminder, notification.sent for
// anything to staff.
func enqueueEmailsSent(ctx context.Context, tx *tx, ids []any, at int64) error {
	surveys, err := subscribed(ctx, tx, rapport.EventSurveySent)
	if err != nil {
		return err
	}
	notifications, err := subscribed(ctx, tx, rapport.EventNotificationSent)
	if err != nil || len(surveys)+len(notifications) == 0 {
		return err
	}
	var sent, told []*rapport.EmailRecord
	err = eachRow(ctx, tx.querier, emailRecordSelect+` WHERE id IN (`+placeholders(len(ids))+`) AND status = ? AND sent_at = ? ORDER BY id`,
		append(ids, rapport.EmailSent, at), func(rows *sql.Rows) error {
			r, err := scanEmailRecord(rows)
			if err != nil {
				return err
			}
			if r.Kind == rapport.EmailSurveyInvitation || r.Kind == rapport.EmailSurveyReminder {
				sent = append(sent, r)
			} else {
				told = append(told, r)
			}
			return nil
		})
	if err != nil {
		return err
	}
	if err := enqueue(ctx, tx, rapport.EventSurveySent, sent); err != nil {
		return err
	}
	return enqueue(ctx, tx, rapport.EventNotificationSent, told)
}

const emailRecordSelect = `SELECT id, kind, customer_id, user_id, to_addr, subject, status, attempts, last_error, sent_at, created_at
	FROM email_outbox`

func scanEmailRecord(row interface{ Scan(...any) error }) (*rapport.EmailRecord, error) {
	var r rapport.EmailRecord
	var customer, user sql.NullString
	var sent sql.NullInt64
	var created int64
	if err := row.Scan(&r.ID, &r.Kind, &customer, &user, &r.To, &r.Subject, &r.Status, &r.Attempts, &r.LastError, &sent, &created); err != nil {
		return nil, err
	}
	r.CustomerID, r.UserID, r.CreatedAt = customer.String, user.String, fromMicros(created)
	if sent.Valid {
		t := fromMicros(sent.Int64)
		r.SentAt = &t
	}
	return &r, nil
}

// emailEntries are the survey emails to a customer on their timeline, at
// the time each was queued, with how its sending went.
func emailEntries(ctx context.Context, q querier, customerID string, pos timelinePosition, limit int) ([]rapport.TimelineEntry, error) {
	cond, args := pos.before("created_at", "id")
	var out []rapport.TimelineEntry
	err := eachRow(ctx, q, emailRecordSelect+` WHERE customer_id = ? AND kind IN (?, ?) AND `+cond+
		` ORDER BY created_at DESC, id DESC LIMIT ?`,
		append(append([]any{customerID, rapport.EmailSurveyInvitation, rapport.EmailSurveyReminder}, args...), limit),
		func(rows *sql.Rows) error {
			r, err := scanEmailRecord(rows)
			if err == nil {
				out = append(out, rapport.TimelineEntry{Kind: rapport.EntryEmail, ID: r.ID, At: r.CreatedAt, Email: r})
			}
			return err
		})
	return out, err
}

// errUnsubscribeGone is the one answer for a token Rapport never sent.
var errUnsubscribeGone = rapport.Errorf(rapport.ENOTFOUND, "This unsubscribe link is not valid.")

func unsubscribeCustomer(ctx context.Context, q querier, token string) (string, error) {
	if !ValidSurveyToken(token) {
		return "", errUnsubscribeGone
	}
	var customer string
	err := q.queryRow(ctx, `SELECT customer_id FROM unsubscribe_tokens WHERE token_hash = ?`, hashSurveyToken(token)).Scan(&customer)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errUnsubscribeGone
	}
	return customer, err
}

// CheckUnsubscribe reports whether token is one Rapport sent and whether
// its customer has opted out; see rapport.EmailService.
func (s *EmailService) CheckUnsubscribe(ctx context.Context, token string) (bool, error) {
	q := s.db.reader()
	customer, err := unsubscribeCustomer(ctx, q, token)
	if err != nil {
		return false, err
	}
	var n int
	err = q.queryRow(ctx, `SELECT COUNT(*) FROM email_opt_outs WHERE customer_id = ?`, customer).Scan(&n)
	return n > 0, err
}

// Unsubscribe records that the token's customer wants no more survey
// email; see rapport.EmailService.
func (s *EmailService) Unsubscribe(ctx context.Context, token string) error {
	return s.db.inTx(ctx, func(tx *tx) error {
		customer, err := unsubscribeCustomer(ctx, tx.querier, token)
		if err != nil {
			return err
		}
		_, err = tx.exec(ctx, `INSERT INTO email_opt_outs (customer_id, opted_out_at) VALUES (?, ?) ON CONFLICT (customer_id) DO NOTHING`,
			customer, micros(tx.now))
		if err != nil {
			return err
		}
		return skipSurveyEmails(ctx, tx, `kind IN (?, ?) AND customer_id = ?`, rapport.EmailSurveyInvitation, rapport.EmailSurveyReminder, customer)
	})
}

// skipSurveyEmails marks the pending emails that where selects as no longer
// to be sent, and lets go of their bodies.
func skipSurveyEmails(ctx context.Context, tx *tx, where string, args ...any) error {
	_, err := tx.exec(ctx, `UPDATE email_outbox SET status = ?, text_body = '', html_body = '', next_attempt_at = ?
		WHERE status = ? AND `+where, append([]any{rapport.EmailSkipped, micros(tx.now), rapport.EmailPending}, args...)...)
	if err != nil {
		return fmt.Errorf("skip survey email: %w", err)
	}
	return nil
}
