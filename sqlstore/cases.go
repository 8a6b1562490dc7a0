package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/analytics"
)

// RecoveryService keeps recovery cases, the recovery policy and the
// touchpoints' service levels.
type RecoveryService struct{ db *DB }

// NewRecoveryService returns the recovery cases stored in db.
func NewRecoveryService(db *DB) *RecoveryService { return &RecoveryService{db: db} }

var _ rapport.RecoveryService = (*RecoveryService)(nil)

// openRecoveryCases opens a case for every newly recorded misery moment
// (step 3 of the moment pipeline, pipeline.go). Moments sent again with a known external id are
// not new and never reach it; the unique moment_id makes "once" hold even so.
func openRecoveryCases(ctx context.Context, tx *tx, recorded []*rapport.Moment) error {
	var misery []*rapport.Moment
	for _, m := range recorded {
		if m.Outcome == rapport.OutcomeMisery {
			misery = append(misery, m)
		}
	}
	if len(misery) == 0 {
		return nil
	}
	_, err := openCases(ctx, tx, misery, caseOpening{})
	return err
}

// caseOpening says how openCases treats the moments it is given.
type caseOpening struct {
	// anyAge opens a case however long ago the moment happened: a customer
	// answering a survey about an old moment is unhappy now.
	anyAge bool
	// backfill opens each case when its moment was recorded, for moments
	// loaded in bulk before their cases existed.
	backfill bool
}

// openCases opens a case for each misery moment that has none, as the
// policy and the touchpoints' service levels decide (rapport.RecoveryPolicy.
// OpensCase and OpenCase), and returns how many it opened.
func openCases(ctx context.Context, tx *tx, ms []*rapport.Moment, how caseOpening) (int, error) {
	policy, err := cachedPolicy(ctx, tx)
	if err != nil {
		return 0, err
	}
	levels, err := cachedServiceLevels(ctx, tx)
	if err != nil {
		return 0, err
	}
	owners := map[string]string{}
	if policy.AssignToOwner {
		if owners, err = customerOwners(ctx, tx, ms); err != nil {
			return 0, err
		}
	}
	now := tx.now.Truncate(time.Microsecond)
	const perRow = 11
	var args []any
	var tried []string
	rows := 0
	opened := 0
	flush := func() error {
		if rows == 0 {
			return nil
		}
		res, err := tx.exec(ctx, `INSERT INTO recovery_cases (id, customer_id, moment_id, touchpoint, status, assignee_id, queue,
			moment_at, opened_at, due_at, updated_at) VALUES `+strings.TrimSuffix(strings.Repeat("("+placeholders(perRow)+"), ", rows), ", ")+
			` ON CONFLICT (moment_id) DO NOTHING`, args...)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		opened += int(n)
		args, rows = args[:0], 0
		return nil
	}
	for _, m := range ms {
		if !policy.OpensCase(m.OccurredAt, now, how.anyAge) {
			continue
		}
		at := now
		if how.backfill {
			at = m.RecordedAt
		}
		c := policy.OpenCase(m, owners[m.CustomerID], levels, at)
		id := rapport.NewID(at)
		tried = append(tried, id)
		args = append(args, id, m.CustomerID, m.ID, m.Touchpoint, string(rapport.CaseOpen), nullString(c.AssigneeID), c.Queue,
			micros(m.OccurredAt), micros(c.OpenedAt), micros(c.DueAt), micros(now))
		if rows++; rows == insertChunk {
			if err := flush(); err != nil {
				return opened, err
			}
		}
	}
	if err := flush(); err != nil {
		return opened, err
	}
	if err := enqueueCasesOpened(ctx, tx, tried); err != nil {
		return opened, err
	}
	if how.backfill {
		// History loaded in bulk: its cases were dealt with when they
		// happened, and no one is told of them now.
		return opened, nil
	}
	// Only a changed moment (a survey answer) can have the customer's own
	// words to add to the notice; a moment just recorded has none yet.
	return opened, notifyCases(ctx, tx, rapport.NotifyCaseAssigned, tried, how.anyAge)
}

// customerOwners returns the owner of each of the moments' customers that
// has one still active: a deactivated owner's new cases go to the queue.
func customerOwners(ctx context.Context, tx *tx, ms []*rapport.Moment) (map[string]string, error) {
	seen := map[string]bool{}
	var ids []any
	for _, m := range ms {
		if !seen[m.CustomerID] {
			seen[m.CustomerID] = true
			ids = append(ids, m.CustomerID)
		}
	}
	owners := map[string]string{}
	err := inChunks(ids, func(chunk []any) error {
		rows, err := tx.query(ctx, `SELECT c.id, c.owner_id FROM customers c JOIN users u ON u.id = c.owner_id
			WHERE u.deactivated_at IS NULL AND c.id IN (`+placeholders(len(chunk))+`)`, chunk...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, owner string
			if err := rows.Scan(&id, &owner); err != nil {
				return err
			}
			owners[id] = owner
		}
		return rows.Err()
	})
	return owners, err
}

// serviceLevels returns every touchpoint's service level in hours.
func serviceLevels(ctx context.Context, q querier) (map[string]int, error) {
	rows, err := q.query(ctx, `SELECT key, service_level_hours FROM touchpoints`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	levels := map[string]int{}
	for rows.Next() {
		var key string
		var hours int
		if err := rows.Scan(&key, &hours); err != nil {
			return nil, err
		}
		levels[key] = hours
	}
	return levels, rows.Err()
}

// OpenMissingCases opens a case for every misery moment since the given
// time that has none: moments written by a bulk load (the demo firm, an
// import) bypass the hook that opens cases. Each case opens when its moment
// was recorded, so older ones are overdue at once and the next Escalate
// flags them. It returns how many cases it opened.
func (s *RecoveryService) OpenMissingCases(ctx context.Context, since time.Time) (int, error) {
	const batch = 1000
	total := 0
	for {
		var n, found int
		err := s.db.inTx(ctx, func(tx *tx) error {
			rows, err := tx.query(ctx, `SELECT `+momentColumns+` FROM moments WHERE outcome = 'misery' AND occurred_at >= ?
				AND NOT EXISTS (SELECT 1 FROM recovery_cases c WHERE c.moment_id = moments.id)
				ORDER BY occurred_at, id LIMIT ?`, micros(since), batch)
			if err != nil {
				return err
			}
			var ms []*rapport.Moment
			for rows.Next() {
				m, err := scanMoment(rows)
				if err != nil {
					rows.Close()
					return err
				}
				ms = append(ms, m)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			found = len(ms)
			if n, err = openCases(ctx, tx, ms, caseOpening{anyAge: true, backfill: true}); err != nil || n == 0 {
				return err
			}
			// What each customer did after the moment, which the
			// report reads; the new cases are open, and counted by
			// day only once resolved.
			ids := make([]any, len(ms))
			for i, m := range ms {
				ids[i] = m.ID
			}
			return inChunks(ids, func(chunk []any) error {
				_, err := tx.exec(ctx, `UPDATE recovery_cases SET `+caseFactsSet+` WHERE moment_id IN (`+placeholders(len(chunk))+`)`,
					append([]any{followUpMicros, followUpMicros}, chunk...)...)
				return err
			})
		})
		total += n
		if err != nil || found < batch {
			return total, err
		}
	}
}

// caseSelect reads cases with their customer's and assignee's names and
// the customer's next moment after the resolution (outcome and id), which
// decides whether the case recovered. The next moment is the customer's
// earliest that happened no earlier than the misery moment and was recorded
// once the case was resolved: a closing moment of the same conversation, or
// anything logged while the case was worked, does not count. It is kept
// with the case as moments arrive (casefacts.go), so that a list of the
// cases of a customer with thousands of moments reads none of them.
const caseSelect = `SELECT c.id, c.customer_id, cu.name, c.moment_id, c.touchpoint, c.status, c.assignee_id, u.name, c.queue,
	c.opened_at, c.due_at, c.escalated_at, c.escalated_to, c.escalated_role, c.resolved_at, c.resolved_by, c.resolution,
	c.next_outcome || ' ' || c.next_moment_id
	FROM recovery_cases c JOIN customers cu ON cu.id = c.customer_id LEFT JOIN users u ON u.id = c.assignee_id`

func scanCase(row interface{ Scan(...any) error }, now time.Time) (*rapport.RecoveryCase, error) {
	var (
		c                                   rapport.RecoveryCase
		assignee, assigneeName, escalatedTo sql.NullString
		next                                sql.NullString
		opened, due                         int64
		escalatedAt, resolvedAt             sql.NullInt64
		escalatedRole, status               string
	)
	if err := row.Scan(&c.ID, &c.CustomerID, &c.CustomerName, &c.MomentID, &c.Touchpoint, &status, &assignee, &assigneeName,
		&c.Queue, &opened, &due, &escalatedAt, &escalatedTo, &escalatedRole, &resolvedAt, &c.ResolvedBy, &c.Resolution, &next); err != nil {
		return nil, err
	}
	c.Status = rapport.CaseStatus(status)
	c.AssigneeID, c.AssigneeName, c.EscalatedTo = assignee.String, assigneeName.String, escalatedTo.String
	c.EscalatedRole = rapport.Role(escalatedRole)
	c.OpenedAt, c.DueAt = fromMicros(opened), fromMicros(due)
	c.EscalatedAt, c.ResolvedAt = timePtr(escalatedAt), timePtr(resolvedAt)
	c.Escalated = c.EscalatedAt != nil
	c.Overdue = rapport.IsOverdue(c.Status, c.DueAt, now)
	outcome, id, _ := strings.Cut(next.String, " ")
	c.NextMomentID = id
	c.Recovery = rapport.RecoveryOf(c.ResolvedAt != nil, rapport.Outcome(outcome))
	if c.ResolvedAt != nil {
		inTime := !c.ResolvedAt.After(c.DueAt)
		c.ResolvedInTime = &inTime
	}
	return &c, nil
}

// FindCaseByID returns one case with its history, or ENOTFOUND.
func (s *RecoveryService) FindCaseByID(ctx context.Context, id string) (*rapport.RecoveryCase, error) {
	return findCase(ctx, s.db.reader(), id, s.db.now())
}

func findCase(ctx context.Context, q querier, id string, now time.Time) (*rapport.RecoveryCase, error) {
	c, err := scanCase(q.queryRow(ctx, caseSelect+` WHERE c.id = ?`, id), now)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rapport.Errorf(rapport.ENOTFOUND, "No recovery case has the id %q.", id)
	}
	if err != nil {
		return nil, err
	}
	rows, err := q.query(ctx, `SELECT id, kind, text, actor, acted_at FROM case_actions WHERE case_id = ? ORDER BY seq, id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	c.Actions = []rapport.CaseAction{}
	for rows.Next() {
		var a rapport.CaseAction
		var at int64
		if err := rows.Scan(&a.ID, &a.Kind, &a.Text, &a.Actor, &at); err != nil {
			return nil, err
		}
		a.At = fromMicros(at)
		c.Actions = append(c.Actions, a)
	}
	return c, rows.Err()
}

// FindCases lists cases, soonest due first.
func (s *RecoveryService) FindCases(ctx context.Context, f rapport.CaseFilter) (rapport.Page[*rapport.RecoveryCase], error) {
	page := rapport.Page[*rapport.RecoveryCase]{Items: []*rapport.RecoveryCase{}}
	now := s.db.now()
	where, args, err := caseWhere(f, now)
	if err != nil {
		return page, err
	}
	if f.Cursor != "" {
		us, id, err := decodeTimeCursor(f.Cursor)
		if err != nil {
			return page, err
		}
		where, args = append(where, "(c.due_at > ? OR (c.due_at = ? AND c.id > ?))"), append(args, us, us, id)
	}
	limit := rapport.PageLimit(f.Limit)
	return queryPage(ctx, s.db.reader(), caseSelect+` WHERE `+strings.Join(where, " AND ")+` ORDER BY c.due_at, c.id LIMIT ?`,
		args, limit,
		func(rows *sql.Rows) (*rapport.RecoveryCase, error) { return scanCase(rows, now) },
		func(c *rapport.RecoveryCase) string { return timeCursor(c.DueAt, c.ID) })
}

// CountCases counts the cases a filter selects, ignoring its page.
func (s *RecoveryService) CountCases(ctx context.Context, f rapport.CaseFilter) (int, error) {
	where, args, err := caseWhere(f, s.db.now())
	if err != nil {
		return 0, err
	}
	var n int
	err = s.db.reader().queryRow(ctx, `SELECT COUNT(*) FROM recovery_cases c WHERE `+strings.Join(where, " AND "), args...).Scan(&n)
	return n, err
}

// caseWhere returns the conditions on recovery_cases c that a filter sets,
// ignoring its page; now is what overdue is measured against.
func caseWhere(f rapport.CaseFilter, now time.Time) ([]string, []any, error) {
	where, args := []string{"1 = 1"}, []any{}
	switch f.Status {
	case "":
	case rapport.CaseOpen, rapport.CaseResolved:
		where, args = append(where, "c.status = ?"), append(args, string(f.Status))
	default:
		return nil, nil, invalidQuery("status", "must be open or resolved")
	}
	switch f.AssigneeID {
	case "":
	case rapport.CaseUnassigned:
		where = append(where, "c.assignee_id IS NULL")
	default:
		where, args = append(where, "c.assignee_id = ?"), append(args, f.AssigneeID)
	}
	where, args = whereEqual(where, args, "c.customer_id", f.CustomerID, "c.queue", f.Queue, "c.escalated_to", f.EscalatedTo, "c.touchpoint", f.Touchpoint)
	if f.Overdue != nil {
		if *f.Overdue {
			where, args = append(where, "c.status = 'open' AND c.due_at < ?"), append(args, micros(now))
		} else {
			where, args = append(where, "(c.status <> 'open' OR c.due_at >= ?)"), append(args, micros(now))
		}
	}
	if f.Escalated != nil {
		if *f.Escalated {
			where = append(where, "c.escalated_at IS NOT NULL")
		} else {
			where = append(where, "c.escalated_at IS NULL")
		}
	}
	return where, args, nil
}

func invalidQuery(field, msg string) error {
	return &rapport.Error{Code: rapport.EINVALID, Message: "The query is not valid.",
		Fields: []rapport.FieldError{{Field: field, Message: msg}}}
}

// UpdateCase assigns, notes, resolves or reopens a case, keeping each step
// in its history.
func (s *RecoveryService) UpdateCase(ctx context.Context, id string, u rapport.CaseUpdate) (*rapport.RecoveryCase, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	actor := rapport.ActorID(ctx)
	var c *rapport.RecoveryCase
	err := s.db.inTx(ctx, func(tx *tx) error {
		var err error
		if c, err = findCase(ctx, tx.querier, id, tx.now); err != nil {
			return err
		}
		now := micros(tx.now)
		if u.AssigneeID != nil {
			var name, queue string
			if *u.AssigneeID == "" {
				p, err := findPolicy(ctx, tx.querier)
				if err != nil {
					return err
				}
				queue = p.Queue
			} else {
				var deactivated sql.NullInt64
				err := tx.queryRow(ctx, `SELECT name, deactivated_at FROM users WHERE id = ?`, *u.AssigneeID).Scan(&name, &deactivated)
				if errors.Is(err, sql.ErrNoRows) {
					return &rapport.Error{Code: rapport.EINVALID, Message: "The case update is not valid.",
						Fields: []rapport.FieldError{{Field: "assignee_id", Message: "no user has this id"}}}
				} else if err != nil {
					return err
				}
				if deactivated.Valid {
					return &rapport.Error{Code: rapport.EINVALID, Message: "The case update is not valid.",
						Fields: []rapport.FieldError{{Field: "assignee_id", Message: name + " is deactivated; assign the case to someone active"}}}
				}
			}
			if _, err := tx.exec(ctx, `UPDATE recovery_cases SET assignee_id = ?, queue = ?, updated_at = ? WHERE id = ?`,
				nullString(*u.AssigneeID), queue, now, id); err != nil {
				return err
			}
			if err := addCaseAction(ctx, tx, id, rapport.ActionAssigned, rapport.AssignmentNote(name, queue), actor); err != nil {
				return err
			}
			if err := notifyCases(ctx, tx, rapport.NotifyCaseAssigned, []string{id}, true); err != nil {
				return err
			}
		}
		if u.Note != nil {
			if err := addCaseAction(ctx, tx, id, rapport.ActionNote, *u.Note, actor); err != nil {
				return err
			}
		}
		if u.Status != nil {
			if err := c.Status.CheckMove(*u.Status); err != nil {
				return err
			}
			// The customer first, as every change to their cases' facts
			// holds them (casefacts.go).
			if err := lockCustomers(ctx, tx, []string{c.CustomerID}); err != nil {
				return err
			}
			err := refreshCases(ctx, tx, []string{id}, func() error { return moveCase(ctx, tx, id, *u.Status, u.Resolution, actor) })
			if err != nil {
				return err
			}
			// What became of a customer's cases weighs in their risk.
			if _, err := refreshCustomers(ctx, tx, []string{c.CustomerID}, false); err != nil {
				return err
			}
		}
		before := c
		if c, err = findCase(ctx, tx.querier, id, tx.now); err != nil {
			return err
		}
		changes := rapport.AuditChanges(before, c)
		if u.Note != nil {
			changes["note"] = rapport.AuditChange{After: rapport.Redacted}
		}
		return auditChanges(ctx, tx, rapport.AuditUpdate, "case", id, changes)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// moveCase resolves or reopens a case, keeping the step in its history.
func moveCase(ctx context.Context, tx *tx, id string, to rapport.CaseStatus, resolution *string, actor string) error {
	now := micros(tx.now)
	if to == rapport.CaseResolved {
		if _, err := tx.exec(ctx, `UPDATE recovery_cases SET status = ?, resolved_at = ?, resolved_by = ?, resolution = ?, updated_at = ?
			WHERE id = ?`, string(rapport.CaseResolved), now, actor, *resolution, now, id); err != nil {
			return err
		}
		return addCaseAction(ctx, tx, id, rapport.ActionResolved, *resolution, actor)
	}
	if _, err := tx.exec(ctx, `UPDATE recovery_cases SET status = ?, resolved_at = NULL, resolved_by = '', resolution = '', updated_at = ?
		WHERE id = ?`, string(rapport.CaseOpen), now, id); err != nil {
		return err
	}
	return addCaseAction(ctx, tx, id, rapport.ActionReopened, "", actor)
}

func addCaseAction(ctx context.Context, tx *tx, caseID string, kind rapport.CaseActionKind, text, actor string) error {
	_, err := tx.exec(ctx, `INSERT INTO case_actions (id, case_id, seq, kind, text, actor, acted_at)
		SELECT ?, ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ? FROM case_actions WHERE case_id = ?`,
		rapport.NewID(tx.now), caseID, string(kind), text, actor, micros(tx.now), caseID)
	return err
}

// Escalate flags the open cases past their due time; see rapport.RecoveryService.
// The query selects the cases rapport.IsOverdue calls overdue that have not
// been escalated; where each goes, and what its history says, is
// rapport.RecoveryPolicy.Escalate. Several servers may sweep at once: a case
// is escalated by whichever updates it first, and only that one writes the
// history.
func (s *RecoveryService) Escalate(ctx context.Context) (int, error) {
	const batch = 200
	total := 0
	for {
		var found, n int
		err := s.db.inTx(ctx, func(tx *tx) error {
			policy, err := findPolicy(ctx, tx.querier)
			if err != nil {
				return err
			}
			rows, err := tx.query(ctx, `SELECT c.id, c.due_at, m.id, m.name FROM recovery_cases c
				LEFT JOIN users a ON a.id = c.assignee_id LEFT JOIN users m ON m.id = a.manager_id AND m.deactivated_at IS NULL
				WHERE c.status = 'open' AND c.escalated_at IS NULL AND c.due_at < ? ORDER BY c.due_at, c.id LIMIT ?`, micros(tx.now), batch)
			if err != nil {
				return err
			}
			var dues []rapport.OverdueCase
			for rows.Next() {
				var d rapport.OverdueCase
				var at int64
				var manager, name sql.NullString
				if err := rows.Scan(&d.ID, &at, &manager, &name); err != nil {
					rows.Close()
					return err
				}
				d.DueAt, d.ManagerID, d.ManagerName = fromMicros(at), manager.String, name.String
				dues = append(dues, d)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			found = len(dues)
			for _, d := range dues {
				e := policy.Escalate(d)
				res, err := tx.exec(ctx, `UPDATE recovery_cases SET escalated_at = ?, escalated_to = ?, escalated_role = ?, updated_at = ?
					WHERE id = ? AND status = 'open' AND escalated_at IS NULL`, micros(tx.now), nullString(e.To), string(e.Role), micros(tx.now), d.ID)
				if err != nil {
					return err
				}
				if k, _ := res.RowsAffected(); k == 0 {
					continue
				}
				if err := addCaseAction(ctx, tx, d.ID, rapport.ActionEscalated, e.Note, rapport.ActorRapport); err != nil {
					return err
				}
				if err := notifyCases(ctx, tx, rapport.NotifyCaseEscalated, []string{d.ID}, true); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		total += n
		if err != nil || found < batch {
			return total, err
		}
	}
}

// findPolicy reads the recovery policy, or the default when none is stored.
func findPolicy(ctx context.Context, q querier) (*rapport.RecoveryPolicy, error) {
	var p rapport.RecoveryPolicy
	var assign int
	var role string
	err := q.queryRow(ctx, `SELECT assign_to_owner, queue, escalation_role, open_within_days FROM recovery_policy WHERE id = 'default'`).
		Scan(&assign, &p.Queue, &role, &p.OpenWithinDays)
	if errors.Is(err, sql.ErrNoRows) {
		d := rapport.DefaultRecoveryPolicy()
		return &d, nil
	}
	if err != nil {
		return nil, err
	}
	p.AssignToOwner, p.EscalationRole = assign != 0, rapport.Role(role)
	return &p, nil
}

// FindRecoveryPolicy returns the firm's recovery policy.
func (s *RecoveryService) FindRecoveryPolicy(ctx context.Context) (*rapport.RecoveryPolicy, error) {
	return findPolicy(ctx, s.db.reader())
}

// SetRecoveryPolicy replaces the recovery policy; it applies to cases opened
// and escalated from now on.
func (s *RecoveryService) SetRecoveryPolicy(ctx context.Context, p rapport.RecoveryPolicy) (*rapport.RecoveryPolicy, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	assign := 0
	if p.AssignToOwner {
		assign = 1
	}
	err := s.db.inTx(ctx, func(tx *tx) error {
		before, err := findPolicy(ctx, tx.querier)
		if err != nil {
			return err
		}
		_, err = tx.exec(ctx, `INSERT INTO recovery_policy (id, assign_to_owner, queue, escalation_role, open_within_days, updated_at)
			VALUES ('default', ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET assign_to_owner = excluded.assign_to_owner,
			queue = excluded.queue, escalation_role = excluded.escalation_role, open_within_days = excluded.open_within_days,
			updated_at = excluded.updated_at`, assign, p.Queue, string(p.EscalationRole), p.OpenWithinDays, micros(tx.now))
		if err != nil {
			return err
		}
		return audit(ctx, tx, rapport.AuditUpdate, "recovery_policy", "default", before, &p)
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// FindServiceLevel returns a touchpoint's service level, or ENOTFOUND.
func (s *RecoveryService) FindServiceLevel(ctx context.Context, touchpoint string) (*rapport.ServiceLevel, error) {
	sl := &rapport.ServiceLevel{Touchpoint: touchpoint}
	err := s.db.reader().queryRow(ctx, `SELECT service_level_hours FROM touchpoints WHERE key = ?`, touchpoint).Scan(&sl.Hours)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rapport.Errorf(rapport.ENOTFOUND, "No touchpoint has the key %q.", touchpoint)
	}
	return sl, err
}

// SetServiceLevel changes a touchpoint's service level; cases opened before
// keep the due time they were given.
func (s *RecoveryService) SetServiceLevel(ctx context.Context, sl rapport.ServiceLevel) (*rapport.ServiceLevel, error) {
	if err := sl.Validate(); err != nil {
		return nil, err
	}
	err := s.db.inTx(ctx, func(tx *tx) error {
		before := &rapport.ServiceLevel{Touchpoint: sl.Touchpoint}
		err := tx.queryRow(ctx, `SELECT service_level_hours FROM touchpoints WHERE key = ?`, sl.Touchpoint).Scan(&before.Hours)
		if errors.Is(err, sql.ErrNoRows) {
			return rapport.Errorf(rapport.ENOTFOUND, "No touchpoint has the key %q.", sl.Touchpoint)
		} else if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE touchpoints SET service_level_hours = ?, updated_at = ? WHERE key = ?`, sl.Hours, micros(tx.now), sl.Touchpoint); err != nil {
			return err
		}
		return audit(ctx, tx, rapport.AuditUpdate, "touchpoint", sl.Touchpoint, before, &sl)
	})
	if err != nil {
		return nil, err
	}
	return &sl, nil
}

// RecoveryReport measures how often recovery worked, and compares what
// recovered and unrecovered customers did in the FollowUpDays after their
// misery moment: whether they dissolved (a stage change to dissolution) and
// whether they bought again (a moment at the purchase touchpoint). Each case
// counts once. Unrecovered cases are those resolved whose next moment was
// misery again, and those still open past their due time; cases resolved
// with no moment since, or open and not yet due, are left out of both.
func (s *RecoveryService) RecoveryReport(ctx context.Context, f rapport.RecoveryReportFilter) (*rapport.RecoveryReport, error) {
	now := s.db.now()
	if f.To.IsZero() {
		f.To = now
	}
	if f.From.IsZero() {
		f.From = f.To.AddDate(-1, 0, 0)
	}
	if !f.From.Before(f.To) {
		return nil, invalidQuery("from", "must be before to")
	}
	cases, err := s.recoveryFacts(ctx, f, now)
	if err != nil {
		return nil, err
	}
	return recoveryReportOf(f, cases, now), nil
}

// recoveryReportOf counts the cases of the report's window as the domain's
// rules say.
func recoveryReportOf(f rapport.RecoveryReportFilter, cases []recoveryFact, now time.Time) *rapport.RecoveryReport {
	r := &rapport.RecoveryReport{From: f.From.UTC(), To: f.To.UTC(), FollowUpDays: rapport.FollowUpDays}
	var recovered, unrecovered groupTally
	for _, c := range cases {
		switch countRecoveryCase(r, c, now) {
		case rapport.RecoveryRecovered:
			recovered.add(c)
		case rapport.RecoveryNotRecovered:
			unrecovered.add(c)
		}
	}
	if r.Resolved > 0 {
		rate := float64(r.ResolvedInTime) / float64(r.Resolved)
		r.InTimeRate = &rate
	}
	r.RecoveryRate, r.RecoveryRateCI = rateOf(analytics.Proportion{Successes: r.Recovered, Trials: r.Recovered + r.NotRecovered})
	recD, recB := recovered.fill(&r.RecoveredGroup)
	unD, unB := unrecovered.fill(&r.UnrecoveredGroup)
	r.DissolutionDifference = difference(recD, unD)
	r.RepeatPurchaseDifference = difference(recB, unB)
	r.Explanation = r.Explain()
	return r
}

// recoveryFact is one case of the recovery report, or several alike, with
// what its customer did in the follow-up days after the misery moment.
type recoveryFact struct {
	cases                  int
	status                 rapport.CaseStatus
	due                    time.Time // read for open cases only
	inTime, escalated      bool
	nextOutcome            rapport.Outcome // of the customer's next moment; "" when none yet
	dissolved, repurchased bool
}

// recoveryFacts reads the cases opened in the report's window: the resolved
// ones as counted by the day they opened (casefacts.go), each kind of case
// of each whole day in one row, and those of the window's first and last
// part-days one by one; and the open ones as they stand now, since whether
// each is overdue depends on when the report is asked. However long the
// history, it reads a few rows a day of the window and the open cases
// (measured at a million moments: 139 ms before, with three searches of the
// history per case; 1.4 ms after).
func (s *RecoveryService) recoveryFacts(ctx context.Context, f rapport.RecoveryReportFilter, now time.Time) ([]recoveryFact, error) {
	from, to := micros(f.From), micros(f.To)
	firstDay, lastDay := (from+dayMicros-1)/dayMicros, to/dayMicros
	q := s.db.reader()
	var out []recoveryFact
	resolved := func(rows *sql.Rows) error {
		var n int
		shape, err := scanCaseShape(rows, &n)
		out = append(out, recoveryFact{cases: n, status: rapport.CaseResolved, inTime: shape.inTime, escalated: shape.escalated,
			nextOutcome: rapport.Outcome(shape.nextOutcome), dissolved: shape.dissolved, repurchased: shape.repurchased})
		return err
	}
	oneByOne := [][2]int64{{from, to}}
	if firstDay < lastDay {
		oneByOne = [][2]int64{{from, firstDay * dayMicros}, {lastDay * dayMicros, to}}
		err := eachRow(ctx, q, `SELECT day, in_time, escalated, next_outcome, dissolved, repurchased, cases FROM recovery_case_days
			WHERE day >= ? AND day < ?`, []any{firstDay, lastDay}, resolved)
		if err != nil {
			return nil, err
		}
	}
	for _, span := range oneByOne {
		if span[0] >= span[1] {
			continue
		}
		err := eachRow(ctx, q, `SELECT `+caseShapeColumns+`, 1 FROM recovery_cases WHERE opened_at >= ? AND opened_at < ? AND status <> 'open'`,
			[]any{span[0], span[1]}, resolved)
		if err != nil {
			return nil, err
		}
	}
	// The open cases, counted by whether they fell due before now's
	// microsecond, in it, or after; each count is given a due time on the
	// same side of now, and the domain says whether that is overdue.
	us := micros(now)
	dues := []time.Time{fromMicros(us + 1), fromMicros(us - 1), fromMicros(us)}
	err := eachRow(ctx, q, `SELECT CASE WHEN due_at < ? THEN 1 WHEN due_at = ? THEN 2 ELSE 0 END,
		CASE WHEN escalated_at IS NOT NULL THEN 1 ELSE 0 END, dissolved, repurchased, COUNT(*) FROM recovery_cases
		WHERE status = 'open' AND opened_at >= ? AND opened_at < ? GROUP BY 1, 2, 3, 4`, []any{us, us, from, to},
		func(rows *sql.Rows) error {
			var due, escalated, dissolved, repurchased, n int
			if err := rows.Scan(&due, &escalated, &dissolved, &repurchased, &n); err != nil {
				return err
			}
			out = append(out, recoveryFact{cases: n, status: rapport.CaseOpen, due: dues[due], escalated: escalated == 1,
				dissolved: dissolved == 1, repurchased: repurchased == 1})
			return nil
		})
	return out, err
}

// countRecoveryCase adds one case to the report's counts and returns the
// group it compares in, as the domain's rules say.
func countRecoveryCase(r *rapport.RecoveryReport, c recoveryFact, now time.Time) rapport.RecoveryOutcome {
	n := c.cases
	r.Opened += n
	if c.escalated {
		r.Escalated += n
	}
	overdue := rapport.IsOverdue(c.status, c.due, now)
	recovery := rapport.RecoveryOf(c.status != rapport.CaseOpen, c.nextOutcome)
	if c.status == rapport.CaseOpen {
		r.Open += n
		if overdue {
			r.Overdue += n
		}
	} else {
		r.Resolved += n
		if c.inTime {
			r.ResolvedInTime += n
		}
		switch recovery {
		case rapport.RecoveryPending:
			r.AwaitingMoment += n
		case rapport.RecoveryNotRecovered:
			r.NotRecovered += n
		default:
			r.Recovered += n
		}
	}
	return rapport.RecoveryGroupOf(c.status, overdue, recovery)
}

// groupTally counts what the customers of one group of cases did.
type groupTally struct{ cases, dissolved, bought int }

func (g *groupTally) add(c recoveryFact) {
	g.cases += c.cases
	if c.dissolved {
		g.dissolved += c.cases
	}
	if c.repurchased {
		g.bought += c.cases
	}
}

// fill writes the tally into the report's group, with rates and intervals,
// and returns the proportions that the groups are compared by.
func (g groupTally) fill(out *rapport.RecoveryGroup) (dissolved, bought analytics.Proportion) {
	out.Cases, out.Dissolved, out.Repurchased = g.cases, g.dissolved, g.bought
	dissolved = analytics.Proportion{Successes: g.dissolved, Trials: g.cases}
	bought = analytics.Proportion{Successes: g.bought, Trials: g.cases}
	out.DissolutionRate, out.DissolutionRateCI = rateOf(dissolved)
	out.RepeatPurchaseRate, out.RepeatPurchaseCI = rateOf(bought)
	return dissolved, bought
}

func difference(a, b analytics.Proportion) *rapport.RecoveryDifference {
	c := analytics.CompareProportions(a, b, confidence)
	if !c.OK {
		return nil
	}
	return &rapport.RecoveryDifference{Difference: c.Difference, DifferenceCI: rapport.Interval{c.Interval.Lo, c.Interval.Hi}, PValue: c.PValue}
}

// caseEntries are a customer's recovery cases on their timeline, at the
// time each opened.
func caseEntries(ctx context.Context, q querier, customerID string, pos timelinePosition, limit int) ([]rapport.TimelineEntry, error) {
	cond, args := pos.before("c.opened_at", "c.id")
	rows, err := q.query(ctx, caseSelect+` WHERE c.customer_id = ? AND `+cond+` ORDER BY c.opened_at DESC, c.id DESC LIMIT ?`,
		append(append([]any{customerID}, args...), limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	// Timeline sources are not given the store's clock; whether a case is
	// overdue is a hint here, and exact in FindCases.
	now := time.Now()
	var out []rapport.TimelineEntry
	for rows.Next() {
		c, err := scanCase(rows, now)
		if err != nil {
			return nil, err
		}
		out = append(out, rapport.TimelineEntry{Kind: rapport.EntryCase, ID: c.ID, At: c.OpenedAt, Case: c})
	}
	return out, rows.Err()
}

// PastResolution is a recovery case that was resolved before it was
// loaded: history such as the demo firm's, where the case opened for a
// moment was resolved by a member of staff at a time gone by.
type PastResolution struct {
	MomentID   string
	By         string // the user id of who resolved it
	Resolution string
	At         time.Time
}

// ResolvePastCases records past resolutions of the open cases of the
// moments, each with its own time in the case's history, and returns how
// many cases it resolved. Like the Loader, it writes history, so it leaves
// the audit log alone; a moment without an open case is passed over.
func (s *RecoveryService) ResolvePastCases(ctx context.Context, rs []PastResolution) (int, error) {
	const batch = 500
	resolved := 0
	for start := 0; start < len(rs); start += batch {
		err := s.db.inTx(ctx, func(tx *tx) error {
			// The customers first, as every change to their cases' facts
			// holds them (casefacts.go); then each open case, once.
			chunk := rs[start:min(start+batch, len(rs))]
			moments := make([]string, len(chunk))
			for i, r := range chunk {
				moments[i] = r.MomentID
			}
			var customers []string
			err := inChunks(anys(moments), func(ids []any) error {
				found, err := queryIDs(ctx, tx.querier, `SELECT customer_id FROM recovery_cases WHERE moment_id IN (`+placeholders(len(ids))+`)`, ids...)
				customers = append(customers, found...)
				return err
			})
			if err != nil {
				return err
			}
			customers = slices.Compact(slices.Sorted(slices.Values(customers)))
			if err := lockCustomers(ctx, tx, customers); err != nil {
				return err
			}
			type resolving struct {
				caseID, customerID string
				r                  PastResolution
			}
			var todo []resolving
			taken := map[string]bool{}
			for _, r := range chunk {
				var id, customer string
				err := tx.queryRow(ctx, `SELECT id, customer_id FROM recovery_cases WHERE moment_id = ? AND status = ?`,
					r.MomentID, string(rapport.CaseOpen)).Scan(&id, &customer)
				if errors.Is(err, sql.ErrNoRows) || taken[id] {
					continue
				} else if err != nil {
					return err
				}
				taken[id] = true
				todo = append(todo, resolving{id, customer, r})
			}
			ids, resolvedFor := make([]string, len(todo)), make([]string, len(todo))
			for i, t := range todo {
				ids[i], resolvedFor[i] = t.caseID, t.customerID
			}
			err = refreshCases(ctx, tx, ids, func() error {
				for _, t := range todo {
					at := micros(t.r.At)
					if _, err := tx.exec(ctx, `UPDATE recovery_cases SET status = ?, resolved_at = ?, resolved_by = ?, resolution = ?, updated_at = ? WHERE id = ?`,
						string(rapport.CaseResolved), at, t.r.By, t.r.Resolution, at, t.caseID); err != nil {
						return err
					}
					if _, err := tx.exec(ctx, `INSERT INTO case_actions (id, case_id, seq, kind, text, actor, acted_at)
						SELECT ?, ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ? FROM case_actions WHERE case_id = ?`,
						rapport.NewID(t.r.At), t.caseID, string(rapport.ActionResolved), t.r.Resolution, t.r.By, at, t.caseID); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			resolved += len(todo)
			// What became of a customer's cases weighs in their risk.
			_, err = refreshCustomers(ctx, tx, resolvedFor, false)
			return err
		})
		if err != nil {
			return resolved, err
		}
	}
	return resolved, nil
}
