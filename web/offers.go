package web

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rapport-crm/rapport"
)

// Offers: managers start an offer on a segment; the offered customers make
// the staff's list, each closed by logging the offer's moment; the offer's
// page shows the measured uplift against the holdout.

// offerRoutes adds the offer pages: everyone reads them, those who record
// moments give offers, and managers and admins start them, as in the API.
func (s *server) offerRoutes(mux *http.ServeMux) {
	mux.Handle("GET /offers", s.signedIn(s.offersPage()))
	mux.Handle("GET /offers/new", s.allowed(rapport.PermWriteCatalogue, s.offerNewPage()))
	mux.Handle("POST /offers", s.allowed(rapport.PermWriteCatalogue, s.offerCreate()))
	mux.Handle("GET /offers/{id}", s.signedIn(s.offerPage()))
	mux.Handle("POST /offers/{id}/give", s.allowed(rapport.PermWriteMoments, s.offerGive()))
}

// offerListSize is how many customers the offer's page lists at once.
const offerListSize = 50

type offersData struct {
	Offers []*rapport.Offer
}

type offerFormData struct {
	Form     *form
	Segments []*rapport.Segment
	Kinds    []string
}

type offerData struct {
	Offer     *rapport.Offer
	Report    *rapport.OfferReport
	Charts    []upliftChart
	Customers []*rapport.OfferCustomer
	Next      string
	// Mine and Open are the list's filters.
	Mine, Open bool
	Channels   []rapport.Channel
	Touchpoint *rapport.Touchpoint
}

func (s *server) offersPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		offers, err := s.Offers.FindOffers(r.Context())
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "offers", "", s.newPage(r, "Offers", "offers", offersData{Offers: offers}))
	})
}

func (s *server) offerNewPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := newForm(url.Values{"segment": {r.URL.Query().Get("segment")}, "holdout": {"10"}, "days": {"30"},
			"kind": {rapport.OfferDiscount}})
		s.renderOfferForm(w, r, http.StatusOK, f)
	})
}

func (s *server) renderOfferForm(w http.ResponseWriter, r *http.Request, status int, f *form) {
	sgs, err := s.Segments.FindSegments(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d := offerFormData{Form: f, Segments: sgs, Kinds: rapport.OfferKinds}
	s.render(w, r, status, "offer_form", "", s.newPage(r, "New offer", "offers", d))
}

// offerCreate starts the posted offer, now, for the days the form gives.
func (s *server) offerCreate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		f := newForm(r.PostForm)
		o := &rapport.Offer{Name: f.Get("name"), Kind: f.Get("kind"), Description: f.Get("description"),
			Segment: f.Get("segment"), Touchpoint: f.Get("touchpoint"), Cost: f.optionalFloat("cost")}
		if h := f.Get("holdout"); h != "" {
			pct, err := strconv.ParseFloat(h, 64)
			if err != nil || pct < 1 || pct > 50 {
				f.fail("holdout", "Give a share from 1 to 50 per cent.")
			}
			o.HoldoutShare = pct / 100
		}
		if v := f.Get("seed"); v != "" {
			seed, err := strconv.ParseInt(v, 10, 64)
			if err != nil || seed < 1 {
				f.fail("seed", "Give a whole number from 1, or leave it empty.")
			}
			o.Seed = seed
		}
		days, err := strconv.Atoi(f.Get("days"))
		if err != nil || days < 1 || days > 366 {
			f.fail("days", "Give a number of days from 1 to 366.")
		}
		if !f.Invalid() {
			now := s.Clock().UTC()
			o.StartsAt, o.EndsAt = now, now.AddDate(0, 0, days)
			err := s.Offers.CreateOffer(r.Context(), o)
			if err == nil {
				setFlash(w, r, fmt.Sprintf("Offer started: %d customers to make it to, %d held out.", o.Offered, o.Holdout))
				redirect(w, r, "/offers/"+url.PathEscape(o.ID))
				return
			}
			if !f.fromError(err, map[string]string{"holdout_share": "holdout", "ends_at": "days"}) {
				s.serverError(w, r, err)
				return
			}
		}
		s.renderOfferForm(w, r, http.StatusUnprocessableEntity, f)
	})
}

func (s *server) offerPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, err := s.offerData(r)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "offer", "", s.newPage(r, d.Offer.Name, "offers", d))
	})
}

// offerData reads the offer, its report and the page of its list the
// query asks for: ?mine=1 for the user's own customers, ?all=1 to show
// those given the offer too.
func (s *server) offerData(r *http.Request) (*offerData, error) {
	ctx, id, q := r.Context(), r.PathValue("id"), r.URL.Query()
	rep, err := s.Offers.OfferReport(ctx, id)
	if err != nil {
		return nil, err
	}
	d := &offerData{Offer: rep.Offer, Report: rep, Mine: q.Get("mine") == "1", Open: q.Get("all") != "1",
		Channels: rapport.Channels}
	for _, win := range rep.Windows {
		d.Charts = append(d.Charts, newUpliftChart(win, "Offered"))
	}
	if d.Touchpoint, err = s.Touchpoints.FindTouchpointByKey(ctx, rep.Offer.Touchpoint); err == nil && len(d.Touchpoint.Channels) > 0 {
		d.Channels = d.Touchpoint.Channels
	}
	f := rapport.OfferCustomerFilter{Open: d.Open, Limit: offerListSize, Cursor: q.Get("cursor")}
	if d.Mine {
		f.Owner = currentUser(r).ID
	}
	page, err := s.Offers.OfferCustomers(ctx, id, f)
	if rapport.ErrorCode(err) == rapport.EINVALID && f.Cursor != "" {
		f.Cursor = "" // a stale or mangled cursor: start again
		page, err = s.Offers.OfferCustomers(ctx, id, f)
	}
	if err != nil {
		return nil, err
	}
	d.Customers = page.Items
	d.Next = listNext("/offers/"+url.PathEscape(id), page.NextCursor, d.Mine, d.Open)
	return d, nil
}

// listNext is the link to the next page of an offer's or a gesture rule's
// list at base, keeping its choices; "" when there is none.
func listNext(base, cursor string, mine, open bool) string {
	if cursor == "" {
		return ""
	}
	v := url.Values{"cursor": {cursor}}
	if mine {
		v.Set("mine", "1")
	}
	if !open {
		v.Set("all", "1")
	}
	return base + "?" + v.Encode()
}

// offerGive logs the offer's moment for one offered customer, at the
// offer's cost, which closes them on the list.
func (s *server) offerGive() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o, err := s.Offers.FindOfferByID(r.Context(), r.PathValue("id"))
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.logGiven(w, r, "/offers/"+url.PathEscape(o.ID), o.Touchpoint, o.Cost, "offer", "Offer given and logged as a moment.")
	})
}

// logGiven logs the moment that gives an offer or a gesture (what) to the
// customer the form names, at its touchpoint and cost, and goes back to its
// list at base saying how it went.
func (s *server) logGiven(w http.ResponseWriter, r *http.Request, base, touchpoint string, cost float64, what, done string) {
	r.ParseForm()
	f := newForm(r.PostForm)
	back := base
	if f.Get("mine") == "1" {
		back += "?mine=1"
	}
	m := &rapport.Moment{CustomerID: f.Get("customer_id"), Touchpoint: touchpoint, Channel: rapport.Channel(f.Get("channel")),
		StaffID: currentUser(r).ID, Response: f.Get("response"), Rating: f.optionalInt("rating"), Notes: f.Get("notes"), Cost: cost,
		OccurredAt: s.Clock().UTC()}
	if _, err := s.Moments.RecordMoment(r.Context(), m); err != nil {
		if rapport.ErrorCode(err) != rapport.EINVALID {
			s.serverError(w, r, err)
			return
		}
		setFlash(w, r, "The "+what+" was not logged: "+offerGiveProblem(err))
		redirect(w, r, back)
		return
	}
	setFlash(w, r, done)
	redirect(w, r, back)
}

// offerGiveProblem says in a sentence what was wrong with a moment.
func offerGiveProblem(err error) string {
	var parts []string
	for _, fe := range rapport.ErrorFields(err) {
		parts = append(parts, fe.Field+" "+fe.Message)
	}
	if len(parts) == 0 {
		return rapport.ErrorMessage(err)
	}
	return strings.Join(parts, "; ") + "."
}

// upliftChart draws each figure's difference offered − holdout with its
// 95% interval, on a scale of its own centred on no difference.
type upliftChart struct {
	W, H, Mid, Top, Bottom float64
	Rows                   []upliftRow
	Summary                string
	Days                   int
	Complete               bool
}

type upliftRow struct {
	Y, TextY      float64
	ValueY        float64
	X, Lo, Hi     float64
	Name, Value   string
	Class         string // magic when significantly good, misery when bad
	Void          bool
	Offered, Held string
}

const upliftRowH = 70

// treated names the arm compared with the holdout, for the chart's summary.
func newUpliftChart(win rapport.OfferWindow, treated string) upliftChart {
	c := upliftChart{W: 560, Top: 4, Days: win.Days, Complete: win.Complete}
	c.H = c.Top + float64(len(win.Metrics))*upliftRowH + 4
	c.Bottom = c.H - 4
	c.Mid = c.W / 2
	half := c.W/2 - 24
	var summary []string
	for i, m := range win.Metrics {
		row := upliftRow{TextY: c.Top + float64(i)*upliftRowH + 16, ValueY: c.Top + float64(i)*upliftRowH + 36,
			Y: c.Top + float64(i)*upliftRowH + 54, Name: m.Name,
			Offered: offerValue(m.Unit, m.Offered), Held: offerValue(m.Unit, m.Holdout)}
		if m.Difference == nil {
			row.Void, row.Value = true, "too little to compare"
		} else {
			scale := math.Max(math.Abs(*m.Low), math.Abs(*m.High))
			if scale == 0 {
				scale = 1
			}
			at := func(v float64) float64 { return c.Mid + half*v/scale }
			row.X, row.Lo, row.Hi = at(*m.Difference), at(*m.Low), at(*m.High)
			bound := func(v float64) string { return strings.TrimSuffix(signedOfferValue(m.Unit, v), " points") }
			row.Value = fmt.Sprintf("%s (%s to %s)", signedOfferValue(m.Unit, *m.Difference), bound(*m.Low), bound(*m.High))
			if m.Significant {
				good := *m.Difference > 0
				if m.Key == "cost_per_customer" {
					good = !good
				}
				row.Class = "misery"
				if good {
					row.Class = "magic"
				}
			}
		}
		summary = append(summary, m.Name+": "+row.Value)
		c.Rows = append(c.Rows, row)
	}
	c.Summary = fmt.Sprintf("%s minus holdout over %d days, with 95%% intervals. %s.", treated, win.Days, strings.Join(summary, "; "))
	return c
}

// offerValue writes one arm's figure, or a dash.
func offerValue(unit string, v *float64) string {
	if v == nil {
		return "–"
	}
	return rapport.FormatOfferValue(unit, *v, false)
}

// signedOfferValue writes a difference with its sign.
func signedOfferValue(unit string, v float64) string {
	s := rapport.FormatOfferValue(unit, v, true)
	if v > 0 {
		return "+" + s
	}
	return s
}
