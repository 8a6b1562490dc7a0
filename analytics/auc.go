package analytics

import "sort"

// AUC is the area under the ROC curve of a score meant to rank positives
// (e.g. customers who went on to dissolve) above negatives: the probability
// that a positive chosen at random scores higher than a negative chosen at
// random, a tie counting half. 0.5 is no better than chance, 1 is a perfect
// ranking. It is computed as the Mann–Whitney U statistic over n₁·n₀, from
// the ranks of the scores with tied scores sharing their mean rank, in
// O(n log n). ok is false when either class is empty or the lengths differ.
func AUC(scores []float64, positive []bool) (auc float64, ok bool) {
	if len(scores) != len(positive) {
		return 0, false
	}
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	var n1, n0 float64
	var rankSum float64 // of the positives, ranks from 1
	for start := 0; start < len(idx); {
		end := start + 1
		for end < len(idx) && scores[idx[end]] == scores[idx[start]] {
			end++
		}
		// Ranks start+1 … end share their mean.
		mean := float64(start+1+end) / 2
		for _, i := range idx[start:end] {
			if positive[i] {
				n1++
				rankSum += mean
			} else {
				n0++
			}
		}
		start = end
	}
	if n1 == 0 || n0 == 0 {
		return 0, false
	}
	u := rankSum - n1*(n1+1)/2
	return u / (n1 * n0), true
}
