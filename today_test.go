package rapport_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
)

func TestSilentReason(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		stage rapport.Stage
		days  int
		want  bool
	}{
		{rapport.StageAwareness, 15, true},
		{rapport.StageAwareness, 14, false},
		{rapport.StageCommitment, 60, false},
		{rapport.StageCommitment, 91, true},
		{rapport.StageDissolution, 400, false},
	} {
		r, ok := rapport.SilentReason(tt.stage, now.Add(-time.Duration(tt.days)*24*time.Hour), now)
		if ok != tt.want {
			t.Errorf("SilentReason(%s, %d days) = %v; want %v", tt.stage, tt.days, ok, tt.want)
		}
		if ok && !strings.Contains(r.Text, "No contact for") {
			t.Errorf("SilentReason text %q", r.Text)
		}
	}
}

func TestRiskReason(t *testing.T) {
	lo, hi := 3.1, 4.2
	if _, ok := rapport.RiskReason(49, 3, nil, nil, time.Time{}); ok {
		t.Error("risk 49 rose; want only 50 and above")
	}
	if r, ok := rapport.RiskReason(62, 2, nil, nil, time.Time{}); !ok || !strings.Contains(r.Text, "after 2 misery moments") {
		t.Errorf("risk 62 after misery: %v %q", ok, r.Text)
	}
	if r, ok := rapport.RiskReason(55, 0, &lo, &hi, time.Time{}); !ok || !strings.Contains(r.Text, "ratings fell from 4.2 to 3.1") {
		t.Errorf("risk 55 with falling ratings: %v %q", ok, r.Text)
	}
	if _, ok := rapport.RiskReason(55, 0, &hi, &lo, time.Time{}); ok {
		t.Error("risk 55 with rising ratings and no misery rose; want not")
	}
}

// TestRankContacts: reasons add up, a kind counts once, and the most
// pressing customer comes first.
func TestRankContacts(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	quiet := &rapport.Contact{CustomerName: "Quiet"}
	quiet.AddReason(rapport.ContactReason{Kind: rapport.ContactSilent, At: at})
	quiet.AddReason(rapport.ContactReason{Kind: rapport.ContactSilent, At: at})
	late := &rapport.Contact{CustomerName: "Late"}
	late.AddReason(rapport.ContactReason{Kind: rapport.ContactPromiseLate, At: at})
	both := &rapport.Contact{CustomerName: "Both"}
	both.AddReason(rapport.ContactReason{Kind: rapport.ContactSilent, At: at})
	both.AddReason(rapport.ContactReason{Kind: rapport.ContactHandedOver, At: at, Touchpoint: "complaint"})
	cs := []*rapport.Contact{quiet, late, both}
	rapport.RankContacts(cs)
	if cs[0] != late || cs[1] != both || cs[2] != quiet {
		t.Errorf("order %s, %s, %s; want Late, Both, Quiet", cs[0].CustomerName, cs[1].CustomerName, cs[2].CustomerName)
	}
	if len(quiet.Reasons) != 1 || both.Touchpoint != "complaint" || both.Reasons[0].Kind != rapport.ContactHandedOver {
		t.Errorf("quiet reasons %d, both touchpoint %q first %s", len(quiet.Reasons), both.Touchpoint, both.Reasons[0].Kind)
	}
}
