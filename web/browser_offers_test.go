package web_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rapport-crm/rapport"
)

// seedPastOffer gives the fixture a gold club of customers and an offer
// made to them 100 days ago with an uplift planted: offered customers'
// moments were magic three times as often, and they bought more.
func (f *fixture) seedPastOffer(t *testing.T) *rapport.Offer {
	t.Helper()
	ctx := context.Background()
	var ids []string
	for i := range 150 {
		c := &rapport.Customer{Name: fmt.Sprintf("Gold member %03d", i), Attributes: map[string]any{"club": "gold"}}
		if err := f.services.Customers.CreateCustomer(ctx, c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	sg := &rapport.Segment{Name: "Gold club", Rule: `attributes.club = "gold"`}
	if err := f.services.Segments.CreateSegment(ctx, sg); err != nil {
		t.Fatal(err)
	}
	start := testNow.AddDate(0, 0, -100)
	o := &rapport.Offer{Name: "Spring upgrade", Kind: rapport.OfferUpgrade, Cost: 8, Segment: sg.ID, StartsAt: start,
		EndsAt: start.AddDate(0, 0, 30), HoldoutShare: 0.3, Seed: 3}
	if err := f.services.Offers.CreateOffer(ctx, o); err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(8, 8))
	var batch []*rapport.Moment
	for _, id := range ids {
		magic, buy := 0.2, 0.3
		if rapport.OfferArm(3, id, 0.3) == rapport.ArmOffered {
			magic, buy = 0.6, 0.7
			batch = append(batch, &rapport.Moment{CustomerID: id, Touchpoint: "offer", Channel: rapport.ChannelEmail,
				OccurredAt: start.Add(24 * time.Hour), Cost: 8})
		}
		for _, day := range []int{4, 15, 25, 50, 80} {
			m := &rapport.Moment{CustomerID: id, Touchpoint: "query", Channel: rapport.ChannelPhone,
				OccurredAt: start.AddDate(0, 0, day), Rating: ptr(4), Cost: 2}
			if rnd.Float64() < magic {
				m.Rating = ptr(5)
			}
			batch = append(batch, m)
		}
		if rnd.Float64() < buy {
			batch = append(batch, &rapport.Moment{CustomerID: id, Touchpoint: "purchase", Channel: rapport.ChannelWeb,
				OccurredAt: start.AddDate(0, 0, 12), Revenue: 120})
		}
	}
	for chunk := range slices.Chunk(batch, 500) {
		if _, err := f.services.Moments.RecordMoments(ctx, chunk); err != nil {
			t.Fatal(err)
		}
	}
	return o
}

func ptr[T any](v T) *T { return &v }

// TestBrowserOffers: a manager starts an offer on a segment (first
// forgetting the segment), an agent works their list of customers to make
// it to, each closed by logging the offer, and the report of a past offer
// shows its planted uplift, on a desktop and on a phone. Screenshots are
// named offers-*.
func TestBrowserOffers(t *testing.T) {
	f := newFixture(t)
	past := f.seedPastOffer(t)
	agent := f.users[rapport.RoleAgent]
	mine := &rapport.Segment{Name: "Alex's customers", Rule: `owner = "` + agent.ID + `"`}
	if err := f.services.Segments.CreateSegment(context.Background(), mine); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, 1280, 800, f.srv.URL)
	b.signIn(f.users[rapport.RoleManager].Email)
	b.Open("/offers", "#offer-list")
	b.Do("start an offer", chromedp.Click(css(`a[href="/offers/new"]`)), chromedp.WaitVisible(css("#offer-form")))
	b.Do("forget the segment",
		chromedp.SendKeys(css("#f-name"), "Renewal thank-you"),
		chromedp.SetValue(css("#f-kind"), rapport.OfferGift),
		chromedp.SetValue(css("#f-cost"), "4.5"),
		chromedp.SetValue(css("#f-holdout"), "20"),
		chromedp.SetValue(css("#f-seed"), "17"),
		chromedp.Click(css("#offer-submit")),
		chromedp.WaitVisible(css("#f-segment-error")),
	)
	if got := b.Value("#f-name"); got != "Renewal thank-you" {
		t.Errorf("after the error the name reads %q; want it kept", got)
	}
	b.Screenshot("offers-01-form-error")
	b.Do("choose the segment",
		chromedp.SetValue(css("#f-segment"), mine.ID),
		chromedp.Click(css("#offer-submit")),
		chromedp.WaitVisible(css("#offer-facts")),
	)
	var offered []string
	for _, c := range f.customers {
		if rapport.OfferArm(17, c.ID, 0.2) == rapport.ArmOffered {
			offered = append(offered, c.Name)
		}
	}
	if len(offered) == 0 {
		t.Fatal("seed 17 holds out every customer; choose another")
	}
	if got, want := b.Text("#offer-offered"), fmt.Sprintf("%d customer", len(offered)); !strings.HasPrefix(got, want) {
		t.Errorf("offered reads %q; want %q", got, want)
	}
	if got := b.Text(".flash"); !strings.Contains(got, "Offer started") {
		t.Errorf("the flash reads %q", got)
	}
	id := strings.TrimPrefix(b.Location(), f.srv.URL+"/offers/")
	b.Screenshot("offers-02-started")

	// The offer touchpoint has two ways of making an offer; the renewal
	// call is the standard, so it is suggested for each customer.
	for _, r := range []*rapport.Response{
		{Touchpoint: "offer", Key: "renewal_call", Description: "Call to offer it with the renewal.", Status: rapport.ResponseTrial},
		{Touchpoint: "offer", Key: "offer_email", Description: "Send it by email.", Status: rapport.ResponseTrial},
	} {
		if err := f.services.Responses.CreateResponse(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.services.Standards.PromoteResponse(context.Background(), "offer", "renewal_call"); err != nil {
		t.Fatal(err)
	}

	// The agent works their list.
	a := newBrowser(t, 1280, 800, f.srv.URL)
	a.signIn(agent.Email)
	a.Open("/offers/"+id+"?mine=1", "#offer-customers")
	if got := a.Text("#offer-customers .offer-item:first-child .giving-suggestion"); !strings.Contains(got, "Suggested: Renewal call") ||
		!strings.Contains(got, "standard") {
		t.Errorf("the first customer's suggestion reads %q; want the renewal call with its reason", got)
	}
	if got := a.Value("#offer-customers .offer-item:first-child select[name=response]"); got != "renewal_call" {
		t.Errorf("the log form's response is %q; want the suggested renewal_call", got)
	}
	list := a.Text("#offer-customers")
	for _, name := range offered {
		if !strings.Contains(list, name) {
			t.Errorf("the agent's list %q lacks %s", list, name)
		}
	}
	first := a.Text("#offer-customers .offer-item:first-child a")
	a.Do("log the offer given",
		chromedp.SetValue(css("#offer-customers .offer-item:first-child select[name=rating]"), "5"),
		chromedp.Click(css("#offer-customers .offer-item:first-child button")),
		chromedp.WaitVisible(css(".flash")),
	)
	if got := a.Text(".flash"); !strings.Contains(got, "Offer given") {
		t.Errorf("after logging, the flash reads %q", got)
	}
	if len(offered) > 1 {
		if got := a.Text("#offer-customers"); strings.Contains(got, first) {
			t.Errorf("%s is still on the list after the offer was logged: %q", first, got)
		}
	} else if got := a.Text("#offer-list-empty"); !strings.Contains(got, "Nobody left") {
		t.Errorf("the empty list reads %q", got)
	}
	if got := a.Text("#offer-given"); !strings.HasPrefix(got, "1 of") {
		t.Errorf("given reads %q; want 1", got)
	}
	a.Screenshot("offers-03-agent-list")
	o, err := f.services.Offers.FindOfferByID(context.Background(), id)
	if err != nil || o.Given != 1 {
		t.Fatalf("offer after logging = %+v, %v; want one given", o, err)
	}
	// The moment is an ordinary moment, on the offer's touchpoint, at its cost.
	moments, _ := f.services.Moments.FindMoments(context.Background(), rapport.MomentFilter{Touchpoint: "offer", Limit: 500})
	found := false
	for _, m := range moments.Items {
		if m.StaffID == agent.ID && m.Cost == 4.5 && m.Rating != nil && *m.Rating == 5 && m.Response == "renewal_call" {
			found = true
		}
	}
	if !found {
		t.Error("no moment on the offer touchpoint by the agent at the offer's cost with the suggested response")
	}

	// The past offer's report.
	b.Open("/offers/"+past.ID, "#offer-report")
	if got := b.Text("#offer-verdicts"); !strings.Contains(got, "magic rate was higher") {
		t.Errorf("the verdicts read %q; want the planted magic uplift", got)
	}
	if n := b.Eval(`document.querySelectorAll("#uplift-90 .iv-dot.magic").length > 0`); !n {
		t.Error("no figure is drawn as significantly in the offer's favour")
	}
	b.Screenshot("offers-04-report")

	p := newBrowser(t, 390, 844, f.srv.URL)
	p.signIn(f.users[rapport.RoleManager].Email)
	p.Open("/offers/"+past.ID, "#offer-report")
	if p.WiderThanScreen() {
		t.Error("the offer page is wider than a phone's screen")
	}
	p.Screenshot("offers-05-report-phone")
	p.Open("/offers/"+id, "#offer-customers")
	if p.WiderThanScreen() {
		t.Error("the offer's list is wider than a phone's screen")
	}
	p.Screenshot("offers-07-list-phone")
	p.Open("/offers/new", "#offer-form")
	if p.WiderThanScreen() {
		t.Error("the offer form is wider than a phone's screen")
	}
	p.Screenshot("offers-06-form-phone")
}
