package sqlstore

import (
	"cmp"
	"context"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/analytics"
)

// dayMicros is one UTC day in the stored time unit.
const dayMicros = int64(24 * time.Hour / time.Microsecond)

// dayOf returns the UTC day number of a time: days since 1970-01-01.
func dayOf(t time.Time) int64 {
	us := micros(t)
	d := us / dayMicros
	if us < 0 && us%dayMicros != 0 {
		d--
	}
	return d
}

// statKey is one row of moment_stats.
type statKey struct {
	touchpoint string
	day        int64
	channel    string
	response   string
}

// stats are the running totals kept per statKey; they add up across rows.
type stats struct {
	moments, magic, neutral, misery, rated int64
	ratingSum, ratingSq                    float64
	efforts                                int64
	effortSum                              float64
	npsAnswers, promoters, detractors      int64
	revenue, cost                          float64
}

func (s *stats) add(o stats) {
	s.moments += o.moments
	s.magic += o.magic
	s.neutral += o.neutral
	s.misery += o.misery
	s.rated += o.rated
	s.ratingSum += o.ratingSum
	s.ratingSq += o.ratingSq
	s.efforts += o.efforts
	s.effortSum += o.effortSum
	s.npsAnswers += o.npsAnswers
	s.promoters += o.promoters
	s.detractors += o.detractors
	s.revenue += o.revenue
	s.cost += o.cost
}

// times returns the totals multiplied by n: -1 takes a moment away.
func (s stats) times(n int) stats {
	k, f := int64(n), float64(n)
	return stats{
		moments: k * s.moments, magic: k * s.magic, neutral: k * s.neutral, misery: k * s.misery,
		rated: k * s.rated, ratingSum: f * s.ratingSum, ratingSq: f * s.ratingSq,
		efforts: k * s.efforts, effortSum: f * s.effortSum, npsAnswers: k * s.npsAnswers,
		promoters: k * s.promoters, detractors: k * s.detractors, revenue: f * s.revenue, cost: f * s.cost,
	}
}

func momentStats(m *rapport.Moment) stats {
	s := stats{moments: 1, revenue: m.Revenue, cost: m.Cost}
	switch m.Outcome {
	case rapport.OutcomeMagic:
		s.magic = 1
	case rapport.OutcomeMisery:
		s.misery = 1
	default:
		s.neutral = 1
	}
	if m.Rating != nil {
		r := float64(*m.Rating)
		s.rated, s.ratingSum, s.ratingSq = 1, r, r*r
	}
	if m.Effort != nil {
		s.efforts, s.effortSum = 1, float64(*m.Effort)
	}
	if m.NPS != nil {
		s.npsAnswers = 1
		switch {
		case *m.NPS >= 9:
			s.promoters = 1
		case *m.NPS <= 6:
			s.detractors = 1
		}
	}
	return s
}

// statColumns are moment_stats' totals, in the order of stats' fields.
const statColumns = `moments, magic, neutral, misery, rated, rating_sum, rating_sq, efforts, effort_sum,
	nps_answers, promoters, detractors, revenue, cost`

// statSums selects the totals of statColumns summed over a group.
const statSums = `SUM(moments), SUM(magic), SUM(neutral), SUM(misery), SUM(rated), SUM(rating_sum), SUM(rating_sq),
	SUM(efforts), SUM(effort_sum), SUM(nps_answers), SUM(promoters), SUM(detractors), SUM(revenue), SUM(cost)`

func (s *stats) scanTargets() []any {
	return []any{&s.moments, &s.magic, &s.neutral, &s.misery, &s.rated, &s.ratingSum, &s.ratingSq,
		&s.efforts, &s.effortSum, &s.npsAnswers, &s.promoters, &s.detractors, &s.revenue, &s.cost}
}

// addMomentStats adds moments' figures to the running totals, or takes
// them away (sign -1), in the transaction that changes the moments, so the
// totals never disagree with them. Rows are updated in key order so that
// concurrent writers on PostgreSQL take row locks in the same order.
func addMomentStats(ctx context.Context, tx *tx, ms []signedMoment) error {
	groups := map[statKey]*stats{}
	for _, sm := range ms {
		m := sm.m
		k := statKey{m.Touchpoint, dayOf(m.OccurredAt), string(m.Channel), m.Response}
		if groups[k] == nil {
			groups[k] = &stats{}
		}
		groups[k].add(momentStats(m).times(sm.sign))
	}
	keys := sortedKeys(groups, func(a, b statKey) int {
		return cmp.Or(strings.Compare(a.touchpoint, b.touchpoint), cmp.Compare(a.day, b.day),
			strings.Compare(a.channel, b.channel), strings.Compare(a.response, b.response))
	})
	cols := strings.Fields(strings.ReplaceAll(statColumns, ",", " "))
	var set strings.Builder
	for i, c := range cols {
		if i > 0 {
			set.WriteString(", ")
		}
		set.WriteString(c + " = moment_stats." + c + " + excluded." + c)
	}
	const perRow = 18
	for start := 0; start < len(keys); start += insertChunk {
		chunk := keys[start:min(start+insertChunk, len(keys))]
		var q strings.Builder
		q.WriteString(`INSERT INTO moment_stats (touchpoint, day, channel, response, ` + statColumns + `) VALUES `)
		args := make([]any, 0, len(chunk)*perRow)
		for i, k := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(" + placeholders(perRow) + ")")
			s := groups[k]
			args = append(args, k.touchpoint, k.day, k.channel, k.response, s.moments, s.magic, s.neutral, s.misery,
				s.rated, s.ratingSum, s.ratingSq, s.efforts, s.effortSum, s.npsAnswers, s.promoters, s.detractors,
				s.revenue, s.cost)
		}
		q.WriteString(` ON CONFLICT (touchpoint, day, channel, response) DO UPDATE SET ` + set.String())
		if _, err := tx.exec(ctx, q.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// sumStats adds up the running totals over the days [fromDay, toDay), grouped
// by the column by ("touchpoint" or "response"), for rows matching where (with
// its args) and, when set, one channel.
func sumStats(ctx context.Context, q querier, by string, fromDay, toDay int64, channel rapport.Channel, where string, args ...any) (map[string]stats, error) {
	query := `SELECT ` + by + `, ` + statSums + ` FROM moment_stats WHERE ` + where + ` AND day >= ? AND day < ?`
	args = append(args, fromDay, toDay)
	if channel != "" {
		query, args = query+` AND channel = ?`, append(args, string(channel))
	}
	rows, err := q.query(ctx, query+` GROUP BY `+by, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	totals := map[string]stats{}
	for rows.Next() {
		var key string
		var st stats
		if err := rows.Scan(append([]any{&key}, st.scanTargets()...)...); err != nil {
			return nil, err
		}
		totals[key] = st
	}
	return totals, rows.Err()
}

// RebuildMomentStats recomputes the running totals from the moments, for
// after a bulk load that wrote moments directly.
func (db *DB) RebuildMomentStats(ctx context.Context) error {
	return db.inTx(ctx, func(tx *tx) error {
		if _, err := tx.exec(ctx, `DELETE FROM moment_stats`); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `INSERT INTO moment_stats (touchpoint, day, channel, response, `+statColumns+`)
			SELECT touchpoint, occurred_at / 86400000000, channel, COALESCE(response, ''), COUNT(*),
				SUM(CASE WHEN outcome = 'magic' THEN 1 ELSE 0 END),
				SUM(CASE WHEN outcome = 'neutral' THEN 1 ELSE 0 END),
				SUM(CASE WHEN outcome = 'misery' THEN 1 ELSE 0 END),
				COUNT(rating), COALESCE(SUM(rating), 0), COALESCE(SUM(rating * rating), 0),
				COUNT(effort), COALESCE(SUM(effort), 0),
				COUNT(nps), SUM(CASE WHEN nps >= 9 THEN 1 ELSE 0 END), SUM(CASE WHEN nps <= 6 THEN 1 ELSE 0 END),
				SUM(revenue), SUM(cost)
			FROM moments
			GROUP BY touchpoint, occurred_at / 86400000000, channel, COALESCE(response, '')`)
		return err
	})
}

// Measures derived from totals.

func (s stats) magicRate() analytics.Proportion {
	return analytics.Proportion{Successes: int(s.magic), Trials: int(s.moments)}
}

func (s stats) miseryRate() analytics.Proportion {
	return analytics.Proportion{Successes: int(s.misery), Trials: int(s.moments)}
}

func (s stats) ratings() analytics.Mean {
	return analytics.Mean{N: int(s.rated), Sum: s.ratingSum, SumSquares: s.ratingSq}
}

// confidence is the level of every interval Rapport shows.
const confidence = 0.95

func rateOf(p analytics.Proportion) (*float64, *rapport.Interval) {
	iv, ok := p.Wilson(confidence)
	if !ok {
		return nil, nil
	}
	r := p.Rate()
	return &r, &rapport.Interval{iv.Lo, iv.Hi}
}

func meanOf(m analytics.Mean) (*float64, *rapport.Interval) {
	if m.N == 0 {
		return nil, nil
	}
	v := m.Value()
	iv, ok := m.Interval(confidence)
	if !ok {
		return &v, nil
	}
	iv = iv.Clamp(1, 5)
	return &v, &rapport.Interval{iv.Lo, iv.Hi}
}
