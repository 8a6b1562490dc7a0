package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// SurveyPolicyService keeps the touchpoints' survey policies.
type SurveyPolicyService struct{ db *DB }

// NewSurveyPolicyService returns the survey policies stored in db.
func NewSurveyPolicyService(db *DB) *SurveyPolicyService { return &SurveyPolicyService{db: db} }

var _ rapport.SurveyPolicyService = (*SurveyPolicyService)(nil)

const surveyPolicySelect = `SELECT touchpoint, enabled, channels, sample_percent, delay_minutes, quiet_days, reminder_days, reasons,
	updated_at FROM survey_policies`

func scanSurveyPolicy(row interface{ Scan(...any) error }) (*rapport.SurveyPolicy, error) {
	var p rapport.SurveyPolicy
	var enabled int
	var channels, reasons string
	var updated int64
	if err := row.Scan(&p.Touchpoint, &enabled, &channels, &p.SamplePercent, &p.DelayMinutes, &p.QuietDays, &p.ReminderDays,
		&reasons, &updated); err != nil {
		return nil, err
	}
	p.Enabled, p.UpdatedAt = enabled == 1, fromMicros(updated)
	p.Channels, p.Reasons = []rapport.Channel{}, []string{}
	for _, c := range strings.Split(channels, ",") {
		if c != "" {
			p.Channels = append(p.Channels, rapport.Channel(c))
		}
	}
	for _, r := range strings.Split(reasons, "\n") {
		if r != "" {
			p.Reasons = append(p.Reasons, r)
		}
	}
	return &p, nil
}

// findSurveyPolicy returns a touchpoint's policy, or the default when none
// was set.
func findSurveyPolicy(ctx context.Context, q querier, touchpoint string) (*rapport.SurveyPolicy, error) {
	p, err := scanSurveyPolicy(q.queryRow(ctx, surveyPolicySelect+` WHERE touchpoint = ?`, touchpoint))
	if errors.Is(err, sql.ErrNoRows) {
		d := rapport.DefaultSurveyPolicy(touchpoint)
		return &d, nil
	}
	return p, err
}

// FindSurveyPolicy returns a touchpoint's policy; see rapport.SurveyPolicyService.
func (s *SurveyPolicyService) FindSurveyPolicy(ctx context.Context, touchpoint string) (*rapport.SurveyPolicy, error) {
	q := s.db.reader()
	if _, err := findTouchpoint(ctx, q, touchpoint); err != nil {
		return nil, err
	}
	return findSurveyPolicy(ctx, q, touchpoint)
}

// SetSurveyPolicy stores a touchpoint's policy, replacing the one before.
func (s *SurveyPolicyService) SetSurveyPolicy(ctx context.Context, p *rapport.SurveyPolicy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return s.db.inTx(ctx, func(tx *tx) error {
		if _, err := findTouchpoint(ctx, tx.querier, p.Touchpoint); err != nil {
			return err
		}
		before, err := findSurveyPolicy(ctx, tx.querier, p.Touchpoint)
		if err != nil {
			return err
		}
		p.UpdatedAt = tx.now.Truncate(time.Microsecond)
		channels := make([]string, len(p.Channels))
		for i, c := range p.Channels {
			channels[i] = string(c)
		}
		_, err = tx.exec(ctx, `INSERT INTO survey_policies (touchpoint, enabled, channels, sample_percent, delay_minutes, quiet_days,
			reminder_days, reasons, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (touchpoint) DO UPDATE SET enabled = excluded.enabled, channels = excluded.channels,
			sample_percent = excluded.sample_percent, delay_minutes = excluded.delay_minutes, quiet_days = excluded.quiet_days,
			reminder_days = excluded.reminder_days, reasons = excluded.reasons, updated_at = excluded.updated_at,
			updated_by = excluded.updated_by`,
			p.Touchpoint, boolInt(p.Enabled), strings.Join(channels, ","), p.SamplePercent, p.DelayMinutes, p.QuietDays,
			p.ReminderDays, strings.Join(p.Reasons, "\n"), micros(p.UpdatedAt), rapport.ActorID(ctx))
		if err != nil {
			return err
		}
		return audit(ctx, tx, rapport.AuditUpdate, "survey_policy", p.Touchpoint, before, p)
	})
}

// enabledSurveyPolicies are the policies that invite, by touchpoint.
func enabledSurveyPolicies(ctx context.Context, q querier) (map[string]*rapport.SurveyPolicy, error) {
	out := map[string]*rapport.SurveyPolicy{}
	err := eachRow(ctx, q, surveyPolicySelect+` WHERE enabled = 1`, nil, func(rows *sql.Rows) error {
		p, err := scanSurveyPolicy(rows)
		if err == nil {
			out[p.Touchpoint] = p
		}
		return err
	})
	return out, err
}
