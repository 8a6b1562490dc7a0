package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/csvio"
	"github.com/rapport-crm/rapport/sqlstore"
)

const (
	importSynopsis = "rapport import moments|customers FILE [--db DSN] [--dry-run] [--skip-invalid]"
	exportSynopsis = "rapport export moments [--db DSN] [--from T] [--to T] [--customer ID] [--touchpoint KEY] [--channel C] [--outcome O] [--staff ID] > moments.csv\n" +
		"       rapport export customers [--db DSN] [--q TEXT] [--owner ID] [--stage STAGE] > customers.csv"
)

// parseWithArgs parses flags that may come before or after the positional
// arguments, as in "rapport import moments FILE --dry-run", and returns
// the positional ones.
func parseWithArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func runImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprintln(stdout, "Usage:", importSynopsis)
		return nil
	}
	fs := newFlags("import", importSynopsis, stderr)
	dsn := fs.String("db", defaultDB(getenv), "SQLite file or postgres:// URL ($RAPPORT_DB)")
	dryRun := fs.Bool("dry-run", false, "check the file and say what would happen, writing nothing")
	skipInvalid := fs.Bool("skip-invalid", false, "import the good rows and list the bad ones, rather than refuse the file")
	positional, err := parseWithArgs(fs, args)
	if err != nil {
		return err
	}
	if len(positional) != 2 || (positional[0] != "moments" && positional[0] != "customers") {
		fs.Usage()
		return usageError{"usage: " + importSynopsis}
	}
	what, path := positional[0], positional[1]
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	db, err := sqlstore.Open(ctx, *dsn, time.Now)
	if err != nil {
		return err
	}
	defer db.Close()
	imports := sqlstore.NewImportService(db)
	opt := rapport.ImportOptions{DryRun: *dryRun, SkipInvalid: *skipInvalid}
	var res *rapport.ImportResult
	if what == "moments" {
		var file *rapport.MomentFile
		if file, err = csvio.ReadMoments(f, time.Now()); err == nil {
			res, err = imports.ImportMoments(ctx, file, opt)
		}
	} else {
		var file *rapport.CustomerFile
		if file, err = csvio.ReadCustomers(f); err == nil {
			res, err = imports.ImportCustomers(ctx, file, opt)
		}
	}
	if err != nil {
		printProblems(stderr, rapport.ErrorFields(err))
		if rapport.ErrorCode(err) == rapport.EINTERNAL {
			return err
		}
		return fmt.Errorf("%s: %s", path, rapport.ErrorMessage(err))
	}
	printProblems(stderr, res.Errors)
	verb, would := "Imported", ""
	if res.DryRun {
		verb, would = "Checked", " would be"
	}
	rows := "rows"
	if res.Rows == 1 {
		rows = "row"
	}
	fmt.Fprintf(stdout, "%s %s: %d %s; %d%s created, %d skipped (stored already)", verb, path, res.Rows, rows, res.Created, would, res.Skipped)
	if res.Invalid > 0 {
		fmt.Fprintf(stdout, ", %d left out as not valid", res.Invalid)
	}
	fmt.Fprintln(stdout, ".")
	if res.DryRun {
		fmt.Fprintln(stdout, "Nothing was written.")
	}
	return nil
}

// printProblems prints one line per problem: "row 7, rating: must be from 1 to 5".
func printProblems(w io.Writer, fields []rapport.FieldError) {
	for _, f := range fields {
		where := "file"
		if f.Index != nil {
			where = fmt.Sprintf("row %d", *f.Index)
		}
		if f.Field != "" {
			where += ", " + f.Field
		}
		fmt.Fprintf(w, "%s: %s\n", where, f.Message)
	}
}

func runExport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || isHelp(args[0]) || (args[0] != "moments" && args[0] != "customers") {
		if len(args) > 0 && isHelp(args[0]) {
			fmt.Fprintln(stdout, "Usage:", exportSynopsis)
			return nil
		}
		return usageError{"usage: " + exportSynopsis}
	}
	what := args[0]
	fs := newFlags("export "+what, exportSynopsis, stderr)
	dsn := fs.String("db", defaultDB(getenv), "SQLite file or postgres:// URL ($RAPPORT_DB)")
	var mf rapport.MomentFilter
	var cf rapport.CustomerFilter
	var from, to, channel, outcome string
	if what == "moments" {
		fs.StringVar(&from, "from", "", "only moments at or after this time (RFC 3339, or a date)")
		fs.StringVar(&to, "to", "", "only moments before this time (RFC 3339, or a date)")
		fs.StringVar(&mf.CustomerID, "customer", "", "only this customer's moments (their id)")
		fs.StringVar(&mf.Touchpoint, "touchpoint", "", "only moments at this touchpoint (its key)")
		fs.StringVar(&channel, "channel", "", "only moments on this channel")
		fs.StringVar(&outcome, "outcome", "", "only moments with this outcome: magic, neutral or misery")
		fs.StringVar(&mf.StaffID, "staff", "", "only moments with this member of staff (their id)")
	} else {
		fs.StringVar(&cf.Query, "q", "", "only customers whose name, email, phone or external id holds this")
		fs.StringVar(&cf.OwnerID, "owner", "", "only customers this user owns (their id)")
		fs.StringVar(&cf.Stage, "stage", "", "only customers at this stage")
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	mf.Channel, mf.Outcome = rapport.Channel(channel), rapport.Outcome(outcome)
	if err := momentFilterTimes(&mf, from, to); err != nil {
		return err
	}
	db, err := sqlstore.Open(ctx, *dsn, time.Now)
	if err != nil {
		return err
	}
	defer db.Close()
	exports := sqlstore.NewImportService(db)
	out := bufio.NewWriter(stdout)
	if what == "moments" {
		err = exportMoments(ctx, exports, mf, out)
	} else {
		err = exportCustomers(ctx, exports, cf, out)
	}
	if err != nil {
		return err
	}
	return out.Flush()
}

// momentFilterTimes reads the export's --from and --to into the filter and
// checks its channel and outcome.
func momentFilterTimes(mf *rapport.MomentFilter, from, to string) error {
	for _, t := range []struct {
		flag, value string
		dst         *time.Time
	}{{"from", from, &mf.From}, {"to", to, &mf.To}} {
		if t.value == "" {
			continue
		}
		at, err := csvio.ParseTime(t.value)
		if err != nil {
			return usageError{fmt.Sprintf("--%s %v", t.flag, err)}
		}
		*t.dst = at
	}
	switch {
	case mf.Channel != "" && !mf.Channel.Valid():
		return usageError{fmt.Sprintf("--channel %q is not a channel; channels are in_person, phone, email, chat, web, system", mf.Channel)}
	case mf.Outcome != "" && !mf.Outcome.Valid():
		return usageError{"--outcome must be magic, neutral or misery"}
	}
	return nil
}

func exportMoments(ctx context.Context, exports *sqlstore.ImportService, f rapport.MomentFilter, out io.Writer) error {
	w, err := csvio.NewMomentWriter(out)
	if err != nil {
		return err
	}
	if err := exports.ExportMoments(ctx, f, w.Write); err != nil {
		return err
	}
	return w.Flush()
}

func exportCustomers(ctx context.Context, exports *sqlstore.ImportService, f rapport.CustomerFilter, out io.Writer) error {
	keys, err := exports.CustomerAttributeKeys(ctx, f)
	if err != nil {
		return err
	}
	w, err := csvio.NewCustomerWriter(out, keys)
	if err != nil {
		return err
	}
	if err := exports.ExportCustomers(ctx, f, w.Write); err != nil {
		return err
	}
	return w.Flush()
}
