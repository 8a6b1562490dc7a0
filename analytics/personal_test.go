package analytics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// simFirm simulates one touchpoint: customers each belong to some of four
// groups, meet a random response a few times, and are delighted with the
// chance rate(response, groups) gives.
type simFirm struct {
	responses []string
	groups    map[string]map[string]Proportion // group → response → counts
	overall   map[string]Proportion
	members   [][]string
}

func simulate(r *rand.Rand, customers int, rate func(resp string, in map[string]bool) float64) *simFirm {
	f := &simFirm{responses: []string{"call", "email", "letter"}, groups: map[string]map[string]Proportion{},
		overall: map[string]Proportion{}}
	names := []string{"dislike:calls", "like:email", "stage:commitment", "segment:retired"}
	for range customers {
		in := map[string]bool{}
		var member []string
		for _, g := range names {
			if r.Float64() < 0.3 {
				in[g] = true
				member = append(member, g)
			}
		}
		f.members = append(f.members, member)
		for range 1 + r.IntN(4) {
			resp := f.responses[r.IntN(len(f.responses))]
			p := Proportion{Trials: 1}
			if r.Float64() < rate(resp, in) {
				p.Successes = 1
			}
			f.overall[resp] = f.overall[resp].Add(p)
			for _, g := range member {
				if f.groups[g] == nil {
					f.groups[g] = map[string]Proportion{}
				}
				f.groups[g][resp] = f.groups[g][resp].Add(p)
			}
		}
	}
	return f
}

func (f *simFirm) input(member []string) PersonalInput {
	in := PersonalInput{Member: member, Alpha: 0.05, MinTrials: 30}
	for _, resp := range f.responses {
		in.Overall = append(in.Overall, Arm{Key: resp, Magic: f.overall[resp]})
	}
	for name, counts := range f.groups {
		g := Group{Name: name}
		for _, resp := range f.responses {
			g.Arms = append(g.Arms, Arm{Key: resp, Magic: counts[resp]})
		}
		in.Groups = append(in.Groups, g)
	}
	return in
}

// TestPersonalFalseClaimRate: with no personal pattern, a claim that one
// response is best for customers like this one comes at most at the stated
// error rate, over many simulated firms, whether the responses are all
// alike or one is better for everybody (then a claim must name that one).
func TestPersonalFalseClaimRate(t *testing.T) {
	const firms, alpha = 400, 0.05
	for _, tc := range []struct {
		name string
		rate func(string, map[string]bool) float64
		best string // the only response a claim may name
	}{
		{"all alike", func(string, map[string]bool) float64 { return 0.3 }, ""},
		{"email better for everyone", func(resp string, _ map[string]bool) float64 {
			return map[string]float64{"call": 0.25, "email": 0.35, "letter": 0.25}[resp]
		}, "email"},
	} {
		r := rand.New(rand.NewPCG(14, uint64(len(tc.name))))
		wrong := 0
		for range firms {
			f := simulate(r, 1500, tc.rate)
			member := f.members[r.IntN(len(f.members))]
			res := Personal(f.input(member))
			if res.Winner != "" && res.Winner != tc.best {
				wrong++
			}
			if (res.Winner != "") != (res.PValue < alpha) {
				t.Fatalf("winner %q with p %.3f; a winner exactly when p < %.2f", res.Winner, res.PValue, alpha)
			}
		}
		got := float64(wrong) / firms
		limit := alpha + 3*math.Sqrt(alpha*(1-alpha)/firms)
		t.Logf("%s: false claims in %.3f of %d firms (limit %.3f)", tc.name, got, firms, limit)
		if got > limit {
			t.Errorf("%s: false claims %.3f; want at most %.3f", tc.name, got, limit)
		}
	}
}

// TestPersonalFindsPlantedPattern: customers who dislike calls are
// delighted by email and not by calls, the others the reverse; the
// suggestion for each kind names their response, with an interval that
// holds the true rate.
func TestPersonalFindsPlantedPattern(t *testing.T) {
	rate := func(resp string, in map[string]bool) float64 {
		good := "call"
		if in["dislike:calls"] {
			good = "email"
		}
		if resp == good {
			return 0.5
		}
		return 0.15
	}
	r := rand.New(rand.NewPCG(14, 2))
	f := simulate(r, 3000, rate)
	res := Personal(f.input([]string{"dislike:calls", "stage:commitment"}))
	if res.Winner != "email" || res.Group != "dislike:calls" {
		t.Fatalf("winner %q in group %q (p %.3g); want email in dislike:calls", res.Winner, res.Group, res.PValue)
	}
	top := res.Estimates[0]
	if top.Key != "email" || !top.Interval.Contains(0.5) || top.Interval.Width() > 0.15 {
		t.Errorf("top estimate %s %.3f (%.3f–%.3f); want email with an interval around 0.5", top.Key, top.Rate, top.Interval.Lo, top.Interval.Hi)
	}
	// A customer in no group learns nothing personal: the estimates are
	// everyone's, and there is no claim.
	res = Personal(f.input(nil))
	if res.Winner != "" || res.Group != Everyone {
		t.Errorf("customer in no group: winner %q in %q; want none", res.Winner, res.Group)
	}
}

// TestPersonalShrinksSmallGroups: a group of five moments that all went
// one way stays near the overall rate, while a group of a thousand keeps
// its own.
func TestPersonalShrinksSmallGroups(t *testing.T) {
	overall := []Arm{{Key: "call", Magic: Proportion{300, 1000}}, {Key: "email", Magic: Proportion{300, 1000}}}
	groups := []Group{
		{"tiny", []Arm{{Key: "call", Magic: Proportion{5, 5}}, {Key: "email", Magic: Proportion{0, 5}}}},
		{"big", []Arm{{Key: "call", Magic: Proportion{600, 1000}}, {Key: "email", Magic: Proportion{100, 1000}}}},
		{"other", []Arm{{Key: "call", Magic: Proportion{50, 200}}, {Key: "email", Magic: Proportion{60, 200}}}},
	}
	in := PersonalInput{Overall: overall, Groups: groups, Member: []string{"tiny", "big"}, Alpha: 0.05, MinTrials: 30}
	res := Personal(in)
	if res.Group != "big" || res.Winner != "call" {
		t.Fatalf("basis %q winner %q; want call in big", res.Group, res.Winner)
	}
	for _, e := range res.Estimates {
		if e.Key == "call" && math.Abs(e.Rate-0.6) > 0.02 {
			t.Errorf("big group's call rate %.3f; want near its own 0.6", e.Rate)
		}
	}
	// The tiny group alone: Winner refuses (too few moments), and a
	// customer's own two miseries lower their personal estimate.
	in.Member = []string{"tiny"}
	in.Own = []Arm{{Key: "call", Magic: Proportion{0, 2}}}
	res = Personal(in)
	if res.Winner != "" {
		t.Errorf("tiny group: winner %q; want none", res.Winner)
	}
	for _, e := range res.Estimates {
		if e.Key == "call" && !(e.Personal < e.Rate) {
			t.Errorf("call personal %.3f, group %.3f; want own miseries to lower it", e.Personal, e.Rate)
		}
	}
}

// TestPersonalPrefersTheDeviatingGroup: a customer in a large group that
// mirrors everyone (calls win) and a smaller one where email wins is
// suggested email, though the large group's p-value is the smaller.
func TestPersonalPrefersTheDeviatingGroup(t *testing.T) {
	overall := []Arm{{Key: "call", Magic: Proportion{1300, 3000}}, {Key: "email", Magic: Proportion{700, 3000}}}
	groups := []Group{
		{"stage:commitment", []Arm{{Key: "call", Magic: Proportion{650, 1500}}, {Key: "email", Magic: Proportion{350, 1500}}}},
		{"dislike:calls", []Arm{{Key: "call", Magic: Proportion{15, 150}}, {Key: "email", Magic: Proportion{60, 150}}}},
	}
	res := Personal(PersonalInput{Overall: overall, Groups: groups, Member: []string{"stage:commitment", "dislike:calls"}, Alpha: 0.05, MinTrials: 30})
	if res.Group != "dislike:calls" || res.Winner != "email" {
		t.Errorf("basis %q winner %q (p %.2g); want email among those who dislike calls", res.Group, res.Winner, res.PValue)
	}
}
