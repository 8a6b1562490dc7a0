package rapport

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Who changed a stage when no person did.
const (
	// ChangedByInference marks a stage change that Rapport's stage inference applied.
	ChangedByInference = "inference"
)

// StageReasonCreated is the reason of a customer's first stage change, when
// they were created in a stage.
const StageReasonCreated = "created"

// StageSetBy is how a customer's current stage was set.
type StageSetBy string

// How the current stage was set.
const (
	StageSetByHand      StageSetBy = "manual"    // a person chose it; inference only proposes
	StageSetByInference StageSetBy = "inference" // the stage rules applied it
	StageSetOtherwise   StageSetBy = "system"    // set when the customer was created or imported
)

// ByHand reports whether a person chose the stage.
func (s StageSetBy) ByHand() bool { return s == StageSetByHand }

// ByInference reports whether the stage rules applied the stage.
func (s StageSetBy) ByInference() bool { return s == StageSetByInference }

// StageChangerKind is who made a stage change: a user, an API token, the
// stage rules, or the system (creation, import, the demo).
type StageChangerKind string

// Kinds of who made a stage change.
const (
	ChangerUser      StageChangerKind = "user"
	ChangerToken     StageChangerKind = "token"
	ChangerInference StageChangerKind = "inference"
	ChangerSystem    StageChangerKind = "system"
)

// ChangerKindOf says who made a stage change from its changed_by: a user
// when it names one (isUser), a token ("token:…"), the stage rules, or
// otherwise the system.
func ChangerKindOf(changedBy string, isUser bool) StageChangerKind {
	switch {
	case isUser:
		return ChangerUser
	case strings.HasPrefix(changedBy, "token:"):
		return ChangerToken
	case changedBy == ChangedByInference:
		return ChangerInference
	}
	return ChangerSystem
}

// IsInference reports whether the stage rules made the change.
func (k StageChangerKind) IsInference() bool { return k == ChangerInference }

// StageInput is a stage set by hand.
type StageInput struct {
	Stage  Stage  `json:"stage"`
	Reason string `json:"reason"`
	// DissolutionReason is required when Stage is dissolution, and refused otherwise.
	DissolutionReason string `json:"dissolution_reason"`
	// ChangedAt dates a change that happened in the past, so that a firm
	// can bring in its history; nil means now. It must come after the
	// customer's latest known change and not be in the future.
	ChangedAt *time.Time `json:"changed_at,omitempty"`
}

// Validate checks a stage set by hand.
func (in *StageInput) Validate() error {
	v := validation{index: -1}
	in.Reason = strings.TrimSpace(in.Reason)
	if in.Stage == "" {
		v.add("stage", "is required")
	} else if !validStage(in.Stage) {
		v.add("stage", "must be one of %s", StageNames())
	}
	checkText(&v, "reason", in.Reason, 1, 500)
	switch {
	case in.Stage == StageDissolution && in.DissolutionReason == "":
		v.add("dissolution_reason", "is required for dissolution: one of %s", strings.Join(DissolutionReasons, ", "))
	case in.Stage == StageDissolution && !slices.Contains(DissolutionReasons, in.DissolutionReason):
		v.add("dissolution_reason", "must be one of %s", strings.Join(DissolutionReasons, ", "))
	case in.Stage != StageDissolution && in.DissolutionReason != "":
		v.add("dissolution_reason", "is only for the dissolution stage")
	}
	return v.err("stage change")
}

// StageProposal is a stage the inference rules suggest but did not apply:
// because a person set the current stage, or because the move is one that
// needs a person's judgement (dissolution, or coming back from it).
type StageProposal struct {
	Stage             Stage     `json:"stage"`
	Reason            string    `json:"reason"`
	DissolutionReason string    `json:"dissolution_reason,omitempty"`
	ProposedAt        time.Time `json:"proposed_at"`
}

// StageStatus is a customer's current stage, how it was set, and what the
// inference rules propose, if anything.
type StageStatus struct {
	CustomerID string `json:"customer_id"`
	Stage      Stage  `json:"stage"`
	// SetBy is manual, inference or system.
	SetBy StageSetBy `json:"set_by"`
	// Since is when the customer reached the stage.
	Since time.Time `json:"since"`
	// LastChange is the step that led to the stage.
	LastChange *StageChange `json:"last_change,omitempty"`
	// Proposal is what the rules suggest instead, or nil.
	Proposal *StageProposal `json:"proposal"`
}

// StageHistoryEntry is one stage change with who made it, in words.
type StageHistoryEntry struct {
	StageChange
	// ChangedByKind is user, token, inference, or system (creation, import, demo).
	ChangedByKind StageChangerKind `json:"changed_by_kind"`
	// ChangedByName is the user's name when a user made the change.
	ChangedByName string `json:"changed_by_name,omitempty"`
}

// StageRules are the rules that infer a customer's stage from the pattern of
// their moments and holdings. Moves forward through the lifecycle are applied
// unless a person set the current stage; a stage never moves backwards by
// inference. Dissolution and coming back from it are proposed for a person
// to confirm, unless AutoDissolve is set. docs/relationships.md says the same
// in plain words.
type StageRules struct {
	// ExplorationMoments moves awareness to exploration after this many
	// moments in the last 90 days, even before a first product.
	ExplorationMoments int `json:"exploration_moments"`
	// ExpansionProducts moves a customer to expansion once they hold this
	// many different products.
	ExpansionProducts int `json:"expansion_products"`
	// CommitmentProducts moves a customer to commitment once they hold this
	// many different products…
	CommitmentProducts int `json:"commitment_products"`
	// …or CommitmentYears after becoming a customer while holding
	// ExpansionProducts.
	CommitmentYears float64 `json:"commitment_years"`
	// MinRating holds a customer back from expansion and commitment while the
	// mean rating of their last 90 days is below it (when they have at least
	// two ratings): an unhappy customer is not committed, whatever they hold.
	MinRating float64 `json:"min_rating"`
	// SilenceDays proposes dissolution (reason low_volume) when a customer who
	// holds no product has had no moment for this many days.
	SilenceDays int `json:"silence_days"`
	// LapsedDays proposes dissolution (reason other) when every product the
	// customer held ended at least this many days ago.
	LapsedDays int `json:"lapsed_days"`
	// AutoApply applies forward moves; when false every move is only proposed.
	AutoApply bool `json:"auto_apply"`
	// AutoDissolve applies dissolution too, rather than proposing it.
	AutoDissolve bool `json:"auto_dissolve"`
}

// DefaultStageRules are the rules a firm starts with.
func DefaultStageRules() StageRules {
	return StageRules{
		ExplorationMoments: 5,
		ExpansionProducts:  2,
		CommitmentProducts: 3,
		CommitmentYears:    3,
		MinRating:          3,
		SilenceDays:        365,
		LapsedDays:         60,
		AutoApply:          true,
		AutoDissolve:       false,
	}
}

// Validate checks that the rules make sense together.
func (r *StageRules) Validate() error {
	v := validation{index: -1}
	if r.ExplorationMoments < 1 || r.ExplorationMoments > 1000 {
		v.add("exploration_moments", "must be from 1 to 1000")
	}
	if r.ExpansionProducts < 1 || r.ExpansionProducts > 100 {
		v.add("expansion_products", "must be from 1 to 100")
	}
	if r.CommitmentProducts < r.ExpansionProducts || r.CommitmentProducts > 100 {
		v.add("commitment_products", "must be from expansion_products to 100")
	}
	if r.CommitmentYears < 0 || r.CommitmentYears > 50 {
		v.add("commitment_years", "must be from 0 to 50 (0 turns the rule off)")
	}
	if r.MinRating < 0 || r.MinRating > 5 {
		v.add("min_rating", "must be from 0 to 5 (0 turns the rule off)")
	}
	if r.SilenceDays < 0 || r.SilenceDays > 3650 {
		v.add("silence_days", "must be from 0 to 3650 (0 turns the rule off)")
	}
	if r.LapsedDays < 0 || r.LapsedDays > 3650 {
		v.add("lapsed_days", "must be from 0 to 3650 (0 turns the rule off)")
	}
	return v.err("stage rules")
}

// StageFacts are what the stage rules look at for one customer, as of Now.
type StageFacts struct {
	Now     time.Time
	Created time.Time
	// Stage is the current stage and StageSince when it was reached.
	Stage      Stage
	StageSince time.Time
	// Products is how many different products the customer holds now;
	// EverHeld how many holdings they ever had, and LastEnded when the latest
	// of them ended (zero when one is still held or none ended).
	Products  int
	EverHeld  int
	LastEnded time.Time
	Moments90 int
	// Rated90 ratings with mean Rating90 over the last 90 days.
	Rated90  int
	Rating90 float64
	// LastMoment is when the latest moment happened; zero when none.
	LastMoment time.Time
}

// StageInference is what the rules conclude for one customer.
type StageInference struct {
	// Stage is where the rules would put the customer; "" when they would
	// leave the stage as it is.
	Stage             Stage
	Reason            string
	DissolutionReason string
	// Apply is true when the rules may make the move themselves; otherwise
	// it is a proposal for a person.
	Apply bool
}

// InferStage applies the rules to one customer's facts. manual says a person
// set the current stage: then every move is a proposal.
func (r StageRules) InferStage(f StageFacts, manual bool) StageInference {
	days := func(t time.Time) int { return int(f.Now.Sub(t).Hours() / 24) }
	unhappy := r.MinRating > 0 && f.Rated90 >= 2 && f.Rating90 < r.MinRating
	var forward Stage
	reason := ""
	switch {
	case f.Products >= r.CommitmentProducts && !unhappy:
		forward, reason = StageCommitment, plural(f.Products, "product", "products")+" held"
	case r.CommitmentYears > 0 && f.Products >= r.ExpansionProducts && !unhappy &&
		!f.Created.IsZero() && f.Now.Sub(f.Created) >= time.Duration(r.CommitmentYears*365*24)*time.Hour:
		forward, reason = StageCommitment, plural(f.Products, "product", "products")+" held for over "+trimFloat(r.CommitmentYears)+" years as a customer"
	case f.Products >= r.ExpansionProducts && !unhappy:
		forward, reason = StageExpansion, plural(f.Products, "product", "products")+" held"
	case f.Products >= 1:
		forward, reason = StageExploration, "first product held"
	case f.Moments90 >= r.ExplorationMoments:
		forward, reason = StageExploration, plural(f.Moments90, "moment", "moments")+" in 90 days"
	default:
		forward = StageAwareness
	}

	// A relationship that has gone quiet: propose dissolution.
	if f.Stage != StageDissolution && f.Products == 0 {
		quietSince := f.LastMoment
		if quietSince.IsZero() || quietSince.Before(f.Created) {
			quietSince = f.Created
		}
		switch {
		case r.LapsedDays > 0 && f.EverHeld > 0 && !f.LastEnded.IsZero() && days(f.LastEnded) >= r.LapsedDays &&
			!f.LastMoment.After(f.LastEnded):
			return StageInference{Stage: StageDissolution, DissolutionReason: DissolutionOther,
				Reason: "every product ended " + plural(days(f.LastEnded), "day", "days") + " ago and none is held",
				Apply:  r.AutoDissolve && r.AutoApply && !manual}
		case r.SilenceDays > 0 && !quietSince.IsZero() && days(quietSince) >= r.SilenceDays:
			return StageInference{Stage: StageDissolution, DissolutionReason: DissolutionLowVolume,
				Reason: "silent for " + plural(days(quietSince), "day", "days") + " and holds no product",
				Apply:  r.AutoDissolve && r.AutoApply && !manual}
		}
	}
	if f.Stage == StageDissolution {
		// Coming back needs a product and a moment since the dissolution.
		if f.Products > 0 && f.LastMoment.After(f.StageSince) {
			return StageInference{Stage: forward, Reason: "active again: " + reason}
		}
		return StageInference{}
	}
	if stageOrder(forward) <= stageOrder(f.Stage) {
		return StageInference{}
	}
	return StageInference{Stage: forward, Reason: reason, Apply: r.AutoApply && !manual}
}

// stageOrder is a stage's place in the lifecycle.
func stageOrder(stage Stage) int { return slices.Index(Stages, stage) }

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func trimFloat(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// StageService keeps customers' stages: set by hand, inferred, and their history.
type StageService interface {
	// StageStatus returns the current stage, how it was set and any proposal.
	StageStatus(ctx context.Context, customerID string) (*StageStatus, error)
	// SetStage sets the stage by hand, records the change and clears any
	// proposal; from then on inference only proposes.
	SetStage(ctx context.Context, customerID string, in StageInput) (*StageStatus, error)
	// ReleaseStage hands a stage set by hand back to the rules.
	ReleaseStage(ctx context.Context, customerID string) (*StageStatus, error)
	// DismissProposal sets aside what the rules propose: the stage stays,
	// and the rules do not propose that stage again until they first
	// conclude something else. ECONFLICT when there is no proposal.
	DismissProposal(ctx context.Context, customerID string) (*StageStatus, error)
	// StageHistory returns every stage change, oldest first.
	StageHistory(ctx context.Context, customerID string) ([]*StageHistoryEntry, error)
	// StageRules returns the rules inference uses.
	StageRules(ctx context.Context) (*StageRules, error)
	// SetStageRules replaces the rules; they apply from the next moment or sweep.
	SetStageRules(ctx context.Context, r StageRules) (*StageRules, error)
}
