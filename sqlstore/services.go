package sqlstore

import "github.com/rapport-crm/rapport"

// Options are how a server's services differ from the defaults.
type Options struct {
	// Webhooks say how webhooks are delivered.
	Webhooks WebhookOptions
	// Email says how the email outbox is sent.
	Email EmailOptions
	// Imports say where import jobs keep their files.
	Imports ImportFiles
}

// NewServices returns every service over db.
func NewServices(db *DB, opts Options) rapport.Services {
	return rapport.Services{
		Customers:      NewCustomerService(db),
		CustomerList:   NewCustomerListService(db),
		SavedViews:     NewSavedViewService(db),
		Touchpoints:    NewTouchpointService(db),
		Moments:        NewMomentService(db),
		Timeline:       NewTimelineService(db),
		Users:          NewUserService(db),
		Tokens:         NewTokenService(db),
		Passwords:      NewPasswordService(db),
		Sessions:       NewSessionService(db),
		Dashboard:      NewDashboardService(db),
		Reports:        NewReportService(db),
		Responses:      NewResponseService(db),
		Standards:      NewStandardService(db),
		Alerts:         NewAlertService(db),
		Stages:         NewStageService(db),
		HealthScores:   NewHealthService(db),
		Risk:           NewRiskService(db),
		Holdings:       NewHoldingService(db),
		Segments:       NewSegmentService(db),
		Outcomes:       NewOutcomeService(db),
		Recovery:       NewRecoveryService(db),
		Promises:       NewPromiseService(db),
		Surveys:        NewSurveyService(db),
		SurveyPolicies: NewSurveyPolicyService(db),
		Emails:         NewEmailService(db, opts.Email),
		Notifications:  NewNotificationService(db),
		Briefs:         NewBriefService(db),
		Webhooks:       NewWebhookService(db, opts.Webhooks),
		Imports:        NewImportServiceWith(db, opts.Imports),
		Audit:          NewAuditService(db),
		Erasure:        NewErasureServiceWith(db, opts.Imports),
		Suggestions:    NewSuggestionService(db),
		Today:          NewTodayService(db),
		Variants:       NewVariantService(db),
		Offers:         NewOfferService(db),
		Handovers:      NewHandoverService(db),
		Gestures:       NewGestureService(db),
		Ping:           db.Ping,
	}
}
