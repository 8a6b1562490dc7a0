package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

func runToken(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		if len(args) > 0 && isHelp(args[0]) {
			fmt.Fprintln(stdout, "Usage: rapport token create --name NAME --role ROLE [--db DSN] [--user EMAIL]")
			return nil
		}
		return usageError{"usage: rapport token create --name NAME --role ROLE [--db DSN]"}
	}
	fs := newFlags("token create", "rapport token create --name NAME --role ROLE [--db DSN] [--user EMAIL]", stderr)
	dsn := fs.String("db", defaultDB(getenv), "SQLite file or postgres:// URL ($RAPPORT_DB)")
	name := fs.String("name", "", "what the token is for, e.g. \"billing sync\"")
	role := fs.String("role", "", "admin, manager, agent or viewer")
	userEmail := fs.String("user", "", "the email of the user the token acts for (optional)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	db, err := sqlstore.Open(ctx, *dsn, time.Now)
	if err != nil {
		return err
	}
	defer db.Close()
	t := &rapport.Token{Name: *name, Role: rapport.Role(*role)}
	if *userEmail != "" {
		u, err := sqlstore.NewUserService(db).FindUserByEmail(ctx, *userEmail)
		if err != nil {
			return fmt.Errorf("no user has the email %s", *userEmail)
		}
		t.UserID = u.ID
	}
	secret, err := sqlstore.NewTokenService(db).CreateToken(ctx, t)
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(stdout, "Created token %q (id %s) with role %s.\n", t.Name, t.ID, t.Role)
	fmt.Fprintln(stdout, "Keep it safe: it is shown this once. Send it as Authorization: Bearer <token>.")
	fmt.Fprintln(stdout, secret)
	return nil
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help" || arg == "help"
}

// describe turns an application error into one readable line with its field errors.
func describe(err error) error {
	msg := rapport.ErrorMessage(err)
	if rapport.ErrorCode(err) == rapport.EINTERNAL {
		return err
	}
	for _, f := range rapport.ErrorFields(err) {
		msg += fmt.Sprintf(" %s %s.", f.Field, f.Message)
	}
	return fmt.Errorf("%s", msg)
}
