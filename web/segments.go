package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/segment"
)

// Segments: named rules over customers' profiles and measures, their
// members and their outcomes. Managers and admins keep them, as in the API.

// segmentPageSize is how many members a page of a segment shows.
const segmentPageSize = 25

// ruleFault is where a rule cannot be read, drawn as the line with a caret
// under the column.
type ruleFault struct {
	Pos, Line, Col int
	Text, Caret    string
	Msg            string
}

// checkRule parses and compiles a rule as the store will, and returns where
// it fails, or nil.
func checkRule(rule string, now time.Time) *ruleFault {
	r, err := segment.Parse(rule)
	if err == nil {
		_, err = r.Compile(segment.Options{Now: now})
	}
	var e *segment.Error
	if !errors.As(err, &e) {
		return nil
	}
	return newRuleFault(rule, e.Pos, e.Msg)
}

// newRuleFault finds the line and column of pos, counted in characters from 1.
func newRuleFault(rule string, pos int, msg string) *ruleFault {
	f := &ruleFault{Pos: pos, Msg: msg, Line: 1, Col: 1}
	rs := []rune(rule)
	start := 0
	for i := 0; i < len(rs) && i < pos-1; i++ {
		if rs[i] == '\n' {
			f.Line++
			start = i + 1
		}
	}
	end := start
	for end < len(rs) && rs[end] != '\n' {
		end++
	}
	f.Col = max(1, pos-start)
	f.Text = strings.TrimRight(string(rs[start:end]), "\r")
	// Tabs keep their width so that the caret lines up under them.
	var caret strings.Builder
	for i := 0; i < f.Col-1 && start+i < len(rs); i++ {
		if rs[start+i] == '\t' {
			caret.WriteByte('\t')
		} else {
			caret.WriteByte(' ')
		}
	}
	caret.WriteByte('^')
	f.Caret = caret.String()
	return f
}

// segmentFormData is the new and edit segment forms.
type segmentFormData struct {
	Seg     *rapport.Segment // nil for a new one
	Form    *form
	Fault   *ruleFault
	Fields  []segment.Field
	Action  string
	Preview *rulePreview
}

// rulePreview is who a rule being written matches now, or where it cannot
// be read; the form shows it as the rule is typed.
type rulePreview struct {
	Empty   bool
	Fault   *ruleFault
	Message string
	Size    int
	Members []*rapport.SegmentMember
}

// previewMembers is how many members a preview names.
const previewMembers = 8

// segmentsData is the list of segments.
type segmentsData struct {
	Segments []*rapport.Segment
}

// segmentData is one segment's page.
type segmentData struct {
	Seg      *rapport.Segment
	Members  []*rapport.SegmentMember
	Next     string
	Paged    bool
	Outcomes *rapport.Outcomes
	Last     time.Time
}

func (s *server) segmentsPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sgs, err := s.Segments.FindSegments(r.Context())
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "segments", "", s.newPage(r, "Segments", "segments", segmentsData{Segments: sgs}))
	})
}

func (s *server) segmentNewPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := newForm(url.Values{"rule": {r.URL.Query().Get("rule")}})
		s.renderSegmentForm(w, r, http.StatusOK, nil, f, nil)
	})
}

func (s *server) renderSegmentForm(w http.ResponseWriter, r *http.Request, status int, sg *rapport.Segment, f *form, fault *ruleFault) {
	d := segmentFormData{Seg: sg, Form: f, Fault: fault, Fields: segment.Fields(), Action: "/segments"}
	title := "New segment"
	if sg != nil {
		d.Action, title = "/segments/"+url.PathEscape(sg.ID), "Edit "+sg.Name
	}
	s.render(w, r, status, "segment_form", "", s.newPage(r, title, "segments", d))
}

// segmentPreview answers the form's live preview: how many customers the
// rule typed so far matches and a few of them, or where it cannot be read.
// Asked for without htmx, it shows the new segment form with the rule.
func (s *server) segmentPreview() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rule := strings.TrimSpace(r.URL.Query().Get("rule"))
		if r.Header.Get("HX-Request") != "true" {
			s.renderSegmentForm(w, r, http.StatusOK, nil, newForm(url.Values{"rule": {rule}}), nil)
			return
		}
		p := &rulePreview{}
		switch {
		case rule == "":
			p.Empty = true
		case len(rule) > rapport.MaxRuleLength:
			p.Message = fmt.Sprintf("The rule must be at most %d bytes.", rapport.MaxRuleLength)
		default:
			if p.Fault = checkRule(rule, s.Clock()); p.Fault != nil {
				break
			}
			res, err := s.Segments.PreviewSegment(r.Context(), rule, previewMembers)
			if rapport.ErrorCode(err) == rapport.EINVALID {
				p.Message = rapport.ErrorMessage(err)
				break
			}
			if err != nil {
				s.serverError(w, r, err)
				return
			}
			p.Size, p.Members = res.Size, res.Members.Items
		}
		s.render(w, r, http.StatusOK, "segment_form", "segment-preview",
			s.newPage(r, "Preview", "segments", segmentFormData{Preview: p}))
	})
}

// readSegmentForm reads and checks the posted segment; on a rule that
// cannot be read it returns the fault, also noted beside the field.
func (s *server) readSegmentForm(r *http.Request) (*form, *ruleFault) {
	r.ParseForm()
	f := newForm(r.PostForm)
	if f.Get("name") == "" {
		f.fail("name", "This is required.")
	}
	rule := f.Get("rule")
	if rule == "" {
		f.fail("rule", "This is required: write a rule such as stage = \"commitment\".")
		return f, nil
	}
	if len(rule) > rapport.MaxRuleLength {
		f.fail("rule", fmt.Sprintf("This must be at most %d bytes.", rapport.MaxRuleLength))
		return f, nil
	}
	fault := checkRule(rule, s.Clock())
	if fault != nil {
		f.fail("rule", fmt.Sprintf("Line %d, column %d: %s.", fault.Line, fault.Col, fault.Msg))
	}
	return f, fault
}

// segmentSave saves the posted form: a new segment, or the one the path
// names.
func (s *server) segmentSave() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var sg *rapport.Segment
		if id := r.PathValue("id"); id != "" {
			var err error
			if sg, err = s.Segments.FindSegment(r.Context(), id); err != nil {
				s.serverError(w, r, err)
				return
			}
		}
		f, fault := s.readSegmentForm(r)
		if !f.Invalid() {
			name, rule := f.Get("name"), f.Get("rule")
			saved := &rapport.Segment{Name: name, Rule: rule}
			var err error
			if sg == nil {
				err = s.Segments.CreateSegment(r.Context(), saved)
			} else {
				saved, err = s.Segments.UpdateSegment(r.Context(), sg.ID, rapport.SegmentUpdate{Name: &name, Rule: &rule})
			}
			if err == nil {
				setFlash(w, r, "Segment saved.")
				redirect(w, r, "/segments/"+url.PathEscape(saved.ID))
				return
			}
			if !f.fromError(err, map[string]string{"name": "name", "rule": "rule"}) {
				s.serverError(w, r, err)
				return
			}
		}
		s.renderSegmentForm(w, r, http.StatusUnprocessableEntity, sg, f, fault)
	})
}

func (s *server) segmentEditPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sg, err := s.Segments.FindSegment(r.Context(), r.PathValue("id"))
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.renderSegmentForm(w, r, http.StatusOK, sg, newForm(url.Values{"name": {sg.Name}, "rule": {sg.Rule}}), nil)
	})
}

func (s *server) segmentDelete() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.Segments.DeleteSegment(r.Context(), r.PathValue("id")); err != nil {
			s.serverError(w, r, err)
			return
		}
		setFlash(w, r, "Segment deleted.")
		redirect(w, r, "/segments")
	})
}

func (s *server) segmentPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, id := r.Context(), r.PathValue("id")
		cursor := r.URL.Query().Get("cursor")
		// The count and the page each read many customers: at once.
		var (
			sg           *rapport.Segment
			page         rapport.Page[*rapport.SegmentMember]
			sgErr, pgErr error
			wg           sync.WaitGroup
		)
		wg.Go(func() { sg, sgErr = s.Segments.FindSegmentByID(ctx, id) })
		wg.Go(func() {
			page, pgErr = s.Segments.SegmentMembers(ctx, id, segmentPageSize, cursor)
			if rapport.ErrorCode(pgErr) == rapport.EINVALID && cursor != "" {
				// A stale or mangled cursor: start again from the first page.
				cursor = ""
				page, pgErr = s.Segments.SegmentMembers(ctx, id, segmentPageSize, "")
			}
		})
		wg.Wait()
		if err := errors.Join(sgErr, pgErr); err != nil {
			if sgErr != nil {
				err = sgErr // not found says it best
			}
			s.serverError(w, r, err)
			return
		}
		d := segmentData{Seg: sg, Members: page.Items, Paged: cursor != ""}
		if page.NextCursor != "" {
			d.Next = "/segments/" + url.PathEscape(sg.ID) + "?" + url.Values{"cursor": {page.NextCursor}}.Encode()
		}
		s.render(w, r, http.StatusOK, "segment", "", s.newPage(r, sg.Name, "segments", d))
	})
}

// segmentOutcomes is the segment page's outcomes, asked for by the page
// once it is shown; without htmx it is the outcomes report of the segment.
func (s *server) segmentOutcomes() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if r.Header.Get("HX-Request") != "true" {
			redirect(w, r, "/reports/outcomes?"+url.Values{"segment": {id}}.Encode())
			return
		}
		out, err := s.Outcomes.Outcomes(r.Context(), rapport.OutcomeFilter{Segment: id, Fresh: r.URL.Query().Get("fresh") == "1"})
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		d := segmentData{Seg: &rapport.Segment{ID: id}, Outcomes: out, Last: lastDay(out.To)}
		s.render(w, r, http.StatusOK, "segment", "segment-outcomes", s.newPage(r, "Outcomes", "segments", d))
	})
}
