package rapport_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
)

// TestSurveyInvitationDecision: each rule of a policy keeps a moment from
// inviting on its own, and the invitation goes after the delay.
func TestSurveyInvitationDecision(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	p := rapport.DefaultSurveyPolicy("query")
	p.Enabled, p.DelayMinutes, p.QuietDays = true, 120, 30
	m := &rapport.Moment{ID: "m1", Touchpoint: "query", Channel: rapport.ChannelPhone, OccurredAt: now.Add(-time.Hour)}
	who := rapport.Invitee{Email: "ada@example.com"}
	off := p
	off.Enabled = false
	chat := p
	chat.Channels = []rapport.Channel{rapport.ChannelChat}
	none := p
	none.SamplePercent = 0
	old := *m
	old.OccurredAt = now.Add(-8 * 24 * time.Hour)
	for _, tc := range []struct {
		name   string
		p      rapport.SurveyPolicy
		m      *rapport.Moment
		who    rapport.Invitee
		want   bool
		sendAt time.Time
	}{
		{"invited after the delay", p, m, who, true, now.Add(time.Hour)},
		{"turned off", off, m, who, false, time.Time{}},
		{"another channel", chat, m, who, false, time.Time{}},
		{"not sampled", none, m, who, false, time.Time{}},
		{"no email address", p, m, rapport.Invitee{}, false, time.Time{}},
		{"opted out", p, m, rapport.Invitee{Email: "a@b.example", OptedOut: true}, false, time.Time{}},
		{"invited 29 days ago", p, m, rapport.Invitee{Email: "a@b.example", LastInvited: now.Add(-29 * 24 * time.Hour)}, false, time.Time{}},
		{"invited 31 days ago", p, m, rapport.Invitee{Email: "a@b.example", LastInvited: now.Add(-31 * 24 * time.Hour)}, true, now.Add(time.Hour)},
		{"an invitation due tomorrow", p, m, rapport.Invitee{Email: "a@b.example", LastInvited: now.Add(24 * time.Hour)}, false, time.Time{}},
		{"a moment too old", p, &old, who, false, time.Time{}},
	} {
		sendAt, ok := tc.p.Invitation(tc.m, tc.who, now)
		if ok != tc.want || !sendAt.Equal(tc.sendAt) {
			t.Errorf("%s: Invitation = %v, %v; want %v, %v", tc.name, sendAt, ok, tc.sendAt, tc.want)
		}
	}
}

// TestSampledShare: on 20,000 ids, a 30 % sample takes 30 % within four
// standard errors, and the same id is always drawn alike.
func TestSampledShare(t *testing.T) {
	const n = 20000
	for _, percent := range []int{0, 5, 30, 100} {
		taken := 0
		for i := range n {
			if rapport.Sampled(fmt.Sprintf("moment-%d", i), percent) {
				taken++
			}
		}
		p := float64(percent) / 100
		se := math.Sqrt(p * (1 - p) / n)
		if got := float64(taken) / n; math.Abs(got-p) > 4*se+1e-9 {
			t.Errorf("Sampled at %d%% took %.4f of %d ids; want %.2f ± %.4f", percent, got, n, p, 4*se)
		}
	}
	first := rapport.Sampled("moment-7", 50)
	for range 3 {
		if rapport.Sampled("moment-7", 50) != first {
			t.Error("the same id drawn again differs")
		}
	}
}

// TestSurveyPolicyValidate refuses what is out of range and tidies lists.
func TestSurveyPolicyValidate(t *testing.T) {
	p := rapport.SurveyPolicy{Touchpoint: "query", SamplePercent: 50, Channels: []rapport.Channel{"chat", "chat", "phone"},
		Reasons: []string{"  Too   slow ", "Too slow", ""}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(p.Channels) != 2 || len(p.Reasons) != 1 || p.Reasons[0] != "Too slow" {
		t.Errorf("tidied: channels %v, reasons %q", p.Channels, p.Reasons)
	}
	for _, bad := range []rapport.SurveyPolicy{
		{SamplePercent: 101}, {SamplePercent: -1}, {DelayMinutes: -1}, {QuietDays: 400}, {ReminderDays: 15},
		{Channels: []rapport.Channel{"fax"}},
	} {
		if err := bad.Validate(); rapport.ErrorCode(err) != rapport.EINVALID {
			t.Errorf("Validate(%+v) = %v; want EINVALID", bad, err)
		}
	}
}

// TestCustomerLanguage: a language is a two-letter code, kept lower case,
// or empty.
func TestCustomerLanguage(t *testing.T) {
	c := rapport.Customer{Name: "Ada", Language: " ES "}
	if err := c.Validate(); err != nil || c.Language != "es" {
		t.Errorf("Validate(ES) = %v, language %q; want es", err, c.Language)
	}
	for _, bad := range []string{"spa", "e", "e1", "es-ES"} {
		c := rapport.Customer{Name: "Ada", Language: bad}
		if err := c.Validate(); rapport.ErrorCode(err) != rapport.EINVALID {
			t.Errorf("Validate(language %q) = %v; want EINVALID", bad, err)
		}
	}
}
