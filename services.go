package rapport

import "context"

// Services are everything Rapport does, over one store: the store builds
// them together and the API and the web UI take them whole.
type Services struct {
	Customers    CustomerService
	CustomerList CustomerListService
	SavedViews   SavedViewService
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
	Risk         RiskService
	Holdings     HoldingService
	Segments     SegmentService
	Outcomes     OutcomeService
	Recovery     RecoveryService
	Promises     PromiseService
	Surveys      SurveyService
	// SurveyPolicies say which moments invite their customer to a survey.
	SurveyPolicies SurveyPolicyService
	// Emails take customers' unsubscribes.
	Emails EmailService
	// Notifications tell staff what they must act on.
	Notifications NotificationService
	Briefs        BriefService
	Webhooks      WebhookService
	Imports       ImportService
	Audit         AuditService
	Erasure       ErasureService
	Suggestions   SuggestionService
	Today         TodayService
	Variants      VariantService
	Offers        OfferService
	Handovers     HandoverService
	Gestures      GestureService
	// Ping reports whether the store answers; the health check asks it.
	Ping func(ctx context.Context) error
}
