package web

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"time"

	"github.com/rapport-crm/rapport"
)

// The recovery and promise reports: how often recovery worked and what
// recovered customers did afterwards, and who keeps their promises.

// dateWindow is the period a report covers, as typed (first and last day,
// both included) and as the services take it (To exclusive).
type dateWindow struct {
	Form     *form
	From, To time.Time
}

// readDates reads the report's period from the query; a mistake is shown
// beside its field and the report's default period is used instead.
func readDates(r *http.Request) dateWindow {
	q := r.URL.Query()
	f := newForm(url.Values{"from": {q.Get("from")}, "to": {q.Get("to")}})
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
	if f.Invalid() {
		return dateWindow{Form: f}
	}
	w := dateWindow{Form: f, From: from}
	if !to.IsZero() {
		w.To = to.AddDate(0, 0, 1)
	}
	return w
}

// lastDay is the last day a period ending at to (exclusive) covers.
func lastDay(to time.Time) time.Time {
	if to.Equal(to.Truncate(24 * time.Hour)) {
		return to.AddDate(0, 0, -1)
	}
	return to
}

func (w dateWindow) status() int {
	if w.Form.Invalid() {
		return http.StatusUnprocessableEntity
	}
	return http.StatusOK
}

// hbarChart is a small chart of rates as horizontal bars on a 0–100% scale,
// each with its 95% interval as a whisker, in groups. Each bar is its own
// SVG inside an HTML row, so that names and figures stay text that reads
// at any width.
type hbarChart struct {
	Groups  []hbarGroup
	Ticks   []string
	Summary string
}

type hbarGroup struct {
	Title string
	Rows  []hbarRow
}

// hbarRow is one rate. Pct, Lo and Hi are on the 0–100 scale of the bar.
type hbarRow struct {
	Label, Value, Note string
	Class              string // good, bad or plain
	Pct, Lo, Hi        float64
	HasCI, Void        bool
}

func newHbarRow(label string, rate *float64, ci *rapport.Interval, note, class string) hbarRow {
	row := hbarRow{Label: label, Note: note, Class: class}
	if rate == nil {
		row.Void, row.Value = true, "–"
		return row
	}
	row.Pct, row.Value = 100*unitClamp(*rate), pctText(*rate)
	if ci != nil {
		row.HasCI, row.Lo, row.Hi = true, 100*unitClamp(ci[0]), 100*unitClamp(ci[1])
	}
	return row
}

func unitClamp(x float64) float64 { return math.Max(0, math.Min(1, x)) }

var hbarTicks = []string{"0%", "25%", "50%", "75%", "100%"}

// recoveryReportData is the recovery report's page.
type recoveryReportData struct {
	Window      dateWindow
	R           *rapport.RecoveryReport
	Last        time.Time // the last day the report covers
	Chart       hbarChart
	Groups      string // who is compared with whom
	Dissolution string // the difference between the groups, in words
	Repeat      string
}

// nounCount says "1 case" or "2 cases".
func nounCount(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return commas(int64(n)) + " " + many
}

func (s *server) recoveryReportPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		win := readDates(r)
		rep, err := s.Recovery.RecoveryReport(r.Context(), rapport.RecoveryReportFilter{From: win.From, To: win.To})
		if rapport.ErrorCode(err) == rapport.EINVALID {
			win.Form.fail("from", "The first day must be before the last, and not in the future.")
			rep, err = s.Recovery.RecoveryReport(r.Context(), rapport.RecoveryReportFilter{})
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		d := recoveryReportData{Window: win, R: rep, Last: lastDay(rep.To)}
		rec, unrec := rep.RecoveredGroup, rep.UnrecoveredGroup
		of := func(n, cases int) string { return commas(int64(n)) + " of " + commas(int64(cases)) }
		d.Chart = hbarChart{Ticks: hbarTicks, Groups: []hbarGroup{
			{Title: fmt.Sprintf("Dissolved within %d days", rep.FollowUpDays), Rows: []hbarRow{
				newHbarRow("Recovered", rec.DissolutionRate, rec.DissolutionRateCI, of(rec.Dissolved, rec.Cases), "good"),
				newHbarRow("Not recovered", unrec.DissolutionRate, unrec.DissolutionRateCI, of(unrec.Dissolved, unrec.Cases), "bad"),
			}},
			{Title: fmt.Sprintf("Bought again within %d days", rep.FollowUpDays), Rows: []hbarRow{
				newHbarRow("Recovered", rec.RepeatPurchaseRate, rec.RepeatPurchaseCI, of(rec.Repurchased, rec.Cases), "good"),
				newHbarRow("Not recovered", unrec.RepeatPurchaseRate, unrec.RepeatPurchaseCI, of(unrec.Repurchased, unrec.Cases), "bad"),
			}},
		}}
		d.Chart.Summary = fmt.Sprintf("Within %d days: recovered customers dissolved %s and bought again %s; unrecovered customers dissolved %s and bought again %s.",
			rep.FollowUpDays, rateWords(rec.DissolutionRate), rateWords(rec.RepeatPurchaseRate),
			rateWords(unrec.DissolutionRate), rateWords(unrec.RepeatPurchaseRate))
		d.Groups = fmt.Sprintf("In the %d days after their misery moment: customers whose case recovered (%s) against those whose case did not "+
			"(%s: misery again, or still open past its due time).", rep.FollowUpDays,
			nounCount(rec.Cases, "case", "cases"), nounCount(unrec.Cases, "case", "cases"))
		d.Dissolution = differenceWords(rep.DissolutionDifference, "dissolved", rep.FollowUpDays)
		d.Repeat = differenceWords(rep.RepeatPurchaseDifference, "bought again", rep.FollowUpDays)
		s.render(w, r, win.status(), "report_recovery", "", s.newPage(r, "Recovery report", "recovery", d))
	})
}

func rateWords(p *float64) string {
	if p == nil {
		return "unknown"
	}
	return pctText(*p)
}

// differenceWords says how recovered customers differed from unrecovered
// ones in how often they did something.
func differenceWords(d *rapport.RecoveryDifference, did string, days int) string {
	if d == nil {
		return fmt.Sprintf("Not enough cases in both groups yet to compare how often customers %s.", did)
	}
	ci := fmt.Sprintf("(95%% interval %s to %s points; %s)", signed(100*d.DifferenceCI[0]), signed(100*d.DifferenceCI[1]), pText(d.PValue))
	pts := math.Abs(math.Round(100 * d.Difference))
	var s string
	switch {
	case pts == 0:
		s = fmt.Sprintf("Recovered and unrecovered customers %s within %d days about as often %s.", did, days, ci)
	case d.Difference < 0:
		s = fmt.Sprintf("Recovered customers %s within %d days %.0f percentage points less often than unrecovered ones %s.", did, days, pts, ci)
	default:
		s = fmt.Sprintf("Recovered customers %s within %d days %.0f percentage points more often than unrecovered ones %s.", did, days, pts, ci)
	}
	if d.DifferenceCI[0] > 0 || d.DifferenceCI[1] < 0 {
		return s + " The difference is statistically significant."
	}
	return s + " The difference could be chance."
}

// promiseReportData is the say/do report's page.
type promiseReportData struct {
	Window dateWindow
	R      *rapport.PromiseReport
	Staff  []promiseRecordRow
	Teams  []promiseRecordRow
	Chart  hbarChart
	Worst  string // who breaks promises most, when the evidence says so
}

// promiseRecordRow is one line of the report: a record and how it compares
// with the firm as a whole.
type promiseRecordRow struct {
	rapport.PromiseRecord
	Class string // bad: significantly worse than the firm; good: better
}

// compareSayDo says whether a record's interval lies wholly below (bad) or
// above (good) the firm's ratio.
func compareSayDo(rec rapport.PromiseRecord, firm *float64) string {
	if firm == nil || rec.SayDoCI == nil {
		return "plain"
	}
	switch {
	case rec.SayDoCI[1] < *firm:
		return "bad"
	case rec.SayDoCI[0] > *firm:
		return "good"
	}
	return "plain"
}

func (s *server) promiseReportPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		win := readDates(r)
		rep, err := s.Promises.PromiseReport(r.Context(), rapport.PromiseReportFilter{From: win.From, To: win.To})
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		d := promiseReportData{Window: win, R: rep}
		firm := rep.Total.SayDo
		settled := func(rec rapport.PromiseRecord) string {
			return fmt.Sprintf("%d kept of %d settled", rec.Kept, rec.Kept+rec.Broken)
		}
		staff := hbarGroup{Title: "Staff, worst first"}
		for _, rec := range rep.Staff {
			row := promiseRecordRow{PromiseRecord: rec, Class: compareSayDo(rec, firm)}
			d.Staff = append(d.Staff, row)
			staff.Rows = append(staff.Rows, newHbarRow(rec.Name, rec.SayDo, rec.SayDoCI, settled(rec), row.Class))
		}
		teams := hbarGroup{Title: "Teams, worst first"}
		for _, rec := range rep.Teams {
			row := promiseRecordRow{PromiseRecord: rec, Class: compareSayDo(rec, firm)}
			d.Teams = append(d.Teams, row)
			teams.Rows = append(teams.Rows, newHbarRow(rec.Name, rec.SayDo, rec.SayDoCI, settled(rec), row.Class))
		}
		total := hbarGroup{Title: "The whole firm", Rows: []hbarRow{newHbarRow(rep.Total.Name, firm, rep.Total.SayDoCI, settled(rep.Total), "plain")}}
		d.Chart = hbarChart{Ticks: hbarTicks, Groups: []hbarGroup{total}}
		if len(staff.Rows) > 0 {
			d.Chart.Groups = append(d.Chart.Groups, staff)
		}
		if len(teams.Rows) > 0 {
			d.Chart.Groups = append(d.Chart.Groups, teams)
		}
		d.Chart.Summary = fmt.Sprintf("Say/do ratio: the firm %s", rateWords(firm))
		for _, rec := range rep.Staff {
			d.Chart.Summary += fmt.Sprintf("; %s %s", rec.Name, rateWords(rec.SayDo))
		}
		d.Chart.Summary += "."
		if len(d.Staff) > 0 && d.Staff[0].Class == "bad" {
			worst := d.Staff[0]
			d.Worst = fmt.Sprintf("%s breaks promises most: %d of %d settled promises broken, a say/do ratio of %s (95%% interval %s), against %s for the firm.",
				worst.Name, worst.Broken, worst.Kept+worst.Broken, rateWords(worst.SayDo), ciText(*worst.SayDoCI), rateWords(firm))
		}
		s.render(w, r, win.status(), "report_promises", "", s.newPage(r, "Promises report", "promises", d))
	})
}
