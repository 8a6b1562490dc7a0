package rapport

import (
	"slices"
	"testing"
)

func TestRankPromises(t *testing.T) {
	counts := []PromiseCount{
		{StaffID: "a", Name: "Ann", Team: "Claims", Status: PromiseKept, N: 2},
		{StaffID: "b", Name: "Bob", Team: "Claims", Status: PromiseKept, N: 1},
		{StaffID: "b", Name: "Bob", Team: "Claims", Status: PromiseBroken, N: 9},
		{StaffID: "c", Name: "Cat", Team: "Sales", Status: PromiseOpen, N: 4},
		{Status: PromiseBroken, N: 1}, // made by someone since removed
	}
	total, staff, teams := RankPromises(counts)
	if total.Name != "Everyone" || total.Made != 17 || total.Kept != 3 || total.Broken != 10 || total.Open != 4 {
		t.Errorf("total = %+v; want Everyone, 17 made, 3 kept, 10 broken, 4 open", total)
	}
	if total.SayDo == nil || *total.SayDo != 3.0/13 {
		t.Errorf("total say/do = %v; want 3/13", total.SayDo)
	}
	var names []string
	for _, r := range staff {
		names = append(names, r.Name)
	}
	if want := []string{"Bob", "Ann", "Cat"}; !slices.Equal(names, want) {
		t.Errorf("staff order = %v; want %v (worst first, nothing settled last)", names, want)
	}
	if c := staff[2]; c.SayDo != nil || c.SayDoCI != nil || c.Open != 4 {
		t.Errorf("Cat = %+v; want no ratio with nothing settled, 4 open", c)
	}
	if len(teams) != 2 || teams[0].Name != "Claims" || teams[0].Made != 12 || teams[0].Kept != 3 || teams[1].Name != "Sales" {
		t.Errorf("teams = %+v; want Claims (12 made, 3 kept) then Sales", teams)
	}
}

func TestPromiseWorstFirst(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	iv := func(lo, hi float64) *Interval { return &Interval{lo, hi} }
	for _, tc := range []struct {
		name string
		a, b PromiseRecord
		want int
	}{
		{"lower upper bound first", PromiseRecord{Name: "z", SayDo: f(0.5), SayDoCI: iv(0.1, 0.6)},
			PromiseRecord{Name: "a", SayDo: f(0.2), SayDoCI: iv(0.05, 0.9)}, -1},
		{"then the lower ratio", PromiseRecord{Name: "z", SayDo: f(0.4), SayDoCI: iv(0.1, 0.8)},
			PromiseRecord{Name: "a", SayDo: f(0.5), SayDoCI: iv(0.1, 0.8)}, -1},
		{"then the most broken", PromiseRecord{Name: "z", Broken: 3, SayDo: f(0.5), SayDoCI: iv(0.1, 0.8)},
			PromiseRecord{Name: "a", Broken: 1, SayDo: f(0.5), SayDoCI: iv(0.1, 0.8)}, -2},
		{"then by name", PromiseRecord{Name: "a"}, PromiseRecord{Name: "b"}, -1},
		{"nothing settled last", PromiseRecord{Name: "a"}, PromiseRecord{Name: "b", SayDo: f(1), SayDoCI: iv(0.5, 1)}, 1},
	} {
		if got := PromiseWorstFirst(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: PromiseWorstFirst = %d; want %d", tc.name, got, tc.want)
		}
	}
}

func TestPromiseStatusCheckSettle(t *testing.T) {
	for _, tc := range []struct {
		from, to PromiseStatus
		want     string
	}{
		{PromiseOpen, PromiseKept, ""},
		{PromiseOpen, PromiseBroken, ""},
		{PromiseOpen, PromiseOpen, EINVALID},
		{PromiseOpen, "forgotten", EINVALID},
		{PromiseKept, PromiseBroken, ECONFLICT},
		{PromiseBroken, PromiseKept, ECONFLICT},
		{PromiseKept, "forgotten", EINVALID},
	} {
		if got := ErrorCode(tc.from.CheckSettle(tc.to)); got != tc.want {
			t.Errorf("%s.CheckSettle(%s) code %q; want %q", tc.from, tc.to, got, tc.want)
		}
	}
	if err := PromiseKept.CheckSettle(PromiseBroken); ErrorMessage(err) != "The promise is kept already." {
		t.Errorf("kept.CheckSettle(broken) says %q; want %q", ErrorMessage(err), "The promise is kept already.")
	}
}
