package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
)

// TestSettingsChangedElsewhereApply records misery moments on one server
// while another server sharing its database changes the recovery policy and
// a touchpoint's service level between them: each moment's case follows the
// settings as they stood when it was recorded, although the first server
// keeps the settings it read between moments. A change on the same server
// applies at once too.
func TestSettingsChangedElsewhereApply(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, backend := range testdb.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			f := newPipelineFirm(t, backend)
			other, err := sqlstore.Open(ctx, f.dsn, f.clock.Now)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			moments := sqlstore.NewMomentService(f.db)
			n := 0
			record := func() *rapport.RecoveryCase {
				t.Helper()
				n++
				one := 1
				m := &rapport.Moment{ExternalID: fmt.Sprintf("settings-%d", n), CustomerID: f.customers["Ben"], Touchpoint: "complaint",
					Channel: rapport.ChannelPhone, OccurredAt: f.clock.Now().Add(-time.Minute), Rating: &one}
				if _, err := moments.RecordMoment(ctx, m); err != nil {
					t.Fatal(err)
				}
				var queue string
				var opened, due int64
				if err := f.raw.QueryRow(`SELECT queue, opened_at, due_at FROM recovery_cases WHERE moment_id = $1`, m.ID).Scan(&queue, &opened, &due); err != nil {
					t.Fatalf("moment %d opened no case: %v", n, err)
				}
				return &rapport.RecoveryCase{Queue: queue, DueAt: time.UnixMicro(due), OpenedAt: time.UnixMicro(opened)}
			}
			hours := func(c *rapport.RecoveryCase) int { return int(c.DueAt.Sub(c.OpenedAt).Hours()) }

			first := record()
			policy, err := sqlstore.NewRecoveryService(other).FindRecoveryPolicy(ctx)
			if err != nil {
				t.Fatal(err)
			}
			policy.Queue = "second-line"
			if _, err := sqlstore.NewRecoveryService(other).SetRecoveryPolicy(ctx, *policy); err != nil {
				t.Fatal(err)
			}
			if _, err := sqlstore.NewRecoveryService(other).SetServiceLevel(ctx, rapport.ServiceLevel{Touchpoint: "complaint", Hours: hours(first) + 24}); err != nil {
				t.Fatal(err)
			}
			second := record()
			if first.Queue == "second-line" || second.Queue != "second-line" {
				t.Errorf("queues %q then %q: the policy changed on the other server between them, want the second in second-line", first.Queue, second.Queue)
			}
			if hours(second) != hours(first)+24 {
				t.Errorf("the second case is due in %d hours; the other server set the service level to %d", hours(second), hours(first)+24)
			}
			if _, err := sqlstore.NewRecoveryService(f.db).SetServiceLevel(ctx, rapport.ServiceLevel{Touchpoint: "complaint", Hours: 1}); err != nil {
				t.Fatal(err)
			}
			if third := record(); hours(third) != 1 {
				t.Errorf("the third case is due in %d hours; this server set the service level to 1", hours(third))
			}
		})
	}
}

// TestResponsesChangedElsewhereApply records moments naming a response on
// one server while another server sharing its database adds the response
// and then retires it: the first server takes the moment once the response
// exists and refuses it once retired, although it keeps the touchpoints and
// responses it read between moments.
func TestResponsesChangedElsewhereApply(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, backend := range testdb.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			f := newPipelineFirm(t, backend)
			other, err := sqlstore.Open(ctx, f.dsn, f.clock.Now)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			moments := sqlstore.NewMomentService(f.db)
			record := func() error {
				m := &rapport.Moment{CustomerID: f.customers["Cy"], Touchpoint: "complaint", Channel: rapport.ChannelPhone,
					OccurredAt: f.clock.Now().Add(-time.Minute), Response: "call_back_same_day"}
				_, err := moments.RecordMoment(ctx, m)
				return err
			}
			if err := record(); rapport.ErrorCode(err) != rapport.EINVALID {
				t.Fatalf("a moment naming a response no one made = %v; want it refused", err)
			}
			responses := sqlstore.NewResponseService(other)
			if err := responses.CreateResponse(ctx, &rapport.Response{Touchpoint: "complaint", Key: "call_back_same_day",
				Description: "Call back the same day"}); err != nil {
				t.Fatal(err)
			}
			if err := record(); err != nil {
				t.Fatalf("a moment naming the response the other server made = %v; want it recorded", err)
			}
			if _, err := responses.SetResponseStatus(ctx, "complaint", "call_back_same_day", rapport.ResponseRetired); err != nil {
				t.Fatal(err)
			}
			if err := record(); rapport.ErrorCode(err) != rapport.EINVALID {
				t.Errorf("a moment naming the response the other server retired = %v; want it refused", err)
			}
		})
	}
}
