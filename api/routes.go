package api

import (
	"slices"

	"github.com/rapport-crm/rapport"
)

// routeTable lists the whole API, area by area. Every route must be described
// in the OpenAPI document; a test keeps the two in step.
func (s *Server) routeTable() []route {
	return slices.Concat(s.coreRoutes(), s.relationshipRoutes(), s.recoveryRoutes(), s.webhookRoutes(), s.csvRoutes(), s.importRoutes(), s.auditRoutes(), s.surveyRoutes(), s.riskRoutes(), s.personalRoutes(), s.offerRoutes(), s.gestureRoutes(), s.handoverRoutes())
}

// coreRoutes are customers, the touchpoint catalogue and its loop, moments,
// users and tokens.
func (s *Server) coreRoutes() []route {
	read, customers, moments, catalogue, admin, personal := rapport.PermRead, rapport.PermWriteCustomers,
		rapport.PermWriteMoments, rapport.PermWriteCatalogue, rapport.PermManageUsers, rapport.PermPersonalData
	return []route{
		{method: "GET", pattern: "/healthz", public: true, handler: s.handleHealth},
		{method: "GET", pattern: "/metrics", perm: read, handler: s.handleMetrics},
		{method: "GET", pattern: "/api/v1/openapi.json", perm: read, handler: s.handleOpenAPI},
		{method: "GET", pattern: "/api/v1/me", perm: read, handler: s.handleMe},

		{method: "GET", pattern: "/api/v1/customers", perm: read, handler: s.handleListCustomers},
		{method: "POST", pattern: "/api/v1/customers", perm: customers, handler: s.handleCreateCustomer},
		{method: "GET", pattern: "/api/v1/customers/{id}", perm: read, handler: s.handleGetCustomer},
		{method: "PATCH", pattern: "/api/v1/customers/{id}", perm: customers, handler: s.handleUpdateCustomer},
		{method: "DELETE", pattern: "/api/v1/customers/{id}", perm: customers, handler: s.handleDeleteCustomer},
		{method: "GET", pattern: "/api/v1/customers/{id}/timeline", perm: read, handler: s.handleTimeline},
		{method: "POST", pattern: "/api/v1/customers/{id}/erase", perm: personal, handler: s.handleEraseCustomer},
		{method: "GET", pattern: "/api/v1/customers/{id}/export", perm: personal, handler: s.handleExportCustomer},

		{method: "GET", pattern: "/api/v1/touchpoints", perm: read, handler: s.handleListTouchpoints},
		{method: "POST", pattern: "/api/v1/touchpoints", perm: catalogue, handler: s.handleCreateTouchpoint},
		{method: "GET", pattern: "/api/v1/touchpoints/{key}", perm: read, handler: s.handleGetTouchpoint},
		{method: "PATCH", pattern: "/api/v1/touchpoints/{key}", perm: catalogue, handler: s.handleUpdateTouchpoint},

		{method: "GET", pattern: "/api/v1/touchpoints/{key}/trend", perm: read, handler: s.handleTrend},
		{method: "GET", pattern: "/api/v1/touchpoints/{key}/responses", perm: read, handler: s.handleListResponses},
		{method: "POST", pattern: "/api/v1/touchpoints/{key}/responses", perm: catalogue, handler: s.handleCreateResponse},
		{method: "PATCH", pattern: "/api/v1/touchpoints/{key}/responses/{response}", perm: catalogue, handler: s.handleUpdateResponse},
		{method: "POST", pattern: "/api/v1/touchpoints/{key}/responses/{response}/retire", perm: catalogue, handler: s.handleRetireResponse},
		{method: "GET", pattern: "/api/v1/touchpoints/{key}/responses/comparison", perm: read, handler: s.handleCompareResponses},
		{method: "GET", pattern: "/api/v1/touchpoints/{key}/standard", perm: read, handler: s.handleGetStandard},
		{method: "POST", pattern: "/api/v1/touchpoints/{key}/standard", perm: catalogue, handler: s.handlePromote},
		{method: "GET", pattern: "/api/v1/touchpoints/{key}/standards", perm: read, handler: s.handleStandardHistory},

		{method: "GET", pattern: "/api/v1/reports/touchpoints", perm: read, handler: s.handleTouchpointReport},
		{method: "POST", pattern: "/api/v1/reports/touchpoints/impact", perm: catalogue, handler: s.handleRefreshImpact},
		{method: "GET", pattern: "/api/v1/alerts", perm: read, handler: s.handleListAlerts},
		{method: "POST", pattern: "/api/v1/alerts/evaluate", perm: catalogue, handler: s.handleEvaluateAlerts},
		{method: "POST", pattern: "/api/v1/alerts/{id}/acknowledge", perm: catalogue, handler: s.handleAcknowledgeAlert},

		{method: "GET", pattern: "/api/v1/moments", perm: read, handler: s.handleListMoments},
		{method: "POST", pattern: "/api/v1/moments", perm: moments, handler: s.handleRecordMoment},
		{method: "POST", pattern: "/api/v1/moments/batch", perm: moments, handler: s.handleRecordMoments},
		{method: "GET", pattern: "/api/v1/moments/{id}", perm: read, handler: s.handleGetMoment},

		{method: "GET", pattern: "/api/v1/users", perm: read, handler: s.handleListUsers},
		{method: "POST", pattern: "/api/v1/users", perm: admin, handler: s.handleCreateUser},
		{method: "GET", pattern: "/api/v1/users/{id}", perm: read, handler: s.handleGetUser},
		{method: "PATCH", pattern: "/api/v1/users/{id}", perm: admin, handler: s.handleUpdateUser},
		{method: "GET", pattern: "/api/v1/sign-in-holds", perm: admin, handler: s.handleListSignInHolds},
		{method: "DELETE", pattern: "/api/v1/users/{id}/sign-in-hold", perm: admin, handler: s.handleLiftSignInHold},
		{method: "GET", pattern: "/api/v1/tokens", perm: admin, handler: s.handleListTokens},
		{method: "POST", pattern: "/api/v1/tokens", perm: admin, handler: s.handleCreateToken},
		{method: "DELETE", pattern: "/api/v1/tokens/{id}", perm: admin, handler: s.handleRevokeToken},
	}
}
