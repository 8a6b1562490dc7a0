package api

import (
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// importRoutes start import jobs, which read files of any size in the
// background, and follow them. Starting one needs the right to write that
// kind of data; following one, to read.
func (s *Server) importRoutes() []route {
	return []route{
		{method: "POST", pattern: "/api/v1/imports/moments", perm: rapport.PermWriteMoments, handler: s.startImport(rapport.ImportMomentsKind)},
		{method: "POST", pattern: "/api/v1/imports/customers", perm: rapport.PermWriteCustomers, handler: s.startImport(rapport.ImportCustomersKind)},
		{method: "POST", pattern: "/api/v1/imports/promises", perm: rapport.PermWriteMoments, handler: s.startImport(rapport.ImportPromisesKind)},
		{method: "POST", pattern: "/api/v1/imports/holdings", perm: rapport.PermWriteCustomers, handler: s.startImport(rapport.ImportHoldingsKind)},
		{method: "GET", pattern: "/api/v1/imports/mappings", perm: rapport.PermRead, handler: s.handleListImportMappings},
		{method: "POST", pattern: "/api/v1/imports/mappings", perm: rapport.PermWriteMoments, handler: s.handleSaveImportMapping},
		{method: "DELETE", pattern: "/api/v1/imports/mappings/{id}", perm: rapport.PermWriteMoments, handler: s.handleDeleteImportMapping},
		{method: "GET", pattern: "/api/v1/imports/{id}", perm: rapport.PermRead, handler: s.handleGetImport},
		{method: "GET", pattern: "/api/v1/imports/{id}/errors", perm: rapport.PermRead, handler: s.handleImportErrors},
		{method: "POST", pattern: "/api/v1/imports/{id}/cancel", perm: rapport.PermWriteMoments, handler: s.handleCancelImport},
	}
}

// importJobRequest reads an import job's options from a request's query:
// strict, dry_run, delimiter, date_format, key (columns, comma separated),
// map (FROM:TO pairs, comma separated) and mapping (a saved mapping's id,
// which the other options add to).
func (s *Server) importJobRequest(r *http.Request, kind string) (rapport.ImportRequest, error) {
	req := rapport.ImportRequest{Kind: kind}
	if err := boolParams(r, map[string]*bool{"strict": &req.Strict, "dry_run": &req.DryRun}); err != nil {
		return req, err
	}
	q := r.URL.Query()
	req.FileName, req.Delimiter, req.DateFormat = q.Get("file_name"), q.Get("delimiter"), q.Get("date_format")
	if req.Delimiter == "tab" {
		req.Delimiter = "\t"
	}
	if k := q.Get("key"); k != "" {
		req.Key = strings.Split(k, ",")
	}
	if m := q.Get("map"); m != "" {
		req.Map = map[string]string{}
		for _, pair := range strings.Split(m, ",") {
			from, to, ok := strings.Cut(pair, ":")
			if !ok || strings.TrimSpace(from) == "" || strings.TrimSpace(to) == "" {
				return req, &rapport.Error{Code: rapport.EINVALID, Message: "The query is not valid.",
					Fields: []rapport.FieldError{{Field: "map", Message: "must be pairs FROM:TO separated by commas, as in E-mail:email,Tel:phone"}}}
			}
			req.Map[strings.TrimSpace(from)] = strings.TrimSpace(to)
		}
	}
	if id := q.Get("mapping"); id != "" {
		m, err := s.Imports.FindImportMapping(r.Context(), id)
		if rapport.ErrorCode(err) == rapport.ENOTFOUND {
			return req, &rapport.Error{Code: rapport.EINVALID, Message: "The query is not valid.",
				Fields: []rapport.FieldError{{Field: "mapping", Message: "no saved mapping has this id; GET /api/v1/imports/mappings lists them"}}}
		} else if err != nil {
			return req, err
		}
		if m.Kind != kind {
			return req, &rapport.Error{Code: rapport.EINVALID, Message: "The query is not valid.",
				Fields: []rapport.FieldError{{Field: "mapping", Message: "is a mapping of " + m.Kind + ", not of " + kind}}}
		}
		m.Apply(&req)
	}
	if p := rapport.PrincipalFromContext(r.Context()); p != nil {
		req.CreatedBy = p.UserID
	}
	return req, req.Check()
}

func (s *Server) handleListImportMappings(w http.ResponseWriter, r *http.Request) {
	ms, err := s.Imports.FindImportMappings(r.Context(), r.URL.Query().Get("kind"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, map[string]any{"items": ms})
}

// importMappingInput is what a client sends to save a mapping.
type importMappingInput struct {
	Kind       string            `json:"kind"`
	Name       string            `json:"name"`
	Map        map[string]string `json:"map"`
	Delimiter  string            `json:"delimiter"`
	DateFormat string            `json:"date_format"`
	Key        []string          `json:"key"`
}

func (s *Server) handleSaveImportMapping(w http.ResponseWriter, r *http.Request) {
	var in importMappingInput
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	m := &rapport.ImportMapping{Kind: in.Kind, Name: in.Name, Map: in.Map, Delimiter: in.Delimiter, DateFormat: in.DateFormat, Key: in.Key}
	if m.Delimiter == "tab" {
		m.Delimiter = "\t"
	}
	if err := s.Imports.SaveImportMapping(r.Context(), m); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, m)
}

func (s *Server) handleDeleteImportMapping(w http.ResponseWriter, r *http.Request) {
	if err := s.Imports.DeleteImportMapping(r.Context(), r.PathValue("id")); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) startImport(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := importRequest(r); err != nil {
			writeError(w, r, s.Logger, err)
			return
		}
		req, err := s.importJobRequest(r, kind)
		if err != nil {
			writeError(w, r, s.Logger, err)
			return
		}
		job, err := s.Imports.StartImport(r.Context(), req, keepReading(w, r.Body))
		if err != nil {
			writeError(w, r, s.Logger, err)
			return
		}
		w.Header().Set("Location", "/api/v1/imports/"+job.ID)
		encode(w, http.StatusAccepted, job)
	}
}

// uploadReadTime is how long a client gets to send each part of an
// upload; the server's own read timeout would cut a large file off.
const uploadReadTime = time.Minute

// keepReading returns body read with the server's read deadline moved on
// as the upload arrives, so that a file of gigabytes is received however
// long it takes, while a client that stops sending is still cut off.
func keepReading(w http.ResponseWriter, body io.Reader) io.Reader {
	return &deadlineReader{r: body, rc: http.NewResponseController(w)}
}

type deadlineReader struct {
	r     io.Reader
	rc    *http.ResponseController
	moved time.Time
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	if now := time.Now(); now.Sub(d.moved) > time.Second {
		d.rc.SetReadDeadline(now.Add(uploadReadTime))
		d.moved = now
	}
	return d.r.Read(p)
}

func (s *Server) handleGetImport(w http.ResponseWriter, r *http.Request) {
	job, err := s.Imports.FindImport(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, job)
}

func (s *Server) handleCancelImport(w http.ResponseWriter, r *http.Request) {
	job, err := s.Imports.CancelImport(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, job)
}

func (s *Server) handleImportErrors(w http.ResponseWriter, r *http.Request) {
	report, err := s.Imports.ImportReport(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	defer report.Close()
	out := s.startExport(w, "import-errors", "csv", "text/csv; charset=utf-8")
	_, err = io.Copy(out, report)
	s.endCSV(w, r, out, err, func() error { return nil })
}
