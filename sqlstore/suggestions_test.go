package sqlstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// plantComplaints gives the complaint touchpoint a standard call-back and an
// email apology on trial, and n customers of each kind: those who dislike
// sales calls are delighted by email 60% of the time and by a call-back 10%;
// those who like phone calls the reverse. Each meets each response twice.
func plantComplaints(t testing.TB, s *store, n int) (disliker, liker *rapport.Customer) {
	t.Helper()
	ctx := context.Background()
	responses := sqlstore.NewResponseService(s.db)
	for _, r := range []*rapport.Response{
		{Touchpoint: "complaint", Key: "call_back", Description: "Call back the same day.", Status: rapport.ResponseTrial, Tags: []string{"phone_call"}},
		{Touchpoint: "complaint", Key: "email_apology", Description: "Apologise by email.", Status: rapport.ResponseTrial, Tags: []string{"email"}},
	} {
		if err := responses.CreateResponse(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sqlstore.NewStandardService(s.db).PromoteResponse(ctx, "complaint", "call_back"); err != nil {
		t.Fatal(err)
	}
	var batch []*rapport.Moment
	at := s.clock.Now().Add(-48 * time.Hour)
	for i := range 2 * n {
		dislikes := i%2 == 0
		c := &rapport.Customer{Name: "Customer " + string(rune('A'+i%26)) + strings.Repeat("x", i/26)}
		good := "call_back"
		if dislikes {
			c.Preferences.Dislikes = []string{"Sales calls"}
			c.Attributes = map[string]any{"prefers": "email"}
			good = "email_apology"
		} else {
			c.Preferences.Likes = []string{"phone calls"}
		}
		s.customer(t, c)
		if i == 0 {
			disliker = c
		}
		if i == 1 {
			liker = c
		}
		for j, resp := range []string{"call_back", "email_apology", "call_back", "email_apology"} {
			out := rapport.OutcomeNeutral
			k := (i/2)*2 + j/2 // spreads magic evenly over the customers
			if resp == good && k%10 < 6 || resp != good && k%10 == 9 {
				out = rapport.OutcomeMagic
			}
			batch = append(batch, &rapport.Moment{CustomerID: c.ID, Touchpoint: "complaint", Channel: rapport.ChannelPhone,
				OccurredAt: at, Response: resp, Outcome: out})
		}
	}
	if _, err := s.moments.RecordMoments(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := sqlstore.NewSuggestionService(s.db).RefreshSuggestionGroups(ctx); err != nil {
		t.Fatal(err)
	}
	return disliker, liker
}

// TestSuggestPersonal: a customer who dislikes sales calls is suggested the
// email apology, with the evidence and the call-back flagged as a dislike;
// a customer who likes phone calls the call-back.
func TestSuggestPersonal(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		disliker, liker := plantComplaints(t, s, 60)
		svc := sqlstore.NewSuggestionService(s.db)
		got, err := svc.Suggest(ctx, disliker.ID, "complaint")
		if err != nil {
			t.Fatal(err)
		}
		if got.Suggested != "email_apology" || !got.Personal || got.Basis != "dislike:sales calls" {
			t.Fatalf("suggested %q personal %v basis %q (%s); want email_apology for customers who dislike sales calls",
				got.Suggested, got.Personal, got.Basis, got.Reason)
		}
		if got.Responses[0].Response != "email_apology" {
			t.Errorf("first response %q; want the suggestion first", got.Responses[0].Response)
		}
		top := got.Responses[0]
		if top.Moments != 120 || top.MagicRate < 0.45 || top.MagicRate > 0.65 || !(top.MagicRateCI[0] < 0.6 && 0.6 < top.MagicRateCI[1]) {
			t.Errorf("email_apology for dislikers: rate %.3f (%v) of %d moments; want about 0.6 of 120", top.MagicRate, top.MagicRateCI, top.Moments)
		}
		if top.Own.Moments != 2 {
			t.Errorf("own moments with email_apology %d; want 2", top.Own.Moments)
		}
		cb := got.Find("call_back")
		if cb == nil || len(cb.Conflicts) != 1 || cb.Conflicts[0] != "Sales calls" {
			t.Errorf("call_back conflicts %v; want the dislike of sales calls", cb)
		}
		if !strings.Contains(got.Reason, "Customers who dislike sales calls were delighted by Email apology") {
			t.Errorf("reason %q; want the group and its rate", got.Reason)
		}

		got, err = svc.Suggest(ctx, liker.ID, "complaint")
		if err != nil {
			t.Fatal(err)
		}
		if got.Suggested != "call_back" || !got.Personal || len(got.Responses[0].Matches) != 1 {
			t.Errorf("liker: suggested %q personal %v matches %v (%s); want call_back, a like", got.Suggested, got.Personal,
				got.Responses[0].Matches, got.Reason)
		}

		// A customer in no group: no claim, the standard.
		plain := s.customer(t, &rapport.Customer{Name: "Plain Customer", Stage: rapport.StageCommitment})
		got, err = svc.Suggest(ctx, plain.ID, "complaint")
		if err != nil {
			t.Fatal(err)
		}
		if got.Suggested != "call_back" || got.Personal || !strings.Contains(got.Reason, "No response is clearly better") {
			t.Errorf("plain customer: suggested %q personal %v (%s); want the standard and no claim", got.Suggested, got.Personal, got.Reason)
		}

		_, err = svc.Suggest(ctx, plain.ID, "nowhere")
		wantCode(t, "Suggest(unknown touchpoint)", err, rapport.ENOTFOUND)
		_, err = svc.Suggest(ctx, "nobody", "complaint")
		wantCode(t, "Suggest(unknown customer)", err, rapport.ENOTFOUND)
	})
}

// TestSuggestDislikedStandard: with no evidence either way, a standard that
// involves what the customer dislikes gives way to a response they like
// that does no worse over everyone.
func TestSuggestDislikedStandard(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		responses := sqlstore.NewResponseService(s.db)
		for _, r := range []*rapport.Response{
			{Touchpoint: "query", Key: "ring_back", Description: "Ring back.", Status: rapport.ResponseTrial, Tags: []string{"phone_call"}},
			{Touchpoint: "query", Key: "write_back", Description: "Write back.", Status: rapport.ResponseTrial, Tags: []string{"email"}},
		} {
			if err := responses.CreateResponse(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := sqlstore.NewStandardService(s.db).PromoteResponse(ctx, "query", "ring_back"); err != nil {
			t.Fatal(err)
		}
		other := s.customer(t, &rapport.Customer{Name: "Other"})
		var batch []*rapport.Moment
		for i := range 80 {
			out := rapport.OutcomeNeutral
			if i%4 < 2 {
				out = rapport.OutcomeMagic
			}
			batch = append(batch, &rapport.Moment{CustomerID: other.ID, Touchpoint: "query", Channel: rapport.ChannelEmail,
				OccurredAt: s.clock.Now().Add(-time.Hour), Response: []string{"ring_back", "write_back"}[i%2], Outcome: out})
		}
		if _, err := s.moments.RecordMoments(ctx, batch); err != nil {
			t.Fatal(err)
		}
		svc := sqlstore.NewSuggestionService(s.db)
		if err := svc.RefreshSuggestionGroups(ctx); err != nil {
			t.Fatal(err)
		}
		c := s.customer(t, &rapport.Customer{Name: "Hates Calls", Preferences: rapport.Preferences{Dislikes: []string{"calls during working hours"}}})
		got, err := svc.Suggest(ctx, c.ID, "query")
		if err != nil {
			t.Fatal(err)
		}
		if got.Suggested != "write_back" || got.Personal || !strings.Contains(got.Reason, "which involves what they dislike (calls during working hours)") {
			t.Errorf("suggested %q personal %v (%s); want write_back in place of the disliked standard", got.Suggested, got.Personal, got.Reason)
		}
	})
}

// TestResponseTags: tags are set, read back sorted, and bad ones refused
// with nothing changed.
func TestResponseTags(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		responses := sqlstore.NewResponseService(s.db)
		if err := responses.CreateResponse(ctx, &rapport.Response{Touchpoint: "query", Key: "visit_them", Description: "Visit."}); err != nil {
			t.Fatal(err)
		}
		svc := sqlstore.NewSuggestionService(s.db)
		r, err := svc.SetResponseTags(ctx, "query", "visit_them", []string{"visit", "paperwork", "visit"})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(r.Tags, ",") != "paperwork,visit" {
			t.Errorf("tags %v; want paperwork,visit", r.Tags)
		}
		_, err = svc.SetResponseTags(ctx, "query", "visit_them", []string{"Not A Tag"})
		wantCode(t, "SetResponseTags(bad)", err, rapport.EINVALID)
		_, err = svc.SetResponseTags(ctx, "query", "nothing", []string{"visit"})
		wantCode(t, "SetResponseTags(unknown)", err, rapport.ENOTFOUND)
		all, err := responses.FindResponses(ctx, "query")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range all {
			if r.Key == "visit_them" && strings.Join(r.Tags, ",") != "paperwork,visit" {
				t.Errorf("stored tags %v; want paperwork,visit unchanged", r.Tags)
			}
		}
	})
}
