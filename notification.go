package rapport

import (
	"context"
	"slices"
	"time"
)

// Notifications tell a member of staff what they must act on: in the web
// UI's list, and by email unless they chose otherwise.

// Kinds of notification.
const (
	NotifyCaseAssigned  = "case.assigned"     // a recovery case is now theirs
	NotifyCaseEscalated = "case.escalated"    // a case overdue came up to them
	NotifyPromiseDue    = "promise.due"       // a promise they made falls due within a day
	NotifyPromiseBroken = "promise.broken"    // a promise they made was broken
	NotifyAlert         = "alert.raised"      // an alert on a touchpoint, to the managers
	NotifyHandover      = "customer.handover" // a customer was handed over to them
)

// NotifyDigest is the choice, kept with the kinds, of one email a day
// listing the day's notifications in place of an email for each.
const NotifyDigest = "digest"

// DigestHour is the hour (UTC) from which each day's digest is sent.
const DigestHour = 7

// NotificationKinds lists every kind, in the order the settings show them.
var NotificationKinds = []string{NotifyCaseAssigned, NotifyCaseEscalated, NotifyPromiseDue, NotifyPromiseBroken, NotifyAlert, NotifyHandover}

// NotificationKindLabel says what a kind of notification is about, for the
// settings form.
func NotificationKindLabel(kind string) string {
	switch kind {
	case NotifyCaseAssigned:
		return "A recovery case is assigned to me"
	case NotifyCaseEscalated:
		return "An overdue case is escalated to me"
	case NotifyPromiseDue:
		return "A promise I made falls due tomorrow"
	case NotifyPromiseBroken:
		return "A promise I made was broken"
	case NotifyAlert:
		return "An alert is raised on a touchpoint (managers)"
	case NotifyHandover:
		return "A customer is handed over to me"
	}
	return kind
}

// Notification is one thing a person was told.
type Notification struct {
	ID         string `json:"id"`
	UserID     string `json:"user_id"`
	Kind       string `json:"kind"`
	CustomerID string `json:"customer_id,omitempty"`
	Title      string `json:"title"`
	Body       string `json:"body,omitempty"`
	// Link is the page it is about, a path in the web UI.
	Link      string     `json:"link,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at,omitempty"`
}

// NotificationList is a person's latest notifications and how many of all
// theirs are unread.
type NotificationList struct {
	Items  []*Notification `json:"items"`
	Unread int             `json:"unread"`
}

// NotificationPrefs say, for each kind, whether a person wants it by email
// too; every notification is listed in the UI whatever they say.
type NotificationPrefs map[string]bool

// Emails reports whether kind is wanted by email; a kind never chosen is.
func (p NotificationPrefs) Emails(kind string) bool {
	want, set := p[kind]
	return want || !set
}

// Digest reports whether the emails come once a day, together, rather than
// one by one; off unless chosen.
func (p NotificationPrefs) Digest() bool { return p[NotifyDigest] }

// Validate refuses a kind that is not one.
func (p NotificationPrefs) Validate() error {
	v := validation{index: -1}
	for k := range p {
		if !slices.Contains(NotificationKinds, k) && k != NotifyDigest {
			v.add("kinds", "%q is not a kind of notification", k)
		}
	}
	return v.err("notification settings")
}

// NotificationService lists a person's notifications and keeps their
// choices.
type NotificationService interface {
	// FindNotifications returns a user's latest notifications, newest
	// first, at most limit, with the count of all unread.
	FindNotifications(ctx context.Context, userID string, limit int) (*NotificationList, error)
	// MarkNotificationsRead marks all of a user's notifications read.
	MarkNotificationsRead(ctx context.Context, userID string) error
	FindNotificationPrefs(ctx context.Context, userID string) (NotificationPrefs, error)
	SetNotificationPrefs(ctx context.Context, userID string, p NotificationPrefs) error
}
