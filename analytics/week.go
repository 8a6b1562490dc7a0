package analytics

import "time"

// Week numbering lets the SQL store bucket moments by week with integer
// arithmetic alone, identically on SQLite and PostgreSQL. Week 0 starts on
// Monday 1970-01-05 00:00 UTC, the first Monday after the Unix epoch; weeks
// run Monday 00:00 UTC to the next Monday, as in ISO 8601.
const (
	// WeekEpochMicros is Monday 1970-01-05 00:00 UTC in microseconds since the Unix epoch.
	WeekEpochMicros int64 = 4 * 24 * 60 * 60 * 1_000_000 // 345_600_000_000
	// WeekMicros is the length of a week in microseconds.
	WeekMicros int64 = 7 * 24 * 60 * 60 * 1_000_000 // 604_800_000_000
)

// WeekOfMicros is the week number of a timestamp in microseconds since the
// Unix epoch:
//
//	week = floor((micros − WeekEpochMicros) / WeekMicros)
//
// Floor, not truncation, so instants before 1970-01-05 fall in negative weeks
// rather than piling into week 0. SQL integer division truncates towards zero
// on both SQLite and PostgreSQL, so the portable SQL spelling is
//
//	(micros - 345600000000
//	  - CASE WHEN micros < 345600000000 THEN 604799999999 ELSE 0 END) / 604800000000
//
// and, for data known to start after 1970-01-05, simply
// (micros - 345600000000) / 604800000000.
func WeekOfMicros(micros int64) int64 {
	d := micros - WeekEpochMicros
	w := d / WeekMicros
	if d%WeekMicros < 0 {
		w--
	}
	return w
}

// WeekNumber is the week number of t (see WeekOfMicros); t's time zone does
// not matter, weeks are cut in UTC.
func WeekNumber(t time.Time) int64 { return WeekOfMicros(t.UnixMicro()) }

// WeekStartOf is the Monday 00:00 UTC that begins week number w.
func WeekStartOf(w int64) time.Time {
	return time.UnixMicro(WeekEpochMicros + w*WeekMicros).UTC()
}

// WeekStart is the Monday 00:00 UTC that begins the week containing t, the
// label of t's point on a weekly trend.
func WeekStart(t time.Time) time.Time {
	u := t.UTC()
	day := time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
	back := (int(day.Weekday()) + 6) % 7 // days since Monday
	return day.AddDate(0, 0, -back)
}
