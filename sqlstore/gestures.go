package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// GestureService keeps gesture rules, finds their customers' milestones on
// the sweep (never while a moment is recorded), and measures what followed
// the gestures against the customers held out.
type GestureService struct {
	db          *DB
	suggestions *SuggestionService
}

// NewGestureService returns the gesture rules kept in db.
func NewGestureService(db *DB) *GestureService {
	return &GestureService{db: db, suggestions: NewSuggestionService(db)}
}

var _ rapport.GestureService = (*GestureService)(nil)

// milestoneLookback is how far before where it last looked the sweep looks
// again, so that a moment recorded a little after it happened still makes
// its milestone; a milestone found twice is kept once.
const milestoneLookback = 24 * time.Hour

const gestureRuleColumns = `r.id, r.name, r.description, r.milestone, r.milestone_count, r.product, r.kind, r.cost, r.touchpoint,
	r.starts_at, r.ends_at, r.holdout_share, r.seed, r.evaluated_until, r.created_by, r.created_at`

// gestureGiven is true when the gesture's moment has been recorded since
// the milestone.
const gestureGiven = `EXISTS (SELECT 1 FROM moments m WHERE m.customer_id = g.customer_id AND m.touchpoint = r.touchpoint
	AND m.occurred_at >= g.milestone_at)`

const gestureCounts = `,
	(SELECT COUNT(*) FROM gestures g WHERE g.rule_id = r.id AND g.arm = 'offered'),
	(SELECT COUNT(*) FROM gestures g WHERE g.rule_id = r.id AND g.arm = 'holdout'),
	(SELECT COUNT(*) FROM gestures g WHERE g.rule_id = r.id AND g.arm = 'offered' AND ` + gestureGiven + `)`

// CreateGestureRule keeps a new rule, with a random seed unless it has one,
// and the gesture's touchpoint added to the catalogue if missing. Its
// milestones are looked for from its start on the next sweep.
func (s *GestureService) CreateGestureRule(ctx context.Context, g *rapport.GestureRule) error {
	if err := g.Validate(s.db.now()); err != nil {
		return err
	}
	for g.Seed == 0 {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		g.Seed = int64(binary.BigEndian.Uint64(b[:]) >> 1)
	}
	return s.db.inTx(ctx, func(tx *tx) error {
		if g.Product != "" {
			var n int
			if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM products WHERE key = ?`, g.Product).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return &rapport.Error{Code: rapport.EINVALID, Message: "The gesture rule is not valid.",
					Fields: []rapport.FieldError{{Field: "product", Message: "no product has the key " + g.Product}}}
			}
		}
		if err := ensureGivingTouchpoint(ctx, tx, g.Touchpoint, "Gestures that mark a customer's milestone."); err != nil {
			return err
		}
		now := tx.now.Truncate(time.Microsecond)
		g.ID, g.CreatedBy, g.CreatedAt, g.EvaluatedUntil = rapport.NewID(now), rapport.ActorID(ctx), now, g.StartsAt
		_, err := tx.exec(ctx, `INSERT INTO gesture_rules (id, name, description, milestone, milestone_count, product, kind, cost, touchpoint,
			starts_at, ends_at, holdout_share, seed, evaluated_until, created_by, created_at) VALUES (`+placeholders(16)+`)`,
			g.ID, g.Name, g.Description, g.Milestone, g.Count, g.Product, g.Kind, g.Cost, g.Touchpoint,
			micros(g.StartsAt), micros(g.EndsAt), g.HoldoutShare, g.Seed, micros(g.EvaluatedUntil), g.CreatedBy, micros(now))
		if err != nil {
			return err
		}
		return audit(ctx, tx, rapport.AuditCreate, "gesture_rule", g.ID, nil, g)
	})
}

// FindGestureRules lists every rule, newest first, with its counts.
func (s *GestureService) FindGestureRules(ctx context.Context) ([]*rapport.GestureRule, error) {
	out := []*rapport.GestureRule{}
	err := eachRow(ctx, s.db.reader(), `SELECT `+gestureRuleColumns+gestureCounts+` FROM gesture_rules r
		ORDER BY r.created_at DESC, r.id DESC`, nil, func(rows *sql.Rows) error {
		g, err := scanGestureRule(rows)
		out = append(out, g)
		return err
	})
	return out, err
}

// FindGestureRuleByID returns one rule with its counts, or ENOTFOUND.
func (s *GestureService) FindGestureRuleByID(ctx context.Context, id string) (*rapport.GestureRule, error) {
	return findGestureRule(ctx, s.db.reader(), id)
}

func findGestureRule(ctx context.Context, q querier, id string) (*rapport.GestureRule, error) {
	g, err := scanGestureRule(q.queryRow(ctx, `SELECT `+gestureRuleColumns+gestureCounts+` FROM gesture_rules r WHERE r.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rapport.Errorf(rapport.ENOTFOUND, "No gesture rule has the id %q.", id)
	}
	return g, err
}

func scanGestureRule(row interface{ Scan(...any) error }) (*rapport.GestureRule, error) {
	var g rapport.GestureRule
	var starts, ends, evaluated, created int64
	err := row.Scan(&g.ID, &g.Name, &g.Description, &g.Milestone, &g.Count, &g.Product, &g.Kind, &g.Cost, &g.Touchpoint,
		&starts, &ends, &g.HoldoutShare, &g.Seed, &evaluated, &g.CreatedBy, &created, &g.Chosen, &g.Holdout, &g.Given)
	if err != nil {
		return nil, err
	}
	g.StartsAt, g.EndsAt, g.EvaluatedUntil, g.CreatedAt = fromMicros(starts), fromMicros(ends), fromMicros(evaluated), fromMicros(created)
	return &g, nil
}

// EndGestureRule ends a running rule's period now; a rule already ended is
// left as it is.
func (s *GestureService) EndGestureRule(ctx context.Context, id string) (*rapport.GestureRule, error) {
	err := s.db.inTx(ctx, func(tx *tx) error {
		g, err := findGestureRule(ctx, tx.querier, id)
		if err != nil {
			return err
		}
		now := tx.now.Truncate(time.Microsecond)
		if !now.Before(g.EndsAt) {
			return nil
		}
		end := now
		if !end.After(g.StartsAt) {
			end = g.StartsAt.Add(time.Microsecond)
		}
		if _, err := tx.exec(ctx, `UPDATE gesture_rules SET ends_at = ? WHERE id = ?`, micros(end), id); err != nil {
			return err
		}
		return audit(ctx, tx, rapport.AuditUpdate, "gesture_rule", id, map[string]any{"ends_at": g.EndsAt}, map[string]any{"ends_at": end})
	})
	if err != nil {
		return nil, err
	}
	return s.FindGestureRuleByID(ctx, id)
}

// EvaluateGestures looks for each running rule's milestones from where it
// last looked to now (or the rule's end), draws each one's arm and keeps it,
// one rule per transaction. Of several servers sweeping at once, one keeps
// a rule's milestones and the others find the rule moved on.
func (s *GestureService) EvaluateGestures(ctx context.Context) (int, error) {
	now := s.db.now().Truncate(time.Microsecond)
	ids, err := queryIDs(ctx, s.db.reader(), `SELECT id FROM gesture_rules WHERE evaluated_until < ends_at AND evaluated_until < ?
		ORDER BY id`, micros(now))
	if err != nil {
		return 0, fmt.Errorf("finding rules to evaluate: %w", err)
	}
	total := 0
	for _, id := range ids {
		n, err := s.evaluateRule(ctx, id, now)
		if err != nil {
			return total, fmt.Errorf("evaluating gesture rule %s: %w", id, err)
		}
		total += n
	}
	return total, nil
}

func (s *GestureService) evaluateRule(ctx context.Context, id string, now time.Time) (int, error) {
	kept := 0
	err := s.db.inTx(ctx, func(tx *tx) error {
		g, err := findGestureRule(ctx, tx.querier, id)
		if err != nil {
			return err
		}
		to, from := now, g.EvaluatedUntil.Add(-milestoneLookback)
		if g.EndsAt.Before(to) {
			to = g.EndsAt
		}
		if from.Before(g.StartsAt) {
			from = g.StartsAt
		}
		res, err := tx.exec(ctx, `UPDATE gesture_rules SET evaluated_until = ? WHERE id = ? AND evaluated_until = ?`,
			micros(to), id, micros(g.EvaluatedUntil))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // another server moved it on
		}
		found, err := findMilestones(ctx, tx.querier, g, from, to)
		if err != nil {
			return err
		}
		last, err := lastGestures(ctx, tx.querier, g.ID)
		if err != nil {
			return err
		}
		kept, err = insertGestures(ctx, tx, g, rapport.SpaceMilestones(found, last))
		return err
	})
	return kept, err
}

// lastGestures returns each customer's latest milestone under the rule.
func lastGestures(ctx context.Context, q querier, ruleID string) (map[string]time.Time, error) {
	last := map[string]time.Time{}
	err := eachRow(ctx, q, `SELECT customer_id, MAX(milestone_at) FROM gestures WHERE rule_id = ? GROUP BY customer_id`,
		[]any{ruleID}, func(rows *sql.Rows) error {
			var id string
			var at int64
			if err := rows.Scan(&id, &at); err != nil {
				return err
			}
			last[id] = fromMicros(at)
			return nil
		})
	return last, err
}

func insertGestures(ctx context.Context, tx *tx, g *rapport.GestureRule, ms []rapport.Milestone) (int, error) {
	now := tx.now.Truncate(time.Microsecond)
	for _, m := range ms {
		arm := rapport.GestureArm(g.Seed, m.CustomerID, m.What, g.HoldoutShare)
		if _, err := tx.exec(ctx, `INSERT INTO gestures (id, rule_id, customer_id, milestone_at, milestone, arm, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, rapport.NewID(now), g.ID, m.CustomerID, micros(m.At), m.What, arm, micros(now)); err != nil {
			return 0, err
		}
	}
	return len(ms), nil
}

// findMilestones returns the rule's milestones in [from, to), in time
// order.
func findMilestones(ctx context.Context, q querier, g *rapport.GestureRule, from, to time.Time) ([]rapport.Milestone, error) {
	switch g.Milestone {
	case rapport.MilestoneMagicCount:
		return magicMilestones(ctx, q, g, from, to)
	case rapport.MilestoneAnniversary:
		return anniversaries(ctx, q, from, to)
	case rapport.MilestoneRecovered:
		return recoveredMilestones(ctx, q, from, to)
	case rapport.MilestonePurchaseCount:
		return purchaseMilestones(ctx, q, g, from, to)
	}
	return nil, rapport.Errorf(rapport.EINVALID, "A gesture rule watches for an unknown milestone %q.", g.Milestone)
}

// scanMilestones reads rows of customer id and time, naming each with what.
func scanMilestones(ctx context.Context, q querier, query string, args []any, what func(n int64) string) ([]rapport.Milestone, error) {
	var out []rapport.Milestone
	err := eachRow(ctx, q, query, args, func(rows *sql.Rows) error {
		var m rapport.Milestone
		var at, n int64
		if err := rows.Scan(&m.CustomerID, &at, &n); err != nil {
			return err
		}
		m.At, m.What = fromMicros(at), what(n)
		out = append(out, m)
		return nil
	})
	return out, err
}

// stageAt is a customer's stage when x's moment happened: their
// latest change up to then, else the stage they have.
const stageAt = `COALESCE((SELECT s.to_stage FROM stage_changes s WHERE s.customer_id = x.customer_id AND s.changed_at <= x.occurred_at
	ORDER BY s.changed_at DESC, s.id DESC LIMIT 1), c.stage)`

// magicMilestones finds committed customers' Count-th magic moments: of the
// customers with a magic moment in the period, those whose Count-th falls
// in it while they were in commitment.
func magicMilestones(ctx context.Context, q querier, g *rapport.GestureRule, from, to time.Time) ([]rapport.Milestone, error) {
	query := `SELECT x.customer_id, x.occurred_at, x.n FROM (
		SELECT m.customer_id, m.occurred_at, ROW_NUMBER() OVER (PARTITION BY m.customer_id ORDER BY m.occurred_at, m.id) AS n
		FROM moments m WHERE m.outcome = 'magic' AND m.occurred_at < ? AND m.customer_id IN (
			SELECT DISTINCT customer_id FROM moments WHERE outcome = 'magic' AND occurred_at >= ? AND occurred_at < ?)
	) x JOIN customers c ON c.id = x.customer_id
	WHERE x.n = ? AND x.occurred_at >= ? AND c.erased_at IS NULL AND ` + stageAt + ` = ?
	ORDER BY x.occurred_at, x.customer_id`
	args := []any{micros(to), micros(from), micros(to), g.Count, micros(from), string(rapport.StageCommitment)}
	return scanMilestones(ctx, q, query, args, func(n int64) string { return rapport.Ordinal(int(n)) + " magic moment" })
}

// anniversaries finds the customers who joined a whole number of years
// before a time in the period and are still customers: one indexed range of
// joining times per year back to the earliest customer.
func anniversaries(ctx context.Context, q querier, from, to time.Time) ([]rapport.Milestone, error) {
	var earliest sql.NullInt64
	if err := q.queryRow(ctx, `SELECT MIN(created_at) FROM customers`).Scan(&earliest); err != nil || !earliest.Valid {
		return nil, err
	}
	var out []rapport.Milestone
	for years := 1; to.AddDate(-years, 0, 0).After(fromMicros(earliest.Int64)); years++ {
		lo, hi := from.AddDate(-years, 0, 0), to.AddDate(-years, 0, 0)
		found, err := scanMilestones(ctx, q, `SELECT id, created_at, CAST(? AS BIGINT) FROM customers
			WHERE created_at >= ? AND created_at < ? AND erased_at IS NULL AND stage <> ? ORDER BY created_at, id`,
			[]any{years, micros(lo), micros(hi), string(rapport.StageDissolution)}, func(n int64) string {
				return rapport.Ordinal(int(n)) + " anniversary"
			})
		if err != nil {
			return nil, err
		}
		for i := range found {
			found[i].At = found[i].At.AddDate(years, 0, 0)
		}
		out = append(out, found...)
	}
	sortMilestones(out)
	return out, nil
}

// recoveredMilestones finds the first moments after recovered cases: a
// resolved case's customer's next moment recorded after it was resolved,
// when that moment was not misery (as the recovery report counts it).
func recoveredMilestones(ctx context.Context, q querier, from, to time.Time) ([]rapport.Milestone, error) {
	next := func(col string) string {
		return `(SELECT m.` + col + ` FROM moments m WHERE m.customer_id = c.customer_id AND m.id <> c.moment_id
			AND m.occurred_at >= c.moment_at AND m.recorded_at >= c.resolved_at ORDER BY m.occurred_at, m.id LIMIT 1)`
	}
	query := `SELECT x.customer_id, x.occurred_at, 0 FROM (
		SELECT c.customer_id, ` + next("occurred_at") + ` AS occurred_at, ` + next("outcome") + ` AS outcome
		FROM recovery_cases c WHERE c.resolved_at IS NOT NULL AND c.resolved_at < ? AND c.moment_at >= ?
	) x JOIN customers cu ON cu.id = x.customer_id
	WHERE x.occurred_at >= ? AND x.occurred_at < ? AND x.outcome <> 'misery' AND cu.erased_at IS NULL
	ORDER BY x.occurred_at, x.customer_id`
	// A case's misery more than the spacing before the period is too old
	// to be recovered just now.
	args := []any{micros(to), micros(from.Add(-rapport.GestureSpacing)), micros(from), micros(to)}
	return scanMilestones(ctx, q, query, args, func(int64) string { return "first moment after a recovered case" })
}

// purchaseMilestones finds every Count-th time a product (or the rule's
// product) was taken up, counted across the firm in the order taken.
func purchaseMilestones(ctx context.Context, q querier, g *rapport.GestureRule, from, to time.Time) ([]rapport.Milestone, error) {
	var b sqlBuilder
	b.add(`SELECT x.customer_id, x.started_at, x.n FROM (
		SELECT h.customer_id, h.started_at, h.product,
			ROW_NUMBER() OVER (PARTITION BY h.product ORDER BY h.started_at, h.id) AS n
		FROM holdings h WHERE h.started_at < ?`, micros(to))
	if g.Product != "" {
		b.add(` AND h.product = ?`, g.Product)
	}
	b.add(`) x JOIN customers c ON c.id = x.customer_id
		WHERE x.started_at >= ? AND x.n % ? = 0 AND c.erased_at IS NULL ORDER BY x.started_at, x.customer_id`, micros(from), g.Count)
	what := "purchase"
	if g.Product != "" {
		what = g.Product
	}
	return scanMilestones(ctx, q, b.b.String(), b.args, func(n int64) string { return rapport.Ordinal(int(n)) + " " + what })
}

func sortMilestones(ms []rapport.Milestone) {
	slices.SortFunc(ms, func(a, b rapport.Milestone) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.CustomerID, b.CustomerID)
	})
}

// Gestures lists a rule's chosen gestures, the most recently found first, each with when the gesture's moment was first recorded since the
// milestone and the response suggested for the customer on the gesture's
// touchpoint.
func (s *GestureService) Gestures(ctx context.Context, ruleID string, f rapport.GestureFilter) (rapport.Page[*rapport.Gesture], error) {
	page := rapport.Page[*rapport.Gesture]{Items: []*rapport.Gesture{}}
	q := s.db.reader()
	g, err := findGestureRule(ctx, q, ruleID)
	if err != nil {
		return page, err
	}
	var b sqlBuilder
	b.add(`SELECT g.id, g.customer_id, c.name, COALESCE(c.owner_id, ''), COALESCE(u.name, ''), g.milestone_at, g.milestone, g.arm,
		(SELECT MIN(m.occurred_at) FROM moments m WHERE m.customer_id = g.customer_id AND m.touchpoint = r.touchpoint
			AND m.occurred_at >= g.milestone_at)
		FROM gestures g JOIN gesture_rules r ON r.id = g.rule_id JOIN customers c ON c.id = g.customer_id
		LEFT JOIN users u ON u.id = c.owner_id
		WHERE g.rule_id = ? AND g.arm = 'offered'`, g.ID)
	if f.Owner != "" {
		b.add(` AND c.owner_id = ?`, f.Owner)
	}
	if f.Open {
		b.add(` AND NOT ` + gestureGiven)
	}
	if f.Cursor != "" {
		parts, err := decodeCursor(f.Cursor, 1)
		if err != nil {
			return page, err
		}
		b.add(` AND g.id < ?`, parts[0])
	}
	limit := rapport.PageLimit(f.Limit)
	b.add(` ORDER BY g.id DESC LIMIT ?`, limit+1)
	err = eachRow(ctx, q, b.b.String(), b.args, func(rows *sql.Rows) error {
		x := rapport.Gesture{RuleID: g.ID, RuleName: g.Name}
		var at int64
		var given sql.NullInt64
		if err := rows.Scan(&x.ID, &x.CustomerID, &x.Name, &x.OwnerID, &x.OwnerName, &at, &x.Milestone, &x.Arm, &given); err != nil {
			return err
		}
		x.MilestoneAt, x.GivenAt = fromMicros(at), timePtr(given)
		page.Items = append(page.Items, &x)
		return nil
	})
	if err != nil {
		return page, err
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.NextCursor = encodeCursor(page.Items[limit-1].ID)
	}
	for _, x := range page.Items {
		if x.GivenAt == nil {
			if x.Suggestion, err = suggestionFor(ctx, s.suggestions, x.CustomerID, g.Touchpoint); err != nil {
				return page, err
			}
		}
	}
	return page, nil
}

// suggestionFor is the response suggested for a customer on a touchpoint,
// or nil when the touchpoint has none to suggest.
func suggestionFor(ctx context.Context, s *SuggestionService, customerID, touchpoint string) (*rapport.Suggestions, error) {
	sg, err := s.Suggest(ctx, customerID, touchpoint)
	if rapport.ErrorCode(err) == rapport.ENOTFOUND {
		return nil, nil
	}
	if err != nil || sg == nil || sg.Suggested == "" {
		return nil, err
	}
	return sg, nil
}

// GestureReport compares, over each window from each milestone, the
// customers chosen for the gesture with those held out, as an offer's
// report does. A window is complete when it has ended for the rule's last
// possible milestone and the sweep has looked to the rule's end.
func (s *GestureService) GestureReport(ctx context.Context, ruleID string) (*rapport.GestureReport, error) {
	q := s.db.reader()
	g, err := findGestureRule(ctx, q, ruleID)
	if err != nil {
		return nil, err
	}
	now := s.db.now()
	src := armSource{own: g.Touchpoint, args: []any{g.ID},
		query: `SELECT id AS unit_id, customer_id, arm, milestone_at AS start_at FROM gestures WHERE rule_id = ?`}
	looked := !g.EvaluatedUntil.Before(g.EndsAt)
	windows, err := armWindows(ctx, q, src, func(days int) (from, to time.Time, complete bool) {
		to = g.EndsAt.AddDate(0, 0, days)
		return g.StartsAt, to, looked && !now.Before(to)
	})
	if err != nil {
		return nil, err
	}
	return rapport.NewGestureReport(g, windows, now), nil
}
