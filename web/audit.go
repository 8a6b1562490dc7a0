package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/csvio"
)

// The audit log's page, for admins: every change, who made it, from where
// and when, filtered and paged; and its retention, on the settings page.

// auditPageSize is how many entries a page of the audit log shows.
const auditPageSize = 50

// auditEntityTypes are the kinds of thing the audit log records changes to.
var auditEntityTypes = []string{"customer", "user", "token", "webhook", "touchpoint", "response", "standard",
	"segment", "promise", "case", "holding", "product", "alert", "survey_link", "stage_rules",
	"recovery_policy", "audit_settings", "import"}

var auditActions = []string{rapport.AuditCreate, rapport.AuditUpdate, rapport.AuditDelete, rapport.AuditRevoke, rapport.AuditImport}

// auditData is the audit page: its filter, the entries and the pages.
type auditData struct {
	Filter        *form
	Staff         []*rapport.User
	EntityTypes   []string
	Actions       []string
	Entries       []auditRow
	Next          string
	Paged         bool
	RetentionDays int
	// Query is the filter's query, for the export link.
	Query string
}

// auditRow is one entry as the page shows it.
type auditRow struct {
	E       *rapport.AuditEntry
	Who     string
	Link    string // the thing changed, when it has a page
	Changes []auditFieldChange
}

type auditFieldChange struct{ Field, Before, After string }

func (s *server) auditPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		q := r.URL.Query()
		d := auditData{Filter: newForm(q), EntityTypes: auditEntityTypes, Actions: auditActions}
		f, _ := auditFilterOf(d.Filter)
		f.Limit, f.Cursor = auditPageSize, q.Get("cursor")
		filters := url.Values{}
		for k, v := range q {
			if k != "cursor" {
				filters[k] = v
			}
		}
		d.Query = filters.Encode()
		var err error
		if d.Staff, err = s.Users.FindUsers(ctx, rapport.UserFilter{}); err != nil {
			s.serverError(w, r, err)
			return
		}
		d.Staff = activeFirst(d.Staff)
		settings, err := s.Audit.AuditSettings(ctx)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		d.RetentionDays = settings.RetentionDays
		status := http.StatusOK
		if d.Filter.Invalid() {
			status = http.StatusUnprocessableEntity
			s.render(w, r, status, "audit", "", s.newPage(r, "Audit log", "settings", d))
			return
		}
		page, err := s.Audit.FindAudit(ctx, f)
		if rapport.ErrorCode(err) == rapport.EINVALID && f.Cursor != "" {
			f.Cursor = "" // a stale or mangled cursor: start again
			page, err = s.Audit.FindAudit(ctx, f)
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		names := map[string]string{}
		for _, u := range d.Staff {
			names[u.ID] = u.Name
		}
		for _, e := range page.Items {
			d.Entries = append(d.Entries, auditRowOf(e, names))
		}
		d.Paged = f.Cursor != ""
		if page.NextCursor != "" {
			filters.Set("cursor", page.NextCursor)
			d.Next = "/settings/audit?" + filters.Encode()
		}
		s.render(w, r, status, "audit", "", s.newPage(r, "Audit log", "settings", d))
	})
}

// auditFilterOf reads the page's filters, marking on the form the dates
// that are not valid and saying whether there were any.
func auditFilterOf(fm *form) (rapport.AuditFilter, bool) {
	f := rapport.AuditFilter{Actor: fm.Get("actor"), EntityType: fm.Get("entity_type"),
		EntityID: fm.Get("entity_id"), Action: fm.Get("action")}
	for _, p := range []struct {
		name string
		dst  *time.Time
		days int
	}{{"from", &f.From, 0}, {"to", &f.To, 1}} {
		if v := fm.Get(p.name); v != "" {
			t, err := time.Parse(time.DateOnly, v)
			if err != nil || t.Year() < 1900 || t.Year() > 2999 {
				fm.Errors[p.name] = "Enter a date such as 2026-03-01."
				continue
			}
			// "To" a day includes that day.
			*p.dst = t.AddDate(0, 0, p.days)
		}
	}
	return f, fm.Invalid()
}

// auditRowOf says who made a change and what it changed, in words.
func auditRowOf(e *rapport.AuditEntry, names map[string]string) auditRow {
	row := auditRow{E: e}
	switch {
	case e.Actor == rapport.ActorCLI:
		row.Who = "Command line"
	case e.Actor == rapport.ActorSystem:
		row.Who = "Rapport"
	case strings.HasPrefix(e.Actor, "token:"):
		row.Who = "API token " + e.TokenID
	case names[e.Actor] != "":
		row.Who = names[e.Actor]
	default:
		row.Who = "User " + e.Actor
	}
	if e.TokenID != "" && !strings.HasPrefix(e.Actor, "token:") {
		row.Who += " (API token " + e.TokenID + ")"
	}
	switch e.EntityType {
	case "customer":
		row.Link = "/customers/" + url.PathEscape(e.EntityID)
	case "touchpoint":
		row.Link = "/touchpoints/" + url.PathEscape(e.EntityID)
	case "segment":
		row.Link = "/segments/" + url.PathEscape(e.EntityID)
	case "case":
		row.Link = "/cases/" + url.PathEscape(e.EntityID)
	case "webhook":
		row.Link = webhookPath(e.EntityID)
	}
	if e.Action == rapport.AuditDelete {
		row.Link = ""
	}
	for _, field := range e.AuditFields() {
		c := e.Changes[field]
		row.Changes = append(row.Changes, auditFieldChange{Field: field, Before: auditValueText(c.Before), After: auditValueText(c.After)})
	}
	return row
}

// auditValueText shows a kept value: absent as a dash, lists joined.
func auditValueText(v any) string {
	switch v := v.(type) {
	case nil:
		return "—"
	case string:
		return v
	case []any:
		parts := make([]string, len(v))
		for i, p := range v {
			parts[i] = auditValueText(p)
		}
		return strings.Join(parts, ", ")
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// auditExport sends the entries the page's filters select as CSV.
func (s *server) auditExport() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, problems := auditFilterOf(newForm(r.URL.Query()))
		if problems {
			s.renderError(w, r, http.StatusBadRequest, "The dates of the filter are not valid; enter dates such as 2026-03-01.")
			return
		}
		out := s.startExport(w, "audit")
		aw, err := csvio.NewAuditWriter(out)
		if err == nil {
			err = s.Audit.ExportAudit(r.Context(), f, func(e *rapport.AuditEntry) error { return out.row(aw.Write(e)) })
		}
		s.endExport(w, r, out, err, aw.Flush)
	})
}

// auditRetention sets how many days the audit log keeps entries.
func (s *server) auditRetention() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		days, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("retention_days")))
		if err == nil {
			_, err = s.Audit.SetAuditSettings(r.Context(), rapport.AuditSettings{RetentionDays: days})
		} else {
			err = rapport.AuditSettings{}.Validate()
		}
		if rapport.ErrorCode(err) == rapport.EINVALID {
			setFlash(w, r, "The audit log keeps entries for 7 to 3650 days; nothing was changed.")
			redirect(w, r, "/settings#audit")
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		setFlash(w, r, fmt.Sprintf("The audit log now keeps entries for %d days.", days))
		redirect(w, r, "/settings#audit")
	})
}
