package analytics

import (
	"math"
	"testing"
)

func TestNPS(t *testing.T) {
	// 50 promoters, 30 passives, 20 detractors: NPS = 30. Adjusted-Wald by
	// hand: n = 103, p = 50.75/103 = 0.492718, d = 20.75/103 = 0.201456,
	// centre 0.291262, se = sqrt((p + d − 0.291262²)/103) = 0.0769149,
	// 95%: 100·(0.291262 ± 1.959964·0.0769149) = (14.05, 44.20).
	n := NPS{Promoters: 50, Passives: 30, Detractors: 20}
	if got := n.Score(); got != 30 {
		t.Errorf("Score = %v; want 30", got)
	}
	iv, ok := n.Interval(0.95)
	p, d := 50.75/103, 20.75/103
	half := z975 * math.Sqrt((p+d-(p-d)*(p-d))/103)
	if !ok {
		t.Fatal("Interval not ok")
	}
	checkInterval(t, "NPS", iv, Interval{100 * (p - d - half), 100 * (p - d + half)}, 1e-6)
	checkInterval(t, "NPS (rounded)", iv, Interval{14.0511, 44.2013}, 5e-5)

	if _, ok := (NPS{}).Interval(0.95); ok || (NPS{}).Score() != 0 {
		t.Error("no answers: want score 0 and no interval")
	}
	// One promoter: the adjusted interval is centred at 25 and would stop
	// short of 100; it is widened to contain the observed score.
	iv, _ = NPS{Promoters: 1}.Interval(0.95)
	if iv.Hi != 100 || iv.Lo > 0 {
		t.Errorf("one promoter: %v; want up to 100", iv)
	}
	iv, _ = NPS{Detractors: 1000}.Interval(0.95)
	if iv.Lo != -100 || iv.Hi > -95 {
		t.Errorf("1000 detractors: %v; want from -100, narrow", iv)
	}
	var b NPS
	for _, a := range []int{10, 9, 8, 7, 6, 0, 11, -1} {
		b = b.Add(a)
	}
	if b != (NPS{Promoters: 2, Passives: 2, Detractors: 2}) {
		t.Errorf("Add = %+v; want 2/2/2 (11 and -1 ignored)", b)
	}
}
