package demo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// Kinds of episode: a contact, or a short run of contacts, that yields moments.
const (
	epEnquiry = iota
	epClaim
	epComplaint
	epOffer     // a cross-sell offer
	epPurchase  // buying a new product
	epDocuments // documents or a statement sent
	epRenewal   // a holding's yearly renewal
	epSettlement
)

// episode is something that will happen to a customer.
type episode struct {
	at      time.Time
	kind    int
	product int // index into productSpecs, or -1
	holding int // index into sim.holdings, or -1
	first   bool
}

// holding is a product a customer holds, with its yearly premium.
type holding struct {
	rapport.Holding
	product int
	premium float64
}

// sim lives one customer's life: their history before the year, then the
// year's episodes in time order, each of which may add moments, promises,
// holdings, stage changes and later episodes.
type sim struct {
	g        *generator
	r        *rand.Rand
	i        int
	c        rapport.Customer
	org      bool
	owner    *member
	warmth   float64 // -1 to 1: how kindly the customer judges the firm
	activity float64 // how often they are in touch, 1 on average
	start    time.Time

	holdings []holding
	held     [6]bool // every product ever held, by productSpecs index
	nHeld    int
	stage    string
	queue    []episode // latest first, so the next is at the end
	last     time.Time // the latest moment so far

	dissolveAt     time.Time
	dissolveReason string
	dissolveText   string

	changes  []rapport.StageChange
	moments  []*rapport.Moment
	promises []*rapport.Promise
}

func newSim(g *generator, i int) *sim {
	s := &sim{
		g:     g,
		r:     rand.New(rand.NewPCG(uint64(g.cfg.Seed)^customerStream, uint64(i))),
		i:     i,
		stage: rapport.StageAwareness,
	}
	s.start = g.created[i]
	if s.start.Before(g.from) {
		s.start = g.from
	}
	return s
}

// live generates the customer and their whole story.
func (s *sim) live() {
	g, r := s.g, s.r
	created := g.created[s.i]
	s.profile(created)
	s.warmth = math.Max(-1, math.Min(1, 0.1+0.35*r.NormFloat64()))
	if s.i > 0 && r.Float64() < referredFraction {
		if ref := g.referrer(r, s.i); ref != "" {
			s.c.ReferredBy = ref
			// Referred customers arrive trusting the firm.
			s.warmth = math.Min(1, s.warmth+0.15)
		}
	}
	s.activity = math.Exp(0.7*r.NormFloat64() - 0.245)
	if s.org {
		s.activity *= 1.8
	}
	s.changes = append(s.changes, s.change("", rapport.StageAwareness, created, rapport.StageReasonCreated))

	if created.Before(g.from) {
		s.history(created)
	} else {
		s.queue = append(s.queue, episode{at: created, kind: epEnquiry, product: -1, holding: -1, first: true})
		if r.Float64() < newConversion {
			at := created.Add(time.Duration((0.5 + math.Min(r.ExpFloat64()*10, 60)) * float64(day)))
			s.push(episode{at: at, kind: epPurchase, product: -1, holding: -1})
		}
	}
	s.plan()
	s.play()
}

// profile makes up who the customer is.
func (s *sim) profile(created time.Time) {
	g, r := s.g, s.r
	s.org = r.Float64() < 0.12
	reg := regions[pick(r, regionWeights)]
	c := &s.c
	c.ID = newID(r, created)
	c.ExternalID = fmt.Sprintf("HM-%07d", 1000001+s.i)
	c.CreatedAt = created
	c.Attributes = map[string]any{"region": reg.name, "marketing_opt_in": r.Float64() < 0.55}
	phone := fmt.Sprintf("%s%03d", reg.prefix, r.IntN(1000))
	if s.org {
		trade := orgTrade[r.IntN(len(orgTrade))]
		first := orgFirst[r.IntN(len(orgFirst))]
		c.Kind = rapport.KindOrganisation
		c.Name = first + " " + trade.trade + " " + orgSuffix[r.IntN(len(orgSuffix))]
		slug := strings.ToLower(strings.NewReplacer(" ", "-", "é", "e").Replace(first + " " + trade.trade))
		c.Email = []string{"office", "accounts", "hello", "admin"}[r.IntN(4)] + "@" + slug + ".example"
		c.Phone = phone
		c.Attributes["sector"] = trade.sector
		c.Attributes["employees"] = []string{"1-9", "10-49", "50-249"}[pick(r, []float64{0.6, 0.3, 0.1})]
		c.Attributes["segment"] = "small_business"
		if c.Attributes["employees"] == "50-249" {
			c.Attributes["segment"] = "mid_market"
		}
	} else {
		first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
		c.Kind = rapport.KindPerson
		c.Name = first + " " + last
		if r.Float64() < 0.93 {
			local := strings.ToLower(first + "." + last)
			if r.Float64() < 0.6 {
				local += fmt.Sprint(r.IntN(90) + 10)
			}
			c.Email = local + "@" + []string{"example.com", "example.net", "example.org"}[r.IntN(3)]
		}
		if r.Float64() < 0.95 {
			if r.Float64() < 0.65 {
				phone = fmt.Sprintf("%s%03d", mobilePrefix, r.IntN(1000))
			}
			c.Phone = phone
		}
		band := pick(r, ageWeights)
		c.Attributes["age_band"] = ageBands[band]
		switch {
		case band >= 5:
			c.Attributes["segment"] = "retired"
		case band <= 1 && r.Float64() < 0.7:
			c.Attributes["segment"] = "young_professional"
		case r.Float64() < 0.3:
			c.Attributes["segment"] = "affluent"
		case r.Float64() < 0.5:
			c.Attributes["segment"] = "family"
		default:
			c.Attributes["segment"] = "mass_market"
		}
	}
	c.Preferences = rapport.Preferences{Likes: choose(r, likes, r.IntN(3)), Dislikes: choose(r, dislikes, r.IntN(3))}
	s.owner = g.owners[r.IntN(len(g.owners))]
	if s.org {
		// The admin looks after the business customers herself.
		s.owner = g.admin
	}
	c.OwnerID = s.owner.user.ID
}

// history gives a customer who joined before the year the products and
// stages they had reached by its start.
func (s *sim) history(created time.Time) {
	g, r := s.g, s.r
	if r.Float64() < prospectFraction {
		return
	}
	tenure := g.from.Sub(created)
	k := 1 + pick(r, []float64{0.42, 0.30, 0.17, 0.08, 0.03})
	starts := make([]time.Time, k)
	starts[0] = created.Add(time.Duration(r.Float64() * float64(min(60*day, tenure))))
	for j := 1; j < k; j++ {
		starts[j] = starts[0].Add(time.Duration(r.Float64() * float64(g.from.Sub(starts[0]))))
	}
	slices.SortFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
	for _, at := range starts {
		p := s.nextProduct()
		if p < 0 {
			break
		}
		h := s.take(p, at.Truncate(time.Second))
		if productSpecs[p].key == "travel" && r.Float64() < 0.35 {
			if end := at.Add(time.Duration(7+r.IntN(50)) * day); end.Before(g.from) {
				h.EndedAt = &end
			}
		}
	}
	// Two products kept for three years is commitment too.
	if s.stage == rapport.StageExpansion && s.warmth > -0.1 {
		if at := created.Add(3 * year); at.Before(g.from) && at.After(s.changes[len(s.changes)-1].ChangedAt) {
			s.changes = append(s.changes, s.change(s.stage, rapport.StageCommitment, at, "two products for three years"))
			s.stage = rapport.StageCommitment
		}
	}
}

// take gives the customer product p from time at, moving them on a stage.
func (s *sim) take(p int, at time.Time) *holding {
	spec := productSpecs[p]
	premium := spec.premium * (0.7 + 0.7*s.r.Float64())
	if s.org {
		premium *= 3 + 9*s.r.Float64()
	}
	s.holdings = append(s.holdings, holding{
		Holding: rapport.Holding{ID: newID(s.r, at), CustomerID: s.c.ID, Product: spec.key, StartedAt: at},
		product: p,
		premium: math.Round(premium*100) / 100,
	})
	if !s.held[p] {
		s.held[p] = true
		s.nHeld++
		to, why := "", ""
		switch s.nHeld {
		case 1:
			to, why = rapport.StageExploration, "first product: "+strings.ToLower(spec.name)
		case 2:
			to, why = rapport.StageExpansion, "second product: "+strings.ToLower(spec.name)
		case 3:
			to, why = rapport.StageCommitment, "third product: "+strings.ToLower(spec.name)
		}
		if to != "" && stageIndex(to) > stageIndex(s.stage) {
			s.changes = append(s.changes, s.change(s.stage, to, at, why))
			s.stage = to
		}
	}
	return &s.holdings[len(s.holdings)-1]
}

// nextProduct picks a product the customer has never held, or -1. Home and
// motor sell to each other's holders.
func (s *sim) nextProduct() int {
	w := make([]float64, len(productSpecs))
	for p, spec := range productSpecs {
		switch {
		case s.held[p] || (s.org && !spec.forOrgs):
		case s.nHeld == 0 && s.org:
			w[p] = firstProductOrg[p]
		case s.nHeld == 0:
			w[p] = firstProductPerson[p]
		default:
			w[p] = nextProduct[p]
			if (spec.key == "home" && s.held[0]) || (spec.key == "motor" && s.held[1]) {
				w[p] *= 8
			}
		}
	}
	var sum float64
	for _, x := range w {
		sum += x
	}
	if sum == 0 {
		return -1
	}
	return pick(s.r, w)
}

// plan queues the year's renewals and spontaneous episodes, and the
// customer's chance of leaving for reasons no moment explains.
func (s *sim) plan() {
	g, r := s.g, s.r
	// Each holding is renewed on its anniversaries, with an invitation a few
	// weeks before, including the invitations for renewals due just after Now.
	for j := range s.holdings {
		h := &s.holdings[j]
		if h.EndedAt != nil {
			continue
		}
		years := int(math.Ceil(g.from.Sub(h.StartedAt).Hours() / 24 / 365))
		for due := h.StartedAt.Add(time.Duration(years) * year); due.Before(g.now.Add(28 * day)); due = due.Add(year) {
			invite := due.Add(-time.Duration(7+r.IntN(21)) * day)
			if invite.Before(g.from) {
				invite = g.from.Add(time.Duration(r.Float64() * float64(due.Sub(g.from))))
			}
			s.push(episode{at: invite, kind: epRenewal, product: h.product, holding: j})
		}
	}
	span := g.now.Sub(s.start)
	n := poisson(r, g.episodeRate*s.activity*span.Hours()/24)
	for range n {
		at := s.start.Add(time.Duration(r.Float64() * float64(span)))
		s.push(episode{at: at, kind: pick(r, spontaneousKinds), product: -1, holding: -1})
	}
	// The storm: holders of home and motor cover claim.
	if s.start.Before(g.stormAt) && r.Float64() < 0.22 {
		for _, h := range s.holdings {
			if h.EndedAt == nil && (h.product == 0 || h.product == 1) {
				at := g.stormAt.Add(time.Duration(r.Float64() * float64(stormLasts)))
				s.push(episode{at: at, kind: epClaim, product: h.product, holding: -1})
				break
			}
		}
	}
	if r.Float64() < baselineDissolution*span.Hours()/window.Hours() {
		reason := []string{rapport.DissolutionDefected, rapport.DissolutionLowVolume, rapport.DissolutionOther, rapport.DissolutionFraud}[pick(r, []float64{0.35, 0.3, 0.27, 0.08})]
		s.dissolve(s.start.Add(time.Duration(r.Float64()*float64(span))), reason, -1)
	}
}

// spontaneousKinds weighs the kinds of episode a customer starts, in kind order.
var spontaneousKinds = []float64{0.42, 0.17, 0.04, 0.12, 0.012, 0.13, 0, 0}

// push queues an episode, keeping the queue latest first.
func (s *sim) push(e episode) {
	i, _ := slices.BinarySearchFunc(s.queue, e.at, func(x episode, t time.Time) int { return t.Compare(x.at) })
	// Among equal times, the one pushed first happens first.
	for i < len(s.queue) && s.queue[i].at.Equal(e.at) {
		i++
	}
	s.queue = slices.Insert(s.queue, i, e)
}

// play runs the queued episodes in time order until the customer dissolves
// or the year ends.
func (s *sim) play() {
	for len(s.queue) > 0 {
		e := s.queue[len(s.queue)-1]
		s.queue = s.queue[:len(s.queue)-1]
		if !s.dissolveAt.IsZero() && !e.at.Before(s.dissolveAt) {
			break
		}
		if e.at.After(s.g.latest) || e.at.Before(s.start) {
			continue
		}
		switch e.kind {
		case epEnquiry:
			s.enquiry(e)
		case epClaim:
			s.claim(e)
		case epComplaint:
			s.complaint(e)
		case epOffer:
			s.offer(e)
		case epPurchase:
			s.purchase(e)
		case epDocuments:
			s.documents(e)
		case epRenewal:
			s.renewal(e)
		case epSettlement:
			s.settlement(e)
		}
	}
	if !s.dissolveAt.IsZero() && !s.dissolveAt.After(s.g.now) {
		at := s.dissolveAt
		for j := range s.holdings {
			if h := &s.holdings[j]; h.EndedAt == nil || h.EndedAt.After(at) {
				h.EndedAt = &at
			}
		}
		ch := s.change(s.stage, rapport.StageDissolution, at, s.dissolveText)
		ch.DissolutionReason = s.dissolveReason
		s.changes = append(s.changes, ch)
		s.stage = rapport.StageDissolution
	}
}

// dissolve plans the customer's leaving at time at, unless they leave sooner.
// product is what the reason's text names, or -1.
func (s *sim) dissolve(at time.Time, reason string, product int) {
	at = at.Truncate(time.Second)
	if !s.dissolveAt.IsZero() && !at.Before(s.dissolveAt) {
		return
	}
	s.dissolveAt, s.dissolveReason = at, reason
	texts := dissolutionTexts[reason]
	if product < 0 {
		// Without a product, only the texts that name none fit.
		texts = slices.DeleteFunc(slices.Clone(texts), func(t string) bool { return strings.Contains(t, "%s") })
	}
	s.dissolveText = fill(texts[s.r.IntN(len(texts))], product)
}

// activeProduct returns a product the customer holds now, preferring one
// that can be claimed on when claimable, or -1.
func (s *sim) activeProduct(claimable bool) int {
	var ps []int
	for _, h := range s.holdings {
		if h.EndedAt == nil && (!claimable || productSpecs[h.product].claimable) {
			ps = append(ps, h.product)
		}
	}
	if len(ps) == 0 {
		return -1
	}
	return ps[s.r.IntN(len(ps))]
}

func (s *sim) enquiry(e episode) {
	r := s.r
	ch := []rapport.Channel{rapport.ChannelPhone, rapport.ChannelChat, rapport.ChannelEmail, rapport.ChannelWeb, rapport.ChannelInPerson}[pick(r, []float64{0.33, 0.2, 0.2, 0.17, 0.1})]
	p := s.activeProduct(false)
	if p < 0 {
		p = s.nextProduct()
	}
	s.conversation(e.at, ch, teamCare, "query", p, e.first, [2]float64{0.25, 0.11})
}

func (s *sim) claim(e episode) {
	r := s.r
	p := e.product
	if p < 0 {
		if p = s.activeProduct(true); p < 0 {
			s.enquiry(e)
			return
		}
	}
	ch := rapport.ChannelPhone
	if r.Float64() < 0.35 {
		ch = rapport.ChannelInPerson
	}
	odds := [2]float64{0.26, 0.11}
	if !e.at.Before(s.g.stormAt) && e.at.Before(s.g.stormEnd.Add(14*day)) {
		odds = [2]float64{0.12, 0.30} // the storm's backlog
	}
	svc := s.conversation(e.at, ch, teamClaims, "service", p, false, odds)
	if svc == nil {
		return
	}
	if r.Float64() < 0.65 {
		s.push(episode{at: svc.OccurredAt.Add(time.Duration(3+r.IntN(28)) * day), kind: epSettlement, product: p, holding: -1})
	}
	if svc.Outcome == rapport.OutcomeMisery && r.Float64() < 0.25 {
		s.push(episode{at: svc.OccurredAt.Add(time.Duration(1+r.IntN(10)) * day), kind: epComplaint, product: p, holding: -1})
	}
}

func (s *sim) complaint(e episode) {
	r := s.r
	ch := []rapport.Channel{rapport.ChannelPhone, rapport.ChannelEmail, rapport.ChannelChat, rapport.ChannelInPerson}[pick(r, []float64{0.4, 0.3, 0.2, 0.1})]
	p := e.product
	if p < 0 {
		p = s.activeProduct(false)
	}
	t := s.workTime(e.at)
	if t.IsZero() {
		return
	}
	// Since the trial began, half the complaints get the call-back.
	response := responseApology
	if t.After(s.g.now.Add(-trialStarted)) && r.Float64() < 0.5 {
		response = responseCallBack
	}
	odds := complaintOdds(response, s.dislikesCalls())
	staff := s.g.staffFor(r, teamCare, s.owner, t)
	m := s.moment(t, "complaint", ch, staff, p, odds)
	if m == nil {
		return
	}
	m.Response = response
	if r.Float64() < 0.4 {
		s.moment(t.Add(time.Duration(4+r.IntN(20))*time.Minute), "closing", ch, staff, p, [2]float64{0.26, 0.07})
	}
}

// complaintOdds are the chances of magic and misery of a complaint handled
// with a response: planted pattern (f). Customers who dislike calls are
// delighted by the email apology and let down by a call-back; the others
// the reverse.
func complaintOdds(response string, dislikesCalls bool) [2]float64 {
	switch {
	case response == responseCallBack && dislikesCalls:
		return [2]float64{0.06, 0.45}
	case response == responseCallBack:
		return [2]float64{0.50, 0.10}
	case dislikesCalls:
		return [2]float64{0.48, 0.06}
	}
	return [2]float64{0.05, 0.42}
}

// dislikesCalls reports whether any of the customer's dislikes speaks of
// phone calls, as suggestions read them.
func (s *sim) dislikesCalls() bool {
	for _, d := range s.c.Preferences.Dislikes {
		if rapport.TagMatches("phone_call", d) {
			return true
		}
	}
	return false
}

func (s *sim) offer(e episode) {
	r := s.r
	p := s.nextProduct()
	if p < 0 {
		s.documents(e)
		return
	}
	ch := []rapport.Channel{rapport.ChannelEmail, rapport.ChannelPhone, rapport.ChannelWeb}[pick(r, []float64{0.5, 0.3, 0.2})]
	t := s.workTime(e.at)
	if t.IsZero() {
		return
	}
	var staff *member
	if ch == rapport.ChannelPhone || (ch == rapport.ChannelEmail && r.Float64() < 0.4) {
		staff = s.g.staffFor(r, teamSales, s.owner, t)
	}
	m := s.moment(t, "offer", ch, staff, p, [2]float64{0.2, 0.1})
	if m == nil {
		return
	}
	accept := 0.08 + 0.06*s.warmth
	if m.Outcome == rapport.OutcomeMagic {
		accept += 0.2
	} else if m.Outcome == rapport.OutcomeMisery {
		accept = 0.02
	}
	if r.Float64() < accept {
		s.push(episode{at: t.Add(time.Duration(1+r.IntN(6*24)) * time.Hour), kind: epPurchase, product: p, holding: -1})
	}
}

func (s *sim) purchase(e episode) {
	r := s.r
	p := e.product
	if p < 0 || s.held[p] {
		if p = s.nextProduct(); p < 0 {
			s.enquiry(e)
			return
		}
	}
	ch := []rapport.Channel{rapport.ChannelPhone, rapport.ChannelWeb, rapport.ChannelInPerson}[pick(r, []float64{0.4, 0.42, 0.18})]
	m := s.conversation(e.at, ch, teamSales, "purchase", p, false, [2]float64{0.3, 0.07})
	if m == nil {
		return
	}
	h := s.take(p, m.OccurredAt)
	m.Revenue = h.premium
	s.push(episode{at: m.OccurredAt.Add(time.Duration(r.IntN(48)+1) * time.Hour), kind: epDocuments, product: p, holding: -1})
}

func (s *sim) documents(e episode) {
	r := s.r
	p := e.product
	if p < 0 {
		if p = s.activeProduct(false); p < 0 {
			s.enquiry(e)
			return
		}
	}
	ch := []rapport.Channel{rapport.ChannelSystem, rapport.ChannelEmail, rapport.ChannelWeb}[pick(r, []float64{0.55, 0.32, 0.13})]
	t := e.at
	var staff *member
	if ch == rapport.ChannelEmail && r.Float64() < 0.5 {
		if t = s.workTime(t); t.IsZero() {
			return
		}
		staff = s.g.staffFor(r, teamCare, s.owner, t)
	}
	s.moment(t, "delivery", ch, staff, p, [2]float64{0.2, 0.07})
}

func (s *sim) settlement(e episode) {
	t := e.at
	if s.r.Float64() < 0.6 {
		s.moment(t, "delivery", rapport.ChannelSystem, nil, e.product, [2]float64{0.24, 0.08})
		return
	}
	if t = s.workTime(t); t.IsZero() {
		return
	}
	s.moment(t, "delivery", rapport.ChannelEmail, s.g.staffFor(s.r, teamClaims, nil, t), e.product, [2]float64{0.24, 0.08})
}

// renewal invites the customer to renew a holding; most accept, and the
// revenue lands on the offer they took.
func (s *sim) renewal(e episode) {
	r := s.r
	h := &s.holdings[e.holding]
	if h.EndedAt != nil {
		return
	}
	ch := []rapport.Channel{rapport.ChannelEmail, rapport.ChannelPhone, rapport.ChannelWeb}[pick(r, []float64{0.6, 0.28, 0.12})]
	t := e.at
	var staff *member
	if ch == rapport.ChannelPhone {
		if t = s.workTime(t); t.IsZero() {
			return
		}
		staff = s.g.staffFor(r, teamSales, s.owner, t)
	}
	m := s.moment(t, "offer", ch, staff, h.product, [2]float64{0.18, 0.12})
	if m == nil {
		return
	}
	accept := 0.94 + 0.04*s.warmth
	if m.Outcome == rapport.OutcomeMisery {
		accept -= 0.25
	}
	if r.Float64() < accept {
		h.premium = math.Round(h.premium*(0.92+0.16*r.Float64())*100) / 100
		m.Revenue = h.premium
		s.push(episode{at: t.Add(time.Duration(1+r.IntN(72)) * time.Hour), kind: epDocuments, product: h.product, holding: -1})
		return
	}
	due := h.StartedAt
	for due.Before(t) {
		due = due.Add(year)
	}
	if due.After(s.g.now) {
		return // the cover runs until its renewal date, still to come
	}
	h.EndedAt = &due
	if s.activeProduct(false) < 0 && r.Float64() < 0.6 {
		s.dissolve(due.Add(time.Duration(r.IntN(10*24))*time.Hour), rapport.DissolutionDefected, h.product)
	}
}

// conversation is a contact with a member of team on a staffed channel: a
// greeting, the main moment and a closing, or only the main moment by email
// or on the web. It returns the main moment, or nil when none happened.
func (s *sim) conversation(at time.Time, ch rapport.Channel, team, tp string, p int, first bool, odds [2]float64) *rapport.Moment {
	r := s.r
	var staff *member
	if ch != rapport.ChannelWeb {
		if at = s.workTime(at); at.IsZero() {
			return nil
		}
		staff = s.g.staffFor(r, team, s.owner, at)
	}
	live := ch == rapport.ChannelPhone || ch == rapport.ChannelChat || ch == rapport.ChannelInPerson
	if live && (first || r.Float64() < 0.6) {
		s.moment(at, "greeting", ch, staff, p, [2]float64{0.28, 0.06})
		at = at.Add(time.Duration(1+r.IntN(4)) * time.Minute)
	}
	m := s.moment(at, tp, ch, staff, p, odds)
	closing := 0.25
	if live {
		closing = 0.65
	}
	if m != nil && ch != rapport.ChannelWeb && r.Float64() < closing {
		s.moment(at.Add(time.Duration(3+r.IntN(25))*time.Minute), "closing", ch, staff, p, [2]float64{0.27, 0.06})
	}
	return m
}

// workTime moves t into office hours (8:00 to 18:00 on the firm's
// weekdays, those of the anchor), on the same day or, at a weekend, a day
// of the week before, for contacts with staff. It returns zero when that
// falls outside the customer's time. A moment moved before an earlier one is put back in
// order by moment.
func (s *sim) workTime(t time.Time) time.Time {
	d := t.Truncate(24 * time.Hour)
	switch d.Add(-s.g.moved).Weekday() {
	case time.Saturday:
		d = d.Add(-time.Duration(1+s.r.IntN(5)) * day)
	case time.Sunday:
		d = d.Add(-time.Duration(2+s.r.IntN(5)) * day)
	}
	if h := t.Sub(d); d != t.Truncate(24*time.Hour) || h < 8*time.Hour || h >= 18*time.Hour {
		t = d.Add(8*time.Hour + time.Duration(s.r.IntN(10*3600))*time.Second)
	}
	if t.Before(s.start) {
		t = s.start
	}
	if t.After(s.g.latest) || (!s.dissolveAt.IsZero() && !t.Before(s.dissolveAt)) {
		return time.Time{}
	}
	return t
}

// Chances that a moment's customer gives a rating, by channel.
var ratedChance = map[rapport.Channel]float64{
	rapport.ChannelInPerson: 0.85, rapport.ChannelPhone: 0.85, rapport.ChannelChat: 0.85,
	rapport.ChannelEmail: 0.72, rapport.ChannelWeb: 0.62, rapport.ChannelSystem: 0.38,
}

// moment records one moment. odds are the chances of magic and misery before
// the customer's warmth and the staff member's skill shift them. It returns
// nil when the customer has left by then.
func (s *sim) moment(at time.Time, tp string, ch rapport.Channel, staff *member, p int, odds [2]float64) *rapport.Moment {
	r := s.r
	// Office hours can move a contact past a later one; keep the
	// customer's moments, and the holdings and stages they cause, in order.
	if at.Before(s.last) {
		at = s.last.Add(time.Duration(1+r.IntN(30)) * time.Minute)
	}
	if at.After(s.g.now) || (!s.dissolveAt.IsZero() && !at.Before(s.dissolveAt)) {
		return nil
	}
	s.last = at
	magic, misery := odds[0]*(1+0.5*s.warmth), odds[1]*(1-0.4*s.warmth)
	if staff != nil {
		misery *= staff.skill
	}
	truth := rapport.OutcomeNeutral
	switch u := r.Float64(); {
	case u < magic:
		truth = rapport.OutcomeMagic
	case u < magic+misery:
		truth = rapport.OutcomeMisery
	}
	m := &rapport.Moment{
		ID: newID(r, at), CustomerID: s.c.ID, Touchpoint: tp, Channel: ch, OccurredAt: at,
	}
	if staff != nil {
		m.StaffID = staff.user.ID
		m.RecordedAt = at.Add(time.Duration(60+r.IntN(20*60)) * time.Second)
	} else {
		m.RecordedAt = at.Add(time.Duration(r.IntN(5000)) * time.Millisecond)
	}
	if r.Float64() < ratedChance[ch] {
		rating := ratingFor(r, truth)
		m.Rating = &rating
		m.Outcome, m.OutcomeSource = rapport.DeriveOutcome("", m.Rating)
		if r.Float64() < 0.4 && (tp == "query" || tp == "complaint" || tp == "service" || tp == "purchase") {
			effort := effortFor(r, truth)
			m.Effort = &effort
		}
		if r.Float64() < 0.3 && (tp == "closing" || tp == "delivery" || tp == "service") {
			nps := npsFor(r, truth, s.warmth)
			m.NPS = &nps
		}
	} else if staff != nil && r.Float64() < 0.45 {
		m.Outcome, m.OutcomeSource = rapport.DeriveOutcome(truth, nil)
	} else {
		m.Outcome, m.OutcomeSource = rapport.DeriveOutcome("", nil)
	}
	if staff != nil && r.Float64() < 0.7 {
		texts := notes[tp][outcomeIndex(truth)]
		m.Notes = fill(texts[r.IntN(len(texts))], p)
	}
	m.Cost = costFor(r, tp, ch)
	s.moments = append(s.moments, m)

	if m.Outcome == rapport.OutcomeMisery {
		chance := otherMiseryDissolution
		if tp == "service" {
			chance = serviceMiseryDissolution
		}
		if r.Float64() < chance {
			reason := rapport.DissolutionDissatisfied
			if r.Float64() < 0.3 {
				reason = rapport.DissolutionDefected
			}
			s.dissolve(at.Add(time.Duration(4*24+r.IntN(76*24))*time.Hour), reason, p)
		}
	}
	if staff != nil && ch != rapport.ChannelWeb {
		if texts := promiseTexts[tp]; texts != nil && r.Float64() < promiseChance[tp] {
			s.promise(m, staff, fill(texts[r.IntN(len(texts))], p))
		}
	}
	return m
}

// promiseChance is how often staff promise something in a moment, by touchpoint.
var promiseChance = map[string]float64{"service": 0.35, "complaint": 0.3, "query": 0.07}

// promise records what staff promised in moment m, and whether they kept it
// if it has fallen due. A broken promise often brings a complaint.
func (s *sim) promise(m *rapport.Moment, staff *member, text string) {
	r := s.r
	due := m.OccurredAt.Truncate(24 * time.Hour).Add(time.Duration(1+r.IntN(8))*day + 17*time.Hour)
	p := &rapport.Promise{
		ID: newID(r, m.OccurredAt), CustomerID: s.c.ID, StaffID: staff.user.ID, MomentID: m.ID,
		Text: text, DueAt: due, Status: rapport.PromiseOpen, CreatedAt: m.RecordedAt,
	}
	if due.Before(s.g.now) {
		var resolved time.Time
		if r.Float64() < staff.breakRate {
			p.Status = rapport.PromiseBroken
			resolved = due.Add(time.Duration(2*3600+r.IntN(70*3600)) * time.Second)
			if r.Float64() < 0.3 {
				s.push(episode{at: due.Add(time.Duration(12+r.IntN(84)) * time.Hour), kind: epComplaint, product: -1, holding: -1})
			}
		} else {
			p.Status = rapport.PromiseKept
			resolved = m.RecordedAt.Add(time.Duration((0.1 + 0.85*r.Float64()) * float64(due.Sub(m.RecordedAt))))
		}
		resolved = resolved.Truncate(time.Second)
		if resolved.After(s.g.now) {
			resolved = s.g.now
		}
		p.ResolvedAt = &resolved
	}
	s.promises = append(s.promises, p)
}

// change returns a stage change of this customer made by the generator.
func (s *sim) change(from, to string, at time.Time, reason string) rapport.StageChange {
	return rapport.StageChange{
		ID: newID(s.r, at), CustomerID: s.c.ID, From: rapport.Stage(from), To: rapport.Stage(to), Reason: reason,
		ChangedBy: generatedBy, ChangedAt: at,
	}
}

// write hands the customer and their story to the loader, parents first.
func (s *sim) write(ctx context.Context) error {
	g, l := s.g, s.g.l
	last := s.changes[len(s.changes)-1]
	s.c.Stage, s.c.UpdatedAt = rapport.Stage(s.stage), last.ChangedAt
	if err := l.AddCustomer(ctx, &s.c); err != nil {
		return err
	}
	ref := custRef{id: s.c.ID, created: s.c.CreatedAt.Unix(), warmth: float32(s.warmth)}
	if s.stage == rapport.StageDissolution {
		ref.dissolved = last.ChangedAt.Unix()
		g.sum.Dissolutions++
	}
	g.refs = append(g.refs, ref)
	if mine := g.mine[s.c.OwnerID]; g.logins[s.c.OwnerID] != nil && len(mine) < 6 && ref.dissolved == 0 {
		g.mine[s.c.OwnerID] = append(mine, s.c.ID)
	}
	g.sum.Customers++
	if s.org {
		g.sum.Organisations++
	}
	if s.c.ReferredBy != "" {
		g.sum.Referred++
	}
	for j := range s.holdings {
		if err := l.AddHolding(ctx, &s.holdings[j].Holding); err != nil {
			return err
		}
	}
	g.sum.Holdings += len(s.holdings)
	for _, m := range s.moments {
		if err := l.AddMoment(ctx, m); err != nil {
			return err
		}
		if m.Outcome == rapport.OutcomeMisery && !m.OccurredAt.Before(g.now.Add(-caseWindow)) {
			g.misery = append(g.misery, miseryMoment{id: m.ID, recorded: m.RecordedAt, owner: s.c.OwnerID, touchpoint: m.Touchpoint})
		}
	}
	g.sum.Moments += len(s.moments)
	for j := range s.changes {
		if err := l.AddStageChange(ctx, &s.changes[j]); err != nil {
			return err
		}
	}
	g.sum.StageChanges += len(s.changes)
	for _, p := range s.promises {
		if err := l.AddPromise(ctx, p); err != nil {
			return err
		}
	}
	g.sum.Promises += len(s.promises)
	return nil
}

func stageIndex(stage string) int { return slices.Index(rapport.Stages, rapport.Stage(stage)) }

func outcomeIndex(o rapport.Outcome) int {
	switch o {
	case rapport.OutcomeMagic:
		return 0
	case rapport.OutcomeMisery:
		return 2
	}
	return 1
}

func ratingFor(r *rand.Rand, o rapport.Outcome) int {
	switch o {
	case rapport.OutcomeMagic:
		return 5
	case rapport.OutcomeMisery:
		return 1 + pick(r, []float64{0.45, 0.55})
	}
	return 3 + pick(r, []float64{0.35, 0.65})
}

// effortFor returns how hard the customer found it: 1 effortless to 7 very hard.
func effortFor(r *rand.Rand, o rapport.Outcome) int {
	switch o {
	case rapport.OutcomeMagic:
		return 1 + r.IntN(2)
	case rapport.OutcomeMisery:
		return 5 + r.IntN(3)
	}
	return 2 + r.IntN(3)
}

func npsFor(r *rand.Rand, o rapport.Outcome, warmth float64) int {
	x := 7.2 + 2*warmth + 1.2*r.NormFloat64()
	switch o {
	case rapport.OutcomeMagic:
		x += 1.8
	case rapport.OutcomeMisery:
		x -= 4
	}
	return int(math.Max(0, math.Min(10, math.Round(x))))
}

// costFor is the cost to serve of one moment: people cost more than systems,
// and claims and complaints take longest.
func costFor(r *rand.Rand, tp string, ch rapport.Channel) float64 {
	var lo, hi float64
	switch ch {
	case rapport.ChannelInPerson:
		lo, hi = 25, 45
	case rapport.ChannelPhone:
		lo, hi = 6, 12
	case rapport.ChannelEmail:
		lo, hi = 3, 6
	case rapport.ChannelChat:
		lo, hi = 2, 5
	case rapport.ChannelWeb:
		lo, hi = 0.2, 0.6
	default:
		lo, hi = 0.05, 0.2
	}
	x := lo + (hi-lo)*r.Float64()
	switch tp {
	case "service":
		x += 20 + 70*r.Float64()
	case "complaint":
		x += 8 + 17*r.Float64()
	}
	return math.Round(x*100) / 100
}

// fill puts product p's name into a text that takes one.
func fill(text string, p int) string {
	if !strings.Contains(text, "%s") {
		return text
	}
	name := "policy"
	if p >= 0 {
		name = strings.ToLower(productSpecs[p].key)
	}
	return fmt.Sprintf(text, name)
}

// pick returns an index with probability proportional to its weight.
func pick(r *rand.Rand, weights []float64) int {
	var sum float64
	for _, w := range weights {
		sum += w
	}
	u := r.Float64() * sum
	for i, w := range weights {
		if u < w {
			return i
		}
		u -= w
	}
	return len(weights) - 1
}

// choose returns n different entries of list, in list order.
func choose(r *rand.Rand, list []string, n int) []string {
	out := []string{}
	for i, x := range list {
		if r.IntN(len(list)-i) < n-len(out) {
			out = append(out, x)
		}
	}
	return out
}

// poisson draws from a Poisson distribution, by a normal approximation
// when the mean is large.
func poisson(r *rand.Rand, mean float64) int {
	if mean <= 0 {
		return 0
	}
	if mean > 30 {
		return max(0, int(math.Round(mean+math.Sqrt(mean)*r.NormFloat64())))
	}
	limit, k, prod := math.Exp(-mean), 0, r.Float64()
	for prod > limit {
		k++
		prod *= r.Float64()
	}
	return k
}

var regionWeights = func() []float64 {
	w := make([]float64, len(regions))
	for i, r := range regions {
		w[i] = r.weight
	}
	return w
}()
