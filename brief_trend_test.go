package rapport

import (
	"testing"
	"time"
)

func TestTrendDirectionOf(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	for _, tc := range []struct {
		recent, previous *float64
		want             TrendDirection
	}{
		{nil, nil, TrendUnknown},
		{f(4), nil, TrendUnknown},
		{nil, f(4), TrendUnknown},
		{f(4), f(4), TrendSteady},
		{f(4.3), f(4), TrendSteady},
		{f(3.7), f(4), TrendSteady},
		{f(4.31), f(4), TrendImproving},
		{f(3.69), f(4), TrendDeclining},
		{f(5), f(1), TrendImproving},
	} {
		if got := TrendDirectionOf(tc.recent, tc.previous); got != tc.want {
			t.Errorf("TrendDirectionOf(%v, %v) = %s; want %s", show(tc.recent), show(tc.previous), got, tc.want)
		}
	}
}

func show(p *float64) any {
	if p == nil {
		return "nil"
	}
	return *p
}

func TestBriefTrendOf(t *testing.T) {
	now := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
	today := time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)
	day := func(d int) time.Time { return today.AddDate(0, 0, -d) }
	rated := func(d int, rating float64) TrendDay {
		return TrendDay{Day: day(d), Moments: 1, Rated: 1, RatingSum: rating}
	}
	magic, misery := rated(1, 5), TrendDay{Day: day(20), Moments: 1, Misery: 1} // unrated: counted in its month only
	magic.Magic = 1
	old := rated(100, 2)
	old.Misery = 1
	ms := []TrendDay{
		magic,
		rated(10, 4),
		misery,
		rated(89, 3), rated(90, 1), // the last day of the recent 90, the first of the previous
		old,
		rated(150, 3),
		rated(179, 4), rated(180, 5), // the last day of the previous 90, and the day before it
		rated(200, 1),            // before both windows and the months
		rated(-1, 1),             // tomorrow: ignored
		{Day: today, Moments: 1}, // today, unrated
	}
	got := BriefTrendOf(now, ms)
	if got.RecentRated != 3 || got.RecentMean == nil || *got.RecentMean != 4 {
		t.Errorf("recent = %d rated, mean %v; want 3 (5, 4, 3) and 4", got.RecentRated, show(got.RecentMean))
	}
	if got.PreviousRated != 4 || got.PreviousMean == nil || *got.PreviousMean != 2.5 {
		t.Errorf("previous = %d rated, mean %v; want 4 (1, 2, 3, 4) and 2.5", got.PreviousRated, show(got.PreviousMean))
	}
	if got.Direction != TrendImproving {
		t.Errorf("direction = %s; want improving", got.Direction)
	}
	if len(got.Months) != BriefTrendMonths {
		t.Fatalf("%d months; want %d", len(got.Months), BriefTrendMonths)
	}
	if first := time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC); !got.Months[0].Month.Equal(first) {
		t.Errorf("first month = %v; want %v", got.Months[0].Month, first)
	}
	// March: today, day 1 and day 10; February: day 20 (23 Feb 2026); December: day 89 (16 Dec) and day 90
	// (15 Dec), January none; December also day 100 (5 Dec); October: day 150 (16 Oct); September (days 179,
	// 180, 200) is before the first month.
	want := map[int]BriefMonth{
		5: {Moments: 3, Rated: 2, Magic: 1},
		4: {Moments: 1, Misery: 1},
		2: {Moments: 3, Rated: 3, Misery: 1},
		0: {Moments: 1, Rated: 1},
	}
	for i, m := range got.Months {
		w := want[i]
		if m.Moments != w.Moments || m.Rated != w.Rated || m.Magic != w.Magic || m.Misery != w.Misery {
			t.Errorf("month %s = %d moments, %d rated, %d magic, %d misery; want %d, %d, %d, %d", m.Month.Format("Jan 2006"),
				m.Moments, m.Rated, m.Magic, m.Misery, w.Moments, w.Rated, w.Magic, w.Misery)
		}
		if (m.MeanRating != nil) != (w.Rated > 0) {
			t.Errorf("month %s mean = %v; want one only when rated", m.Month.Format("Jan 2006"), show(m.MeanRating))
		}
	}
	if got := BriefTrendOf(now, nil); got.Direction != TrendUnknown || got.RecentMean != nil || len(got.Months) != BriefTrendMonths {
		t.Errorf("BriefTrendOf(no moments) = %+v; want unknown, no mean, %d empty months", got, BriefTrendMonths)
	}
}

func TestBriefTrendSince(t *testing.T) {
	for _, tc := range []struct{ now, want time.Time }{
		// 179 days before 15 March is 17 September, before October's start.
		{time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC), time.Date(2025, 9, 17, 0, 0, 0, 0, time.UTC)},
		// On 31 March, 179 days before is 3 October; the months start on 1 October.
		{time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC), time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if got := BriefTrendSince(tc.now); !got.Equal(tc.want) {
			t.Errorf("BriefTrendSince(%v) = %v; want %v", tc.now, got, tc.want)
		}
	}
}

func TestTrendDirectionKnown(t *testing.T) {
	for d, want := range map[TrendDirection]bool{TrendUnknown: false, "": false, TrendSteady: true, TrendImproving: true, TrendDeclining: true} {
		if got := d.Known(); got != want {
			t.Errorf("%q.Known() = %v; want %v", d, got, want)
		}
	}
}
