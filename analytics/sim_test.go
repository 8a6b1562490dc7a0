package analytics

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// TestWinnerFalseWinnerRate checks the promise behind Winner by simulation:
// when every response is equally good, a winner must be declared in at most
// alpha of the trials (plus sampling noise). Without doubling the one-sided
// p-values for the choice of leader, two equal arms would give about 2·alpha.
func TestWinnerFalseWinnerRate(t *testing.T) {
	const reps, alpha = 4000, 0.05
	for _, tc := range []struct {
		arms, moments int
		rate          float64
	}{
		{2, 200, 0.3},
		{3, 200, 0.3},
		{5, 60, 0.2},
		{2, 8, 0.5}, // small enough for Fisher's exact test
	} {
		src := rand.NewPCG(uint64(tc.arms), uint64(tc.moments))
		draw := distuv.Binomial{N: float64(tc.moments), P: tc.rate, Src: src}
		wins := 0
		for range reps {
			arms := make([]Arm, tc.arms)
			for i := range arms {
				arms[i] = Arm{Key: string(rune('a' + i)), Magic: Proportion{int(draw.Rand()), tc.moments}}
			}
			if Winner(arms, alpha, 1).Winner != "" {
				wins++
			}
		}
		got := float64(wins) / reps
		limit := alpha + 3*math.Sqrt(alpha*(1-alpha)/reps)
		t.Logf("%d arms × %d moments at %.0f%%: false winners %.4f", tc.arms, tc.moments, 100*tc.rate, got)
		if got > limit {
			t.Errorf("%d equal arms × %d moments: false winner rate %.4f; want at most %.4f", tc.arms, tc.moments, got, limit)
		}
	}
}
