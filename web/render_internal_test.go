package web

import (
	"encoding/json"
	"html/template"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
)

// TestTitleTakesDomainWords checks that the title function reads stages and
// statuses as it reads plain strings, so that pages look the same whatever
// type a word has.
func TestTitleTakesDomainWords(t *testing.T) {
	tmpl := template.Must(template.New("t").Funcs(templateFuncs).Parse(`{{title .}}`))
	for _, tc := range []struct {
		in   any
		want string
	}{
		{"not_recovered", "Not recovered"},
		{rapport.Stage(rapport.StageDissolution), "Dissolution"},
		{rapport.RecoveryNotRecovered, "Not recovered"},
		{rapport.PromiseKept, "Kept"},
		{rapport.Stage(""), ""},
	} {
		var b strings.Builder
		if err := tmpl.Execute(&b, tc.in); err != nil {
			t.Errorf("title %#v: %v", tc.in, err)
			continue
		}
		if got := b.String(); got != tc.want {
			t.Errorf("title %#v = %q; want %q", tc.in, got, tc.want)
		}
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, 3); err == nil {
		t.Errorf("title 3 = %q; want an error", b.String())
	}
}

// TestThousands writes counts of every integer type with a comma between
// each three digits, and refuses what is not a whole number.
func TestThousands(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{0, "0"}, {7, "7"}, {999, "999"}, {1000, "1,000"}, {88792, "88,792"}, {1234567, "1,234,567"},
		{-1234, "-1,234"}, {int64(10_000_000_000), "10,000,000,000"}, {uint32(65536), "65,536"},
	} {
		if got, err := thousands(tc.in); err != nil || got != tc.want {
			t.Errorf("thousands(%v) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := thousands(3.5); err == nil {
		t.Error("thousands(3.5) = nil error; want a refusal")
	}
}

// TestCalibrationTicks checks that the calibration chart's ticks are whole
// percentages, evenly spaced in value and on the chart, from 0 to a top at
// or above the largest chance shown.
func TestCalibrationTicks(t *testing.T) {
	for _, top := range []float64{0.02, 0.09, 0.1, 0.13, 0.3, 0.37, 0.62, 0.95, 1} {
		c := newCalibrationChart([]rapport.CalibrationDecile{{Predicted: top / 2, Observed: top, Customers: 10}})
		if len(c.Ticks) < 3 || len(c.Ticks) > 7 {
			t.Errorf("top %g: %d ticks; want 3 to 7", top, len(c.Ticks))
			continue
		}
		if c.Ticks[0].Label != "0%" || c.Max < top || c.Ticks[len(c.Ticks)-1].Pos != c.Size-2*c.Pad {
			t.Errorf("top %g: ticks %v over %g; want 0%% to the top of the plot, covering %g", top, c.Ticks, c.Max, top)
		}
		var step float64
		for i := 1; i < len(c.Ticks); i++ {
			lo, hi := tickValue(t, c.Ticks[i-1].Label), tickValue(t, c.Ticks[i].Label)
			if hi != math.Trunc(hi) || (i > 1 && math.Abs((hi-lo)-step) > 1e-9) {
				t.Errorf("top %g: ticks %v are not whole and even", top, c.Ticks)
				break
			}
			gap := c.Ticks[i].Pos - c.Ticks[i-1].Pos
			if want := (c.Size - 2*c.Pad) / float64(len(c.Ticks)-1); math.Abs(gap-want) > 1e-6 {
				t.Errorf("top %g: ticks %v are %g apart on the chart; want %g", top, c.Ticks, gap, want)
				break
			}
			step = hi - lo
		}
	}
}

func tickValue(t *testing.T, label string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(strings.TrimSuffix(label, "%"), 64)
	if err != nil {
		t.Fatalf("tick %q is not a percentage", label)
	}
	return v
}

// TestShare checks a rate as the outcomes show it against Wilson intervals
// worked out by hand: 30 of 100 is 30% (21.9% to 39.6%).
func TestShare(t *testing.T) {
	for _, tt := range []struct {
		k, n     int
		rate, ci string
	}{{30, 100, "30%", "22–40%"}, {0, 10, "0%", "0–28%"}, {10, 10, "100%", "72–100%"}, {0, 0, "–", ""}} {
		if got := newShare(tt.k, tt.n); got.Rate != tt.rate || got.CI != tt.ci {
			t.Errorf("newShare(%d, %d) = %+v; want %s (%s)", tt.k, tt.n, got, tt.rate, tt.ci)
		}
	}
}

// TestPlainAlert checks that an alert says what happened in plain words,
// from its details as raised and as read back from the database, and says
// nothing when the details lack a figure.
func TestPlainAlert(t *testing.T) {
	var back map[string]any
	if err := json.Unmarshal([]byte(`{"mean_rating": 3.5912, "target": 3.8, "ratings": 1260, "p_value": 0.00001}`), &back); err != nil {
		t.Fatal(err)
	}
	want := "Complaints has been below its 3.8 target over the last four weeks: 3.59 over 1,260 ratings."
	for _, details := range []map[string]any{back, {"mean_rating": 3.5912, "target": 3.8, "ratings": 1260}} {
		a := &rapport.Alert{Kind: rapport.AlertBelowTarget, Details: details}
		if got := plainAlert(a, "Complaints"); got != want {
			t.Errorf("plainAlert(%v) = %q; want %q", details, got, want)
		}
	}
	before, now := 0.42, 0.21
	a := &rapport.Alert{Kind: rapport.AlertStandardDecayed, Details: map[string]any{"response": "call_back", "baseline_magic_rate": &before, "current_magic_rate": &now}}
	if got := plainAlert(a, "Complaints"); !strings.Contains(got, "“Call back” at Complaints delights less than it did: 42% of moments were magic before it became the standard, 21% since") {
		t.Errorf("plainAlert(decay) = %q", got)
	}
	if got := plainAlert(&rapport.Alert{Kind: rapport.AlertBelowTarget, Details: map[string]any{"target": 3.8}}, "Complaints"); got != "" {
		t.Errorf("plainAlert without the figures = %q; want nothing", got)
	}
}

func TestMoney(t *testing.T) {
	for _, tt := range []struct {
		currency string
		amount   float64
		want     string
	}{{"GBP", 2050.816, "£2,050.82"}, {"CHF", 1234567.5, "1,234,567.50 CHF"}, {"", 7.05, "7.05"}, {"USD", -12.5, "−$12.50"}, {"JPY", 1500.4, "¥1,500"}} {
		if got := money(tt.currency, &tt.amount); got != tt.want {
			t.Errorf("money(%q, %v) = %q; want %q", tt.currency, tt.amount, got, tt.want)
		}
	}
	if got := money("GBP", nil); got != "–" {
		t.Errorf("money of nothing = %q", got)
	}
}

// TestGroupAlerts folds a touchpoint's older alerts of one kind under its
// newest, keeping open and acknowledged ones apart and the order of the
// rest.
func TestGroupAlerts(t *testing.T) {
	acked := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	alert := func(id, tp, kind string, ack *time.Time) *rapport.Alert {
		return &rapport.Alert{ID: id, Touchpoint: tp, Kind: kind, AcknowledgedAt: ack}
	}
	rows := alertRows([]*rapport.Alert{
		alert("a3", "complaint", rapport.AlertBelowTarget, nil),
		alert("b1", "delivery", rapport.AlertBelowTarget, nil),
		alert("a2", "complaint", rapport.AlertBelowTarget, nil),
		alert("s1", "complaint", rapport.AlertStandardDecayed, nil),
		alert("a1", "complaint", rapport.AlertBelowTarget, nil),
		alert("a0", "complaint", rapport.AlertBelowTarget, &acked),
	}, nil, nil)
	var got []string
	for _, r := range rows {
		g := r.ID
		for _, e := range r.Earlier {
			g += "+" + e.ID
		}
		got = append(got, g)
	}
	if want := []string{"a3+a2+a1", "b1", "s1", "a0"}; !slices.Equal(got, want) {
		t.Errorf("groupAlerts = %q; want %q", got, want)
	}
}
