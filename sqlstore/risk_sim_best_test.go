package sqlstore_test

import (
	"cmp"
	"math"
	"slices"
	"testing"

	"github.com/rapport-crm/rapport/analytics"
)

// The best any model could do from the data: knowing how the simulated
// firm works (its rates, effects and the spread of what is hidden) but,
// of each customer, only what a firm records (the day they joined, their
// moments with outcomes and ratings, and that they are still here),
// bestFromData works out the chance they dissolve within 90 days by
// Bayes' rule. The truth-optimal ranking knows more than any data can
// show (a customer's own propensity, their satisfaction, whether they
// have already drifted away); this is the ceiling a fitted model can
// actually reach.

// The posterior of satisfaction is read on a grid from satLo to satHi.
const satLo, satHi, satStep = -5.0, 5.0, 0.1

// zNodes and zWeights integrate over the propensity, N(0, simPropensity²):
// Gauss–Hermite nodes for a standard normal, scaled.
var zNodes, zWeights = func() ([]float64, []float64) {
	x := []float64{-math.Sqrt(3), 0, math.Sqrt(3)}
	w := []float64{1.0 / 6, 2.0 / 3, 1.0 / 6}
	for i := range x {
		x[i] *= simPropensity
	}
	return x, w
}()

// ratingProb is the chance of rating r from a customer of satisfaction
// sat after a moment that was misery or not.
func ratingProb(r int, sat float64, misery bool) float64 {
	mu := simRatingMean(sat, misery)
	cdf := func(x float64) float64 { return 0.5 * math.Erfc(-(x-mu)/(simRatingNoise*math.Sqrt2)) }
	lo, hi := 0.0, 1.0
	if r > 1 {
		lo = cdf(float64(r) - 0.5)
	}
	if r < 5 {
		hi = cdf(float64(r) + 0.5)
	}
	return math.Max(hi-lo, 1e-300)
}

// bestFromData is the chance the customer dissolves within 90 days after
// day t, given only what a firm sees of them by t.
func (c *simCustomer) bestFromData(mix firmMix, t float64) float64 {
	// Satisfaction, from the outcomes and ratings: the posterior on a grid,
	// keeping the points that carry any weight.
	var sats, satW []float64
	{
		var logw []float64
		top := math.Inf(-1)
		for sat := satLo; sat <= satHi+1e-9; sat += satStep {
			lw := -sat * sat / 2
			pm := simMiseryChance(sat)
			for _, m := range c.moments {
				if m.day > t {
					break
				}
				if m.misery {
					lw += math.Log(pm)
				} else {
					lw += math.Log1p(-pm)
				}
				if m.rating > 0 {
					lw += math.Log(ratingProb(m.rating, sat, m.misery))
				}
			}
			sats, logw = append(sats, sat), append(logw, lw)
			top = math.Max(top, lw)
		}
		keep := 0
		for i, lw := range logw {
			if lw-top > -12 {
				sats[keep] = sats[i]
				satW = append(satW, math.Exp(lw-top))
				keep++
			}
		}
		sats = sats[:keep]
	}

	// The days the simulation lived: a moment on day k came at the rate
	// before or after drifting away, and the chance of dissolving was
	// checked at 0.8 of it. Days seen are those checked by t; the next 90
	// days are the ones predicted.
	var seen, ahead int
	for d := c.joined; d < -1; d++ {
		switch {
		case d+0.8 <= t:
			seen++
		case d+0.8 <= t+90:
			ahead++
		}
	}
	n := seen + ahead
	// What fresh misery seen by t adds to the log-hazard each day, and
	// which seen days had a moment.
	boost := make([]float64, n)
	had := make([]bool, seen)
	for _, m := range c.moments {
		if m.day > t {
			break
		}
		k := int(math.Floor(m.day - c.joined))
		if k < seen {
			had[k] = true
		}
		if e := mix.miseryEffect[m.touchpoint]; m.misery && e != 0 {
			for ; k < n; k++ {
				age := c.joined + float64(k) + 0.8 - m.day
				if age >= 90 {
					break
				}
				boost[k] += e * (1 - age/90)
			}
		}
	}

	// Misery still to come within the 90 days: a moment on a day ahead is
	// misery with a chance that depends on satisfaction, at a touchpoint
	// drawn at random; gain[Δ] is what it multiplies the hazard by, less
	// one, Δ days later (on average over the touchpoints).
	var gain [90]float64
	for dd := range gain {
		for _, tp := range simTouchpoints {
			gain[dd] += (math.Exp(mix.miseryEffect[tp]*(1-(float64(dd)+0.35)/90)) - 1) / float64(len(simTouchpoints))
		}
	}
	// For each satisfaction, the expected hazard over the days ahead,
	// before and after drifting away: pre[j] adds up days ahead before
	// j, post[j] those from j on (×e^drift).
	drifted := math.Exp(simDriftEffect)
	pre := make([][]float64, len(sats))
	post := make([][]float64, len(sats))
	for si, sat := range sats {
		pm := simMiseryChance(sat)
		pre[si], post[si] = make([]float64, ahead+1), make([]float64, ahead+1)
		var logPre, logPost float64
		fPre, fPost := make([]float64, ahead), make([]float64, ahead)
		for j := 0; j < ahead; j++ {
			logPre += math.Log1p(simRate * pm * gain[j])
			logPost += math.Log1p(simDriftedRate * pm * gain[j])
			e := math.Exp(boost[seen+j])
			fPre[j], fPost[j] = e*math.Exp(logPre), drifted*e*math.Exp(logPost)
		}
		for j := 0; j < ahead; j++ {
			pre[si][j+1] = pre[si][j] + fPre[j]
		}
		for j := ahead - 1; j >= 0; j-- {
			post[si][j] = post[si][j+1] + fPost[j]
		}
	}

	// Option i: the customer drifted away on day i (moments at the lower
	// rate and the hazard raised from day i on); option n: not by the end
	// of the 90 days. logL[i] is the log-likelihood of the seen days with
	// and without a moment, A[i] the hazard over them for a unit base.
	logL := make([]float64, n+1)
	A := make([]float64, n+1)
	for k := 0; k < seen; k++ {
		A[n] += math.Exp(boost[k])
		if had[k] {
			logL[n] += math.Log(simRate)
		} else {
			logL[n] += math.Log1p(-simRate)
		}
	}
	for i := n - 1; i >= 0; i-- {
		logL[i], A[i] = logL[i+1], A[i+1]
		if i < seen {
			A[i] += (drifted - 1) * math.Exp(boost[i])
			if had[i] {
				logL[i] += math.Log(simDriftedRate) - math.Log(simRate)
			} else {
				logL[i] += math.Log1p(-simDriftedRate) - math.Log1p(-simRate)
			}
		}
	}
	// Drifting away happens, to a drifter, on a day drawn evenly between
	// joining and the end.
	span := -c.joined
	prior := func(i int) float64 {
		if i < n {
			return mix.drifters / span
		}
		return 1 - mix.drifters + mix.drifters*math.Max(0, -(c.joined+float64(n)))/span
	}
	top := math.Inf(-1)
	for i := range logL {
		if p := prior(i); p > 0 {
			logL[i] += math.Log(p)
			top = math.Max(top, logL[i])
		} else {
			logL[i] = math.Inf(-1)
		}
	}
	// The base hazard of each satisfaction and propensity, with its weight;
	// drifting away on any day ahead leaves the days seen alike.
	nz := len(zNodes)
	h := make([]float64, len(sats)*nz)
	wsz := make([]float64, len(h))
	aliveAhead := make([]float64, len(h))
	for si, sat := range sats {
		for zi, z := range zNodes {
			h[si*nz+zi] = simBaseHazard * math.Exp(z-simSatEffect*sat)
			wsz[si*nz+zi] = satW[si] * zWeights[zi]
			aliveAhead[si*nz+zi] = wsz[si*nz+zi] * math.Exp(-h[si*nz+zi]*A[seen])
		}
	}
	var num, den float64
	for i := range logL {
		if logL[i]-top < -15 {
			continue
		}
		w := math.Exp(logL[i] - top)
		j := min(max(i-seen, 0), ahead) // the first day ahead after drifting
		for k := range h {
			B := pre[k/nz][j] + post[k/nz][j]
			alive := aliveAhead[k]
			if i < seen {
				alive = wsz[k] * math.Exp(-h[k]*A[i])
			}
			den += w * alive
			num += w * alive * -math.Expm1(-h[k]*B)
		}
	}
	return num / den
}

// TestBestFromDataIsCalibrated checks the ceiling the fitted model is
// held to: on simulated firms larger than the ones loaded, the chances
// bestFromData gives agree with who dissolved, decile by decile, and it
// ranks customers below the truth-optimal (which sees what no data shows)
// and above the mean rating.
func TestBestFromDataIsCalibrated(t *testing.T) {
	if testing.Short() {
		t.Skip("works out thousands of posteriors")
	}
	t.Parallel()
	for i, mix := range firmMixes {
		customers := simulateFirm(uint64(100+i), mix, 5000)
		var best, truth, rating []float64
		var positive []bool
		for _, day := range []float64{-400, -100} {
			for _, c := range customers {
				if c.joined > day || c.gone <= day {
					continue
				}
				best = append(best, c.bestFromData(mix, day))
				truth = append(truth, c.truth(mix, day))
				sum, n := 0.0, 0
				for _, m := range c.moments {
					if m.day <= day && m.day > day-90 && m.rating > 0 {
						sum, n = sum+float64(m.rating), n+1
					}
				}
				r := 4.0
				if n > 0 {
					r = sum / float64(n)
				}
				rating = append(rating, -r)
				positive = append(positive, c.gone <= day+90)
			}
		}
		aucBest, _ := analytics.AUC(best, positive)
		aucTruth, _ := analytics.AUC(truth, positive)
		aucRating, _ := analytics.AUC(rating, positive)
		t.Logf("%s: %d customer-dates; AUC from the data %.3f, truth-optimal %.3f, mean rating %.3f", mix.name, len(best), aucBest, aucTruth, aucRating)
		if !(aucRating < aucBest && aucBest < aucTruth) {
			t.Errorf("%s: AUC from the data %.3f; want between the mean rating's %.3f and the truth-optimal %.3f", mix.name, aucBest, aucRating, aucTruth)
		}
		order := make([]int, len(best))
		for k := range order {
			order[k] = k
		}
		slices.SortFunc(order, func(a, b int) int { return cmp.Compare(best[a], best[b]) })
		for d := range 10 {
			part := order[d*len(order)/10 : (d+1)*len(order)/10]
			var pred, obs float64
			for _, k := range part {
				pred += best[k] / float64(len(part))
				obs += boolF(positive[k]) / float64(len(part))
			}
			tol := 3 * math.Sqrt(pred*(1-pred)/float64(len(part)))
			t.Logf("%s: decile %d: %d customers, predicted %.3f, observed %.3f", mix.name, d+1, len(part), pred, obs)
			if math.Abs(pred-obs) > tol {
				t.Errorf("%s: decile %d: predicted %.3f, observed %.3f; want within %.3f", mix.name, d+1, pred, obs, tol)
			}
		}
	}
}
