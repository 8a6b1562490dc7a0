package web

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/rapport-crm/rapport"
)

// Handovers: a manager hands one customer, a segment or all of a leaving
// person's customers to a new owner in one step.

// handoverRoutes adds the handover form, for managers and admins, as in
// the API.
func (s *server) handoverRoutes(mux *http.ServeMux) {
	mux.Handle("GET /handovers/new", s.allowed(rapport.PermWriteCatalogue, s.handoverPage()))
	mux.Handle("POST /handovers", s.allowed(rapport.PermWriteCatalogue, s.handoverCreate()))
	mux.Handle("GET /reports/handovers", s.signedIn(s.handoverReportPage()))
}

// handoverReportPage shows the effect of the last year's handovers.
func (s *server) handoverReportPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep, err := s.Handovers.HandoverReport(r.Context(), rapport.HandoverReportFilter{})
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		d := handoverReportData{Report: rep, MatchedOn: matchedOnText(rep.MatchedOn)}
		for _, g := range rep.Groups {
			v := handoverGroupView{Name: g.Name, Kind: g.Kind, Customers: g.Customers, Unmatched: g.Unmatched}
			var bands []string
			for _, b := range g.RiskBands {
				bands = append(bands, fmt.Sprintf("%s %s (%s comparable)", b.Band, commas(int64(b.Customers)), commas(int64(b.Comparables))))
			}
			v.Bands = strings.Join(bands, ", ")
			for _, e := range g.Effects {
				v.Rows = append(v.Rows, handoverRow{Name: e.Name, Hurt: e.Hurt, Before: offerValue(e.Unit, e.Before),
					After: offerValue(e.Unit, e.After), Comparable: signedOrDash(e.Unit, e.ComparableChange, e.Key != "dissolution"),
					Difference: signedOrDash(e.Unit, e.Difference, true), Interval: intervalText(e.Unit, e.Low, e.High)})
			}
			d.Groups = append(d.Groups, v)
		}
		s.render(w, r, http.StatusOK, "report_handovers", "", s.newPage(r, "Handover effect", "customers", d))
	})
}

type handoverReportData struct {
	Report    *rapport.HandoverReport
	MatchedOn string
	Groups    []handoverGroupView
}

type handoverGroupView struct {
	Name, Kind           string
	Customers, Unmatched int
	// Bands are the handed customers by risk band on the day, in words.
	Bands string
	Rows  []handoverRow
}

// matchedOnText names what comparable customers were matched on.
func matchedOnText(keys []string) string {
	words := map[string]string{"day": "day", "stage": "stage", "risk_band": "risk band"}
	var out []string
	for _, k := range keys {
		out = append(out, cmp.Or(words[k], k))
	}
	switch len(out) {
	case 0:
		return ""
	case 1:
		return "the " + out[0]
	}
	return "the " + strings.Join(out[:len(out)-1], ", ") + " and " + out[len(out)-1]
}

type handoverRow struct {
	Name, Before, After, Comparable, Difference, Interval string
	Hurt                                                  bool
}

// signedOrDash writes a difference with its sign, a level as it is, or a dash.
func signedOrDash(unit string, v *float64, diff bool) string {
	switch {
	case v == nil:
		return "–"
	case diff:
		return signedOfferValue(unit, *v)
	}
	return offerValue(unit, v)
}

// intervalText writes an interval of differences, or nothing.
func intervalText(unit string, lo, hi *float64) string {
	if lo == nil || hi == nil {
		return ""
	}
	return signedOfferValue(unit, *lo) + " to " + signedOfferValue(unit, *hi)
}

type handoverFormData struct {
	Form *form
	// Users are everyone whose customers may be handed over, the
	// deactivated last; Active those who may receive them.
	Users, Active []*rapport.User
	Segments      []*rapport.Segment
	Customer      *rapport.Customer // when one customer is handed over
}

func (s *server) handoverPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f := newForm(url.Values{"customer_id": {q.Get("customer")}, "from_owner": {q.Get("from")},
			"move_promises": {"1"}, "move_cases": {"1"}})
		s.renderHandoverForm(w, r, http.StatusOK, f)
	})
}

func (s *server) renderHandoverForm(w http.ResponseWriter, r *http.Request, status int, f *form) {
	d := handoverFormData{Form: f}
	var err error
	if d.Users, err = s.Users.FindUsers(r.Context(), rapport.UserFilter{}); err != nil {
		s.serverError(w, r, err)
		return
	}
	d.Users, d.Active = activeFirst(d.Users), activeOr(d.Users)
	if d.Segments, err = s.Segments.FindSegments(r.Context()); err != nil {
		s.serverError(w, r, err)
		return
	}
	if id := f.Get("customer_id"); id != "" {
		if d.Customer, err = s.Customers.FindCustomerByID(r.Context(), id); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	s.render(w, r, status, "handover_form", "", s.newPage(r, "Hand over customers", "customers", d))
}

// handoverCreate hands over the customers the form names.
func (s *server) handoverCreate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		f := newForm(r.PostForm)
		in := rapport.HandoverInput{Segment: f.Get("segment"), FromOwner: f.Get("from_owner"), ToOwner: f.Get("to_owner"),
			MovePromises: f.Get("move_promises") == "1", MoveCases: f.Get("move_cases") == "1", Note: f.Get("note")}
		if id := f.Get("customer_id"); id != "" {
			in.CustomerIDs, in.Segment, in.FromOwner = []string{id}, "", ""
		}
		if in.Segment != "" && in.FromOwner != "" {
			f.fail("from_owner", "Choose a person or a segment, not both.")
		}
		if in.Segment == "" && in.FromOwner == "" && len(in.CustomerIDs) == 0 {
			f.fail("from_owner", "Choose whose customers to hand over, or a segment.")
		}
		if !f.Invalid() {
			res, err := s.Handovers.HandOver(r.Context(), in)
			if err == nil {
				setFlash(w, r, fmt.Sprintf("Handed over %d customers, %d open promises and %d open cases.", len(res.Customers), res.Promises, res.Cases))
				if len(in.CustomerIDs) == 1 {
					redirect(w, r, "/customers/"+url.PathEscape(in.CustomerIDs[0])+"/brief")
				} else {
					redirect(w, r, "/customers?"+url.Values{"owner_id": {in.ToOwner}}.Encode())
				}
				return
			}
			if !f.fromError(err, map[string]string{"customer_ids": "from_owner", "segment": "segment"}) {
				s.serverError(w, r, err)
				return
			}
		}
		s.renderHandoverForm(w, r, http.StatusUnprocessableEntity, f)
	})
}
