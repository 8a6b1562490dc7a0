package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/rapport-crm/rapport"
)

// surveyReportWindow is the window of a report asked without one.
const surveyReportWindow = 90 * 24 * time.Hour

// SurveyReport tells how a touchpoint's invitations fared; see
// rapport.SurveyPolicyService.
func (s *SurveyPolicyService) SurveyReport(ctx context.Context, f rapport.SurveyReportFilter) (*rapport.SurveyReport, error) {
	q := s.db.reader()
	if _, err := findTouchpoint(ctx, q, f.Touchpoint); err != nil {
		return nil, err
	}
	if f.To.IsZero() {
		f.To = s.db.now()
	}
	if f.From.IsZero() {
		f.From = f.To.Add(-surveyReportWindow)
	}
	if !f.From.Before(f.To) {
		return nil, rapport.Errorf(rapport.EINVALID, "The window must start before it ends.")
	}
	t := rapport.SurveyTallies{Reasons: map[string]int{}}
	from, to := micros(f.From), micros(f.To)
	// Invitations sent in the window, and how many were answered.
	err := q.queryRow(ctx, `SELECT COUNT(*), COUNT(l.answered_at) FROM email_outbox e
		JOIN survey_invitations i ON i.id = e.invitation_id JOIN survey_links l ON l.id = i.link_id
		WHERE e.kind = ? AND e.status = ? AND i.touchpoint = ? AND e.sent_at >= ? AND e.sent_at < ?`,
		rapport.EmailSurveyInvitation, rapport.EmailSent, f.Touchpoint, from, to).Scan(&t.Invited, &t.Answered)
	if err != nil {
		return nil, fmt.Errorf("count invitations: %w", err)
	}
	// Customers' answers in the window, by any link.
	answers := `FROM survey_links l JOIN moments m ON m.id = l.moment_id
		WHERE m.touchpoint = ? AND l.answered_at >= ? AND l.answered_at < ?`
	args := []any{f.Touchpoint, from, to}
	err = eachRow(ctx, q, `SELECT l.rating, l.effort, l.nps, l.reason `+answers, args, func(rows *sql.Rows) error {
		var rating int
		var effort, nps sql.NullInt64
		var reason string
		if err := rows.Scan(&rating, &effort, &nps, &reason); err != nil {
			return err
		}
		t.Customer = t.Customer.Add(float64(rating))
		if effort.Valid {
			t.Effort = t.Effort.Add(float64(effort.Int64))
		}
		if nps.Valid {
			t.NPS = t.NPS.Add(int(nps.Int64))
		}
		if rating <= 2 {
			t.LowAnswers++
			if reason != "" {
				t.Reasons[reason]++
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read answers: %w", err)
	}
	// What staff recorded on the window's moments: the rating a customer's
	// answer replaced where there is one.
	var n int
	var sum, squares sql.NullFloat64
	err = q.queryRow(ctx, `SELECT COUNT(x), SUM(x), SUM(x * x) FROM (
		SELECT CASE WHEN l.id IS NULL THEN m.rating ELSE l.staff_rating END AS x
		FROM moments m LEFT JOIN survey_links l ON l.moment_id = m.id AND l.answered_at IS NOT NULL
		WHERE m.touchpoint = ? AND m.occurred_at >= ? AND m.occurred_at < ?) staff`, args...).Scan(&n, &sum, &squares)
	if err != nil {
		return nil, fmt.Errorf("read staff ratings: %w", err)
	}
	t.Staff.N, t.Staff.Sum, t.Staff.SumSquares = n, sum.Float64, squares.Float64
	return rapport.NewSurveyReport(f, t), nil
}
