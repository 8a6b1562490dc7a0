package rapport

import (
	"testing"
	"time"
)

func TestThrottle(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	th := SignInThrottle(func() time.Time { return now })
	for i := 1; i <= 4; i++ {
		if hold := th.Fail("a"); hold != 0 {
			t.Fatalf("failure %d holds for %v; want none before the fifth", i, hold)
		}
	}
	if got := th.Fail("a"); got != time.Minute {
		t.Errorf("the fifth failure holds for %v; want 1m", got)
	}
	if got := th.Wait("b"); got != 0 {
		t.Errorf("another key waits %v; want 0", got)
	}
	now = now.Add(30 * time.Second)
	if got := th.Wait("a"); got != 30*time.Second {
		t.Errorf("halfway through the hold, Wait = %v; want 30s", got)
	}
	now = now.Add(30 * time.Second)
	for i, want := range []time.Duration{2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute} {
		if got := th.Fail("a"); got != want {
			t.Errorf("failure %d after the hold holds for %v; want %v", 6+i, got, want)
		}
	}
	th.Succeed("a")
	if got := th.Wait("a"); got != 0 {
		t.Errorf("after a success, Wait = %v; want 0", got)
	}
	// Four failures, a quiet window, four more: never five within one window.
	for round := range 2 {
		for i := range 4 {
			if hold := th.Fail("slow"); hold != 0 {
				t.Fatalf("round %d, failure %d was held for %v; want none", round+1, i+1, hold)
			}
		}
		now = now.Add(16 * time.Minute)
	}
}

// TestThrottleHeldAndLift lists the keys held now, longest first, and lifts one.
func TestThrottleHeldAndLift(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	th := SignInThrottle(func() time.Time { return now })
	for range 4 {
		th.Fail(SignInKey("Ann@example.com "))
	}
	if held := th.Held(); len(held) != 0 {
		t.Fatalf("after four failures Held = %v; want none", held)
	}
	th.Fail(SignInKey("ann@example.com"))
	for range 6 {
		th.Fail("account:bob@example.com")
	}
	held := th.Held()
	if len(held) != 2 || held[0].Key != "account:bob@example.com" || held[0].Failures != 6 || !held[0].Until.Equal(now.Add(2*time.Minute)) ||
		held[1].Key != "account:ann@example.com" || held[1].Failures != 5 {
		t.Fatalf("Held = %+v; want bob (6 failures, 2m) then ann (5)", held)
	}
	th.Lift("account:bob@example.com")
	if got := th.Wait("account:bob@example.com"); got != 0 {
		t.Errorf("after the lift bob waits %v", got)
	}
	now = now.Add(time.Minute)
	if held := th.Held(); len(held) != 0 {
		t.Errorf("a minute on, Held = %+v; want none", held)
	}
}
