package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/mail"
)

// NotificationService lists staff's notifications and keeps their choices.
type NotificationService struct{ db *DB }

// NewNotificationService returns the notifications stored in db.
func NewNotificationService(db *DB) *NotificationService { return &NotificationService{db: db} }

var _ rapport.NotificationService = (*NotificationService)(nil)

// notice is one person to be told one thing.
type notice struct {
	userID, kind, customerID string
	// link is the page it is about, a path in the web UI.
	link  string
	facts map[string]any
}

// notify tells each person of a notice, in the transaction of the change
// that causes it: in their list, and through the email outbox unless they
// chose not to get that kind by email. The person acting is not told of
// what they did themselves.
func notify(ctx context.Context, tx *tx, ns ...notice) error {
	actor := rapport.ActorID(ctx)
	var told []notice
	for _, n := range ns {
		if n.userID != "" && n.userID != actor {
			told = append(told, n)
		}
	}
	if len(told) == 0 {
		return nil
	}
	people, err := findNotified(ctx, tx, told)
	if err != nil {
		return err
	}
	var notes, emails [][]any
	for _, n := range told {
		who, ok := people[[2]string{n.userID, n.kind}]
		if !ok {
			continue
		}
		msg := mail.Notice{Kind: n.kind, Name: who.name, Facts: n.facts, URL: tx.email.PublicURL + n.link}
		title, body := tx.email.Messages.Notification(msg)
		notes = append(notes, []any{rapport.NewID(tx.now), n.userID, n.kind, nullString(n.customerID), title, body, n.link, micros(tx.now)})
		if who.byEmail {
			e := tx.email.Messages.NotificationEmail(msg, title, body)
			e.To = who.email
			emails = append(emails, outboxEmail{kind: n.kind, customerID: n.customerID, userID: n.userID, email: e, due: tx.now}.row(tx.now))
		}
	}
	if err := insertRows(ctx, tx, `INSERT INTO notifications (id, user_id, kind, customer_id, title, body, link, created_at) VALUES`, notes); err != nil {
		return fmt.Errorf("store notifications: %w", err)
	}
	return queueEmailRows(ctx, tx, emails)
}

// notified is a member of staff as notices of one kind reach them.
type notified struct {
	name, email string
	// byEmail: they get this kind by email as it happens, rather than not
	// at all or in the day's digest.
	byEmail bool
}

// findNotified reads who the notices' people are and how each wants
// notices of its kind, by person and kind; people who are gone, or
// deactivated, are left out: no notice nor email reaches someone who left.
func findNotified(ctx context.Context, tx *tx, ns []notice) (map[[2]string]notified, error) {
	byKind := map[string][]any{}
	for _, n := range ns {
		byKind[n.kind] = append(byKind[n.kind], n.userID)
	}
	out := map[[2]string]notified{}
	for kind, ids := range byKind {
		err := inChunks(ids, func(chunk []any) error {
			return eachRow(ctx, tx.querier, `SELECT u.id, u.name, u.email,
				(SELECT p.email FROM notification_preferences p WHERE p.user_id = u.id AND p.kind = ?),
				(SELECT p.email FROM notification_preferences p WHERE p.user_id = u.id AND p.kind = ?)
				FROM users u WHERE u.deactivated_at IS NULL AND u.id IN (`+placeholders(len(chunk))+`)`, append([]any{kind, rapport.NotifyDigest}, chunk...), func(rows *sql.Rows) error {
				var id string
				var who notified
				var wants, digest sql.NullInt64
				if err := rows.Scan(&id, &who.name, &who.email, &wants, &digest); err != nil {
					return err
				}
				who.byEmail = who.email != "" && (!wants.Valid || wants.Int64 != 0) && digest.Int64 != 1
				out[[2]string{id, kind}] = who
				return nil
			})
		})
		if err != nil {
			return nil, fmt.Errorf("find who to notify: %w", err)
		}
	}
	return out, nil
}

// staffTime writes a due time for staff.
func staffTime(t time.Time) string { return t.UTC().Format("Mon 2 January 15:04 MST") }

// notifyCases tells the assignee, or the one escalated to, of each case of
// ids that has one: kind says which. With answers, each notice carries the
// customer's own survey answer where one made the moment misery.
func notifyCases(ctx context.Context, tx *tx, kind string, ids []string, answers bool) error {
	if len(ids) == 0 {
		return nil
	}
	var ns []notice
	err := inChunks(anys(ids), func(chunk []any) error {
		return eachRow(ctx, tx.querier, `SELECT c.id, c.customer_id, c.assignee_id, c.escalated_to, cu.name, t.name, c.moment_id, c.due_at, m.rating
			FROM recovery_cases c JOIN customers cu ON cu.id = c.customer_id
			JOIN touchpoints t ON t.key = c.touchpoint JOIN moments m ON m.id = c.moment_id
			WHERE c.id IN (`+placeholders(len(chunk))+`) ORDER BY c.id`, chunk, func(rows *sql.Rows) error {
			var id, customerID, customer, touchpoint, momentID string
			var assignee, escalated sql.NullString
			var due int64
			var rating sql.NullInt64
			if err := rows.Scan(&id, &customerID, &assignee, &escalated, &customer, &touchpoint, &momentID, &due, &rating); err != nil {
				return err
			}
			n := notice{userID: assignee.String, kind: kind, customerID: customerID, link: "/cases/" + id,
				facts: map[string]any{"Customer": customer, "Touchpoint": touchpoint, "Due": staffTime(fromMicros(due)), "MomentID": momentID}}
			if kind == rapport.NotifyCaseEscalated {
				n.userID = escalated.String
			}
			if rating.Valid {
				n.facts["Rating"] = rating.Int64
			}
			ns = append(ns, n)
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("find cases to notify: %w", err)
	}
	if answers {
		if err := addSurveyAnswers(ctx, tx, ns); err != nil {
			return err
		}
	}
	return notify(ctx, tx, ns...)
}

// addSurveyAnswers adds to each case's notice the customer's own answer,
// when a survey answer made its moment misery.
func addSurveyAnswers(ctx context.Context, tx *tx, ns []notice) error {
	byMoment := make(map[string]*notice, len(ns))
	ids := make([]string, len(ns))
	for i := range ns {
		id := ns[i].facts["MomentID"].(string)
		byMoment[id], ids[i] = &ns[i], id
	}
	err := inChunks(anys(ids), func(chunk []any) error {
		return eachRow(ctx, tx.querier, `SELECT moment_id, reason, comment FROM survey_links
			WHERE moment_id IN (`+placeholders(len(chunk))+`) AND answered_at IS NOT NULL`, chunk, func(rows *sql.Rows) error {
			var id, reason, comment string
			if err := rows.Scan(&id, &reason, &comment); err != nil {
				return err
			}
			if reason != "" {
				byMoment[id].facts["Reason"] = reason
			}
			if comment != "" {
				byMoment[id].facts["Comment"] = comment
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("find the customers' answers: %w", err)
	}
	return nil
}

// notifyPromises tells the person who made each promise of kind.
func notifyPromises(ctx context.Context, tx *tx, kind string, ps []*rapport.Promise) error {
	var ns []notice
	for _, p := range ps {
		if p.StaffID == "" {
			continue
		}
		var customer string
		if err := tx.queryRow(ctx, `SELECT name FROM customers WHERE id = ?`, p.CustomerID).Scan(&customer); err != nil {
			return err
		}
		ns = append(ns, notice{userID: p.StaffID, kind: kind, customerID: p.CustomerID, link: "/customers/" + p.CustomerID + "#promise-" + p.ID,
			facts: map[string]any{"Customer": customer, "Text": p.Text, "Due": staffTime(p.DueAt)}})
	}
	return notify(ctx, tx, ns...)
}

// notifyAlerts tells every manager of the alerts raised: the managers are
// those who look after the touchpoints.
func notifyAlerts(ctx context.Context, tx *tx, alerts []*rapport.Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	var managers []string
	err := eachRow(ctx, tx.querier, `SELECT id FROM users WHERE role = ? AND deactivated_at IS NULL ORDER BY id`, []any{string(rapport.RoleManager)}, func(rows *sql.Rows) error {
		var id string
		err := rows.Scan(&id)
		managers = append(managers, id)
		return err
	})
	if err != nil {
		return err
	}
	var ns []notice
	for _, a := range alerts {
		name := a.Touchpoint
		if tp, err := findTouchpoint(ctx, tx.querier, a.Touchpoint); err == nil {
			name = tp.Name
		}
		for _, m := range managers {
			ns = append(ns, notice{userID: m, kind: rapport.NotifyAlert, link: "/touchpoints/" + a.Touchpoint + "#watch",
				facts: map[string]any{"Touchpoint": name, "Message": a.Message}})
		}
	}
	return notify(ctx, tx, ns...)
}

// notifyHandover tells a customer's new owner.
func notifyHandover(ctx context.Context, tx *tx, customerID, fromOwner, toOwner string) error {
	var customer, from string
	if err := tx.queryRow(ctx, `SELECT name FROM customers WHERE id = ?`, customerID).Scan(&customer); err != nil {
		return err
	}
	if fromOwner != "" {
		if err := tx.queryRow(ctx, `SELECT name FROM users WHERE id = ?`, fromOwner).Scan(&from); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	return notify(ctx, tx, notice{userID: toOwner, kind: rapport.NotifyHandover, customerID: customerID,
		link: "/customers/" + customerID + "/brief", facts: map[string]any{"Customer": customer, "From": from}})
}

// NotifyPromisesDue tells the people who made promises falling due within
// a day, once each, and returns how many were told.
func (s *NotificationService) NotifyPromisesDue(ctx context.Context) (int, error) {
	n := 0
	err := s.db.inTx(ctx, func(tx *tx) error {
		var ps []*rapport.Promise
		err := eachRow(ctx, tx.querier, `SELECT id, customer_id, staff_id, text, due_at FROM promises
			WHERE status = ? AND due_notified_at IS NULL AND due_at > ? AND due_at <= ? AND staff_id IS NOT NULL ORDER BY id LIMIT 500`,
			[]any{string(rapport.PromiseOpen), micros(tx.now), micros(tx.now.Add(24 * time.Hour))}, func(rows *sql.Rows) error {
				var p rapport.Promise
				var staff sql.NullString
				var due int64
				if err := rows.Scan(&p.ID, &p.CustomerID, &staff, &p.Text, &due); err != nil {
					return err
				}
				p.StaffID, p.DueAt = staff.String, fromMicros(due)
				ps = append(ps, &p)
				return nil
			})
		if err != nil || len(ps) == 0 {
			return err
		}
		ids := make([]string, len(ps))
		for i, p := range ps {
			ids[i] = p.ID
		}
		if _, err := tx.exec(ctx, `UPDATE promises SET due_notified_at = ? WHERE id IN (`+placeholders(len(ids))+`)`,
			append([]any{micros(tx.now)}, anys(ids)...)...); err != nil {
			return err
		}
		n = len(ps)
		return notifyPromises(ctx, tx, rapport.NotifyPromiseDue, ps)
	})
	return n, err
}

// FindNotifications returns a user's latest notifications; see rapport.NotificationService.
func (s *NotificationService) FindNotifications(ctx context.Context, userID string, limit int) (*rapport.NotificationList, error) {
	q := s.db.reader()
	list := &rapport.NotificationList{Items: []*rapport.Notification{}}
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM notifications WHERE user_id = ? AND read_at IS NULL`, userID).Scan(&list.Unread); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return list, nil
	}
	err := eachRow(ctx, q, `SELECT id, user_id, kind, customer_id, title, body, link, created_at, read_at FROM notifications
		WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`, []any{userID, limit}, func(rows *sql.Rows) error {
		var n rapport.Notification
		var customer sql.NullString
		var created int64
		var read sql.NullInt64
		if err := rows.Scan(&n.ID, &n.UserID, &n.Kind, &customer, &n.Title, &n.Body, &n.Link, &created, &read); err != nil {
			return err
		}
		n.CustomerID, n.CreatedAt = customer.String, fromMicros(created)
		if read.Valid {
			t := fromMicros(read.Int64)
			n.ReadAt = &t
		}
		list.Items = append(list.Items, &n)
		return nil
	})
	return list, err
}

// MarkNotificationsRead marks all of a user's notifications read.
func (s *NotificationService) MarkNotificationsRead(ctx context.Context, userID string) error {
	return s.db.inTx(ctx, func(tx *tx) error {
		_, err := tx.exec(ctx, `UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL`, micros(tx.now), userID)
		return err
	})
}

// FindNotificationPrefs returns which kinds a user wants by email.
func (s *NotificationService) FindNotificationPrefs(ctx context.Context, userID string) (rapport.NotificationPrefs, error) {
	p := rapport.NotificationPrefs{}
	err := eachRow(ctx, s.db.reader(), `SELECT kind, email FROM notification_preferences WHERE user_id = ?`, []any{userID},
		func(rows *sql.Rows) error {
			var kind string
			var email int
			err := rows.Scan(&kind, &email)
			p[kind] = email == 1
			return err
		})
	return p, err
}

// SetNotificationPrefs stores which kinds a user wants by email.
func (s *NotificationService) SetNotificationPrefs(ctx context.Context, userID string, p rapport.NotificationPrefs) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return s.db.inTx(ctx, func(tx *tx) error {
		set := func(kind string, on bool) error {
			_, err := tx.exec(ctx, `INSERT INTO notification_preferences (user_id, kind, email) VALUES (?, ?, ?)
				ON CONFLICT (user_id, kind) DO UPDATE SET email = excluded.email`, userID, kind, boolInt(on))
			return err
		}
		for _, kind := range rapport.NotificationKinds {
			if err := set(kind, p.Emails(kind)); err != nil {
				return err
			}
		}
		return set(rapport.NotifyDigest, p.Digest())
	})
}

// SendDigests queues, from DigestHour each day, one email to each person who
// chose a digest, listing their notifications of the kinds they want by
// email that no digest has listed yet, and returns how many were queued.
func (s *NotificationService) SendDigests(ctx context.Context) (int, error) {
	queued := 0
	err := s.db.inTx(ctx, func(tx *tx) error {
		queued = 0
		now := tx.now
		if now.Hour() < rapport.DigestHour {
			return nil
		}
		// Once a day: not for those whose digest went since today's hour.
		today := time.Date(now.Year(), now.Month(), now.Day(), rapport.DigestHour, 0, 0, 0, time.UTC)
		var users []string
		err := eachRow(ctx, tx.querier, `SELECT p.user_id FROM notification_preferences p WHERE p.kind = ? AND p.email = 1
			AND EXISTS (SELECT 1 FROM users u WHERE u.id = p.user_id AND u.deactivated_at IS NULL)
			AND EXISTS (SELECT 1 FROM notifications n WHERE n.user_id = p.user_id AND n.digest_at IS NULL)
			AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.user_id = p.user_id AND n.digest_at >= ?) ORDER BY p.user_id`,
			[]any{rapport.NotifyDigest, micros(today)}, func(rows *sql.Rows) error {
				var id string
				err := rows.Scan(&id)
				users = append(users, id)
				return err
			})
		if err != nil {
			return err
		}
		for _, u := range users {
			ok, err := digestUser(ctx, tx, u)
			if err != nil {
				return fmt.Errorf("digest for %s: %w", u, err)
			}
			if ok {
				queued++
			}
		}
		return nil
	})
	return queued, err
}

// digestUser queues one user's digest, if anything is to be in it, and marks
// every notification not yet in a digest as done with, so that kinds they
// do not want by email are not looked at again.
func digestUser(ctx context.Context, tx *tx, userID string) (bool, error) {
	var name, email string
	if err := tx.queryRow(ctx, `SELECT name, email FROM users WHERE id = ?`, userID).Scan(&name, &email); err != nil {
		return false, err
	}
	off := map[string]bool{}
	err := eachRow(ctx, tx.querier, `SELECT kind FROM notification_preferences WHERE user_id = ? AND email = 0`, []any{userID},
		func(rows *sql.Rows) error {
			var k string
			err := rows.Scan(&k)
			off[k] = true
			return err
		})
	if err != nil {
		return false, err
	}
	var items []mail.DigestItem
	err = eachRow(ctx, tx.querier, `SELECT kind, title, link FROM notifications WHERE user_id = ? AND digest_at IS NULL
		ORDER BY created_at, id`, []any{userID}, func(rows *sql.Rows) error {
		var kind, title, link string
		if err := rows.Scan(&kind, &title, &link); err != nil {
			return err
		}
		if !off[kind] {
			items = append(items, mail.DigestItem{Title: title, URL: tx.email.PublicURL + link})
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	if _, err := tx.exec(ctx, `UPDATE notifications SET digest_at = ? WHERE user_id = ? AND digest_at IS NULL`, micros(tx.now), userID); err != nil {
		return false, err
	}
	if len(items) == 0 || email == "" {
		return false, nil
	}
	e := tx.email.Messages.Digest(name, tx.email.PublicURL+"/notifications", items)
	e.To = email
	return true, queueEmail(ctx, tx, outboxEmail{kind: rapport.NotifyDigest, userID: userID, email: e, due: tx.now})
}
