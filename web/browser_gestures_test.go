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

// seedPastGestures gives the fixture 200 customers whose first anniversary
// fell in the 30 days of an anniversary-card rule that started 150 days
// ago, with an effect planted: customers chosen for the card were delighted
// three times as often in the 90 days after their anniversary.
func (f *fixture) seedPastGestures(t *testing.T) *rapport.GestureRule {
	t.Helper()
	ctx := context.Background()
	start := testNow.AddDate(0, 0, -150)
	g := &rapport.GestureRule{Name: "Anniversary card", Description: "A handwritten card", Milestone: rapport.MilestoneAnniversary,
		Kind: rapport.OfferGift, Cost: 3, StartsAt: start, EndsAt: start.AddDate(0, 0, 30), HoldoutShare: 0.3, Seed: 5}
	if err := f.services.Gestures.CreateGestureRule(ctx, g); err != nil {
		t.Fatal(err)
	}
	joined := map[string]time.Time{}
	for i := range 200 {
		at := start.Add(time.Duration(i%29)*24*time.Hour + time.Hour)
		c := &rapport.Customer{Name: fmt.Sprintf("Member %03d", i), CreatedAt: at.AddDate(-1, 0, 0)}
		if err := f.services.Customers.CreateCustomer(ctx, c); err != nil {
			t.Fatal(err)
		}
		joined[c.ID] = at
	}
	if _, err := f.services.Gestures.EvaluateGestures(ctx); err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(4, 4))
	var batch []*rapport.Moment
	for id, at := range joined {
		magic := 0.2
		if rapport.GestureArm(5, id, "1st anniversary", 0.3) == rapport.ArmOffered {
			magic = 0.6
			batch = append(batch, &rapport.Moment{CustomerID: id, Touchpoint: "gesture", Channel: rapport.ChannelEmail,
				OccurredAt: at.Add(24 * time.Hour), Cost: 3})
		}
		for _, day := range []int{4, 15, 25, 50, 80} {
			m := &rapport.Moment{CustomerID: id, Touchpoint: "query", Channel: rapport.ChannelPhone,
				OccurredAt: at.AddDate(0, 0, day), Rating: ptr(4)}
			if rnd.Float64() < magic {
				m.Rating = ptr(5)
			}
			batch = append(batch, m)
		}
	}
	slices.SortFunc(batch, func(a, b *rapport.Moment) int { return a.OccurredAt.Compare(b.OccurredAt) })
	for chunk := range slices.Chunk(batch, 500) {
		if _, err := f.services.Moments.RecordMoments(ctx, chunk); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

// TestBrowserGestures: a manager makes a milestone rule (first forgetting
// its name); the sweep finds the owner's customer reaching it; the owner
// sees the gesture on their day and logs it from the rule's list with the
// suggested response chosen; and the report of a past rule shows its
// planted effect, on a desktop and on a phone. Screenshots are named
// gestures-*.
func TestBrowserGestures(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	past := f.seedPastGestures(t)
	agent := f.users[rapport.RoleAgent]
	harriet := f.customers["Harriet Vane"]
	magic, err := f.services.Moments.FindMoments(ctx, rapport.MomentFilter{CustomerID: harriet.ID, Outcome: rapport.OutcomeMagic, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	next := len(magic.Items) + 1

	b := newBrowser(t, 1280, 800, f.srv.URL)
	b.signIn(f.users[rapport.RoleManager].Email)
	b.Open("/offers", "#gestures-link")
	b.Do("open the gestures", chromedp.Click(css("#gestures-link")), chromedp.WaitVisible(css("#gesture-rules")))
	b.Do("make a rule", chromedp.Click(css(`a[href="/gestures/new"]`)), chromedp.WaitVisible(css("#gesture-form")))
	b.Do("forget the name",
		chromedp.SetValue(css("#f-milestone"), rapport.MilestoneMagicCount),
		chromedp.SetValue(css("#f-count"), fmt.Sprint(next)),
		chromedp.SetValue(css("#f-kind"), rapport.OfferUpgrade),
		chromedp.SetValue(css("#f-cost"), "6"),
		chromedp.SetValue(css("#f-holdout"), "0"),
		chromedp.Click(css("#gesture-submit")),
		chromedp.WaitVisible(css("#f-name-error")),
	)
	if got := b.Value("#f-count"); got != fmt.Sprint(next) {
		t.Errorf("after the error N reads %q; want it kept", got)
	}
	b.Screenshot("gestures-01-form-error")
	b.Do("name it",
		chromedp.SendKeys(css("#f-name"), "Delight thank-you"),
		chromedp.Click(css("#gesture-submit")),
		chromedp.WaitVisible(css("#gesture-facts")),
	)
	if got := b.Text(".flash"); !strings.Contains(got, "Rule made") {
		t.Errorf("the flash reads %q", got)
	}
	id := strings.TrimPrefix(b.Location(), f.srv.URL+"/gestures/")
	if got := b.Text("#gesture-list-empty"); !strings.Contains(got, "No gestures to make") {
		t.Errorf("a new rule's list reads %q", got)
	}
	b.Screenshot("gestures-02-made")

	// The gesture touchpoint gets two ways of making it, the card the
	// standard; then Harriet has her next magic moment, and the sweep runs.
	for _, r := range []*rapport.Response{
		{Touchpoint: "gesture", Key: "handwritten_card", Description: "A card written by the owner.", Status: rapport.ResponseTrial},
		{Touchpoint: "gesture", Key: "phone_thanks", Description: "A call to say thank you.", Status: rapport.ResponseTrial},
	} {
		if err := f.services.Responses.CreateResponse(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.services.Standards.PromoteResponse(ctx, "gesture", "handwritten_card"); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(2 * time.Hour)
	if _, err := f.services.Moments.RecordMoment(ctx, &rapport.Moment{CustomerID: harriet.ID, Touchpoint: "query",
		Channel: rapport.ChannelPhone, OccurredAt: f.clock.Now().Add(-time.Hour), Rating: ptr(5)}); err != nil {
		t.Fatal(err)
	}
	if n, err := f.services.Gestures.EvaluateGestures(ctx); err != nil || n != 1 {
		t.Fatalf("the sweep put %d gestures on lists, %v; want Harriet's", n, err)
	}

	// The owner sees it on their day, then logs it from the rule's list.
	a := newBrowser(t, 1280, 800, f.srv.URL)
	a.signIn(agent.Email)
	a.Open("/today", "#today-list")
	item := fmt.Sprintf(`#today-list li[data-customer="%s"]`, harriet.ID)
	if got := a.Text(item + " .reason-gesture"); !strings.Contains(got, rapport.Ordinal(next)+" magic moment") || !strings.Contains(got, "Delight thank-you") {
		t.Errorf("Harriet's gesture on the day reads %q", got)
	}
	a.Screenshot("gestures-03-my-day")
	a.Open("/gestures/"+id+"?mine=1", "#gesture-list")
	row := fmt.Sprintf(`#gesture-list li[data-customer="%s"]`, harriet.ID)
	if got := a.Text(row + " .giving-suggestion"); !strings.Contains(got, "Handwritten card") {
		t.Errorf("the suggestion reads %q; want the handwritten card", got)
	}
	if got := a.Value(row + " select[name=response]"); got != "handwritten_card" {
		t.Errorf("the log form's response is %q; want the suggested handwritten_card", got)
	}
	a.Screenshot("gestures-04-list")
	a.Do("log the gesture made",
		chromedp.SetValue(css(row+" select[name=rating]"), "5"),
		chromedp.Click(css(row+" button")),
		chromedp.WaitVisible(css(".flash")),
	)
	if got := a.Text(".flash"); !strings.Contains(got, "Gesture made") {
		t.Errorf("after logging, the flash reads %q", got)
	}
	if got := a.Text("#gesture-given"); !strings.HasPrefix(got, "1 of 1") {
		t.Errorf("made reads %q; want 1 of 1", got)
	}
	moments, _ := f.services.Moments.FindMoments(ctx, rapport.MomentFilter{CustomerID: harriet.ID, Touchpoint: "gesture", Limit: 10})
	if len(moments.Items) != 1 || moments.Items[0].Response != "handwritten_card" || moments.Items[0].Cost != 6 || moments.Items[0].StaffID != agent.ID {
		t.Errorf("gesture moments = %+v; want one by the agent, the handwritten card at the rule's cost", moments.Items)
	}
	a.Open("/today", "h1")
	if a.Eval(fmt.Sprintf(`!!document.querySelector(%q)`, item+" .reason-gesture")) {
		t.Error("the gesture is still on the owner's day after it was made")
	}

	// The past rule's report.
	b.Open("/gestures/"+past.ID, "#gesture-report")
	if got := b.Text("#gesture-verdicts"); !strings.Contains(got, "gesture customers' magic rate was higher") {
		t.Errorf("the verdicts read %q; want the planted magic uplift", got)
	}
	if !b.Eval(`document.querySelectorAll("#uplift-90 .iv-dot.magic").length > 0`) {
		t.Error("no figure is drawn as significantly in the gesture's favour")
	}
	b.Screenshot("gestures-05-report")

	p := newBrowser(t, 390, 844, f.srv.URL)
	p.signIn(agent.Email)
	for _, page := range []struct{ path, wait, shot string }{
		{"/gestures/" + past.ID, "#gesture-report", "gestures-06-report-phone"},
		{"/gestures/" + past.ID + "?all=1", "#gesture-list", "gestures-07-list-phone"},
		{"/gestures", "#gesture-rules", "gestures-08-rules-phone"},
	} {
		p.Open(page.path, page.wait)
		if p.WiderThanScreen() {
			t.Errorf("%s is wider than a phone's screen", page.path)
		}
		p.Screenshot(page.shot)
	}
	pm := newBrowser(t, 390, 844, f.srv.URL)
	pm.signIn(f.users[rapport.RoleManager].Email)
	pm.Open("/gestures/new", "#gesture-form")
	if pm.WiderThanScreen() {
		t.Error("the gesture form is wider than a phone's screen")
	}
	pm.Screenshot("gestures-09-form-phone")
}
