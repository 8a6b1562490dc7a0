package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/rapport-crm/rapport/sqlstore"
)

const (
	backupSynopsis  = "rapport backup FILE [--db DSN] [--force]"
	restoreSynopsis = "rapport restore FILE [--db DSN] [--force]"
)

func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("backup", backupSynopsis, stderr)
	dsn := fs.String("db", defaultDB(getenv), "the SQLite file to back up, which may be in use by a running server ($RAPPORT_DB)")
	force := fs.Bool("force", false, "replace FILE if it exists")
	file, err := oneFile(fs, args, backupSynopsis)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := sqlstore.Backup(ctx, *dsn, file, *force); err != nil {
		return err
	}
	took := time.Since(start)
	info, err := sqlstore.CheckBackup(ctx, file)
	if err != nil {
		return fmt.Errorf("the backup in %s does not pass its check: %w", file, err)
	}
	fmt.Fprintf(stdout, "Backed up %s to %s in %s: %d customers, %d moments, schema %s.\n",
		*dsn, file, took.Round(time.Millisecond), info.Customers, info.Moments, info.Migration)
	return nil
}

func runRestore(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("restore", restoreSynopsis, stderr)
	dsn := fs.String("db", defaultDB(getenv), "the SQLite file to restore into; stop the server that uses it first ($RAPPORT_DB)")
	force := fs.Bool("force", false, "replace the database if it exists")
	file, err := oneFile(fs, args, restoreSynopsis)
	if err != nil {
		return err
	}
	info, err := sqlstore.Restore(ctx, file, *dsn, *force)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Restored %s into %s: %d customers, %d moments, schema %s.\n",
		file, *dsn, info.Customers, info.Moments, info.Migration)
	return nil
}

// oneFile parses a command's flags around its one FILE argument.
func oneFile(fs *flag.FlagSet, args []string, synopsis string) (string, error) {
	positional, err := parseWithArgs(fs, args)
	if err != nil {
		return "", err
	}
	if len(positional) != 1 {
		fs.Usage()
		return "", usageError{"usage: " + synopsis}
	}
	return positional[0], nil
}
