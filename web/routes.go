package web

import (
	"net/http"

	"github.com/rapport-crm/rapport"
)

// routes lists every page of the UI. Each route says who may use it:
// public, any signed-in user (signedIn), or a user whose role has a
// permission (allowed). Every POST is also checked for its CSRF token.
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /static/", s.serveStatic())

	mux.Handle("GET /signin", s.signInPage())
	mux.Handle("POST /signin", s.signIn())
	mux.Handle("POST /signout", s.signedIn(s.signOut()))

	mux.Handle("GET /{$}", s.signedIn(s.dashboardPage()))
	mux.Handle("GET /today", s.allowed(rapport.PermWriteMoments, s.todayPage()))

	mux.Handle("GET /customers", s.signedIn(s.customersPage()))
	mux.Handle("GET /customers/new", s.allowed(rapport.PermWriteCustomers, s.customerNewPage()))
	// CSV files: importing needs the right to write that kind of data, as in
	// the API; anyone signed in may export what they can read.
	mux.Handle("GET /customers/import", s.allowed(rapport.PermWriteCustomers, s.importPage(importCustomers)))
	mux.Handle("POST /customers/import", s.allowed(rapport.PermWriteCustomers, s.importFile(importCustomers)))
	mux.Handle("GET /customers/export", s.signedIn(s.exportCustomers()))
	// Saved views of the list are each user's own.
	mux.Handle("POST /customers/views", s.signedIn(s.viewSave()))
	mux.Handle("POST /customers/views/{id}/delete", s.signedIn(s.viewDelete()))
	mux.Handle("GET /moments/import", s.allowed(rapport.PermWriteMoments, s.importPage(importMoments)))
	mux.Handle("POST /moments/import", s.allowed(rapport.PermWriteMoments, s.importFile(importMoments)))
	mux.Handle("GET /promises/import", s.allowed(rapport.PermWriteMoments, s.importPage(importPromises)))
	mux.Handle("POST /promises/import", s.allowed(rapport.PermWriteMoments, s.importFile(importPromises)))
	mux.Handle("GET /holdings/import", s.allowed(rapport.PermWriteCustomers, s.importPage(importHoldings)))
	mux.Handle("POST /holdings/import", s.allowed(rapport.PermWriteCustomers, s.importFile(importHoldings)))
	for _, k := range importKinds {
		perm := rapport.PermWriteMoments
		if k.Name == rapport.ImportCustomersKind || k.Name == rapport.ImportHoldingsKind {
			perm = rapport.PermWriteCustomers
		}
		mux.Handle("POST "+k.Path+"/mappings/{id}/delete", s.allowed(perm, s.deleteImportMapping(k)))
	}
	mux.Handle("GET /imports/{id}", s.allowed(rapport.PermRead, s.importJob()))
	mux.Handle("GET /imports/{id}/errors", s.allowed(rapport.PermRead, s.importErrors()))
	mux.Handle("POST /imports/{id}/cancel", s.allowed(rapport.PermWriteMoments, s.cancelImport()))
	mux.Handle("GET /moments/export", s.signedIn(s.exportMoments()))
	mux.Handle("POST /customers", s.allowed(rapport.PermWriteCustomers, s.customerCreate()))
	mux.Handle("GET /customers/{id}", s.signedIn(s.customerPage()))
	mux.Handle("GET /customers/{id}/timeline", s.signedIn(s.timelinePage()))
	mux.Handle("GET /customers/{id}/edit", s.allowed(rapport.PermWriteCustomers, s.customerEditPage()))
	mux.Handle("POST /customers/{id}", s.allowed(rapport.PermWriteCustomers, s.customerUpdate()))
	mux.Handle("POST /customers/{id}/moments", s.allowed(rapport.PermWriteMoments, s.customerLogMoment()))
	mux.Handle("GET /customers/{id}/export", s.allowed(rapport.PermPersonalData, s.exportCustomer()))
	mux.Handle("GET /customers/{id}/erase", s.allowed(rapport.PermPersonalData, s.erasePage()))
	mux.Handle("POST /customers/{id}/erase", s.allowed(rapport.PermPersonalData, s.eraseCustomer()))

	mux.Handle("GET /moments/new", s.allowed(rapport.PermWriteMoments, s.quickEntryPage()))
	mux.Handle("GET /moments/new/customers", s.allowed(rapport.PermWriteMoments, s.quickEntryCustomers()))
	mux.Handle("POST /moments", s.allowed(rapport.PermWriteMoments, s.quickEntryLog()))
	mux.Handle("GET /moments/new/response", s.allowed(rapport.PermWriteMoments, s.responseField()))

	mux.Handle("GET /touchpoints", s.signedIn(s.touchpointsPage()))
	mux.Handle("GET /touchpoints/new", s.allowed(rapport.PermWriteCatalogue, s.touchpointNewPage()))
	mux.Handle("POST /touchpoints", s.allowed(rapport.PermWriteCatalogue, s.touchpointCreate()))
	mux.Handle("GET /touchpoints/{key}/edit", s.allowed(rapport.PermWriteCatalogue, s.touchpointEditPage()))
	mux.Handle("POST /touchpoints/{key}", s.allowed(rapport.PermWriteCatalogue, s.touchpointUpdate()))

	// The loop: the services do not check roles, so every change here is
	// limited to those who may change the catalogue (managers and admins).
	mux.Handle("GET /touchpoints/{key}", s.signedIn(s.touchpointPage()))
	mux.Handle("POST /touchpoints/{key}/responses", s.allowed(rapport.PermWriteCatalogue, s.responseCreate()))
	mux.Handle("POST /touchpoints/{key}/responses/{response}/status", s.allowed(rapport.PermWriteCatalogue, s.responseSetStatus()))
	mux.Handle("POST /touchpoints/{key}/responses/{response}/tags", s.allowed(rapport.PermWriteCatalogue, s.responseSetTags()))
	mux.Handle("POST /touchpoints/{key}/standard", s.allowed(rapport.PermWriteCatalogue, s.standardPromote()))
	mux.Handle("GET /touchpoints/{key}/survey", s.allowed(rapport.PermWriteCatalogue, s.surveyPolicyPage()))
	mux.Handle("POST /touchpoints/{key}/survey", s.allowed(rapport.PermWriteCatalogue, s.surveyPolicySave()))
	mux.Handle("POST /touchpoints/{key}/variants", s.allowed(rapport.PermWriteCatalogue, s.variantPromote()))
	mux.Handle("GET /alerts", s.signedIn(s.alertsPage()))
	mux.Handle("GET /notifications", s.signedIn(s.notificationsPage()))
	mux.Handle("POST /notifications/read", s.signedIn(s.notificationsRead()))
	mux.Handle("POST /notifications/settings", s.signedIn(s.notificationsSettings()))
	mux.Handle("POST /alerts/{id}/acknowledge", s.allowed(rapport.PermWriteCatalogue, s.alertAcknowledge()))

	// Recovery cases, promises, survey links and the handover brief: as in
	// the API, those who record moments (agents and above) work them, and
	// everyone may read them.
	mux.Handle("GET /cases", s.signedIn(s.casesPage()))
	mux.Handle("GET /cases/{id}", s.signedIn(s.casePage()))
	mux.Handle("POST /cases/{id}/assign", s.allowed(rapport.PermWriteMoments, s.caseAssign()))
	mux.Handle("POST /cases/{id}/notes", s.allowed(rapport.PermWriteMoments, s.caseNote()))
	mux.Handle("POST /cases/{id}/resolve", s.allowed(rapport.PermWriteMoments, s.caseResolve()))
	mux.Handle("POST /cases/{id}/reopen", s.allowed(rapport.PermWriteMoments, s.caseReopen()))
	mux.Handle("GET /promises", s.signedIn(s.promisesPage()))
	mux.Handle("POST /promises/{id}/status", s.allowed(rapport.PermWriteMoments, s.promiseSetStatus()))
	mux.Handle("POST /customers/{id}/promises", s.allowed(rapport.PermWriteMoments, s.promiseCreate()))
	mux.Handle("POST /moments/{id}/survey", s.allowed(rapport.PermWriteMoments, s.surveyCreate()))
	mux.Handle("GET /customers/{id}/brief", s.signedIn(s.briefPage()))
	mux.Handle("GET /reports/recovery", s.signedIn(s.recoveryReportPage()))
	mux.Handle("GET /reports/promises", s.signedIn(s.promiseReportPage()))

	// Relationships, as in the API: agents and above set stages and keep
	// holdings; managers and admins keep segments; everyone reads.
	mux.Handle("POST /customers/{id}/stage", s.allowed(rapport.PermWriteCustomers, s.stageSet()))
	mux.Handle("POST /customers/{id}/stage/accept", s.allowed(rapport.PermWriteCustomers, s.stageAccept()))
	mux.Handle("POST /customers/{id}/stage/release", s.allowed(rapport.PermWriteCustomers, s.stageRelease()))
	mux.Handle("POST /customers/{id}/stage/dismiss", s.allowed(rapport.PermWriteCustomers, s.stageDismiss()))
	mux.Handle("POST /customers/{id}/holdings", s.allowed(rapport.PermWriteCustomers, s.holdingAdd()))
	mux.Handle("POST /customers/{id}/holdings/{holding}/end", s.allowed(rapport.PermWriteCustomers, s.holdingEnd()))

	mux.Handle("GET /segments", s.signedIn(s.segmentsPage()))
	mux.Handle("GET /segments/new", s.allowed(rapport.PermWriteCatalogue, s.segmentNewPage()))
	mux.Handle("POST /segments", s.allowed(rapport.PermWriteCatalogue, s.segmentSave()))
	mux.Handle("GET /segments/preview", s.allowed(rapport.PermWriteCatalogue, s.segmentPreview()))
	mux.Handle("GET /segments/{id}", s.signedIn(s.segmentPage()))
	mux.Handle("GET /segments/{id}/outcomes", s.signedIn(s.segmentOutcomes()))
	mux.Handle("GET /segments/{id}/edit", s.allowed(rapport.PermWriteCatalogue, s.segmentEditPage()))
	mux.Handle("POST /segments/{id}", s.allowed(rapport.PermWriteCatalogue, s.segmentSave()))
	mux.Handle("POST /segments/{id}/delete", s.allowed(rapport.PermWriteCatalogue, s.segmentDelete()))
	mux.Handle("GET /reports/outcomes", s.signedIn(s.outcomesPage()))
	mux.Handle("GET /reports/risk", s.signedIn(s.riskPage()))
	mux.Handle("POST /reports/risk/refit", s.allowed(rapport.PermWriteCatalogue, s.riskRefit()))
	s.offerRoutes(mux)
	s.gestureRoutes(mux)
	s.handoverRoutes(mux)

	// Settings: webhooks, API tokens and the audit log, for admins only, as
	// in the API.
	admin := rapport.PermManageUsers
	mux.Handle("GET /settings", s.allowed(admin, s.settingsPage()))
	mux.Handle("POST /settings/webhooks", s.allowed(admin, s.webhookCreate()))
	mux.Handle("GET /settings/webhooks/{id}", s.allowed(admin, s.webhookPage()))
	mux.Handle("POST /settings/webhooks/{id}/active", s.allowed(admin, s.webhookSetActive()))
	mux.Handle("POST /settings/webhooks/{id}/test", s.allowed(admin, s.webhookTest()))
	mux.Handle("POST /settings/webhooks/{id}/delete", s.allowed(admin, s.webhookDelete()))
	mux.Handle("POST /settings/tokens", s.allowed(admin, s.tokenCreate()))
	mux.Handle("POST /settings/tokens/{id}/revoke", s.allowed(admin, s.tokenRevoke()))
	mux.Handle("POST /settings/sign-in-holds/{id}/lift", s.allowed(admin, s.signInHoldLift()))
	mux.Handle("GET /settings/audit", s.allowed(admin, s.auditPage()))
	mux.Handle("GET /settings/audit/export", s.allowed(admin, s.auditExport()))
	mux.Handle("POST /settings/audit", s.allowed(admin, s.auditRetention()))
	mux.Handle("GET /settings/users", s.allowed(admin, s.usersPage()))
	mux.Handle("POST /settings/users", s.allowed(admin, s.userCreate()))
	mux.Handle("POST /settings/users/{id}", s.allowed(admin, s.userUpdate()))
	mux.Handle("POST /settings/users/{id}/active", s.allowed(admin, s.userActive()))
	// Service rules, as in the API: managers and admins change them.
	rules := rapport.PermWriteCatalogue
	mux.Handle("GET /settings/rules", s.allowed(rules, s.rulesPage()))
	mux.Handle("POST /settings/recovery-policy", s.allowed(rules, s.policySave()))
	mux.Handle("POST /settings/service-levels", s.allowed(rules, s.levelsSave()))
	mux.Handle("POST /settings/stage-rules", s.allowed(rules, s.stageRulesSave()))

	mux.Handle("/", s.signedIn(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderError(w, r, http.StatusNotFound, "There is no page at this address.")
	})))

	var h http.Handler = mux
	h = s.refuseBadText(h)
	h = s.checkCSRF(h)
	h = s.loadSession(h)
	h = http.NewCrossOriginProtection().Handler(h)
	h = s.recoverPanics(h)
	h = securityHeaders(h)
	return h
}
