package demo

import (
	"context"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// demoSegments are the segments Maya, the Customer Care manager, saved.
// Their rules are relative to the day they are read, like the firm.
var demoSegments = []rapport.Segment{
	{Name: "At-risk committed customers", Rule: `stage = "commitment" and (risk >= 40 or misery_90d >= 2)`},
	{Name: "Delighted advocates", Rule: `magic_90d >= 2 and misery_90d = 0 and (referrals >= 1 or rating_90d >= 4.5)`},
	{Name: "New this quarter", Rule: `created >= "-90d"`},
	{Name: "Business customers with a recent misery", Rule: `kind = "organisation" and misery_30d >= 1`},
}

// targets are the mean ratings the firm aims for, by touchpoint: about what
// it achieves, a little more where it knows it must do better. Handling a
// query, complaints and claims (service) fall short, so the dashboard opens
// on those three alerts and the other touchpoints meet their targets.
var targets = map[string]float64{
	"greeting": 3.8, "query": 3.9, "complaint": 3.8, "offer": 3.7,
	"purchase": 3.8, "delivery": 3.75, "service": 4.0, "closing": 3.85,
}

// setTargets sets the touchpoints' targets, as the admin did.
func (g *generator) setTargets(ctx context.Context, db *sqlstore.DB) error {
	ctx = asStaff(ctx, g.admin)
	touchpoints := sqlstore.NewTouchpointService(db)
	for _, t := range rapport.DefaultTouchpoints() {
		target, ok := targets[t.Key]
		if !ok {
			continue
		}
		if _, err := touchpoints.UpdateTouchpoint(ctx, t.Key, rapport.TouchpointUpdate{TargetScore: &target}); err != nil {
			return err
		}
	}
	return nil
}

// asStaff returns a context in which m acts, for the audit log.
func asStaff(ctx context.Context, m *member) context.Context {
	return rapport.NewContextWithPrincipal(ctx, &rapport.Principal{UserID: m.user.ID, Name: m.user.Name, Role: m.user.Role})
}

// segmentOwner is the member of staff who saved the demo's segments.
const segmentOwner = "maya"

// segmentKeeper is the manager who keeps the demo's segments, offers and
// gesture rules.
func (g *generator) segmentKeeper() *member {
	for _, m := range g.staff {
		if m.user.Email == segmentOwner+"@"+emailDomain {
			return m
		}
	}
	return nil
}

// addSegments saves the demo's segments once the customers' figures are
// computed, so each is counted as it is saved.
func (g *generator) addSegments(ctx context.Context, db *sqlstore.DB) error {
	ctx = asStaff(ctx, g.segmentKeeper())
	segments := sqlstore.NewSegmentService(db)
	for _, sg := range demoSegments {
		if err := segments.CreateSegment(ctx, &sg); err != nil {
			return err
		}
		g.sum.Segments++
	}
	return nil
}

// miseryMoment is what resolveCases needs of a recent misery moment.
type miseryMoment struct {
	id, owner, touchpoint string
	recorded              time.Time
}

// Recovery in the demo: staff resolve most cases within a few days, some
// after their due time; the last two days' cases are still open.
const (
	casesOpenFor     = 2 * day // cases opened this recently are all still open
	resolvedShare    = 0.93    // of older cases, the share resolved
	resolvedLateOdds = 0.2     // of resolved cases, the share resolved after two days
)

// resolutions are what staff write on resolving a case, by touchpoint.
var resolutions = map[string][]string{
	"service":   {"Called the customer, apologised and fast-tracked the claim payment.", "Sent the assessor back the next day and confirmed the repair date.", "Settled the disputed amount and explained the decision in writing."},
	"complaint": {"Called back, apologised and refunded the difference.", "Reviewed the complaint with the customer and agreed a goodwill payment."},
	"":          {"Called the customer, apologised and put it right.", "Sent the corrected documents with an apology.", "Explained what went wrong and waived the fee."},
}

// resolveCases resolves, as staff did, most of the recovery cases the
// rebuild opened for the last month's misery, each by its assignee, and
// leaves the rest open (some overdue, escalated as Rapport would).
func (g *generator) resolveCases(ctx context.Context, db *sqlstore.DB) error {
	var rs []sqlstore.PastResolution
	for _, m := range g.misery {
		if m.recorded.After(g.now.Add(-casesOpenFor)) || g.r.Float64() >= resolvedShare {
			continue
		}
		took := time.Duration(1+g.r.IntN(40)) * time.Hour
		if g.r.Float64() < resolvedLateOdds {
			took = time.Duration(49+g.r.IntN(72)) * time.Hour
		}
		at := m.recorded.Add(took).Truncate(time.Second)
		if at.After(g.now) {
			continue
		}
		texts := resolutions[m.touchpoint]
		if texts == nil {
			texts = resolutions[""]
		}
		rs = append(rs, sqlstore.PastResolution{MomentID: m.id, By: m.owner, Resolution: texts[g.r.IntN(len(texts))], At: at})
	}
	recovery := sqlstore.NewRecoveryService(db)
	n, err := recovery.ResolvePastCases(ctx, rs)
	if err != nil {
		return err
	}
	g.sum.ResolvedCases = n
	g.sum.OpenCases = len(g.misery) - n
	_, err = recovery.Escalate(ctx)
	return err
}
