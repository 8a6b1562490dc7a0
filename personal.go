package rapport

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rapport-crm/rapport/analytics"
)

// Personal suggestions: for one customer at one touchpoint, the response
// most likely to delight customers like them, with the evidence.

// Response tags say what a response involves, so it can be matched with a
// customer's likes and dislikes. Any key may be a tag; these are the ones
// Rapport knows words for.
var tagWords = map[string][]string{
	"phone_call": {"phone", "call", "calls", "calling", "ring", "telephone"},
	"email":      {"email", "emails", "e-mail"},
	"visit":      {"visit", "visits", "appointment", "appointments", "meeting", "meetings"},
	"paperwork":  {"paper", "paperwork", "post", "letter", "letters", "forms", "form"},
	"discount":   {"discount", "discounts", "offer", "offers"},
	"text":       {"text", "texts", "sms"},
	"chat":       {"chat"},
}

// tagPhrases say in words what a known tag involves.
var tagPhrases = map[string]string{
	"phone_call": "phone calls", "email": "email", "visit": "visits", "paperwork": "paperwork",
	"discount": "discounts", "text": "text messages", "chat": "chat",
}

// KnownTags lists the tags Rapport knows words for, in order.
func KnownTags() []string {
	keys := make([]string, 0, len(tagWords))
	for k := range tagWords {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// maxTags bounds how many tags one response has.
const maxTags = 20

// CheckTags validates a response's tags and returns them sorted without
// repeats.
func CheckTags(tags []string) ([]string, error) {
	v := validation{index: -1}
	if len(tags) > maxTags {
		v.add("tags", "must have at most %d entries", maxTags)
	}
	for _, t := range tags {
		if !ValidKey(t) {
			v.add("tags", "%q is not a tag: lower case letters, digits and underscores, starting with a letter (at most 40)", t)
			break
		}
	}
	if err := v.err("response tags"); err != nil {
		return nil, err
	}
	out := append([]string{}, tags...)
	slices.Sort(out)
	return slices.Compact(out), nil
}

// TagMatches reports whether a like or dislike, as written about a customer,
// speaks of what the tag names: "sales calls" and "calls during working
// hours" speak of phone_call, "paper post" of paperwork.
func TagMatches(tag, preference string) bool {
	words := strings.FieldsFunc(strings.ToLower(preference), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-')
	})
	vocab := tagWords[tag]
	if vocab == nil {
		vocab = strings.Split(tag, "_")
	}
	for _, w := range words {
		if slices.Contains(vocab, w) {
			return true
		}
	}
	return false
}

// Group names: the groups of customers whose moments a suggestion weighs.
const (
	groupLike        = "like:"
	groupDislike     = "dislike:"
	groupLikesTag    = "likes:"    // any like that speaks of a known tag
	groupDislikesTag = "dislikes:" // any dislike that speaks of a known tag
	groupStage       = "stage:"
	groupSegment     = "segment:"
)

// SegmentAttribute is the customer attribute whose value is a group for
// suggestions ("retired", "small_business"…).
const SegmentAttribute = "segment"

// CustomerGroups are the groups a customer belongs to for suggestions:
// each like and each dislike as written; each known tag any of their likes
// or dislikes speaks of, however worded ("sales calls" and "calls during
// working hours" are both dislikes:phone_call), so that customers who put
// the same thing differently are counted together; their stage; and their
// segment attribute.
func CustomerGroups(c *Customer) []string {
	var out []string
	for _, l := range c.Preferences.Likes {
		out = append(out, groupLike+normalPreference(l))
	}
	for _, d := range c.Preferences.Dislikes {
		out = append(out, groupDislike+normalPreference(d))
	}
	for tag := range tagWords {
		if slices.ContainsFunc(c.Preferences.Likes, func(l string) bool { return TagMatches(tag, l) }) {
			out = append(out, groupLikesTag+tag)
		}
		if slices.ContainsFunc(c.Preferences.Dislikes, func(d string) bool { return TagMatches(tag, d) }) {
			out = append(out, groupDislikesTag+tag)
		}
	}
	if c.Stage != "" {
		out = append(out, groupStage+string(c.Stage))
	}
	if s, ok := c.Attributes[SegmentAttribute].(string); ok && strings.TrimSpace(s) != "" {
		out = append(out, groupSegment+strings.ToLower(strings.TrimSpace(s)))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// tagPhrase says a tag in words.
func tagPhrase(tag string) string {
	if p, ok := tagPhrases[tag]; ok {
		return p
	}
	return strings.ReplaceAll(tag, "_", " ")
}

// normalPreference is a like or dislike as a group's name: lower case,
// single spaces, so "Phone calls" and "phone  calls" are one group.
func normalPreference(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

// GroupPhrase says who a group is, to follow "customers …".
func GroupPhrase(group string) string {
	switch {
	case group == "":
		return "all customers"
	case strings.HasPrefix(group, groupLike):
		return "customers who like " + strings.TrimPrefix(group, groupLike)
	case strings.HasPrefix(group, groupDislike):
		return "customers who dislike " + strings.TrimPrefix(group, groupDislike)
	case strings.HasPrefix(group, groupLikesTag):
		return "customers who like " + tagPhrase(strings.TrimPrefix(group, groupLikesTag))
	case strings.HasPrefix(group, groupDislikesTag):
		return "customers who dislike " + tagPhrase(strings.TrimPrefix(group, groupDislikesTag))
	case strings.HasPrefix(group, groupStage):
		return "customers in the " + strings.TrimPrefix(group, groupStage) + " stage"
	case strings.HasPrefix(group, groupSegment):
		return "customers in the " + strings.TrimPrefix(group, groupSegment) + " segment"
	}
	return "customers in " + group
}

// OutcomeCounts are moments with their magic and misery.
type OutcomeCounts struct {
	Moments int `json:"moments"`
	Magic   int `json:"magic"`
	Misery  int `json:"misery"`
}

func (c OutcomeCounts) proportion() analytics.Proportion {
	return analytics.Proportion{Successes: c.Magic, Trials: c.Moments}
}

// SuggestionFacts are what the store gathers for one suggestion.
type SuggestionFacts struct {
	Customer  *Customer
	Responses []*Response // the touchpoint's active responses
	Standard  string      // the current standard's response, or ""
	// StandardFor names the segment whose own standard Standard is, or ""
	// for the touchpoint's.
	StandardFor string
	// Groups are every group's counts at the touchpoint by response; the
	// group "" is everyone.
	Groups    map[string]map[string]OutcomeCounts
	Own       map[string]OutcomeCounts // the customer's own moments by response
	CountedAt *time.Time               // when the groups were counted
}

// SuggestedResponse is one response as it would do for this customer.
type SuggestedResponse struct {
	Response    string         `json:"response"`
	Description string         `json:"description"`
	Status      ResponseStatus `json:"status"`
	Tags        []string       `json:"tags"`
	// MagicRate is the estimated chance of magic for customers like this
	// one (the basis group), with its 95% interval and the moments behind it.
	MagicRate   float64  `json:"magic_rate"`
	MagicRateCI Interval `json:"magic_rate_ci"`
	Moments     int      `json:"moments"`
	// PersonalRate is MagicRate moved by the customer's own moments with
	// the response; the list is ranked by it.
	PersonalRate float64       `json:"personal_rate"`
	Own          OutcomeCounts `json:"own"`
	// Conflicts are the customer's dislikes the response involves; Matches
	// their likes.
	Conflicts []string `json:"conflicts"`
	Matches   []string `json:"matches"`
	Reasons   []string `json:"reasons"`
}

// Suggestions are the touchpoint's active responses ranked for one customer.
type Suggestions struct {
	CustomerID string `json:"customer_id"`
	Touchpoint string `json:"touchpoint"`
	// Suggested is the response to use; "" when the touchpoint has no
	// active response.
	Suggested string `json:"suggested"`
	// Personal is true when a response is clearly better for customers
	// like this one (Basis); otherwise the suggestion falls back to the
	// standard.
	Personal bool `json:"personal"`
	// Basis is the group of customers the estimates are for.
	Basis       string              `json:"basis"`
	BasisPhrase string              `json:"basis_phrase"`
	Reason      string              `json:"reason"`
	Standard    *string             `json:"standard"`
	PValue      float64             `json:"p_value"`
	Alpha       float64             `json:"alpha"`
	Method      string              `json:"method"`
	CountedAt   *time.Time          `json:"counted_at"`
	Responses   []SuggestedResponse `json:"responses"`
}

// Find returns the named response's entry, or nil.
func (s *Suggestions) Find(key string) *SuggestedResponse {
	for i := range s.Responses {
		if s.Responses[i].Response == key {
			return &s.Responses[i]
		}
	}
	return nil
}

// Suggestion settings: a claim that one response is best for customers
// like this one is wrong at most 5% of the time, and a group is tested only
// once each response has this many moments in it.
const (
	SuggestionAlpha      = 0.05
	SuggestionMinMoments = 30
)

// SuggestionMethod says how suggestions are made, for their reader.
const SuggestionMethod = "Each response's magic rate within each group of customers (a like, a dislike, a stage, a segment) " +
	"is shrunk towards its rate over all customers by a Beta-binomial prior whose strength is fitted to how much groups differ; " +
	"the customer's own moments then move it as 10 moments would. A response is called clearly better only when, in one of " +
	"the customer's groups, it beats every other response (two-proportion tests, Holm's correction over the responses and " +
	"again over the customer's groups, 5% level); otherwise the suggestion is the standard. Intervals are 95% credible intervals."

// Suggest ranks the touchpoint's active responses for the customer and
// chooses one: the response clearly best for customers like them when
// there is one; else the standard, unless it involves something the
// customer dislikes and another response they like does not do
// significantly worse over all customers.
func Suggest(f SuggestionFacts) *Suggestions {
	s := &Suggestions{CustomerID: f.Customer.ID, Alpha: SuggestionAlpha, Method: SuggestionMethod,
		CountedAt: f.CountedAt, Responses: []SuggestedResponse{}, PValue: 1}
	if len(f.Responses) == 0 {
		s.Reason = "The touchpoint has no active responses to suggest."
		return s
	}
	s.Touchpoint = f.Responses[0].Touchpoint
	if f.Standard != "" {
		st := f.Standard
		s.Standard = &st
	}
	res := analytics.Personal(personalInput(f))
	s.Basis, s.BasisPhrase, s.PValue = res.Group, GroupPhrase(res.Group), res.PValue
	byKey := map[string]*Response{}
	for _, r := range f.Responses {
		byKey[r.Key] = r
	}
	for _, e := range res.Estimates {
		s.Responses = append(s.Responses, suggested(f, byKey[e.Key], e, res.Group))
	}
	s.choose(f, res)
	s.explain(f, res)
	return s
}

func personalInput(f SuggestionFacts) analytics.PersonalInput {
	arms := func(m map[string]OutcomeCounts) []analytics.Arm {
		out := make([]analytics.Arm, 0, len(f.Responses))
		for _, r := range f.Responses {
			out = append(out, analytics.Arm{Key: r.Key, Name: KeyName(r.Key), Magic: m[r.Key].proportion()})
		}
		return out
	}
	in := analytics.PersonalInput{Overall: arms(f.Groups[""]), Own: arms(f.Own), Member: CustomerGroups(f.Customer),
		Alpha: SuggestionAlpha, MinTrials: SuggestionMinMoments}
	names := make([]string, 0, len(f.Groups))
	for g := range f.Groups {
		names = append(names, g)
	}
	slices.Sort(names)
	for _, g := range names {
		if g != "" {
			in.Groups = append(in.Groups, analytics.Group{Name: g, Arms: arms(f.Groups[g])})
		}
	}
	return in
}

func suggested(f SuggestionFacts, r *Response, e analytics.PersonalEstimate, basis string) SuggestedResponse {
	sr := SuggestedResponse{Response: r.Key, Description: r.Description, Status: r.Status, Tags: r.Tags,
		MagicRate: e.Rate, MagicRateCI: Interval{e.Interval.Lo, e.Interval.Hi}, Moments: e.Group.Trials,
		PersonalRate: e.Personal, Own: f.Own[r.Key], Conflicts: []string{}, Matches: []string{}, Reasons: []string{}}
	if sr.Tags == nil {
		sr.Tags = []string{}
	}
	for _, tag := range sr.Tags {
		for _, d := range f.Customer.Preferences.Dislikes {
			if TagMatches(tag, d) && !slices.Contains(sr.Conflicts, d) {
				sr.Conflicts = append(sr.Conflicts, d)
			}
		}
		for _, l := range f.Customer.Preferences.Likes {
			if TagMatches(tag, l) && !slices.Contains(sr.Matches, l) {
				sr.Matches = append(sr.Matches, l)
			}
		}
	}
	sr.Reasons = append(sr.Reasons, fmt.Sprintf("%s were delighted by %s %s of the time (n=%d; estimate %s, 95%% interval %s–%s).",
		capitalise(GroupPhrase(basis)), KeyName(r.Key), pct(e.Group.Rate()), e.Group.Trials, pct(e.Rate), pct(e.Interval.Lo), pct(e.Interval.Hi)))
	if o := sr.Own; o.Moments > 0 {
		sr.Reasons = append(sr.Reasons, fmt.Sprintf("This customer met %s %s: %s, %s.",
			KeyName(r.Key), times(o.Moments), plural(o.Magic, "magic", "magic"), plural(o.Misery, "misery", "misery")))
	}
	for _, d := range sr.Conflicts {
		sr.Reasons = append(sr.Reasons, fmt.Sprintf("It involves what this customer dislikes: %s.", d))
	}
	for _, l := range sr.Matches {
		sr.Reasons = append(sr.Reasons, fmt.Sprintf("It involves what this customer likes: %s.", l))
	}
	return sr
}

// choose sets the suggestion: the group's winner, else the standard, else
// the best ranked; a standard that conflicts with a dislike gives way to a
// liked or neutral response that is not significantly worse overall.
func (s *Suggestions) choose(f SuggestionFacts, res analytics.PersonalResult) {
	if res.Winner != "" {
		s.Suggested, s.Personal = res.Winner, true
		return
	}
	s.Suggested = s.Responses[0].Response
	if f.Standard != "" && s.Find(f.Standard) != nil {
		s.Suggested = f.Standard
	}
	cur := s.Find(s.Suggested)
	if len(cur.Conflicts) == 0 && len(cur.Matches) > 0 {
		return
	}
	// Liked responses first, then the rest, each in ranked order.
	alts := slices.Clone(s.Responses)
	slices.SortStableFunc(alts, func(x, y SuggestedResponse) int { return len(y.Matches) - len(x.Matches) })
	overall := f.Groups[""]
	for _, alt := range alts {
		better := len(cur.Conflicts) > 0 || len(alt.Matches) > 0
		if alt.Response == cur.Response || len(alt.Conflicts) > 0 || !better || overall[alt.Response].Moments < SuggestionMinMoments {
			continue
		}
		c := analytics.CompareProportions(overall[alt.Response].proportion(), overall[cur.Response].proportion(), analytics.Level95)
		if c.PLess >= SuggestionAlpha {
			s.Suggested = alt.Response
			return
		}
	}
}

// explain writes the one line that goes with the suggestion.
func (s *Suggestions) explain(f SuggestionFacts, res analytics.PersonalResult) {
	top := s.Find(s.Suggested)
	var b strings.Builder
	switch {
	case s.Personal:
		runner := s.runnerUp()
		fmt.Fprintf(&b, "%s were delighted by %s %s of the time (n=%d)", capitalise(s.BasisPhrase), KeyName(top.Response),
			pct(f.Groups[s.Basis][top.Response].proportion().Rate()), f.Groups[s.Basis][top.Response].Moments)
		if runner != nil {
			fmt.Fprintf(&b, " against %s for %s", pct(f.Groups[s.Basis][runner.Response].proportion().Rate()), KeyName(runner.Response))
		}
		fmt.Fprintf(&b, "; clearly better for customers like this one (adjusted p = %.2g).", res.PValue)
	case s.Standard != nil && top.Response == *s.Standard && f.StandardFor != "":
		fmt.Fprintf(&b, "No response is clearly better for customers like this one; %s is the standard for customers in %s.", KeyName(top.Response), f.StandardFor)
	case s.Standard != nil && top.Response == *s.Standard:
		fmt.Fprintf(&b, "No response is clearly better for customers like this one; %s is the standard.", KeyName(top.Response))
	case s.Standard != nil:
		fmt.Fprintf(&b, "No response is clearly better for customers like this one; %s rather than the standard %s", KeyName(top.Response), KeyName(*s.Standard))
		if std := s.Find(*s.Standard); std != nil && len(std.Conflicts) > 0 {
			fmt.Fprintf(&b, ", which involves what they dislike (%s)", strings.Join(std.Conflicts, ", "))
		}
		if len(top.Matches) > 0 {
			fmt.Fprintf(&b, "; it involves what they like (%s)", strings.Join(top.Matches, ", "))
		}
		b.WriteString("; not significantly worse over all customers.")
	default:
		fmt.Fprintf(&b, "No response is clearly better for customers like this one and there is no standard; %s has the highest estimate.", KeyName(top.Response))
	}
	if len(top.Conflicts) > 0 && (s.Personal || s.Standard == nil || top.Response == *s.Standard) {
		fmt.Fprintf(&b, " Careful: it involves what this customer dislikes (%s).", strings.Join(top.Conflicts, ", "))
	}
	s.Reason = b.String()
	// The suggestion comes first, the rest as ranked.
	i := slices.IndexFunc(s.Responses, func(r SuggestedResponse) bool { return r.Response == s.Suggested })
	picked := s.Responses[i]
	s.Responses = slices.Insert(slices.Delete(s.Responses, i, i+1), 0, picked)
}

// runnerUp is the best ranked response other than the suggestion.
func (s *Suggestions) runnerUp() *SuggestedResponse {
	for i := range s.Responses {
		if s.Responses[i].Response != s.Suggested {
			return &s.Responses[i]
		}
	}
	return nil
}

func pct(r float64) string { return fmt.Sprintf("%.0f%%", 100*r) }

func times(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// ResponseHistory is what one customer met with one response at one touchpoint.
type ResponseHistory struct {
	Touchpoint string `json:"touchpoint"`
	Response   string `json:"response"`
	OutcomeCounts
}

// DelightedAndDisappointed splits a customer's response history into the
// responses that brought them magic more often than misery and those that
// brought misery more often than magic, each most moments first.
func DelightedAndDisappointed(h []ResponseHistory) (delighted, disappointed []ResponseHistory) {
	for _, r := range h {
		switch {
		case r.Magic > r.Misery:
			delighted = append(delighted, r)
		case r.Misery > r.Magic:
			disappointed = append(disappointed, r)
		}
	}
	byMoments := func(a, b ResponseHistory) int { return b.Moments - a.Moments }
	slices.SortStableFunc(delighted, byMoments)
	slices.SortStableFunc(disappointed, byMoments)
	return delighted, disappointed
}

// SuggestionService suggests responses for a customer.
type SuggestionService interface {
	// ResponseHistory is every response the customer has met, by touchpoint.
	ResponseHistory(ctx context.Context, customerID string) ([]ResponseHistory, error)
	// Suggest ranks the touchpoint's active responses for the customer.
	Suggest(ctx context.Context, customerID, touchpoint string) (*Suggestions, error)
	// SetResponseTags replaces what a response involves.
	SetResponseTags(ctx context.Context, touchpoint, key string, tags []string) (*Response, error)
	// RefreshSuggestionGroups counts every group's moments afresh.
	RefreshSuggestionGroups(ctx context.Context) error
}
