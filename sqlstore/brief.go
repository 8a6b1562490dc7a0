package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/rapport-crm/rapport"
)

// BriefService assembles handover briefs and keeps the record of handovers.
type BriefService struct{ db *DB }

// NewBriefService returns the briefs of the customers in db.
func NewBriefService(db *DB) *BriefService { return &BriefService{db: db} }

var _ rapport.BriefService = (*BriefService)(nil)

// How much of each list a brief shows: the most recent few.
const (
	briefKeyMoments      = 3
	maxBriefStageChanges = 5
	briefHandovers       = 5
	maxBriefPeople       = 10
	maxBriefSurveys      = 5
	briefOpenItems       = 50
)

// BriefPath is where the API serves a customer's brief.
func BriefPath(customerID string) string { return "/api/v1/customers/" + customerID + "/brief" }

// recordHandover keeps the change of a customer's owner to newOwner, if it is
// one; UpdateCustomer calls it before writing the new owner.
func recordHandover(ctx context.Context, tx *tx, customerID, newOwner string) error {
	var old sql.NullString
	if err := tx.queryRow(ctx, `SELECT owner_id FROM customers WHERE id = ?`, customerID).Scan(&old); err != nil {
		return err
	}
	if old.String == newOwner {
		return nil
	}
	_, err := tx.exec(ctx, `INSERT INTO handovers (id, customer_id, from_owner, to_owner, handed_by, handed_at) VALUES (?, ?, ?, ?, ?, ?)`,
		rapport.NewID(tx.now), customerID, nullString(old.String), nullString(newOwner), rapport.ActorID(ctx), micros(tx.now))
	if err != nil {
		return err
	}
	return notifyHandover(ctx, tx, customerID, old.String, newOwner)
}

// FindHandovers returns a customer's changes of owner, newest first.
func (s *BriefService) FindHandovers(ctx context.Context, customerID string) ([]*rapport.Handover, error) {
	q := s.db.reader()
	if _, err := findCustomer(ctx, q, customerID); err != nil {
		return nil, err
	}
	return findHandovers(ctx, q, customerID, rapport.MaxPageSize)
}

func findHandovers(ctx context.Context, q querier, customerID string, limit int) ([]*rapport.Handover, error) {
	rows, err := q.query(ctx, `SELECT h.id, h.customer_id, h.from_owner, f.name, h.to_owner, t.name, h.handed_by, h.handed_at, h.note
		FROM handovers h LEFT JOIN users f ON f.id = h.from_owner LEFT JOIN users t ON t.id = h.to_owner
		WHERE h.customer_id = ? ORDER BY h.handed_at DESC, h.id DESC LIMIT ?`, customerID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*rapport.Handover{}
	for rows.Next() {
		var h rapport.Handover
		var from, fromName, to, toName sql.NullString
		var at int64
		if err := rows.Scan(&h.ID, &h.CustomerID, &from, &fromName, &to, &toName, &h.By, &at, &h.Note); err != nil {
			return nil, err
		}
		h.FromID, h.FromName, h.ToID, h.ToName = from.String, fromName.String, to.String, toName.String
		h.At, h.Brief = fromMicros(at), BriefPath(h.CustomerID)
		out = append(out, &h)
	}
	return out, rows.Err()
}

// Brief assembles what a new owner needs to know about a customer.
func (s *BriefService) Brief(ctx context.Context, customerID string) (*rapport.Brief, error) {
	q, now := s.db.reader(), s.db.now()
	c, err := findCustomer(ctx, q, customerID)
	if err != nil {
		return nil, err
	}
	b := &rapport.Brief{Customer: c, Stage: c.Stage, Preferences: c.Preferences, GeneratedAt: now}
	steps := []func() error{
		func() (err error) { b.StageChanges, err = briefStageChanges(ctx, q, c.ID); return },
		func() (err error) { b.Holdings, err = briefHoldings(ctx, q, c.ID); return },
		func() (err error) { b.OpenPromises, err = briefOpenPromises(ctx, q, c.ID); return },
		func() (err error) { b.OpenCases, err = briefOpenCases(ctx, q, c.ID, now); return },
		func() (err error) { b.Magic, err = briefMoments(ctx, q, c.ID, rapport.OutcomeMagic); return },
		func() (err error) { b.Misery, err = briefMoments(ctx, q, c.ID, rapport.OutcomeMisery); return },
		func() (err error) { b.People, b.Owner, err = briefPeople(ctx, q, c); return },
		func() (err error) { b.Trend, err = briefTrend(ctx, q, c.ID, now); return },
		func() (err error) { b.Counts, err = briefCounts(ctx, q, c.ID); return },
		func() (err error) { b.Handovers, err = findHandovers(ctx, q, c.ID, briefHandovers); return },
		func() (err error) { b.Surveys, err = briefSurveys(ctx, q, c.ID); return },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func briefStageChanges(ctx context.Context, q querier, customerID string) ([]*rapport.StageChange, error) {
	rows, err := q.query(ctx, `SELECT id, customer_id, from_stage, to_stage, reason, dissolution_reason, changed_by, changed_at
		FROM stage_changes WHERE customer_id = ? ORDER BY changed_at DESC, id DESC LIMIT ?`, customerID, maxBriefStageChanges)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*rapport.StageChange{}
	for rows.Next() {
		sc, err := scanStageChange(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, rows.Err()
}

func briefHoldings(ctx context.Context, q querier, customerID string) ([]rapport.BriefHolding, error) {
	rows, err := q.query(ctx, `SELECT h.product, p.name, h.started_at FROM holdings h JOIN products p ON p.key = h.product
		WHERE h.customer_id = ? AND h.ended_at IS NULL ORDER BY h.started_at, h.id`, customerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []rapport.BriefHolding{}
	for rows.Next() {
		var h rapport.BriefHolding
		var at int64
		if err := rows.Scan(&h.Product, &h.Name, &at); err != nil {
			return nil, err
		}
		h.StartedAt = fromMicros(at)
		out = append(out, h)
	}
	return out, rows.Err()
}

func briefOpenPromises(ctx context.Context, q querier, customerID string) ([]*rapport.Promise, error) {
	rows, err := q.query(ctx, `SELECT `+promiseColumns+` FROM promises WHERE customer_id = ? AND status = 'open'
		ORDER BY due_at, id LIMIT ?`, customerID, briefOpenItems)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*rapport.Promise{}
	for rows.Next() {
		p, err := scanPromise(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func briefOpenCases(ctx context.Context, q querier, customerID string, now time.Time) ([]*rapport.RecoveryCase, error) {
	rows, err := q.query(ctx, caseSelect+` WHERE c.customer_id = ? AND c.status = 'open' ORDER BY c.due_at, c.id LIMIT ?`, customerID, briefOpenItems)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*rapport.RecoveryCase{}
	for rows.Next() {
		c, err := scanCase(rows, now)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func briefMoments(ctx context.Context, q querier, customerID string, outcome rapport.Outcome) ([]*rapport.Moment, error) {
	// The customer's daily totals say which days held such moments: the
	// moments are read from the latest of those days only, so that a
	// customer with thousands of moments and few of this outcome costs no
	// more than one with a handful.
	column := map[rapport.Outcome]string{rapport.OutcomeMagic: "magic", rapport.OutcomeMisery: "misery"}[outcome]
	if column == "" {
		return nil, fmt.Errorf("brief: no daily total for outcome %q", outcome)
	}
	since, err := briefMomentsSince(ctx, q, customerID, column)
	if err != nil || since < 0 {
		return []*rapport.Moment{}, err
	}
	rows, err := q.query(ctx, `SELECT `+momentColumns+` FROM moments WHERE customer_id = ? AND occurred_at >= ? AND outcome = ?
		ORDER BY occurred_at DESC, id DESC LIMIT ?`, customerID, since*dayMicros, string(outcome), briefKeyMoments)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*rapport.Moment{}
	for rows.Next() {
		m, err := scanMoment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// briefMomentsSince is the earliest of the customer's latest days that
// together hold briefKeyMoments moments counted in column, or -1 when the
// customer has none.
func briefMomentsSince(ctx context.Context, q querier, customerID, column string) (int64, error) {
	rows, err := q.query(ctx, `SELECT day, `+column+` FROM customer_day_stats WHERE customer_id = ? AND `+column+` > 0
		ORDER BY day DESC`, customerID)
	if err != nil {
		return -1, err
	}
	defer rows.Close()
	since, found := int64(-1), int64(0)
	for found < briefKeyMoments && rows.Next() {
		var n int64
		if err := rows.Scan(&since, &n); err != nil {
			return -1, err
		}
		found += n
	}
	return since, rows.Err()
}

// briefPeople lists the owner and the staff who served the customer most.
func briefPeople(ctx context.Context, q querier, c *rapport.Customer) ([]rapport.BriefPerson, *rapport.BriefPerson, error) {
	// Who served the customer is tallied as moments arrive
	// (customer_staff_stats): a customer with years of history costs no more
	// than a new one.
	rows, err := q.query(ctx, `SELECT u.id, u.name, u.team, x.moments, x.last_at FROM customer_staff_stats x
		JOIN users u ON u.id = x.staff_id WHERE x.customer_id = ? AND x.moments > 0
		ORDER BY x.moments DESC, x.last_at DESC, u.id LIMIT ?`, c.ID, maxBriefPeople)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	people := []rapport.BriefPerson{}
	ownerAt := -1
	for rows.Next() {
		var p rapport.BriefPerson
		var last int64
		if err := rows.Scan(&p.ID, &p.Name, &p.Team, &p.Moments, &last); err != nil {
			return nil, nil, err
		}
		at := fromMicros(last)
		p.LastAt = &at
		if p.ID == c.OwnerID {
			p.Owner, ownerAt = true, len(people)
		}
		people = append(people, p)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if c.OwnerID == "" {
		return people, nil, nil
	}
	if ownerAt < 0 {
		owner := rapport.BriefPerson{ID: c.OwnerID, Owner: true}
		err := q.queryRow(ctx, `SELECT name, team FROM users WHERE id = ?`, c.OwnerID).Scan(&owner.Name, &owner.Team)
		if err != nil && err != sql.ErrNoRows {
			return nil, nil, err
		}
		people = append([]rapport.BriefPerson{owner}, people...)
		ownerAt = 0
	}
	owner := people[ownerAt]
	return people, &owner, nil
}

// briefTrend reads the customer's daily totals the trend needs; the trend
// itself is rapport.BriefTrendOf.
func briefTrend(ctx context.Context, q querier, customerID string, now time.Time) (rapport.BriefTrend, error) {
	rows, err := q.query(ctx, `SELECT day, moments, rated, rating_sum, magic, misery FROM customer_day_stats
		WHERE customer_id = ? AND day >= ? AND day <= ?`, customerID, dayOf(rapport.BriefTrendSince(now)), dayOf(now))
	if err != nil {
		return rapport.BriefTrend{}, err
	}
	defer rows.Close()
	var days []rapport.TrendDay
	for rows.Next() {
		var d rapport.TrendDay
		var day int64
		if err := rows.Scan(&day, &d.Moments, &d.Rated, &d.RatingSum, &d.Magic, &d.Misery); err != nil {
			return rapport.BriefTrend{}, err
		}
		d.Day = dayStart(day)
		days = append(days, d)
	}
	if err := rows.Err(); err != nil {
		return rapport.BriefTrend{}, err
	}
	return rapport.BriefTrendOf(now, days), nil
}

func briefCounts(ctx context.Context, q querier, customerID string) (rapport.BriefCounts, error) {
	// The counts come from the customer's daily totals, kept as moments
	// arrive, and the first and last moment from the ends of the customer's
	// index: a customer with years of history costs no more than a new one.
	var c rapport.BriefCounts
	var moments, magic, misery, first, last sql.NullInt64
	err := q.queryRow(ctx, `SELECT SUM(moments), SUM(magic), SUM(misery) FROM customer_day_stats WHERE customer_id = ?`,
		customerID).Scan(&moments, &magic, &misery)
	if err != nil {
		return c, err
	}
	c.Moments, c.Magic, c.Misery = int(moments.Int64), int(magic.Int64), int(misery.Int64)
	if err := q.queryRow(ctx, `SELECT MIN(occurred_at) FROM moments WHERE customer_id = ?`, customerID).Scan(&first); err != nil {
		return c, err
	}
	if err := q.queryRow(ctx, `SELECT MAX(occurred_at) FROM moments WHERE customer_id = ?`, customerID).Scan(&last); err != nil {
		return c, err
	}
	c.FirstAt, c.LastAt = timePtr(first), timePtr(last)
	var kept, broken sql.NullInt64
	if err := q.queryRow(ctx, `SELECT SUM(CASE WHEN status = 'kept' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'broken' THEN 1 ELSE 0 END)
		FROM promises WHERE customer_id = ?`, customerID).Scan(&kept, &broken); err != nil {
		return c, err
	}
	c.PromisesKept, c.PromisesBroken = int(kept.Int64), int(broken.Int64)
	err = q.queryRow(ctx, `SELECT COUNT(*) FROM recovery_cases WHERE customer_id = ?`, customerID).Scan(&c.CasesOpened)
	return c, err
}

func briefSurveys(ctx context.Context, q querier, customerID string) ([]*rapport.SurveyResponse, error) {
	rows, err := q.query(ctx, surveyResponseSelect+` WHERE l.customer_id = ? AND l.answered_at IS NOT NULL
		ORDER BY l.answered_at DESC, l.id DESC LIMIT ?`, customerID, maxBriefSurveys)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*rapport.SurveyResponse{}
	for rows.Next() {
		r, err := scanSurveyResponse(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
