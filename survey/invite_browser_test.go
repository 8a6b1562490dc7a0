package survey_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testbrowser"
	"github.com/rapport-crm/rapport/internal/testsmtp"
	"github.com/rapport-crm/rapport/mail"
	"github.com/rapport-crm/rapport/sqlstore"
	"github.com/rapport-crm/rapport/survey"
)

// inviteFixture is the survey pages with invitations by email: a survey
// policy on the touchpoint, a customer with an owner, and a real SMTP
// server the outbox is sent to.
type inviteFixture struct {
	*fixture
	smtp     *testsmtp.Server
	emails   *sqlstore.EmailService
	owner    *rapport.User
	customer *rapport.Customer
}

func newInviteFixture(t *testing.T) *inviteFixture {
	t.Helper()
	ctx := context.Background()
	f := &inviteFixture{fixture: newFixture(t, survey.Config{})}
	f.db.SetEmail(sqlstore.EmailSetup{PublicURL: f.srv.URL, Firm: "Harbour Mutual"})
	f.smtp = testsmtp.Start(t, testsmtp.Options{Username: "rapport", Password: "pw"})
	srv, err := mail.ParseURL(f.smtp.URL())
	if err != nil {
		t.Fatal(err)
	}
	mailer, err := mail.New(srv, mail.Options{From: "Harbour Mutual <care@harbour.example>"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mailer.Close() })
	f.emails = sqlstore.NewEmailService(f.db, sqlstore.EmailOptions{Mailer: mailer})
	p := rapport.DefaultSurveyPolicy("service")
	p.Enabled, p.DelayMinutes, p.QuietDays, p.ReminderDays = true, 0, 30, 0
	p.Reasons = []string{"Kept waiting", "Problem not solved", "Staff unhelpful"}
	if err := sqlstore.NewSurveyPolicyService(f.db).SetSurveyPolicy(ctx, &p); err != nil {
		t.Fatal(err)
	}
	f.owner = &rapport.User{Name: "Grace Hopper", Email: "grace@harbour.example", Role: rapport.RoleAgent}
	if err := sqlstore.NewUserService(f.db).CreateUser(ctx, f.owner); err != nil {
		t.Fatal(err)
	}
	f.customer = &rapport.Customer{Name: "Ada Lovelace", Email: "ada@example.com", OwnerID: f.owner.ID}
	if err := sqlstore.NewCustomerService(f.db).CreateCustomer(ctx, f.customer); err != nil {
		t.Fatal(err)
	}
	return f
}

// record records a moment of the customer's, rated by staff, an hour ago.
func (f *inviteFixture) record(rating int) *rapport.Moment {
	f.t.Helper()
	m := &rapport.Moment{CustomerID: f.customer.ID, Touchpoint: "service", Channel: rapport.ChannelPhone,
		OccurredAt: f.clock.Now().Add(-time.Hour), Rating: &rating}
	if _, err := sqlstore.NewMomentService(f.db).RecordMoment(context.Background(), m); err != nil {
		f.t.Fatal(err)
	}
	return m
}

// send sends the outbox and checks how many emails the server took.
func (f *inviteFixture) send(want int) {
	f.t.Helper()
	if n, err := f.emails.Send(context.Background()); err != nil || n != want {
		f.t.Fatalf("Send() = %d, %v; want %d", n, err, want)
	}
}

// invitations counts the survey emails on the customer's timeline.
func (f *inviteFixture) invitations() int {
	f.t.Helper()
	page, err := sqlstore.NewTimelineService(f.db).Timeline(context.Background(), f.customer.ID, rapport.TimelineFilter{Limit: 100})
	if err != nil {
		f.t.Fatal(err)
	}
	n := 0
	for _, e := range page.Items {
		if e.Email != nil && e.Email.Kind == rapport.EmailSurveyInvitation {
			n++
		}
	}
	return n
}

// link finds a link to the site in an email's text.
func (f *inviteFixture) link(m testsmtp.Message, path string) string {
	f.t.Helper()
	found := regexp.MustCompile(regexp.QuoteMeta(f.srv.URL+path) + `[A-Za-z0-9_-]{43}`).FindString(m.Text)
	if found == "" {
		f.t.Fatalf("the email has no %s link:\n%s", path, m.Text)
	}
	return strings.TrimPrefix(found, f.srv.URL)
}

// TestInvitationEmailInBrowser is the customer's whole path: a moment
// invites them by email, read from the SMTP server; the link opens in
// Chromium; a low score and a reason are answered through the form; the
// answer lands on the moment beside the staff's rating, opens a recovery
// case and emails its assignee. A second moment within the quiet period
// invites nobody; the unsubscribe link, followed in Chromium, stops the
// next invitation after the quiet period too.
func TestInvitationEmailInBrowser(t *testing.T) {
	ctx := context.Background()
	f := newInviteFixture(t)
	m := f.record(4)
	f.send(1)
	invitation := f.smtp.Wait(t, 1, 5*time.Second)[0]
	if invitation.To != "ada@example.com" || invitation.Subject != "How was your Service visit with Harbour Mutual?" {
		t.Errorf("the invitation went to %q with the subject %q", invitation.To, invitation.Subject)
	}

	b := testbrowser.New(t, 390, 844, f.srv.URL)
	b.Open(f.link(invitation, "/s/"), `input[name=rating]`)
	reasonsShown := `getComputedStyle(document.querySelector('fieldset.reasons')).display !== 'none'`
	if b.Eval(reasonsShown) {
		t.Error("the reasons are asked before any score is chosen")
	}
	b.Do("a good score", chromedp.Click(testbrowser.CSS(`input[name=rating][value="4"]`)))
	if b.Eval(reasonsShown) {
		t.Error("the reasons are asked after a score of 4")
	}
	b.Do("a low score", chromedp.Click(testbrowser.CSS(`input[name=rating][value="1"]`)))
	if !b.Eval(reasonsShown) {
		t.Error("the reasons are not asked after a score of 1")
	}
	if got := b.Text("fieldset.reasons legend"); !strings.Contains(got, "main reason") {
		t.Errorf("the reasons are asked as %q", got)
	}
	if b.WiderThanScreen() {
		t.Error("the survey page with reasons is wider than a phone's screen")
	}
	b.Do("answer low with a reason",
		chromedp.Click(testbrowser.CSS(`input[name=rating][value="1"]`)),
		chromedp.Click(testbrowser.CSS(`input[name=reason][value="Kept waiting"]`)),
		chromedp.SendKeys(testbrowser.CSS("#comment"), "Forty minutes on hold"),
	)
	b.Screenshot("invite-01-answer-phone")
	b.Do("send", chromedp.Click(testbrowser.CSS(`button[type=submit]`)), chromedp.WaitVisible(testbrowser.CSS(`main:not(:has(form))`)))
	if got := b.Text("h1"); got != "Thank you" {
		t.Fatalf("after sending, the page says %q: %q", got, b.Text("main"))
	}

	got, err := sqlstore.NewMomentService(f.db).FindMomentByID(ctx, m.ID)
	if err != nil || got.Rating == nil || *got.Rating != 1 || got.Outcome != rapport.OutcomeMisery {
		t.Fatalf("the moment after the answer: rating %v, outcome %v, %v; want the customer's 1, misery", got.Rating, got.Outcome, err)
	}
	page, err := sqlstore.NewTimelineService(f.db).Timeline(ctx, f.customer.ID, rapport.TimelineFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range page.Items {
		if s := e.Survey; s != nil && (s.StaffRating == nil || *s.StaffRating != 4 || s.Reason != "Kept waiting") {
			t.Errorf("the answer: staff rating %v, reason %q; want the staff's 4 kept, Kept waiting", s.StaffRating, s.Reason)
		}
	}
	cases, err := sqlstore.NewRecoveryService(f.db).FindCases(ctx, rapport.CaseFilter{CustomerID: f.customer.ID})
	if err != nil || len(cases.Items) != 1 || cases.Items[0].AssigneeID != f.owner.ID {
		t.Fatalf("cases after the low answer = %d, %v; want one, with the customer's owner", len(cases.Items), err)
	}
	f.send(1)
	told := f.smtp.Wait(t, 2, 5*time.Second)[1]
	if told.To != "grace@harbour.example" || !strings.Contains(told.Text, "Kept waiting") || !strings.Contains(told.Text, "Forty minutes on hold") ||
		!strings.Contains(told.Text, "/cases/"+cases.Items[0].ID) {
		t.Errorf("the assignee's email to %q:\n%s", told.To, told.Text)
	}

	// Ten days later another moment: the quiet period holds it back.
	f.clock.Add(10 * 24 * time.Hour)
	f.record(5)
	f.send(0)
	if n := f.invitations(); n != 1 {
		t.Errorf("invitations after a second moment within the quiet period = %d; want 1", n)
	}

	// The customer unsubscribes through the link in the email.
	b.Open(f.link(invitation, "/s/unsubscribe/"), "button[type=submit]")
	if got := b.Text("h1"); got != "Stop survey emails?" {
		t.Errorf("the unsubscribe page asks %q", got)
	}
	b.Screenshot("invite-02-unsubscribe-phone")
	b.Do("unsubscribe", chromedp.Click(testbrowser.CSS(`button[type=submit]`)), chromedp.WaitVisible(testbrowser.CSS(`main:not(:has(form))`)))
	if got := b.Text("h1"); got != "You are unsubscribed" {
		t.Errorf("after unsubscribing, the page says %q: %q", got, b.Text("main"))
	}

	// Past the quiet period, a moment would invite: the opt-out stops it.
	f.clock.Add(40 * 24 * time.Hour)
	f.record(3)
	f.send(0)
	if n := f.invitations(); n != 1 {
		t.Errorf("invitations after opting out = %d; want 1", n)
	}
	if n := len(f.smtp.Messages()); n != 2 {
		t.Errorf("emails sent in all = %d; want the invitation and the assignee's", n)
	}
}

// TestSpanishInvitationInBrowser: a customer whose language is Spanish gets
// the invitation in Spanish and answers a page in Spanish; a page that does
// not know whose link it is speaks the browser's language.
func TestSpanishInvitationInBrowser(t *testing.T) {
	ctx := context.Background()
	f := newInviteFixture(t)
	es := "es"
	if _, err := sqlstore.NewCustomerService(f.db).UpdateCustomer(ctx, f.customer.ID, rapport.CustomerUpdate{Language: &es}); err != nil {
		t.Fatal(err)
	}
	f.record(4)
	f.send(1)
	invitation := f.smtp.Wait(t, 1, 5*time.Second)[0]
	if invitation.Subject != "¿Qué tal fue su Service visit con Harbour Mutual?" || !strings.Contains(invitation.Text, "Darse de baja") &&
		!strings.Contains(invitation.Text, "dese de baja") {
		t.Errorf("the invitation reads %q:\n%s", invitation.Subject, invitation.Text)
	}
	b := testbrowser.New(t, 390, 844, f.srv.URL)
	b.Open(f.link(invitation, "/s/"), `input[name=rating]`)
	if got := b.Text("h1"); got != "¿Qué tal lo hicimos?" {
		t.Errorf("the page's heading is %q; want Spanish", got)
	}
	if got := b.Text("main"); !strings.Contains(got, "Muy insatisfecho") || !strings.Contains(got, "Sobre su Service visit del 20/11/2026") {
		t.Errorf("the page reads %q; want Spanish labels and date", got)
	}
	b.Screenshot("invite-03-spanish-phone")
	b.Do("answer", chromedp.Click(testbrowser.CSS(`input[name=rating][value="5"]`)), chromedp.Click(testbrowser.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(testbrowser.CSS(`main:not(:has(form))`)))
	if got := b.Text("h1"); got != "Gracias" {
		t.Errorf("after sending, the page says %q; want Gracias", got)
	}

	// A link nobody sent: the page speaks the browser's language.
	req, _ := http.NewRequest("GET", f.srv.URL+"/s/"+strings.Repeat("A", 43), nil)
	req.Header.Set("Accept-Language", "de-DE, es;q=0.8, en;q=0.5")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "Este enlace ya no funciona") || !strings.Contains(string(body), `lang="es"`) {
		t.Errorf("an unknown link with Accept-Language de, es = %d:\n%s", res.StatusCode, body)
	}
}
