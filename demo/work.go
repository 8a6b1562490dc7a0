package demo

import (
	"context"

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

// segmentOwner is the member of staff who saved the demo's segments.
const segmentOwner = "maya"

// addSegments saves the demo's segments once the customers' figures are
// computed, so each is counted as it is saved.
func (g *generator) addSegments(ctx context.Context, db *sqlstore.DB) error {
	var by *member
	for _, m := range g.staff {
		if m.user.Email == segmentOwner+"@"+emailDomain {
			by = m
		}
	}
	ctx = rapport.NewContextWithPrincipal(ctx, &rapport.Principal{UserID: by.user.ID, Name: by.user.Name, Role: by.user.Role})
	segments := sqlstore.NewSegmentService(db)
	for _, sg := range demoSegments {
		if err := segments.CreateSegment(ctx, &sg); err != nil {
			return err
		}
		g.sum.Segments++
	}
	return nil
}
