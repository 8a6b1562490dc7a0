package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/analytics"
)

// maxHandoverDays bounds the distinct days of handovers one report
// measures: each day reads every customer's daily totals around it.
const maxHandoverDays = 60

// handed is one handover measured.
type handed struct {
	customer, to, name, team string
	day                      int64
}

// handoverComparablesPerDay bounds the comparable customers whose risk one
// handover day works out: an even sample of ids beyond it, as a refit of
// the risk model samples a date. Scoring a customer as they stood on a past
// day takes about 0.2 ms on SQLite (the demo firm's 2,540 of one day took
// 0.45 s), so a day costs at most about a second more. Of 5,000, a band
// that holds 1% of a day's customers still has about 50 to compare with;
// the sentence of the report says when a day was sampled.
const handoverComparablesPerDay = 5_000

// HandoverReport measures the handovers of a period (the last 365 days by
// default) whose 90 days after have ended: each handed customer's moments
// in the 90 days before and after against those of comparable customers,
// who were active that day, had no handover within 90 days of it, and
// stood in the same stage and the same risk band that day.
//
// The risk band is worked out, not looked up: a customer's risk is kept
// only as it is now, so the report scores each handed customer, and each
// customer who could be compared with them, as they stood at the start of
// the handover day, with the risk model in use and the facts a refit reads
// for a past date (gatherFacts, historical). That is exact for any past
// day, including handovers loaded with their history, and costs a refit's
// read of one date per handover day; keeping every customer's band daily
// instead would write a row per customer per day for a report read now and
// then, and know nothing of days before it began.
func (s *HandoverService) HandoverReport(ctx context.Context, f rapport.HandoverReportFilter) (*rapport.HandoverReport, error) {
	return s.handoverReport(ctx, f, true)
}

// handoverReport is HandoverReport, matching on the risk band or, for
// showing what that changes, on the day and stage alone.
func (s *HandoverService) handoverReport(ctx context.Context, f rapport.HandoverReportFilter, byRisk bool) (*rapport.HandoverReport, error) {
	now := s.db.now()
	fromDay, toDay, err := dayWindow(rapport.ReportFilter{From: f.From, To: f.To}, now)
	if err != nil {
		return nil, err
	}
	q := s.db.reader()
	var measured []handed
	pending := 0
	err = eachRow(ctx, q, `SELECT h.customer_id, h.to_owner, u.name, COALESCE(u.team, ''), h.handed_at FROM handovers h
		JOIN users u ON u.id = h.to_owner WHERE h.handed_at >= ? AND h.handed_at < ? ORDER BY h.handed_at, h.id`,
		[]any{fromDay * dayMicros, toDay * dayMicros}, func(rows *sql.Rows) error {
			var h handed
			var at int64
			if err := rows.Scan(&h.customer, &h.to, &h.name, &h.team, &at); err != nil {
				return err
			}
			h.day = at / dayMicros
			if h.day+rapport.HandoverWindowDays > dayOf(now) {
				pending++
				return nil
			}
			measured = append(measured, h)
			return nil
		})
	if err != nil {
		return nil, err
	}
	days := map[int64][]handed{}
	for _, h := range measured {
		days[h.day] = append(days[h.day], h)
	}
	if len(days) > maxHandoverDays {
		return nil, &rapport.Error{Code: rapport.EINVALID, Message: fmt.Sprintf(
			"The period has handovers on %d days; a report measures at most %d: choose a shorter period.", len(days), maxHandoverDays),
			Fields: []rapport.FieldError{{Field: "from", Message: "the period has handovers on too many days"}}}
	}
	hist, err := loadHandoverHistory(ctx, q)
	if err != nil {
		return nil, err
	}
	match := rapport.HandoverMatch{RiskBand: byRisk}
	var scorer riskBandScorer
	if byRisk {
		if scorer, err = loadRiskBandScorer(ctx, q); err != nil {
			return nil, err
		}
		match.RiskModel = scorer.kind
	}
	groups := map[string]*rapport.HandoverGroupUnits{"all": {Kind: "all", Name: "All handovers"}}
	var comparables []rapport.HandoverUnit
	inactive := 0
	for _, day := range sortedKeys(days, func(a, b int64) int { return int(a - b) }) {
		sums, err := customerWindows(ctx, q, day)
		if err != nil {
			return nil, err
		}
		// The handed customers first: only customers of their stages can
		// be compared with them, so only those are scored.
		type handedUnit struct {
			h     handed
			u     rapport.HandoverUnit
			stage string
		}
		var today []handedUnit
		handedToday, stages := map[string]bool{}, map[string]bool{}
		var ids []string
		for _, h := range days[day] {
			handedToday[h.customer] = true
			u, stage, ok := hist.unit(h.customer, day, sums[h.customer])
			if !ok {
				inactive++
				continue
			}
			today = append(today, handedUnit{h, u, stage})
			stages[stage] = true
			ids = append(ids, h.customer)
		}
		var candidates []string
		for _, id := range hist.customers {
			if !handedToday[id] && stages[hist.activeStage(id, day)] && !hist.handedNear(id, day) {
				candidates = append(candidates, id)
			}
		}
		if len(candidates) > handoverComparablesPerDay {
			candidates = evenSample(candidates, handoverComparablesPerDay)
			match.Sample = handoverComparablesPerDay
		}
		var bands map[string]rapport.Band
		if byRisk {
			if bands, err = scorer.bands(ctx, q, append(ids, candidates...), dayStart(day).Add(-time.Microsecond)); err != nil {
				return nil, err
			}
		}
		cell := func(u *rapport.HandoverUnit, id, stage string) {
			u.Risk = bands[id]
			u.Cell = fmt.Sprintf("%d %s %s", day, stage, u.Risk)
		}
		for _, x := range today {
			cell(&x.u, x.h.customer, x.stage)
			groups["all"].Units = append(groups["all"].Units, x.u)
			addToGroup(groups, "person "+x.h.to, rapport.HandoverGroupUnits{Kind: "person", ID: x.h.to, Name: x.h.name}, x.u)
			if x.h.team != "" {
				addToGroup(groups, "team "+x.h.team, rapport.HandoverGroupUnits{Kind: "team", ID: x.h.team, Name: x.h.team}, x.u)
			}
		}
		for _, id := range candidates {
			if u, stage, ok := hist.unit(id, day, sums[id]); ok {
				cell(&u, id, stage)
				comparables = append(comparables, u)
			}
		}
	}
	var list []rapport.HandoverGroupUnits
	for _, key := range sortedKeys(groups, func(a, b string) int { return cmp.Or(groupOrder(a)-groupOrder(b), strings.Compare(a, b)) }) {
		if len(groups[key].Units) > 0 {
			list = append(list, *groups[key])
		}
	}
	r := rapport.NewHandoverReport(list, comparables, match, now)
	r.From, r.To, r.Handovers, r.Pending, r.Inactive = dayStart(fromDay), dayStart(toDay), len(measured), pending, inactive
	return r, nil
}

// riskBandScorer works out customers' risk bands as they stood at a past
// time, with the risk model that scores customers now.
type riskBandScorer struct {
	model *analytics.RiskModel
	names touchpointNames
	kind  string // fitted or prior
}

func loadRiskBandScorer(ctx context.Context, q querier) (riskBandScorer, error) {
	var sc riskBandScorer
	st, _, err := loadStoredRisk(ctx, q)
	if err != nil {
		return sc, err
	}
	sc.model, sc.kind = analytics.PriorRiskModel(), "prior"
	if st.scores() {
		sc.model, sc.kind = st.Model, "fitted"
	}
	sc.names, err = loadTouchpointNames(ctx, q)
	return sc, err
}

// bands scores the customers as they stood at at, from the facts a refit
// reads for that date: moments, holdings, cases and promises as known then
// and the stage as the dated history had it. Each band is that of the risk
// the customer would have been shown, 100 × the model's chance rounded.
func (sc riskBandScorer) bands(ctx context.Context, q querier, ids []string, at time.Time) (map[string]rapport.Band, error) {
	out := make(map[string]rapport.Band, len(ids))
	for chunk := range slices.Chunk(ids, insertChunk) {
		facts, err := gatherFacts(ctx, q, chunk, at, true, nil)
		if err != nil {
			return nil, err
		}
		for _, f := range facts {
			p := sc.model.Probability(f.relationshipFacts(sc.names))
			out[f.id] = rapport.BandOf(int(math.Round(100 * p)))
		}
	}
	return out, nil
}

func addToGroup(groups map[string]*rapport.HandoverGroupUnits, key string, g rapport.HandoverGroupUnits, u rapport.HandoverUnit) {
	if groups[key] == nil {
		groups[key] = &g
	}
	groups[key].Units = append(groups[key].Units, u)
}

// groupOrder puts everyone first, then teams, then people.
func groupOrder(key string) int {
	switch {
	case key == "all":
		return -2
	case strings.HasPrefix(key, "team "):
		return -1
	}
	return 0
}

// windowSums are one customer's moments in the 90 days before and after a day.
type windowSums struct {
	moments, magic, misery, rated [2]int
	ratingSum                     [2]float64
}

// customerWindows sums every customer's daily totals in the 90 days before
// and after day.
func customerWindows(ctx context.Context, q querier, day int64) (map[string]*windowSums, error) {
	out := map[string]*windowSums{}
	err := eachRow(ctx, q, `SELECT customer_id, CASE WHEN day < ? THEN 0 ELSE 1 END AS side,
		SUM(moments), SUM(magic), SUM(misery), SUM(rated), SUM(rating_sum)
		FROM customer_day_stats WHERE day >= ? AND day < ? GROUP BY customer_id, 2`,
		[]any{day, day - rapport.HandoverWindowDays, day + rapport.HandoverWindowDays}, func(rows *sql.Rows) error {
			var id string
			var side int
			var m, mg, ms, rt int
			var sum float64
			if err := rows.Scan(&id, &side, &m, &mg, &ms, &rt, &sum); err != nil {
				return err
			}
			w := out[id]
			if w == nil {
				w = &windowSums{}
				out[id] = w
			}
			w.moments[side], w.magic[side], w.misery[side], w.rated[side], w.ratingSum[side] = m, mg, ms, rt, sum
			return nil
		})
	return out, err
}

// handoverHistory is what the report needs of every customer: when they
// joined, their stage changes and their handovers.
type handoverHistory struct {
	customers []string
	created   map[string]int64
	stages    map[string][]stageAtTime
	handovers map[string][]int64 // days
}

type stageAtTime struct {
	at    int64
	stage string
}

func loadHandoverHistory(ctx context.Context, q querier) (*handoverHistory, error) {
	h := &handoverHistory{created: map[string]int64{}, stages: map[string][]stageAtTime{}, handovers: map[string][]int64{}}
	err := eachRow(ctx, q, `SELECT id, created_at FROM customers ORDER BY id`, nil, func(rows *sql.Rows) error {
		var id string
		var at int64
		if err := rows.Scan(&id, &at); err != nil {
			return err
		}
		h.customers, h.created[id] = append(h.customers, id), at
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachRow(ctx, q, `SELECT customer_id, to_stage, changed_at FROM stage_changes ORDER BY customer_id, changed_at, id`, nil,
		func(rows *sql.Rows) error {
			var id string
			var s stageAtTime
			if err := rows.Scan(&id, &s.stage, &s.at); err != nil {
				return err
			}
			h.stages[id] = append(h.stages[id], s)
			return nil
		})
	if err != nil {
		return nil, err
	}
	err = eachRow(ctx, q, `SELECT customer_id, handed_at FROM handovers`, nil, func(rows *sql.Rows) error {
		var id string
		var at int64
		if err := rows.Scan(&id, &at); err != nil {
			return err
		}
		h.handovers[id] = append(h.handovers[id], at/dayMicros)
		return nil
	})
	for _, days := range h.handovers {
		sort.Slice(days, func(i, j int) bool { return days[i] < days[j] })
	}
	return h, err
}

// handedNear reports whether the customer changed hands within 90 days of day.
func (h *handoverHistory) handedNear(id string, day int64) bool {
	for _, d := range h.handovers[id] {
		if d > day-rapport.HandoverWindowDays && d < day+rapport.HandoverWindowDays {
			return true
		}
	}
	return false
}

// stageAt is the customer's stage just before t, "" before their first.
func (h *handoverHistory) stageAt(id string, t int64) string {
	stage := ""
	for _, s := range h.stages[id] {
		if s.at < t {
			stage = s.stage
		}
	}
	return stage
}

// activeStage is the customer's stage at the start of day, "" when they
// had not joined or stood dissolved then.
func (h *handoverHistory) activeStage(id string, day int64) string {
	start := day * dayMicros
	stage := h.stageAt(id, start)
	if created, ok := h.created[id]; !ok || created >= start || stage == string(rapport.StageDissolution) {
		return ""
	}
	return stage
}

// unit is the customer around day with their stage that day, and false
// when they had not joined or stood dissolved that day. The caller puts
// the unit in its cell.
func (h *handoverHistory) unit(id string, day int64, w *windowSums) (rapport.HandoverUnit, string, bool) {
	stage := h.activeStage(id, day)
	if stage == "" {
		return rapport.HandoverUnit{}, "", false
	}
	if w == nil {
		w = &windowSums{}
	}
	u := rapport.HandoverUnit{
		MomentsBefore: w.moments[0], MagicBefore: w.magic[0], MiseryBefore: w.misery[0], RatedBefore: w.rated[0], RatingSumBefore: w.ratingSum[0],
		MomentsAfter: w.moments[1], MagicAfter: w.magic[1], MiseryAfter: w.misery[1], RatedAfter: w.rated[1], RatingSumAfter: w.ratingSum[1]}
	u.Dissolved = h.stageAt(id, (day+rapport.HandoverWindowDays)*dayMicros) == string(rapport.StageDissolution)
	return u, stage, true
}
