package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/internal/testsmtp"
	"github.com/rapport-crm/rapport/mail"
	"github.com/rapport-crm/rapport/sqlstore"
)

// BenchmarkEmailSend measures how many emails a second the outbox sender
// hands to an SMTP server on this machine (the test server, in Go, taking
// each message whole and parsing it): 500 invitations are queued, then each
// round sets them pending again and sends them all, claimed in batches,
// four at a time, over kept connections, each recorded as sent.
//
//	go test ./sqlstore -run X -bench EmailSend -benchtime 5x
func BenchmarkEmailSend(b *testing.B) {
	for _, backend := range testdb.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			const n = 500
			ctx := context.Background()
			dsn := backend.DSN(b)
			db, err := sqlstore.Open(ctx, dsn, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			raw := testdb.SQL(b, dsn)
			p := rapport.DefaultSurveyPolicy("query")
			p.Enabled, p.DelayMinutes, p.ReminderDays = true, 0, 0
			if err := sqlstore.NewSurveyPolicyService(db).SetSurveyPolicy(ctx, &p); err != nil {
				b.Fatal(err)
			}
			customers, moments := sqlstore.NewCustomerService(db), sqlstore.NewMomentService(db)
			for i := range n {
				c := &rapport.Customer{Name: fmt.Sprintf("Customer %d", i), Email: fmt.Sprintf("c%d@example.com", i)}
				if err := customers.CreateCustomer(ctx, c); err != nil {
					b.Fatal(err)
				}
				rating := 4
				if _, err := moments.RecordMoment(ctx, &rapport.Moment{CustomerID: c.ID, Touchpoint: "query", Channel: rapport.ChannelPhone,
					OccurredAt: time.Now().Add(-time.Minute), Rating: &rating}); err != nil {
					b.Fatal(err)
				}
			}
			var text, html string
			if err := raw.QueryRow(`SELECT text_body, html_body FROM email_outbox LIMIT 1`).Scan(&text, &html); err != nil {
				b.Fatal(err)
			}
			server := testsmtp.Start(b, testsmtp.Options{Username: "u", Password: "p"})
			srv, _ := mail.ParseURL(server.URL())
			mailer, err := mail.New(srv, mail.Options{From: "care@harbour.example"})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { mailer.Close() })
			sender := sqlstore.NewEmailService(db, sqlstore.EmailOptions{Mailer: mailer})
			reset := `UPDATE email_outbox SET status = 'pending', next_attempt_at = 0, text_body = ?, html_body = ?`
			if backend.Name == "postgres" {
				reset = `UPDATE email_outbox SET status = 'pending', next_attempt_at = 0, text_body = $1, html_body = $2`
			}
			sent := 0
			var elapsed time.Duration
			for b.Loop() {
				b.StopTimer()
				if _, err := raw.Exec(reset, text, html); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				got, err := sender.Send(ctx)
				elapsed += time.Since(start)
				if err != nil || got != n {
					b.Fatalf("Send() = %d, %v; want %d", got, err, n)
				}
				sent += got
			}
			b.ReportMetric(float64(sent)/elapsed.Seconds(), "emails/s")
		})
	}
}
