package analytics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAUCWorkedExamples checks AUC against pair counts done by hand.
func TestAUCWorkedExamples(t *testing.T) {
	tests := []struct {
		name     string
		scores   []float64
		positive []bool
		want     float64
	}{
		// Positives 0.9, 0.8, 0.6, 0.55, 0.51 outrank 5, 5, 4, 4 and 1 of the
		// five negatives 0.7, 0.54, 0.53, 0.52, 0.505: 19 of 25 pairs.
		{"ten customers",
			[]float64{0.9, 0.8, 0.7, 0.6, 0.55, 0.54, 0.53, 0.52, 0.51, 0.505},
			[]bool{true, true, false, true, true, false, false, false, true, false},
			19.0 / 25},
		// Positives 1, 2, 2 against negatives 2, 0: 1 beats 0 (1 pair); each 2
		// ties 2 (½) and beats 0 (1): 1 + 1.5 + 1.5 = 4 of 6 pairs.
		{"ties count half", []float64{1, 2, 2, 2, 0}, []bool{true, true, true, false, false}, 4.0 / 6},
		{"perfect", []float64{3, 4, 1, 2}, []bool{true, true, false, false}, 1},
		{"reversed", []float64{1, 2, 3, 4}, []bool{true, true, false, false}, 0},
		{"all tied", []float64{5, 5, 5, 5}, []bool{true, false, true, false}, 0.5},
	}
	for _, tt := range tests {
		got, ok := AUC(tt.scores, tt.positive)
		if !ok || math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("%s: AUC = %v, %v; want %v", tt.name, got, ok, tt.want)
		}
	}
}

// TestAUCMatchesPairCount compares AUC with the definition, pair by pair,
// on random scores with many ties.
func TestAUCMatchesPairCount(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 50 {
		n := 2 + r.IntN(60)
		scores, positive := make([]float64, n), make([]bool, n)
		for i := range scores {
			scores[i] = float64(r.IntN(8))
			positive[i] = r.Float64() < 0.3+0.05*scores[i]
		}
		var wins, pairs float64
		for i := range scores {
			for j := range scores {
				if !positive[i] || positive[j] {
					continue
				}
				pairs++
				switch {
				case scores[i] > scores[j]:
					wins++
				case scores[i] == scores[j]:
					wins += 0.5
				}
			}
		}
		got, ok := AUC(scores, positive)
		if pairs == 0 {
			if ok {
				t.Errorf("trial %d: AUC with one class = %v, true; want ok false", trial, got)
			}
			continue
		}
		if !ok || math.Abs(got-wins/pairs) > 1e-12 {
			t.Errorf("trial %d: AUC = %v, %v; want %v", trial, got, ok, wins/pairs)
		}
	}
}

func TestAUCInvalid(t *testing.T) {
	if _, ok := AUC([]float64{1, 2}, []bool{true}); ok {
		t.Error("AUC with mismatched lengths: ok = true; want false")
	}
	if _, ok := AUC([]float64{1, 2}, []bool{true, true}); ok {
		t.Error("AUC with no negatives: ok = true; want false")
	}
	if _, ok := AUC(nil, nil); ok {
		t.Error("AUC of nothing: ok = true; want false")
	}
}
