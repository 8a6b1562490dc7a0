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
	st := &Standard{Touchpoint: "claim", Response: "call_back", Explanation: "Magic fell from 60% to 30%."}
	if got, want := st.DecayMessage(), `The standard “Call back” at Claim has decayed. Magic fell from 60% to 30%.`; got != want {
		t.Errorf("DecayMessage() = %q; want %q", got, want)
	}
}

func TestResponseStatusQuestions(t *testing.T) {
	for _, s := range ResponseStatuses {
		got := []bool{s.IsCandidate(), s.IsTrial(), s.IsStandard(), s.IsRetired()}
		want := []bool{s == "candidate", s == "trial", s == "standard", s == "retired"}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s: questions answer %v; want %v", s, got, want)
				break
			}
		}
		if got, want := s.Settable(), s != ResponseStandard; got != want {
			t.Errorf("%s.Settable() = %v; want %v (standard only by promotion)", s, got, want)
		}
	}
	if ResponseStatus("archived").Settable() {
		t.Errorf(`"archived".Settable() = true; want false`)
	}
}

func TestResponseCheckPromote(t *testing.T) {
	for _, tc := range []struct {
		status ResponseStatus
		want   string
	}{
		{ResponseCandidate, ""},
		{ResponseTrial, ""},
		{ResponseRetired, EINVALID},
		{ResponseStandard, ECONFLICT},
	} {
		r := &Response{Touchpoint: "complaint", Key: "listen_first", Status: tc.status}
		if got := ErrorCode(r.CheckPromote()); got != tc.want {
			t.Errorf("CheckPromote of a %s response: code %q; want %q", tc.status, got, tc.want)
		}
	}
	r := &Response{Touchpoint: "complaint", Key: "listen_first", Status: ResponseStandard}
	if got, want := ErrorMessage(r.CheckPromote()), `"listen_first" is the standard of "complaint" already.`; got != want {
		t.Errorf("CheckPromote of the standard says %q; want %q", got, want)
	}
}
