package rapport

import (
	"context"
	"strings"
	"time"
)

// SignInHold is a staff account that too many wrong passwords hold: no
// browser that has not signed in to it before may try again until Until.
type SignInHold struct {
	User     *User     `json:"user"`
	Failures int       `json:"failures"`
	Until    time.Time `json:"held_until"`
}

// SignInHolds lists the accounts held in t, longest first. Holds on emails
// that name no account are left out: there is no one to let back in.
func SignInHolds(ctx context.Context, users UserService, t *Throttle) ([]SignInHold, error) {
	var out []SignInHold
	for _, h := range t.Held() {
		email, ok := strings.CutPrefix(h.Key, "account:")
		if !ok {
			continue
		}
		u, err := users.FindUserByEmail(ctx, email)
		if ErrorCode(err) == ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, SignInHold{User: u, Failures: h.Failures, Until: h.Until})
	}
	return out, nil
}

// LiftSignInHold lets the user with this id try to sign in again at once
// from any browser, and records who did so. A hold lives in the memory of
// the server that counted the failures, so this lifts it on this server.
// It answers whether the user was held.
func LiftSignInHold(ctx context.Context, users UserService, audit AuditService, t *Throttle, userID string) (bool, error) {
	u, err := users.FindUserByID(ctx, userID)
	if err != nil {
		return false, err
	}
	key := SignInKey(u.Email)
	if t.Wait(key) == 0 {
		return false, nil
	}
	t.Lift(key)
	return true, audit.RecordAudit(ctx, AuditLiftHold, "user", u.ID,
		map[string]AuditChange{"sign_in_held": {Before: true, After: false}})
}
