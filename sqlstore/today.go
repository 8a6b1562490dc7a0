package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rapport-crm/rapport"
)

// TodayService makes each member of staff's list of whom to contact today.
type TodayService struct {
	db          *DB
	suggestions *SuggestionService
}

// NewTodayService returns today's lists from db.
func NewTodayService(db *DB) *TodayService {
	return &TodayService{db: db, suggestions: NewSuggestionService(db)}
}

var _ rapport.TodayService = (*TodayService)(nil)

// todayLimit is how many customers a list shows unless asked otherwise.
const todayLimit = 25

// caseNearDue is how soon an open case falls due to be on today's list:
// a day beyond the default service level, so a case opened today is on it.
const caseNearDue = (rapport.DefaultServiceLevelHours + 24) * time.Hour

// maxTodayStaff bounds how many members of staff one list covers.
const maxTodayStaff = 200

// Today gathers, for the staff members, the customers to contact today
// with every reason, ranks them, and suggests a response for each. Each
// reason is one indexed query over the staff's own rows.
func (s *TodayService) Today(ctx context.Context, f rapport.TodayFilter) ([]*rapport.Contact, error) {
	if len(f.StaffIDs) == 0 {
		return []*rapport.Contact{}, nil
	}
	if len(f.StaffIDs) > maxTodayStaff {
		return nil, rapport.Errorf(rapport.EINVALID, "Today's list covers at most %d members of staff.", maxTodayStaff)
	}
	limit := f.Limit
	if limit <= 0 || limit > rapport.MaxPageSize {
		limit = todayLimit
	}
	now := s.db.now()
	l := &todayList{q: s.db.reader(), now: now, byCustomer: map[string]*rapport.Contact{}, staff: f.StaffIDs}
	for _, gather := range []func(context.Context) error{l.promises, l.cases, l.handovers, l.gestures, l.measures} {
		if err := gather(ctx); err != nil {
			return nil, err
		}
	}
	out := make([]*rapport.Contact, 0, len(l.byCustomer))
	for _, c := range l.byCustomer {
		out = append(out, c)
	}
	rapport.RankContacts(out)
	out = out[:min(len(out), limit)]
	if err := s.suggest(ctx, l.q, out); err != nil {
		return nil, err
	}
	return out, nil
}

// suggest names each contact's staff member and suggests the response for
// the touchpoint the contact is about.
func (s *TodayService) suggest(ctx context.Context, q querier, cs []*rapport.Contact) error {
	names := map[string]string{}
	for _, c := range cs {
		if _, ok := names[c.StaffID]; !ok && c.StaffID != "" {
			var name string
			if err := q.queryRow(ctx, `SELECT name FROM users WHERE id = ?`, c.StaffID).Scan(&name); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			names[c.StaffID] = name
		}
		c.StaffName = names[c.StaffID]
		if c.Touchpoint == "" {
			err := q.queryRow(ctx, `SELECT touchpoint FROM moments WHERE customer_id = ? ORDER BY occurred_at DESC, id DESC LIMIT 1`,
				c.CustomerID).Scan(&c.Touchpoint)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		if c.Touchpoint == "" {
			continue
		}
		sg, err := s.suggestions.Suggest(ctx, c.CustomerID, c.Touchpoint)
		if err != nil && rapport.ErrorCode(err) != rapport.ENOTFOUND {
			return err
		}
		if sg != nil && sg.Suggested != "" {
			c.Suggestion = sg
		}
	}
	return nil
}

// todayList gathers the reasons, one customer at a time.
type todayList struct {
	q          querier
	now        time.Time
	staff      []string
	byCustomer map[string]*rapport.Contact
}

func (l *todayList) add(customerID, name, staffID string, r rapport.ContactReason) {
	c := l.byCustomer[customerID]
	if c == nil {
		c = &rapport.Contact{CustomerID: customerID, CustomerName: name, StaffID: staffID}
		l.byCustomer[customerID] = c
	}
	c.AddReason(r)
}

// in is "IN (?, ?, …)" for the staff, with its arguments after the others.
func (l *todayList) in(args ...any) (string, []any) {
	return "IN (" + placeholders(len(l.staff)) + ")", append(args, anys(l.staff)...)
}

func (l *todayList) promises(ctx context.Context) error {
	in, args := l.in(string(rapport.PromiseOpen), micros(endOfDay(l.now)))
	rows, err := l.q.query(ctx, `SELECT p.customer_id, c.name, p.staff_id, p.text, p.due_at FROM promises p
		JOIN customers c ON c.id = p.customer_id
		WHERE p.status = ? AND p.due_at < ? AND p.staff_id `+in, args...)
	if err != nil {
		return fmt.Errorf("today's promises: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, name, staff, text string
		var due int64
		if err := rows.Scan(&id, &name, &staff, &text, &due); err != nil {
			return err
		}
		r := rapport.ContactReason{Kind: rapport.ContactPromiseDue, At: fromMicros(due),
			Text: fmt.Sprintf("Promise due today at %s: %s", fromMicros(due).Format("15:04 UTC"), text)}
		if l.now.After(r.At) {
			r.Kind, r.Text = rapport.ContactPromiseLate, fmt.Sprintf("Promise past due since %s: %s", r.At.Format("2 Jan 15:04 UTC"), text)
		}
		l.add(id, name, staff, r)
	}
	return rows.Err()
}

func (l *todayList) cases(ctx context.Context) error {
	in, args := l.in(string(rapport.CaseOpen), micros(l.now.Add(caseNearDue)))
	rows, err := l.q.query(ctx, `SELECT k.customer_id, c.name, k.assignee_id, k.touchpoint, k.due_at FROM recovery_cases k
		JOIN customers c ON c.id = k.customer_id
		WHERE k.status = ? AND k.due_at < ? AND k.assignee_id `+in, args...)
	if err != nil {
		return fmt.Errorf("today's cases: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, name, staff, tp string
		var due int64
		if err := rows.Scan(&id, &name, &staff, &tp, &due); err != nil {
			return err
		}
		r := rapport.ContactReason{Kind: rapport.ContactCaseDue, At: fromMicros(due), Touchpoint: tp,
			Text: fmt.Sprintf("Recovery case (%s) due %s.", tp, fromMicros(due).Format("2 Jan 15:04 UTC"))}
		if l.now.After(r.At) {
			r.Kind, r.Text = rapport.ContactCaseOverdue, fmt.Sprintf("Recovery case (%s) overdue since %s.", tp, r.At.Format("2 Jan 15:04 UTC"))
		}
		l.add(id, name, staff, r)
	}
	return rows.Err()
}

// contactedToday says whether a customer's latest moment is today: then
// the slower reasons (a handover, risk, silence) have been seen to.
func (l *todayList) contactedToday(last sql.NullInt64) bool {
	return last.Valid && !fromMicros(last.Int64).Before(startOfDay(l.now))
}

func (l *todayList) handovers(ctx context.Context) error {
	in, args := l.in(micros(l.now.Add(-7 * 24 * time.Hour)))
	rows, err := l.q.query(ctx, `SELECT h.customer_id, c.name, h.to_owner, h.handed_at, COALESCE(u.name, ''), m.last_moment_at
		FROM handovers h JOIN customers c ON c.id = h.customer_id
		LEFT JOIN users u ON u.id = h.from_owner
		LEFT JOIN customer_measures m ON m.customer_id = h.customer_id
		WHERE h.handed_at >= ? AND c.owner_id = h.to_owner AND h.to_owner `+in, args...)
	if err != nil {
		return fmt.Errorf("today's handovers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, name, staff, from string
		var at int64
		var last sql.NullInt64
		if err := rows.Scan(&id, &name, &staff, &at, &from, &last); err != nil {
			return err
		}
		if l.contactedToday(last) && last.Int64 >= at {
			continue
		}
		text := "Handed over " + fromMicros(at).Format("2 Jan") + "; read the brief and introduce yourself."
		if from != "" {
			text = "Handed over by " + from + " on " + fromMicros(at).Format("2 Jan") + "; read the brief and introduce yourself."
		}
		l.add(id, name, staff, rapport.ContactReason{Kind: rapport.ContactHandedOver, At: fromMicros(at), Text: text})
	}
	return rows.Err()
}

// gestures are the customers who reached a milestone a rule marks in the
// last rapport.GestureListDays, chosen for the gesture and not given it yet.
func (l *todayList) gestures(ctx context.Context) error {
	in, args := l.in(micros(l.now.AddDate(0, 0, -rapport.GestureListDays)))
	rows, err := l.q.query(ctx, `SELECT g.customer_id, c.name, c.owner_id, g.milestone_at, g.milestone, r.name, r.kind, r.touchpoint
		FROM gestures g JOIN gesture_rules r ON r.id = g.rule_id JOIN customers c ON c.id = g.customer_id
		WHERE g.arm = 'offered' AND g.milestone_at >= ? AND NOT `+gestureGiven+` AND c.owner_id `+in, args...)
	if err != nil {
		return fmt.Errorf("today's gestures: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, name, staff, milestone, rule, kind, tp string
		var at int64
		if err := rows.Scan(&id, &name, &staff, &at, &milestone, &rule, &kind, &tp); err != nil {
			return err
		}
		l.add(id, name, staff, rapport.ContactReason{Kind: rapport.ContactGesture, At: fromMicros(at), Touchpoint: tp,
			Text: rapport.GestureReason(milestone, fromMicros(at), rule, kind)})
	}
	return rows.Err()
}

func (l *todayList) measures(ctx context.Context) error {
	quietest := 0 * time.Hour
	for _, d := range rapport.SilenceAllowed {
		if quietest == 0 || d < quietest {
			quietest = d
		}
	}
	in, args := l.in(micros(l.now.Add(-quietest)))
	rows, err := l.q.query(ctx, `SELECT m.customer_id, c.name, m.owner_id, m.stage, m.risk, m.misery_30d, m.rating_90d, m.rating_prior_90d,
			m.last_moment_at, m.computed_at
		FROM customer_measures m JOIN customers c ON c.id = m.customer_id
		WHERE (m.risk >= 50 OR m.last_moment_at < ?) AND c.erased_at IS NULL AND m.stage <> '`+string(rapport.StageDissolution)+`'
			AND m.owner_id `+in, args...)
	if err != nil {
		return fmt.Errorf("today's quiet and risky customers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, name, staff, stage string
		var risk, misery int
		var rating, prior sql.NullFloat64
		var last sql.NullInt64
		var computed int64
		if err := rows.Scan(&id, &name, &staff, &stage, &risk, &misery, &rating, &prior, &last, &computed); err != nil {
			return err
		}
		if l.contactedToday(last) {
			continue
		}
		if r, ok := rapport.RiskReason(risk, misery, floatPtr(rating), floatPtr(prior), fromMicros(computed)); ok {
			l.add(id, name, staff, r)
		}
		if last.Valid {
			if r, ok := rapport.SilentReason(rapport.Stage(stage), fromMicros(last.Int64), l.now); ok {
				l.add(id, name, staff, r)
			}
		}
	}
	return rows.Err()
}

func floatPtr(n sql.NullFloat64) *float64 {
	if !n.Valid {
		return nil
	}
	return &n.Float64
}

func startOfDay(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }

func endOfDay(t time.Time) time.Time { return startOfDay(t).Add(24 * time.Hour) }
