package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// PromiseService tracks promises staff make to customers.
type PromiseService struct{ db *DB }

// NewPromiseService returns the promises stored in db.
func NewPromiseService(db *DB) *PromiseService { return &PromiseService{db: db} }

var _ rapport.PromiseService = (*PromiseService)(nil)

const promiseColumns = `id, customer_id, staff_id, moment_id, text, due_at, status, resolved_at, created_at`

func scanPromise(row interface{ Scan(...any) error }) (*rapport.Promise, error) {
	var (
		p             rapport.Promise
		staff, moment sql.NullString
		due, created  int64
		resolved      sql.NullInt64
		status        string
	)
	if err := row.Scan(&p.ID, &p.CustomerID, &staff, &moment, &p.Text, &due, &status, &resolved, &created); err != nil {
		return nil, err
	}
	p.Status = rapport.PromiseStatus(status)
	p.StaffID, p.MomentID = staff.String, moment.String
	p.DueAt, p.CreatedAt, p.ResolvedAt = fromMicros(due), fromMicros(created), timePtr(resolved)
	return &p, nil
}

// CreatePromise stores a new open promise; see rapport.PromiseService.
func (s *PromiseService) CreatePromise(ctx context.Context, p *rapport.Promise) error {
	if err := p.Validate(s.db.now()); err != nil {
		return err
	}
	if p.StaffID == "" {
		if pr := rapport.PrincipalFromContext(ctx); pr != nil {
			p.StaffID = pr.UserID
		}
	}
	return s.db.inTx(ctx, func(tx *tx) error {
		var fields []rapport.FieldError
		var n, erased int
		if err := tx.queryRow(ctx, `SELECT COUNT(*), COUNT(erased_at) FROM (SELECT erased_at FROM customers WHERE id = ?`+tx.d.shareLock+`) c`,
			p.CustomerID).Scan(&n, &erased); err != nil {
			return err
		} else if n == 0 {
			fields = append(fields, rapport.FieldError{Field: "customer_id", Message: "no customer has this id"})
		} else if erased > 0 {
			return rapport.ErrErased(p.CustomerID)
		}
		if p.StaffID != "" {
			if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM users WHERE id = ?`, p.StaffID).Scan(&n); err != nil {
				return err
			} else if n == 0 {
				fields = append(fields, rapport.FieldError{Field: "staff_id", Message: "no user has this id"})
			}
		}
		if p.MomentID != "" {
			var customer string
			err := tx.queryRow(ctx, `SELECT customer_id FROM moments WHERE id = ?`, p.MomentID).Scan(&customer)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				fields = append(fields, rapport.FieldError{Field: "moment_id", Message: "no moment has this id"})
			case err != nil:
				return err
			case customer != p.CustomerID:
				fields = append(fields, rapport.FieldError{Field: "moment_id", Message: "the moment is another customer's"})
			}
		}
		if len(fields) > 0 {
			return &rapport.Error{Code: rapport.EINVALID, Message: "The promise is not valid.", Fields: fields}
		}
		now := tx.now.Truncate(time.Microsecond)
		p.ID, p.CreatedAt, p.ResolvedAt = rapport.NewID(now), now, nil
		_, err := tx.exec(ctx, `INSERT INTO promises (`+promiseColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.CustomerID, nullString(p.StaffID), nullString(p.MomentID), p.Text, micros(p.DueAt), string(p.Status), nil, micros(p.CreatedAt))
		if err != nil {
			return err
		}
		if err := addPromiseCounts(ctx, tx, map[promiseCount]int{{p.StaffID, p.Status}: 1}); err != nil {
			return err
		}
		return audit(ctx, tx, rapport.AuditCreate, "promise", p.ID, nil, p)
	})
}

// FindPromiseByID returns one promise, or ENOTFOUND.
func (s *PromiseService) FindPromiseByID(ctx context.Context, id string) (*rapport.Promise, error) {
	return findPromise(ctx, s.db.reader(), id)
}

func findPromise(ctx context.Context, q querier, id string) (*rapport.Promise, error) {
	p, err := scanPromise(q.queryRow(ctx, `SELECT `+promiseColumns+` FROM promises WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rapport.Errorf(rapport.ENOTFOUND, "No promise has the id %q.", id)
	}
	return p, err
}

// FindPromises lists promises, soonest due first (or latest, as the filter says).
func (s *PromiseService) FindPromises(ctx context.Context, f rapport.PromiseFilter) (rapport.Page[*rapport.Promise], error) {
	page := rapport.Page[*rapport.Promise]{Items: []*rapport.Promise{}}
	where, args := []string{"1 = 1"}, []any{}
	switch f.Status {
	case "", rapport.PromiseOpen, rapport.PromiseKept, rapport.PromiseBroken:
	default:
		return page, invalidQuery("status", "must be open, kept or broken")
	}
	for _, c := range []struct{ col, val string }{{"status", string(f.Status)}, {"staff_id", f.StaffID}, {"customer_id", f.CustomerID}} {
		if c.val != "" {
			where, args = append(where, c.col+" = ?"), append(args, c.val)
		}
	}
	if !f.DueBefore.IsZero() {
		where, args = append(where, "due_at < ?"), append(args, micros(f.DueBefore))
	}
	if f.Cursor != "" {
		us, id, err := decodeTimeCursor(f.Cursor)
		if err != nil {
			return page, err
		}
		after := "(due_at > ? OR (due_at = ? AND id > ?))"
		if f.Latest {
			after = "(due_at < ? OR (due_at = ? AND id < ?))"
		}
		where, args = append(where, after), append(args, us, us, id)
	}
	order := "due_at, id"
	if f.Latest {
		order = "due_at DESC, id DESC"
	}
	limit := rapport.PageLimit(f.Limit)
	return queryPage(ctx, s.db.reader(), `SELECT `+promiseColumns+` FROM promises WHERE `+strings.Join(where, " AND ")+
		` ORDER BY `+order+` LIMIT ?`, args, limit,
		func(rows *sql.Rows) (*rapport.Promise, error) { return scanPromise(rows) },
		func(p *rapport.Promise) string { return timeCursor(p.DueAt, p.ID) })
}

// SetPromiseStatus settles an open promise; see rapport.PromiseService.
func (s *PromiseService) SetPromiseStatus(ctx context.Context, id string, status rapport.PromiseStatus) (*rapport.Promise, error) {
	// An open promise may be settled so, or the status is not valid at all.
	if err := rapport.PromiseOpen.CheckSettle(status); err != nil {
		return nil, err
	}
	var p *rapport.Promise
	err := s.db.inTx(ctx, func(tx *tx) error {
		var err error
		if p, err = findPromise(ctx, tx.querier, id); err != nil {
			return err
		}
		if err := p.Status.CheckSettle(status); err != nil {
			return err
		}
		before := *p
		if _, err := settlePromise(ctx, tx, p, status); err != nil {
			return err
		}
		if err := audit(ctx, tx, rapport.AuditUpdate, "promise", id, &before, p); err != nil {
			return err
		}
		if status == rapport.PromiseBroken {
			return recordBrokenPromises(ctx, tx, []*rapport.Promise{p}, false)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// settlePromise marks an open promise kept or broken, reporting false when
// another transaction settled it first.
func settlePromise(ctx context.Context, tx *tx, p *rapport.Promise, status rapport.PromiseStatus) (bool, error) {
	now := tx.now.Truncate(time.Microsecond)
	res, err := tx.exec(ctx, `UPDATE promises SET status = ?, resolved_at = ? WHERE id = ? AND status = 'open'`, string(status), micros(now), p.ID)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	if err := addPromiseCounts(ctx, tx, map[promiseCount]int{{p.StaffID, rapport.PromiseOpen}: -1, {p.StaffID, status}: 1}); err != nil {
		return false, err
	}
	p.Status, p.ResolvedAt = status, &now
	return true, nil
}

// promiseCount is a row of promise_counts: a member of staff ("" for none)
// and a status.
type promiseCount struct {
	staff  string
	status rapport.PromiseStatus
}

// addPromiseCounts adds delta to promise_counts, in the transaction that
// makes or settles the promises.
func addPromiseCounts(ctx context.Context, tx *tx, delta map[promiseCount]int) error {
	// In order, so that concurrent writers on PostgreSQL cannot deadlock.
	keys := sortedKeys(delta, func(a, b promiseCount) int {
		return cmp.Or(strings.Compare(a.staff, b.staff), strings.Compare(string(a.status), string(b.status)))
	})
	for _, k := range keys {
		if delta[k] == 0 {
			continue
		}
		if _, err := tx.exec(ctx, `INSERT INTO promise_counts (staff_id, status, promises) VALUES (?, ?, ?)
			ON CONFLICT (staff_id, status) DO UPDATE SET promises = promise_counts.promises + excluded.promises`,
			k.staff, string(k.status), delta[k]); err != nil {
			return err
		}
		if delta[k] < 0 {
			// A count that reaches nought goes, as a rebuild leaves it.
			if _, err := tx.exec(ctx, `DELETE FROM promise_counts WHERE staff_id = ? AND status = ? AND promises = 0`,
				k.staff, string(k.status)); err != nil {
				return err
			}
		}
	}
	return nil
}

// forgetCustomerPromises takes the promises made to a customer out of
// promise_counts, before the customer and the promises are deleted.
func forgetCustomerPromises(ctx context.Context, tx *tx, customerID string) error {
	delta := map[promiseCount]int{}
	err := eachRow(ctx, tx.querier, `SELECT COALESCE(staff_id, ''), status, COUNT(*) FROM promises WHERE customer_id = ?
		GROUP BY COALESCE(staff_id, ''), status`, []any{customerID}, func(rows *sql.Rows) error {
		var k promiseCount
		var n int
		err := rows.Scan(&k.staff, &k.status, &n)
		delta[k] = -n
		return err
	})
	if err != nil {
		return err
	}
	return addPromiseCounts(ctx, tx, delta)
}

// rebuildPromiseCounts counts promise_counts afresh from every promise, for
// after a bulk load; migration 0011 does the same.
func rebuildPromiseCounts(ctx context.Context, q querier) error {
	if _, err := q.exec(ctx, `DELETE FROM promise_counts`); err != nil {
		return err
	}
	_, err := q.exec(ctx, `INSERT INTO promise_counts (staff_id, status, promises)
		SELECT COALESCE(staff_id, ''), status, COUNT(*) FROM promises GROUP BY COALESCE(staff_id, ''), status`)
	return err
}

// BreakOverdue breaks every open promise past its due time; see
// rapport.PromiseService. Several servers may sweep at once: each promise is
// broken by whichever settles it first, and only that one records the misery.
func (s *PromiseService) BreakOverdue(ctx context.Context) (int, error) {
	const batch = 500
	total := 0
	for {
		var found, n int
		err := s.db.inTx(ctx, func(tx *tx) error {
			rows, err := tx.query(ctx, `SELECT `+promiseColumns+` FROM promises WHERE status = 'open' AND due_at < ?
				ORDER BY due_at, id LIMIT ?`, micros(tx.now), batch)
			if err != nil {
				return err
			}
			var due []*rapport.Promise
			for rows.Next() {
				p, err := scanPromise(rows)
				if err != nil {
					rows.Close()
					return err
				}
				due = append(due, p)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			found = len(due)
			var broken []*rapport.Promise
			for _, p := range due {
				ok, err := settlePromise(ctx, tx, p, rapport.PromiseBroken)
				if err != nil {
					return err
				}
				if ok {
					broken = append(broken, p)
				}
			}
			n = len(broken)
			return recordBrokenPromises(ctx, tx, broken, true)
		})
		if err != nil {
			return total, err
		}
		total += n
		if found < batch {
			return total, nil
		}
	}
}

// brokenPromiseExternalID names the misery moment of a broken promise, so
// that it is recorded once.
func brokenPromiseExternalID(promiseID string) string { return "promise-broken:" + promiseID }

// recordBrokenPromises records a misery moment for each broken promise, at
// the promise touchpoint, by the member of staff who made it, through the
// moment pipeline like any moment: the running totals count it and it
// opens a recovery case. A promise broken by the sweep was broken when it fell due
// (atDue); one marked broken by hand, when it was marked.
func recordBrokenPromises(ctx context.Context, tx *tx, ps []*rapport.Promise, atDue bool) error {
	if len(ps) == 0 {
		return nil
	}
	if err := enqueue(ctx, tx, rapport.EventPromiseBroken, ps); err != nil {
		return err
	}
	if err := notifyPromises(ctx, tx, rapport.NotifyPromiseBroken, ps); err != nil {
		return err
	}
	if err := ensurePromiseTouchpoint(ctx, tx); err != nil {
		return err
	}
	now := tx.now.Truncate(time.Microsecond)
	ext := make([]string, len(ps))
	for i, p := range ps {
		ext[i] = brokenPromiseExternalID(p.ID)
	}
	seen, err := existingValues(ctx, tx, `SELECT external_id FROM moments WHERE external_id IN`, ext)
	if err != nil {
		return err
	}
	var ms []*rapport.Moment
	for _, p := range ps {
		if seen[brokenPromiseExternalID(p.ID)] {
			continue
		}
		at := now
		if atDue && p.DueAt.Before(now) {
			at = p.DueAt
		}
		m := &rapport.Moment{
			ID: rapport.NewID(now), ExternalID: brokenPromiseExternalID(p.ID), CustomerID: p.CustomerID,
			Touchpoint: rapport.PromiseTouchpoint, Channel: rapport.ChannelSystem, OccurredAt: at, StaffID: p.StaffID,
			Outcome: rapport.OutcomeMisery, Notes: p.BrokenNote(), RecordedAt: now,
		}
		m.Outcome, m.OutcomeSource = rapport.DeriveOutcome(rapport.OutcomeMisery, nil)
		ms = append(ms, m)
	}
	return addMoments(ctx, tx, rapport.SourcePromise, ms)
}

// ensurePromiseTouchpoint adds the promise touchpoint to the catalogue the
// first time it is needed. It is not in the migration: a catalogue that is
// not empty at first start would stop the default one being created.
func ensurePromiseTouchpoint(ctx context.Context, tx *tx) error {
	t := rapport.PromiseTouchpointDefinition()
	channels, _ := json.Marshal(t.Channels)
	now := micros(tx.now)
	_, err := tx.exec(ctx, `INSERT INTO touchpoints (key, name, description, phase, channels, target_score, priority, created_at,
		updated_at, service_level_hours) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?) ON CONFLICT (key) DO NOTHING`,
		t.Key, t.Name, t.Description, t.Phase, string(channels), t.TargetScore, now, now, 24)
	return err
}

// PromiseReport counts promises by member of staff and status; the ranking
// is rapport.RankPromises.
func (s *PromiseService) PromiseReport(ctx context.Context, f rapport.PromiseReportFilter) (*rapport.PromiseReport, error) {
	where, args := []string{"1 = 1"}, []any{}
	r := &rapport.PromiseReport{Staff: []rapport.PromiseRecord{}, Teams: []rapport.PromiseRecord{}}
	if !f.From.IsZero() {
		from := f.From.UTC()
		r.From = &from
		where, args = append(where, "p.created_at >= ?"), append(args, micros(from))
	}
	if !f.To.IsZero() {
		to := f.To.UTC()
		r.To = &to
		where, args = append(where, "p.created_at < ?"), append(args, micros(to))
	}
	if r.From != nil && r.To != nil && !r.From.Before(*r.To) {
		return nil, invalidQuery("from", "must be before to")
	}
	// Over all time the kept counts answer; a window counts the promises
	// made in it.
	query := `SELECT NULLIF(p.staff_id, ''), u.name, u.team, p.status, p.promises FROM promise_counts p
		LEFT JOIN users u ON u.id = p.staff_id WHERE p.promises > 0`
	if len(args) > 0 {
		query = `SELECT p.staff_id, u.name, u.team, p.status, COUNT(*) FROM promises p
		LEFT JOIN users u ON u.id = p.staff_id WHERE ` + strings.Join(where, " AND ") + `
		GROUP BY p.staff_id, u.name, u.team, p.status`
	}
	rows, err := s.db.reader().query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var counts []rapport.PromiseCount
	for rows.Next() {
		var staffID, name, team sql.NullString
		var c rapport.PromiseCount
		var status string
		if err := rows.Scan(&staffID, &name, &team, &status, &c.N); err != nil {
			return nil, err
		}
		c.StaffID, c.Name, c.Team, c.Status = staffID.String, name.String, team.String, rapport.PromiseStatus(status)
		counts = append(counts, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	r.Total, r.Staff, r.Teams = rapport.RankPromises(counts)
	r.Explanation = rapport.PromiseReportExplanation
	return r, nil
}

// promiseEntries are a customer's promises on their timeline, at the time
// each was made.
func promiseEntries(ctx context.Context, q querier, customerID string, pos timelinePosition, limit int) ([]rapport.TimelineEntry, error) {
	cond, args := pos.before("created_at", "id")
	rows, err := q.query(ctx, `SELECT `+promiseColumns+` FROM promises WHERE customer_id = ? AND `+cond+
		` ORDER BY created_at DESC, id DESC LIMIT ?`, append(append([]any{customerID}, args...), limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []rapport.TimelineEntry
	for rows.Next() {
		p, err := scanPromise(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, rapport.TimelineEntry{Kind: rapport.EntryPromise, ID: p.ID, At: p.CreatedAt, Promise: p})
	}
	return out, rows.Err()
}
