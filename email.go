package rapport

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"strings"
	"time"
)

// Email: survey invitations to customers and notifications to staff. Each
// email is written to an outbox in the transaction of the change that
// causes it, as webhook events are, and a background sender hands it to
// the firm's SMTP server, retrying with a growing wait.

// Email is one message as it is handed to the mail server.
type Email struct {
	// ID names the email; the Message-ID is made from it.
	ID      string
	To      string
	Subject string
	Text    string
	HTML    string
	// Unsubscribe is the link that stops such email, "" for none; it is
	// sent as the List-Unsubscribe header too.
	Unsubscribe string
}

// Mailer hands emails to a mail server.
type Mailer interface {
	// Send delivers one email. An error that IsPermanent reports is the
	// server refusing this email for good; any other is worth a retry.
	Send(ctx context.Context, e Email) error
}

// PermanentError is a mail server refusing an email for good (an SMTP 5xx
// answer, as for an address that does not exist).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Kinds of email to customers; an email to staff has the kind of its
// notification (NotificationKinds), or NotifyDigest.
const (
	EmailSurveyInvitation = "survey.invitation"
	EmailSurveyReminder   = "survey.reminder"
)

// Email statuses.
const (
	EmailPending = "pending"
	EmailSent    = "sent"
	// EmailBounced is an email the mail server refused for good, as for an
	// address that does not exist; EmailFailed one given up on after every
	// attempt met a mail server that was down or said "try later".
	EmailBounced = "bounced"
	EmailFailed  = "failed"
	// EmailSkipped is an email no longer worth sending when it fell due:
	// the customer opted out, or answered before the reminder.
	EmailSkipped = "skipped"
)

// EmailRecord is an email as the customer's timeline shows it: what was
// sent and how it went, never its body.
type EmailRecord struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	CustomerID string     `json:"customer_id,omitempty"`
	UserID     string     `json:"user_id,omitempty"`
	To         string     `json:"to"`
	Subject    string     `json:"subject"`
	Status     string     `json:"status"`
	Attempts   int        `json:"attempts"`
	LastError  string     `json:"last_error,omitempty"`
	SentAt     *time.Time `json:"sent_at,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
}

// SurveyPolicy says which moments of a touchpoint invite their customer to
// a survey by email, and how often anyone may be asked.
type SurveyPolicy struct {
	Touchpoint string `json:"touchpoint"`
	Enabled    bool   `json:"enabled"`
	// Channels limits invitations to moments on these channels; empty
	// means every channel.
	Channels []Channel `json:"channels"`
	// SamplePercent is the share of eligible moments that invite, 0–100.
	SamplePercent int `json:"sample_percent"`
	// DelayMinutes is how long after the moment the invitation goes.
	DelayMinutes int `json:"delay_minutes"`
	// QuietDays: nobody is invited more than once in this many days,
	// whatever the touchpoint.
	QuietDays int `json:"quiet_days"`
	// ReminderDays: an unanswered invitation is followed by one reminder
	// this many days later; 0 sends none.
	ReminderDays int `json:"reminder_days"`
	// Reasons are what a customer may choose as the main reason for a low
	// score.
	Reasons   []string  `json:"reasons"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Limits of a survey policy.
const (
	MaxSurveyDelayMinutes = 7 * 24 * 60
	MaxQuietDays          = 365
	MaxReminderDays       = 14
	maxReasons            = 12
)

// DefaultSurveyPolicy is a touchpoint's policy until a manager sets one:
// no invitations; when turned on, every moment two hours after it, nobody
// twice in thirty days, a reminder after three days.
func DefaultSurveyPolicy(touchpoint string) SurveyPolicy {
	return SurveyPolicy{Touchpoint: touchpoint, Channels: []Channel{}, SamplePercent: 100, DelayMinutes: 120,
		QuietDays: 30, ReminderDays: 3, Reasons: []string{}}
}

// Validate checks a policy's own fields and tidies its lists.
func (p *SurveyPolicy) Validate() error {
	v := validation{index: -1}
	if p.Channels == nil {
		p.Channels = []Channel{}
	}
	for _, c := range p.Channels {
		if !c.Valid() {
			v.add("channels", "unknown channel %q; channels are %s", c, channelList())
		}
	}
	p.Channels = slices.Compact(slices.Sorted(slices.Values(p.Channels)))
	if p.SamplePercent < 0 || p.SamplePercent > 100 {
		v.add("sample_percent", "must be from 0 to 100")
	}
	if p.DelayMinutes < 0 || p.DelayMinutes > MaxSurveyDelayMinutes {
		v.add("delay_minutes", "must be from 0 to %d (seven days)", MaxSurveyDelayMinutes)
	}
	if p.QuietDays < 0 || p.QuietDays > MaxQuietDays {
		v.add("quiet_days", "must be from 0 to %d", MaxQuietDays)
	}
	if p.ReminderDays < 0 || p.ReminderDays > MaxReminderDays {
		v.add("reminder_days", "must be from 0 (no reminder) to %d", MaxReminderDays)
	}
	var reasons []string
	for _, r := range p.Reasons {
		if r = strings.Join(strings.Fields(r), " "); r != "" && !slices.Contains(reasons, r) {
			reasons = append(reasons, r)
		}
	}
	p.Reasons = reasons
	if p.Reasons == nil {
		p.Reasons = []string{}
	}
	if len(p.Reasons) > maxReasons {
		v.add("reasons", "must be at most %d", maxReasons)
	}
	for _, r := range p.Reasons {
		checkText(&v, "reasons", r, 1, 80)
	}
	return v.err("survey policy")
}

// MaxInvitationAge is how old a moment may be when it is recorded and still
// invite: a survey about something long past asks too much of memory, and
// an import of history must not email every customer in it.
const MaxInvitationAge = 7 * 24 * time.Hour

// Invitee is what deciding an invitation needs to know of the customer.
type Invitee struct {
	Email    string
	OptedOut bool
	// LastInvited is when the customer's latest invitation was or is due
	// to be sent, zero for never.
	LastInvited time.Time
}

// Invitation decides whether a moment recorded now invites its customer,
// and when the email goes.
func (p SurveyPolicy) Invitation(m *Moment, who Invitee, now time.Time) (sendAt time.Time, ok bool) {
	if !p.Enabled || who.Email == "" || who.OptedOut || now.Sub(m.OccurredAt) > MaxInvitationAge {
		return time.Time{}, false
	}
	if len(p.Channels) > 0 && !slices.Contains(p.Channels, m.Channel) {
		return time.Time{}, false
	}
	if !Sampled(m.ID, p.SamplePercent) {
		return time.Time{}, false
	}
	sendAt = m.OccurredAt.Add(time.Duration(p.DelayMinutes) * time.Minute)
	if sendAt.Before(now) {
		sendAt = now
	}
	if !who.LastInvited.IsZero() {
		gap := sendAt.Sub(who.LastInvited)
		if gap < 0 {
			gap = -gap
		}
		if gap < time.Duration(p.QuietDays)*24*time.Hour {
			return time.Time{}, false
		}
	}
	return sendAt, true
}

// Sampled reports whether a moment falls in a sample of percent of all
// moments. The draw is a hash of its id, so it is the same every time it is
// asked and spread evenly over ids.
func Sampled(momentID string, percent int) bool {
	if percent >= 100 {
		return true
	}
	sum := sha256.Sum256([]byte(momentID))
	return int(binary.BigEndian.Uint64(sum[:8])%100) < percent
}

// SurveyPolicyService keeps the touchpoints' survey policies.
type SurveyPolicyService interface {
	// FindSurveyPolicy returns a touchpoint's policy, the default when none
	// was set; an unknown touchpoint is ENOTFOUND.
	FindSurveyPolicy(ctx context.Context, touchpoint string) (*SurveyPolicy, error)
	SetSurveyPolicy(ctx context.Context, p *SurveyPolicy) error
	// SurveyReport tells how a touchpoint's invitations fared and what
	// customers answered beside what staff recorded.
	SurveyReport(ctx context.Context, f SurveyReportFilter) (*SurveyReport, error)
}

// EmailService takes a customer's wish for no more email.
type EmailService interface {
	// Unsubscribe records that the customer an unsubscribe token was sent
	// to wants no more survey email. An unknown token is ENOTFOUND.
	// Unsubscribing twice is no error.
	Unsubscribe(ctx context.Context, token string) error
	// CheckUnsubscribe reports whether a token is one Rapport sent, and
	// whether its customer has opted out already.
	CheckUnsubscribe(ctx context.Context, token string) (optedOut bool, err error)
}

// UnsubscribePath is where the public page of an unsubscribe token lives.
func UnsubscribePath(token string) string { return "/s/unsubscribe/" + token }
