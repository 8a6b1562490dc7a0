package sqlstore_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
)

// TestJobs checks what a server runs in the background and how often: the
// minute's work and the webhooks whatever the sweep's interval, and the
// sweep only when it has one.
func TestJobs(t *testing.T) {
	db := testdb.SQLite(t, testdb.NewClock(epoch).Now)
	tests := []struct {
		sweepEvery time.Duration
		want       []string // name@interval
	}{
		{0, []string{"promises@1m0s", "promise reminders@1m0s", "digests@15m0s", "cases@1m0s", "webhooks@5s", "email@5s", "audit@1h0m0s", "imports@2s"}},
		{10 * time.Minute, []string{"promises@1m0s", "promise reminders@1m0s", "digests@15m0s", "cases@1m0s", "webhooks@5s", "email@5s", "audit@1h0m0s", "imports@2s", "sweep@10m0s"}},
		{30 * time.Second, []string{"promises@1m0s", "promise reminders@1m0s", "digests@15m0s", "cases@1m0s", "webhooks@5s", "email@5s", "audit@1h0m0s", "imports@2s", "sweep@30s"}},
	}
	for _, tt := range tests {
		var got []string
		for _, j := range sqlstore.Jobs(db, sqlstore.Options{}, tt.sweepEvery) {
			got = append(got, j.Name+"@"+j.Every.String())
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Jobs(sweep every %v) = %q; want %q", tt.sweepEvery, got, tt.want)
		}
	}
}

// TestJobsWithoutSweep runs once each job a server has with no sweep: a
// promise past due is broken, an overdue case escalated and a webhook
// delivered, the last as the options say (here: to loopback).
func TestJobsWithoutSweep(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		rcv := newReceiver(t)
		hooks := sqlstore.NewWebhookService(s.db, sqlstore.WebhookOptions{AllowPrivate: true})
		if _, err := hooks.CreateWebhook(ctx, &rapport.Webhook{URL: rcv.URL, Kinds: []string{rapport.EventMomentRecorded}, Active: true}, ""); err != nil {
			t.Fatal(err)
		}
		staff := s.user(t, "Kate Keeper")
		c := s.customer(t, &rapport.Customer{Name: "Ada", OwnerID: staff.ID})
		promises, recovery := sqlstore.NewPromiseService(s.db), sqlstore.NewRecoveryService(s.db)
		p := &rapport.Promise{CustomerID: c.ID, StaffID: staff.ID, Text: "Call back", DueAt: s.clock.Now().Add(time.Hour)}
		if err := promises.CreatePromise(ctx, p); err != nil {
			t.Fatal(err)
		}
		m := s.moment(c.ID)
		m.Rating = ptr(1)
		s.record(t, m)
		cases, err := recovery.FindCases(ctx, rapport.CaseFilter{CustomerID: c.ID})
		if err != nil || len(cases.Items) != 1 {
			t.Fatalf("cases after a misery moment = %d, %v; want 1", len(cases.Items), err)
		}
		s.clock.Add(30 * 24 * time.Hour) // past the promise's and the case's due times

		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		for _, j := range sqlstore.Jobs(s.db, sqlstore.Options{Webhooks: sqlstore.WebhookOptions{AllowPrivate: true}}, 0) {
			if err := j.Run(ctx, logger); err != nil {
				t.Errorf("job %s = %v", j.Name, err)
			}
		}
		if got, err := promises.FindPromiseByID(ctx, p.ID); err != nil || got.Status != rapport.PromiseBroken {
			t.Errorf("promise after the jobs = %+v, %v; want broken", got, err)
		}
		if got, err := recovery.FindCaseByID(ctx, cases.Items[0].ID); err != nil || !got.Escalated {
			t.Errorf("case after the jobs = %+v, %v; want escalated", got, err)
		}
		if got := rcv.received(); len(got) == 0 {
			t.Error("the receiver heard nothing after the jobs")
		}
	})
}

// TestRunJobs checks that every job runs at once, not an interval later,
// and that RunJobs returns once its context ends.
func TestRunJobs(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan string, 2)
	jobs := []sqlstore.Job{
		{Name: "a", Every: time.Hour, Run: func(context.Context, *slog.Logger) error { ran <- "a"; return nil }},
		{Name: "b", Every: 24 * time.Hour, Run: func(context.Context, *slog.Logger) error { ran <- "b"; return nil }},
	}
	done := make(chan struct{})
	go func() {
		sqlstore.RunJobs(ctx, jobs, slog.New(slog.NewTextHandler(io.Discard, nil)))
		close(done)
	}()
	var got []string
	for range jobs {
		select {
		case name := <-ran:
			got = append(got, name)
		case <-time.After(time.Minute):
			t.Fatalf("jobs run at the start: %q; want a and b", got)
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("RunJobs did not return after its context ended")
	}
}
