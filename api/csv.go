package api

import (
	"encoding/json"
	"mime"
	"net/http"
	"slices"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/csvio"
)

// csvRoutes import and export moments and customers as CSV: importing
// needs the right to write that kind of data, exporting only to read.
func (s *Server) csvRoutes() []route {
	return []route{
		{method: "POST", pattern: "/api/v1/moments/import", perm: rapport.PermWriteMoments, handler: s.handleImportMoments},
		{method: "GET", pattern: "/api/v1/moments/export", perm: rapport.PermRead, handler: s.handleExportMoments},
		{method: "POST", pattern: "/api/v1/customers/import", perm: rapport.PermWriteCustomers, handler: s.handleImportCustomers},
		{method: "GET", pattern: "/api/v1/customers/export", perm: rapport.PermRead, handler: s.handleExportCustomers},
	}
}

// importRequest checks that the body is CSV and reads the import's options
// from the query.
func importRequest(r *http.Request) (rapport.ImportOptions, error) {
	var opt rapport.ImportOptions
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "text/csv" {
		return opt, rapport.Errorf(rapport.EMEDIATYPE, "Send the file as the body, with Content-Type: text/csv.")
	}
	err = boolParams(r, map[string]*bool{"dry_run": &opt.DryRun, "skip_invalid": &opt.SkipInvalid})
	return opt, err
}

// answerImport answers with what an import did: 201 when it created
// anything, 200 when it did not (all skipped, or a dry run).
func answerImport(w http.ResponseWriter, res *rapport.ImportResult) {
	status := http.StatusOK
	if res.Created > 0 && !res.DryRun {
		status = http.StatusCreated
	}
	encode(w, status, res)
}

func (s *Server) handleImportMoments(w http.ResponseWriter, r *http.Request) {
	opt, err := importRequest(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	file, err := csvio.ReadMoments(r.Body, s.Clock())
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	res, err := s.Imports.ImportMoments(r.Context(), file, opt)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	answerImport(w, res)
}

func (s *Server) handleImportCustomers(w http.ResponseWriter, r *http.Request) {
	opt, err := importRequest(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	file, err := csvio.ReadCustomers(r.Body)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	res, err := s.Imports.ImportCustomers(r.Context(), file, opt)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	answerImport(w, res)
}

// MomentLine is a moment as an export in JSON lines writes it: as the API
// writes a moment, with its customer's external id and its member of
// staff's email beside it, as the CSV has them.
type MomentLine struct {
	*rapport.Moment
	CustomerExternalID string `json:"customer_external_id,omitempty"`
	StaffEmail         string `json:"staff_email,omitempty"`
}

// CustomerLine is a customer as an export in JSON lines writes it.
type CustomerLine struct {
	*rapport.Customer
	OwnerEmail string `json:"owner_email,omitempty"`
}

// exportFormat reads an export's format: csv (the default) or ndjson, one
// JSON object a line. It answers a bad one itself and returns "".
func exportFormat(w http.ResponseWriter, r *http.Request, s *Server) string {
	switch f := r.URL.Query().Get("format"); f {
	case "", "csv":
		return "csv"
	case "ndjson":
		return f
	}
	writeError(w, r, s.Logger, &rapport.Error{Code: rapport.EINVALID, Message: "The query is not valid.",
		Fields: []rapport.FieldError{{Field: "format", Message: "must be csv or ndjson"}}})
	return ""
}

func (s *Server) handleExportMoments(w http.ResponseWriter, r *http.Request) {
	f, fields := momentFilter(r)
	if len(fields) > 0 {
		writeError(w, r, s.Logger, &rapport.Error{Code: rapport.EINVALID, Message: "The query is not valid.", Fields: fields})
		return
	}
	format := exportFormat(w, r, s)
	if format == "" {
		return
	}
	if format == "ndjson" {
		out := s.startExport(w, "moments", "ndjson", "application/x-ndjson")
		enc := json.NewEncoder(out)
		err := s.Imports.ExportMoments(r.Context(), f, func(row *rapport.MomentRow) error {
			return out.row(enc.Encode(MomentLine{&row.Moment, row.CustomerExternalID, row.StaffEmail}), func() error { return nil })
		})
		s.endCSV(w, r, out, err, func() error { return nil })
		return
	}
	out := s.startCSV(w, "moments")
	mw, _ := csvio.NewMomentWriter(out)
	err := s.Imports.ExportMoments(r.Context(), f, func(row *rapport.MomentRow) error {
		return out.row(mw.Write(row), mw.Flush)
	})
	s.endCSV(w, r, out, err, mw.Flush)
}

func (s *Server) handleExportCustomers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if stage := q.Get("stage"); stage != "" && !slices.Contains(rapport.Stages, rapport.Stage(stage)) {
		writeError(w, r, s.Logger, &rapport.Error{Code: rapport.EINVALID, Message: "The query is not valid.",
			Fields: []rapport.FieldError{{Field: "stage", Message: "must be one of " + rapport.StageNames()}}})
		return
	}
	f := rapport.CustomerFilter{Query: q.Get("q"), OwnerID: q.Get("owner_id"), Stage: q.Get("stage")}
	switch exportFormat(w, r, s) {
	case "":
		return
	case "ndjson":
		out := s.startExport(w, "customers", "ndjson", "application/x-ndjson")
		enc := json.NewEncoder(out)
		err := s.Imports.ExportCustomers(r.Context(), f, func(row *rapport.CustomerRow) error {
			return out.row(enc.Encode(CustomerLine{&row.Customer, row.OwnerEmail}), func() error { return nil })
		})
		s.endCSV(w, r, out, err, func() error { return nil })
		return
	}
	keys, err := s.Imports.CustomerAttributeKeys(r.Context(), f)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	out := s.startCSV(w, "customers")
	cw, _ := csvio.NewCustomerWriter(out, keys)
	err = s.Imports.ExportCustomers(r.Context(), f, func(row *rapport.CustomerRow) error {
		return out.row(cw.Write(row), cw.Flush)
	})
	s.endCSV(w, r, out, err, cw.Flush)
}

// csvStream is an export on its way to the client. It knows whether any of
// it has gone out, since until then a failure can still be answered with a
// problem, and after it only by cutting the response short.
type csvStream struct {
	w    http.ResponseWriter
	rc   *http.ResponseController
	sent bool
	rows int
}

// exportFlushRows is how often an export sends what it has: about a page
// of the store's, so memory stays flat however long the export.
const exportFlushRows = rapport.MaxPageSize

// exportWriteTime is how long the client gets to take each part of an
// export; the server's own write timeout would cut a long export off.
const exportWriteTime = time.Minute

func (s *Server) startCSV(w http.ResponseWriter, what string) *csvStream {
	return s.startExport(w, what, "csv", "text/csv; charset=utf-8")
}

// startExport starts a file download named what and the date, of a type.
func (s *Server) startExport(w http.ResponseWriter, what, ext, contentType string) *csvStream {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", `attachment; filename="`+what+"-"+s.Clock().UTC().Format("2006-01-02")+"."+ext+`"`)
	out := &csvStream{w: w, rc: http.NewResponseController(w)}
	out.rc.SetWriteDeadline(time.Now().Add(exportWriteTime))
	return out
}

func (c *csvStream) Write(p []byte) (int, error) {
	c.sent = true
	return c.w.Write(p)
}

// row counts a row written, sending the buffered rows every exportFlushRows.
func (c *csvStream) row(err error, flush func() error) error {
	if err != nil {
		return err
	}
	if c.rows++; c.rows%exportFlushRows == 0 {
		if err := flush(); err != nil {
			return err
		}
		c.rc.Flush()
		c.rc.SetWriteDeadline(time.Now().Add(exportWriteTime))
	}
	return nil
}

// endCSV finishes an export. A failure before anything was sent is an
// ordinary problem answer; after, the connection is cut, so the client sees
// an error rather than a file that looks whole but is not.
func (s *Server) endCSV(w http.ResponseWriter, r *http.Request, out *csvStream, err error, flush func() error) {
	if err == nil {
		err = flush()
	}
	if err == nil {
		return
	}
	if !out.sent {
		w.Header().Del("Content-Disposition")
		writeError(w, r, s.Logger, err)
		return
	}
	if r.Context().Err() == nil {
		s.Logger.ErrorContext(r.Context(), "export failed part way", "path", r.URL.Path, "rows", out.rows, "err", err)
	}
	panic(http.ErrAbortHandler)
}
