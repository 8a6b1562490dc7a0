package analytics

import (
	"math"
	"sort"
)

// Holm returns Holm–Bonferroni adjusted p-values in the order given. Rejecting
// every hypothesis whose adjusted p-value is below alpha keeps the chance of
// any false "significant" at most alpha across the whole set, with more power
// than plain Bonferroni and no assumption about how the tests are related.
//
// With m p-values sorted ascending, the j-th (1-based) is multiplied by
// m−j+1, capped at 1, and made non-decreasing along the sorted order. A NaN
// is treated as 1.
func Holm(p []float64) []float64 {
	m := len(p)
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	val := func(i int) float64 { return clamp01(p[i]) }
	sort.SliceStable(idx, func(i, j int) bool { return val(idx[i]) < val(idx[j]) })
	adj := make([]float64, m)
	running := 0.0
	for j, i := range idx {
		running = math.Max(running, math.Min(1, float64(m-j)*val(i)))
		adj[i] = running
	}
	return adj
}
