package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/rapport-crm/rapport"
)

// Service rules: the recovery policy, each touchpoint's service level and
// the stage rules, which managers and admins change, as in the API, with
// the same checks and messages.

// rulesData is the service rules page: each form with what it holds now
// (or what was posted, with its errors).
type rulesData struct {
	Policy, Levels, Stages *form
	Touchpoints            []*rapport.Touchpoint
	MaxHours               int
}

// intText writes a number for a form field.
func intText(n int) string { return strconv.Itoa(n) }

func floatText(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

func boolText(b bool) string {
	if b {
		return "on"
	}
	return ""
}

// policyForm is the recovery policy as its form shows it.
func policyForm(p *rapport.RecoveryPolicy) *form {
	return newForm(url.Values{"assign_to_owner": {boolText(p.AssignToOwner)}, "queue": {p.Queue},
		"escalation_role": {string(p.EscalationRole)}, "open_within_days": {intText(p.OpenWithinDays)}})
}

// stagesForm is the stage rules as their form shows them.
func stagesForm(r *rapport.StageRules) *form {
	return newForm(url.Values{"exploration_moments": {intText(r.ExplorationMoments)}, "expansion_products": {intText(r.ExpansionProducts)},
		"commitment_products": {intText(r.CommitmentProducts)}, "commitment_years": {floatText(r.CommitmentYears)},
		"min_rating": {floatText(r.MinRating)}, "silence_days": {intText(r.SilenceDays)}, "lapsed_days": {intText(r.LapsedDays)},
		"auto_apply": {boolText(r.AutoApply)}, "auto_dissolve": {boolText(r.AutoDissolve)}})
}

// levelsForm is every touchpoint's service level, hours_<key> each.
func (s *server) levelsForm(r *http.Request, tps []*rapport.Touchpoint) (*form, error) {
	v := url.Values{}
	for _, t := range tps {
		sl, err := s.Recovery.FindServiceLevel(r.Context(), t.Key)
		if err != nil {
			return nil, err
		}
		v.Set("hours_"+t.Key, intText(sl.Hours))
	}
	return newForm(v), nil
}

// renderRules shows the page; a nil form is filled from what is kept.
func (s *server) renderRules(w http.ResponseWriter, r *http.Request, status int, d rulesData) {
	ctx := r.Context()
	var err error
	if d.Touchpoints, err = s.Touchpoints.FindTouchpoints(ctx); err != nil {
		s.serverError(w, r, err)
		return
	}
	d.MaxHours = rapport.MaxServiceLevelHours
	if d.Policy == nil {
		p, err := s.Recovery.FindRecoveryPolicy(ctx)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		d.Policy = policyForm(p)
	}
	if d.Levels == nil {
		if d.Levels, err = s.levelsForm(r, d.Touchpoints); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	if d.Stages == nil {
		rules, err := s.Stages.StageRules(ctx)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		d.Stages = stagesForm(rules)
	}
	s.render(w, r, status, "settings_rules", "", s.newPage(r, "Service rules", "settings", d))
}

func (s *server) rulesPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderRules(w, r, http.StatusOK, rulesData{})
	})
}

// intField reads a whole number the form needs.
func (f *form) intField(name string) int {
	n := f.optionalInt(name)
	if n == nil {
		f.fail(name, "Enter a whole number.")
		return 0
	}
	return *n
}

// saved answers a form of the rules page: back to the page saying so, or
// the page again with the form's errors and nothing changed.
func (s *server) saved(w http.ResponseWriter, r *http.Request, fm *form, err error, d rulesData, done, anchor string) {
	if err != nil && !fm.fromError(err, nil) {
		s.serverError(w, r, err)
		return
	}
	if fm.Invalid() {
		s.renderRules(w, r, http.StatusUnprocessableEntity, d)
		return
	}
	setFlash(w, r, done)
	redirect(w, r, "/settings/rules#"+anchor)
}

func (s *server) policySave() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fm := newForm(r.PostForm)
		p := rapport.RecoveryPolicy{AssignToOwner: fm.Get("assign_to_owner") != "", Queue: fm.Get("queue"),
			EscalationRole: rapport.Role(fm.Get("escalation_role")), OpenWithinDays: fm.intField("open_within_days")}
		var err error
		if !fm.Invalid() {
			_, err = s.Recovery.SetRecoveryPolicy(r.Context(), p)
		}
		s.saved(w, r, fm, err, rulesData{Policy: fm}, "Recovery policy saved: it applies to the cases that open from now on.", "policy")
	})
}

func (s *server) levelsSave() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fm := newForm(r.PostForm)
		tps, err := s.Touchpoints.FindTouchpoints(r.Context())
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		// Every level is checked before any is kept, so a mistake in one
		// changes none.
		var levels []rapport.ServiceLevel
		for _, t := range tps {
			name := "hours_" + t.Key
			if fm.Get(name) == "" {
				continue
			}
			sl := rapport.ServiceLevel{Touchpoint: t.Key, Hours: fm.intField(name)}
			if err := sl.Validate(); err != nil {
				fm.fromError(err, map[string]string{"hours": name})
			}
			levels = append(levels, sl)
		}
		if !fm.Invalid() {
			for _, sl := range levels {
				if _, err = s.Recovery.SetServiceLevel(r.Context(), sl); err != nil {
					break
				}
			}
		}
		s.saved(w, r, fm, err, rulesData{Levels: fm}, "Service levels saved: cases that open from now on are due within them.", "levels")
	})
}

func (s *server) stageRulesSave() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fm := newForm(r.PostForm)
		rules := rapport.StageRules{ExplorationMoments: fm.intField("exploration_moments"), ExpansionProducts: fm.intField("expansion_products"),
			CommitmentProducts: fm.intField("commitment_products"), CommitmentYears: fm.optionalFloat("commitment_years"),
			MinRating: fm.optionalFloat("min_rating"), SilenceDays: fm.intField("silence_days"), LapsedDays: fm.intField("lapsed_days"),
			AutoApply: fm.Get("auto_apply") != "", AutoDissolve: fm.Get("auto_dissolve") != ""}
		var err error
		if !fm.Invalid() {
			_, err = s.Stages.SetStageRules(r.Context(), rules)
		}
		s.saved(w, r, fm, err, rulesData{Stages: fm}, "Stage rules saved: customers are measured against them from now on.", "stages")
	})
}
