package api

import (
	"encoding/json"
	"net/http"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/csvio"
)

// auditRoutes read the audit log and set how long it keeps entries; for
// admins only. No route changes or removes an entry.
func (s *Server) auditRoutes() []route {
	admin := rapport.PermManageUsers
	return []route{
		{method: "GET", pattern: "/api/v1/audit", perm: admin, handler: s.handleListAudit},
		{method: "GET", pattern: "/api/v1/audit/export", perm: admin, handler: s.handleExportAudit},
		{method: "GET", pattern: "/api/v1/audit/settings", perm: admin, handler: s.handleGetAuditSettings},
		{method: "PUT", pattern: "/api/v1/audit/settings", perm: admin, handler: s.handleSetAuditSettings},
	}
}

// auditFilter reads the filters of the audit log from the query.
func auditFilter(r *http.Request) (rapport.AuditFilter, []rapport.FieldError) {
	q := r.URL.Query()
	f := rapport.AuditFilter{Actor: q.Get("actor"), EntityType: q.Get("entity_type"),
		EntityID: q.Get("entity_id"), Action: q.Get("action")}
	return f, queryWindow(q, &f.From, &f.To)
}

func (s *Server) handleListAudit(w http.ResponseWriter, r *http.Request) {
	f, fields := auditFilter(r)
	servePage(s, w, r, fields, func(limit int, cursor string) (rapport.Page[*rapport.AuditEntry], error) {
		f.Limit, f.Cursor = limit, cursor
		return s.Audit.FindAudit(r.Context(), f)
	})
}

// handleExportAudit streams the entries the filters select, newest first,
// as CSV or (format=ndjson) one JSON object a line.
func (s *Server) handleExportAudit(w http.ResponseWriter, r *http.Request) {
	f, fields := auditFilter(r)
	format := r.URL.Query().Get("format")
	if format != "" && format != "csv" && format != "ndjson" {
		fields = append(fields, rapport.FieldError{Field: "format", Message: "must be csv or ndjson"})
	}
	if len(fields) > 0 {
		writeError(w, r, s.Logger, &rapport.Error{Code: rapport.EINVALID, Message: "The query is not valid.", Fields: fields})
		return
	}
	if format == "ndjson" {
		out := s.startExport(w, "audit", "ndjson", "application/x-ndjson")
		enc := json.NewEncoder(out)
		err := s.Audit.ExportAudit(r.Context(), f, func(e *rapport.AuditEntry) error {
			return out.row(enc.Encode(e), func() error { return nil })
		})
		s.endCSV(w, r, out, err, func() error { return nil })
		return
	}
	out := s.startCSV(w, "audit")
	aw, err := csvio.NewAuditWriter(out)
	if err == nil {
		err = s.Audit.ExportAudit(r.Context(), f, func(e *rapport.AuditEntry) error {
			return out.row(aw.Write(e), aw.Flush)
		})
	}
	s.endCSV(w, r, out, err, aw.Flush)
}

func (s *Server) handleGetAuditSettings(w http.ResponseWriter, r *http.Request) {
	settings, err := s.Audit.AuditSettings(r.Context())
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, settings)
}

// auditSettingsInput is the audit settings as sent: a missing field is an
// error, never a reset to the default.
type auditSettingsInput struct {
	RetentionDays *int `json:"retention_days"`
}

func (s *Server) handleSetAuditSettings(w http.ResponseWriter, r *http.Request) {
	var in auditSettingsInput
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	if in.RetentionDays == nil {
		writeError(w, r, s.Logger, &rapport.Error{Code: rapport.EINVALID, Message: "The audit settings are not valid.",
			Fields: []rapport.FieldError{{Field: "retention_days", Message: "is required"}}})
		return
	}
	settings, err := s.Audit.SetAuditSettings(r.Context(), rapport.AuditSettings{RetentionDays: *in.RetentionDays})
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, settings)
}
