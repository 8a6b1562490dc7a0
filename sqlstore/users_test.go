package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// TestCreateUser checks that staff emails are unique whatever their case, and users are validated.
func TestCreateUser(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		boss := &rapport.User{Email: "boss@firm.example", Name: "Bea Boss", Role: rapport.RoleManager}
		if err := s.users.CreateUser(ctx, boss); err != nil {
			t.Fatalf("CreateUser = %v", err)
		}
		u := &rapport.User{Email: " Ann.Agent@Firm.Example ", Name: "Ann Agent", Role: rapport.RoleAgent, Team: "north", ManagerID: boss.ID}
		if err := s.users.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser = %v", err)
		}
		if len(u.ID) != 26 || !u.CreatedAt.Equal(epoch) || u.Email != "ann.agent@firm.example" {
			t.Errorf("CreateUser filled id %q, created %v, email %q; want an id, %v, lower-cased email", u.ID, u.CreatedAt, u.Email, epoch)
		}
		for _, find := range []func() (*rapport.User, error){
			func() (*rapport.User, error) { return s.users.FindUserByID(ctx, u.ID) },
			func() (*rapport.User, error) { return s.users.FindUserByEmail(ctx, "ANN.agent@firm.example ") },
		} {
			if got, err := find(); err != nil || show(got) != show(u) {
				t.Errorf("find user = %s, %v; want %s", show(got), err, show(u))
			}
		}
		_, err := s.users.FindUserByEmail(ctx, "nobody@firm.example")
		wantCode(t, "FindUserByEmail(unknown)", err, rapport.ENOTFOUND)

		err = s.users.CreateUser(ctx, &rapport.User{Email: "ANN.AGENT@firm.example", Name: "Another Ann", Role: rapport.RoleViewer})
		wantCode(t, "CreateUser(duplicate email)", err, rapport.ECONFLICT)

		invalid := []struct {
			name string
			u    rapport.User
			want []string
		}{
			{"no email", rapport.User{Name: "X", Role: rapport.RoleAgent}, []string{"email"}},
			{"bad email", rapport.User{Email: "x@", Name: "X", Role: rapport.RoleAgent}, []string{"email"}},
			{"no name", rapport.User{Email: "x@firm.example", Role: rapport.RoleAgent}, []string{"name"}},
			{"bad role", rapport.User{Email: "x@firm.example", Name: "X", Role: "overlord"}, []string{"role"}},
			{"unknown manager", rapport.User{Email: "x@firm.example", Name: "X", Role: rapport.RoleAgent, ManagerID: "nobody"}, []string{"manager_id"}},
		}
		for _, tt := range invalid {
			err := s.users.CreateUser(ctx, &tt.u)
			if rapport.ErrorCode(err) != rapport.EINVALID {
				t.Errorf("%s: CreateUser = %v; want %s", tt.name, err, rapport.EINVALID)
			} else if got := fieldNames(err); !slices.Equal(got, tt.want) {
				t.Errorf("%s: CreateUser fields = %q; want %q", tt.name, got, tt.want)
			}
		}
		if n := s.count(t, "users", ""); n != 2 {
			t.Errorf("%d users stored; want 2", n)
		}

		agents, err := s.users.FindUsers(ctx, rapport.UserFilter{Role: ptr(rapport.RoleAgent)})
		if err != nil || len(agents) != 1 || agents[0].ID != u.ID {
			t.Errorf("FindUsers(agents) = %s, %v; want Ann only", show(agents), err)
		}
		if all, err := s.users.FindUsers(ctx, rapport.UserFilter{}); err != nil || len(all) != 2 {
			t.Errorf("FindUsers() = %d users, %v; want 2", len(all), err)
		}
	})
}

// TestTokens checks that tokens authenticate until revoked, and their secrets are never stored.
func TestTokens(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		u := s.user(t, "Ann Agent")
		tok := &rapport.Token{Name: " ci ", Role: rapport.RoleAgent, UserID: u.ID}
		secret, err := s.tokens.CreateToken(ctx, tok)
		if err != nil {
			t.Fatalf("CreateToken = %v", err)
		}
		if !strings.HasPrefix(secret, "rpt_") || len(secret) < 30 {
			t.Errorf("CreateToken secret = %q; want rpt_ and at least 26 random characters", secret)
		}
		if tok.ID == "" || tok.Name != "ci" || !tok.CreatedAt.Equal(epoch) {
			t.Errorf("CreateToken filled id %q, name %q, created %v", tok.ID, tok.Name, tok.CreatedAt)
		}
		other, err := s.tokens.CreateToken(ctx, &rapport.Token{Name: "import", Role: rapport.RoleManager})
		if err != nil || other == secret {
			t.Fatalf("CreateToken(second) = %q, %v; want a different secret", other, err)
		}

		s.clock.Add(time.Minute)
		p, err := s.tokens.Authenticate(ctx, secret)
		if err != nil {
			t.Fatalf("Authenticate = %v", err)
		}
		if want := (rapport.Principal{UserID: u.ID, TokenID: tok.ID, Name: "ci", Role: rapport.RoleAgent}); *p != want {
			t.Errorf("Authenticate = %+v; want %+v", *p, want)
		}
		tokens, err := s.tokens.FindTokens(ctx)
		if err != nil || len(tokens) != 2 {
			t.Fatalf("FindTokens = %d, %v; want 2", len(tokens), err)
		}
		for _, x := range tokens {
			if x.ID == tok.ID && (x.LastUsedAt == nil || !x.LastUsedAt.Equal(s.clock.Now())) {
				t.Errorf("after use, last used = %v; want %v", x.LastUsedAt, s.clock.Now())
			}
		}

		wrong := []string{"", "rpt_", secret[:len(secret)-1], secret + "x", strings.ToUpper(secret),
			strings.TrimPrefix(secret, "rpt_"), "rpt_" + strings.Repeat("a", 32)}
		for _, w := range wrong {
			if _, err := s.tokens.Authenticate(ctx, w); rapport.ErrorCode(err) != rapport.EUNAUTHORIZED {
				t.Errorf("Authenticate(%q) = %v; want %s", w, err, rapport.EUNAUTHORIZED)
			}
		}

		s.clock.Add(time.Minute)
		if err := s.tokens.RevokeToken(ctx, tok.ID); err != nil {
			t.Fatalf("RevokeToken = %v", err)
		}
		_, err = s.tokens.Authenticate(ctx, secret)
		wantCode(t, "Authenticate(revoked)", err, rapport.EUNAUTHORIZED)
		if _, err := s.tokens.Authenticate(ctx, other); err != nil {
			t.Errorf("Authenticate(other token) = %v; want it unaffected by the revocation", err)
		}
		err = s.tokens.RevokeToken(ctx, tok.ID)
		wantCode(t, "RevokeToken(again)", err, rapport.ENOTFOUND)
		tokens, _ = s.tokens.FindTokens(ctx)
		for _, x := range tokens {
			if x.ID == tok.ID && (x.RevokedAt == nil || !x.RevokedAt.Equal(s.clock.Now())) {
				t.Errorf("revoked at = %v; want %v", x.RevokedAt, s.clock.Now())
			}
		}

		_, err = s.tokens.CreateToken(ctx, &rapport.Token{Name: "x", Role: rapport.RoleAgent, UserID: "nobody"})
		wantCode(t, "CreateToken(unknown user)", err, rapport.EINVALID)
		_, err = s.tokens.CreateToken(ctx, &rapport.Token{Name: "x", Role: "root"})
		wantCode(t, "CreateToken(bad role)", err, rapport.EINVALID)

		// The secrets are stored only as hashes: no column of any row holds them.
		for _, sec := range []string{secret, other} {
			if where := tokensHolding(t, s, sec); where != "" {
				t.Errorf("the tokens table holds a secret: %s", where)
			}
		}
	})
}

// tokensHolding returns where the tokens table holds secret, or its random
// part, in any column and any letter case; "" if nowhere.
func tokensHolding(t *testing.T, s *store, secret string) string {
	t.Helper()
	// Every column, on purpose: a column added later must not leak it either.
	rows, err := s.raw.Query(`SELECT * FROM tokens`)
	if err != nil {
		t.Fatalf("read tokens: %v", err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	random := strings.ToLower(strings.TrimPrefix(secret, "rpt_"))
	n := 0
	for rows.Next() {
		n++
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			if strings.Contains(strings.ToLower(fmt.Sprint(v)), random) {
				return fmt.Sprintf("column %s = %v", cols[i], v)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("the tokens table is empty; want the created tokens there")
	}
	return ""
}

// Two servers share one database. A token revoked on one stops working there
// at once, and on the other within seconds, however often it was used there
// just before.
func TestRevokedTokenStopsOnEveryServer(t *testing.T) {
	eachBackend(t, func(t *testing.T, here *store) {
		ctx := context.Background()
		there, err := sqlstore.Open(ctx, here.dsn, here.clock.Now)
		if err != nil {
			t.Fatal(err)
		}
		defer there.Close()
		thereTokens := sqlstore.NewTokenService(there)
		tok := &rapport.Token{Name: "contact centre", Role: rapport.RoleAgent}
		secret, err := here.tokens.CreateToken(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			for _, tokens := range []*sqlstore.TokenService{here.tokens, thereTokens} {
				if _, err := tokens.Authenticate(ctx, secret); err != nil {
					t.Fatalf("Authenticate before revoking = %v", err)
				}
			}
		}
		if err := here.tokens.RevokeToken(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		_, err = here.tokens.Authenticate(ctx, secret)
		wantCode(t, "Authenticate on the server that revoked it", err, rapport.EUNAUTHORIZED)
		here.clock.Add(5 * time.Second)
		_, err = thereTokens.Authenticate(ctx, secret)
		wantCode(t, "Authenticate on another server 5 s later", err, rapport.EUNAUTHORIZED)
	})
}

// A token acts as its user: it cannot be made more powerful than the user,
// and never does more than the user may now.
func TestTokenWithinItsUser(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		viewer := &rapport.User{Email: "val@firm.example", Name: "Val Viewer", Role: rapport.RoleViewer}
		manager := &rapport.User{Email: "max@firm.example", Name: "Max Manager", Role: rapport.RoleManager}
		for _, u := range []*rapport.User{viewer, manager} {
			if err := s.users.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		_, err := s.tokens.CreateToken(ctx, &rapport.Token{Name: "sneaky", Role: rapport.RoleAdmin, UserID: viewer.ID})
		wantCode(t, "CreateToken(admin for a viewer)", err, rapport.EINVALID)
		if fe := rapport.ErrorFields(err); len(fe) != 1 || fe[0].Field != "role" {
			t.Errorf("CreateToken(admin for a viewer) fields = %v; want the role named", fe)
		}
		secret, err := s.tokens.CreateToken(ctx, &rapport.Token{Name: "reports", Role: rapport.RoleAgent, UserID: manager.ID})
		if err != nil {
			t.Fatalf("CreateToken(agent for a manager) = %v", err)
		}
		// The manager is made a viewer: their token does no more than view.
		if _, err := s.raw.Exec(`UPDATE users SET role = 'viewer' WHERE id = $1`, manager.ID); err != nil {
			t.Fatal(err)
		}
		s.clock.Add(5 * time.Second)
		p, err := s.tokens.Authenticate(ctx, secret)
		if err != nil || p.Role != rapport.RoleViewer {
			t.Errorf("Authenticate after the user became a viewer = %+v, %v; want the viewer role", p, err)
		}
	})
}
