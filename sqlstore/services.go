package sqlstore

import "github.com/rapport-crm/rapport"

// Options are how a server's services differ from the defaults.
type Options struct {
	// Webhooks say how webhooks are delivered.
	Webhooks WebhookOptions
	// WrapMoments, when set, wraps the moment service that the API, the web
	// UI and imports record through, as the metrics do to count moments.
	WrapMoments func(rapport.MomentService) rapport.MomentService
}

// NewServices returns every service over db.
func NewServices(db *DB, opts Options) rapport.Services {
	var moments rapport.MomentService = NewMomentService(db)
	if opts.WrapMoments != nil {
		moments = opts.WrapMoments(moments)
	}
	imports := NewImportService(db)
	imports.Moments = moments // imported moments are recorded, and counted, as a batch
	return rapport.Services{
		Customers:    NewCustomerService(db),
		Touchpoints:  NewTouchpointService(db),
		Moments:      moments,
		Timeline:     NewTimelineService(db),
		Users:        NewUserService(db),
		Tokens:       NewTokenService(db),
		Passwords:    NewPasswordService(db),
		Sessions:     NewSessionService(db),
		Dashboard:    NewDashboardService(db),
		Reports:      NewReportService(db),
		Responses:    NewResponseService(db),
		Standards:    NewStandardService(db),
		Alerts:       NewAlertService(db),
		Stages:       NewStageService(db),
		HealthScores: NewHealthService(db),
		Holdings:     NewHoldingService(db),
		Segments:     NewSegmentService(db),
		Outcomes:     NewOutcomeService(db),
		Recovery:     NewRecoveryService(db),
		Promises:     NewPromiseService(db),
		Surveys:      NewSurveyService(db),
		Briefs:       NewBriefService(db),
		Webhooks:     NewWebhookService(db, opts.Webhooks),
		Imports:      imports,
		Ping:         db.Ping,
	}
}
