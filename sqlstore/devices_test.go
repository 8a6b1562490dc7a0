package sqlstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
)

// TestDeviceMarks checks the marks that let a person's own browser sign in
// while the account is held: a mark is known for its user's email only,
// cannot be forged or moved to another user, and a new password voids it.
func TestDeviceMarks(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db := b.Open(t, testdb.NewClock(time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)).Now)
			users, pw := sqlstore.NewUserService(db), sqlstore.NewPasswordService(db)
			ann := &rapport.User{Email: "ann@example.com", Name: "Ann", Role: rapport.RoleAgent}
			bob := &rapport.User{Email: "bob@example.com", Name: "Bob", Role: rapport.RoleAgent}
			for _, u := range []*rapport.User{ann, bob} {
				if err := users.CreateUser(ctx, u); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := pw.DeviceMark(ctx, ann.ID); rapport.ErrorCode(err) != rapport.ENOTFOUND {
				t.Errorf("a mark for a user with no password yet: %v; want ENOTFOUND", err)
			}
			for _, u := range []*rapport.User{ann, bob} {
				if err := pw.SetPassword(ctx, u.ID, "correct horse battery"); err != nil {
					t.Fatal(err)
				}
			}
			mark, err := pw.DeviceMark(ctx, ann.ID)
			if err != nil {
				t.Fatal(err)
			}
			bobs, err := pw.DeviceMark(ctx, bob.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !pw.KnownDevice(ctx, " Ann@Example.com", mark) {
				t.Fatalf("Ann's mark %q is not known for her email", mark)
			}
			id, nonce, _ := strings.Cut(mark, ".")
			forged := id + "." + strings.SplitN(nonce, ".", 2)[0] + "." + strings.SplitN(bobs, ".", 3)[2]
			for name, m := range map[string]string{
				"Bob's mark":             bobs,
				"a forged MAC":           forged,
				"Ann's id with Bob's":    ann.ID + bobs[strings.Index(bobs, "."):],
				"garbage":                "....",
				"empty":                  "",
				"an overlong mark":       mark + strings.Repeat("x", 300),
				"the mark without a MAC": id + "." + nonce[:strings.Index(nonce, ".")],
			} {
				if pw.KnownDevice(ctx, ann.Email, m) {
					t.Errorf("%s (%q) is known for Ann", name, m)
				}
			}
			if pw.KnownDevice(ctx, bob.Email, mark) {
				t.Error("Ann's mark is known for Bob")
			}
			if err := pw.SetPassword(ctx, ann.ID, "another horse battery"); err != nil {
				t.Fatal(err)
			}
			if pw.KnownDevice(ctx, ann.Email, mark) {
				t.Error("Ann's mark is still known after her password changed")
			}
		})
	}
}
