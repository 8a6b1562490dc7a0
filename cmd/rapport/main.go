// Command rapport runs the Rapport server and its administrative commands.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/api"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "rapport:", err)
		}
		os.Exit(exitCode(err))
	}
}

func exitCode(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var u usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}

// usageError is a mistake in how the command was called.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `Rapport records every moment of truth between customers and the firm.

Usage:
  rapport serve [--addr HOST:PORT] [--db DSN] [--demo]   run the server
  rapport demo [--db DSN] [--customers N] [--moments M]  fill an empty database with a demo firm
  rapport token create --name NAME --role ROLE [--db DSN] create an API token
  rapport user create --email EMAIL --name NAME --role ROLE [--db DSN]
  rapport user deactivate|reactivate --email EMAIL [--db DSN]
  rapport import moments|customers|promises|holdings FILE [--db DSN] [--strict] [--dry-run]
                                                          import a CSV file of any size; bad rows go to FILE.errors.csv
  rapport export moments|customers [--db DSN] [--from T] [--to T] > FILE
                                                          export as CSV (which imports again)
  rapport backup FILE [--db DSN] [--force]               copy a SQLite database, even while a server uses it
  rapport restore FILE [--db DSN] [--force]              check a backup and put it in place of the database
  rapport load [--url URL] [--token T] [--clients N] [--duration D] [--batch N]
                                                          record moments on a running server (loopback only)
                                                          beside the machine's HTTP ceiling, read its pages
                                                          and reports (--reads, --read), and print the figures
  rapport openapi                                         print the API's OpenAPI document
  rapport version                                         print the version

DSN is a SQLite file path (default rapport.db, or $RAPPORT_DB) or a
postgres:// URL. Roles: admin, manager, agent, viewer.
Run "rapport COMMAND --help" for a command's options.
`

// run is the whole program, with its environment passed in so tests can call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command given"}
	}
	cmd, rest := args[0], args[1:]
	if cmd == "token" || cmd == "user" || cmd == "import" {
		// Changes made here are the command line's in the audit log.
		ctx = rapport.NewContextWithPrincipal(ctx, rapport.CommandLinePrincipal(commandLineAccount(getenv)))
	}
	switch cmd {
	case "serve":
		return runServe(ctx, rest, getenv, stdout, stderr)
	case "demo":
		return runDemo(ctx, rest, getenv, stdout, stderr)
	case "token":
		return runToken(ctx, rest, getenv, stdout, stderr)
	case "user":
		return runUser(ctx, rest, getenv, stdout, stderr)
	case "import":
		return runImport(ctx, rest, getenv, stdout, stderr)
	case "load":
		return runLoad(ctx, rest, getenv, stdout, stderr)
	case "export":
		return runExport(ctx, rest, getenv, stdout, stderr)
	case "backup":
		return runBackup(ctx, rest, getenv, stdout, stderr)
	case "restore":
		return runRestore(ctx, rest, getenv, stdout, stderr)
	case "openapi":
		doc, err := api.OpenAPI()
		if err != nil {
			return err
		}
		_, err = stdout.Write(doc)
		return err
	case "version", "--version":
		fmt.Fprintln(stdout, "rapport", version())
		return nil
	case "help", "-h", "--help", "-help":
		printHelp(stdout, getenv)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
}

// printHelp writes the usage and every option of serve, the same list
// "rapport serve --help" gives and the README's configuration table keeps.
func printHelp(w io.Writer, getenv func(string) string) {
	fmt.Fprint(w, usage)
	fs, _ := serveFlags(getenv, w)
	fmt.Fprint(w, "\nOptions of serve (most also read from the environment variable named):\n")
	fs.PrintDefaults()
}

// newFlags returns a flag set that prints its usage to stderr and reports
// errors rather than exiting.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s\n\nOptions:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags, turning a bad flag into a usage error.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

// defaultDB is the database a command uses without --db.
func defaultDB(getenv func(string) string) string {
	if dsn := getenv("RAPPORT_DB"); dsn != "" {
		return dsn
	}
	return "rapport.db"
}

// commandLineAccount names the account on this machine that runs a command,
// for the audit log.
func commandLineAccount(getenv func(string) string) string {
	return cmp.Or(getenv("USER"), getenv("LOGNAME"), getenv("USERNAME"), "unknown")
}
