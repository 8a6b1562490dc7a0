package sqlstore_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// statsRows reads every row of the running totals, in a stable order.
func (s *store) statsRows(t testing.TB) []string {
	t.Helper()
	rows, err := s.raw.Query(`SELECT touchpoint, day, channel, response, moments, magic, neutral, misery, rated, rating_sum,
		rating_sq, efforts, effort_sum, nps_answers, promoters, detractors, revenue, cost FROM moment_stats
		WHERE moments <> 0 ORDER BY touchpoint, day, channel, response`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals := make([]any, 18)
		ptrs := make([]any, 18)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(vals...))
	}
	return out
}

// TestSurveyLink checks that a survey token works once, expires, cannot be
// guessed, and that its answer lands on the moment: the rating and outcome
// change, the running totals follow, and a misery answer opens one case.
func TestSurveyLink(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		surveys := sqlstore.NewSurveyService(s.db)
		c := s.customer(t, &rapport.Customer{Name: "Ada"})
		unrated := s.moment(c.ID)
		unrated.Rating, unrated.Notes = nil, "Answered the motor question."
		s.record(t, unrated)
		s.record(t, s.moment(c.ID)) // another moment on the same day and touchpoint

		link, err := surveys.CreateSurveyLink(ctx, unrated.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(link.Token) < 43 || link.URL != "/s/"+link.Token || !link.ExpiresAt.Equal(epoch.Add(rapport.DefaultSurveyTTL)) {
			t.Errorf("link = %s; want a 256-bit token, its path and 14 days' life", show(link))
		}
		if n := s.count(t, "survey_links", "token_hash = '"+link.Token+"'"); n != 0 {
			t.Error("the token is stored as it is; want only its hash")
		}
		inv, err := surveys.FindSurvey(ctx, link.Token)
		if err != nil || inv.TouchpointName != "Handling a query" || !inv.OccurredAt.Equal(unrated.OccurredAt) {
			t.Fatalf("FindSurvey = %s, %v; want the touchpoint's name and the moment's time", show(inv), err)
		}
		// Guesses: malformed, well-formed but unknown, and a near miss.
		var raw [32]byte
		rand.Read(raw[:])
		near := link.Token[:len(link.Token)-1] + "A"
		if strings.HasSuffix(link.Token, "A") {
			near = link.Token[:len(link.Token)-1] + "B"
		}
		for _, guess := range []string{"", "x", "../../etc", base64.RawURLEncoding.EncodeToString(raw[:]), near, strings.ToUpper(link.Token)} {
			if guess == link.Token {
				continue
			}
			if _, err := surveys.FindSurvey(ctx, guess); rapport.ErrorCode(err) != rapport.ENOTFOUND {
				t.Errorf("FindSurvey(%q) = %v; want ENOTFOUND", guess, err)
			}
			if err := surveys.AnswerSurvey(ctx, guess, rapport.SurveyAnswer{Rating: 5}); rapport.ErrorCode(err) != rapport.ENOTFOUND {
				t.Errorf("AnswerSurvey(%q) = %v; want ENOTFOUND", guess, err)
			}
		}
		if err := surveys.AnswerSurvey(ctx, link.Token, rapport.SurveyAnswer{Rating: 9}); rapport.ErrorCode(err) != rapport.EINVALID {
			t.Errorf("AnswerSurvey(rating 9) = %v; want EINVALID", err)
		}

		s.clock.Add(time.Hour)
		answer := rapport.SurveyAnswer{Rating: 2, Effort: ptr(6), NPS: ptr(3), Comment: "  Took three calls. "}
		if err := surveys.AnswerSurvey(ctx, link.Token, answer); err != nil {
			t.Fatalf("AnswerSurvey = %v", err)
		}
		m, err := s.moments.FindMomentByID(ctx, unrated.ID)
		if err != nil {
			t.Fatal(err)
		}
		if *m.Rating != 2 || *m.Effort != 6 || *m.NPS != 3 || m.Outcome != rapport.OutcomeMisery || m.OutcomeSource != rapport.OutcomeRated ||
			m.Notes != "Answered the motor question.\n\nCustomer's survey comment: Took three calls." {
			t.Errorf("answered moment = %s; want the answer on it and misery", show(m))
		}
		totals := s.statsRows(t)
		if err := s.db.RebuildMomentStats(ctx); err != nil {
			t.Fatal(err)
		}
		if rebuilt := s.statsRows(t); show(totals) != show(rebuilt) {
			t.Errorf("running totals after the answer =\n%q\nwant, as rebuilt from the moments,\n%q", totals, rebuilt)
		}
		cases := s.cases(t, rapport.CaseFilter{CustomerID: c.ID})
		if len(cases) != 1 || cases[0].MomentID != m.ID || !cases[0].OpenedAt.Equal(s.clock.Now()) {
			t.Errorf("cases = %s; want one for the moment, opened when the answer came", show(cases))
		}

		// Used once.
		if err := surveys.AnswerSurvey(ctx, link.Token, rapport.SurveyAnswer{Rating: 5}); rapport.ErrorCode(err) != rapport.ECONFLICT {
			t.Errorf("second answer = %v; want ECONFLICT", err)
		}
		if _, err := surveys.FindSurvey(ctx, link.Token); rapport.ErrorCode(err) != rapport.ECONFLICT {
			t.Errorf("FindSurvey(answered) = %v; want ECONFLICT", err)
		}
		if _, err := surveys.CreateSurveyLink(ctx, m.ID, 0); rapport.ErrorCode(err) != rapport.ECONFLICT {
			t.Errorf("a new link for an answered moment = %v; want ECONFLICT", err)
		}
		if m2, _ := s.moments.FindMomentByID(ctx, m.ID); *m2.Rating != 2 {
			t.Errorf("after a refused answer, rating %d; want 2", *m2.Rating)
		}

		// Expiry: a link works until its time and not after.
		given := s.moment(c.ID)
		given.Rating, given.Outcome = nil, rapport.OutcomeMagic
		s.record(t, given)
		short, err := surveys.CreateSurveyLink(ctx, given.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		expiring, err := surveys.CreateSurveyLink(ctx, given.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		s.clock.Add(time.Hour)
		if _, err := surveys.FindSurvey(ctx, expiring.Token); rapport.ErrorCode(err) != rapport.ENOTFOUND {
			t.Errorf("FindSurvey(expired) = %v; want ENOTFOUND, as for an unknown token", err)
		}
		if err := surveys.AnswerSurvey(ctx, expiring.Token, rapport.SurveyAnswer{Rating: 1}); rapport.ErrorCode(err) != rapport.ENOTFOUND {
			t.Errorf("AnswerSurvey(expired) = %v; want ENOTFOUND", err)
		}
		if err := surveys.AnswerSurvey(ctx, short.Token, rapport.SurveyAnswer{Rating: 1}); rapport.ErrorCode(err) != rapport.ENOTFOUND {
			t.Errorf("AnswerSurvey(expired) = %v; want ENOTFOUND", err)
		}
		// An outcome given explicitly stays; a low rating on it opens no case.
		third, err := surveys.CreateSurveyLink(ctx, given.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if err := surveys.AnswerSurvey(ctx, third.Token, rapport.SurveyAnswer{Rating: 1}); err != nil {
			t.Fatal(err)
		}
		if g, _ := s.moments.FindMomentByID(ctx, given.ID); g.Outcome != rapport.OutcomeMagic || *g.Rating != 1 {
			t.Errorf("answer on a given outcome = %s; want the rating set and magic kept", show(g))
		}
		if n := s.count(t, "recovery_cases", ""); n != 1 {
			t.Errorf("%d cases; want still 1", n)
		}
		if _, err := surveys.CreateSurveyLink(ctx, "01NOSUCHMOMENT000000000000", 0); rapport.ErrorCode(err) != rapport.ENOTFOUND {
			t.Errorf("CreateSurveyLink(unknown moment) = %v; want ENOTFOUND", err)
		}

		// The answers and the case are on the timeline.
		page, err := s.timelines.Timeline(ctx, c.ID, rapport.TimelineFilter{})
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]int{}
		for _, e := range page.Items {
			kinds[e.Kind]++
			if e.Kind == rapport.EntrySurvey && (e.Survey == nil || !e.At.Equal(e.Survey.AnsweredAt)) {
				t.Errorf("survey entry = %s", show(e))
			}
		}
		if kinds[rapport.EntrySurvey] != 2 || kinds[rapport.EntryCase] != 1 {
			t.Errorf("timeline kinds = %v; want 2 survey answers and 1 case", kinds)
		}
	})
}
