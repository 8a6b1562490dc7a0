package sqlstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// TestStandardVariant: in a segment whose customers are delighted by email
// while the touchpoint's standard is a call-back, the email apology wins on
// the segment's moments and is promoted as the segment's standard; the
// call-back, which does not win there, is refused. The variant is then
// watched on its own: when the segment's email apologies stop delighting,
// it decays while the touchpoint's standard does not.
func TestStandardVariant(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		disliker, _ := plantComplaints(t, s, 60)
		seg := &rapport.Segment{Name: "Prefers email", Rule: `attributes.prefers = "email"`}
		if err := sqlstore.NewSegmentService(s.db).CreateSegment(ctx, seg); err != nil {
			t.Fatal(err)
		}
		variants := sqlstore.NewVariantService(s.db)
		c, err := variants.CompareInSegment(ctx, "complaint", seg.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Winner == nil || *c.Winner != "email_apology" {
			t.Fatalf("winner in the segment %v (%s); want email_apology", c.Winner, c.Explanation)
		}
		_, err = variants.PromoteVariant(ctx, "complaint", seg.ID, "call_back")
		wantCode(t, "PromoteVariant(call_back)", err, rapport.ECONFLICT)
		_, err = variants.PromoteVariant(ctx, "complaint", "nosuch", "email_apology")
		wantCode(t, "PromoteVariant(no segment)", err, rapport.EINVALID)
		_, err = variants.PromoteVariant(ctx, "complaint", seg.ID, "nosuch")
		wantCode(t, "PromoteVariant(no response)", err, rapport.EINVALID)
		if n := s.count(t, "standard_variants", ""); n != 0 {
			t.Fatalf("%d variants after refused promotions; want 0", n)
		}

		v, err := variants.PromoteVariant(ctx, "complaint", seg.ID, "email_apology")
		if err != nil {
			t.Fatal(err)
		}
		if v.SegmentName != "Prefers email" || v.BaselineMoments != 120 || v.BaselineMagicRate == nil || *v.BaselineMagicRate < 0.5 || v.Decayed {
			t.Errorf("variant %+v; want email_apology for Prefers email with a baseline of 120 moments near 60%%", v)
		}
		// A customer of the segment with no personal claim falls back to
		// the segment's standard rather than the touchpoint's.
		plain := s.customer(t, &rapport.Customer{Name: "Plain Prefers Email", Attributes: map[string]any{"prefers": "email"}})
		sg, err := sqlstore.NewSuggestionService(s.db).Suggest(ctx, plain.ID, "complaint")
		if err != nil {
			t.Fatal(err)
		}
		if sg.Suggested != "email_apology" || sg.Personal || !strings.Contains(sg.Reason, "Email apology is the standard for customers in Prefers email") {
			t.Errorf("suggestion for a plain customer of the segment: %q personal %v (%s); want the segment's standard", sg.Suggested, sg.Personal, sg.Reason)
		}
		// The segment's email apologies since promotion all go flat.
		s.clock.Add(time.Hour)
		var batch []*rapport.Moment
		for i := range 40 {
			batch = append(batch, &rapport.Moment{CustomerID: disliker.ID, Touchpoint: "complaint", Channel: rapport.ChannelEmail,
				OccurredAt: s.clock.Now().Add(-time.Duration(i) * time.Second), Response: "email_apology", Outcome: rapport.OutcomeNeutral})
		}
		if _, err := s.moments.RecordMoments(ctx, batch); err != nil {
			t.Fatal(err)
		}
		vs, err := variants.FindVariants(ctx, "complaint")
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != 1 || !vs[0].Decayed || vs[0].CurrentMoments != 40 || !strings.Contains(vs[0].Explanation, "fell from") {
			t.Fatalf("variants %+v; want the one variant decayed after 40 flat moments", vs)
		}
		raised, err := sqlstore.NewAlertService(s.db).EvaluateAlerts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var decayAlerts []string
		for _, a := range raised {
			if a.Kind == rapport.AlertStandardDecayed {
				decayAlerts = append(decayAlerts, a.Message)
			}
		}
		if len(decayAlerts) != 1 || !strings.Contains(decayAlerts[0], `for customers in "Prefers email"`) {
			t.Errorf("decay alerts %q; want one, for the segment's standard", decayAlerts)
		}
		st, err := sqlstore.NewStandardService(s.db).FindStandard(ctx, "complaint")
		if err != nil {
			t.Fatal(err)
		}
		if st.Response != "call_back" || st.Decayed {
			t.Errorf("the touchpoint's standard %s decayed %v; want call_back, not decayed", st.Response, st.Decayed)
		}
		// Promoting again replaces the segment's variant.
		if _, err := variants.PromoteVariant(ctx, "complaint", seg.ID, "email_apology"); err != nil {
			t.Fatal(err)
		}
		if n := s.count(t, "standard_variants", "ended_at IS NULL"); n != 1 {
			t.Errorf("%d current variants after promoting again; want 1", n)
		}
	})
}
