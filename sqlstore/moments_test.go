package sqlstore_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
)

// TestRecordMomentOutcome checks that the outcome follows the rating unless one is given.
func TestRecordMomentOutcome(t *testing.T) {
	tests := []struct {
		name       string
		rating     *int
		given      rapport.Outcome
		want       rapport.Outcome
		wantSource string
	}{
		{"no rating", nil, "", rapport.OutcomeNeutral, rapport.OutcomeDefault},
		{"rating 1", ptr(1), "", rapport.OutcomeMisery, rapport.OutcomeRated},
		{"rating 2", ptr(2), "", rapport.OutcomeMisery, rapport.OutcomeRated},
		{"rating 3", ptr(3), "", rapport.OutcomeNeutral, rapport.OutcomeRated},
		{"rating 4", ptr(4), "", rapport.OutcomeNeutral, rapport.OutcomeRated},
		{"rating 5", ptr(5), "", rapport.OutcomeMagic, rapport.OutcomeRated},
		{"rating 5, given misery", ptr(5), rapport.OutcomeMisery, rapport.OutcomeMisery, rapport.OutcomeGiven},
		{"rating 1, given magic", ptr(1), rapport.OutcomeMagic, rapport.OutcomeMagic, rapport.OutcomeGiven},
		{"no rating, given magic", nil, rapport.OutcomeMagic, rapport.OutcomeMagic, rapport.OutcomeGiven},
	}
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		c := s.customer(t, &rapport.Customer{Name: "Ada"})
		for _, tt := range tests {
			m := s.moment(c.ID)
			m.Rating, m.Outcome = tt.rating, tt.given
			created, err := s.moments.RecordMoment(ctx, m)
			if err != nil || !created {
				t.Errorf("%s: RecordMoment = %v, %v; want created", tt.name, created, err)
				continue
			}
			stored, err := s.moments.FindMomentByID(ctx, m.ID)
			if err != nil {
				t.Fatalf("%s: FindMomentByID = %v", tt.name, err)
			}
			for _, got := range []*rapport.Moment{m, stored} {
				if got.Outcome != tt.want || got.OutcomeSource != tt.wantSource {
					t.Errorf("%s: outcome = %s from %s; want %s from %s", tt.name, got.Outcome, got.OutcomeSource, tt.want, tt.wantSource)
				}
			}
		}
	})
}

// TestRecordMoment checks that a recorded moment reads back exactly, its times in UTC to the microsecond.
func TestRecordMoment(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		c := s.customer(t, &rapport.Customer{Name: "Ada"})
		staff := s.user(t, "Sam Staff")
		m := &rapport.Moment{ExternalID: " call-1 ", CustomerID: c.ID, Touchpoint: "complaint", Channel: rapport.ChannelPhone,
			OccurredAt: epoch.Add(-90 * time.Minute).Add(1500 * time.Nanosecond).In(time.FixedZone("CET", 3600)),
			StaffID:    staff.ID, Rating: ptr(2), Effort: ptr(6), NPS: ptr(0), Notes: " Parcel lost twice. ",
			Revenue: -12.5, Cost: 3.25}
		created, err := s.moments.RecordMoment(ctx, m)
		if err != nil || !created {
			t.Fatalf("RecordMoment = %v, %v; want created", created, err)
		}
		if len(m.ID) != 26 || !m.RecordedAt.Equal(epoch) {
			t.Errorf("RecordMoment filled id %q, recorded at %v; want a 26-character id and %v", m.ID, m.RecordedAt, epoch)
		}
		// Times are kept to the microsecond, in UTC.
		wantAt := epoch.Add(-90 * time.Minute).Add(time.Microsecond)
		if !m.OccurredAt.Equal(wantAt) || m.OccurredAt.Location() != time.UTC {
			t.Errorf("RecordMoment occurred_at = %v; want %v", m.OccurredAt, wantAt)
		}
		if m.ExternalID != "call-1" || m.Notes != "Parcel lost twice." {
			t.Errorf("RecordMoment external id %q, notes %q; want trimmed", m.ExternalID, m.Notes)
		}
		got, err := s.moments.FindMomentByID(ctx, m.ID)
		if err != nil {
			t.Fatalf("FindMomentByID = %v", err)
		}
		if show(got) != show(m) {
			t.Errorf("FindMomentByID =\n%s\nwant\n%s", show(got), show(m))
		}
		_, err = s.moments.FindMomentByID(ctx, "nosuch")
		wantCode(t, "FindMomentByID(unknown)", err, rapport.ENOTFOUND)
	})
}

// TestRecordMomentInvalid checks that invalid moments are refused with the bad field named, and nothing stored.
func TestRecordMomentInvalid(t *testing.T) {
	tests := []struct {
		name   string
		change func(m *rapport.Moment)
		want   []string
	}{
		{"rating 0", func(m *rapport.Moment) { m.Rating = ptr(0) }, []string{"rating"}},
		{"rating 6", func(m *rapport.Moment) { m.Rating = ptr(6) }, []string{"rating"}},
		{"effort 0", func(m *rapport.Moment) { m.Effort = ptr(0) }, []string{"effort"}},
		{"effort 8", func(m *rapport.Moment) { m.Effort = ptr(8) }, []string{"effort"}},
		{"nps -1", func(m *rapport.Moment) { m.NPS = ptr(-1) }, []string{"nps"}},
		{"nps 11", func(m *rapport.Moment) { m.NPS = ptr(11) }, []string{"nps"}},
		{"unknown channel", func(m *rapport.Moment) { m.Channel = "fax" }, []string{"channel"}},
		{"no channel", func(m *rapport.Moment) { m.Channel = "" }, []string{"channel"}},
		{"unknown outcome", func(m *rapport.Moment) { m.Outcome = "meh" }, []string{"outcome"}},
		{"no time", func(m *rapport.Moment) { m.OccurredAt = time.Time{} }, []string{"occurred_at"}},
		{"two days ahead", func(m *rapport.Moment) { m.OccurredAt = epoch.Add(48 * time.Hour) }, []string{"occurred_at"}},
		{"negative cost", func(m *rapport.Moment) { m.Cost = -1 }, []string{"cost"}},
		{"unknown customer", func(m *rapport.Moment) { m.CustomerID = "01NOSUCHCUSTOMER0000000000" }, []string{"customer_id"}},
		{"no customer", func(m *rapport.Moment) { m.CustomerID = "" }, []string{"customer_id"}},
		{"unknown touchpoint", func(m *rapport.Moment) { m.Touchpoint = "teleport" }, []string{"touchpoint"}},
		{"unknown staff", func(m *rapport.Moment) { m.StaffID = "01NOSUCHUSER00000000000000" }, []string{"staff_id"}},
		{"unknown response", func(m *rapport.Moment) { m.Response = "scripted" }, []string{"response"}},
		{"several", func(m *rapport.Moment) { m.Rating, m.NPS, m.StaffID = ptr(9), ptr(12), "nobody" }, []string{"nps", "rating", "staff_id"}},
	}
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		c := s.customer(t, &rapport.Customer{Name: "Ada"})
		for i, tt := range tests {
			m := s.moment(c.ID)
			m.ExternalID = fmt.Sprintf("bad-%d", i)
			tt.change(m)
			created, err := s.moments.RecordMoment(ctx, m)
			if rapport.ErrorCode(err) != rapport.EINVALID {
				t.Errorf("%s: RecordMoment = %v, %v; want %s", tt.name, created, err, rapport.EINVALID)
				continue
			}
			if got := fieldNames(err); !slices.Equal(got, tt.want) {
				t.Errorf("%s: RecordMoment fields = %q; want %q", tt.name, got, tt.want)
			}
			if m.ID != "" {
				t.Errorf("%s: a rejected moment was given the id %q", tt.name, m.ID)
			}
		}
		if n := s.count(t, "moments", ""); n != 0 {
			t.Errorf("after invalid moments, %d stored; want 0", n)
		}
	})
}

// TestRecordMomentIdempotent checks that sending a moment again with its external id returns the stored one.
func TestRecordMomentIdempotent(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		c := s.customer(t, &rapport.Customer{Name: "Ada"})
		first := s.moment(c.ID)
		first.ExternalID, first.Rating = "call-1", ptr(5)
		if created, err := s.moments.RecordMoment(ctx, first); err != nil || !created {
			t.Fatalf("RecordMoment(first) = %v, %v; want created", created, err)
		}

		s.clock.Add(time.Minute)
		retry := s.moment(c.ID)
		retry.ExternalID, retry.Rating, retry.Notes = "call-1", ptr(1), "sent again"
		created, err := s.moments.RecordMoment(ctx, retry)
		if err != nil || created {
			t.Fatalf("RecordMoment(same external id) = %v, %v; want not created", created, err)
		}
		if show(retry) != show(first) {
			t.Errorf("RecordMoment(same external id) returned\n%s\nwant the stored moment\n%s", show(retry), show(first))
		}
		if n := s.count(t, "moments", ""); n != 1 {
			t.Errorf("after a retry, %d moments stored; want 1", n)
		}

		other := s.moment(c.ID)
		other.ExternalID = "call-2"
		if created, err := s.moments.RecordMoment(ctx, other); err != nil || !created || other.ID == first.ID {
			t.Errorf("RecordMoment(new external id) = %v, %v, id %s; want a new moment", created, err, other.ID)
		}
		// Moments without an external id are never taken for one another.
		for range 2 {
			s.record(t, s.moment(c.ID))
		}
		if n := s.count(t, "moments", ""); n != 4 {
			t.Errorf("%d moments stored; want 4", n)
		}
	})
}

// TestRecordMomentsAllOrNothing checks that a batch with bad items lists every one of them and stores nothing.
func TestRecordMomentsAllOrNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		c := s.customer(t, &rapport.Customer{Name: "Ada"})
		batch := make([]*rapport.Moment, 5)
		for i := range batch {
			batch[i] = s.moment(c.ID)
			batch[i].ExternalID = fmt.Sprintf("row-%d", i)
		}
		batch[1].Rating = ptr(9)
		batch[3].CustomerID, batch[3].Channel = "01NOSUCHCUSTOMER0000000000", "fax"

		created, err := s.moments.RecordMoments(ctx, batch)
		wantCode(t, "RecordMoments(bad items 1 and 3)", err, rapport.EINVALID)
		want := []string{"1:rating", "3:channel", "3:customer_id"}
		if got := fieldNames(err); !slices.Equal(got, want) {
			t.Errorf("RecordMoments fields = %q; want %q", got, want)
		}
		if msg := rapport.ErrorMessage(err); !strings.Contains(msg, "2 of 5") {
			t.Errorf("RecordMoments message = %q; want it to say 2 of 5 moments are bad", msg)
		}
		if created != nil {
			t.Errorf("RecordMoments(invalid) created = %v; want nil", created)
		}
		if n := s.count(t, "moments", ""); n != 0 {
			t.Errorf("after a bad batch, %d moments stored; want 0", n)
		}

		batch[1].Rating = ptr(4)
		batch[3].CustomerID, batch[3].Channel = c.ID, rapport.ChannelEmail
		created, err = s.moments.RecordMoments(ctx, batch)
		if err != nil || !slices.Equal(created, []bool{true, true, true, true, true}) {
			t.Fatalf("RecordMoments(fixed) = %v, %v; want all created", created, err)
		}
		if n := s.count(t, "moments", ""); n != 5 {
			t.Errorf("after the fixed batch, %d moments stored; want 5", n)
		}

		_, err = s.moments.RecordMoments(ctx, nil)
		wantCode(t, "RecordMoments(empty)", err, rapport.EINVALID)
	})
}

// TestRecordMomentsRepeatedExternalID checks that an external id repeated in a batch, or sent before, stores one moment.
func TestRecordMomentsRepeatedExternalID(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		c := s.customer(t, &rapport.Customer{Name: "Ada"})
		stored := s.moment(c.ID)
		stored.ExternalID = "old"
		s.record(t, stored)

		batch := func() []*rapport.Moment {
			var ms []*rapport.Moment
			for _, ext := range []string{"x", "y", "x", "old", "y", "x"} {
				m := s.moment(c.ID)
				m.ExternalID, m.Notes = ext, "copy of "+ext
				ms = append(ms, m)
			}
			return ms
		}
		ms := batch()
		created, err := s.moments.RecordMoments(ctx, ms)
		if want := []bool{true, true, false, false, false, false}; err != nil || !slices.Equal(created, want) {
			t.Fatalf("RecordMoments = %v, %v; want %v", created, err, want)
		}
		if n := s.count(t, "moments", ""); n != 3 {
			t.Errorf("after a batch repeating external ids, %d moments stored; want 3", n)
		}
		wantIDs := []string{ms[0].ID, ms[1].ID, ms[0].ID, stored.ID, ms[1].ID, ms[0].ID}
		for i, m := range ms {
			if m.ID != wantIDs[i] || m.ID == "" {
				t.Errorf("batch item %d (%s) has id %q; want %q", i, m.ExternalID, m.ID, wantIDs[i])
			}
		}

		// The whole batch again: nothing new.
		again := batch()
		created, err = s.moments.RecordMoments(ctx, again)
		if err != nil || slices.Contains(created, true) {
			t.Fatalf("RecordMoments(again) = %v, %v; want none created", created, err)
		}
		for i, m := range again {
			if m.ID != wantIDs[i] {
				t.Errorf("resent item %d (%s) has id %q; want %q", i, m.ExternalID, m.ID, wantIDs[i])
			}
		}
		if n := s.count(t, "moments", ""); n != 3 {
			t.Errorf("after resending the batch, %d moments stored; want 3", n)
		}
	})
}

// TestFindMomentsFilters checks that each filter, alone and combined, selects the right moments, newest first.
func TestFindMomentsFilters(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		c1 := s.customer(t, &rapport.Customer{Name: "Ada"})
		c2 := s.customer(t, &rapport.Customer{Name: "Grace"})
		s1, s2 := s.user(t, "Sam"), s.user(t, "Sue")
		t0 := epoch.Add(-10 * 24 * time.Hour)
		day := 24 * time.Hour
		for _, m := range []*rapport.Moment{
			{ExternalID: "m1", CustomerID: c1.ID, Touchpoint: "greeting", Channel: rapport.ChannelPhone, OccurredAt: t0, StaffID: s1.ID, Rating: ptr(5)},
			{ExternalID: "m2", CustomerID: c1.ID, Touchpoint: "complaint", Channel: rapport.ChannelEmail, OccurredAt: t0.Add(day), StaffID: s2.ID, Rating: ptr(1)},
			{ExternalID: "m3", CustomerID: c2.ID, Touchpoint: "greeting", Channel: rapport.ChannelChat, OccurredAt: t0.Add(2 * day), StaffID: s1.ID, Rating: ptr(3)},
			{ExternalID: "m4", CustomerID: c2.ID, Touchpoint: "purchase", Channel: rapport.ChannelInPerson, OccurredAt: t0.Add(3 * day), Rating: ptr(5)},
			{ExternalID: "m5", CustomerID: c1.ID, Touchpoint: "purchase", Channel: rapport.ChannelPhone, OccurredAt: t0.Add(4 * day), StaffID: s2.ID},
			{ExternalID: "m6", CustomerID: c2.ID, Touchpoint: "complaint", Channel: rapport.ChannelPhone, OccurredAt: t0.Add(5 * day), StaffID: s1.ID, Rating: ptr(2)},
		} {
			s.record(t, m)
		}
		tests := []struct {
			name string
			f    rapport.MomentFilter
			want string // external ids, newest first
		}{
			{"all", rapport.MomentFilter{}, "m6 m5 m4 m3 m2 m1"},
			{"customer", rapport.MomentFilter{CustomerID: c1.ID}, "m5 m2 m1"},
			{"touchpoint", rapport.MomentFilter{Touchpoint: "greeting"}, "m3 m1"},
			{"channel", rapport.MomentFilter{Channel: rapport.ChannelPhone}, "m6 m5 m1"},
			{"magic", rapport.MomentFilter{Outcome: rapport.OutcomeMagic}, "m4 m1"},
			{"misery", rapport.MomentFilter{Outcome: rapport.OutcomeMisery}, "m6 m2"},
			{"neutral", rapport.MomentFilter{Outcome: rapport.OutcomeNeutral}, "m5 m3"},
			{"staff", rapport.MomentFilter{StaffID: s1.ID}, "m6 m3 m1"},
			{"from (inclusive)", rapport.MomentFilter{From: t0.Add(2 * day)}, "m6 m5 m4 m3"},
			{"to (exclusive)", rapport.MomentFilter{To: t0.Add(2 * day)}, "m2 m1"},
			{"from and to", rapport.MomentFilter{From: t0.Add(day), To: t0.Add(4 * day)}, "m4 m3 m2"},
			{"customer and outcome", rapport.MomentFilter{CustomerID: c2.ID, Outcome: rapport.OutcomeMisery}, "m6"},
			{"staff and touchpoint", rapport.MomentFilter{StaffID: s2.ID, Touchpoint: "purchase"}, "m5"},
			{"nothing matches", rapport.MomentFilter{CustomerID: c1.ID, Touchpoint: "greeting", Channel: rapport.ChannelEmail}, ""},
			{"unknown customer", rapport.MomentFilter{CustomerID: "nobody"}, ""},
		}
		for _, tt := range tests {
			page, err := s.moments.FindMoments(ctx, tt.f)
			if err != nil {
				t.Errorf("FindMoments(%s) = %v", tt.name, err)
				continue
			}
			var got []string
			for _, m := range page.Items {
				got = append(got, m.ExternalID)
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("FindMoments(%s) = %d items %q; want %q", tt.name, len(got), strings.Join(got, " "), tt.want)
			}
			if page.NextCursor != "" {
				t.Errorf("FindMoments(%s) next cursor = %q; want none", tt.name, page.NextCursor)
			}
		}
	})
}

// TestFindMomentsPagination checks that paging visits every moment once, newest first, even among equal times.
func TestFindMomentsPagination(t *testing.T) {
	const total = 40
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		c1 := s.customer(t, &rapport.Customer{Name: "Ada"})
		c2 := s.customer(t, &rapport.Customer{Name: "Grace"})
		// Four moments share each time, and the batch is recorded out of
		// time order, so pages must break ties on occurred_at.
		var batch []*rapport.Moment
		for i := range total {
			m := s.moment(c1.ID)
			if i%2 == 1 {
				m.CustomerID = c2.ID
			}
			m.OccurredAt = epoch.Add(-time.Duration((i*7)%10) * time.Hour)
			batch = append(batch, m)
		}
		if _, err := s.moments.RecordMoments(ctx, batch); err != nil {
			t.Fatalf("RecordMoments = %v", err)
		}
		tests := []struct {
			name string
			f    rapport.MomentFilter
			want int
		}{
			{"all", rapport.MomentFilter{Limit: 1}, total},
			{"all", rapport.MomentFilter{Limit: 3}, total},
			{"all", rapport.MomentFilter{Limit: 4}, total},
			{"all", rapport.MomentFilter{Limit: 7}, total},
			{"all", rapport.MomentFilter{Limit: 40}, total},
			{"all", rapport.MomentFilter{Limit: 500}, total},
			{"one customer", rapport.MomentFilter{Limit: 3, CustomerID: c2.ID}, total / 2},
			{"the last 5 hours", rapport.MomentFilter{Limit: 3, From: epoch.Add(-4 * time.Hour)}, 20},
		}
		for _, tt := range tests {
			seen := map[string]int{}
			var order []*rapport.Moment
			f, pages := tt.f, 0
			for {
				page, err := s.moments.FindMoments(ctx, f)
				if err != nil {
					t.Fatalf("FindMoments(%s, limit %d, page %d) = %v", tt.name, tt.f.Limit, pages+1, err)
				}
				pages++
				for _, m := range page.Items {
					seen[m.ID]++
					order = append(order, m)
				}
				if f.Cursor = page.NextCursor; f.Cursor == "" || pages > total+1 {
					break
				}
			}
			if len(order) != tt.want || len(seen) != tt.want {
				t.Errorf("paging by %d through %s visited %d moments (%d distinct); want each of %d once",
					tt.f.Limit, tt.name, len(order), len(seen), tt.want)
			}
			if want := (tt.want + tt.f.Limit - 1) / tt.f.Limit; pages != want {
				t.Errorf("paging by %d through %s took %d pages; want %d", tt.f.Limit, tt.name, pages, want)
			}
			for i := 1; i < len(order); i++ {
				prev, m := order[i-1], order[i]
				if m.OccurredAt.After(prev.OccurredAt) || m.OccurredAt.Equal(prev.OccurredAt) && m.ID > prev.ID {
					t.Errorf("paging by %d through %s: moment %s at %v follows %s at %v; want newest first, then by id",
						tt.f.Limit, tt.name, m.ID, m.OccurredAt, prev.ID, prev.OccurredAt)
					break
				}
			}
		}

		// A cursor in the middle of a tie keeps its place when a newer moment arrives.
		page, err := s.moments.FindMoments(ctx, rapport.MomentFilter{Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		newer := s.moment(c1.ID)
		newer.OccurredAt = epoch.Add(time.Minute)
		s.record(t, newer)
		rest, err := s.moments.FindMoments(ctx, rapport.MomentFilter{Limit: 500, Cursor: page.NextCursor})
		if err != nil || len(rest.Items) != total-2 {
			t.Errorf("FindMoments(after a new moment, from page 2) = %d items, %v; want %d", len(rest.Items), err, total-2)
		}

		for _, cursor := range []string{"garbage!", base64.RawURLEncoding.EncodeToString([]byte("yesterday|01ABC")),
			base64.RawURLEncoding.EncodeToString([]byte("12345"))} {
			_, err := s.moments.FindMoments(ctx, rapport.MomentFilter{Cursor: cursor})
			if rapport.ErrorCode(err) != rapport.EINVALID {
				t.Errorf("FindMoments(cursor %q) = %v; want %s", cursor, err, rapport.EINVALID)
			}
		}
	})
}

// TestTimeline checks that a customer's timeline holds their moments and
// stage changes only, newest first, across pages.
func TestTimeline(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		ada := s.customer(t, &rapport.Customer{Name: "Ada"})
		grace := s.customer(t, &rapport.Customer{Name: "Grace"})
		quiet := s.customer(t, &rapport.Customer{Name: "Quiet"})
		var want []string
		for i, hoursAgo := range []int{30, 2, 50} {
			m := s.moment(ada.ID)
			m.OccurredAt = epoch.Add(-time.Duration(hoursAgo) * time.Hour)
			m.ExternalID = fmt.Sprintf("ada-%d", i)
			s.record(t, m)
		}
		// Ada became a customer (stage awareness) after these moments happened.
		want = []string{"stage:awareness", "ada-1", "ada-0", "ada-2"}
		s.record(t, s.moment(grace.ID))

		var got []string
		var cursor string
		for pages := 0; pages < 5; pages++ {
			page, err := s.timelines.Timeline(ctx, ada.ID, rapport.TimelineFilter{Limit: 2, Cursor: cursor})
			if err != nil {
				t.Fatalf("Timeline = %v", err)
			}
			for _, e := range page.Items {
				if e.Kind == rapport.EntryStageChange && e.StageChange != nil && e.At.Equal(e.StageChange.ChangedAt) {
					got = append(got, "stage:"+string(e.StageChange.To))
					continue
				}
				if e.Kind != rapport.EntryMoment || e.Moment == nil || !e.At.Equal(e.Moment.OccurredAt) {
					t.Errorf("Timeline entry = %s at %v with moment %v; want a moment entry at its time", e.Kind, e.At, e.Moment)
					continue
				}
				got = append(got, e.Moment.ExternalID)
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("Timeline(ada) = %q; want %q (newest first, only hers)", got, want)
		}

		page, err := s.timelines.Timeline(ctx, quiet.ID, rapport.TimelineFilter{})
		if err != nil || len(page.Items) != 1 || page.Items[0].Kind != rapport.EntryStageChange {
			t.Errorf("Timeline(no moments) = %v, %v; want only the stage change of becoming a customer", page.Items, err)
		}
		_, err = s.timelines.Timeline(ctx, "01NOSUCHCUSTOMER0000000000", rapport.TimelineFilter{})
		wantCode(t, "Timeline(unknown customer)", err, rapport.ENOTFOUND)
	})
}
