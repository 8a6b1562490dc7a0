package sqlstore

import (
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
)

// A request that read a token just before its revocation committed does not
// put the token back into the cache.
func TestRevokedTokenNotCachedAgain(t *testing.T) {
	var c tokenCache
	now := time.Now()
	read := cachedToken{p: rapport.Principal{TokenID: "t1", Role: rapport.RoleAgent}}
	c.forget("t1")
	c.put("hash-1", read, now)
	if _, ok := c.get("hash-1", now); ok {
		t.Fatal("a token revoked on this server was cached again")
	}
	c.put("hash-2", cachedToken{p: rapport.Principal{TokenID: "t2"}}, now)
	if _, ok := c.get("hash-2", now); !ok {
		t.Fatal("a live token was not cached")
	}
}

// A request that read a token of a user just before their deactivation
// committed does not put it back into the cache; once reactivated, the
// user's tokens are cached again.
func TestDeactivatedUsersTokenNotCachedAgain(t *testing.T) {
	var c tokenCache
	now := time.Now()
	tok := cachedToken{p: rapport.Principal{TokenID: "t1", UserID: "u1", Role: rapport.RoleAgent}}
	c.put("hash-1", tok, now)
	c.forgetUser("u1")
	if _, ok := c.get("hash-1", now); ok {
		t.Fatal("a deactivated user's token stayed in the cache")
	}
	c.put("hash-1", tok, now)
	if _, ok := c.get("hash-1", now); ok {
		t.Fatal("a deactivated user's token was cached again")
	}
	c.allowUser("u1")
	c.put("hash-1", tok, now)
	if _, ok := c.get("hash-1", now); !ok {
		t.Fatal("a reactivated user's token was not cached")
	}
}
