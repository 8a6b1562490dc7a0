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

func TestPasswordsAndSessions(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			clock := testdb.NewClock(time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC))
			db := b.Open(t, clock.Now)
			users, pw, sessions := sqlstore.NewUserService(db), sqlstore.NewPasswordService(db), sqlstore.NewSessionService(db)
			u := &rapport.User{Email: "Ann@Example.com", Name: "Ann", Role: rapport.RoleAgent}
			if err := users.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}

			if _, err := pw.AuthenticatePassword(ctx, "ann@example.com", ""); rapport.ErrorCode(err) != rapport.EUNAUTHORIZED {
				t.Errorf("sign in before a password is set: got %v, want %s", err, rapport.EUNAUTHORIZED)
			}
			err := pw.SetPassword(ctx, u.ID, "short")
			if rapport.ErrorCode(err) != rapport.EINVALID || len(rapport.ErrorFields(err)) != 1 || rapport.ErrorFields(err)[0].Field != "password" {
				t.Errorf("SetPassword(short) = %v; want EINVALID on field password", err)
			}
			if err := pw.SetPassword(ctx, "nobody", "long enough password"); rapport.ErrorCode(err) != rapport.ENOTFOUND {
				t.Errorf("SetPassword(unknown user) = %v; want ENOTFOUND", err)
			}
			if err := pw.SetPassword(ctx, u.ID, "correct horse battery"); err != nil {
				t.Fatal(err)
			}
			got, err := pw.AuthenticatePassword(ctx, "  ANN@example.com ", "correct horse battery")
			if err != nil || got.ID != u.ID {
				t.Fatalf("AuthenticatePassword(right) = %v, %v; want user %s", got, err, u.ID)
			}
			for _, c := range []struct{ email, password string }{
				{"ann@example.com", "wrong horse battery"},
				{"bob@example.com", "correct horse battery"},
				{"ann@example.com", strings.Repeat("x", 5000)},
			} {
				_, err := pw.AuthenticatePassword(ctx, c.email, c.password)
				if rapport.ErrorCode(err) != rapport.EUNAUTHORIZED || rapport.ErrorMessage(err) != "The email or password is not right." {
					t.Errorf("AuthenticatePassword(%q, %.10q…) = %v; want the one sign-in error", c.email, c.password, err)
				}
			}

			sess, secret, err := sessions.CreateSession(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !sess.ExpiresAt.Equal(clock.Now().Add(rapport.SessionLifetime)) {
				t.Errorf("expires at %v; want %v", sess.ExpiresAt, clock.Now().Add(rapport.SessionLifetime))
			}
			found, err := sessions.FindSessionBySecret(ctx, secret)
			if err != nil || found.ID != sess.ID || found.User == nil || found.User.Email != "ann@example.com" {
				t.Fatalf("FindSessionBySecret = %+v, %v; want session %s with its user", found, err, sess.ID)
			}
			for _, bad := range []string{"", "rps_", "rps_nope", secret + "x", strings.TrimPrefix(secret, "rps_")} {
				if _, err := sessions.FindSessionBySecret(ctx, bad); rapport.ErrorCode(err) != rapport.EUNAUTHORIZED {
					t.Errorf("FindSessionBySecret(%q) = %v; want EUNAUTHORIZED", bad, err)
				}
			}
			if err := sessions.DeleteSession(ctx, secret); err != nil {
				t.Fatal(err)
			}
			if err := sessions.DeleteSession(ctx, secret); err != nil {
				t.Errorf("deleting twice: %v", err)
			}
			if _, err := sessions.FindSessionBySecret(ctx, secret); rapport.ErrorCode(err) != rapport.EUNAUTHORIZED {
				t.Errorf("after delete: %v; want EUNAUTHORIZED", err)
			}

			// Expiry, and a password reset ending every session.
			_, old, _ := sessions.CreateSession(ctx, u.ID)
			clock.Add(rapport.SessionLifetime)
			if _, err := sessions.FindSessionBySecret(ctx, old); rapport.ErrorCode(err) != rapport.EUNAUTHORIZED {
				t.Errorf("expired session: %v; want EUNAUTHORIZED", err)
			}
			_, live, _ := sessions.CreateSession(ctx, u.ID)
			if err := pw.SetPassword(ctx, u.ID, "another long password"); err != nil {
				t.Fatal(err)
			}
			if _, err := sessions.FindSessionBySecret(ctx, live); rapport.ErrorCode(err) != rapport.EUNAUTHORIZED {
				t.Errorf("session after password reset: %v; want EUNAUTHORIZED", err)
			}
			if _, _, err := sessions.CreateSession(ctx, "nobody"); rapport.ErrorCode(err) != rapport.ENOTFOUND {
				t.Errorf("CreateSession(unknown user) = %v; want ENOTFOUND", err)
			}
		})
	}
}

func TestDashboard(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			// Wednesday 4 March 2026, 10:00: the week began on Monday 2 March.
			now := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
			db := b.Open(t, testdb.NewClock(now).Now)
			customers, moments := sqlstore.NewCustomerService(db), sqlstore.NewMomentService(db)
			c := &rapport.Customer{Name: "Dora"}
			if err := customers.CreateCustomer(ctx, c); err != nil {
				t.Fatal(err)
			}
			rating := func(n int) *int { return &n }
			record := func(at time.Time, tp string, r *int) {
				t.Helper()
				m := &rapport.Moment{CustomerID: c.ID, Touchpoint: tp, Channel: rapport.ChannelPhone, OccurredAt: at, Rating: r}
				if _, err := moments.RecordMoment(ctx, m); err != nil {
					t.Fatal(err)
				}
			}
			record(now.Add(-time.Hour), "greeting", rating(5))                   // this week, magic
			record(now.Add(-9*time.Hour), "complaint", rating(1))                // this week (Wednesday 01:00), misery
			record(now.AddDate(0, 0, -7).Add(-time.Hour), "greeting", rating(4)) // last week, before this point
			record(now.AddDate(0, 0, -5), "greeting", nil)                       // last week, Friday: after this point
			record(now.AddDate(0, 0, -7*11), "complaint", rating(2))             // 12th week back: first of the series
			record(now.AddDate(0, 0, -7*12), "complaint", rating(1))             // outside the series

			d, err := sqlstore.NewDashboardService(db).Dashboard(ctx, rapport.DashboardFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if want := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC); !d.WeekStart.Equal(want) {
				t.Errorf("WeekStart = %v; want %v", d.WeekStart, want)
			}
			if d.ThisWeek != 2 || d.LastWeek != 2 || d.LastWeekToDate != 1 {
				t.Errorf("this week %d, last week %d, last week to date %d; want 2, 2, 1", d.ThisWeek, d.LastWeek, d.LastWeekToDate)
			}
			if len(d.Weeks) != rapport.DefaultDashboardWeeks {
				t.Fatalf("got %d weeks, want %d", len(d.Weeks), rapport.DefaultDashboardWeeks)
			}
			if d.Weeks[0].Moments != 1 || d.Weeks[0].Misery != 1 || !d.Weeks[0].Start.Equal(d.WeekStart.AddDate(0, 0, -77)) {
				t.Errorf("first week = %+v; want one misery moment from %v", d.Weeks[0], d.WeekStart.AddDate(0, 0, -77))
			}
			want := rapport.Satisfaction{Moments: 5, Rated: 4, RatingTotal: 12, Magic: 1, Misery: 2}
			if d.Overall != want {
				t.Errorf("Overall = %+v; want %+v", d.Overall, want)
			}
			if mean, ok := d.Overall.MeanRating(); !ok || mean != 3 {
				t.Errorf("mean rating = %v, %v; want 3", mean, ok)
			}
			if len(d.Touchpoints) != 2 || d.Touchpoints[0].Touchpoint != "complaint" || d.Touchpoints[0].Misery != 2 ||
				d.Touchpoints[1].Touchpoint != "greeting" || d.Touchpoints[1].Moments != 3 || d.Touchpoints[1].Magic != 1 {
				t.Errorf("Touchpoints = %+v", d.Touchpoints)
			}
			if len(d.LatestMisery) != 3 || d.LatestMisery[0].CustomerName != "Dora" || d.LatestMisery[0].Moment.Touchpoint != "complaint" ||
				!d.LatestMisery[0].Moment.OccurredAt.Equal(now.Add(-9*time.Hour)) {
				t.Errorf("LatestMisery = %+v; want 3, newest first, with the customer's name", d.LatestMisery)
			}
		})
	}
}
