package web

import (
	"bufio"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/csvio"
)

// importKind is what an import page takes: one of rapport.ImportKinds.
type importKind struct {
	Name     string // one of rapport.ImportKinds
	Title    string
	Path     string // where the form posts
	Back     string // the page the import belongs to
	BackName string
	Required string   // the columns a file must have, in words
	Columns  []string // every column a file may have
	Nav      string
	// Keyed kinds have ids and external ids, and take key columns for
	// rows with neither; the others skip a row equal to a stored record.
	Keyed bool
	Again string // what importing a file again does, in words
}

var (
	importMoments = importKind{Name: "moments", Title: "Import moments", Path: "/moments/import", Back: "/moments/new", BackName: "Log a moment",
		Required: "touchpoint, channel and occurred_at columns, and customer_id or customer_external_id", Columns: csvio.MomentColumns, Nav: "log",
		Keyed: true, Again: keyedAgain}
	importCustomers = importKind{Name: "customers", Title: "Import customers", Path: "/customers/import", Back: "/customers", BackName: "Customers",
		Required: "a name column", Columns: append(append([]string{}, csvio.CustomerColumns...), "attributes.<key>"), Nav: "customers",
		Keyed: true, Again: keyedAgain}
	importPromises = importKind{Name: "promises", Title: "Import promises", Path: "/promises/import", Back: "/promises", BackName: "Promises",
		Required: "text and due_at columns, and customer_id or customer_external_id", Columns: csvio.PromiseColumns, Nav: "promises",
		Again: "A promise to the same customer with the same text and due time as a stored one is skipped, so importing a file again adds nothing twice. An open promise must be due in the future; a kept or broken one is history and records no misery."}
	importHoldings = importKind{Name: "holdings", Title: "Import holdings", Path: "/holdings/import", Back: "/customers", BackName: "Customers",
		Required: "product and started_at columns, and customer_id or customer_external_id", Columns: csvio.HoldingColumns, Nav: "customers",
		Again: "A holding of the same product by the same customer from the same time as a stored one is skipped, so importing a file again adds nothing twice; one whose time overlaps another holding of that product is not valid. Products must be in the catalogue first."}
	importKinds = []importKind{importMoments, importCustomers, importPromises, importHoldings}
)

const keyedAgain = "A row whose id or external id is stored already is skipped, so importing a file again adds nothing twice. An export imports again as it is."

// importData is the import page's data: the form, and after a post the
// message that refused it.
type importData struct {
	Kind     importKind
	MaxBytes string // the largest file the server takes, for people
	Message  string // why the upload was refused
	// Mappings are the firm's saved ways of reading files of this kind.
	Mappings []importMapping
}

// importMapping is a saved mapping as the form offers it: its name, and
// what it does in words.
type importMapping struct {
	ID, Name, Says string
}

// describeMapping says in a few words what a mapping does.
func describeMapping(m *rapport.ImportMapping) string {
	var parts []string
	for _, from := range slices.Sorted(maps.Keys(m.Map)) {
		parts = append(parts, from+" → "+m.Map[from])
	}
	switch m.Delimiter {
	case ";":
		parts = append(parts, "semicolons")
	case "\t":
		parts = append(parts, "tabs")
	}
	if m.DateFormat != "" {
		parts = append(parts, "dates "+m.DateFormat)
	}
	if len(m.Key) > 0 {
		parts = append(parts, "key "+strings.Join(m.Key, ", "))
	}
	return strings.Join(parts, "; ")
}

func (s *server) importPage(kind importKind) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderImport(w, r, http.StatusOK, importData{Kind: kind})
	})
}

func (s *server) renderImport(w http.ResponseWriter, r *http.Request, status int, d importData) {
	d.MaxBytes = byteSize(s.maxUpload())
	ms, err := s.Imports.FindImportMappings(r.Context(), d.Kind.Name)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	for _, m := range ms {
		d.Mappings = append(d.Mappings, importMapping{ID: m.ID, Name: m.Name, Says: describeMapping(m)})
	}
	s.render(w, r, status, "import", "", s.newPage(r, d.Kind.Title, d.Kind.Nav, d))
}

// importFile starts a job that imports the uploaded file in the background
// and shows its progress page.
func (s *server) importFile(kind importKind) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := importData{Kind: kind}
		file, header, err := r.FormFile("file")
		if err != nil {
			d.Message = "Choose a CSV file to import."
			s.renderImport(w, r, http.StatusUnprocessableEntity, d)
			return
		}
		defer file.Close()
		req, err := importRequest(r, kind.Name, header.Filename)
		if err == nil {
			err = s.withMapping(r, &req)
		}
		if err == nil {
			var job *rapport.ImportJob
			if job, err = s.Imports.StartImport(r.Context(), req, file); err == nil {
				http.Redirect(w, r, "/imports/"+job.ID, http.StatusSeeOther)
				return
			}
		}
		switch rapport.ErrorCode(err) {
		case rapport.EINVALID, rapport.ETOOLARGE:
			d.Message = rapport.ErrorMessage(err)
			for _, f := range rapport.ErrorFields(err) {
				d.Message += " " + f.Field + ": " + f.Message + "."
			}
			s.renderImport(w, r, http.StatusUnprocessableEntity, d)
		default:
			s.serverError(w, r, err)
		}
	})
}

// withMapping reads the file as the saved mapping the form picked says,
// the form's own options adding to it, and saves the options under the
// name the form gives, if any, for the next file.
func (s *server) withMapping(r *http.Request, req *rapport.ImportRequest) error {
	if id := r.PostFormValue("mapping"); id != "" {
		m, err := s.Imports.FindImportMapping(r.Context(), id)
		if rapport.ErrorCode(err) == rapport.ENOTFOUND || err == nil && m.Kind != req.Kind {
			return rapport.Errorf(rapport.EINVALID, "The saved mapping picked is gone; pick another.")
		} else if err != nil {
			return err
		}
		m.Apply(req)
	}
	name := strings.TrimSpace(r.PostFormValue("save_as"))
	if name == "" {
		return nil
	}
	return s.Imports.SaveImportMapping(r.Context(), &rapport.ImportMapping{Kind: req.Kind, Name: name, Map: req.Map,
		Delimiter: req.Delimiter, DateFormat: req.DateFormat, Key: req.Key})
}

// deleteImportMapping removes a saved mapping and shows the import page again.
func (s *server) deleteImportMapping(kind importKind) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := s.Imports.DeleteImportMapping(r.Context(), r.PathValue("id"))
		if err != nil && rapport.ErrorCode(err) != rapport.ENOTFOUND {
			s.serverError(w, r, err)
			return
		}
		http.Redirect(w, r, kind.Path, http.StatusSeeOther)
	})
}

// importRequest reads an import's options from its form: a column mapping
// is one FROM=TO a line.
func importRequest(r *http.Request, kind, fileName string) (rapport.ImportRequest, error) {
	req := rapport.ImportRequest{Kind: kind, FileName: fileName, Strict: r.PostFormValue("strict") != "",
		DryRun: r.PostFormValue("dry_run") != "", Delimiter: r.PostFormValue("delimiter"),
		DateFormat: strings.TrimSpace(r.PostFormValue("date_format"))}
	if req.Delimiter == "tab" {
		req.Delimiter = "\t"
	}
	if k := strings.TrimSpace(r.PostFormValue("key")); k != "" {
		for _, c := range strings.Split(k, ",") {
			req.Key = append(req.Key, strings.TrimSpace(c))
		}
	}
	for _, line := range strings.Split(r.PostFormValue("map"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		from, to, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(from) == "" || strings.TrimSpace(to) == "" {
			return req, rapport.Errorf(rapport.EINVALID, "Each line of the column mapping must be FROM=TO, as E-mail=email; %q is not.", strings.TrimSpace(line))
		}
		if req.Map == nil {
			req.Map = map[string]string{}
		}
		req.Map[strings.TrimSpace(from)] = strings.TrimSpace(to)
	}
	if p := rapport.PrincipalFromContext(r.Context()); p != nil {
		req.CreatedBy = p.UserID
	}
	return req, req.Check()
}

// importJobData is an import job's page: its progress, and how it ended.
type importJobData struct {
	Job  *rapport.ImportJob
	Kind importKind
	Pct  int
	Left string // time to the estimated finish, for people
}

// importJob shows a job's progress. Until it ends the progress part asks
// again every second, and htmx swaps in the new one.
func (s *server) importJob() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		job, err := s.Imports.FindImport(r.Context(), r.PathValue("id"))
		if rapport.ErrorCode(err) == rapport.ENOTFOUND {
			s.renderError(w, r, http.StatusNotFound, "No import has that id.")
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		d := importJobData{Job: job, Kind: importMoments}
		for _, k := range importKinds {
			if k.Name == job.Kind {
				d.Kind = k
			}
		}
		if job.Size > 0 {
			d.Pct = int(100 * job.BytesRead / job.Size)
		}
		if job.EstimatedFinish != nil {
			d.Left = job.EstimatedFinish.Sub(s.Clock()).Round(time.Second).String()
		}
		block := ""
		if r.Header.Get("HX-Request") == "true" {
			block = "import-progress"
		}
		s.render(w, r, http.StatusOK, "import_job", block, s.newPage(r, "Import of "+job.FileName, d.Kind.Nav, d))
	})
}

// cancelImport stops a job and shows it again.
func (s *server) cancelImport() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := s.Imports.CancelImport(r.Context(), r.PathValue("id")); err != nil {
			s.serverError(w, r, err)
			return
		}
		http.Redirect(w, r, "/imports/"+r.PathValue("id"), http.StatusSeeOther)
	})
}

// importErrors sends a job's error report.
func (s *server) importErrors() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		report, err := s.Imports.ImportReport(r.Context(), r.PathValue("id"))
		if rapport.ErrorCode(err) == rapport.ENOTFOUND {
			s.renderError(w, r, http.StatusNotFound, "No import has that id.")
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		defer report.Close()
		out := s.startExport(w, "import-errors")
		_, err = io.Copy(out, report)
		s.endExport(w, r, out, err, func() error { return nil })
	})
}

// byteSize writes a size for people: 10 GB, 512 MB, 512 KB.
func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return strconv.FormatFloat(float64(n)/(1<<30), 'f', -1, 64) + " GB"
	case n >= 1<<20:
		return strconv.FormatInt(n>>20, 10) + " MB"
	}
	return strconv.FormatInt(n>>10, 10) + " KB"
}

// exportMoments sends the moments the query selects as CSV; the timeline
// links here with customer_id.
func (s *server) exportMoments() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f := rapport.MomentFilter{CustomerID: q.Get("customer_id"), Touchpoint: q.Get("touchpoint"),
			Channel: rapport.Channel(q.Get("channel")), Outcome: rapport.Outcome(q.Get("outcome")), StaffID: q.Get("staff_id")}
		name := "moments"
		if f.CustomerID != "" {
			c, err := s.Customers.FindCustomerByID(r.Context(), f.CustomerID)
			if err != nil {
				s.serverError(w, r, err)
				return
			}
			name = "moments-" + fileSafe(c.Name)
		}
		out := s.startExport(w, name)
		mw, _ := csvio.NewMomentWriter(out)
		err := s.Imports.ExportMoments(r.Context(), f, func(row *rapport.MomentRow) error {
			return out.row(mw.Write(row))
		})
		s.endExport(w, r, out, err, mw.Flush)
	})
}

// fileSafe makes a name fit to be part of a file name.
func fileSafe(name string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(name) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}

// export is a CSV file on its way to the browser, sent every page of rows;
// it knows whether anything has gone out yet, since until then a failure
// can still be shown as an error page.
type export struct {
	w    *bufio.Writer
	rc   *http.ResponseController
	sent bool
	rows int
}

type sentWriter struct {
	w    http.ResponseWriter
	sent *bool
}

func (s sentWriter) Write(p []byte) (int, error) {
	*s.sent = true
	return s.w.Write(p)
}

func (s *server) startExport(w http.ResponseWriter, name string) *export {
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+name+"-"+s.Clock().UTC().Format("2006-01-02")+`.csv"`)
	h.Set("Cache-Control", "no-store")
	out := &export{rc: http.NewResponseController(w)}
	out.w = bufio.NewWriterSize(sentWriter{w: w, sent: &out.sent}, 64<<10)
	out.rc.SetWriteDeadline(time.Now().Add(time.Minute))
	return out
}

func (e *export) Write(p []byte) (int, error) { return e.w.Write(p) }

// row counts a row and, every page of them, sends what is buffered and
// gives the browser another minute, so a long export is not cut off.
func (e *export) row(err error) error {
	if err != nil {
		return err
	}
	if e.rows++; e.rows%rapport.MaxPageSize == 0 {
		e.rc.SetWriteDeadline(time.Now().Add(time.Minute))
	}
	return nil
}

// endExport finishes an export: a failure before anything was sent shows
// an error page; after, the connection is cut so the browser reports a
// failed download rather than keep a file that looks whole.
func (s *server) endExport(w http.ResponseWriter, r *http.Request, e *export, err error, flush func() error) {
	if err == nil {
		err = flush()
	}
	if err == nil {
		err = e.w.Flush()
	}
	if err == nil {
		return
	}
	if !e.sent {
		w.Header().Del("Content-Disposition")
		s.serverError(w, r, err)
		return
	}
	s.Logger.Error("web: export failed part way", "path", r.URL.Path, "rows", e.rows, "err", err)
	panic(http.ErrAbortHandler)
}
