package demo

import (
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// Streams of the seeded generator: the firm itself, and one per customer.
const (
	firmStream     = 0x4841524255524d55
	customerStream = 0x9e3779b97f4a7c15
)

// The shape of the customer base.
const (
	generatedBy              = "demo"
	demoLoginName            = "harriet"
	window                   = 365 * day
	existingFraction         = 0.76  // customers who joined before the year began
	prospectFraction         = 0.06  // of those, the ones who never bought
	newConversion            = 0.72  // new customers who buy within weeks
	referredFraction         = 0.105 // asked of every customer but the first few
	baselineDissolution      = 0.02  // a year's dissolutions for reasons other than moments
	serviceMiseryDissolution = 0.30  // planted pattern (a)
	otherMiseryDissolution   = 0.01
	stormStarts              = 130 * day // before Now
	stormLasts               = 14 * day
	caseWindow               = 30 * day // misery this recent has a recovery case
)

// Calibration of the moment count: how many moments a customer's year gives
// besides the spontaneous episodes, and how many moments an episode gives on
// average. Measured on the default firm; TestCounts keeps them honest.
const (
	fixedMomentsExisting = 6.0
	fixedMomentsNew      = 6.5
	momentsPerEpisode    = 1.68
)

// anchor is the day the firm is made for before it moves to Config.Now: the
// firm's weekdays are the anchor's.
var anchor = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// member is a member of staff with what the generator needs to know of them.
type member struct {
	user      rapport.User
	joined    time.Time
	breakRate float64
	skill     float64 // multiplies the chance of misery in their moments
}

// custRef is what later customers need to know of an earlier one, to be referred by them.
type custRef struct {
	id        string
	created   int64 // Unix seconds
	dissolved int64 // Unix seconds; 0 while not dissolved
	warmth    float32
}

// generator builds the firm and hands its rows to the loader.
type generator struct {
	cfg      Config
	now      time.Time
	moved    time.Duration // how far the firm moved from anchor: whole days
	from     time.Time     // the start of the year of moments
	latest   time.Time     // no episode starts after this
	stormAt  time.Time
	stormEnd time.Time
	l        *sqlstore.Loader
	r        *rand.Rand // the firm's own stream

	staff  []*member
	admin  *member
	logins map[string]*member // the staff who sign in, by user id
	// misery holds the misery moments of the last caseWindow, whose cases
	// resolveCases resolves or leaves open.
	misery []miseryMoment
	// mine holds a few living customers of each member in logins, for the
	// promises planted for them.
	mine     map[string][]string
	teams    map[string][]*member
	owners   []*member
	products []*rapport.Product

	created []time.Time // every customer's creation, ascending
	refs    []custRef
	// episodeRate is spontaneous episodes per customer-day, at activity 1.
	episodeRate float64

	sum Summary
}

func newGenerator(cfg Config, l *sqlstore.Loader) *generator {
	g := &generator{
		cfg:    cfg,
		now:    cfg.Now,
		moved:  cfg.Now.Sub(anchor),
		from:   cfg.Now.Add(-window),
		latest: cfg.Now.Add(-2 * time.Hour),
		l:      l,
		r:      rand.New(rand.NewPCG(uint64(cfg.Seed), firmStream)),
		teams:  map[string][]*member{},
		logins: map[string]*member{},
		mine:   map[string][]string{},
	}
	g.stormAt = cfg.Now.Add(-stormStarts)
	g.stormEnd = g.stormAt.Add(stormLasts)
	g.sum = Summary{Firm: FirmName, LoginEmail: LoginEmail(), From: g.from, To: g.now}
	return g
}

// newID returns an id for time t with entropy from r.
func newID(r *rand.Rand, t time.Time) string {
	var e [10]byte
	binary.LittleEndian.PutUint64(e[:8], r.Uint64())
	binary.LittleEndian.PutUint16(e[8:], uint16(r.Uint32()))
	return rapport.FormatID(t, e)
}

func (g *generator) run(ctx context.Context) error {
	if err := g.addStaff(ctx); err != nil {
		return err
	}
	if err := g.addCatalogue(ctx); err != nil {
		return err
	}
	g.planCustomers()
	g.refs = make([]custRef, 0, len(g.created))
	for i := range g.created {
		if i%1000 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		s := newSim(g, i)
		s.live()
		if err := s.write(ctx); err != nil {
			return err
		}
	}
	if err := g.plantPromises(ctx); err != nil {
		return err
	}
	return g.plantOpenCases(ctx)
}

// plantOpenCases gives each member of staff who signs in and works cases a
// query from one of their own customers yesterday, badly rated, so that
// the recovery queue opens on a case of their own. It draws from a stream
// of its own, so the rest of the firm is as it would be without it.
func (g *generator) plantOpenCases(ctx context.Context) error {
	r := rand.New(rand.NewPCG(uint64(g.cfg.Seed), 0x0ca5e))
	yesterday := g.now.Truncate(day).Add(-day)
	for _, spec := range staffSpecs {
		m := g.loginMember(staffEmail(spec))
		if m == nil || m.user.Role == rapport.RoleViewer || len(g.mine[m.user.ID]) == 0 {
			continue
		}
		at := yesterday.Add(10*time.Hour + time.Duration(r.IntN(6*3600))*time.Second)
		rating := 1
		mo := &rapport.Moment{
			ID: newID(r, at), CustomerID: g.mine[m.user.ID][0], Touchpoint: "query", Channel: rapport.ChannelPhone,
			StaffID: m.user.ID, OccurredAt: at, RecordedAt: at.Add(10 * time.Minute), Rating: &rating,
			Notes: fill(notes["query"][2][0], r.IntN(len(productSpecs))), Cost: costFor(r, "query", rapport.ChannelPhone),
		}
		mo.Outcome, mo.OutcomeSource = rapport.DeriveOutcome("", mo.Rating)
		if err := g.l.AddMoment(ctx, mo); err != nil {
			return err
		}
		g.sum.Moments++
		g.misery = append(g.misery, miseryMoment{id: mo.ID, recorded: mo.RecordedAt, owner: m.user.ID, touchpoint: mo.Touchpoint})
	}
	return nil
}

// plantPromises gives each member of staff who signs in promises of their
// own, made on calls with their customers in the last few days and due
// today and later this week, so that "My day" and the promises page have
// work in them from the first sign-in.
func (g *generator) plantPromises(ctx context.Context) error {
	// Relative to the start of Now's day: two due today, three this week.
	dues := []time.Duration{17 * time.Hour, 20 * time.Hour, 2*day + 12*time.Hour, 4*day + 16*time.Hour, 6*day + 10*time.Hour}
	texts := promiseTexts["query"]
	today := g.now.Truncate(day)
	for _, spec := range staffSpecs {
		m := g.loginMember(staffEmail(spec))
		if m == nil {
			continue
		}
		customers := g.mine[m.user.ID]
		for j, due := range dues {
			if len(customers) == 0 {
				break
			}
			at := today.Add(-time.Duration(1+g.r.IntN(4))*day + 9*time.Hour + time.Duration(g.r.IntN(8*3600))*time.Second)
			p := g.r.IntN(len(productSpecs))
			mo := &rapport.Moment{
				ID: newID(g.r, at), CustomerID: customers[j%len(customers)], Touchpoint: "query", Channel: rapport.ChannelPhone,
				StaffID: m.user.ID, OccurredAt: at, RecordedAt: at.Add(5 * time.Minute), Notes: fill(notes["query"][2][0], p),
				Cost: costFor(g.r, "query", rapport.ChannelPhone),
			}
			mo.Outcome, mo.OutcomeSource = rapport.DeriveOutcome("", nil)
			if err := g.l.AddMoment(ctx, mo); err != nil {
				return err
			}
			pr := &rapport.Promise{
				ID: newID(g.r, at), CustomerID: mo.CustomerID, StaffID: m.user.ID, MomentID: mo.ID,
				Text: fill(texts[g.r.IntN(len(texts))], p), DueAt: today.Add(due), Status: rapport.PromiseOpen, CreatedAt: mo.RecordedAt,
			}
			if err := g.l.AddPromise(ctx, pr); err != nil {
				return err
			}
			g.sum.Moments++
			g.sum.Promises++
		}
	}
	return nil
}

// loginMember returns the member of staff with this email if they sign in to the demo.
func (g *generator) loginMember(email string) *member {
	for _, m := range g.logins {
		if m.user.Email == email {
			return m
		}
	}
	return nil
}

func (g *generator) addStaff(ctx context.Context) error {
	managers := map[string]string{}
	var admin string
	for _, spec := range staffSpecs {
		joined := g.now.Add(-spec.joined).Truncate(24 * time.Hour).Add(9 * time.Hour)
		m := &member{
			user: rapport.User{
				ID: newID(g.r, joined), Email: staffEmail(spec), Name: spec.first + " " + spec.last,
				Role: spec.role, Team: spec.team, CreatedAt: joined,
			},
			joined:    joined,
			breakRate: spec.breakRate,
			skill:     0.85 + 0.3*g.r.Float64(),
		}
		if slices.Contains(loginNames, strings.ToLower(spec.first)) {
			g.logins[m.user.ID] = m
			g.sum.Logins = append(g.sum.Logins, Login{Email: m.user.Email, Name: m.user.Name, Role: m.user.Role})
		}
		switch spec.role {
		case rapport.RoleAdmin:
			admin = m.user.ID
			g.admin = m
		case rapport.RoleManager:
			managers[spec.team] = m.user.ID
			m.user.ManagerID = admin
		default:
			m.user.ManagerID = managers[spec.team]
		}
		if err := g.l.AddUser(ctx, &m.user); err != nil {
			return err
		}
		g.sum.Users++
		g.staff = append(g.staff, m)
		if spec.team != "" {
			g.teams[spec.team] = append(g.teams[spec.team], m)
		}
		if spec.role == rapport.RoleAgent && spec.team != teamClaims {
			g.owners = append(g.owners, m)
		}
	}
	return nil
}

func (g *generator) addCatalogue(ctx context.Context) error {
	launched := g.now.Add(-8 * year).Truncate(24 * time.Hour)
	for _, p := range productSpecs {
		prod := &rapport.Product{Key: p.key, Name: p.name, CreatedAt: launched}
		if err := g.l.AddProduct(ctx, prod); err != nil {
			return err
		}
		g.products = append(g.products, prod)
		g.sum.Products++
	}
	standardSince := g.now.Add(-3 * year).Truncate(24 * time.Hour)
	trialSince := g.now.Add(-trialStarted - 7*day).Truncate(24 * time.Hour)
	for _, r := range []*rapport.Response{
		{ID: newID(g.r, standardSince), Touchpoint: "complaint", Key: responseApology, Status: rapport.ResponseStandard, CreatedAt: standardSince, Tags: []string{"email"},
			Description: "Acknowledge the complaint by email within a day with an apology and a reference number; resolve it by post or email."},
		{ID: newID(g.r, trialSince), Touchpoint: "complaint", Key: responseCallBack, Status: rapport.ResponseTrial, CreatedAt: trialSince, Tags: []string{"phone_call"},
			Description: "A senior agent calls the customer back the same day, listens, and agrees a fix and a date on the call."},
	} {
		if err := g.l.AddResponse(ctx, r); err != nil {
			return err
		}
		g.sum.Responses++
	}
	return nil
}

// planCustomers decides when every customer joined, oldest first, so that a
// customer can only be referred by one who came before, and sets the rate
// of episodes that gives about cfg.Moments moments.
func (g *generator) planCustomers() {
	n := g.cfg.Customers
	g.created = make([]time.Time, n)
	for i := range g.created {
		if g.r.Float64() < existingFraction {
			tenure := time.Duration((0.1 + math.Min(g.r.ExpFloat64()*3, 15)) * float64(year))
			g.created[i] = g.from.Add(-tenure)
		} else {
			g.created[i] = g.from.Add(time.Duration(g.r.Float64() * float64(window-3*day)))
		}
		g.created[i] = g.created[i].Truncate(time.Second)
	}
	slices.SortFunc(g.created, func(a, b time.Time) int { return a.Compare(b) })

	var activeDays, fixed float64
	for _, c := range g.created {
		if c.Before(g.from) {
			activeDays += window.Hours() / 24
			fixed += fixedMomentsExisting
		} else {
			activeDays += g.now.Sub(c).Hours() / 24
			fixed += fixedMomentsNew
		}
	}
	spontaneous := math.Max(0, float64(g.cfg.Moments)-fixed)
	if activeDays > 0 {
		g.episodeRate = spontaneous / momentsPerEpisode / activeDays
	}
}

// staffFor picks who handles an episode for team at time t: the customer's
// owner some of the time when they are in that team, else anyone in it who
// had joined, a manager now and then.
func (g *generator) staffFor(r *rand.Rand, team string, owner *member, t time.Time) *member {
	if owner != nil && owner.user.Team == team && !owner.joined.After(t) && r.Float64() < 0.35 {
		return owner
	}
	members := g.teams[team]
	for range 8 {
		m := members[r.IntN(len(members))]
		if m.joined.After(t) {
			continue
		}
		if m.user.Role == rapport.RoleManager && r.Float64() > 0.3 {
			continue
		}
		return m
	}
	return members[0]
}

// referrer picks an earlier customer to have referred customer i, favouring
// warm ones, or returns "" when none fits.
func (g *generator) referrer(r *rand.Rand, i int) string {
	created := g.created[i]
	// A referrer has been a customer for at least a month.
	limit, _ := slices.BinarySearchFunc(g.created[:i], created.Add(-30*day), func(a, b time.Time) int { return a.Compare(b) })
	if limit == 0 {
		return ""
	}
	for try := range 4 {
		ref := &g.refs[r.IntN(limit)]
		if ref.dissolved != 0 && ref.dissolved <= created.Unix() {
			continue
		}
		if ref.warmth > 0.15 || try == 3 {
			return ref.id
		}
	}
	return ""
}
