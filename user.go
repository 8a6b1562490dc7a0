package rapport

import (
	"context"
	"net/mail"
	"slices"
	"strings"
	"time"
)

// Role limits what a user or token may do.
type Role string

// The roles, from most to least powerful.
const (
	RoleAdmin   Role = "admin"
	RoleManager Role = "manager"
	RoleAgent   Role = "agent"
	RoleViewer  Role = "viewer"
)

// Roles lists every role, most powerful first.
var Roles = []Role{RoleAdmin, RoleManager, RoleAgent, RoleViewer}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if r == x {
			return true
		}
	}
	return false
}

// Permission is a kind of action that roles allow or refuse.
type Permission int

// The permissions. Every role may read.
const (
	PermRead           Permission = iota // see any data
	PermWriteCustomers                   // create, edit and delete customers
	PermWriteMoments                     // record moments
	PermWriteCatalogue                   // edit touchpoints, responses, standards
	PermManageUsers                      // users, tokens and webhooks
	// PermPersonalData answers a person's requests about their data: erase
	// it, export all of it. It is the admins' alone, as the firm's answer to
	// a legal request rather than a part of serving customers.
	PermPersonalData
)

// Within reports whether r allows no more than o: a token bound to a user
// may not be given more than the user's own role.
func (r Role) Within(o Role) bool {
	return slices.Index(Roles, r) >= slices.Index(Roles, o)
}

// Weaker returns the less powerful of two roles.
func Weaker(a, b Role) Role {
	if a.Within(b) {
		return a
	}
	return b
}

// Can reports whether the role allows the permission.
func (r Role) Can(p Permission) bool {
	switch r {
	case RoleAdmin:
		return true
	case RoleManager:
		return p != PermManageUsers && p != PermPersonalData
	case RoleAgent:
		return p == PermRead || p == PermWriteCustomers || p == PermWriteMoments
	case RoleViewer:
		return p == PermRead
	}
	return false
}

// User is a member of staff: someone who serves customers, manages, or administers.
type User struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Team      string    `json:"team,omitempty"`
	ManagerID string    `json:"manager_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// Active is false once an admin has deactivated the user: they can no
	// longer sign in, their sessions have ended and their tokens refuse,
	// but their name stays on their past work.
	Active        bool       `json:"active"`
	DeactivatedAt *time.Time `json:"deactivated_at,omitempty"`
}

// Validate checks a user's own fields.
func (u *User) Validate() error {
	v := validation{index: -1}
	u.Email = strings.TrimSpace(strings.ToLower(u.Email))
	u.Name = strings.TrimSpace(u.Name)
	checkEmail(&v, "email", u.Email, true)
	checkText(&v, "name", u.Name, 1, 200)
	checkText(&v, "team", u.Team, 0, 100)
	if !u.Role.Valid() {
		v.add("role", "must be one of admin, manager, agent, viewer")
	}
	return v.err("user")
}

// UserUpdate changes a user's role, team or whether they are active; nil
// means unchanged and an empty team takes the user out of any team.
type UserUpdate struct {
	Role   *Role   `json:"role"`
	Team   *string `json:"team"`
	Active *bool   `json:"active"`
}

// Apply changes u as the update says; a user deactivated now is stamped
// with now, and one reactivated loses the stamp.
func (up UserUpdate) Apply(u *User, now time.Time) {
	if up.Role != nil {
		u.Role = *up.Role
	}
	if up.Team != nil {
		u.Team = strings.TrimSpace(*up.Team)
	}
	if up.Active != nil && *up.Active != u.Active {
		u.Active = *up.Active
		if u.Active {
			u.DeactivatedAt = nil
		} else {
			at := now.Truncate(time.Microsecond)
			u.DeactivatedAt = &at
		}
	}
}

// CheckAdminsLeft refuses a change that would leave the firm without an
// active admin: before is the user as stored, after as changed, admins how
// many active admins there are now. No one else could then manage users,
// tokens or webhooks, nor undo the change; an admin deactivating themselves
// as the last one would lock the whole firm out of its settings.
func CheckAdminsLeft(before, after *User, admins int) error {
	if before.Role != RoleAdmin || !before.Active || admins > 1 {
		return nil
	}
	if after.Role != RoleAdmin {
		return &Error{Code: ECONFLICT, Message: before.Name + " is the only admin: make someone else an admin first.",
			Fields: []FieldError{{Field: "role", Message: "the firm needs at least one admin"}}}
	}
	if !after.Active {
		return &Error{Code: ECONFLICT, Message: before.Name + " is the only active admin: make someone else an admin before deactivating them.",
			Fields: []FieldError{{Field: "active", Message: "the firm needs at least one active admin"}}}
	}
	return nil
}

// UserFilter selects users.
type UserFilter struct {
	Role *Role
	Team *string
	// Active, when set, keeps only the active (true) or deactivated
	// (false) users: pickers of owners and assignees offer active ones.
	Active *bool
}

// UserService keeps staff users.
type UserService interface {
	CreateUser(ctx context.Context, u *User) error
	FindUserByID(ctx context.Context, id string) (*User, error)
	FindUserByEmail(ctx context.Context, email string) (*User, error)
	FindUsers(ctx context.Context, f UserFilter) ([]*User, error)
	// UpdateUser changes a user's role, team or whether they are active,
	// checked as a new user's are, and never leaves the firm without an
	// active admin. Deactivating a user ends their sessions and stops their
	// tokens at once; reactivating lets them sign in again.
	UpdateUser(ctx context.Context, id string, up UserUpdate) (*User, error)
}

// Token is an API credential. Its secret is shown once, when created, and only
// its hash is kept.
type Token struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Role       Role       `json:"role"`
	UserID     string     `json:"user_id,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// Validate checks a token's own fields.
func (t *Token) Validate() error {
	v := validation{index: -1}
	t.Name = strings.TrimSpace(t.Name)
	checkText(&v, "name", t.Name, 1, 100)
	if !t.Role.Valid() {
		v.add("role", "must be one of admin, manager, agent, viewer")
	}
	return v.err("token")
}

// TokenService issues, checks and revokes API tokens.
type TokenService interface {
	// CreateToken stores t and returns its secret, which is never retrievable again.
	CreateToken(ctx context.Context, t *Token) (secret string, err error)
	// Authenticate returns the principal a secret stands for, or EUNAUTHORIZED.
	Authenticate(ctx context.Context, secret string) (*Principal, error)
	FindTokens(ctx context.Context) ([]*Token, error)
	RevokeToken(ctx context.Context, id string) error
}

func checkText(v *validation, field, s string, min, max int) {
	n := len([]rune(s))
	switch {
	case n < min && min == 1:
		v.add(field, "is required")
	case n < min:
		v.add(field, "must be at least %d characters", min)
	case n > max:
		v.add(field, "must be at most %d characters", max)
	}
}

func checkEmail(v *validation, field, s string, required bool) {
	if s == "" {
		if required {
			v.add(field, "is required")
		}
		return
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 {
		v.add(field, "must be an email address like name@example.com")
	}
}
