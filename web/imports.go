package web

import (
	"bufio"
	"net/http"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/csvio"
)

// importKind is what an import page takes: moments or customers.
type importKind struct {
	Name     string // "moments" or "customers"
	Title    string
	Path     string // where the form posts
	Back     string // the page the import belongs to
	BackName string
	Required string   // the columns a file must have, in words
	Columns  []string // every column a file may have
	Nav      string
}

var (
	importMoments = importKind{Name: "moments", Title: "Import moments", Path: "/moments/import", Back: "/moments/new", BackName: "Log a moment",
		Required: "touchpoint, channel and occurred_at columns, and customer_id or customer_external_id", Columns: csvio.MomentColumns, Nav: "log"}
	importCustomers = importKind{Name: "customers", Title: "Import customers", Path: "/customers/import", Back: "/customers", BackName: "Customers",
		Required: "a name column", Columns: append(append([]string{}, csvio.CustomerColumns...), "attributes.<key>"), Nav: "customers"}
)

// importData is the import page's data: the form, and after a post either
// the problems that refused the file or what was imported.
type importData struct {
	Kind     importKind
	FileName string
	DryRun   bool
	Message  string               // why the file was refused, or could not be read
	Problems []rapport.FieldError // by row and column
	Result   *rapport.ImportResult
}

func (s *server) importPage(kind importKind) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderImport(w, r, http.StatusOK, importData{Kind: kind})
	})
}

func (s *server) renderImport(w http.ResponseWriter, r *http.Request, status int, d importData) {
	s.render(w, r, status, "import", "", s.newPage(r, d.Kind.Title, d.Kind.Nav, d))
}

// importFile reads an uploaded file and imports it; a refused file comes
// back with its problems listed by row and column, and nothing written.
func (s *server) importFile(kind importKind) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := importData{Kind: kind, DryRun: r.PostFormValue("dry_run") != ""}
		file, header, err := r.FormFile("file")
		if err != nil {
			d.Message = "Choose a CSV file to import."
			s.renderImport(w, r, http.StatusUnprocessableEntity, d)
			return
		}
		defer file.Close()
		d.FileName = header.Filename
		opt := rapport.ImportOptions{DryRun: d.DryRun}
		var res *rapport.ImportResult
		if kind.Name == "moments" {
			var f *rapport.MomentFile
			if f, err = csvio.ReadMoments(file, s.Clock()); err == nil {
				res, err = s.Imports.ImportMoments(r.Context(), f, opt)
			}
		} else {
			var f *rapport.CustomerFile
			if f, err = csvio.ReadCustomers(file); err == nil {
				res, err = s.Imports.ImportCustomers(r.Context(), f, opt)
			}
		}
		switch rapport.ErrorCode(err) {
		case "":
			d.Result = res
			s.renderImport(w, r, http.StatusOK, d)
		case rapport.EINVALID, rapport.ETOOLARGE, rapport.ECONFLICT:
			d.Message, d.Problems = rapport.ErrorMessage(err), rapport.ErrorFields(err)
			s.renderImport(w, r, http.StatusUnprocessableEntity, d)
		default:
			s.serverError(w, r, err)
		}
	})
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

// exportCustomers sends the customers the list's search selects as CSV.
func (s *server) exportCustomers() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := rapport.CustomerFilter{Query: strings.TrimSpace(r.URL.Query().Get("q"))}
		keys, err := s.Imports.CustomerAttributeKeys(r.Context(), f)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		out := s.startExport(w, "customers")
		cw, _ := csvio.NewCustomerWriter(out, keys)
		err = s.Imports.ExportCustomers(r.Context(), f, func(row *rapport.CustomerRow) error {
			return out.row(cw.Write(row))
		})
		s.endExport(w, r, out, err, cw.Flush)
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
