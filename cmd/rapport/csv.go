package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/api"
	"github.com/rapport-crm/rapport/csvio"
	"github.com/rapport-crm/rapport/sqlstore"
)

const (
	importSynopsis = "rapport import moments|customers|promises|holdings FILE [--db DSN] [--strict] [--dry-run] [--delimiter D] [--date-format F] [--map FROM=TO]... [--key COL,COL] [--report FILE]"
	exportSynopsis = "rapport export moments [--db DSN] [--format csv|ndjson] [--from T] [--to T] [--customer ID] [--touchpoint KEY] [--channel C] [--outcome O] [--staff ID] > moments.csv\n" +
		"       rapport export customers [--db DSN] [--format csv|ndjson] [--q TEXT] [--owner ID] [--stage STAGE] > customers.csv"
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
	var req rapport.ImportRequest
	fs.BoolVar(&req.DryRun, "dry-run", false, "check the whole file and say what would happen, writing nothing")
	fs.BoolVar(&req.Strict, "strict", false, "import nothing if any row is bad (the file is checked whole first)")
	fs.Bool("skip-invalid", true, "import the good rows and report the bad ones: what an import does unless --strict")
	fs.StringVar(&req.Delimiter, "delimiter", "", `the delimiter: "," ";" or "tab"; detected from the first row if not given`)
	fs.StringVar(&req.DateFormat, "date-format", "", "the form of times that are not RFC 3339, such as DD/MM/YYYY or YYYY-MM-DD hh:mm (UTC)")
	mapping := mapFlag{}
	fs.Var(mapping, "map", "read the file's column FROM as Rapport's column TO, as in --map \"E-mail=email\" (repeat for more)")
	key := fs.String("key", "", "columns whose values make a row's external id when it has none, as in --key customer_external_id,occurred_at")
	reportPath := fs.String("report", "", "where to write the rejected rows (default: beside the file, FILE.errors.csv)")
	generate := fs.Int("generate", 0, "")    // hidden: write a file of this many moments to FILE, for measuring
	badEvery := fs.Int("bad-every", 0, "")   // hidden: with --generate, plant a bad row every N rows
	ceiling := fs.Bool("ceiling", false, "") // hidden: measure the bare insert of the file's good moments instead
	fs.Usage = hideFlags(fs, importSynopsis, stderr, "generate", "bad-every", "ceiling")
	positional, err := parseWithArgs(fs, args)
	if err != nil {
		return err
	}
	if len(positional) != 2 || !slices.Contains(rapport.ImportKinds, positional[0]) {
		fs.Usage()
		return usageError{"usage: " + importSynopsis}
	}
	req.Kind, req.Path, req.FileName, req.Map = positional[0], positional[1], filepath.Base(positional[1]), mapping
	if req.Delimiter == "tab" {
		req.Delimiter = "\t"
	}
	if *key != "" {
		req.Key = strings.Split(*key, ",")
	}
	if *reportPath == "" {
		*reportPath = strings.TrimSuffix(req.Path, filepath.Ext(req.Path)) + ".errors.csv"
	}
	db, err := sqlstore.Open(ctx, *dsn, time.Now)
	if err != nil {
		return err
	}
	defer db.Close()
	if *generate > 0 {
		return generateMoments(ctx, db, req.Path, *generate, *badEvery, stdout)
	}
	if _, err := os.Stat(req.Path); err != nil {
		return err
	}
	if *ceiling {
		return measureCeiling(ctx, db, req.Path, stdout)
	}
	imports := sqlstore.NewImportService(db)
	job, err := imports.QueueFile(ctx, req, *reportPath)
	if err != nil {
		msg := rapport.ErrorMessage(err)
		for _, f := range rapport.ErrorFields(err) {
			msg += fmt.Sprintf(" --%s: %s.", f.Field, f.Message)
		}
		return fmt.Errorf("%s: %s", req.Path, msg)
	}
	bar := newProgress(stderr)
	job, err = imports.RunJob(ctx, job.ID, bar.show)
	bar.end()
	if err != nil {
		return err
	}
	return importSummary(job, *reportPath, stdout)
}

// importSummary says what an import did, and fails when it refused the
// file or left rows out, so that a script notices.
func importSummary(job *rapport.ImportJob, reportPath string, stdout io.Writer) error {
	if job.Rejected == 0 {
		os.Remove(reportPath) // it would hold the header alone
	}
	verb, would := "Imported", ""
	if job.DryRun || job.State == rapport.ImportRefused {
		verb, would = "Checked", " would be"
	}
	rows := "rows"
	if job.RowsRead == 1 {
		rows = "row"
	}
	fmt.Fprintf(stdout, "%s %s: %d %s; %d%s created, %d skipped (stored already)", verb, job.Path, job.RowsRead, rows, job.Stored, would, job.Skipped)
	if job.Rejected > 0 {
		fmt.Fprintf(stdout, ", %d rejected (in %s)", job.Rejected, reportPath)
	}
	fmt.Fprintln(stdout, ".")
	switch {
	case job.State == rapport.ImportFailed:
		return fmt.Errorf("%s: %s", job.Path, job.Message)
	case job.State == rapport.ImportRefused:
		return fmt.Errorf("%s: %s The rows are in %s", job.Path, job.Message, reportPath)
	case job.DryRun:
		fmt.Fprintln(stdout, "Nothing was written.")
	}
	if job.Rejected > 0 && !job.DryRun {
		return fmt.Errorf("%s: %d rows were not valid and were left out; they are in %s, with what is wrong with each", job.Path, job.Rejected, reportPath)
	}
	return nil
}

// mapFlag gathers --map FROM=TO flags.
type mapFlag map[string]string

func (m mapFlag) String() string { return "" }

func (m mapFlag) Set(v string) error {
	from, to, ok := strings.Cut(v, "=")
	if !ok || strings.TrimSpace(from) == "" || strings.TrimSpace(to) == "" {
		return fmt.Errorf("%q must be FROM=TO, a column of the file and one of Rapport's", v)
	}
	m[strings.TrimSpace(from)] = strings.TrimSpace(to)
	return nil
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
	format := fs.String("format", "csv", "csv, or ndjson: one JSON object a line, as the API writes it")
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
	if *format != "csv" && *format != "ndjson" {
		return usageError{"--format must be csv or ndjson"}
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
	enc := json.NewEncoder(out)
	switch {
	case *format == "ndjson" && what == "moments":
		err = exports.ExportMoments(ctx, mf, func(row *rapport.MomentRow) error {
			return enc.Encode(api.MomentLine{Moment: &row.Moment, CustomerExternalID: row.CustomerExternalID, StaffEmail: row.StaffEmail})
		})
	case *format == "ndjson":
		err = exports.ExportCustomers(ctx, cf, func(row *rapport.CustomerRow) error {
			return enc.Encode(api.CustomerLine{Customer: &row.Customer, OwnerEmail: row.OwnerEmail})
		})
	case what == "moments":
		err = exportMoments(ctx, exports, mf, out)
	default:
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

// hideFlags is a usage that leaves out flags meant for measuring, not for people.
func hideFlags(fs *flag.FlagSet, synopsis string, stderr io.Writer, hidden ...string) func() {
	return func() {
		fmt.Fprintf(stderr, "Usage: %s\n\nOptions:\n", synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			if !slices.Contains(hidden, f.Name) {
				fmt.Fprintf(stderr, "  -%s\n    \t%s\n", f.Name, f.Usage)
			}
		})
	}
}
