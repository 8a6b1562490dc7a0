package rapport

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// SavedView is a filter and order of the customer list that one member of
// staff named, to come back to. Query is the list's address parameters.
type SavedView struct {
	ID        string    `json:"id"`
	UserID    string    `json:"user_id"`
	Name      string    `json:"name"`
	Query     string    `json:"query"`
	CreatedAt time.Time `json:"created_at"`
}

// Limits on saved views.
const (
	maxViewName  = 60
	maxViewQuery = 2000
	// MaxSavedViews is how many views one member of staff may keep.
	MaxSavedViews = 30
)

// Validate checks a view's name and query, trimming the name.
func (v *SavedView) Validate() error {
	val := validation{index: -1}
	v.Name = strings.TrimSpace(v.Name)
	switch {
	case v.Name == "":
		val.add("name", "Give the view a name.")
	case utf8.RuneCountInString(v.Name) > maxViewName:
		val.add("name", "Keep the name to %d characters.", maxViewName)
	case !StorableText(v.Name):
		val.add("name", "The name has characters that cannot be stored.")
	}
	if len(v.Query) > maxViewQuery || !StorableText(v.Query) {
		val.add("query", "The view's filter is too long to keep.")
	}
	return val.err("view")
}

// SavedViewService keeps each member of staff's views of the customer list.
type SavedViewService interface {
	// FindSavedViews lists a user's views by name.
	FindSavedViews(ctx context.Context, userID string) ([]*SavedView, error)
	// SaveView keeps a view, replacing the user's view of the same name;
	// a user may keep MaxSavedViews.
	SaveView(ctx context.Context, v *SavedView) error
	// DeleteSavedView removes one of the user's views; ENOTFOUND when the
	// user has no view with that id.
	DeleteSavedView(ctx context.Context, userID, id string) error
}
