package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// TestSavedViews keeps views per user: listed by name, replaced when saved
// again under the same name, at most MaxSavedViews each, deleted only by
// their owner, and a nameless one refused.
func TestSavedViews(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		views := sqlstore.NewSavedViewService(s.db)
		ann, bob := s.user(t, "Ann Agent"), s.user(t, "Bob Agent")
		for _, v := range []*rapport.SavedView{
			{UserID: ann.ID, Name: "  at risk ", Query: "risk=high"},
			{UserID: ann.ID, Name: "Mine", Query: "owner=me"},
			{UserID: bob.ID, Name: "Mine", Query: "owner=me&sort=risk"},
			{UserID: ann.ID, Name: "at risk", Query: "risk=high&sort=risk"},
		} {
			if err := views.SaveView(ctx, v); err != nil {
				t.Fatalf("SaveView(%q) = %v", v.Name, err)
			}
		}
		got, err := views.FindSavedViews(ctx, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		var listed []string
		for _, v := range got {
			listed = append(listed, v.Name+"?"+v.Query)
		}
		if want := []string{"at risk?risk=high&sort=risk", "Mine?owner=me"}; !slices.Equal(listed, want) {
			t.Errorf("Ann's views = %q; want %q", listed, want)
		}
		if err := views.DeleteSavedView(ctx, bob.ID, got[0].ID); rapport.ErrorCode(err) != rapport.ENOTFOUND {
			t.Errorf("Bob deleting Ann's view = %v; want %s", err, rapport.ENOTFOUND)
		}
		if err := views.DeleteSavedView(ctx, ann.ID, got[0].ID); err != nil {
			t.Errorf("DeleteSavedView = %v", err)
		}
		if after, _ := views.FindSavedViews(ctx, ann.ID); len(after) != 1 || after[0].Name != "Mine" {
			t.Errorf("after deleting, Ann has %d views; want Mine alone", len(after))
		}
		if err := views.SaveView(ctx, &rapport.SavedView{UserID: ann.ID, Name: "  ", Query: ""}); !slices.Equal(fieldNames(err), []string{"name"}) {
			t.Errorf("SaveView(no name) = %v; want the name refused", err)
		}
		for i := range rapport.MaxSavedViews - 1 {
			if err := views.SaveView(ctx, &rapport.SavedView{UserID: ann.ID, Name: fmt.Sprintf("view %d", i)}); err != nil {
				t.Fatalf("SaveView(view %d) = %v", i, err)
			}
		}
		if err := views.SaveView(ctx, &rapport.SavedView{UserID: ann.ID, Name: "one too many"}); rapport.ErrorCode(err) != rapport.ECONFLICT {
			t.Errorf("SaveView past the limit = %v; want %s", err, rapport.ECONFLICT)
		}
		if err := views.SaveView(ctx, &rapport.SavedView{UserID: ann.ID, Name: "Mine", Query: "owner=me&stage=commitment"}); err != nil {
			t.Errorf("saving over a view at the limit = %v; want it replaced", err)
		}
	})
}
