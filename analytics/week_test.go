package analytics

import (
	"testing"
	"time"
)

func TestWeeks(t *testing.T) {
	kiritimati := time.FixedZone("UTC+14", 14*3600)
	for _, tc := range []struct {
		in    time.Time
		start string
		week  int64
	}{
		{time.Date(1970, 1, 5, 0, 0, 0, 0, time.UTC), "1970-01-05", 0},
		{time.Date(1970, 1, 11, 23, 59, 59, 999_999_999, time.UTC), "1970-01-05", 0},
		{time.Date(1970, 1, 12, 0, 0, 0, 0, time.UTC), "1970-01-12", 1},
		// Before the epoch Monday: floor, not truncation.
		{time.Date(1970, 1, 4, 23, 59, 59, 0, time.UTC), "1969-12-29", -1},
		{time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), "1969-12-29", -1},
		{time.Date(1969, 12, 28, 12, 0, 0, 0, time.UTC), "1969-12-22", -2},
		// 2024-01-01 is a Monday, 19723 days after 1970-01-01: (19723 − 4)/7 = 2817.
		{time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), "2024-01-01", 2817},
		{time.Date(2024, 1, 3, 15, 4, 5, 0, time.UTC), "2024-01-01", 2817},
		{time.Date(2024, 1, 7, 23, 59, 59, 0, time.UTC), "2024-01-01", 2817},
		// Monday 01:00 at UTC+14 is still Sunday in UTC: the week before.
		{time.Date(2024, 1, 8, 1, 0, 0, 0, kiritimati), "2024-01-01", 2817},
		// Leap day inside a week that straddles months.
		{time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC), "2024-02-26", 2825},
	} {
		start := WeekStart(tc.in)
		if got := start.Format("2006-01-02"); got != tc.start || start.Location() != time.UTC ||
			start.Hour() != 0 || start.Weekday() != time.Monday {
			t.Errorf("WeekStart(%v) = %v; want %s 00:00 UTC, a Monday", tc.in, start, tc.start)
		}
		if got := WeekNumber(tc.in); got != tc.week {
			t.Errorf("WeekNumber(%v) = %d; want %d", tc.in, got, tc.week)
		}
		if got := WeekStartOf(tc.week); !got.Equal(start) {
			t.Errorf("WeekStartOf(%d) = %v; want %v", tc.week, got, start)
		}
	}
	if WeekEpochMicros != 345_600_000_000 || WeekMicros != 604_800_000_000 {
		t.Errorf("constants %d, %d; want 345600000000, 604800000000", WeekEpochMicros, WeekMicros)
	}
	// The SQL spelling in the doc comment, evaluated with truncating division.
	sql := func(micros int64) int64 {
		adj := int64(0)
		if micros < 345600000000 {
			adj = 604799999999
		}
		return (micros - 345600000000 - adj) / 604800000000
	}
	for _, m := range []int64{-1, 0, 345599999999, 345600000000, 950399999999, 950400000000, -604800000000, 1_704_067_200_000_000} {
		if got, want := sql(m), WeekOfMicros(m); got != want {
			t.Errorf("SQL formula at %d = %d; WeekOfMicros = %d", m, got, want)
		}
	}
}

func FuzzWeeks(f *testing.F) {
	f.Add(int64(0))
	f.Add(int64(-1))
	f.Add(int64(1_704_067_200_000_000))
	f.Fuzz(func(t *testing.T, micros int64) {
		// Keep within ±200,000 years, where time.Time is exact.
		micros %= 6_000_000_000_000_000_000
		tm := time.UnixMicro(micros)
		w := WeekOfMicros(micros)
		start := WeekStart(tm)
		if !start.Equal(WeekStartOf(w)) {
			t.Fatalf("micros %d: WeekStart %v, WeekStartOf(%d) %v", micros, start, w, WeekStartOf(w))
		}
		if tm.Before(start) || !tm.Before(start.AddDate(0, 0, 7)) || start.Weekday() != time.Monday {
			t.Fatalf("micros %d: %v not in the week starting %v", micros, tm, start)
		}
	})
}
