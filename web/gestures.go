package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/rapport-crm/rapport"
)

// Gestures on milestones: managers make rules that watch for a milestone;
// the sweep puts a suggested gesture on the owner's day and the rule's list,
// each closed by logging the gesture's moment; the rule's page shows what
// followed against the customers held out.

// gestureRoutes adds the gesture pages, with the permissions of the API.
func (s *server) gestureRoutes(mux *http.ServeMux) {
	mux.Handle("GET /gestures", s.signedIn(s.gestureRulesPage()))
	mux.Handle("GET /gestures/new", s.allowed(rapport.PermWriteCatalogue, s.gestureNewPage()))
	mux.Handle("POST /gestures", s.allowed(rapport.PermWriteCatalogue, s.gestureCreate()))
	mux.Handle("GET /gestures/{id}", s.signedIn(s.gestureRulePage()))
	mux.Handle("POST /gestures/{id}/give", s.allowed(rapport.PermWriteMoments, s.gestureGive()))
	mux.Handle("POST /gestures/{id}/end", s.allowed(rapport.PermWriteCatalogue, s.gestureEnd()))
}

type gestureRulesData struct {
	Rules []*rapport.GestureRule
}

type gestureFormData struct {
	Form       *form
	Milestones []choice
	Kinds      []string
	Products   []*rapport.Product
}

type gestureRuleData struct {
	Rule      *rapport.GestureRule
	Report    *rapport.GestureReport
	Charts    []upliftChart
	Gestures  []*rapport.Gesture
	Next      string
	Mine      bool
	Open      bool
	Channels  []rapport.Channel
	Running   bool
	Described string
}

// milestoneChoices name the milestones in the form.
var milestoneChoices = []choice{
	{Value: rapport.MilestoneMagicCount, Label: "Nth magic moment, when committed"},
	{Value: rapport.MilestoneAnniversary, Label: "Anniversary of joining"},
	{Value: rapport.MilestoneRecovered, Label: "The first moment after a recovered case"},
	{Value: rapport.MilestonePurchaseCount, Label: "Every Nth time a product is taken up"},
}

func (s *server) gestureRulesPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rules, err := s.Gestures.FindGestureRules(r.Context())
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "gestures", "", s.newPage(r, "Gestures on milestones", "offers", gestureRulesData{Rules: rules}))
	})
}

func (s *server) gestureNewPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := newForm(url.Values{"milestone": {rapport.MilestoneMagicCount}, "count": {"10"}, "holdout": {"10"}, "days": {"90"},
			"kind": {rapport.OfferGift}})
		s.renderGestureForm(w, r, http.StatusOK, f)
	})
}

func (s *server) renderGestureForm(w http.ResponseWriter, r *http.Request, status int, f *form) {
	products, err := s.Holdings.FindProducts(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d := gestureFormData{Form: f, Milestones: milestoneChoices, Kinds: rapport.OfferKinds, Products: products}
	s.render(w, r, status, "gesture_form", "", s.newPage(r, "New gesture rule", "offers", d))
}

// gestureCreate keeps the posted rule, running from now for the days the
// form gives.
func (s *server) gestureCreate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		f := newForm(r.PostForm)
		g := &rapport.GestureRule{Name: f.Get("name"), Description: f.Get("description"), Milestone: f.Get("milestone"),
			Kind: f.Get("kind"), Touchpoint: f.Get("touchpoint"), Cost: f.optionalFloat("cost")}
		if g.Milestone == rapport.MilestoneMagicCount || g.Milestone == rapport.MilestonePurchaseCount {
			if n := f.optionalInt("count"); n != nil {
				g.Count = *n
			}
		}
		if g.Milestone == rapport.MilestonePurchaseCount {
			g.Product = f.Get("product")
		}
		pct, err := strconv.ParseFloat(f.Get("holdout"), 64)
		if err != nil || pct < 0 || pct > 50 || (pct > 0 && pct < 1) {
			f.fail("holdout", "Give a share from 1 to 50 per cent, or 0 to hold nobody out.")
		}
		g.HoldoutShare = pct / 100
		if v := f.Get("seed"); v != "" {
			seed, err := strconv.ParseInt(v, 10, 64)
			if err != nil || seed < 1 {
				f.fail("seed", "Give a whole number from 1, or leave it empty.")
			}
			g.Seed = seed
		}
		days, err := strconv.Atoi(f.Get("days"))
		if err != nil || days < 1 || days > 366 {
			f.fail("days", "Give a number of days from 1 to 366.")
		}
		if !f.Invalid() {
			now := s.Clock().UTC()
			g.StartsAt, g.EndsAt = now, now.AddDate(0, 0, days)
			err := s.Gestures.CreateGestureRule(r.Context(), g)
			if err == nil {
				setFlash(w, r, "Rule made: from the next sweep, customers reaching the milestone are put on their owner's day.")
				redirect(w, r, "/gestures/"+url.PathEscape(g.ID))
				return
			}
			if !f.fromError(err, map[string]string{"holdout_share": "holdout", "ends_at": "days"}) {
				s.serverError(w, r, err)
				return
			}
		}
		s.renderGestureForm(w, r, http.StatusUnprocessableEntity, f)
	})
}

func (s *server) gestureRulePage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, err := s.gestureRuleData(r)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "gesture", "", s.newPage(r, d.Rule.Name, "offers", d))
	})
}

// gestureRuleData reads the rule, its report and the page of its list the
// query asks for: ?mine=1 for the user's own customers, ?all=1 to show
// the gestures made too.
func (s *server) gestureRuleData(r *http.Request) (*gestureRuleData, error) {
	ctx, id, q := r.Context(), r.PathValue("id"), r.URL.Query()
	rep, err := s.Gestures.GestureReport(ctx, id)
	if err != nil {
		return nil, err
	}
	g := rep.Rule
	d := &gestureRuleData{Rule: g, Report: rep, Mine: q.Get("mine") == "1", Open: q.Get("all") != "1", Channels: rapport.Channels,
		Running: s.Clock().Before(g.EndsAt), Described: g.Describe()}
	for _, win := range rep.Windows {
		d.Charts = append(d.Charts, newUpliftChart(win, "Chosen"))
	}
	if tp, err := s.Touchpoints.FindTouchpointByKey(ctx, g.Touchpoint); err == nil && len(tp.Channels) > 0 {
		d.Channels = tp.Channels
	}
	f := rapport.GestureFilter{Open: d.Open, Limit: offerListSize, Cursor: q.Get("cursor")}
	if d.Mine {
		f.Owner = currentUser(r).ID
	}
	page, err := s.Gestures.Gestures(ctx, id, f)
	if rapport.ErrorCode(err) == rapport.EINVALID && f.Cursor != "" {
		f.Cursor = ""
		page, err = s.Gestures.Gestures(ctx, id, f)
	}
	if err != nil {
		return nil, err
	}
	d.Gestures = page.Items
	d.Next = listNext("/gestures/"+url.PathEscape(id), page.NextCursor, d.Mine, d.Open)
	return d, nil
}

// gestureGive logs the gesture's moment for a customer, at the rule's
// cost with the response chosen, which closes it on the lists.
func (s *server) gestureGive() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g, err := s.Gestures.FindGestureRuleByID(r.Context(), r.PathValue("id"))
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.logGiven(w, r, "/gestures/"+url.PathEscape(g.ID), g.Touchpoint, g.Cost, "gesture", "Gesture made and logged as a moment.")
	})
}

// gestureEnd ends the rule's period now.
func (s *server) gestureEnd() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g, err := s.Gestures.EndGestureRule(r.Context(), r.PathValue("id"))
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		setFlash(w, r, fmt.Sprintf("Rule ended: no more milestones are looked for after %s.", g.EndsAt.Format("2 Jan 2006 15:04 UTC")))
		redirect(w, r, "/gestures/"+url.PathEscape(g.ID))
	})
}
