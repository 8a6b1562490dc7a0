package rapport

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// Throttle slows the guessing of secrets: it counts failed attempts per key
// (an account, a client address) and, once a key has failed Max times within
// Window, holds it for Hold, doubling with each further failure up to
// MaxHold. While a key is held every attempt is refused unanswered, the
// right secret too, so a guess learns nothing. A success clears the key.
// It lives in memory: each server counts on its own.
type Throttle struct {
	Max     int
	Window  time.Duration
	Hold    time.Duration
	MaxHold time.Duration
	Now     Clock

	mu   sync.Mutex
	keys map[string]*attempts
}

// attempts are one key's recent failures.
type attempts struct {
	failures  int
	since     time.Time // the first failure counted
	heldUntil time.Time
}

// maxThrottleKeys bounds a throttle's memory; past it, keys whose window
// and hold have passed are forgotten.
const maxThrottleKeys = 100000

// SignInThrottle limits sign-in failures per account: five in fifteen
// minutes, then a hold of a minute that doubles up to fifteen.
func SignInThrottle(now Clock) *Throttle {
	return &Throttle{Max: 5, Window: 15 * time.Minute, Hold: time.Minute, MaxHold: 15 * time.Minute, Now: now}
}

// AddressThrottle limits failures per client address, for sign-in and API
// tokens alike: thirty in fifteen minutes, then the same holds. It allows
// more than SignInThrottle since many people may share one address.
func AddressThrottle(now Clock) *Throttle {
	return &Throttle{Max: 30, Window: 15 * time.Minute, Hold: time.Minute, MaxHold: 15 * time.Minute, Now: now}
}

// Wait reports how long key is still held; zero means it may try.
func (t *Throttle) Wait(key string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	a := t.keys[key]
	if a == nil {
		return 0
	}
	return max(a.heldUntil.Sub(t.Now()), 0)
}

// Fail counts a failed attempt of key, and returns how long it is now held.
func (t *Throttle) Fail(key string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.Now()
	if t.keys == nil {
		t.keys = map[string]*attempts{}
	}
	if len(t.keys) >= maxThrottleKeys {
		t.forget(now)
	}
	a := t.keys[key]
	if a == nil || (now.Sub(a.since) > t.Window && !now.Before(a.heldUntil)) {
		a = &attempts{since: now}
		t.keys[key] = a
	}
	a.failures++
	if a.failures >= t.Max {
		hold := t.Hold
		for i := t.Max; i < a.failures && hold < t.MaxHold; i++ {
			hold *= 2
		}
		a.heldUntil = now.Add(min(hold, t.MaxHold))
	}
	return max(a.heldUntil.Sub(now), 0)
}

// Succeed clears key: the person knew the secret.
func (t *Throttle) Succeed(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, key)
}

func (t *Throttle) forget(now time.Time) {
	for k, a := range t.keys {
		if now.Sub(a.since) > t.Window && !now.Before(a.heldUntil) {
			delete(t.keys, k)
		}
	}
}

// Hold is a key that may not try again until Until.
type Hold struct {
	Key      string
	Failures int
	Until    time.Time
}

// Held lists the keys held now, the longest held first.
func (t *Throttle) Held() []Hold {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.Now()
	var out []Hold
	for k, a := range t.keys {
		if now.Before(a.heldUntil) {
			out = append(out, Hold{Key: k, Failures: a.failures, Until: a.heldUntil})
		}
	}
	slices.SortFunc(out, func(a, b Hold) int {
		if c := b.Until.Compare(a.Until); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

// Lift clears key as a success would: an admin knows the person.
func (t *Throttle) Lift(key string) { t.Succeed(key) }

// SignInKey is the key under which SignInThrottle counts the failures of
// the account with this email, from browsers it has not signed in from.
func SignInKey(email string) string {
	return "account:" + strings.ToLower(strings.TrimSpace(email))
}
