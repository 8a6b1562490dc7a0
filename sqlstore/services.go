package sqlstore

// Services are every service over one database, for the command line and the
// tests to wire into the API and the web UI from one place.
type Services struct {
	Customers    *CustomerService
	Touchpoints  *TouchpointService
	Moments      *MomentService
	Timeline     *TimelineService
	Users        *UserService
	Tokens       *TokenService
	Passwords    *PasswordService
	Sessions     *SessionService
	Dashboard    *DashboardService
	Reports      *ReportService
	Responses    *ResponseService
	Standards    *StandardService
	Alerts       *AlertService
	Stages       *StageService
	HealthScores *HealthService
	Holdings     *HoldingService
	Segments     *SegmentService
	Outcomes     *OutcomeService
	Recovery     *RecoveryService
	Promises     *PromiseService
	Surveys      *SurveyService
	Briefs       *BriefService
	Webhooks     *WebhookService
	Imports      *ImportService
}

// NewServices returns every service over db.
func NewServices(db *DB) *Services {
	return &Services{
		Customers:    NewCustomerService(db),
		Touchpoints:  NewTouchpointService(db),
		Moments:      NewMomentService(db),
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
		Webhooks:     NewWebhookService(db, WebhookOptions{}),
		Imports:      NewImportService(db),
	}
}
