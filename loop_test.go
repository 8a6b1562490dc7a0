package rapport

import (
	"testing"

	"github.com/rapport-crm/rapport/analytics"
)

// TestComparisonReasonsMatchDecisions keeps the comparison's reasons equal
// to the words of the decisions they are taken from: the API shows them.
func TestComparisonReasonsMatchDecisions(t *testing.T) {
	for _, tc := range []struct {
		got  ComparisonReason
		want analytics.Reason
	}{
		{ReasonSignificant, analytics.ReasonSignificant},
		{ReasonNoSignificantDifference, analytics.ReasonNoSignificantDifference},
		{ReasonTooFewMoments, analytics.ReasonTooFewMoments},
		{ReasonInvalidInput, analytics.ReasonInvalidInput},
	} {
		if string(tc.got) != string(tc.want) {
			t.Errorf("comparison reason %q; want %q, as analytics decides", tc.got, tc.want)
		}
	}
}

func TestAlertMessages(t *testing.T) {
	if got, want := BelowTargetMessage("Claim handling", 28, "Mean 3.1 against a target of 4."),
		"Claim handling is below its target over the last 28 days. Mean 3.1 against a target of 4."; got != want {
		t.Errorf("BelowTargetMessage = %q; want %q", got, want)
	}
	st := &Standard{Touchpoint: "claim", Response: "call-back", Explanation: "Magic fell from 60% to 30%."}
	if got, want := st.DecayMessage(), `The standard "call-back" at "claim" has decayed. Magic fell from 60% to 30%.`; got != want {
		t.Errorf("DecayMessage() = %q; want %q", got, want)
	}
}
