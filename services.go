package rapport

import "context"

// Services are everything Rapport does, over one store: the store builds
// them together and the API and the web UI take them whole.
type Services struct {
	Customers    CustomerService
	Touchpoints  TouchpointService
	Moments      MomentService
	Timeline     TimelineService
	Users        UserService
	Tokens       TokenService
	Passwords    PasswordService
	Sessions     SessionService
	Dashboard    DashboardService
	Reports      ReportService
	Responses    ResponseService
	Standards    StandardService
	Alerts       AlertService
	Stages       StageService
	HealthScores HealthService
	Holdings     HoldingService
	Segments     SegmentService
	Outcomes     OutcomeService
	Recovery     RecoveryService
	Promises     PromiseService
	Surveys      SurveyService
	Briefs       BriefService
	Webhooks     WebhookService
	Imports      ImportService
	Audit        AuditService
	Erasure      ErasureService
	Offers       OfferService
	Handovers    HandoverService
	// Ping reports whether the store answers; the health check asks it.
	Ping func(ctx context.Context) error
}
