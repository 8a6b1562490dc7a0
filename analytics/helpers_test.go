package analytics

import (
	"math"
	"testing"
)

// z975 is the 97.5th percentile of the standard normal, to ten digits
// (any statistical table gives 1.959964).
const z975 = 1.959963985

// near reports whether got is within tol of want.
func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// checkInterval fails the test unless iv matches want to tol at both ends.
func checkInterval(t *testing.T, name string, iv, want Interval, tol float64) {
	t.Helper()
	if !near(iv.Lo, want.Lo, tol) || !near(iv.Hi, want.Hi, tol) {
		t.Errorf("%s = (%.6f, %.6f); want (%.6f, %.6f)", name, iv.Lo, iv.Hi, want.Lo, want.Hi)
	}
}

// studentA is A(t|ν) = P(|T| ≤ t) for Student's t with integer ν, by the
// closed forms of Abramowitz & Stegun 26.7.3, written out independently of
// the incomplete-beta route the package takes through gonum:
//
//	ν odd:  A = (2/π)[θ + sinθ(cosθ + (2/3)cos³θ + … + (2·4…(ν−3))/(1·3…(ν−2)) cos^(ν−2)θ)]
//	ν even: A = sinθ[1 + (1/2)cos²θ + … + (1·3…(ν−3))/(2·4…(ν−2)) cos^(ν−2)θ]
//
// with θ = atan(t/√ν).
func studentA(t float64, nu int) float64 {
	th := math.Atan(math.Abs(t) / math.Sqrt(float64(nu)))
	s, c := math.Sin(th), math.Cos(th)
	if nu%2 == 1 {
		if nu == 1 {
			return 2 / math.Pi * th
		}
		term, sum := c, c
		for k := 3; k <= nu-2; k += 2 {
			term *= float64(k-1) / float64(k) * c * c
			sum += term
		}
		return 2 / math.Pi * (th + s*sum)
	}
	term, sum := 1.0, 1.0
	for k := 2; k <= nu-2; k += 2 {
		term *= float64(k-1) / float64(k) * c * c
		sum += term
	}
	return s * sum
}

func TestStudentAReference(t *testing.T) {
	// The reference must itself reproduce printed t tables before we trust it:
	// t(0.975; 9) = 2.262157, t(0.975; 8) = 2.306004, t(0.95; 1) = 6.313752.
	for _, tc := range []struct {
		t    float64
		nu   int
		want float64
	}{
		{2.262157, 9, 0.95},
		{2.306004, 8, 0.95},
		{6.313752, 1, 0.90},
		{2.776445, 4, 0.95},
	} {
		if got := studentA(tc.t, tc.nu); !near(got, tc.want, 1e-6) {
			t.Errorf("studentA(%v, %d) = %.7f; want %.7f", tc.t, tc.nu, got, tc.want)
		}
	}
}

func TestQuantilesAgainstTables(t *testing.T) {
	for _, tc := range []struct {
		level, df, want float64
	}{
		{0.95, 1, 12.706205},
		{0.95, 4, 2.776445},
		{0.95, 9, 2.262157},
		{0.99, 9, 3.249836},
		{0.95, 50_000_000, 1.959964}, // the normal value, approached for huge samples
	} {
		got, ok := tQuantile(tc.level, tc.df)
		if !ok || !near(got, tc.want, 1e-5) {
			t.Errorf("tQuantile(%v, %v) = %.6f, %v; want %.6f", tc.level, tc.df, got, ok, tc.want)
		}
	}
	if got, _ := zQuantile(0.95); !near(got, z975, 1e-9) {
		t.Errorf("zQuantile(0.95) = %.10f; want %.10f", got, z975)
	}
	for _, bad := range []float64{0, 1, -0.5, 95, math.NaN()} {
		if _, ok := zQuantile(bad); ok {
			t.Errorf("zQuantile(%v) ok; want not ok", bad)
		}
	}
}
