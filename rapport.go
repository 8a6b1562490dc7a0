// Package rapport holds Rapport's domain: customers, the touchpoints that are
// its moments of truth, the moments themselves, the staff who serve customers,
// and the rules every part of the system shares. The services that store them
// are interfaces here and implemented in the sqlstore package; the HTTP API,
// the demo firm and the command line live in their own packages and depend on
// this one, never the other way round.
package rapport

import (
	"context"
	"time"
)

// Version is the release of Rapport; the build may override it with -ldflags.
var Version = "0.1.0-dev"

// Page is one page of a list and the cursor that fetches the next.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// Page sizes for every list.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// PageLimit clamps a requested page size to what lists allow.
func PageLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultPageSize
	case n > MaxPageSize:
		return MaxPageSize
	}
	return n
}

// Principal is whoever makes a request: a signed-in user or an API token.
type Principal struct {
	UserID  string `json:"user_id,omitempty"`
	TokenID string `json:"token_id,omitempty"`
	Name    string `json:"name"`
	Role    Role   `json:"role"`
	// Address is where the request came from (the client's network
	// address), for the audit log.
	Address string `json:"-"`
}

type principalKey struct{}

// NewContextWithPrincipal returns a context that carries the principal. A
// context made by NewContextNotingPrincipal is told of it too.
func NewContextWithPrincipal(ctx context.Context, p *Principal) context.Context {
	if note, ok := ctx.Value(principalNoteKey{}).(*principalNote); ok {
		note.p = p
	}
	return context.WithValue(ctx, principalKey{}, p)
}

type principalNoteKey struct{}

type principalNote struct{ p *Principal }

// NewContextNotingPrincipal returns a context and a function that tells the
// principal a handler later put in a context made from it, or nil: the
// request log wraps the handlers and learns who asked only afterwards.
func NewContextNotingPrincipal(ctx context.Context) (context.Context, func() *Principal) {
	note := &principalNote{}
	return context.WithValue(ctx, principalNoteKey{}, note), func() *Principal { return note.p }
}

// PrincipalFromContext returns the request's principal, or nil.
func PrincipalFromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// ActorID names who is acting in ctx, for audit fields: the user's id, else the token's.
func ActorID(ctx context.Context) string {
	p := PrincipalFromContext(ctx)
	switch {
	case p == nil:
		return ""
	case p.UserID != "":
		return p.UserID
	case p.TokenID != "":
		return "token:" + p.TokenID
	}
	return ""
}

// Clock tells the time; services take one so tests control time.
type Clock func() time.Time
