package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Job is work that falls due as time passes rather than on a request.
type Job struct {
	// Name says which job a log line is about.
	Name string
	// Every is how often the job runs; it runs once at the start as well.
	Every time.Duration
	// Run does the work once, logging what it did.
	Run func(ctx context.Context, logger *slog.Logger) error
}

// OverdueEvery is how often promises past due are broken and overdue cases
// escalated: a promise is broken within a minute of its due time.
const OverdueEvery = time.Minute

// WebhookEvery is how often the webhook outbox is posted: soon enough that
// receivers hear of a moment within seconds, seldom enough that an idle
// server barely asks.
const WebhookEvery = 5 * time.Second

// EmailEvery is how often the email outbox is sent: a survey invitation or
// a notification leaves within seconds of falling due.
const EmailEvery = 5 * time.Second

// DigestEvery is how often the day's digests are looked for: each goes
// within a quarter of an hour of rapport.DigestHour.
const DigestEvery = 15 * time.Minute

// AuditEvery is how often the audit log lets go of the entries older than
// its retention, which is counted in days.
const AuditEvery = time.Hour

// Jobs returns a server's background work over db. Every minute it breaks
// promises past due (which may open recovery cases) and escalates overdue
// cases; every five seconds it posts the webhook deliveries due, as
// opts.Webhooks say; every hour it removes the audit entries past their
// retention; every two seconds it takes up the import jobs waiting; and every sweepEvery, unless that is zero, it sweeps
// what is too costly to keep current per request or changes because time
// passes. Several servers on one database may all run them: each promise,
// case, delivery and alert is changed or raised once regardless.
func Jobs(db *DB, opts Options, sweepEvery time.Duration) []Job {
	jobs := []Job{
		{Name: "promises", Every: OverdueEvery,
			Run: counting("breaking overdue promises", "promises broken", slog.LevelInfo, NewPromiseService(db).BreakOverdue)},
		{Name: "promise reminders", Every: OverdueEvery,
			Run: counting("telling of promises due", "promises due tomorrow told", slog.LevelInfo, NewNotificationService(db).NotifyPromisesDue)},
		{Name: "digests", Every: DigestEvery,
			Run: counting("queueing digests", "digests queued", slog.LevelInfo, NewNotificationService(db).SendDigests)},
		{Name: "cases", Every: OverdueEvery,
			Run: counting("escalating cases", "cases escalated", slog.LevelWarn, NewRecoveryService(db).Escalate)},
		{Name: "webhooks", Every: WebhookEvery,
			Run: counting("delivering webhooks", "webhooks delivered", slog.LevelDebug, NewWebhookService(db, opts.Webhooks).Deliver)},
		{Name: "email", Every: EmailEvery,
			Run: counting("sending email", "emails sent", slog.LevelInfo, NewEmailService(db, opts.Email).Send)},
		{Name: "audit", Every: AuditEvery,
			Run: counting("sweeping the audit log", "audit entries past their retention removed", slog.LevelInfo, NewAuditService(db).SweepAudit)},
		{Name: "imports", Every: ImportEvery, Run: NewImportServiceWith(db, opts.Imports).RunImports},
	}
	if sweepEvery > 0 {
		jobs = append(jobs, Job{Name: "sweep", Every: sweepEvery, Run: sweep(db)})
	}
	return jobs
}

// counting runs work that reports how many things it did, and logs the
// count at level when it is not zero.
func counting(doing, done string, level slog.Level, work func(context.Context) (int, error)) func(context.Context, *slog.Logger) error {
	return func(ctx context.Context, logger *slog.Logger) error {
		n, err := work(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", doing, err)
		}
		if n > 0 {
			logger.Log(ctx, level, done, "count", n)
		}
		return nil
	}
}

// sweep refits the risk model when due, sweeps relationships, counts
// segments, measures outcomes and impact, counts the groups suggestions
// weigh, finds the milestones gesture rules watch for and raises alerts,
// in that order; a step that fails does not stop
// the rest.
func sweep(db *DB) func(context.Context, *slog.Logger) error {
	health, segments, outcomes := NewHealthService(db), NewSegmentService(db), NewOutcomeService(db)
	reports, alerts := NewReportService(db), NewAlertService(db)
	risk, suggestions, gestures := NewRiskService(db), NewSuggestionService(db), NewGestureService(db)
	return func(ctx context.Context, logger *slog.Logger) error {
		var errs []error
		// The risk model learns from outcomes as they arrive; its refit
		// reads without holding up writes and runs at most daily.
		if due, err := risk.RiskDue(ctx); err != nil {
			errs = append(errs, fmt.Errorf("checking the risk model: %w", err))
		} else if due {
			if _, err := risk.RefitRisk(ctx); err != nil {
				errs = append(errs, fmt.Errorf("refitting the risk model: %w", err))
			}
		}
		// A silence is a moment that did not happen: only a sweep sees it.
		if _, err := health.Sweep(ctx); err != nil {
			errs = append(errs, fmt.Errorf("sweeping relationships: %w", err))
		}
		if _, err := segments.CountSegments(ctx); err != nil {
			errs = append(errs, fmt.Errorf("counting segments: %w", err))
		}
		if _, err := outcomes.RefreshOutcomes(ctx); err != nil {
			errs = append(errs, fmt.Errorf("measuring outcomes: %w", err))
		}
		if err := reports.RefreshImpact(ctx); err != nil {
			errs = append(errs, fmt.Errorf("measuring impact: %w", err))
		}
		// Suggestions weigh groups of customers as they are now.
		if err := suggestions.RefreshSuggestionGroups(ctx); err != nil {
			errs = append(errs, fmt.Errorf("counting suggestion groups: %w", err))
		}
		// Milestones are looked for here rather than as moments are
		// recorded: a gesture can wait for the sweep, a moment cannot.
		if n, err := gestures.EvaluateGestures(ctx); err != nil {
			errs = append(errs, fmt.Errorf("finding milestones for gestures: %w", err))
		} else if n > 0 {
			logger.InfoContext(ctx, "gestures suggested on milestones", "count", n)
		}
		raised, err := alerts.EvaluateAlerts(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("evaluating alerts: %w", err))
		}
		for _, a := range raised {
			logger.WarnContext(ctx, "alert raised", "kind", a.Kind, "touchpoint", a.Touchpoint, "message", a.Message)
		}
		return errors.Join(errs...)
	}
}

// RunJobs runs every job at once and then every Every until ctx ends, each
// on its own so that a long sweep delays no promise or delivery. It returns
// when every job has stopped, so that the caller may then close the
// database without cutting an attempt short.
func RunJobs(ctx context.Context, jobs []Job, logger *slog.Logger) {
	var running sync.WaitGroup
	for _, j := range jobs {
		running.Go(func() { j.run(ctx, logger) })
	}
	running.Wait()
}

func (j Job) run(ctx context.Context, logger *slog.Logger) {
	tick := time.NewTicker(j.Every)
	defer tick.Stop()
	for {
		if err := j.Run(ctx, logger); err != nil && ctx.Err() == nil {
			logger.ErrorContext(ctx, "background job failed", "job", j.Name, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
