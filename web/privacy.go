package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/rapport-crm/rapport"
)

// A person's requests about their data, for admins: everything held on a
// customer downloaded as JSON, and their personal data erased after a
// confirmation that names them.

// eraseData is the confirmation page's data.
type eraseData struct {
	C    *rapport.Customer
	Form *form
}

func (s *server) erasePage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderErase(w, r, http.StatusOK, newForm(nil))
	})
}

func (s *server) renderErase(w http.ResponseWriter, r *http.Request, status int, f *form) {
	c, err := s.Customers.FindCustomerByID(r.Context(), r.PathValue("id"))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if c.IsErased() {
		setFlash(w, r, "This customer's personal data was erased already.")
		redirect(w, r, customerPath(c.ID))
		return
	}
	s.render(w, r, status, "customer_erase", "", s.newPage(r, "Erase "+c.Name, "customers", eraseData{C: c, Form: f}))
}

// eraseCustomer erases once the name typed is the customer's, ignoring
// case and surrounding spaces.
func (s *server) eraseCustomer() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		f := newForm(r.PostForm)
		id := r.PathValue("id")
		c, err := s.Customers.FindCustomerByID(r.Context(), id)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if !c.IsErased() && !strings.EqualFold(f.Get("confirm_name"), c.Name) {
			f.fail("confirm_name", "That is not the customer's name; nothing was erased.")
			s.renderErase(w, r, http.StatusUnprocessableEntity, f)
			return
		}
		erased, err := s.Erasure.EraseCustomer(r.Context(), id)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		setFlash(w, r, "Personal data erased. The customer is now “"+erased.Name+"”; their moments remain as anonymous counts.")
		redirect(w, r, customerPath(id))
	})
}

// exportCustomer downloads everything held on a customer as JSON.
func (s *server) exportCustomer() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		out := s.startExport(w, "customer")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Disposition", `attachment; filename="customer-`+fileSafe(id)+`.json"`)
		err := s.Erasure.ExportCustomer(r.Context(), id, out)
		s.endExport(w, r, out, err, func() error { return nil })
	})
}

func customerPath(id string) string { return "/customers/" + url.PathEscape(id) }
