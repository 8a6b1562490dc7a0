package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rapport-crm/rapport"
)

// touchpointsData is the touchpoints page's data: every touchpoint measured
// over the window and ranked by priority, the priority matrix, and the
// catalogue.
type touchpointsData struct {
	Touchpoints []*rapport.Touchpoint
	Window      reportWindow
	Rows        []rapport.TouchpointMeasures
	Top         []rapport.TouchpointMeasures // the first few, to manage first
	Matrix      *matrixChart                 // nil when no touchpoint's impact is measured
	Unmeasured  []string                     // the touchpoints not on the matrix
}

func (s *server) touchpointsPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		tps, err := s.Touchpoints.FindTouchpoints(ctx)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		win := readWindow(r)
		data := touchpointsData{Touchpoints: tps, Window: win}
		report, err := s.Reports.TouchpointReport(ctx, win.Filter)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		data.Window.covered(report.From, report.To)
		data.Rows = report.Touchpoints
		data.Top = report.Touchpoints[:min(3, len(report.Touchpoints))]
		var in []matrixInput
		for _, m := range report.Touchpoints {
			if !measured(m.Impact) {
				data.Unmeasured = append(data.Unmeasured, m.Name)
				continue
			}
			in = append(in, matrixInput{Name: m.Name, Href: win.Link("/touchpoints/" + url.PathEscape(m.Key)),
				Rank: m.Priority.Rank, Volume: m.Volume, Impact: *m.Impact})
		}
		if len(in) > 0 {
			m := newMatrixChart(in)
			data.Matrix = &m
		}
		s.render(w, r, win.status(), "touchpoints", "", s.newPage(r, "Touchpoints", "touchpoints", data))
	})
}

// touchpointFormData is the data of the add and edit forms.
type touchpointFormData struct {
	T    *rapport.Touchpoint // nil when adding
	Form *form
}

var touchpointFields = map[string]string{"key": "key", "phase": "phase", "channels": "channels",
	"target_score": "target_score", "priority": "priority"}

func (s *server) renderTouchpointForm(w http.ResponseWriter, r *http.Request, status int, t *rapport.Touchpoint, f *form) {
	title := "New touchpoint"
	if t != nil {
		title = "Edit " + t.Name
	}
	s.render(w, r, status, "touchpoint_form", "", s.newPage(r, title, "touchpoints", touchpointFormData{T: t, Form: f}))
}

func (s *server) touchpointNewPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderTouchpointForm(w, r, http.StatusOK, nil, newForm(url.Values{"phase": {rapport.PhasePostSales}, "target_score": {"4.0"}}))
	})
}

// readTouchpoint reads the fields the add and edit forms share.
func readTouchpoint(f *form) (name, description, phase string, channels []rapport.Channel, target float64, priority *int) {
	name, description, phase = f.Get("name"), f.Get("description"), f.Get("phase")
	channels = []rapport.Channel{}
	for _, c := range f.Values["channels"] {
		channels = append(channels, rapport.Channel(c))
	}
	target = f.optionalFloat("target_score")
	if f.Get("target_score") == "" {
		f.fail("target_score", "Enter the mean rating you aim for, from 1 to 5.")
	}
	priority = f.optionalInt("priority")
	if priority != nil && *priority == 0 {
		priority = nil // 0, like an empty field, leaves the priority to the data
	}
	return
}

func (s *server) touchpointCreate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := newForm(r.PostForm)
		t := &rapport.Touchpoint{Key: strings.ToLower(f.Get("key"))}
		t.Name, t.Description, t.Phase, t.Channels, t.TargetScore, t.Priority = readTouchpoint(f)
		if !f.Invalid() {
			err := s.Touchpoints.CreateTouchpoint(r.Context(), t)
			if err == nil {
				setFlash(w, r, fmt.Sprintf("Touchpoint %q added.", t.Name))
				redirect(w, r, "/touchpoints")
				return
			}
			if rapport.ErrorCode(err) == rapport.ECONFLICT {
				f.fail("key", "Another touchpoint has this key already.")
			} else if !f.fromError(err, touchpointFields) {
				s.serverError(w, r, err)
				return
			}
		}
		s.renderTouchpointForm(w, r, http.StatusUnprocessableEntity, nil, f)
	})
}

func (s *server) touchpointEditPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := s.Touchpoints.FindTouchpointByKey(r.Context(), r.PathValue("key"))
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		v := url.Values{"name": {t.Name}, "description": {t.Description}, "phase": {t.Phase},
			"target_score": {strconv.FormatFloat(t.TargetScore, 'f', -1, 64)}}
		for _, c := range t.Channels {
			v.Add("channels", string(c))
		}
		if t.Priority != nil {
			v.Set("priority", strconv.Itoa(*t.Priority))
		}
		s.renderTouchpointForm(w, r, http.StatusOK, t, newForm(v))
	})
}

func (s *server) touchpointUpdate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := s.Touchpoints.FindTouchpointByKey(r.Context(), r.PathValue("key"))
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		f := newForm(r.PostForm)
		var u rapport.TouchpointUpdate
		name, description, phase, channels, target, priority := readTouchpoint(f)
		u.Name, u.Description, u.Phase, u.Channels, u.TargetScore = &name, &description, &phase, &channels, &target
		if priority == nil {
			priority = new(int) // an empty field clears the manual priority
		}
		u.Priority = priority
		if !f.Invalid() {
			_, err := s.Touchpoints.UpdateTouchpoint(r.Context(), t.Key, u)
			if err == nil {
				setFlash(w, r, fmt.Sprintf("Touchpoint %q saved.", name))
				redirect(w, r, "/touchpoints/"+url.PathEscape(t.Key))
				return
			}
			if !f.fromError(err, touchpointFields) {
				s.serverError(w, r, err)
				return
			}
		}
		s.renderTouchpointForm(w, r, http.StatusUnprocessableEntity, t, f)
	})
}
