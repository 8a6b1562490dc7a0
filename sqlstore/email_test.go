package sqlstore_test

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testsmtp"
	"github.com/rapport-crm/rapport/mail"
	"github.com/rapport-crm/rapport/sqlstore"
)

// mailFixture is a store whose emails go to a real SMTP server.
type mailFixture struct {
	*store
	smtp     *testsmtp.Server
	emails   *sqlstore.EmailService
	policies *sqlstore.SurveyPolicyService
	surveys  *sqlstore.SurveyService
}

func newMailFixture(t *testing.T, s *store, refuse func(string) error) *mailFixture {
	t.Helper()
	server := testsmtp.Start(t, testsmtp.Options{Username: "rapport", Password: "pw", Refuse: refuse})
	srv, err := mail.ParseURL(server.URL())
	if err != nil {
		t.Fatal(err)
	}
	mailer, err := mail.New(srv, mail.Options{From: "Harbour Bank <care@harbour.example>"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mailer.Close() })
	s.db.SetEmail(sqlstore.EmailSetup{PublicURL: "https://rapport.example", Firm: "Harbour Bank"})
	return &mailFixture{store: s, smtp: server, policies: sqlstore.NewSurveyPolicyService(s.db), surveys: sqlstore.NewSurveyService(s.db),
		emails: sqlstore.NewEmailService(s.db, sqlstore.EmailOptions{Mailer: mailer, FirstRetry: time.Minute, MaxAttempts: 3,
			Jitter: func(d time.Duration) time.Duration { return d }})}
}

// send sends what is due and checks how many the server took.
func (f *mailFixture) send(t *testing.T, want int) {
	t.Helper()
	if n, err := f.emails.Send(context.Background()); err != nil || n != want {
		t.Fatalf("Send() = %d, %v; want %d sent", n, err, want)
	}
}

func (f *mailFixture) setPolicy(t *testing.T, p rapport.SurveyPolicy) {
	t.Helper()
	if err := f.policies.SetSurveyPolicy(context.Background(), &p); err != nil {
		t.Fatal(err)
	}
}

var (
	surveyLinkRe  = regexp.MustCompile(`https://rapport\.example/s/([A-Za-z0-9_-]{43})\b`)
	unsubscribeRe = regexp.MustCompile(`https://rapport\.example/s/unsubscribe/([A-Za-z0-9_-]{43})\b`)
)

// tokens reads the survey and unsubscribe tokens out of an email.
func tokens(t *testing.T, m testsmtp.Message) (survey, unsubscribe string) {
	t.Helper()
	s, u := surveyLinkRe.FindStringSubmatch(m.Text), unsubscribeRe.FindStringSubmatch(m.Text)
	if s == nil || u == nil {
		t.Fatalf("the email lacks a survey or unsubscribe link:\n%s", m.Text)
	}
	return s[1], u[1]
}

func queryPolicy() rapport.SurveyPolicy {
	p := rapport.DefaultSurveyPolicy("query")
	p.Enabled, p.DelayMinutes, p.QuietDays, p.ReminderDays = true, 120, 30, 3
	p.Reasons = []string{"Too slow", "Not solved", "Unfriendly"}
	return p
}

// TestSurveyInvitationByEmail follows one customer from a moment to an
// answered survey: the invitation is queued with the moment and sent when
// its delay is over, through a real SMTP server; the quiet period keeps a
// second moment from inviting again; the customer's low answer keeps the
// staff's rating beside it and opens a case, whose assignee is emailed;
// the reminder is not sent to someone who answered; and the timeline logs
// each email.
func TestSurveyInvitationByEmail(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		f := newMailFixture(t, s, nil)
		f.setPolicy(t, queryPolicy())
		owner := s.user(t, "Grace Hopper")
		c := s.customer(t, &rapport.Customer{Name: "Ada Lovelace", Email: "ada@example.com", OwnerID: owner.ID})
		m := s.record(t, s.moment(c.ID)) // an hour ago, rated 4 by staff

		if n := s.count(t, "survey_invitations", ""); n != 1 {
			t.Fatalf("invitations after the moment = %d; want 1", n)
		}
		f.send(t, 0) // due an hour from now: two hours after the moment
		s.clock.Add(time.Hour)
		f.send(t, 1)
		msgs := f.smtp.Wait(t, 1, 5*time.Second)
		if msgs[0].To != "ada@example.com" || !strings.Contains(msgs[0].Subject, "Handling a query") {
			t.Errorf("the invitation went to %q about %q", msgs[0].To, msgs[0].Subject)
		}
		token, _ := tokens(t, msgs[0])
		if n := s.count(t, "email_outbox", "status = 'sent' AND text_body = ''"); n != 1 {
			t.Errorf("sent emails with their bodies cleared = %d; want 1 (the body holds the one-time link)", n)
		}

		// The next day another moment: within the quiet period, no invitation.
		s.clock.Add(24 * time.Hour)
		s.record(t, s.moment(c.ID))
		if n := s.count(t, "survey_invitations", ""); n != 1 {
			t.Errorf("invitations after a second moment within 30 days = %d; want still 1", n)
		}

		// The customer answers low, with a reason.
		if err := f.surveys.AnswerSurvey(ctx, token, rapport.SurveyAnswer{Rating: 1, Reason: "Not a reason"}); rapport.ErrorCode(err) != rapport.EINVALID {
			t.Errorf("an answer with a reason not listed = %v; want EINVALID", err)
		}
		if err := f.surveys.AnswerSurvey(ctx, token, rapport.SurveyAnswer{Rating: 1, Reason: "Too slow", Comment: "Three calls"}); err != nil {
			t.Fatal(err)
		}
		got, err := s.moments.FindMomentByID(ctx, m.ID)
		if err != nil || got.Rating == nil || *got.Rating != 1 || got.Outcome != rapport.OutcomeMisery {
			t.Fatalf("the moment after the answer: %s, %v; want the customer's rating 1, misery", show(got), err)
		}
		page, err := s.timelines.Timeline(ctx, c.ID, rapport.TimelineFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var answer *rapport.SurveyResponse
		var logged []string
		for _, e := range page.Items {
			if e.Survey != nil {
				answer = e.Survey
			}
			if e.Email != nil {
				logged = append(logged, e.Email.Kind+" "+e.Email.Status)
			}
		}
		if answer == nil || answer.StaffRating == nil || *answer.StaffRating != 4 || answer.Rating != 1 || answer.Reason != "Too slow" {
			t.Errorf("the answer on the timeline = %s; want the customer's 1 beside the staff's 4, and the reason", show(answer))
		}
		slices.Sort(logged)
		if strings.Join(logged, ", ") != "survey.invitation sent, survey.reminder skipped" {
			t.Errorf("emails on the timeline: %v; want the invitation sent and the reminder skipped, since the customer answered", logged)
		}

		// The case opened for the owner, who is told by email.
		f.send(t, 1)
		msgs = f.smtp.Wait(t, 2, 5*time.Second)
		if msgs[1].To != "grace.hopper@firm.example" || !strings.Contains(msgs[1].Text, "Too slow") ||
			!strings.Contains(msgs[1].Text, "Three calls") || !strings.Contains(msgs[1].Text, "https://rapport.example/cases/") {
			t.Errorf("the assignee's email to %q:\n%s", msgs[1].To, msgs[1].Text)
		}

		// Three days on, the reminder is due but the customer answered.
		s.clock.Add(3 * 24 * time.Hour)
		f.send(t, 0)
		if n := s.count(t, "email_outbox", "kind = 'survey.reminder' AND status = 'skipped'"); n != 1 {
			t.Errorf("reminders skipped after an answer = %d; want 1", n)
		}
	})
}

// TestSurveyOptOut: the unsubscribe link records the wish, the reminder
// due is not sent, and no later moment invites the customer, even past
// the quiet period; a reminder goes to someone who neither answered nor
// opted out.
func TestSurveyOptOut(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		f := newMailFixture(t, s, nil)
		p := queryPolicy()
		p.DelayMinutes = 0
		f.setPolicy(t, p)
		ada := s.customer(t, &rapport.Customer{Name: "Ada", Email: "ada@example.com"})
		bob := s.customer(t, &rapport.Customer{Name: "Bob", Email: "bob@example.com"})
		s.record(t, s.moment(ada.ID))
		s.record(t, s.moment(bob.ID))
		f.send(t, 2)
		msgs := f.smtp.Wait(t, 2, 5*time.Second)
		var unsub string
		for _, m := range msgs {
			if m.To == "ada@example.com" {
				_, unsub = tokens(t, m)
			}
		}
		if _, err := f.emails.CheckUnsubscribe(ctx, unsub); err != nil {
			t.Fatal(err)
		}
		for range 2 { // twice is no error
			if err := f.emails.Unsubscribe(ctx, unsub); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.emails.Unsubscribe(ctx, strings.Repeat("A", 43)); rapport.ErrorCode(err) != rapport.ENOTFOUND {
			t.Errorf("Unsubscribe(unknown) = %v; want ENOTFOUND", err)
		}
		s.clock.Add(3 * 24 * time.Hour)
		f.send(t, 1) // Bob's reminder; Ada's is skipped
		if got := f.smtp.Wait(t, 3, 5*time.Second)[2]; got.To != "bob@example.com" || !strings.HasPrefix(got.Subject, "A reminder") {
			t.Errorf("the third email went to %q: %q; want Bob's reminder", got.To, got.Subject)
		}
		s.clock.Add(40 * 24 * time.Hour)
		s.record(t, s.moment(ada.ID))
		s.record(t, s.moment(bob.ID))
		if n := s.count(t, "survey_invitations", "customer_id = '"+ada.ID+"'"); n != 1 {
			t.Errorf("Ada's invitations after opting out = %d; want still 1", n)
		}
		if n := s.count(t, "survey_invitations", "customer_id = '"+bob.ID+"'"); n != 2 {
			t.Errorf("Bob's invitations past the quiet period = %d; want 2", n)
		}
	})
}

// TestEmailRetries: a server that answers "try later" gets the email again
// after the backoff; a server that refuses the address for good fails it at
// once, and the customer's timeline says so; a batch rolled back queues
// nothing.
func TestEmailRetries(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		busy := true
		f := newMailFixture(t, s, func(to string) error {
			if strings.HasPrefix(to, "nobody") {
				return &smtp.SMTPError{Code: 550, Message: "no such user"}
			}
			if busy {
				return &smtp.SMTPError{Code: 451, Message: "try later"}
			}
			return nil
		})
		p := queryPolicy()
		p.DelayMinutes, p.ReminderDays = 0, 0
		f.setPolicy(t, p)
		ada := s.customer(t, &rapport.Customer{Name: "Ada", Email: "ada@example.com"})
		nobody := s.customer(t, &rapport.Customer{Name: "Nobody", Email: "nobody@example.com"})
		s.record(t, s.moment(ada.ID))
		s.record(t, s.moment(nobody.ID))
		f.send(t, 0)
		if n := s.count(t, "email_outbox", "status = 'pending' AND attempts = 1 AND last_error LIKE '%try later%'"); n != 1 {
			t.Errorf("emails waiting for a retry = %d; want 1", n)
		}
		if n := s.count(t, "email_outbox", "status = 'bounced' AND last_error LIKE '%no such user%'"); n != 1 {
			t.Errorf("emails bounced = %d; want 1", n)
		}
		busy = false
		f.send(t, 0) // the retry waits a minute
		s.clock.Add(time.Minute)
		f.send(t, 1)
		page, err := s.timelines.Timeline(ctx, nobody.ID, rapport.TimelineFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var refused *rapport.EmailRecord
		for _, e := range page.Items {
			if e.Email != nil {
				refused = e.Email
			}
		}
		if refused == nil || refused.Status != rapport.EmailBounced || !strings.Contains(refused.LastError, "550") {
			t.Errorf("the refused email on the timeline = %s; want bounced with the server's answer", show(refused))
		}

		// A batch with an invalid moment is refused whole, and queues nothing.
		before := s.count(t, "email_outbox", "")
		bad := s.moment(ada.ID)
		bad.Touchpoint = "no-such-touchpoint"
		s.clock.Add(60 * 24 * time.Hour)
		if _, err := s.moments.RecordMoments(ctx, []*rapport.Moment{s.moment(ada.ID), bad}); err == nil {
			t.Fatal("a batch with an unknown touchpoint was recorded")
		}
		if n := s.count(t, "email_outbox", ""); n != before {
			t.Errorf("emails after a refused batch = %d; want %d", n, before)
		}
	})
}

// TestSurveyReport measures a touchpoint on simulated answers with a known
// truth: 50 customers invited, staff rated every moment 4; 20 answered, ten
// with 5 and ten with 1 (six "Too slow", four "Not solved").
func TestSurveyReport(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		f := newMailFixture(t, s, nil)
		p := queryPolicy()
		p.DelayMinutes, p.ReminderDays = 0, 0
		f.setPolicy(t, p)
		for i := range 50 {
			c := s.customer(t, &rapport.Customer{Name: fmt.Sprintf("Customer %d", i), Email: fmt.Sprintf("c%d@example.com", i)})
			s.record(t, s.moment(c.ID))
		}
		f.send(t, 50)
		for i, m := range f.smtp.Wait(t, 50, 10*time.Second)[:20] {
			token, _ := tokens(t, m)
			a := rapport.SurveyAnswer{Rating: 5}
			if i >= 10 {
				a.Rating, a.Reason = 1, "Too slow"
				if i >= 16 {
					a.Reason = "Not solved"
				}
			}
			if err := f.surveys.AnswerSurvey(ctx, token, a); err != nil {
				t.Fatal(err)
			}
		}
		s.clock.Add(time.Hour)
		r, err := f.policies.SurveyReport(ctx, rapport.SurveyReportFilter{Touchpoint: "query"})
		if err != nil {
			t.Fatal(err)
		}
		near := func(got, want float64) bool { return math.Abs(got-want) < 0.001 }
		if r.Invited != 50 || r.Answered != 20 || r.ResponseRate == nil || !near(r.ResponseRate.Value, 0.4) ||
			!near(r.ResponseRate.Low, 0.2761) || !near(r.ResponseRate.High, 0.5382) || !r.LowResponse {
			t.Errorf("response: %s; want 20 of 50, 0.40 in [0.276, 0.538], too few to trust", show(r))
		}
		if r.CustomerRating == nil || r.CustomerRating.N != 20 || !near(r.CustomerRating.Value, 3) ||
			r.StaffRating == nil || r.StaffRating.N != 50 || !near(r.StaffRating.Value, 4) {
			t.Errorf("ratings: customers %s, staff %s; want 3 on 20 answers beside staff's 4 on 50 moments", show(r.CustomerRating), show(r.StaffRating))
		}
		want := []rapport.ReasonCount{{Reason: "Too slow", Count: 6, Share: 0.6}, {Reason: "Not solved", Count: 4, Share: 0.4}}
		if r.LowAnswers != 10 || show(r.Reasons) != show(want) {
			t.Errorf("reasons: %d low answers, %s; want 10, %s", r.LowAnswers, show(r.Reasons), show(want))
		}
	})
}

// TestSurveyWebhookEvents: an endpoint subscribed to the survey events
// hears survey.sent when an invitation goes, survey.answered when the
// customer answers and notification.sent when the case's assignee is told;
// one subscribed to none of them hears nothing.
func TestSurveyWebhookEvents(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		f := newMailFixture(t, s, nil)
		hooks := sqlstore.NewWebhookService(s.db, sqlstore.WebhookOptions{})
		w := &rapport.Webhook{URL: "https://hooks.example.com/rapport", Active: true,
			Kinds: []string{rapport.EventSurveySent, rapport.EventSurveyAnswered, rapport.EventNotificationSent}}
		if _, err := hooks.CreateWebhook(ctx, w, ""); err != nil {
			t.Fatal(err)
		}
		other := &rapport.Webhook{URL: "https://other.example.com/rapport", Active: true, Kinds: []string{rapport.EventStageChanged}}
		if _, err := hooks.CreateWebhook(ctx, other, ""); err != nil {
			t.Fatal(err)
		}
		p := queryPolicy()
		p.DelayMinutes, p.ReminderDays = 0, 0
		f.setPolicy(t, p)
		owner := s.user(t, "Grace Hopper")
		c := s.customer(t, &rapport.Customer{Name: "Ada", Email: "ada@example.com", OwnerID: owner.ID})
		s.record(t, s.moment(c.ID))
		f.send(t, 1)
		token, _ := tokens(t, f.smtp.Wait(t, 1, 5*time.Second)[0])
		if err := f.surveys.AnswerSurvey(ctx, token, rapport.SurveyAnswer{Rating: 1, Reason: "Too slow"}); err != nil {
			t.Fatal(err)
		}
		f.send(t, 1)
		for _, kind := range []string{rapport.EventSurveySent, rapport.EventSurveyAnswered, rapport.EventNotificationSent} {
			if n := s.count(t, "webhook_deliveries", "kind = '"+kind+"' AND endpoint_id = '"+w.ID+"' AND customer_id = '"+c.ID+"'"); n != 1 {
				t.Errorf("%s deliveries = %d; want 1", kind, n)
			}
		}
		if n := s.count(t, "webhook_deliveries", "endpoint_id = '"+other.ID+"' AND kind LIKE '%.sent'"); n != 0 {
			t.Errorf("an endpoint not subscribed got %d email events", n)
		}
	})
}
