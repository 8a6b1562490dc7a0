package mail_test

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testsmtp"
	"github.com/rapport-crm/rapport/mail"
)

func newMailer(t *testing.T, url string, tlsConf *tls.Config) *mail.Mailer {
	t.Helper()
	srv, err := mail.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mail.New(srv, mail.Options{From: "Harbour Bank <surveys@harbour.example>", TLS: tlsConf, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func invitation(c *mail.Catalogues, lang string) rapport.Email {
	e := c.SurveyInvitation(mail.Survey{Language: lang, Firm: "Harbour Bank", Name: "Ada Lovelace", Touchpoint: "Opening an account",
		OccurredAt: time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC), ExpiresAt: time.Date(2026, 3, 18, 10, 0, 0, 0, time.UTC),
		URL: "https://rapport.example/s/TOKEN", Unsubscribe: "https://rapport.example/s/unsubscribe/UNSUB"})
	e.ID, e.To = "01EMAIL", "Ada Lovelace <ada@example.com>"
	return e
}

// TestSendThroughSMTP sends an invitation to a real SMTP server that asks
// for a password, and reads it as a mail client would: sender, recipient,
// subject, a plain-text and an HTML part each with the survey link, and the
// unsubscribe link in the body and the List-Unsubscribe header.
func TestSendThroughSMTP(t *testing.T) {
	server := testsmtp.Start(t, testsmtp.Options{Username: "rapport", Password: "s3cret p@ss"})
	m := newMailer(t, "smtp://rapport:s3cret%20p%40ss@"+server.Addr, nil)
	e := invitation(mail.MustCatalogues(), "en")
	if err := m.Send(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	got := server.Wait(t, 1, 5*time.Second)[0]
	if got.From != "surveys@harbour.example" || got.To != "ada@example.com" {
		t.Errorf("envelope from %q to %q; want surveys@harbour.example to ada@example.com", got.From, got.To)
	}
	if got.Subject != "How was your Opening an account with Harbour Bank?" {
		t.Errorf("subject = %q", got.Subject)
	}
	for part, body := range map[string]string{"text": got.Text, "html": got.HTML} {
		if !strings.Contains(body, "https://rapport.example/s/TOKEN") || !strings.Contains(body, "https://rapport.example/s/unsubscribe/UNSUB") {
			t.Errorf("the %s part lacks the survey or the unsubscribe link:\n%s", part, body)
		}
		if !strings.Contains(body, "Ada Lovelace") || !strings.Contains(body, "4 March 2026") {
			t.Errorf("the %s part does not greet Ada or name the day:\n%s", part, body)
		}
	}
	if h := got.Header.Get("List-Unsubscribe"); h != "<https://rapport.example/s/unsubscribe/UNSUB>" {
		t.Errorf("List-Unsubscribe = %q", h)
	}
	if h := got.Header.Get("Message-Id"); h != "<01EMAIL@harbour.example>" {
		t.Errorf("Message-ID = %q", h)
	}

	// A second email reuses the connection and arrives as well.
	e.ID = "02EMAIL"
	if err := m.Send(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	server.Wait(t, 2, 5*time.Second)
}

// TestSendWrongPassword: a refused sign-in is an error, and nothing arrives.
func TestSendWrongPassword(t *testing.T) {
	server := testsmtp.Start(t, testsmtp.Options{Username: "rapport", Password: "right"})
	m := newMailer(t, "smtp://rapport:wrong@"+server.Addr, nil)
	if err := m.Send(context.Background(), invitation(mail.MustCatalogues(), "en")); err == nil || !strings.Contains(err.Error(), "sign-in") {
		t.Errorf("Send with a wrong password = %v; want a sign-in error", err)
	}
	if n := len(server.Messages()); n != 0 {
		t.Errorf("%d messages arrived", n)
	}
}

// TestSendStartTLS: a server that offers STARTTLS gets the email encrypted,
// and one whose certificate is not trusted gets nothing.
func TestSendStartTLS(t *testing.T) {
	server := testsmtp.Start(t, testsmtp.Options{TLS: true, Username: "u", Password: "p"})
	m := newMailer(t, "smtp://u:p@"+server.Addr, &tls.Config{RootCAs: server.Roots})
	if err := m.Send(context.Background(), invitation(mail.MustCatalogues(), "en")); err != nil {
		t.Fatal(err)
	}
	if got := server.Wait(t, 1, 5*time.Second)[0]; !got.TLS {
		t.Error("the email came over a plain connection; want STARTTLS")
	}
	untrusting := newMailer(t, "smtp://u:p@"+server.Addr, nil)
	if err := untrusting.Send(context.Background(), invitation(mail.MustCatalogues(), "en")); err == nil {
		t.Error("Send to a server with an untrusted certificate succeeded")
	}
}

// TestSendRefused: a 550 for the recipient is permanent, a 451 is not.
func TestSendRefused(t *testing.T) {
	server := testsmtp.Start(t, testsmtp.Options{Refuse: func(to string) error {
		if strings.HasPrefix(to, "nobody") {
			return &smtp.SMTPError{Code: 550, Message: "no such user"}
		}
		if strings.HasPrefix(to, "busy") {
			return &smtp.SMTPError{Code: 451, Message: "try later"}
		}
		return nil
	}})
	m := newMailer(t, server.URL(), nil)
	e := invitation(mail.MustCatalogues(), "en")
	var perm *rapport.PermanentError
	e.To = "nobody@example.com"
	if err := m.Send(context.Background(), e); !errors.As(err, &perm) {
		t.Errorf("Send to a refused address = %v; want a permanent error", err)
	}
	e.To = "busy@example.com"
	if err := m.Send(context.Background(), e); err == nil || errors.As(err, &perm) {
		t.Errorf("Send to a busy server = %v; want an error worth a retry", err)
	}
	e.To = "ada@example.com"
	if err := m.Send(context.Background(), e); err != nil {
		t.Errorf("Send after refusals = %v; want the connection still good", err)
	}
}

// TestMessageRefusesHeaderInjection: a line break in a subject cannot add
// headers.
func TestMessageRefusesHeaderInjection(t *testing.T) {
	server := testsmtp.Start(t, testsmtp.Options{})
	m := newMailer(t, server.URL(), nil)
	e := invitation(mail.MustCatalogues(), "en")
	e.Subject = "Hello\r\nBcc: everyone@example.com"
	var perm *rapport.PermanentError
	if err := m.Send(context.Background(), e); !errors.As(err, &perm) {
		t.Errorf("Send with a line break in the subject = %v; want it refused for good", err)
	}
	e.Subject, e.To = "Hello", "ada@example.com\r\nBcc: everyone@example.com"
	if err := m.Send(context.Background(), e); !errors.As(err, &perm) {
		t.Errorf("Send with a line break in the address = %v; want it refused for good", err)
	}
	if n := len(server.Messages()); n != 0 {
		t.Errorf("%d messages arrived", n)
	}
}

// TestCatalogues: the Spanish catalogue words the invitation in Spanish,
// writes the day the Spanish way, and takes what it lacks from English;
// an unknown language is English.
func TestCatalogues(t *testing.T) {
	c := mail.MustCatalogues()
	if langs := strings.Join(c.Languages(), ","); langs != "en,es" {
		t.Errorf("languages = %s; want en,es", langs)
	}
	es := invitation(c, "es")
	if es.Subject != "¿Qué tal fue su Opening an account con Harbour Bank?" || !strings.Contains(es.Text, "04/03/2026") ||
		!strings.Contains(es.Text, "Darse de baja") && !strings.Contains(es.HTML, "Darse de baja") {
		t.Errorf("the Spanish invitation: %q\n%s", es.Subject, es.Text)
	}
	if en := invitation(c, "xx"); !strings.HasPrefix(en.Subject, "How was your") {
		t.Errorf("an unknown language's subject = %q; want English", en.Subject)
	}
	n := mail.Notice{Kind: rapport.NotifyCaseAssigned, Name: "Grace", URL: "https://rapport.example/cases/1",
		Facts: map[string]any{"Customer": "Ada", "Touchpoint": "Opening an account", "Due": "Thu 5 March", "Reason": "Too slow"}}
	title, body := c.Notification(n)
	k := c.NotificationEmail(n, title, body)
	if title != "A recovery case for Ada is yours, due Thu 5 March" || !strings.Contains(k.Text, "Too slow") ||
		!strings.Contains(k.Text, "https://rapport.example/cases/1") || strings.Contains(k.Text, "rating") {
		t.Errorf("the case email %q lacks the reason or the link, or names a rating it was not given:\n%s", title, k.Text)
	}
	// Every kind of notification has its sentences in English.
	for _, kind := range rapport.NotificationKinds {
		title, body := c.Notification(mail.Notice{Kind: kind, Facts: map[string]any{"Customer": "Ada"}})
		if strings.HasPrefix(title, "notify.") || strings.HasPrefix(body, "notify.") {
			t.Errorf("the %s notification has no wording: %q, %q", kind, title, body)
		}
	}
}

// TestParseURL reads SMTP URLs and refuses what is not one.
func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want mail.Server
	}{
		{"smtp://mail.example.com", mail.Server{Host: "mail.example.com", Port: "587"}},
		{"smtp://u:p%40ss@mail.example.com:2525", mail.Server{Host: "mail.example.com", Port: "2525", Username: "u", Password: "p@ss"}},
		{"smtps://u@mail.example.com", mail.Server{Host: "mail.example.com", Port: "465", ImplicitTLS: true, Username: "u"}},
		{"smtp://[::1]:25/", mail.Server{Host: "::1", Port: "25"}},
	} {
		got, err := mail.ParseURL(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseURL(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "mail.example.com", "http://mail.example.com", "smtp://", "smtp:///x", "smtp://h/path",
		"smtp://h?x=1", "smtp://:p@h", "smtp:opaque"} {
		if got, err := mail.ParseURL(bad); err == nil {
			t.Errorf("ParseURL(%q) = %+v; want an error", bad, got)
		}
	}
}

// FuzzParseURL: whatever the URL, ParseURL returns a host without line
// breaks and a port, or an error.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"smtp://u:p@h:25", "smtps://h", "smtp://h%0d%0a:25", "smtp://[::1]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		srv, err := mail.ParseURL(s)
		if err != nil {
			return
		}
		if srv.Host == "" || srv.Port == "" || strings.ContainsAny(srv.Host, "\r\n") {
			t.Errorf("ParseURL(%q) = %+v", s, srv)
		}
	})
}

// TestCataloguesOverride: a firm's catalogue replaces the sentences it
// names and keeps the rest; a broken one is refused with its file named.
func TestCataloguesOverride(t *testing.T) {
	firm := fstest.MapFS{"en.json": {Data: []byte(`{"invitation.subject": "Tell {{.Firm}} about your {{.Touchpoint}}"}`)}}
	c, err := mail.LoadCatalogues(firm)
	if err != nil {
		t.Fatal(err)
	}
	e := invitation(c, "en")
	if e.Subject != "Tell Harbour Bank about your Opening an account" || !strings.Contains(e.Text, "Tell us how it went") {
		t.Errorf("with the firm's wording: %q\n%s", e.Subject, e.Text)
	}
	for name, data := range map[string]string{"bad JSON": `{"x": `, "bad template": `{"invitation.subject": "{{.Firm"}`} {
		if _, err := mail.LoadCatalogues(fstest.MapFS{"en.json": {Data: []byte(data)}}); err == nil || !strings.Contains(err.Error(), "en.json") {
			t.Errorf("LoadCatalogues(%s) = %v; want an error naming en.json", name, err)
		}
	}
}

// FuzzChoose: whatever the Accept-Language header, Choose answers a
// language that has a catalogue.
func FuzzChoose(f *testing.F) {
	c := mail.MustCatalogues()
	for _, s := range []string{"", "es", "de-DE, es;q=0.8", "*", ",,;;", "ES-mx"} {
		f.Add("", s)
	}
	f.Fuzz(func(t *testing.T, want, header string) {
		if got := c.Choose(want, header); !c.Has(got) {
			t.Errorf("Choose(%q, %q) = %q, which has no catalogue", want, header, got)
		}
	})
}
