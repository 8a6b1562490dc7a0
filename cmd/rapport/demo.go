package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/demo"
	"github.com/rapport-crm/rapport/sqlstore"
)

func runDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "rapport demo [--db DSN] [--customers N] [--moments M] [--seed S]", stderr)
	dsn := fs.String("db", defaultDB(getenv), "SQLite file or postgres:// URL ($RAPPORT_DB); must hold no customers")
	customers := fs.Int("customers", 3000, "how many customers")
	moments := fs.Int("moments", 0, "about how many moments in all (0: about 30 per customer over a year)")
	seed := fs.Int64("seed", 1, "the generator's seed: the same seed gives the same firm")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *customers < 1 || *moments < 0 {
		return usageError{"--customers must be at least 1 and --moments at least 0"}
	}
	db, err := sqlstore.Open(ctx, *dsn, time.Now)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	sum, err := demo.Populate(ctx, db, demo.Config{Seed: *seed, Customers: *customers, Moments: *moments, Now: time.Now()})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Generated in %s: %s\n", time.Since(start).Round(time.Millisecond), sum)
	return demoSignIn(ctx, db, sum, stdout)
}

// serveDemo fills an empty database with the demo firm and prints how to
// sign in; on a database with data it says so and leaves it alone.
func serveDemo(ctx context.Context, db *sqlstore.DB, stdout io.Writer) error {
	page, err := sqlstore.NewCustomerService(db).FindCustomers(ctx, rapport.CustomerFilter{Limit: 1})
	if err != nil {
		return err
	}
	if len(page.Items) > 0 {
		fmt.Fprintln(stdout, "The database holds customers already; the demo firm is not generated again.")
		return nil
	}
	fmt.Fprintln(stdout, "Generating the demo firm…")
	sum, err := demo.Populate(ctx, db, demo.Config{Seed: 1, Customers: 3000, Now: time.Now()})
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, sum)
	return demoSignIn(ctx, db, sum, stdout)
}

// demoSignIn gives the demo's staff who sign in a known password,
// gives the admin an API token, and prints both. The demo runs on the
// newcomer's own machine, so a known password is the friendly choice; a real
// firm's users are created with "rapport user create".
func demoSignIn(ctx context.Context, db *sqlstore.DB, sum demo.Summary, stdout io.Writer) error {
	users := sqlstore.NewUserService(db)
	fmt.Fprintf(stdout, "\nSign in to the web UI with the password %s as\n", demoPassword)
	var adminID string
	for _, l := range sum.Logins {
		u, err := users.FindUserByEmail(ctx, l.Email)
		if err != nil {
			return err
		}
		if err := sqlstore.NewPasswordService(db).SetPassword(ctx, u.ID, demoPassword); err != nil {
			return err
		}
		if l.Email == sum.LoginEmail {
			adminID = u.ID
		}
		fmt.Fprintf(stdout, "  %-26s %s (%s)\n", l.Email, l.Name, l.Role)
	}
	secret, err := sqlstore.NewTokenService(db).CreateToken(ctx, &rapport.Token{Name: "demo", Role: rapport.RoleAdmin, UserID: adminID})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "API token (admin): %s\n", secret)
	return nil
}

// demoPassword is the password of the demo staff who sign in.
const demoPassword = "moments-of-truth"
