package web_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testsmtp"
	"github.com/rapport-crm/rapport/mail"
	"github.com/rapport-crm/rapport/sqlstore"
)

// TestBrowserSurveyPolicy: a manager turns on survey invitations for a
// touchpoint from its page (first with a share out of range, which the form
// refuses and keeps what was typed), a customer is invited by email through
// a real SMTP server and answers low with a reason, and the touchpoint page
// shows the invitation, the response rate with the warning that one answer
// is too few to trust, the customers' rating beside the staff's, and the
// reason. At phone width the page still fits.
func TestBrowserSurveyPolicy(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	b := newBrowser(t, 1280, 900, f.srv.URL)
	b.signIn(f.users[rapport.RoleManager].Email)
	b.Open("/touchpoints/service", "#survey-results")
	if got := b.Text("#survey-results"); !strings.Contains(got, "Survey invitations are off") {
		t.Errorf("the touchpoint page reads %q; want invitations off", got)
	}
	b.Do("open the survey settings", chromedp.Click(css(`#survey-results a[href="/touchpoints/service/survey"]`)),
		chromedp.WaitVisible(css("#survey-policy")))
	b.Do("turn invitations on with a share out of range",
		chromedp.Click(css("#f-enabled")),
		chromedp.Click(css(`#survey-policy input[name=channels][value=phone]`)),
		chromedp.SetValue(css("#f-sample_percent"), "150"),
		chromedp.SetValue(css("#f-delay_minutes"), "0"),
		chromedp.SendKeys(css("#f-reasons"), "Kept waiting\nProblem not solved\nStaff unhelpful"),
		chromedp.Click(css(`#survey-policy button[type=submit]`)),
		chromedp.WaitVisible(css("#f-sample_percent-error")),
	)
	if got := b.Value("#f-reasons"); !strings.Contains(got, "Problem not solved") {
		t.Errorf("after the error the reasons read %q; want what was typed", got)
	}
	b.Screenshot("survey-policy-01-error")
	b.Do("save", chromedp.SetValue(css("#f-sample_percent"), "100"), chromedp.Click(css(`#survey-policy button[type=submit]`)),
		chromedp.WaitVisible(css(".flash")))
	if got := b.Text(".flash"); !strings.Contains(got, "are on: 100% of moments, at once after each") {
		t.Errorf("after saving the page says %q", got)
	}
	p, err := f.services.SurveyPolicies.FindSurveyPolicy(ctx, "service")
	if err != nil || !p.Enabled || len(p.Channels) != 1 || p.Channels[0] != rapport.ChannelPhone || len(p.Reasons) != 3 {
		t.Fatalf("the stored policy = %+v, %v; want on, phone only, three reasons", p, err)
	}

	// Harriet is invited after a phone call, and answers low.
	server := testsmtp.Start(t, testsmtp.Options{})
	srv, _ := mail.ParseURL(server.URL())
	mailer, err := mail.New(srv, mail.Options{From: "care@harbour.example"})
	if err != nil {
		t.Fatal(err)
	}
	defer mailer.Close()
	f.db.SetEmail(sqlstore.EmailSetup{PublicURL: "https://rapport.example", Firm: "Harbour"})
	rating := 4
	if _, err := f.services.Moments.RecordMoment(ctx, &rapport.Moment{CustomerID: f.customers["Harriet Vane"].ID, Touchpoint: "service",
		Channel: rapport.ChannelPhone, OccurredAt: testNow.Add(-time.Hour), Rating: &rating}); err != nil {
		t.Fatal(err)
	}
	// The seeded misery moments' cases told their assignee too.
	n, err := sqlstore.NewEmailService(f.db, sqlstore.EmailOptions{Mailer: mailer}).Send(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var token []string
	for _, m := range server.Wait(t, n, 5*time.Second) {
		if m.To == "harriet@vane.example" {
			token = regexp.MustCompile(`/s/([A-Za-z0-9_-]{43})`).FindStringSubmatch(m.Text)
		}
	}
	if token == nil {
		t.Fatal("no invitation with a survey link went to Harriet")
	}
	if err := f.services.Surveys.AnswerSurvey(ctx, token[1], rapport.SurveyAnswer{Rating: 2, Reason: "Kept waiting"}); err != nil {
		t.Fatal(err)
	}

	b.Open("/touchpoints/service", "#s-invited")
	for sel, want := range map[string]string{"#s-invited": "1", "#s-rate": "100%", "#s-customer": "2.00"} {
		if got := b.Text(sel); got != want {
			t.Errorf("%s reads %q; want %q", sel, got, want)
		}
	}
	if got := b.Text("#s-warning"); !strings.Contains(got, "Too few customers answered to trust") {
		t.Errorf("the warning reads %q", got)
	}
	if got := b.Text("#s-reasons tbody"); !strings.Contains(got, "Kept waiting\t1\t100%") && !strings.Contains(got, "Kept waiting 1 100%") {
		t.Errorf("the reasons read %q; want Kept waiting, 1, 100%%", got)
	}
	b.Screenshot("survey-policy-02-results")

	// Harriet's timeline logs the invitation and keeps both ratings.
	b.Open("/customers/"+f.customers["Harriet Vane"].ID, ".entry-email")
	if got := b.Text(".entry-email:has(.badge-magic)"); !strings.Contains(got, "Survey invitation") || !strings.Contains(got, "Sent") ||
		!strings.Contains(got, "To harriet@vane.example") {
		t.Errorf("the invitation on the timeline reads %q", got)
	}
	if got := b.Text(".entry-email:not(:has(.badge-magic))"); !strings.Contains(got, "Survey reminder") || !strings.Contains(got, "Not sent") {
		t.Errorf("the reminder on the timeline reads %q; want not sent, since Harriet answered", got)
	}
	if got := b.Text(".entry-survey"); !strings.Contains(got, "Main reason: Kept waiting") || !strings.Contains(got, "staff had recorded 4 of 5") {
		t.Errorf("the answer on the timeline reads %q; want the reason and the staff's rating beside the customer's", got)
	}
	b.Screenshot("survey-policy-04-timeline")
	phone := newBrowser(t, 390, 844, f.srv.URL)
	phone.signIn(f.users[rapport.RoleManager].Email)
	phone.Open("/touchpoints/service", "#survey-results")
	if phone.WiderThanScreen() {
		t.Error("the touchpoint page with survey results is wider than a phone's screen")
	}
	phone.Open("/touchpoints/service/survey", "#survey-policy")
	if phone.WiderThanScreen() {
		t.Error("the survey settings are wider than a phone's screen")
	}
	phone.Screenshot("survey-policy-03-form-phone")
}
