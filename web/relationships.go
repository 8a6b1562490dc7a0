package web

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/rapport-crm/rapport"
)

// The relationship panel of the customer page: the stage and its history,
// health and dissolution risk with their factors, holdings, referrals and
// cross-sell suggestions. Each part shows only when its service is set.

// customerRel is the relationship panel's data.
type customerRel struct {
	Status    *rapport.StageStatus
	History   []*rapport.StageHistoryEntry
	Health    *rapport.CustomerHealth
	Holdings  []*rapport.Holding
	Products  []*rapport.Product // those the customer does not hold now, to add
	Names     map[string]string  // product key to name
	Referrals *rapport.Referrals
	CrossSell *rapport.CrossSell
	Stage     *form // set the stage by hand
	Holding   *form // add a holding
	Reasons   []string
}

// relForms carries forms posted with errors to the customer page, which
// renderCustomer draws again.
type relForms struct{ stage, holding *form }

type relFormsKey struct{}

func withRelForms(r *http.Request, f relForms) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), relFormsKey{}, f))
}

// customerRelationship gathers the panel.
func (s *server) customerRelationship(r *http.Request, c *rapport.Customer) (*customerRel, error) {
	ctx := r.Context()
	forms, _ := ctx.Value(relFormsKey{}).(relForms)
	d := &customerRel{Stage: forms.stage, Holding: forms.holding, Reasons: rapport.DissolutionReasons, Names: map[string]string{}}
	if d.Stage == nil {
		d.Stage = newForm(url.Values{"stage": {string(c.Stage)}})
	}
	if d.Holding == nil {
		d.Holding = newForm(nil)
	}
	var err error
	if d.Status, err = s.Stages.StageStatus(ctx, c.ID); err != nil {
		return nil, err
	}
	if d.History, err = s.Stages.StageHistory(ctx, c.ID); err != nil {
		return nil, err
	}
	// Newest first reads best beside the timeline.
	for i, j := 0, len(d.History)-1; i < j; i, j = i+1, j-1 {
		d.History[i], d.History[j] = d.History[j], d.History[i]
	}
	if d.Health, err = s.HealthScores.CustomerHealth(ctx, c.ID); err != nil {
		return nil, err
	}
	products, err := s.Holdings.FindProducts(ctx)
	if err != nil {
		return nil, err
	}
	if d.Holdings, err = s.Holdings.FindHoldings(ctx, c.ID); err != nil {
		return nil, err
	}
	held := map[string]bool{}
	for _, h := range d.Holdings {
		if h.EndedAt == nil {
			held[h.Product] = true
		}
	}
	for _, p := range products {
		d.Names[p.Key] = p.Name
		if !held[p.Key] {
			d.Products = append(d.Products, p)
		}
	}
	if d.Referrals, err = s.Holdings.Referrals(ctx, c.ID); err != nil {
		return nil, err
	}
	if d.CrossSell, err = s.Holdings.CrossSell(ctx, c.ID); err != nil {
		return nil, err
	}
	return d, nil
}

// relPath is the customer page at its relationship panel.
func relPath(id string) string { return "/customers/" + url.PathEscape(id) + "#relationship" }

func (s *server) stageSet() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		f := newForm(r.PostForm)
		in := rapport.StageInput{Stage: rapport.Stage(f.Get("stage")), Reason: f.Get("reason")}
		if in.Stage == rapport.StageDissolution {
			in.DissolutionReason = f.Get("dissolution_reason")
		}
		id := r.PathValue("id")
		if _, err := s.Stages.SetStage(r.Context(), id, in); err != nil {
			if !f.fromError(err, map[string]string{"stage": "stage", "reason": "reason", "dissolution_reason": "dissolution_reason"}) {
				s.serverError(w, r, err)
				return
			}
			s.renderCustomer(w, withRelForms(r, relForms{stage: f}), http.StatusUnprocessableEntity, id, nil, false)
			return
		}
		setFlash(w, r, "Stage set to "+string(in.Stage)+".")
		redirect(w, r, relPath(id))
	})
}

// stageAccept applies the stage the rules propose, as if set by hand.
func (s *server) stageAccept() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		st, err := s.Stages.StageStatus(r.Context(), id)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if st.Proposal == nil {
			setFlash(w, r, "There is no proposal to accept any more.")
			redirect(w, r, relPath(id))
			return
		}
		p := st.Proposal
		if _, err := s.Stages.SetStage(r.Context(), id, rapport.StageInput{Stage: p.Stage, Reason: "Accepted proposal: " + p.Reason,
			DissolutionReason: p.DissolutionReason}); err != nil {
			s.serverError(w, r, err)
			return
		}
		setFlash(w, r, "Proposal accepted: stage set to "+string(p.Stage)+".")
		redirect(w, r, relPath(id))
	})
}

// stageRelease hands a stage set by hand back to the rules.
func (s *server) stageRelease() http.Handler {
	return s.stageAction(func(st rapport.StageService) stageActor { return st.ReleaseStage },
		"The stage is back in the hands of the rules.")
}

// stageDismiss sets aside what the rules propose.
func (s *server) stageDismiss() http.Handler {
	return s.stageAction(func(st rapport.StageService) stageActor { return st.DismissProposal },
		"Proposal dismissed: the rules will not propose it again until they conclude something else.")
}

// stageActor is an action on a customer's stage.
type stageActor func(ctx context.Context, customerID string) (*rapport.StageStatus, error)

// stageAction runs an action on the customer's stage and goes back to the
// relationship panel saying what it did; a conflict (the proposal went
// meanwhile) is said rather than shown as a failure.
func (s *server) stageAction(act func(rapport.StageService) stageActor, done string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		_, err := act(s.Stages)(r.Context(), id)
		switch {
		case rapport.ErrorCode(err) == rapport.ECONFLICT:
			done = rapport.ErrorMessage(err)
		case err != nil:
			s.serverError(w, r, err)
			return
		}
		setFlash(w, r, done)
		redirect(w, r, relPath(id))
	})
}

func (s *server) holdingAdd() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		f := newForm(r.PostForm)
		in := rapport.HoldingInput{Product: f.Get("product")}
		if v := f.Get("started"); v != "" {
			t, err := time.Parse(time.DateOnly, v)
			if err != nil {
				f.fail("started", "Enter a date such as 2026-03-01.")
			}
			in.StartedAt = t
		}
		if in.Product == "" {
			f.fail("product", "Choose a product.")
		}
		id := r.PathValue("id")
		if !f.Invalid() {
			_, err := s.Holdings.AddHolding(r.Context(), id, in)
			if err == nil {
				setFlash(w, r, "Holding added.")
				redirect(w, r, relPath(id))
				return
			}
			if !f.fromError(err, map[string]string{"product": "product", "started_at": "started"}) {
				s.serverError(w, r, err)
				return
			}
		}
		s.renderCustomer(w, withRelForms(r, relForms{holding: f}), http.StatusUnprocessableEntity, id, nil, false)
	})
}

func (s *server) holdingEnd() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if _, err := s.Holdings.EndHolding(r.Context(), id, r.PathValue("holding"), time.Time{}); err != nil {
			s.serverError(w, r, err)
			return
		}
		setFlash(w, r, "Holding ended.")
		redirect(w, r, relPath(id))
	})
}
