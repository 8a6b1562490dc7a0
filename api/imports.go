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
		{method: "GET", pattern: "/api/v1/imports/{id}", perm: rapport.PermRead, handler: s.handleGetImport},
		{method: "GET", pattern: "/api/v1/imports/{id}/errors", perm: rapport.PermRead, handler: s.handleImportErrors},
		{method: "POST", pattern: "/api/v1/imports/{id}/cancel", perm: rapport.PermWriteMoments, handler: s.handleCancelImport},
	}
}

// importJobRequest reads an import job's options from a request's query:
// strict, dry_run, delimiter, date_format, key (columns, comma separated)
// and map (FROM:TO pairs, comma separated).
func importJobRequest(r *http.Request, kind string) (rapport.ImportRequest, error) {
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
	if p := rapport.PrincipalFromContext(r.Context()); p != nil {
		req.CreatedBy = p.UserID
	}
	return req, req.Check()
}

func (s *Server) startImport(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := importRequest(r); err != nil {
			writeError(w, r, s.Logger, err)
			return
		}
		req, err := importJobRequest(r, kind)
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
