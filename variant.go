package rapport

import (
	"context"
	"fmt"
	"time"
)

// StandardVariant is a segment's own standard at a touchpoint: "for
// customers in Prefers email, the standard is reply_by_email". It is
// promoted only when the response beats every other on the segment's own
// moments, by the test that names a touchpoint's winner, and it is watched
// for decay on its own, on the segment's moments.
type StandardVariant struct {
	ID          string     `json:"id"`
	Touchpoint  string     `json:"touchpoint"`
	SegmentID   string     `json:"segment_id"`
	SegmentName string     `json:"segment_name"`
	Response    string     `json:"response"`
	Since       time.Time  `json:"since"`
	EndedAt     *time.Time `json:"ended_at,omitempty"`
	PromotedBy  string     `json:"promoted_by,omitempty"`
	// The magic rate of the segment's moments with the response before
	// promotion and since (as the segment stands now).
	BaselineMoments   int      `json:"baseline_moments"`
	BaselineMagicRate *float64 `json:"baseline_magic_rate"`
	CurrentMoments    int      `json:"current_moments"`
	CurrentMagicRate  *float64 `json:"current_magic_rate"`
	// Decayed is true when the magic rate since promotion is significantly
	// below the baseline.
	Decayed     bool    `json:"decayed"`
	PValue      float64 `json:"p_value"`
	Explanation string  `json:"explanation"`
}

// DecayMessage is the one line an alert says of a decayed variant.
func (v *StandardVariant) DecayMessage() string {
	return fmt.Sprintf("The standard “%s” for customers in %q at %s has decayed. %s", KeyName(v.Response), v.SegmentName, KeyName(v.Touchpoint), v.Explanation)
}

// CheckVariantEvidence says whether a comparison on a segment's moments
// allows promoting response as the segment's standard: only its winner may
// be promoted.
func CheckVariantEvidence(c *Comparison, segmentName, response string) error {
	if c.Winner != nil && *c.Winner == response {
		return nil
	}
	msg := fmt.Sprintf("“%s” is not proven better than every other response for customers in %q. %s", KeyName(response), segmentName, c.Explanation)
	return &Error{Code: ECONFLICT, Message: msg, Fields: []FieldError{{Field: "response", Message: "is not the winner within the segment"}}}
}

// VariantService keeps segment variants of service standards.
type VariantService interface {
	// CompareInSegment compares the touchpoint's active responses on the
	// moments of the segment's customers, as CompareResponses does on all.
	CompareInSegment(ctx context.Context, touchpoint, segmentID string) (*Comparison, error)
	// PromoteVariant makes response the segment's standard at the
	// touchpoint when it wins within the segment; the segment's previous
	// variant there ends.
	PromoteVariant(ctx context.Context, touchpoint, segmentID, response string) (*StandardVariant, error)
	// FindVariants returns the touchpoint's current variants, each with its
	// own decay watch.
	FindVariants(ctx context.Context, touchpoint string) ([]*StandardVariant, error)
}
