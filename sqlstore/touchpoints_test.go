package sqlstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
)

// TestCreateTouchpoint checks that a firm can add a touchpoint to the catalogue.
func TestCreateTouchpoint(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		tp := &rapport.Touchpoint{Key: "renewal", Name: " Renewal ", Description: "The yearly renewal call.",
			Phase: rapport.PhaseSale, Channels: []rapport.Channel{rapport.ChannelEmail, rapport.ChannelPhone},
			TargetScore: 4.5, Priority: ptr(3)}
		if err := s.touchpoints.CreateTouchpoint(ctx, tp); err != nil {
			t.Fatalf("CreateTouchpoint = %v", err)
		}
		if tp.Name != "Renewal" || !tp.CreatedAt.Equal(epoch) || !tp.UpdatedAt.Equal(epoch) {
			t.Errorf("CreateTouchpoint filled name %q, times %v %v; want Renewal at %v", tp.Name, tp.CreatedAt, tp.UpdatedAt, epoch)
		}
		got, err := s.touchpoints.FindTouchpointByKey(ctx, "renewal")
		if err != nil {
			t.Fatalf("FindTouchpointByKey = %v", err)
		}
		if show(got) != show(tp) {
			t.Errorf("FindTouchpointByKey =\n%s\nwant\n%s", show(got), show(tp))
		}
		all, err := s.touchpoints.FindTouchpoints(ctx)
		if err != nil || len(all) != 9 {
			t.Fatalf("FindTouchpoints = %d items, %v; want 9", len(all), err)
		}
		// The catalogue reads in journey order: pre-sales, sale, post-sales.
		rank := map[string]int{rapport.PhasePreSales: 0, rapport.PhaseSale: 1, rapport.PhasePostSales: 2}
		for i := 1; i < len(all); i++ {
			if rank[all[i].Phase] < rank[all[i-1].Phase] {
				t.Errorf("FindTouchpoints lists %s (%s) after %s (%s); want journey order", all[i].Key, all[i].Phase, all[i-1].Key, all[i-1].Phase)
			}
		}
		// The default target applies when none is given.
		plain := &rapport.Touchpoint{Key: "farewell", Name: "Farewell", Phase: rapport.PhasePostSales}
		if err := s.touchpoints.CreateTouchpoint(ctx, plain); err != nil || plain.TargetScore != 4 || plain.Priority != nil {
			t.Errorf("CreateTouchpoint(no target) = %v, target %v, priority %v; want target 4 and no priority", err, plain.TargetScore, plain.Priority)
		}
		_, err = s.touchpoints.FindTouchpointByKey(ctx, "nosuch")
		wantCode(t, "FindTouchpointByKey(unknown)", err, rapport.ENOTFOUND)
	})
}

// TestCreateTouchpointConflict checks that a touchpoint key is taken once.
func TestCreateTouchpointConflict(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		err := s.touchpoints.CreateTouchpoint(ctx, &rapport.Touchpoint{Key: "greeting", Name: "Hello again", Phase: rapport.PhaseSale})
		wantCode(t, "CreateTouchpoint(greeting)", err, rapport.ECONFLICT)
		if got, _ := s.touchpoints.FindTouchpointByKey(ctx, "greeting"); got.Name != "Greeting" || got.Phase != rapport.PhasePreSales {
			t.Errorf("after a conflict, greeting = %q %s; want the default kept", got.Name, got.Phase)
		}
		if n := s.count(t, "touchpoints", ""); n != 8 {
			t.Errorf("after a conflict, %d touchpoints; want 8", n)
		}
	})
}

// TestCreateTouchpointInvalid checks that invalid touchpoints are refused with the bad field named, and nothing stored.
func TestCreateTouchpointInvalid(t *testing.T) {
	valid := func() rapport.Touchpoint {
		return rapport.Touchpoint{Key: "renewal", Name: "Renewal", Phase: rapport.PhaseSale, TargetScore: 4}
	}
	tests := []struct {
		name   string
		change func(*rapport.Touchpoint)
		want   []string
	}{
		{"bad phase", func(tp *rapport.Touchpoint) { tp.Phase = "during" }, []string{"phase"}},
		{"no phase", func(tp *rapport.Touchpoint) { tp.Phase = "" }, []string{"phase"}},
		{"bad channel", func(tp *rapport.Touchpoint) { tp.Channels = []rapport.Channel{rapport.ChannelEmail, "fax"} }, []string{"channels"}},
		{"target above 5", func(tp *rapport.Touchpoint) { tp.TargetScore = 5.5 }, []string{"target_score"}},
		{"target below 1", func(tp *rapport.Touchpoint) { tp.TargetScore = 0.5 }, []string{"target_score"}},
		{"priority 101", func(tp *rapport.Touchpoint) { tp.Priority = ptr(101) }, []string{"priority"}},
		{"bad key", func(tp *rapport.Touchpoint) { tp.Key = "Renewal Call" }, []string{"key"}},
		{"no name", func(tp *rapport.Touchpoint) { tp.Name = " " }, []string{"name"}},
	}
	eachBackend(t, func(t *testing.T, s *store) {
		for _, tt := range tests {
			tp := valid()
			tt.change(&tp)
			err := s.touchpoints.CreateTouchpoint(context.Background(), &tp)
			if rapport.ErrorCode(err) != rapport.EINVALID {
				t.Errorf("%s: CreateTouchpoint = %v; want %s", tt.name, err, rapport.EINVALID)
			} else if got := fieldNames(err); !slices.Equal(got, tt.want) {
				t.Errorf("%s: CreateTouchpoint fields = %q; want %q", tt.name, got, tt.want)
			}
		}
		if n := s.count(t, "touchpoints", ""); n != 8 {
			t.Errorf("after invalid touchpoints, %d stored; want the 8 defaults", n)
		}
	})
}

// TestUpdateTouchpoint checks that updates change only the fields given; priority 0 clears the override.
func TestUpdateTouchpoint(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		s.clock.Add(time.Hour)
		later := s.clock.Now()
		update := func(u rapport.TouchpointUpdate) *rapport.Touchpoint {
			t.Helper()
			got, err := s.touchpoints.UpdateTouchpoint(ctx, "complaint", u)
			if err != nil {
				t.Fatalf("UpdateTouchpoint(%s) = %v", show(u), err)
			}
			stored, err := s.touchpoints.FindTouchpointByKey(ctx, "complaint")
			if err != nil {
				t.Fatalf("FindTouchpointByKey = %v", err)
			}
			if show(got) != show(stored) {
				t.Errorf("UpdateTouchpoint returned\n%s\nbut stored\n%s", show(got), show(stored))
			}
			return stored
		}

		got := update(rapport.TouchpointUpdate{Priority: ptr(2), TargetScore: ptr(4.4),
			Channels: &[]rapport.Channel{rapport.ChannelPhone}})
		if got.Priority == nil || *got.Priority != 2 || got.TargetScore != 4.4 || !slices.Equal(got.Channels, []rapport.Channel{rapport.ChannelPhone}) {
			t.Errorf("after update, priority %v, target %v, channels %v; want 2, 4.4, [phone]", deref(got.Priority), got.TargetScore, got.Channels)
		}
		if got.Name != "Handling a complaint" || got.Phase != rapport.PhasePostSales {
			t.Errorf("after update, name %q phase %s; want unchanged", got.Name, got.Phase)
		}
		if !got.CreatedAt.Equal(epoch) || !got.UpdatedAt.Equal(later) {
			t.Errorf("after update, times %v %v; want created %v, updated %v", got.CreatedAt, got.UpdatedAt, epoch, later)
		}

		// Priority 0 clears the manual override; nil leaves it.
		if got := update(rapport.TouchpointUpdate{Name: ptr("Complaints")}); got.Priority == nil || *got.Priority != 2 {
			t.Errorf("after an update without priority, priority = %v; want 2 kept", deref(got.Priority))
		}
		if got := update(rapport.TouchpointUpdate{Priority: ptr(0)}); got.Priority != nil {
			t.Errorf("after priority 0, priority = %v; want none", *got.Priority)
		}

		invalid := []struct {
			name string
			u    rapport.TouchpointUpdate
			want []string
		}{
			{"bad phase", rapport.TouchpointUpdate{Phase: ptr("later")}, []string{"phase"}},
			{"bad channel", rapport.TouchpointUpdate{Channels: &[]rapport.Channel{"pigeon"}}, []string{"channels"}},
			{"target 6", rapport.TouchpointUpdate{TargetScore: ptr(6.0)}, []string{"target_score"}},
			{"negative priority", rapport.TouchpointUpdate{Priority: ptr(-1)}, []string{"priority"}},
			{"empty name", rapport.TouchpointUpdate{Name: ptr("")}, []string{"name"}},
		}
		before, _ := s.touchpoints.FindTouchpointByKey(ctx, "complaint")
		for _, tt := range invalid {
			_, err := s.touchpoints.UpdateTouchpoint(ctx, "complaint", tt.u)
			if rapport.ErrorCode(err) != rapport.EINVALID {
				t.Errorf("%s: UpdateTouchpoint = %v; want %s", tt.name, err, rapport.EINVALID)
			} else if got := fieldNames(err); !slices.Equal(got, tt.want) {
				t.Errorf("%s: UpdateTouchpoint fields = %q; want %q", tt.name, got, tt.want)
			}
		}
		if after, _ := s.touchpoints.FindTouchpointByKey(ctx, "complaint"); show(after) != show(before) {
			t.Errorf("after invalid updates, touchpoint =\n%s\nwant unchanged\n%s", show(after), show(before))
		}
		_, err := s.touchpoints.UpdateTouchpoint(ctx, "nosuch", rapport.TouchpointUpdate{Name: ptr("x")})
		wantCode(t, "UpdateTouchpoint(unknown)", err, rapport.ENOTFOUND)
	})
}

// deref shows a pointer's value, or nil.
func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
