package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/rapport-crm/rapport"
)

// StageService keeps customers' relationship stages: set by hand, inferred
// by the stage rules, and their history.
type StageService struct{ db *DB }

// NewStageService returns the stages kept in db.
func NewStageService(db *DB) *StageService { return &StageService{db: db} }

var _ rapport.StageService = (*StageService)(nil)

const stageChangeColumns = `id, customer_id, from_stage, to_stage, reason, dissolution_reason, changed_by, changed_at`

// StageStatus returns a customer's stage, how it was set, and any proposal.
func (s *StageService) StageStatus(ctx context.Context, customerID string) (*rapport.StageStatus, error) {
	return stageStatus(ctx, s.db.reader(), customerID)
}

func stageStatus(ctx context.Context, q querier, customerID string) (*rapport.StageStatus, error) {
	c, err := findCustomer(ctx, q, customerID)
	if err != nil {
		return nil, err
	}
	st := &rapport.StageStatus{CustomerID: c.ID, Stage: c.Stage, SetBy: rapport.StageSetOtherwise, Since: c.CreatedAt}
	last, err := scanStageChange(q.queryRow(ctx, `SELECT `+stageChangeColumns+` FROM stage_changes WHERE customer_id = ?
		ORDER BY changed_at DESC, id DESC LIMIT 1`, customerID))
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, err
	default:
		st.LastChange, st.Since = last, last.ChangedAt
		if last.ChangedBy == rapport.ChangedByInference {
			st.SetBy = rapport.StageSetByInference
		}
	}
	var (
		manual int64
		p      rapport.StageProposal
		at     sql.NullInt64
	)
	err = q.queryRow(ctx, `SELECT manual, proposed_stage, proposed_reason, proposed_dissolution_reason, proposed_at
		FROM customer_stages WHERE customer_id = ?`, customerID).Scan(&manual, &p.Stage, &p.Reason, &p.DissolutionReason, &at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, err
	default:
		if manual == 1 {
			st.SetBy = rapport.StageSetByHand
		}
		if p.Stage != "" {
			if t := timePtr(at); t != nil {
				p.ProposedAt = *t
			}
			st.Proposal = &p
		}
	}
	return st, nil
}

// SetStage sets a customer's stage by hand. The change is recorded with
// who made it; from then on the stage rules only propose, until the stage is
// released.
func (s *StageService) SetStage(ctx context.Context, customerID string, in rapport.StageInput) (*rapport.StageStatus, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var st *rapport.StageStatus
	err := s.db.inTx(ctx, func(tx *tx) error {
		c, err := findCustomer(ctx, tx.querier, customerID)
		if err != nil {
			return err
		}
		var at int64
		if in.ChangedAt != nil {
			at = micros(*in.ChangedAt)
		}
		changed, err := changeStage(ctx, tx, customerID, c.Stage, in.Stage, in.Reason, in.DissolutionReason, rapport.ActorID(ctx), true, at)
		if err != nil {
			return err
		}
		if !changed {
			return rapport.Errorf(rapport.ECONFLICT, "The customer's stage changed at the same time; look at it again and retry.")
		}
		err = audit(ctx, tx, rapport.AuditUpdate, "customer", customerID, map[string]any{"stage": c.Stage}, in)
		if err != nil {
			return err
		}
		if _, err := refreshCustomers(ctx, tx, []string{customerID}, false); err != nil {
			return err
		}
		st, err = stageStatus(ctx, tx.querier, customerID)
		return err
	})
	return st, err
}

// ReleaseStage hands a customer's stage back to the stage rules, which may
// then move it on at once.
func (s *StageService) ReleaseStage(ctx context.Context, customerID string) (*rapport.StageStatus, error) {
	var st *rapport.StageStatus
	err := s.db.inTx(ctx, func(tx *tx) error {
		if _, err := findCustomer(ctx, tx.querier, customerID); err != nil {
			return err
		}
		res, err := tx.exec(ctx, `UPDATE customer_stages SET manual = 0 WHERE customer_id = ? AND manual <> 0`, customerID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			err := auditChanges(ctx, tx, rapport.AuditUpdate, "customer", customerID,
				map[string]rapport.AuditChange{"stage_set_by_hand": {Before: true, After: false}})
			if err != nil {
				return err
			}
		}
		if _, err := refreshCustomers(ctx, tx, []string{customerID}, true); err != nil {
			return err
		}
		st, err = stageStatus(ctx, tx.querier, customerID)
		return err
	})
	return st, err
}

// DismissProposal sets aside the stage the rules propose for a customer.
func (s *StageService) DismissProposal(ctx context.Context, customerID string) (*rapport.StageStatus, error) {
	var st *rapport.StageStatus
	err := s.db.inTx(ctx, func(tx *tx) error {
		if _, err := findCustomer(ctx, tx.querier, customerID); err != nil {
			return err
		}
		res, err := tx.exec(ctx, `UPDATE customer_stages SET dismissed_stage = proposed_stage, proposed_stage = '',
				proposed_reason = '', proposed_dissolution_reason = '', proposed_at = NULL
			WHERE customer_id = ? AND proposed_stage <> ''`, customerID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return rapport.Errorf(rapport.ECONFLICT, "The rules propose nothing for this customer now.")
		}
		err = auditChanges(ctx, tx, rapport.AuditUpdate, "customer", customerID,
			map[string]rapport.AuditChange{"stage_proposal": {Before: "proposed", After: "dismissed"}})
		if err != nil {
			return err
		}
		st, err = stageStatus(ctx, tx.querier, customerID)
		return err
	})
	return st, err
}

// changeStage moves a customer from one stage to another, if they are still
// in from, records the step and how the stage was set, and clears any
// proposal. It reports whether the customer was still in from. at dates a
// change from the firm's past (microseconds); 0 means now.
func changeStage(ctx context.Context, tx *tx, customerID string, from, to rapport.Stage, reason, dissolutionReason, by string, manual bool, at int64) (bool, error) {
	at, err := stageChangeTime(ctx, tx, customerID, at)
	if err != nil {
		return false, err
	}
	res, err := tx.exec(ctx, `UPDATE customers SET stage = ?, updated_at = ? WHERE id = ? AND stage = ?`,
		string(to), micros(tx.now), customerID, string(from))
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	// Segment rules read the stage from the measures' copy.
	if _, err := tx.exec(ctx, `UPDATE customer_measures SET stage = ? WHERE customer_id = ?`, string(to), customerID); err != nil {
		return false, err
	}
	_, err = tx.exec(ctx, `INSERT INTO stage_changes (`+stageChangeColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		rapport.NewID(tx.now), customerID, string(from), string(to), reason, dissolutionReason, by, at)
	if err != nil {
		return false, err
	}
	if err := enqueueStageChanged(ctx, tx, customerID, at); err != nil {
		return false, err
	}
	// A dissolution, even one dated in the past, counts for the customer's
	// recovery cases.
	if err := noteStageChange(ctx, tx, customerID, to, at); err != nil {
		return false, err
	}
	flag := 0
	if manual {
		flag = 1
	}
	_, err = tx.exec(ctx, `INSERT INTO customer_stages (customer_id, manual, set_by, set_at, proposed_stage, proposed_reason,
			proposed_dissolution_reason, proposed_at) VALUES (?, ?, ?, ?, '', '', '', NULL)
		ON CONFLICT (customer_id) DO UPDATE SET manual = excluded.manual, set_by = excluded.set_by, set_at = excluded.set_at,
			proposed_stage = '', proposed_reason = '', proposed_dissolution_reason = '', proposed_at = NULL, dismissed_stage = ''`,
		customerID, flag, by, micros(tx.now))
	return err == nil, err
}

// stageChangeTime is when a new step of the customer's history happens:
// dated (at, microseconds) or, when at is 0, now. A dated step must come
// after the latest step known and not after now, so the history keeps one
// order and the stage it ends in stays the customer's stage; a step made now
// comes strictly after the one before, even within a microsecond.
func stageChangeTime(ctx context.Context, tx *tx, customerID string, at int64) (int64, error) {
	var last sql.NullInt64
	if err := tx.queryRow(ctx, `SELECT MAX(changed_at) FROM stage_changes WHERE customer_id = ?`, customerID).Scan(&last); err != nil {
		return 0, err
	}
	now := micros(tx.now)
	if at == 0 {
		if last.Valid && last.Int64 >= now {
			return last.Int64 + 1, nil
		}
		return now, nil
	}
	switch {
	case at > now:
		return 0, stageTimeError("must not be in the future")
	case last.Valid && at <= last.Int64:
		return 0, stageTimeError("must be after the customer's latest stage change, at " +
			fromMicros(last.Int64).Format(time.RFC3339Nano) + "; bring history in oldest first")
	}
	return at, nil
}

func stageTimeError(msg string) error {
	return &rapport.Error{Code: rapport.EINVALID, Message: "The stage change is not valid.",
		Fields: []rapport.FieldError{{Field: "changed_at", Message: msg}}}
}

// inferStage runs the stage rules on one customer: it applies the stage
// they conclude, stores it as a proposal, or clears a proposal that no
// longer holds. f is updated to the stage applied.
func inferStage(ctx context.Context, tx *tx, f *customerFacts, rules rapport.StageRules) (applied, proposed bool, err error) {
	sf := rapport.StageFacts{
		Now: fromMicros(f.now), Created: fromMicros(f.created), Stage: rapport.Stage(f.stage), StageSince: fromMicros(f.stageSince),
		Products: f.products, EverHeld: f.everHeld, Moments90: int(f.m90), Rated90: int(f.rated90),
	}
	if f.rated90 > 0 {
		sf.Rating90 = f.ratingSum90 / float64(f.rated90)
	}
	if f.lastEnded != 0 {
		sf.LastEnded = fromMicros(f.lastEnded)
	}
	if f.last != 0 {
		sf.LastMoment = fromMicros(f.last)
	}
	inf := rules.InferStage(sf, f.manual)
	switch {
	case inf.Stage == "":
		if f.proposal.Stage != "" || f.dismissed != "" {
			// Nothing to propose: a dismissed stage may be proposed afresh later.
			_, err = tx.exec(ctx, `UPDATE customer_stages SET proposed_stage = '', proposed_reason = '',
				proposed_dissolution_reason = '', proposed_at = NULL, dismissed_stage = '' WHERE customer_id = ?`, f.id)
			f.proposal, f.dismissed = rapport.StageProposal{}, ""
		}
		return false, false, err
	case inf.Apply:
		ok, err := changeStage(ctx, tx, f.id, rapport.Stage(f.stage), inf.Stage, inf.Reason, inf.DissolutionReason, rapport.ChangedByInference, false, 0)
		if ok {
			f.stage, f.stageSince, f.proposal = string(inf.Stage), f.now, rapport.StageProposal{}
		}
		return ok, false, err
	case f.proposal.Stage == inf.Stage && f.proposal.DissolutionReason == inf.DissolutionReason:
		return false, false, nil // proposed already; it keeps its first reason and time
	case inf.Stage == rapport.Stage(f.dismissed):
		return false, false, nil // dismissed by a person; not proposed again yet
	}
	_, err = tx.exec(ctx, `INSERT INTO customer_stages (customer_id, manual, set_by, set_at, proposed_stage, proposed_reason,
			proposed_dissolution_reason, proposed_at) VALUES (?, 0, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (customer_id) DO UPDATE SET proposed_stage = excluded.proposed_stage, proposed_reason = excluded.proposed_reason,
			proposed_dissolution_reason = excluded.proposed_dissolution_reason, proposed_at = excluded.proposed_at,
			dismissed_stage = ''`,
		f.id, string(rapport.StageSetOtherwise), f.stageSince, string(inf.Stage), inf.Reason, inf.DissolutionReason, f.now)
	f.proposal = rapport.StageProposal{Stage: inf.Stage, Reason: inf.Reason, DissolutionReason: inf.DissolutionReason, ProposedAt: fromMicros(f.now)}
	return false, err == nil, err
}

// StageHistory returns every stage change of a customer, oldest first, with
// who made each.
func (s *StageService) StageHistory(ctx context.Context, customerID string) ([]*rapport.StageHistoryEntry, error) {
	q := s.db.reader()
	if _, err := findCustomer(ctx, q, customerID); err != nil {
		return nil, err
	}
	out := []*rapport.StageHistoryEntry{}
	err := eachRow(ctx, q, `SELECT s.id, s.customer_id, s.from_stage, s.to_stage, s.reason, s.dissolution_reason, s.changed_by,
			s.changed_at, u.name FROM stage_changes s LEFT JOIN users u ON u.id = s.changed_by
		WHERE s.customer_id = ? ORDER BY s.changed_at, s.id`, []any{customerID}, func(rows *sql.Rows) error {
		var e rapport.StageHistoryEntry
		var at int64
		var name sql.NullString
		if err := rows.Scan(&e.ID, &e.CustomerID, &e.From, &e.To, &e.Reason, &e.DissolutionReason, &e.ChangedBy, &at, &name); err != nil {
			return err
		}
		e.ChangedAt = fromMicros(at)
		e.ChangedByKind, e.ChangedByName = rapport.ChangerKindOf(e.ChangedBy, name.Valid), name.String
		out = append(out, &e)
		return nil
	})
	return out, err
}

// stageRulesName is the row of stage_rules that holds the firm's rules.
const stageRulesName = "default"

// StageRules returns the rules the inference uses: the firm's, or the defaults.
func (s *StageService) StageRules(ctx context.Context) (*rapport.StageRules, error) {
	return loadStageRules(ctx, s.db.reader())
}

// SetStageRules replaces the firm's stage rules.
func (s *StageService) SetStageRules(ctx context.Context, r rapport.StageRules) (*rapport.StageRules, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	err = s.db.inTx(ctx, func(tx *tx) error {
		before, err := loadStageRules(ctx, tx.querier)
		if err != nil {
			return err
		}
		_, err = tx.exec(ctx, `INSERT INTO stage_rules (name, rules, updated_at, updated_by) VALUES (?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET rules = excluded.rules, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			stageRulesName, string(b), micros(tx.now), rapport.ActorID(ctx))
		if err != nil {
			return err
		}
		return audit(ctx, tx, rapport.AuditUpdate, "stage_rules", stageRulesName, before, &r)
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

func loadStageRules(ctx context.Context, q querier) (*rapport.StageRules, error) {
	r := rapport.DefaultStageRules()
	var doc string
	err := q.queryRow(ctx, `SELECT rules FROM stage_rules WHERE name = ?`, stageRulesName).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return &r, nil
	} else if err != nil {
		return nil, err
	}
	// Rules added since the firm saved theirs keep their defaults.
	if err := json.Unmarshal([]byte(doc), &r); err != nil {
		return nil, err
	}
	return &r, nil
}
