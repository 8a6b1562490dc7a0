package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/analytics"
)

// ReportService measures touchpoints from the running totals in moment_stats.
type ReportService struct{ db *DB }

// NewReportService returns the reports over db.
func NewReportService(db *DB) *ReportService { return &ReportService{db: db} }

var _ rapport.ReportService = (*ReportService)(nil)

// The impact of misery is measured on what customers did in the follow-up
// after it, over a year of moments whose follow-up has fully elapsed.
const (
	impactFollowUp = 90 * 24 * time.Hour
	impactWindow   = 365 * 24 * time.Hour
	impactMeasure  = "dissolution_within_90_days"
)

// dayWindow turns a filter's times into whole UTC days [from, to), defaulting
// to the last 365 days up to and including today.
func dayWindow(f rapport.ReportFilter, now time.Time) (fromDay, toDay int64, err error) {
	toDay = dayOf(now) + 1
	if !f.To.IsZero() {
		toDay = dayOf(f.To)
		if !f.To.Equal(dayStart(toDay)) {
			toDay++ // a To inside a day includes that day
		}
	}
	fromDay = toDay - 365
	if !f.From.IsZero() {
		fromDay = dayOf(f.From)
	}
	if fromDay >= toDay {
		return 0, 0, &rapport.Error{Code: rapport.EINVALID, Message: "The window is empty.",
			Fields: []rapport.FieldError{{Field: "from", Message: "must be before to"}}}
	}
	return fromDay, toDay, nil
}

func dayStart(day int64) time.Time { return fromMicros(day * dayMicros) }

// TouchpointReport measures every touchpoint over the window, ranked by priority.
func (s *ReportService) TouchpointReport(ctx context.Context, f rapport.ReportFilter) (*rapport.TouchpointReport, error) {
	fromDay, toDay, err := dayWindow(f, s.db.now())
	if err != nil {
		return nil, err
	}
	touchpoints, err := NewTouchpointService(s.db).FindTouchpoints(ctx)
	if err != nil {
		return nil, err
	}
	var totals map[string]stats
	if f.Segment != "" {
		totals, err = s.db.segmentTouchpointStats(ctx, f, fromDay, toDay)
	} else {
		// Naming the touchpoints lets the totals' key (touchpoint, day, …)
		// seek each touchpoint's days of the window: the report reads the
		// window, however many years of totals lie before it.
		totals, err = sumStats(ctx, s.db.reader(), "touchpoint", fromDay, toDay, f.Channel, "touchpoint IN (SELECT key FROM touchpoints)")
	}
	if err != nil {
		return nil, err
	}
	impacts, err := s.impacts(ctx)
	if err != nil {
		return nil, err
	}
	report := &rapport.TouchpointReport{From: dayStart(fromDay), To: dayStart(toDay), Channel: f.Channel,
		Touchpoints: []rapport.TouchpointMeasures{}}
	var ranking []analytics.PriorityInput
	for _, t := range touchpoints {
		st := totals[t.Key]
		m := rapport.TouchpointMeasures{Key: t.Key, Name: t.Name, Phase: t.Phase, TargetScore: t.TargetScore,
			Volume: int(st.moments), Rated: int(st.rated), NPSAnswers: int(st.npsAnswers), Revenue: st.revenue, Cost: st.cost}
		m.MeanRating, m.MeanRatingCI = meanOf(st.ratings())
		m.MagicRate, m.MagicRateCI = rateOf(st.magicRate())
		m.MiseryRate, m.MiseryRateCI = rateOf(st.miseryRate())
		nps := analytics.NPS{Promoters: int(st.promoters), Detractors: int(st.detractors),
			Passives: int(st.npsAnswers - st.promoters - st.detractors)}
		if nps.Total() > 0 {
			score := nps.Score()
			m.NPS = &score
			if iv, ok := nps.Interval(confidence); ok {
				m.NPSCI = &rapport.Interval{iv.Lo, iv.Hi}
			}
		}
		if st.efforts > 0 {
			e := st.effortSum / float64(st.efforts)
			m.MeanEffort = &e
		}
		in := analytics.PriorityInput{Key: t.Key, Volume: m.Volume, MiseryVolume: float64(st.misery)}
		if im, ok := impacts[t.Key]; ok {
			m.Impact = im.public
			in.Impact = im.estimate
		}
		if t.Priority != nil {
			in.Override = *t.Priority
		}
		ranking = append(ranking, in)
		report.Touchpoints = append(report.Touchpoints, m)
	}
	byKey := map[string]analytics.Ranked{}
	for _, r := range analytics.RankTouchpoints(ranking) {
		byKey[r.Key] = r
	}
	for i := range report.Touchpoints {
		r := byKey[report.Touchpoints[i].Key]
		report.Touchpoints[i].Priority = rapport.Priority{Rank: r.Rank, Score: r.Score, Overridden: r.Overridden}
	}
	slices.SortStableFunc(report.Touchpoints, func(a, b rapport.TouchpointMeasures) int { return a.Priority.Rank - b.Priority.Rank })
	return report, nil
}

// impact is a touchpoint's stored impact, as shown and as ranked.
type impact struct {
	public   *rapport.Impact
	estimate analytics.ImpactEstimate
}

func (s *ReportService) impacts(ctx context.Context) (map[string]impact, error) {
	rows, err := s.db.reader().query(ctx, `SELECT touchpoint, window_from, window_to, exposed, exposed_events,
		unexposed, unexposed_events, computed_at FROM touchpoint_impact`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]impact{}
	for rows.Next() {
		var (
			key                                   string
			from, to, computed                    int64
			exposed, exposedEv, unexposed, unexEv int
		)
		if err := rows.Scan(&key, &from, &to, &exposed, &exposedEv, &unexposed, &unexEv, &computed); err != nil {
			return nil, err
		}
		est := analytics.Impact(analytics.Proportion{Successes: exposedEv, Trials: exposed},
			analytics.Proportion{Successes: unexEv, Trials: unexposed})
		out[key] = impact{estimate: est, public: &rapport.Impact{
			Measure: impactMeasure, WindowFrom: fromMicros(from), WindowTo: fromMicros(to),
			Exposed: exposed, ExposedEvents: exposedEv, Unexposed: unexposed, UnexposedEvents: unexEv,
			ExposedRate: est.ExposedRate, UnexposedRate: est.UnexposedRate,
			RiskDifference: est.RiskDifference, RiskDifferenceCI: rapport.Interval{est.RiskDifferenceInterval.Lo, est.RiskDifferenceInterval.Hi},
			RelativeRisk: est.RelativeRisk, RelativeRiskCI: rapport.Interval{est.RelativeRiskInterval.Lo, est.RelativeRiskInterval.Hi},
			PValue: est.PValue, ComputedAt: fromMicros(computed),
		}}
	}
	return out, rows.Err()
}

// RefreshImpact measures, for each touchpoint, how often customers dissolved
// within 90 days after a misery moment there, against after a moment there
// that was not misery. Each customer counts once per touchpoint: from their
// first misery there if they had one (exposed), else from their first moment
// there (unexposed). Only moments whose 90-day follow-up has passed count.
func (s *ReportService) RefreshImpact(ctx context.Context) error {
	now := s.db.now()
	to := now.Add(-impactFollowUp)
	from := to.Add(-impactWindow)
	touchpoints, err := NewTouchpointService(s.db).FindTouchpoints(ctx)
	if err != nil {
		return err
	}
	type result struct{ exposed, exposedEv, unexposed, unexposedEv int64 }
	results := map[string]result{}
	for _, t := range touchpoints {
		rows, err := s.db.reader().query(ctx, `
			SELECT CASE WHEN f.misery_at IS NULL THEN 0 ELSE 1 END, COUNT(*),
				SUM(CASE WHEN EXISTS (SELECT 1 FROM stage_changes s
					WHERE s.customer_id = f.customer_id AND s.to_stage = 'dissolution'
					AND s.changed_at >= COALESCE(f.misery_at, f.first_at)
					AND s.changed_at < COALESCE(f.misery_at, f.first_at) + ?) THEN 1 ELSE 0 END)
			FROM (SELECT customer_id, MIN(CASE WHEN outcome = 'misery' THEN occurred_at END) AS misery_at,
					MIN(occurred_at) AS first_at
				FROM moments WHERE touchpoint = ? AND occurred_at >= ? AND occurred_at < ?
				GROUP BY customer_id) f
			GROUP BY CASE WHEN f.misery_at IS NULL THEN 0 ELSE 1 END`,
			int64(impactFollowUp/time.Microsecond), t.Key, micros(from), micros(to))
		if err != nil {
			return err
		}
		var r result
		for rows.Next() {
			var exposed, n int64
			var events sql.NullInt64
			if err := rows.Scan(&exposed, &n, &events); err != nil {
				rows.Close()
				return err
			}
			if exposed == 1 {
				r.exposed, r.exposedEv = n, events.Int64
			} else {
				r.unexposed, r.unexposedEv = n, events.Int64
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		results[t.Key] = r
	}
	return s.db.inTx(ctx, func(tx *tx) error {
		for key, r := range results {
			_, err := tx.exec(ctx, `INSERT INTO touchpoint_impact (touchpoint, window_from, window_to, exposed,
				exposed_events, unexposed, unexposed_events, computed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (touchpoint) DO UPDATE SET window_from = excluded.window_from, window_to = excluded.window_to,
				exposed = excluded.exposed, exposed_events = excluded.exposed_events, unexposed = excluded.unexposed,
				unexposed_events = excluded.unexposed_events, computed_at = excluded.computed_at`,
				key, micros(from), micros(to), r.exposed, r.exposedEv, r.unexposed, r.unexposedEv, micros(now))
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// Trend returns a touchpoint's last weeks (Monday to Sunday, UTC), oldest
// first, the current week included.
func (s *ReportService) Trend(ctx context.Context, touchpoint string, weeks int) (*rapport.Trend, error) {
	t, err := NewTouchpointService(s.db).FindTouchpointByKey(ctx, touchpoint)
	if err != nil {
		return nil, err
	}
	if weeks < 1 || weeks > 260 {
		return nil, &rapport.Error{Code: rapport.EINVALID, Message: "The trend request is not valid.",
			Fields: []rapport.FieldError{{Field: "weeks", Message: "must be from 1 to 260"}}}
	}
	lastWeek := analytics.WeekNumber(s.db.now())
	firstWeek := lastWeek - int64(weeks) + 1
	fromDay, toDay := dayOf(analytics.WeekStartOf(firstWeek)), dayOf(analytics.WeekStartOf(lastWeek+1))
	rows, err := s.db.reader().query(ctx, `SELECT day, `+statSums+` FROM moment_stats
		WHERE touchpoint = ? AND day >= ? AND day < ? GROUP BY day`, touchpoint, fromDay, toDay)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	perWeek := make([]stats, weeks)
	for rows.Next() {
		var day int64
		var st stats
		if err := rows.Scan(append([]any{&day}, st.scanTargets()...)...); err != nil {
			return nil, err
		}
		perWeek[analytics.WeekNumber(dayStart(day))-firstWeek].add(st)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	trend := &rapport.Trend{Touchpoint: t.Key, TargetScore: t.TargetScore}
	for i, st := range perWeek {
		p := rapport.TrendPoint{Week: analytics.WeekStartOf(firstWeek + int64(i)), Moments: int(st.moments), Rated: int(st.rated)}
		p.MeanRating, p.MeanRatingCI = meanOf(st.ratings())
		p.MagicRate, _ = rateOf(st.magicRate())
		p.MiseryRate, _ = rateOf(st.miseryRate())
		trend.Weeks = append(trend.Weeks, p)
	}
	return trend, nil
}
