// Package demo fills an empty database with a believable firm: Harbour
// Mutual, an insurer selling motor, home, travel, life, pet and health cover,
// with 20 staff in three teams (Claims, Sales, Customer Care; a manager each),
// an admin and a viewer, and a year of customers' moments before Config.Now.
// It serves three users: `rapport serve --demo`, so a newcomer sees a live
// system; tests of features that need history; and benchmarks, up to ten
// million moments, which is why customers are generated and written one at
// a time and no more than one customer's moments are ever held in memory.
//
// The firm is reproducible: it is made as if its year ended on a fixed day
// (anchor) and then moved, by whole days, to end on Config.Now, so the
// same seed gives the same firm, with the same times relative to Now,
// whatever day it is made. Its quiet weekends are the anchor's, which fall
// on other days of the week once moved. A seeded PCG drives every choice, and ids come
// from rapport.FormatID with entropy from it, so the same Config gives
// byte-identical rows on either backend. Each customer draws from its own
// stream, derived from the seed and its place, so changing one customer's
// story never shifts another's.
//
// Every moment is on one of the eight default touchpoints, over all six
// channels; web and system moments have no member of staff. Most moments
// have a rating (CSAT 1–5, from which the outcome is derived); some have
// effort (1 effortless to 7 very hard) and NPS; staff write notes; purchases
// and taken renewal offers carry revenue; every moment has a cost to serve.
// A storm four months before Now brings a fortnight of claims and a dip in
// claims satisfaction.
//
// Planted patterns, each strong enough to be found statistically at the
// default size (3,000 customers, about 90,000 moments) and checked by this
// package's tests:
//
//   - (a) Claims handling matters most. After a misery moment on the
//     "service" touchpoint, about a third of customers dissolve (reason
//     dissatisfied or defected) within 90 days; after misery on any other
//     touchpoint about 7%, barely above the 5% after moments without misery.
//   - (b) The "complaint" touchpoint has two active responses: the standard
//     "email_apology" and, on trial for the last 200 days,
//     "call_back_same_day", used on half the complaints since. Every
//     complaint moment, and no other, names its response; the call-back
//     turns about 38% of complaints into magic, the apology about 17%.
//   - (c) Dylan Foster, a claims handler, breaks about 45% of the promises
//     he makes; the others break about 7% (none above 12%). Promises are
//     made in moments and resolved kept or broken once due; a broken
//     promise often brings a complaint.
//   - (d) About 10% of customers were referred by a customer who joined at
//     least a month before them, usually a warm one.
//   - (e) Over half the customers have held two or more of the six
//     products, home and motor together more often than by chance, and
//     customers move through awareness → exploration (first product) →
//     expansion (second) → commitment (third, or three years with two),
//     every step a stage change by "demo"; about 12% dissolve within the
//     year, each with one of the five reasons.
//   - (f) Personal, not protocol: customers with a dislike that speaks of
//     phone calls ("sales calls", "calls during working hours", "automated
//     phone menus"; about 30% of them) are delighted by the email apology
//     about 48% of the time and by a call-back 6%; the others the reverse
//     (call-back 50%, apology 5%). The call-back is tagged phone_call, the
//     apology email. Following the suggestions beats the single best
//     standard on the last 90 days of complaints (TestPersonalSuggestionsHeldBack).
//
// The figures are for seed 7 at the default size; other seeds differ by a
// few points.
//
// So that every view has work in it, the firm also has: sign-ins for the
// admin (who owns the organisations), a manager and an agent of Customer
// Care, and a viewer, the admin and the agent with promises of their own
// due today and this week; recovery cases for the last month's misery,
// most resolved by their assignee and the rest open, some overdue and
// escalated; touchpoint targets that two or three touchpoints miss; and a
// few saved segments.
package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// Sizes used when a Config leaves them zero.
const (
	DefaultCustomers          = 3000
	DefaultMomentsPerCustomer = 30
)

// Limits on a Config, far above what any benchmark needs.
const (
	maxCustomers = 10_000_000
	maxMoments   = 1_000_000_000
)

// Config chooses the demo firm. The same Config always gives the same data.
type Config struct {
	// Seed picks the firm; different seeds give different firms of the same shape.
	Seed int64
	// Customers is how many customers; 0 means DefaultCustomers.
	Customers int
	// Moments is about how many moments in all; 0 means about
	// DefaultMomentsPerCustomer per customer over the year.
	Moments int
	// Now is the day the firm's year ends, at its start (midnight UTC);
	// every time is relative to it, so the same seed gives the same firm
	// whatever the day. Zero means today.
	Now time.Time
}

// Summary counts what Populate created.
type Summary struct {
	Firm string `json:"firm"`
	// LoginEmail is the demo admin's email, for signing in to the demo.
	LoginEmail string `json:"login_email"`
	// Logins are the demo staff who can sign in: the admin, a manager, an agent and a viewer.
	Logins        []Login   `json:"logins"`
	From          time.Time `json:"from"`
	To            time.Time `json:"to"`
	Users         int       `json:"users"`
	Products      int       `json:"products"`
	Responses     int       `json:"responses"`
	Customers     int       `json:"customers"`
	Organisations int       `json:"organisations"`
	Referred      int       `json:"referred"`
	Holdings      int       `json:"holdings"`
	Moments       int       `json:"moments"`
	StageChanges  int       `json:"stage_changes"`
	Promises      int       `json:"promises"`
	Dissolutions  int       `json:"dissolutions"`
	Segments      int       `json:"segments"`
	ResolvedCases int       `json:"resolved_cases"`
	OpenCases     int       `json:"open_cases"`
	// Elapsed is how long Populate took.
	Elapsed time.Duration `json:"elapsed"`
}

// String describes the firm in a few lines, for the command line.
func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, a demo insurer: %s staff, %s customers (%s organisations, %s referred by another customer)\n",
		s.Firm, count(s.Users), count(s.Customers), count(s.Organisations), count(s.Referred))
	fmt.Fprintf(&b, "%s moments from %s to %s, %s holdings of %s products, %s promises, %s stage changes, %s dissolutions, %s segments\n",
		count(s.Moments), s.From.Format("2 Jan 2006"), s.To.Format("2 Jan 2006"), count(s.Holdings), count(s.Products),
		count(s.Promises), count(s.StageChanges), count(s.Dissolutions), count(s.Segments))
	fmt.Fprintf(&b, "%s recovery cases resolved and %s open\n", count(s.ResolvedCases), count(s.OpenCases))
	fmt.Fprintf(&b, "demo admin: %s", s.LoginEmail)
	return b.String()
}

// Login is a member of the demo staff who can sign in.
type Login struct {
	Email string       `json:"email"`
	Name  string       `json:"name"`
	Role  rapport.Role `json:"role"`
}

// count writes n with thousands separators.
func count(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + count(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// LoginEmail is the email of the demo firm's admin.
func LoginEmail() string { return demoLoginName + "@" + emailDomain }

// Populate fills an empty database with the demo firm and says what it made.
// It refuses a database that has customers or any of the demo staff already,
// and then writes nothing. Rows are committed in large batches as they are
// generated, so a load that fails or is cancelled part way leaves part of
// the firm behind; start again on a new database.
func Populate(ctx context.Context, db *sqlstore.DB, cfg Config) (Summary, error) {
	started := time.Now()
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Summary{}, err
	}
	if err := checkEmpty(ctx, db); err != nil {
		return Summary{}, err
	}
	l := db.Loader()
	defer l.Close()
	g := newGenerator(cfg, l)
	if err := g.run(ctx); err != nil {
		return Summary{}, err
	}
	if err := l.Flush(ctx); err != nil {
		return Summary{}, err
	}
	if err := g.plantOffers(ctx, db); err != nil {
		return Summary{}, err
	}
	rules, err := g.makeGestureRules(ctx, db)
	if err != nil {
		return Summary{}, err
	}
	if err := g.plantGestures(ctx, db, rules[0]); err != nil {
		return Summary{}, err
	}
	if err := g.plantHandoverDrop(ctx, db); err != nil {
		return Summary{}, err
	}
	// The loader writes moments directly, so everything derived from them
	// (totals, impact, measures, stages) is computed once at the end. The
	// recovery queue holds the last month's misery, as it would in a firm
	// that had been using Rapport.
	if err := db.RebuildFromMoments(ctx, sqlstore.Rebuild{OpenCasesSince: cfg.Now.Add(-caseWindow)}); err != nil {
		return Summary{}, err
	}
	if err := g.resolveCases(ctx, db); err != nil {
		return Summary{}, err
	}
	if err := g.setTargets(ctx, db); err != nil {
		return Summary{}, err
	}
	if err := g.addSegments(ctx, db); err != nil {
		return Summary{}, err
	}
	if err := g.startOffers(ctx, db); err != nil {
		return Summary{}, err
	}
	if err := g.handOverLeaving(ctx, db); err != nil {
		return Summary{}, err
	}
	if err := g.findMilestones(ctx, db); err != nil {
		return Summary{}, err
	}
	g.sum.Elapsed = time.Since(started)
	return g.sum, nil
}

func (c Config) withDefaults() (Config, error) {
	if c.Customers < 0 || c.Moments < 0 {
		return c, rapport.Errorf(rapport.EINVALID, "The demo sizes must not be negative.")
	}
	if c.Customers == 0 {
		c.Customers = DefaultCustomers
	}
	if c.Moments == 0 {
		c.Moments = DefaultMomentsPerCustomer * c.Customers
	}
	if c.Customers > maxCustomers || c.Moments > maxMoments {
		return c, rapport.Errorf(rapport.EINVALID, "The demo can have at most %s customers and %s moments.", count(maxCustomers), count(maxMoments))
	}
	if c.Now.IsZero() {
		c.Now = time.Now()
	}
	c.Now = c.Now.UTC().Truncate(day)
	return c, nil
}

// checkEmpty refuses a database that has customers or demo staff, so the
// demo never mixes with a real firm's data.
func checkEmpty(ctx context.Context, db *sqlstore.DB) error {
	page, err := sqlstore.NewCustomerService(db).FindCustomers(ctx, rapport.CustomerFilter{Limit: 1})
	if err != nil {
		return err
	}
	if len(page.Items) > 0 {
		return rapport.Errorf(rapport.ECONFLICT, "The database has customers already; the demo firm can only fill an empty database.")
	}
	users := sqlstore.NewUserService(db)
	for _, s := range staffSpecs {
		email := staffEmail(s)
		if _, err := users.FindUserByEmail(ctx, email); err == nil {
			return rapport.Errorf(rapport.ECONFLICT, "A user with the email %s exists already; the demo firm can only fill an empty database.", email)
		} else if rapport.ErrorCode(err) != rapport.ENOTFOUND {
			return err
		}
	}
	tps, err := sqlstore.NewTouchpointService(db).FindTouchpoints(ctx)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, t := range tps {
		have[t.Key] = true
	}
	for _, t := range rapport.DefaultTouchpoints() {
		if !have[t.Key] {
			return rapport.Errorf(rapport.ECONFLICT, "The demo firm needs the default touchpoint %q, which this database lacks.", t.Key)
		}
	}
	return nil
}

func staffEmail(s staffSpec) string {
	return strings.ToLower(s.first) + "@" + emailDomain
}
