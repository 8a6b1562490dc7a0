package web

import (
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/analytics"
)

// The outcomes report: relationship outcomes of every customer and of each
// segment, side by side, over a window.

func init() {
	templateFuncs["money"] = money
	templateFuncs["share"] = newShare
	templateFuncs["smallGroup"] = func(customers int) bool { return customers < smallGroup }
	templateFuncs["shareOf"] = func(rate *float64, n int) share {
		if rate == nil {
			return newShare(0, n)
		}
		return newShare(int(math.Round(*rate*float64(n))), n)
	}
	templateFuncs["growth"] = func(p *float64) string {
		if p == nil {
			return "–"
		}
		return signed(100*(*p)) + "%"
	}
}

// smallGroup is the number of customers below which a segment's rates are
// flagged: with fewer, a rate's 95% interval is commonly ±15 points or wider,
// so a difference from everyone's may well be chance.
const smallGroup = 30

// share is a rate of k out of n as the outcomes show it: the rate, its 95%
// Wilson interval and n.
type share struct {
	Rate, CI string
	N        int
}

func newShare(k, n int) share {
	if n <= 0 {
		return share{Rate: "–"}
	}
	p := analytics.Proportion{Successes: k, Trials: n}
	iv, _ := p.Wilson(analytics.Level95)
	return share{Rate: pctText(p.Rate()), CI: ciText(rapport.Interval{iv.Lo, iv.Hi}), N: n}
}

// maxOutcomeSegments bounds how many segments the report compares at once.
const maxOutcomeSegments = 8

// outcomesData is the outcomes report's page.
type outcomesData struct {
	Window dateWindow
	Cols   []*rapport.Outcomes // every customer first, then each segment
	Last   time.Time
	From   time.Time
	Chart  hbarChart
	More   int    // segments left out
	Only   string // the segment the report was opened for, if any
	Fresh  bool   // measure now rather than show the last measurement
	Again  string // this report measured afresh
}

func (s *server) outcomesPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		win := readDates(r)
		d := outcomesData{Window: win, Only: r.URL.Query().Get("segment"), Fresh: r.URL.Query().Get("fresh") == "1"}
		sgs, err := s.Segments.FindSegments(ctx)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		ids := []string{""}
		for _, sg := range sgs {
			if d.Only != "" && sg.ID != d.Only {
				continue
			}
			if len(ids) > maxOutcomeSegments {
				d.More++
				continue
			}
			ids = append(ids, sg.ID)
		}
		for i, id := range ids {
			o, err := s.Outcomes.Outcomes(ctx, rapport.OutcomeFilter{Segment: id, From: win.From, To: win.To, Fresh: d.Fresh})
			if rapport.ErrorCode(err) == rapport.EINVALID && i == 0 {
				win.Form.fail("from", "The first day must be before the last, and not in the future.")
				win.From, win.To = time.Time{}, time.Time{}
				o, err = s.Outcomes.Outcomes(ctx, rapport.OutcomeFilter{Segment: id})
			}
			if err != nil {
				s.serverError(w, r, err)
				return
			}
			d.Cols = append(d.Cols, o)
		}
		d.Window = win
		d.From, d.Last = d.Cols[0].From, lastDay(d.Cols[0].To)
		again := r.URL.Query()
		again.Set("fresh", "1")
		d.Again = "/reports/outcomes?" + again.Encode()
		d.Chart = segmentOutcomeChart(d.Cols)
		s.render(w, r, win.status(), "report_outcomes", "", s.newPage(r, "Outcomes by segment", "segments", d))
	})
}

// outcomeName is a column's heading.
func outcomeName(o *rapport.Outcomes) string {
	if o.Segment == nil {
		return "All customers"
	}
	return o.Segment.Name
}

// segmentOutcomeChart draws the rates of each column as bars, grouped by
// measure, each with its 95% Wilson interval as a whisker, the interval the
// table gives: k of n is the count the rate is out of.
func segmentOutcomeChart(cols []*rapport.Outcomes) hbarChart {
	type measure struct {
		title string
		rate  func(o *rapport.Outcomes) (rate *float64, k, n int, note string)
		class string
	}
	ofMoments := func(rate *float64, moments int) (*float64, int, int, string) {
		k := 0
		if rate != nil {
			k = int(math.Round(*rate * float64(moments)))
		}
		return rate, k, moments, "of " + commas(int64(moments)) + " moments"
	}
	ofCount := func(rate *float64, k, n int, unit string) (*float64, int, int, string) {
		return rate, k, n, commas(int64(k)) + " of " + commas(int64(n)) + unit
	}
	measures := []measure{
		{"Magic moments", func(o *rapport.Outcomes) (*float64, int, int, string) {
			return ofMoments(o.Satisfaction.MagicRate, o.Satisfaction.Moments)
		}, "good"},
		{"Misery moments", func(o *rapport.Outcomes) (*float64, int, int, string) {
			return ofMoments(o.Satisfaction.MiseryRate, o.Satisfaction.Moments)
		}, "bad"},
		{"Loyalty: bought again", func(o *rapport.Outcomes) (*float64, int, int, string) {
			return ofCount(o.Loyalty.RepeatRate, o.Loyalty.RepeatBuyers, o.Loyalty.Buyers, " buyers")
		}, "plain"},
		{"Retention", func(o *rapport.Outcomes) (*float64, int, int, string) {
			return ofCount(o.Retention.Rate, o.Retention.Retained, o.Retention.ActiveAtStart, "")
		}, "good"},
		{"Cross-sell: more than one product", func(o *rapport.Outcomes) (*float64, int, int, string) {
			return ofCount(o.CrossSell.Rate, o.CrossSell.MultiProduct, o.CrossSell.Customers, "")
		}, "plain"},
	}
	c := hbarChart{Ticks: hbarTicks}
	summary := ""
	for _, m := range measures {
		g := hbarGroup{Title: m.title}
		for _, o := range cols {
			rate, k, n, note := m.rate(o)
			var ci *rapport.Interval
			words := rateWords(rate)
			if rate != nil && n > 0 {
				iv, _ := analytics.Proportion{Successes: k, Trials: n}.Wilson(analytics.Level95)
				ci = &rapport.Interval{iv.Lo, iv.Hi}
				words += " (95% interval " + ciText(*ci) + ")"
			}
			g.Rows = append(g.Rows, newHbarRow(outcomeName(o), rate, ci, note, m.class))
			summary += fmt.Sprintf("%s, %s: %s. ", m.title, outcomeName(o), words)
		}
		c.Groups = append(c.Groups, g)
	}
	c.Summary = summary
	return c
}

// currencySymbols are the currencies written with a symbol before the
// amount; others are written with their code after it.
var currencySymbols = map[string]string{"GBP": "£", "USD": "$", "EUR": "€", "JPY": "¥"}

// money writes an amount in a currency, with thousands separators: £2,050.82,
// 2,050.82 CHF, or 2,050.82 when no currency is set; yen have no cents.
func money(currency string, p *float64) string {
	if p == nil {
		return "–"
	}
	cents := int64(math.Round(*p * 100))
	sign := ""
	if cents < 0 {
		sign, cents = "−", -cents
	}
	amount := commas(cents/100) + fmt.Sprintf(".%02d", cents%100)
	if currency == "JPY" {
		amount = commas(int64(math.Round(math.Abs(*p))))
	}
	if sym, ok := currencySymbols[currency]; ok {
		return sign + sym + amount
	}
	if currency != "" {
		return sign + amount + " " + currency
	}
	return sign + amount
}
