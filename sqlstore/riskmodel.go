package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/analytics"
)

// RiskService fits the dissolution-risk model on the firm's own history
// and keeps its track record. See docs/risk.md.
type RiskService struct{ db *DB }

// NewRiskService returns the risk model kept in db.
func NewRiskService(db *DB) *RiskService { return &RiskService{db: db} }

var _ rapport.RiskService = (*RiskService)(nil)

// riskModelName is the row of risk_models that holds the model in use.
const riskModelName = "current"

// Fitting reads the firm's customers as they stood at snapshot dates, one
// riskSnapshotStep apart, going back riskSnapshots steps from the latest date
// whose 90 days have passed. At most riskSnapshotCustomers customers are read
// per date (an even sample of ids beyond that), which keeps a refit at a
// million customers within minutes.
const (
	riskSnapshots         = 16
	riskSnapshotStep      = 30 * oneDay
	riskSnapshotCustomers = 20_000
	// riskLambda is the ridge penalty on the standardised effects.
	riskLambda = 10
	// RiskRefitEvery is how often the sweep refits the model.
	RiskRefitEvery = 24 * time.Hour
	// riskHoldBack is how many snapshots apart the periods held back for
	// the track record are: a model is fitted only on dates whose 90 days
	// of follow-up ended before the held-back date.
	riskHoldBack = 3
)

// riskHorizon is the follow-up of the model: dissolution within 90 days.
const riskHorizon = analytics.RiskHorizonDays * oneDay

// storedRisk is what risk_models keeps of the model in use.
type storedRisk struct {
	Model *analytics.RiskModel  `json:"model"`
	Info  rapport.RiskModelInfo `json:"info"`
}

// loadRiskModel returns the model that scores customers: the fitted one,
// or the prior while there is none.
func loadRiskModel(ctx context.Context, q querier) (*analytics.RiskModel, error) {
	st, _, err := loadStoredRisk(ctx, q)
	if err != nil || !st.scores() {
		return analytics.PriorRiskModel(), err
	}
	return st.Model, nil
}

// scores reports whether the stored model is a fitted one this version can
// score with; one fitted with other features waits for the next refit.
func (st *storedRisk) scores() bool {
	return st != nil && st.Model != nil && st.Model.Fitted && st.Model.Current()
}

func loadStoredRisk(ctx context.Context, q querier) (*storedRisk, *rapport.TrackRecord, error) {
	var model, track string
	err := q.queryRow(ctx, `SELECT model, track_record FROM risk_models WHERE name = ?`, riskModelName).Scan(&model, &track)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	var st storedRisk
	if err := json.Unmarshal([]byte(model), &st); err != nil {
		return nil, nil, fmt.Errorf("reading the risk model: %w", err)
	}
	var tr rapport.TrackRecord
	if err := json.Unmarshal([]byte(track), &tr); err != nil {
		return nil, nil, fmt.Errorf("reading the risk track record: %w", err)
	}
	return &st, &tr, nil
}

// RiskTrackRecord returns the track record measured at the last refit, or
// one that says there has been none yet.
func (s *RiskService) RiskTrackRecord(ctx context.Context) (*rapport.TrackRecord, error) {
	_, tr, err := loadStoredRisk(ctx, s.db.reader())
	if err != nil || tr != nil {
		return tr, err
	}
	info := modelInfo(analytics.PriorRiskModel(), examplesCount{}, nil)
	info.Note = "The model has not been fitted yet; the prior stands in until the first refit."
	return &rapport.TrackRecord{Model: info, Verdict: "No track record yet: the risk model has not been fitted.",
		Calibration: []rapport.CalibrationDecile{}, Periods: []time.Time{}}, nil
}

// RiskDue reports whether the model was last refitted longer than
// RiskRefitEvery ago, or never, or with features this version does not
// work out.
func (s *RiskService) RiskDue(ctx context.Context) (bool, error) {
	var at int64
	var model string
	err := s.db.reader().queryRow(ctx, `SELECT fitted_at, model FROM risk_models WHERE name = ?`, riskModelName).Scan(&at, &model)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	} else if err != nil {
		return false, err
	}
	var st storedRisk
	if err := json.Unmarshal([]byte(model), &st); err != nil {
		return false, fmt.Errorf("reading the risk model: %w", err)
	}
	if st.Model != nil && st.Model.Fitted && !st.Model.Current() {
		return true, nil
	}
	return s.db.now().Sub(fromMicros(at)) >= RiskRefitEvery, nil
}

// snapshot is the firm's customers as they stood at a date, each with
// whether they dissolved within 90 days after it.
type snapshot struct {
	at       time.Time
	examples []analytics.RiskExample
	ids      []string
}

// RefitRisk fits the model on the firm's history, measures its track record
// on periods held back, stores both, and has every customer scored again by
// the sweep. Everything is read outside any transaction; only the storing
// writes, in one short transaction.
func (s *RiskService) RefitRisk(ctx context.Context) (*rapport.TrackRecord, error) {
	s.db.refitting.Lock()
	defer s.db.refitting.Unlock()
	now := s.db.now()
	q := s.db.reader()
	names, err := loadTouchpointNames(ctx, q)
	if err != nil {
		return nil, err
	}
	touchpoints := slices.Sorted(maps.Keys(names))
	snaps, err := s.snapshots(ctx, q, names, now)
	if err != nil {
		return nil, err
	}
	model, count, fitErr := fitOrPrior(snaps, touchpoints)
	if fitErr != nil {
		return nil, fitErr
	}
	info := modelInfo(model, count, &now)
	if !model.Fitted {
		info.Note = fmt.Sprintf("The history holds %d customer-dates with %d dissolutions within 90 days; a fit needs %d and %d. The prior stands in until then.",
			count.examples, count.events, rapport.MinRiskExamples, rapport.MinRiskEvents)
	}
	tr, err := trackRecord(snaps, touchpoints)
	if err != nil {
		return nil, err
	}
	tr.Model, tr.ComputedAt = info, now
	if err := s.store(ctx, storedRisk{Model: model, Info: info}, tr, now); err != nil {
		return nil, err
	}
	return tr, nil
}

// snapshots reads the firm's customers at each snapshot date, newest first,
// stopping at the first date before anyone was a customer.
func (s *RiskService) snapshots(ctx context.Context, q querier, names touchpointNames, now time.Time) ([]snapshot, error) {
	var first sql.NullInt64
	if err := q.queryRow(ctx, `SELECT MIN(created_at) FROM customers`).Scan(&first); err != nil {
		return nil, err
	}
	var out []snapshot
	for k := range riskSnapshots {
		at := now.Add(-riskHorizon - time.Duration(k)*riskSnapshotStep)
		if !first.Valid || micros(at) < first.Int64 {
			break
		}
		snap, err := readSnapshot(ctx, q, names, at)
		if err != nil {
			return nil, err
		}
		out = append(out, snap)
	}
	return out, nil
}

// readSnapshot reads the customers who were customers, and not dissolved,
// at the date, as they stood then, and whether each dissolved within 90
// days after.
func readSnapshot(ctx context.Context, q querier, names touchpointNames, at time.Time) (snapshot, error) {
	snap := snapshot{at: at}
	ids, err := queryIDs(ctx, q, `SELECT id FROM customers WHERE created_at <= ? ORDER BY id`, micros(at))
	if err != nil {
		return snap, err
	}
	ids = evenSample(ids, riskSnapshotCustomers)
	dissolved := map[string]bool{}
	err = eachRow(ctx, q, `SELECT DISTINCT customer_id FROM stage_changes
		WHERE to_stage = 'dissolution' AND changed_at > ? AND changed_at <= ?`,
		[]any{micros(at), micros(at.Add(riskHorizon))}, func(rows *sql.Rows) error {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			dissolved[id] = true
			return nil
		})
	if err != nil {
		return snap, err
	}
	for start := 0; start < len(ids); start += insertChunk {
		chunk := ids[start:min(start+insertChunk, len(ids))]
		facts, err := gatherFacts(ctx, q, chunk, at, true, nil)
		if err != nil {
			return snap, err
		}
		for _, f := range facts {
			if f.stage == rapport.StageDissolution {
				continue // gone already
			}
			rf := f.relationshipFacts(names)
			snap.examples = append(snap.examples, analytics.RiskExample{Facts: rf, Dissolved: dissolved[f.id]})
			snap.ids = append(snap.ids, f.id)
		}
	}
	return snap, nil
}

// evenSample keeps at most n of ids, evenly spread.
func evenSample(ids []string, n int) []string {
	if len(ids) <= n {
		return ids
	}
	out := make([]string, n)
	for i := range out {
		out[i] = ids[i*len(ids)/n]
	}
	return out
}

// examplesCount are the sample sizes of a fit.
type examplesCount struct {
	examples, events, customers, snapshots int
}

func countExamples(snaps []snapshot) examplesCount {
	c := examplesCount{snapshots: len(snaps)}
	customers := map[string]bool{}
	for _, s := range snaps {
		for i, e := range s.examples {
			c.examples++
			if e.Dissolved {
				c.events++
			}
			customers[s.ids[i]] = true
		}
	}
	c.customers = len(customers)
	return c
}

// fitOrPrior fits the model on the snapshots when they hold enough history,
// and otherwise returns the prior; either way with the sample sizes.
func fitOrPrior(snaps []snapshot, touchpoints []string) (*analytics.RiskModel, examplesCount, error) {
	c := countExamples(snaps)
	if c.examples < rapport.MinRiskExamples || c.events < rapport.MinRiskEvents {
		return analytics.PriorRiskModel(), c, nil
	}
	var examples []analytics.RiskExample
	for _, s := range snaps {
		examples = append(examples, s.examples...)
	}
	m, err := analytics.FitRiskModel(examples, touchpoints, riskLambda)
	if errors.Is(err, analytics.ErrTooLittleHistory) {
		return analytics.PriorRiskModel(), c, nil
	}
	return m, c, err
}

// trackRecord scores the customers of each held-back date (the latest
// date whose 90 days have passed, and one riskHoldBack snapshots earlier)
// with a model fitted only on dates whose follow-up had ended by then, and
// compares the predictions with what happened, beside the baseline.
func trackRecord(snaps []snapshot, touchpoints []string) (*rapport.TrackRecord, error) {
	tr := &rapport.TrackRecord{Periods: []time.Time{}, Calibration: []rapport.CalibrationDecile{}}
	var predicted, baseline []float64
	var positive []bool
	for _, h := range []int{0, riskHoldBack} {
		if h >= len(snaps) {
			break
		}
		model, _, err := fitOrPrior(snaps[min(h+riskHoldBack, len(snaps)):], touchpoints)
		if err != nil {
			return nil, err
		}
		tr.Periods = append(tr.Periods, snaps[h].at)
		centre := model.RatingCentre
		for _, e := range snaps[h].examples {
			predicted = append(predicted, model.Probability(e.Facts))
			positive = append(positive, e.Dissolved)
			baseline = append(baseline, -BaselineRating(e.Facts, centre))
			if e.Dissolved {
				tr.Dissolved++
			}
		}
	}
	tr.Customers = len(predicted)
	auc, ok := analytics.AUC(predicted, positive)
	base, baseOK := analytics.AUC(baseline, positive)
	if ok && baseOK {
		tr.AUC, tr.BaselineAUC = &auc, &base
		tr.BeatsBaseline = auc > base
	}
	for _, b := range analytics.Calibration(predicted, positive, 10) {
		tr.Calibration = append(tr.Calibration, rapport.CalibrationDecile{Customers: b.N, Predicted: b.Predicted, Observed: b.Observed})
	}
	tr.Verdict = verdict(tr)
	return tr, nil
}

// BaselineRating is the plain baseline's figure: the customer's mean
// rating over 90 days, or the firm's usual rating (centre) when they gave
// none. Lower means riskier.
func BaselineRating(f analytics.RelationshipFacts, centre float64) float64 {
	if f.Rated90 == 0 {
		return centre
	}
	return f.Rating90
}

// verdict says in words what a track record shows.
func verdict(tr *rapport.TrackRecord) string {
	switch {
	case tr.AUC == nil:
		return fmt.Sprintf("Not enough history held back to measure yet: %d customers scored, %d of them dissolved within 90 days.", tr.Customers, tr.Dissolved)
	case tr.BeatsBaseline:
		return fmt.Sprintf("Risk ranked a customer who went on to dissolve above one who stayed %.0f%% of the time, against %.0f%% for ranking by mean rating over 90 days alone.",
			100**tr.AUC, 100**tr.BaselineAUC)
	}
	return fmt.Sprintf("Risk does not beat the plain baseline on this firm's data: it ranked a customer who went on to dissolve above one who stayed %.0f%% of the time, and mean rating over 90 days alone did so %.0f%% of the time. Read its scores with caution.",
		100**tr.AUC, 100**tr.BaselineAUC)
}

// modelInfo describes a model with its sample sizes; fitted is when it was
// fitted or the history looked at.
func modelInfo(m *analytics.RiskModel, c examplesCount, fitted *time.Time) rapport.RiskModelInfo {
	info := rapport.RiskModelInfo{Kind: "prior", FittedAt: fitted, Examples: c.examples, Events: c.events,
		Customers: c.customers, Snapshots: c.snapshots, MinExamples: rapport.MinRiskExamples, MinEvents: rapport.MinRiskEvents,
		Effects: []rapport.RiskEffect{}}
	if m.Fitted {
		info.Kind = "fitted"
	}
	for i, c := range m.Coef {
		info.Effects = append(info.Effects, rapport.RiskEffect{Feature: m.FeatureName(i), Coef: c})
	}
	return info
}

// riskDueBatch is how many customers one transaction makes due to be
// scored again after a refit: small enough that recording never waits
// long for it, even at a million customers.
const riskDueBatch = 5000

// store keeps the model and its track record, then makes every customer due
// to be scored again by the sweep, which does so in batches of its own.
// Customers are made due a batch at a time, each in its own short
// transaction, so that recording goes on between them; a customer not
// yet made due when the process stops is scored with the new model when
// their figures next fall due anyway.
func (s *RiskService) store(ctx context.Context, st storedRisk, tr *rapport.TrackRecord, now time.Time) error {
	model, err := json.Marshal(st)
	if err != nil {
		return err
	}
	track, err := json.Marshal(tr)
	if err != nil {
		return err
	}
	err = s.db.inTx(ctx, func(tx *tx) error {
		_, err := tx.exec(ctx, `INSERT INTO risk_models (name, model, fitted_at, track_record) VALUES (?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET model = excluded.model, fitted_at = excluded.fitted_at, track_record = excluded.track_record`,
			riskModelName, string(model), micros(now), string(track))
		return err
	})
	if err != nil {
		return err
	}
	return s.makeAllDue(ctx, now)
}

// makeAllDue sets every customer's figures due at now, a batch of ids at a
// time.
func (s *RiskService) makeAllDue(ctx context.Context, now time.Time) error {
	after := ""
	for {
		ids, err := queryIDs(ctx, s.db.reader(), `SELECT customer_id FROM customer_measures WHERE customer_id > ? ORDER BY customer_id LIMIT ?`,
			after, riskDueBatch)
		if err != nil || len(ids) == 0 {
			return err
		}
		last := ids[len(ids)-1]
		err = s.db.inTx(ctx, func(tx *tx) error {
			_, err := tx.exec(ctx, `UPDATE customer_measures SET due_at = ? WHERE customer_id > ? AND customer_id <= ? AND due_at > ?`,
				micros(now), after, last, micros(now))
			return err
		})
		if err != nil {
			return fmt.Errorf("making customers due to be scored with the new risk model: %w", err)
		}
		after = last
	}
}
