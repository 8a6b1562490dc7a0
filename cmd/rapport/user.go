package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

func runUser(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const synopsis = "rapport user create --email EMAIL --name NAME --role ROLE [--team TEAM] [--password-env VAR] [--db DSN]\n" +
		"       rapport user deactivate|reactivate --email EMAIL [--db DSN]"
	if len(args) > 0 && (args[0] == "deactivate" || args[0] == "reactivate") {
		return runUserActive(ctx, args[0], args[1:], getenv, stdout, stderr)
	}
	if len(args) == 0 || args[0] != "create" {
		if len(args) > 0 && isHelp(args[0]) {
			fmt.Fprintln(stdout, "Usage:", synopsis)
			return nil
		}
		return usageError{"usage: " + synopsis}
	}
	fs := newFlags("user create", synopsis, stderr)
	dsn := fs.String("db", defaultDB(getenv), "SQLite file or postgres:// URL ($RAPPORT_DB)")
	email := fs.String("email", "", "the user's email, used to sign in")
	name := fs.String("name", "", "the user's name")
	role := fs.String("role", "", "admin, manager, agent or viewer")
	team := fs.String("team", "", "the user's team (optional)")
	passwordEnv := fs.String("password-env", "RAPPORT_PASSWORD", "the environment variable holding the password; when it is empty, a password is generated and printed")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	// The password comes from the environment, not a flag, so it never shows in
	// the process list or shell history.
	password, generated := getenv(*passwordEnv), false
	if password == "" {
		password, generated = randomPassword(), true
	}
	db, err := sqlstore.Open(ctx, *dsn, time.Now)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := rapport.ValidatePassword(password); err != nil {
		return describe(err)
	}
	u := &rapport.User{Email: *email, Name: *name, Role: rapport.Role(*role), Team: *team}
	if err := sqlstore.NewUserService(db).CreateUser(ctx, u); err != nil {
		return describe(err)
	}
	if err := sqlstore.NewPasswordService(db).SetPassword(ctx, u.ID, password); err != nil {
		return describe(err)
	}
	fmt.Fprintf(stdout, "Created user %s <%s> (id %s) with role %s.\n", u.Name, u.Email, u.ID, u.Role)
	if generated {
		fmt.Fprintf(stdout, "Password (shown once): %s\n", password)
	}
	return nil
}

// runUserActive deactivates or reactivates a user, as an admin does on the
// Users page: a deactivated user's sessions end and their tokens refuse.
func runUserActive(ctx context.Context, verb string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	synopsis := "rapport user " + verb + " --email EMAIL [--db DSN]"
	fs := newFlags("user "+verb, synopsis, stderr)
	dsn := fs.String("db", defaultDB(getenv), "SQLite file or postgres:// URL ($RAPPORT_DB)")
	email := fs.String("email", "", "the user's email")
	if err := parse(fs, args); err != nil {
		return err
	}
	db, err := sqlstore.Open(ctx, *dsn, time.Now)
	if err != nil {
		return err
	}
	defer db.Close()
	users := sqlstore.NewUserService(db)
	u, err := users.FindUserByEmail(ctx, *email)
	if err != nil {
		return describe(err)
	}
	active := verb == "reactivate"
	if u, err = users.UpdateUser(ctx, u.ID, rapport.UserUpdate{Active: &active}); err != nil {
		return describe(err)
	}
	if active {
		fmt.Fprintf(stdout, "%s <%s> is active again and can sign in.\n", u.Name, u.Email)
	} else {
		fmt.Fprintf(stdout, "%s <%s> is deactivated: signed out, their tokens refused, and cannot sign in.\n", u.Name, u.Email)
	}
	return nil
}

// randomPassword returns 26 random base32 characters (128 bits).
func randomPassword() string { return rand.Text() }
