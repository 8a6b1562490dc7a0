package sqlstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// TestConcurrentMiserySendsOneCase checks that a misery moment sent by many
// clients at once opens one case, and that sweeps racing each other escalate
// and break each thing once.
func TestConcurrentMiserySendsOneCase(t *testing.T) {
	const senders = 12
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		c := s.customer(t, &rapport.Customer{Name: "Ada"})
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m := s.misery(c.ID, "complaint")
				m.ExternalID = "same-misery"
				<-start
				if _, err := s.moments.RecordMoment(ctx, m); err != nil {
					t.Errorf("RecordMoment = %v", err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if n := s.count(t, "recovery_cases", ""); n != 1 {
			t.Errorf("%d senders of one misery moment: %d cases; want 1", senders, n)
		}

		p := s.promise(t, c.ID, "", time.Hour)
		s.clock.Add(49 * time.Hour)
		recovery, promises := sqlstore.NewRecoveryService(s.db), sqlstore.NewPromiseService(s.db)
		var mu sync.Mutex
		escalated, broken := 0, 0
		start = make(chan struct{})
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				b, err := promises.BreakOverdue(ctx)
				if err != nil {
					t.Errorf("BreakOverdue = %v", err)
				}
				e, err := recovery.Escalate(ctx)
				if err != nil {
					t.Errorf("Escalate = %v", err)
				}
				mu.Lock()
				escalated, broken = escalated+e, broken+b
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
		if broken != 1 || s.count(t, "moments", "external_id = 'promise-broken:"+p.ID+"'") != 1 {
			t.Errorf("racing sweeps broke %d promises; want 1, with one misery moment", broken)
		}
		// The complaint's case is overdue; the broken promise's case is new.
		if escalated != 1 || s.count(t, "case_actions", "kind = 'escalated'") != 1 {
			t.Errorf("racing sweeps escalated %d cases; want 1, with one history entry", escalated)
		}
	})
}
