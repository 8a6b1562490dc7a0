package web

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// The five-step loop of managing moments of truth, in the UI: the
// touchpoints page measures and ranks every touchpoint; each touchpoint's
// page walks through measuring it, trying alternative responses, comparing
// them, promoting the best to a service standard and watching the trend.

// trendWeeks is how many weeks a touchpoint's trend chart shows.
const trendWeeks = 26

// reportWindow is the window and channel a report covers: as typed in the
// filter form, and as the services take it.
type reportWindow struct {
	Form   *form
	Filter rapport.ReportFilter
	// Query is the filter as a query string, "" when nothing is set, so that
	// links between the loop's pages keep it.
	Query string
	// First and Last are the days the report covered, both included.
	First, Last time.Time
}

// readWindow reads the filter from the query: from and to are dates, both
// included; channel is optional. A filter with a mistake is shown with its
// error and the default window is used instead.
func readWindow(r *http.Request) reportWindow {
	q := r.URL.Query()
	f := newForm(url.Values{"from": {q.Get("from")}, "to": {q.Get("to")}, "channel": {q.Get("channel")}})
	win := reportWindow{Form: f}
	date := func(name string) time.Time {
		v := f.Get(name)
		if v == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			f.fail(name, "Enter a date such as 2026-03-01.")
		}
		return t
	}
	from, to := date("from"), date("to")
	if !from.IsZero() && !to.IsZero() && from.After(to) {
		f.fail("from", "The first day must not be after the last.")
	}
	channel := rapport.Channel(f.Get("channel"))
	if channel != "" && !channel.Valid() {
		f.fail("channel", "Choose a channel from the list.")
	}
	if f.Invalid() {
		return win
	}
	win.Filter = rapport.ReportFilter{From: from, Channel: channel}
	if !to.IsZero() {
		win.Filter.To = to.AddDate(0, 0, 1) // the services' To is exclusive
	}
	v := url.Values{}
	for _, name := range []string{"from", "to", "channel"} {
		if x := f.Get(name); x != "" {
			v.Set(name, x)
		}
	}
	win.Query = v.Encode()
	return win
}

// covered records the window a report actually covered.
func (w *reportWindow) covered(from, to time.Time) {
	w.First, w.Last = from, to.AddDate(0, 0, -1)
}

// Link returns path with the window's filter, if any.
func (w reportWindow) Link(path string) string {
	if w.Query == "" {
		return path
	}
	return path + "?" + w.Query
}

// status is the page's status: 422 when the filter had a mistake.
func (w reportWindow) status() int {
	if w.Form.Invalid() {
		return http.StatusUnprocessableEntity
	}
	return http.StatusOK
}

// measured reports whether an impact could be estimated: it needs customers
// both with and without misery at the touchpoint.
func measured(im *rapport.Impact) bool { return im != nil && im.Exposed > 0 && im.Unexposed > 0 }

// impactWords explains a touchpoint's impact in plain words.
type impactWords struct {
	Measured bool
	Harmful  bool // the interval lies above no effect
	Finding  string
	Verdict  string
	Basis    string
}

func explainImpact(im *rapport.Impact) impactWords {
	if !measured(im) {
		w := impactWords{Finding: "Not measured yet. Impact compares how often customers dissolve within 90 days of a misery " +
			"moment here with how often they do after a moment here that was not misery, over moments old enough for the 90 days to have passed."}
		if im != nil {
			w.Verdict = fmt.Sprintf("So far %d customers had misery here and %d had only other outcomes; both groups are needed.", im.Exposed, im.Unexposed)
		}
		return w
	}
	w := impactWords{Measured: true, Harmful: im.RiskDifferenceCI[0] > 0}
	w.Finding = fmt.Sprintf("After a misery moment here, %s of customers dissolved within 90 days (%d of %d); after a moment here that was not misery, %s did (%d of %d).",
		pctText(im.ExposedRate), im.ExposedEvents, im.Exposed, pctText(im.UnexposedRate), im.UnexposedEvents, im.Unexposed)
	diff := fmt.Sprintf("%s percentage points (95%% interval %s to %s)",
		signed(100*im.RiskDifference), signed(100*im.RiskDifferenceCI[0]), signed(100*im.RiskDifferenceCI[1]))
	switch {
	case w.Harmful:
		w.Verdict = fmt.Sprintf("Misery here drives customers away: %s more dissolve, about %.1f times as likely. The difference is statistically significant (%s).",
			diff, im.RelativeRisk, pText(im.PValue))
	case im.RiskDifferenceCI[1] < 0:
		w.Verdict = fmt.Sprintf("Customers dissolved less often after misery here: %s (%s). Misery here does not appear to drive dissolution.",
			diff, pText(im.PValue))
	default:
		w.Verdict = fmt.Sprintf("The difference, %s, could be chance (%s): no measurable effect yet.", diff, pText(im.PValue))
	}
	w.Basis = fmt.Sprintf("Measured on moments from %s to %s, across all channels; last computed %s.",
		im.WindowFrom.UTC().Format("2 Jan 2006"), im.WindowTo.UTC().Format("2 Jan 2006"), im.ComputedAt.UTC().Format("2 Jan 2006, 15:04 UTC"))
	return w
}

// pText states a p-value the way people read it.
func pText(p float64) string {
	if p < 0.001 {
		return "p < 0.001"
	}
	return fmt.Sprintf("p = %.3f", math.Round(p*1000)/1000)
}

// explainPriority says where a touchpoint ranks and why.
func explainPriority(m rapport.TouchpointMeasures, of int) string {
	p := m.Priority
	switch {
	case p.Overridden:
		return fmt.Sprintf("Priority %d of %d, set by hand. Clear it in the touchpoint's settings to let the data decide.", p.Rank, of)
	case p.Score > 0:
		return fmt.Sprintf("Priority %d of %d, from the data: misery here in this window accounts for at least %.1f extra dissolutions "+
			"(the cautious end of the impact's interval, times the misery moments here).", p.Rank, of, p.Score)
	}
	return fmt.Sprintf("Priority %d of %d, from the data: no harm from misery here is proven yet, so it ranks after the touchpoints "+
		"where it is, by volume.", p.Rank, of)
}

// touchpointPageData is a touchpoint's page: the loop, step by step.
type touchpointPageData struct {
	T      *rapport.Touchpoint
	Window reportWindow
	// Step 1: measures, impact and priority.
	M        rapport.TouchpointMeasures
	Impact   impactWords
	Priority string
	// Step 2: alternative responses.
	Responses []*rapport.Response
	Add       *form
	// Step 3: the comparison.
	Cmp           *rapport.Comparison
	CmpChart      intervalChart
	Winner        string // the winner's key, or ""
	Verdict       string
	PromoteWinner bool // there is a winner and it is not the standard yet
	// Step 4: the standard.
	Standard *rapport.Standard
	// MarkedStandard is a response whose status says standard although no
	// standard was promoted (so none is watched), when there is one.
	MarkedStandard *rapport.Response
	StandardOf     *rapport.Response // the standard's response
	StandardBy     string            // who promoted it
	History        []standardRow
	Promote        *form
	Promotable     []*rapport.Response
	// Step 1 too: what customers said in surveys, and the policy that asks them.
	Survey surveyResults
	// Segment variants of the standard, and the segments one may be made for.
	Variants []*rapport.StandardVariant
	Segments []*rapport.Segment
	// Step 5: the trend and alerts.
	Trend      lineChart
	TrendWeeks int
	Alerts     []alertRow
	OpenAlerts int
}

// standardRow is one standard in a touchpoint's history.
type standardRow struct {
	*rapport.Standard
	PromotedByName string
}

// responseFields maps the services' field names to the add-response form's.
var responseFields = map[string]string{"key": "key", "description": "description"}

func (s *server) touchpointPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderTouchpoint(w, r, 0, nil, nil)
	})
}

// renderTouchpoint shows a touchpoint's page. add and promote are the forms
// as posted, or nil for empty ones; status 0 means the window's status.
func (s *server) renderTouchpoint(w http.ResponseWriter, r *http.Request, status int, add, promote *form) {
	ctx := r.Context()
	t, err := s.Touchpoints.FindTouchpointByKey(ctx, r.PathValue("key"))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	win := readWindow(r)
	if status == 0 {
		status = win.status()
	}
	if add == nil {
		add = newForm(nil)
	}
	d := &touchpointPageData{T: t, Window: win, Add: add, TrendWeeks: trendWeeks}
	names, err := s.userNames(r)
	if err == nil {
		err = s.touchpointMeasures(ctx, d)
	}
	if err == nil {
		err = s.touchpointSurveys(ctx, d)
	}
	if err == nil {
		err = s.touchpointComparison(ctx, d)
	}
	if err == nil {
		err = s.touchpointStandards(ctx, d, names)
	}
	if err == nil {
		err = s.touchpointTrend(ctx, d, names)
	}
	if err == nil {
		d.Variants, err = s.Variants.FindVariants(ctx, t.Key)
	}
	if err == nil {
		d.Segments, err = s.Segments.FindSegments(ctx)
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if promote == nil {
		promote = newForm(url.Values{"response": {d.Winner}})
	}
	d.Promote = promote
	s.render(w, r, status, "touchpoint", "", s.newPage(r, t.Name, "touchpoints", *d))
}

// touchpointMeasures is step 1 of the page: the touchpoint's measures in
// the window, its impact and its priority among the others.
func (s *server) touchpointMeasures(ctx context.Context, d *touchpointPageData) error {
	report, err := s.Reports.TouchpointReport(ctx, d.Window.Filter)
	if err != nil {
		return err
	}
	d.Window.covered(report.From, report.To)
	for _, m := range report.Touchpoints {
		if m.Key == d.T.Key {
			d.M = m
		}
	}
	d.Impact = explainImpact(d.M.Impact)
	d.Priority = explainPriority(d.M, len(report.Touchpoints))
	return nil
}

// touchpointComparison is steps 2 and 3: the responses, and which delights
// most, with the chart of their magic rates and the verdict.
func (s *server) touchpointComparison(ctx context.Context, d *touchpointPageData) error {
	var err error
	if d.Responses, err = s.Responses.FindResponses(ctx, d.T.Key); err != nil {
		return err
	}
	if d.Cmp, err = s.Responses.CompareResponses(ctx, d.T.Key, d.Window.Filter); err != nil {
		return err
	}
	if d.Cmp.Winner != nil {
		d.Winner = *d.Cmp.Winner
	}
	var bars []intervalInput
	for _, m := range d.Cmp.Responses {
		bars = append(bars, intervalInput{Name: rapport.KeyName(m.Key), Rate: m.MagicRate, CI: m.MagicRateCI, Moments: m.Moments, IsWinner: m.Key == d.Winner})
		if m.Key == d.Winner && m.Status != rapport.ResponseStandard {
			d.PromoteWinner = true
		}
	}
	if len(bars) > 0 {
		d.CmpChart = newIntervalChart(bars)
	}
	switch {
	case d.Winner != "":
		d.Verdict = fmt.Sprintf("%s delights most", rapport.KeyName(d.Winner))
	case d.Cmp.Reason == rapport.ReasonTooFewMoments:
		d.Verdict = "No winner yet: too few moments"
	case d.Cmp.Reason == rapport.ReasonNoSignificantDifference:
		d.Verdict = "No winner: no significant difference"
	default:
		d.Verdict = "No winner"
	}
	return nil
}

// touchpointStandards is step 4: the standard, its history, and the
// responses that could be promoted.
func (s *server) touchpointStandards(ctx context.Context, d *touchpointPageData, names map[string]string) error {
	var err error
	d.Standard, err = s.Standards.FindStandard(ctx, d.T.Key)
	if rapport.ErrorCode(err) == rapport.ENOTFOUND {
		d.Standard = nil
	} else if err != nil {
		return err
	}
	history, err := s.Standards.StandardHistory(ctx, d.T.Key)
	if err != nil {
		return err
	}
	for _, st := range history {
		d.History = append(d.History, standardRow{Standard: st, PromotedByName: names[st.PromotedBy]})
	}
	for _, resp := range d.Responses {
		if resp.Status == rapport.ResponseCandidate || resp.Status == rapport.ResponseTrial {
			d.Promotable = append(d.Promotable, resp)
		}
		if d.Standard != nil && resp.Key == d.Standard.Response {
			d.StandardOf = resp
		}
		if d.Standard == nil && resp.Status == rapport.ResponseStandard {
			d.MarkedStandard = resp
		}
	}
	if d.Standard != nil {
		d.StandardBy = names[d.Standard.PromotedBy]
	}
	return nil
}

// touchpointTrend is step 5: the weekly trend and the touchpoint's alerts.
func (s *server) touchpointTrend(ctx context.Context, d *touchpointPageData, names map[string]string) error {
	trend, err := s.Reports.Trend(ctx, d.T.Key, trendWeeks)
	if err != nil {
		return err
	}
	d.Trend = trendChart(trend)
	alerts, err := s.Alerts.FindAlerts(ctx, rapport.AlertFilter{Touchpoint: d.T.Key})
	if err != nil {
		return err
	}
	d.Alerts = alertRows(alerts, map[string]string{d.T.Key: d.T.Name}, names)
	for _, a := range alerts {
		if a.AcknowledgedAt == nil {
			d.OpenAlerts++
		}
	}
	return nil
}

// touchpointPath is a touchpoint's page, at one of its steps.
func touchpointPath(key, anchor string) string {
	return "/touchpoints/" + url.PathEscape(key) + "#" + anchor
}

func (s *server) responseCreate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.PathValue("key")
		f := newForm(r.PostForm)
		resp := &rapport.Response{Touchpoint: key, Key: strings.ToLower(f.Get("key")), Description: f.Get("description")}
		if resp.Key == "" {
			f.fail("key", "Enter a key, such as call_back_same_day.")
		}
		if resp.Description == "" {
			f.fail("description", "Describe the response: what staff do or say.")
		}
		if !f.Invalid() {
			err := s.Responses.CreateResponse(r.Context(), resp)
			switch {
			case err == nil:
				setFlash(w, r, fmt.Sprintf("Response “%s” added as a candidate.", rapport.KeyName(resp.Key)))
				redirect(w, r, touchpointPath(key, "responses"))
				return
			case rapport.ErrorCode(err) == rapport.ECONFLICT:
				f.fail("key", "This touchpoint has a response with this key already.")
			case !f.fromError(err, responseFields):
				s.serverError(w, r, err)
				return
			}
		}
		s.renderTouchpoint(w, r, http.StatusUnprocessableEntity, f, nil)
	})
}

// statusWords say what a response has become.
var statusWords = map[rapport.ResponseStatus]string{
	rapport.ResponseCandidate: "a candidate again",
	rapport.ResponseTrial:     "on trial",
	rapport.ResponseRetired:   "retired",
}

func (s *server) responseSetStatus() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, response, status := r.PathValue("key"), r.PathValue("response"), rapport.ResponseStatus(r.PostFormValue("status"))
		if _, err := s.Responses.SetResponseStatus(r.Context(), key, response, status); err != nil {
			s.serverError(w, r, err)
			return
		}
		setFlash(w, r, fmt.Sprintf("Response “%s” is %s.", rapport.KeyName(response), statusWords[status]))
		redirect(w, r, touchpointPath(key, "responses"))
	})
}

// responseSetTags replaces what a response involves, from a list typed with
// commas or spaces between the tags.
func (s *server) responseSetTags() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, response := r.PathValue("key"), r.PathValue("response")
		tags := strings.FieldsFunc(strings.ToLower(r.PostFormValue("tags")), func(c rune) bool { return c == ',' || c == ' ' })
		resp, err := s.Suggestions.SetResponseTags(r.Context(), key, response, tags)
		switch {
		case err == nil && len(resp.Tags) == 0:
			setFlash(w, r, fmt.Sprintf("Response “%s” has no tags now.", rapport.KeyName(response)))
		case err == nil:
			setFlash(w, r, fmt.Sprintf("Response “%s” involves %s.", rapport.KeyName(response), strings.Join(resp.Tags, ", ")))
		case rapport.ErrorCode(err) == rapport.EINVALID:
			var e *rapport.Error
			msg := "The tags are not valid."
			if errors.As(err, &e) && len(e.Fields) > 0 {
				msg = "Tags not saved: " + e.Fields[0].Message + "."
			}
			setFlash(w, r, msg)
		default:
			s.serverError(w, r, err)
			return
		}
		redirect(w, r, touchpointPath(key, "responses"))
	})
}

// variantPromote makes a response a segment's standard at the touchpoint,
// when it wins on the segment's own moments; otherwise it says why not.
func (s *server) variantPromote() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.PathValue("key")
		segment, response := r.PostFormValue("segment"), r.PostFormValue("response")
		v, err := s.Variants.PromoteVariant(r.Context(), key, segment, response)
		switch code := rapport.ErrorCode(err); {
		case err == nil:
			setFlash(w, r, fmt.Sprintf("For customers in %s, the standard is now “%s”.", v.SegmentName, rapport.KeyName(v.Response)))
		case code == rapport.ECONFLICT || code == rapport.EINVALID:
			var e *rapport.Error
			msg := "Not promoted."
			if errors.As(err, &e) {
				msg = "Not promoted: " + e.Message
			}
			if segment == "" || response == "" {
				msg = "Not promoted: choose the segment and the response."
			}
			setFlash(w, r, msg)
		default:
			s.serverError(w, r, err)
			return
		}
		redirect(w, r, touchpointPath(key, "variants"))
	})
}

func (s *server) standardPromote() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.PathValue("key")
		f := newForm(r.PostForm)
		response := f.Get("response")
		if response == "" {
			f.fail("response", "Choose the response to make the standard.")
		} else {
			st, err := s.Standards.PromoteResponse(r.Context(), key, response)
			switch {
			case err == nil:
				setFlash(w, r, fmt.Sprintf("“%s” is now the service standard.", rapport.KeyName(st.Response)))
				redirect(w, r, touchpointPath(key, "standard"))
				return
			case rapport.ErrorCode(err) == rapport.ECONFLICT:
				f.fail("response", "This response is the standard already.")
			case rapport.ErrorCode(err) == rapport.ENOTFOUND || !f.fromError(err, map[string]string{"response": "response"}):
				s.serverError(w, r, err)
				return
			}
		}
		s.renderTouchpoint(w, r, http.StatusUnprocessableEntity, nil, f)
	})
}
