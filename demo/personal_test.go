package demo_test

import (
	"database/sql"
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/analytics"
)

// complaintMoment is a complaint as the held-back test needs it.
type complaintMoment struct {
	customer string
	response string
	magic    bool
	at       time.Time
}

// complaintHistory reads every customer (with what suggestions group them
// by) and every complaint moment, oldest first.
func complaintHistory(t *testing.T, raw *sql.DB) (map[string]*rapport.Customer, []complaintMoment) {
	t.Helper()
	customers := map[string]*rapport.Customer{}
	rows, err := raw.Query(`SELECT id, stage, attributes, preferences FROM customers`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		c := &rapport.Customer{}
		var attrs, prefs string
		if err := rows.Scan(&c.ID, &c.Stage, &attrs, &prefs); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(attrs), &c.Attributes); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(prefs), &c.Preferences); err != nil {
			t.Fatal(err)
		}
		customers[c.ID] = c
	}
	rows.Close()
	rows, err = raw.Query(`SELECT customer_id, response, outcome, occurred_at FROM moments
		WHERE touchpoint = 'complaint' AND response IS NOT NULL ORDER BY occurred_at, id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ms []complaintMoment
	for rows.Next() {
		var m complaintMoment
		var outcome string
		var at int64
		if err := rows.Scan(&m.customer, &m.response, &outcome, &at); err != nil {
			t.Fatal(err)
		}
		m.magic, m.at = outcome == "magic", time.UnixMicro(at).UTC()
		ms = append(ms, m)
	}
	return customers, ms
}

// fitted is what suggestions know after the moments of the fitting period:
// every group's counts and each customer's own, as the store keeps them.
type fitted struct {
	customers map[string]*rapport.Customer
	groups    map[string]map[string]rapport.OutcomeCounts
	own       map[string]map[string]rapport.OutcomeCounts
	cache     map[string]*rapport.Suggestions
}

func fit(customers map[string]*rapport.Customer, ms []complaintMoment) *fitted {
	f := &fitted{customers: customers, groups: map[string]map[string]rapport.OutcomeCounts{},
		own: map[string]map[string]rapport.OutcomeCounts{}, cache: map[string]*rapport.Suggestions{}}
	add := func(m map[string]map[string]rapport.OutcomeCounts, key string, mo complaintMoment) {
		if m[key] == nil {
			m[key] = map[string]rapport.OutcomeCounts{}
		}
		c := m[key][mo.response]
		c.Moments++
		if mo.magic {
			c.Magic++
		}
		m[key][mo.response] = c
	}
	for _, mo := range ms {
		add(f.own, mo.customer, mo)
		add(f.groups, "", mo)
		for _, g := range rapport.CustomerGroups(customers[mo.customer]) {
			add(f.groups, g, mo)
		}
	}
	return f
}

// demoResponses are the complaint's responses as the demo firm has them.
var demoResponses = []*rapport.Response{
	{Touchpoint: "complaint", Key: "email_apology", Status: rapport.ResponseStandard, Tags: []string{"email"}},
	{Touchpoint: "complaint", Key: "call_back_same_day", Status: rapport.ResponseTrial, Tags: []string{"phone_call"}},
}

func (f *fitted) suggest(customer string) *rapport.Suggestions {
	if s, ok := f.cache[customer]; ok {
		return s
	}
	s := rapport.Suggest(rapport.SuggestionFacts{Customer: f.customers[customer], Responses: demoResponses,
		Standard: "email_apology", Groups: f.groups, Own: f.own[customer]})
	f.cache[customer] = s
	return s
}

// single is the one response the five-step loop would make everyone's
// standard from the fitting period: the winner over all customers, else
// the standard the firm has.
func (f *fitted) single() string {
	var arms []analytics.Arm
	for _, r := range demoResponses {
		c := f.groups[""][r.Key]
		arms = append(arms, analytics.Arm{Key: r.Key, Magic: analytics.Proportion{Successes: c.Magic, Trials: c.Moments}})
	}
	if w := analytics.Winner(arms, rapport.SuggestionAlpha, rapport.SuggestionMinMoments).Winner; w != "" {
		return w
	}
	return "email_apology"
}

// TestPersonalSuggestionsHeldBack: planted pattern (f), proved as a firm
// would prove it. Suggestions are fitted on the complaints before the last
// 90 days; on the last 90 days, where each complaint got one of the two
// responses at random, the complaints whose response was the one suggested
// for that customer were magic more often than those whose response was the
// single best standard, with a 95% interval for the uplift above zero.
func TestPersonalSuggestionsHeldBack(t *testing.T) {
	_, raw := firm(t)
	customers, ms := complaintHistory(t, raw)
	cut := now.Add(-90 * 24 * time.Hour)
	var before, after []complaintMoment
	for _, m := range ms {
		if m.at.Before(cut) {
			before = append(before, m)
		} else {
			after = append(after, m)
		}
	}
	f := fit(customers, before)
	single := f.single()
	var followed, standard, actualStandard analytics.Proportion
	personal := 0
	for _, m := range after {
		hit := analytics.Proportion{Trials: 1}
		if m.magic {
			hit.Successes = 1
		}
		sg := f.suggest(m.customer)
		if sg.Personal && sg.Suggested != single {
			personal++
		}
		if m.response == sg.Suggested {
			followed = followed.Add(hit)
		}
		if m.response == single {
			standard = standard.Add(hit)
		}
		if m.response == "email_apology" {
			actualStandard = actualStandard.Add(hit)
		}
	}
	c := analytics.CompareProportions(followed, standard, analytics.Level95)
	t.Logf("fitted on %d complaints, held back %d; single standard %s; %d held-back complaints of customers suggested otherwise",
		len(before), len(after), single, personal)
	t.Logf("magic when the suggested response was used: %.1f%% of %d; with the single standard %s: %.1f%% of %d; uplift %+.1f points (95%% %+.1f to %+.1f)",
		100*followed.Rate(), followed.Trials, single, 100*standard.Rate(), standard.Trials, 100*c.Difference, 100*c.Interval.Lo, 100*c.Interval.Hi)
	ca := analytics.CompareProportions(followed, actualStandard, analytics.Level95)
	t.Logf("against the firm's standard email_apology: %.1f%% of %d; uplift %+.1f points (95%% %+.1f to %+.1f)",
		100*actualStandard.Rate(), actualStandard.Trials, 100*ca.Difference, 100*ca.Interval.Lo, 100*ca.Interval.Hi)
	if followed.Trials < 100 || standard.Trials < 100 || personal == 0 {
		t.Fatalf("%d moments followed the suggestion, %d used the standard, %d were personal; too few to judge", followed.Trials, standard.Trials, personal)
	}
	if c.Interval.Lo <= 0 {
		t.Errorf("uplift %+.3f (95%% %+.3f to %+.3f); want the interval above zero", c.Difference, c.Interval.Lo, c.Interval.Hi)
	}
}

// TestPersonalSuggestionsNoPattern: the demo firm's complaints with the
// personal pattern taken out (each response's outcomes shuffled among its
// own moments, so each response keeps its rate but no group differs) give
// a personal claim, one that departs from the single standard, for a
// customer at most at the stated error rate, over many shuffles.
func TestPersonalSuggestionsNoPattern(t *testing.T) {
	_, raw := firm(t)
	customers, ms := complaintHistory(t, raw)
	ids := make([]string, 0, len(customers))
	for id := range customers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	const shuffles = 200
	r := rand.New(rand.NewPCG(14, 6))
	claims := 0
	for range shuffles {
		shuffled := shuffleOutcomes(r, ms)
		f := fit(customers, shuffled)
		who := shuffled[r.IntN(len(shuffled))].customer
		if sg := f.suggest(who); sg.Personal && sg.Suggested != f.single() {
			claims++
		}
	}
	got := float64(claims) / shuffles
	alpha := rapport.SuggestionAlpha
	limit := alpha + 3*math.Sqrt(alpha*(1-alpha)/shuffles)
	t.Logf("personal claims with the pattern shuffled away: %d of %d customers (%.3f; limit %.3f)", claims, shuffles, got, limit)
	if got > limit {
		t.Errorf("personal claims %.3f with no personal pattern; want at most %.3f", got, limit)
	}
}

// shuffleOutcomes deals each response's outcomes out again at random among
// the moments that used it.
func shuffleOutcomes(r *rand.Rand, ms []complaintMoment) []complaintMoment {
	out := append([]complaintMoment(nil), ms...)
	byResponse := map[string][]int{}
	for i, m := range out {
		byResponse[m.response] = append(byResponse[m.response], i)
	}
	for _, resp := range []string{"email_apology", "call_back_same_day"} {
		idx := byResponse[resp]
		magic := make([]bool, len(idx))
		for j, i := range idx {
			magic[j] = out[i].magic
		}
		r.Shuffle(len(magic), func(a, b int) { magic[a], magic[b] = magic[b], magic[a] })
		for j, i := range idx {
			out[i].magic = magic[j]
		}
	}
	return out
}
