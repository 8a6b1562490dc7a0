package api

import "github.com/rapport-crm/rapport"

// routeTable lists the whole API. Every route here must be described in
// openapi.json; a test keeps the two in step.
func (s *Server) routeTable() []route {
	read, customers, moments, catalogue, admin := rapport.PermRead, rapport.PermWriteCustomers,
		rapport.PermWriteMoments, rapport.PermWriteCatalogue, rapport.PermManageUsers
	return []route{
		{method: "GET", pattern: "/healthz", public: true, handler: s.handleHealth},
		{method: "GET", pattern: "/api/v1/openapi.json", perm: read, handler: s.handleOpenAPI},
		{method: "GET", pattern: "/api/v1/me", perm: read, handler: s.handleMe},

		{method: "GET", pattern: "/api/v1/customers", perm: read, handler: s.handleListCustomers},
		{method: "POST", pattern: "/api/v1/customers", perm: customers, handler: s.handleCreateCustomer},
		{method: "GET", pattern: "/api/v1/customers/{id}", perm: read, handler: s.handleGetCustomer},
		{method: "PATCH", pattern: "/api/v1/customers/{id}", perm: customers, handler: s.handleUpdateCustomer},
		{method: "DELETE", pattern: "/api/v1/customers/{id}", perm: customers, handler: s.handleDeleteCustomer},
		{method: "GET", pattern: "/api/v1/customers/{id}/timeline", perm: read, handler: s.handleTimeline},

		{method: "GET", pattern: "/api/v1/touchpoints", perm: read, handler: s.handleListTouchpoints},
		{method: "POST", pattern: "/api/v1/touchpoints", perm: catalogue, handler: s.handleCreateTouchpoint},
		{method: "GET", pattern: "/api/v1/touchpoints/{key}", perm: read, handler: s.handleGetTouchpoint},
		{method: "PATCH", pattern: "/api/v1/touchpoints/{key}", perm: catalogue, handler: s.handleUpdateTouchpoint},

		{method: "GET", pattern: "/api/v1/moments", perm: read, handler: s.handleListMoments},
		{method: "POST", pattern: "/api/v1/moments", perm: moments, handler: s.handleRecordMoment},
		{method: "POST", pattern: "/api/v1/moments/batch", perm: moments, handler: s.handleRecordMoments},
		{method: "GET", pattern: "/api/v1/moments/{id}", perm: read, handler: s.handleGetMoment},

		{method: "GET", pattern: "/api/v1/users", perm: read, handler: s.handleListUsers},
		{method: "POST", pattern: "/api/v1/users", perm: admin, handler: s.handleCreateUser},
		{method: "GET", pattern: "/api/v1/users/{id}", perm: read, handler: s.handleGetUser},
		{method: "GET", pattern: "/api/v1/tokens", perm: admin, handler: s.handleListTokens},
		{method: "POST", pattern: "/api/v1/tokens", perm: admin, handler: s.handleCreateToken},
		{method: "DELETE", pattern: "/api/v1/tokens/{id}", perm: admin, handler: s.handleRevokeToken},
	}
}
