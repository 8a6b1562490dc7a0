package api

import (
	"bufio"
	"net/http"
	"time"
)

// handleEraseCustomer removes a customer's personal data everywhere,
// keeping their moments as anonymous counts.
func (s *Server) handleEraseCustomer(w http.ResponseWriter, r *http.Request) {
	c, err := s.Erasure.EraseCustomer(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, c)
}

// handleExportCustomer streams everything held on one customer as a JSON
// document, for a subject access request.
func (s *Server) handleExportCustomer(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Disposition", `attachment; filename="customer-`+r.PathValue("id")+`.json"`)
	out := &csvStream{w: w, rc: http.NewResponseController(w)}
	buf := bufio.NewWriterSize(exportWriter{out}, 32<<10)
	err := s.Erasure.ExportCustomer(r.Context(), r.PathValue("id"), buf)
	s.endCSV(w, r, out, err, buf.Flush)
}

// exportWriter sends each full buffer of an export, giving the client a
// fresh exportWriteTime for it.
type exportWriter struct{ *csvStream }

func (e exportWriter) Write(p []byte) (int, error) {
	e.rc.SetWriteDeadline(time.Now().Add(exportWriteTime))
	return e.csvStream.Write(p)
}
