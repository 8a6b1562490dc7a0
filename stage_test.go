package rapport

import (
	"testing"
	"time"
)

// TestInferStage walks the stage rules through the cases docs/relationships.md describes.
func TestInferStage(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	days := func(n int) time.Time { return now.Add(-time.Duration(n) * 24 * time.Hour) }
	rules := DefaultStageRules()
	tests := []struct {
		name   string
		f      StageFacts
		manual bool
		want   StageInference
	}{
		{"a prospect stays in awareness", StageFacts{Stage: StageAwareness, Created: days(30), Moments90: 4, LastMoment: days(1)}, false,
			StageInference{}},
		{"moments alone: exploration", StageFacts{Stage: StageAwareness, Created: days(30), Moments90: 5, LastMoment: days(1)}, false,
			StageInference{Stage: StageExploration, Reason: "5 moments in 90 days", Apply: true}},
		{"a first product: exploration", StageFacts{Stage: StageAwareness, Created: days(30), Products: 1, EverHeld: 1}, false,
			StageInference{Stage: StageExploration, Reason: "first product held", Apply: true}},
		{"two products: expansion", StageFacts{Stage: StageExploration, Created: days(300), Products: 2, EverHeld: 2}, false,
			StageInference{Stage: StageExpansion, Reason: "2 products held", Apply: true}},
		{"three products: commitment, skipping a stage", StageFacts{Stage: StageAwareness, Created: days(300), Products: 3, EverHeld: 3}, false,
			StageInference{Stage: StageCommitment, Reason: "3 products held", Apply: true}},
		{"two products for three years: commitment", StageFacts{Stage: StageExpansion, Created: days(3*365 + 1), Products: 2, EverHeld: 2}, false,
			StageInference{Stage: StageCommitment, Reason: "2 products held for over 3 years as a customer", Apply: true}},
		{"unhappy customers wait", StageFacts{Stage: StageExploration, Created: days(300), Products: 3, EverHeld: 3, Rated90: 3, Rating90: 2.5}, false,
			StageInference{}},
		{"one rating is not enough to hold back", StageFacts{Stage: StageExploration, Created: days(300), Products: 2, EverHeld: 2, Rated90: 1, Rating90: 1}, false,
			StageInference{Stage: StageExpansion, Reason: "2 products held", Apply: true}},
		{"never backwards", StageFacts{Stage: StageCommitment, Created: days(300), Products: 1, EverHeld: 3}, false,
			StageInference{}},
		{"by hand: only proposed", StageFacts{Stage: StageAwareness, Created: days(30), Products: 2, EverHeld: 2}, true,
			StageInference{Stage: StageExpansion, Reason: "2 products held"}},
		{"silence: dissolution proposed", StageFacts{Stage: StageExploration, Created: days(900), LastMoment: days(400)}, false,
			StageInference{Stage: StageDissolution, Reason: "silent for 400 days and holds no product", DissolutionReason: DissolutionLowVolume}},
		{"a quiet prospect counts from joining", StageFacts{Stage: StageAwareness, Created: days(366)}, false,
			StageInference{Stage: StageDissolution, Reason: "silent for 366 days and holds no product", DissolutionReason: DissolutionLowVolume}},
		{"every product ended: dissolution proposed", StageFacts{Stage: StageExpansion, Created: days(900), EverHeld: 2, LastEnded: days(61), LastMoment: days(70)}, false,
			StageInference{Stage: StageDissolution, Reason: "every product ended 61 days ago and none is held", DissolutionReason: DissolutionOther}},
		{"ended, but still in touch", StageFacts{Stage: StageExpansion, Created: days(900), EverHeld: 2, LastEnded: days(61), LastMoment: days(10)}, false,
			StageInference{}},
		{"dissolved and back with a product: proposed", StageFacts{Stage: StageDissolution, StageSince: days(100), Created: days(900), Products: 1, EverHeld: 3, LastMoment: days(2)}, false,
			StageInference{Stage: StageExploration, Reason: "active again: first product held"}},
		{"dissolved, no moment since", StageFacts{Stage: StageDissolution, StageSince: days(10), Created: days(900), Products: 1, EverHeld: 3, LastMoment: days(20)}, false,
			StageInference{}},
	}
	for _, tt := range tests {
		tt.f.Now = now
		if got := rules.InferStage(tt.f, tt.manual); got != tt.want {
			t.Errorf("%s: InferStage = %+v; want %+v", tt.name, got, tt.want)
		}
	}

	auto := rules
	auto.AutoDissolve = true
	if got := auto.InferStage(StageFacts{Now: now, Stage: StageAwareness, Created: days(400)}, false); !got.Apply || got.Stage != StageDissolution {
		t.Errorf("with auto_dissolve InferStage = %+v; want dissolution applied", got)
	}
	if got := auto.InferStage(StageFacts{Now: now, Stage: StageAwareness, Created: days(400)}, true); got.Apply {
		t.Errorf("with auto_dissolve on a stage set by hand InferStage = %+v; want only a proposal", got)
	}
	off := rules
	off.AutoApply = false
	if got := off.InferStage(StageFacts{Now: now, Stage: StageAwareness, Created: days(3), Products: 1}, false); got.Apply || got.Stage != StageExploration {
		t.Errorf("without auto_apply InferStage = %+v; want exploration proposed", got)
	}
}

func TestStageInputValidate(t *testing.T) {
	tests := []struct {
		in   StageInput
		want []string
	}{
		{StageInput{Stage: StageCommitment, Reason: " agreed "}, nil},
		{StageInput{Stage: StageDissolution, Reason: "left", DissolutionReason: DissolutionFraud}, nil},
		{StageInput{}, []string{"stage", "reason"}},
		{StageInput{Stage: StageDissolution, Reason: "left"}, []string{"dissolution_reason"}},
		{StageInput{Stage: StageExpansion, Reason: "x", DissolutionReason: DissolutionOther}, []string{"dissolution_reason"}},
	}
	for _, tt := range tests {
		err := tt.in.Validate()
		var got []string
		for _, f := range ErrorFields(err) {
			got = append(got, f.Field)
		}
		if len(got) != len(tt.want) || (len(got) > 0 && got[0] != tt.want[0]) {
			t.Errorf("Validate(%+v) fields = %v; want %v", tt.in, got, tt.want)
		}
	}
	if err := DefaultStageRules(); err.Validate() != nil {
		t.Errorf("DefaultStageRules().Validate() = %v", err.Validate())
	}
}

func TestStageValues(t *testing.T) {
	want := []string{"awareness", "exploration", "expansion", "commitment", "dissolution"}
	got := StageValues()
	if len(got) != len(want) {
		t.Fatalf("StageValues() = %v; want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("StageValues()[%d] = %q; want %q", i, got[i], want[i])
		}
	}
	if got, want := StageNames(), "awareness, exploration, expansion, commitment, dissolution"; got != want {
		t.Errorf("StageNames() = %q; want %q", got, want)
	}
	for s, want := range map[Stage]bool{StageAwareness: true, StageDissolution: true, "": false, "Awareness": false, "lost": false} {
		if got := validStage(s); got != want {
			t.Errorf("validStage(%q) = %v; want %v", s, got, want)
		}
	}
}

func TestChangerKindOf(t *testing.T) {
	for _, tc := range []struct {
		changedBy string
		isUser    bool
		want      StageChangerKind
	}{
		{"01USER", true, ChangerUser},
		{"token:01TOKEN", false, ChangerToken},
		{ChangedByInference, false, ChangerInference},
		{"demo", false, ChangerSystem},
		{"", false, ChangerSystem},
	} {
		if got := ChangerKindOf(tc.changedBy, tc.isUser); got != tc.want {
			t.Errorf("ChangerKindOf(%q, %v) = %s; want %s", tc.changedBy, tc.isUser, got, tc.want)
		}
	}
	if !ChangerInference.IsInference() || ChangerUser.IsInference() {
		t.Errorf("IsInference: inference %v, user %v; want true, false", ChangerInference.IsInference(), ChangerUser.IsInference())
	}
	for s, want := range map[StageSetBy][2]bool{StageSetByHand: {true, false}, StageSetByInference: {false, true}, StageSetOtherwise: {false, false}} {
		if got := [2]bool{s.ByHand(), s.ByInference()}; got != want {
			t.Errorf("%s: ByHand, ByInference = %v; want %v", s, got, want)
		}
	}
}
