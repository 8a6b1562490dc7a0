package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/csvio"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
)

// derivedTables are every table the moment pipeline keeps (the touchpoints'
// measured impact is the sweep's, over a year, and not kept per moment),
// with the columns
// that name a row rather than describe it (new ids, which differ from one
// database to the next, and equal ones do not prove anything).
var derivedTables = []struct {
	name string
	skip []string
}{
	{"moment_stats", nil},
	{"customer_day_stats", nil},
	{"customer_staff_stats", nil},
	{"customer_response_stats", nil},
	{"customer_measures", nil},
	{"customer_stages", nil},
	// A stage change's reason counts the moments seen when it changed, and
	// so depends on how moments were grouped into transactions.
	{"stage_changes", []string{"id", "reason"}},
	{"recovery_cases", []string{"id"}},
	{"recovery_case_days", nil},
	{"webhook_deliveries", []string{"id", "payload", "endpoint_id"}},
}

// pipelineFirm is one database with the customers, staff and webhook that
// the same moments are recorded against by each route.
type pipelineFirm struct {
	t         *testing.T
	dsn       string
	clock     *testdb.Clock
	db        *sqlstore.DB
	raw       *sql.DB
	customers map[string]string // name -> id
	staff     string
	// momentNames are the moments' names in a snapshot, by id.
	momentNames map[string]string
}

// newPipelineFirm makes a fresh database of one backend with three
// customers (one owned, so cases go to her owner) and a webhook that wants
// every moment and case event.
func newPipelineFirm(t *testing.T, backend testdb.Backend) *pipelineFirm {
	t.Helper()
	ctx := context.Background()
	dsn := backend.DSN(t)
	f := &pipelineFirm{t: t, clock: testdb.NewClock(epoch), customers: map[string]string{}, momentNames: map[string]string{}}
	db, err := sqlstore.Open(ctx, dsn, f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f.db, f.raw, f.dsn = db, testdb.SQL(t, dsn), dsn
	owner := &rapport.User{Email: "owner@firm.example", Name: "Olive Owner", Role: rapport.RoleAgent}
	if err := sqlstore.NewUserService(db).CreateUser(ctx, owner); err != nil {
		t.Fatal(err)
	}
	f.staff = owner.ID
	for _, c := range []*rapport.Customer{
		{Name: "Ada", ExternalID: "c-ada", OwnerID: owner.ID},
		{Name: "Ben", ExternalID: "c-ben"},
		{Name: "Cy", ExternalID: "c-cy"},
	} {
		if err := sqlstore.NewCustomerService(db).CreateCustomer(ctx, c); err != nil {
			t.Fatal(err)
		}
		f.customers[c.Name] = c.ID
	}
	w := &rapport.Webhook{URL: "https://crm-sync.example/hook", Active: true,
		Kinds: []string{rapport.EventMomentRecorded, rapport.EventMomentMisery, rapport.EventCaseOpened, rapport.EventStageChanged}}
	if _, err := sqlstore.NewWebhookService(db, sqlstore.WebhookOptions{}).CreateWebhook(ctx, w, strings.Repeat("s", 32)); err != nil {
		t.Fatal(err)
	}
	// Everything above happened a while ago; the moments come now.
	f.clock.Add(time.Hour)
	return f
}

// moments are 36 moments over the last four weeks: every outcome, ratings
// and none, effort, NPS, revenue and cost, a given outcome, three customers,
// five touchpoints, three channels. Each has an external id, so the same
// moment can be found on every route.
func (f *pipelineFirm) moments() []*rapport.Moment {
	names := []string{"Ada", "Ben", "Cy"}
	touchpoints := []string{"complaint", "service", "purchase", "query", "delivery"}
	channels := []rapport.Channel{rapport.ChannelPhone, rapport.ChannelEmail, rapport.ChannelWeb}
	now := f.clock.Now()
	var ms []*rapport.Moment
	for i := range 36 {
		m := &rapport.Moment{
			ExternalID: fmt.Sprintf("m-%02d", i), CustomerID: f.customers[names[i%3]], Touchpoint: touchpoints[i%5],
			Channel: channels[i%3], OccurredAt: now.Add(-time.Duration(i*19) * time.Hour), Notes: fmt.Sprintf("moment %d", i),
		}
		if i%4 != 3 {
			r := 1 + (i*7)%5
			m.Rating = &r
		}
		if i%3 == 0 {
			e := 1 + i%7
			m.Effort = &e
		}
		if i%5 == 1 {
			n := (i * 3) % 11
			m.NPS = &n
		}
		if m.Touchpoint == "purchase" {
			m.Revenue = float64(100 + i)
		}
		m.Cost = 2.5 * float64(i%4)
		if i == 7 {
			m.Outcome = rapport.OutcomeMagic // given, whatever the rating
		}
		if i%6 == 0 {
			m.StaffID = f.staff
		}
		ms = append(ms, m)
	}
	return ms
}

// snapshot reads every derived table as sorted lines, with ids that differ
// between databases (customers, staff, moments) replaced by what names them
// in every database alike, and numbers rounded past float noise.
func (f *pipelineFirm) snapshot() map[string][]string {
	f.t.Helper()
	names := map[string]string{}
	for name, id := range f.customers {
		names[id] = "customer:" + name
	}
	names[f.staff] = "staff:owner"
	rows, err := f.raw.Query(`SELECT id, external_id FROM moments`)
	if err != nil {
		f.t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var ext sql.NullString
		if err := rows.Scan(&id, &ext); err != nil {
			f.t.Fatal(err)
		}
		if ext.Valid {
			f.momentNames[id] = "moment:" + ext.String
		}
	}
	rows.Close()
	// Moments named once keep their names when erasing clears external ids.
	maps.Copy(names, f.momentNames)

	out := map[string][]string{}
	for _, table := range derivedTables {
		eachStoredRow(f.t, f.raw, table.name, func(cols []string, vals []any) {
			var line []string
			for i, c := range cols {
				if slices.Contains(table.skip, c) {
					continue
				}
				line = append(line, c+"="+canonical(vals[i], names))
			}
			out[table.name] = append(out[table.name], strings.Join(line, " "))
		})
		slices.Sort(out[table.name])
	}
	return out
}

// eachStoredRow calls fn with every row of a table, every column, as
// stored.
func eachStoredRow(t testing.TB, raw *sql.DB, table string, fn func(cols []string, vals []any)) {
	t.Helper()
	rows, err := raw.Query(`SELECT * FROM ` + table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals, ptrs := make([]any, len(cols)), make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		fn(cols, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

// canonical writes a stored value the same way on both databases.
func canonical(v any, names map[string]string) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return canonical(string(v), names)
	case string:
		if n, ok := names[v]; ok {
			return n
		}
		return v
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return fmt.Sprint(int64(v))
		}
		return fmt.Sprintf("%.9g", v)
	case int64:
		return fmt.Sprint(v)
	default:
		return fmt.Sprint(v)
	}
}

// sameDerived fails the test with every difference between two snapshots.
func sameDerived(t *testing.T, what string, got, want map[string][]string, tables ...string) {
	t.Helper()
	if len(tables) == 0 {
		for _, table := range derivedTables {
			tables = append(tables, table.name)
		}
	}
	for _, table := range tables {
		g, w := got[table], want[table]
		if slices.Equal(g, w) {
			continue
		}
		var diff []string
		for _, l := range w {
			if !slices.Contains(g, l) {
				diff = append(diff, "  want "+l)
			}
		}
		for _, l := range g {
			if !slices.Contains(w, l) {
				diff = append(diff, "  got  "+l)
			}
		}
		t.Errorf("%s: %s has %d rows, want %d:\n%s", what, table, len(g), len(w), strings.Join(diff, "\n"))
	}
}

// TestMomentRoutesAgree records the same moments by each route that adds
// moments (one at a time as the API and the web form do, in batches, from a
// CSV import, and by bulk load and rebuild as the demo does) and finds every
// derived table alike; then it rebuilds from the moments and finds what was
// kept incrementally equal to what the rebuild derives, also after a survey
// answer changes a moment and a customer is deleted with their moments.
func TestMomentRoutesAgree(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, backend := range testdb.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			single := newPipelineFirm(t, backend)
			for _, m := range single.moments() {
				if _, err := sqlstore.NewMomentService(single.db).RecordMoment(ctx, m); err != nil {
					t.Fatal(err)
				}
			}
			want := single.snapshot()
			for _, table := range []string{"moment_stats", "customer_day_stats", "customer_measures", "recovery_cases", "webhook_deliveries"} {
				if len(want[table]) == 0 {
					t.Fatalf("recording one at a time left %s empty: the comparison would prove nothing", table)
				}
			}

			batch := newPipelineFirm(t, backend)
			ms := batch.moments()
			for start := 0; start < len(ms); start += 7 {
				if _, err := sqlstore.NewMomentService(batch.db).RecordMoments(ctx, ms[start:min(start+7, len(ms))]); err != nil {
					t.Fatal(err)
				}
			}
			sameDerived(t, "batches against one at a time", batch.snapshot(), want)

			imported := newPipelineFirm(t, backend)
			var file rapport.MomentFile
			for i, m := range imported.moments() {
				if m.Outcome != "" {
					m.OutcomeSource = rapport.OutcomeGiven // as the CSV reader marks an outcome column
				}
				file.Rows = append(file.Rows, rapport.MomentRow{Row: i + 2, Moment: *m})
			}
			res, err := sqlstore.NewImportService(imported.db).ImportMoments(ctx, &file, rapport.ImportOptions{})
			if err != nil || res.Created != len(file.Rows) {
				t.Fatalf("ImportMoments = %+v, %v; want all %d created", res, err, len(file.Rows))
			}
			sameDerived(t, "a CSV import against one at a time", imported.snapshot(), want)

			// An import job streams the same moments from a file.
			streamed := newPipelineFirm(t, backend)
			path := filepath.Join(t.TempDir(), "moments.csv")
			out, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			w, _ := csvio.NewMomentWriter(out)
			for _, m := range streamed.moments() {
				if err := w.Write(&rapport.MomentRow{Moment: *m}); err != nil {
					t.Fatal(err)
				}
			}
			if err := errors.Join(w.Flush(), out.Close()); err != nil {
				t.Fatal(err)
			}
			// In chunks of a few rows, so that its customers are measured
			// once at the end of the file rather than with each chunk.
			jobs := sqlstore.NewImportServiceWith(streamed.db, sqlstore.ImportFiles{Dir: t.TempDir(), ChunkRows: 4})
			job, err := jobs.QueueFile(ctx, rapport.ImportRequest{Kind: rapport.ImportMomentsKind, Path: path}, path+".errors.csv")
			if err == nil {
				job, err = jobs.RunJob(ctx, job.ID, nil)
			}
			if err != nil || job.Stored != len(file.Rows) || job.Rejected != 0 {
				t.Fatalf("an import job = %+v, %v; want all %d stored", job, err, len(file.Rows))
			}
			sameDerived(t, "an import job against one at a time", streamed.snapshot(), want)

			// A bulk load writes no webhook events: it is history.
			loaded := newPipelineFirm(t, backend)
			l := loaded.db.Loader()
			now := loaded.clock.Now()
			rebuild := sqlstore.Rebuild{InferStages: true, OpenCasesSince: now.AddDate(0, 0, -30)}
			for _, m := range loaded.moments() {
				m.ID, m.RecordedAt = rapport.NewID(now), now
				m.Outcome, m.OutcomeSource = rapport.DeriveOutcome(m.Outcome, m.Rating)
				if err := l.AddMoment(ctx, m); err != nil {
					t.Fatal(err)
				}
			}
			if err := l.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			l.Close()
			if err := loaded.db.RebuildFromMoments(ctx, rebuild); err != nil {
				t.Fatal(err)
			}
			got := loaded.snapshot()
			var tables []string
			for _, table := range derivedTables {
				if table.name != "webhook_deliveries" {
					tables = append(tables, table.name)
				}
			}
			sameDerived(t, "a bulk load and rebuild against one at a time", got, want, tables...)

			// Kept incrementally, or derived afresh: the same.
			if err := single.db.RebuildFromMoments(ctx, rebuild); err != nil {
				t.Fatal(err)
			}
			sameDerived(t, "rebuilt against kept incrementally", single.snapshot(), want)

			// A survey answer turns a neutral moment into misery, and a
			// customer goes with their moments.
			surveys := sqlstore.NewSurveyService(single.db)
			var neutral string
			if err := single.raw.QueryRow(`SELECT id FROM moments WHERE outcome = 'neutral' AND outcome_source <> 'given' ORDER BY external_id LIMIT 1`).Scan(&neutral); err != nil {
				t.Fatal(err)
			}
			link, err := surveys.CreateSurveyLink(ctx, neutral, 0)
			if err != nil {
				t.Fatal(err)
			}
			effort := 7
			if err := surveys.AnswerSurvey(ctx, link.Token, rapport.SurveyAnswer{Rating: 1, Effort: &effort, Comment: "worse than I said"}); err != nil {
				t.Fatal(err)
			}
			if err := sqlstore.NewCustomerService(single.db).DeleteCustomer(ctx, single.customers["Cy"]); err != nil {
				t.Fatal(err)
			}
			delete(single.customers, "Cy")
			kept := single.snapshot()
			if slices.Equal(kept["moment_stats"], want["moment_stats"]) {
				t.Fatal("the answer and the deletion left the running totals as they were")
			}
			if err := single.db.RebuildFromMoments(ctx, rebuild); err != nil {
				t.Fatal(err)
			}
			sameDerived(t, "after an answer and a deletion, rebuilt against kept incrementally", single.snapshot(), kept)
			// The answer made the moment misery: it opened a case and told
			// the webhook, once.
			var cases, events int
			if err := single.raw.QueryRow(`SELECT COUNT(*) FROM recovery_cases WHERE moment_id = $1`, neutral).Scan(&cases); err != nil {
				t.Fatal(err)
			}
			if err := single.raw.QueryRow(`SELECT COUNT(*) FROM webhook_deliveries WHERE kind = 'moment.misery' AND payload LIKE $1`,
				"%"+neutral+"%").Scan(&events); err != nil {
				t.Fatal(err)
			}
			if cases != 1 || events != 1 {
				t.Errorf("after the answer made a moment misery: %d cases and %d moment.misery events for it; want 1 and 1", cases, events)
			}
		})
	}
}

// TestObserveMoments checks that the metrics hear of moments from every
// route that adds them, after the commit, and of nothing else: not a retry
// that finds its external id stored, nor a refused batch.
func TestObserveMoments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newPipelineFirm(t, testdb.Backends()[0])
	counted := map[rapport.MomentSource]int{}
	f.db.ObserveMoments(func(source rapport.MomentSource, n int) { counted[source] += n })
	ms := f.moments()
	moments := sqlstore.NewMomentService(f.db)
	if _, err := moments.RecordMoment(ctx, ms[0]); err != nil {
		t.Fatal(err)
	}
	again := *ms[0]
	again.ID = ""
	if _, err := moments.RecordMoment(ctx, &again); err != nil {
		t.Fatal(err)
	}
	if _, err := moments.RecordMoments(ctx, ms[1:3]); err != nil {
		t.Fatal(err)
	}
	bad := *ms[3]
	bad.CustomerID = "no-such-customer"
	if _, err := moments.RecordMoments(ctx, []*rapport.Moment{ms[4], &bad}); rapport.ErrorCode(err) != rapport.EINVALID {
		t.Fatalf("a batch with a bad moment = %v; want it refused", err)
	}
	file := &rapport.MomentFile{Rows: []rapport.MomentRow{{Row: 2, Moment: *ms[5]}, {Row: 3, Moment: *ms[6]}}}
	if _, err := sqlstore.NewImportService(f.db).ImportMoments(ctx, file, rapport.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	promises := sqlstore.NewPromiseService(f.db)
	p := &rapport.Promise{CustomerID: f.customers["Ada"], StaffID: f.staff, Text: "Call back by noon", DueAt: f.clock.Now().Add(time.Hour)}
	if err := promises.CreatePromise(ctx, p); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(2 * time.Hour)
	if n, err := promises.BreakOverdue(ctx); err != nil || n != 1 {
		t.Fatalf("BreakOverdue = %d, %v; want 1", n, err)
	}
	want := map[rapport.MomentSource]int{rapport.SourceSingle: 1, rapport.SourceBatch: 2, rapport.SourceImport: 2, rapport.SourcePromise: 1}
	if !maps.Equal(counted, want) {
		t.Errorf("moments counted = %v; want %v", counted, want)
	}
}

// TestConcurrentMomentsShareTransactions has 40 clients record a moment each
// at once, as many clients of the API do: among them, four send the same
// external id and one names no customer. Every good moment is stored once,
// the repeats are told it was stored already, the bad one alone is refused
// as it would be on its own, and what was derived equals a rebuild.
func TestConcurrentMomentsShareTransactions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, backend := range testdb.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			f := newPipelineFirm(t, backend)
			base := f.moments()
			moments := sqlstore.NewMomentService(f.db)
			const clients = 40
			sent := make([]*rapport.Moment, clients)
			for i := range sent {
				m := *base[i%len(base)]
				m.ExternalID = fmt.Sprintf("concurrent-%02d", i)
				if i >= clients-4 {
					m.ExternalID = "sent-four-times"
				}
				sent[i] = &m
			}
			sent[7].CustomerID = "no-such-customer"
			created := make([]bool, clients)
			errs := make([]error, clients)
			// Another writer holds the database while the clients send, so
			// that they queue as they would behind a commit under load.
			blocker, err := f.raw.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			hold := `UPDATE touchpoints SET name = name WHERE key = 'complaint'` // SQLite has one writer at a time
			if backend.Name == "postgres" {
				hold = `LOCK TABLE moments IN EXCLUSIVE MODE` // reads go on, inserts wait
			}
			if _, err := blocker.Exec(hold); err != nil {
				t.Fatal(err)
			}
			before := sqlstore.SharedTransactions(f.db)
			var wg sync.WaitGroup
			for i, m := range sent {
				wg.Go(func() { created[i], errs[i] = moments.RecordMoment(ctx, m) })
			}
			for deadline := time.Now().Add(30 * time.Second); sqlstore.PendingMoments(f.db) < clients && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
			}
			queued := sqlstore.PendingMoments(f.db)
			if err := blocker.Rollback(); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			// One transaction waited for the writer; the rest came together.
			if queued < clients {
				t.Errorf("while the database was busy, %d of %d moments waited in shared transactions; want all", queued, clients)
			}
			if n := sqlstore.SharedTransactions(f.db) - before; n > 3 {
				t.Errorf("%d moments sent at once took %d transactions; want them to share (at most 3)", clients, n)
			}

			newOnes, repeats := 0, 0
			for i, err := range errs {
				switch {
				case i == 7:
					fs := rapport.ErrorFields(err)
					if rapport.ErrorCode(err) != rapport.EINVALID || len(fs) != 1 || fs[0].Field != "customer_id" || fs[0].Index != nil {
						t.Errorf("the moment with no customer: %v (%+v); want it refused for its customer_id, with no index", err, fs)
					}
				case err != nil:
					t.Errorf("moment %d: %v", i, err)
				case created[i]:
					newOnes++
				default:
					repeats++
				}
				if err == nil && sent[i].ID == "" {
					t.Errorf("moment %d came back without its id", i)
				}
			}
			if newOnes != clients-1-3 || repeats != 3 {
				t.Errorf("%d moments new and %d repeats; want %d and 3", newOnes, repeats, clients-4)
			}
			var stored, four int
			if err := f.raw.QueryRow(`SELECT COUNT(*), SUM(CASE WHEN external_id = 'sent-four-times' THEN 1 ELSE 0 END) FROM moments`).Scan(&stored, &four); err != nil {
				t.Fatal(err)
			}
			if stored != clients-4 || four != 1 {
				t.Errorf("%d moments stored, %d of them sent four times; want %d and 1", stored, four, clients-4)
			}
			var id string
			if err := f.raw.QueryRow(`SELECT id FROM moments WHERE external_id = 'sent-four-times'`).Scan(&id); err != nil {
				t.Fatal(err)
			}
			for i := clients - 4; i < clients; i++ {
				if sent[i].ID != id {
					t.Errorf("client %d of the moment sent four times holds id %s; want the stored %s", i, sent[i].ID, id)
				}
			}
			kept := f.snapshot()
			if err := f.db.RebuildFromMoments(ctx, sqlstore.Rebuild{InferStages: true, OpenCasesSince: f.clock.Now().AddDate(0, 0, -30)}); err != nil {
				t.Fatal(err)
			}
			sameDerived(t, "concurrent moments, rebuilt against kept", f.snapshot(), kept)
		})
	}
}

// TestOldMiseryAnsweredOpensCase records a misery moment from long ago,
// too old to open a case, and has the customer answer its survey unhappily:
// the customer is unhappy now, so a case opens, once, though the moment
// was misery already and so raises no second moment.misery event.
func TestOldMiseryAnsweredOpensCase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newPipelineFirm(t, testdb.Backends()[0])
	two := 2
	m := &rapport.Moment{ExternalID: "old-misery", CustomerID: f.customers["Ben"], Touchpoint: "complaint",
		Channel: rapport.ChannelPhone, OccurredAt: f.clock.Now().AddDate(0, 0, -60), Rating: &two}
	if _, err := sqlstore.NewMomentService(f.db).RecordMoment(ctx, m); err != nil {
		t.Fatal(err)
	}
	count := func(query string) int {
		t.Helper()
		var n int
		if err := f.raw.QueryRow(query, m.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	const cases = `SELECT COUNT(*) FROM recovery_cases WHERE moment_id = $1`
	const events = `SELECT COUNT(*) FROM webhook_deliveries WHERE kind = 'moment.misery' AND payload LIKE '%' || $1 || '%'`
	if n := count(cases); n != 0 {
		t.Fatalf("a misery moment 60 days old opened %d cases when recorded; want none (the policy opens within 30 days)", n)
	}
	surveys := sqlstore.NewSurveyService(f.db)
	link, err := surveys.CreateSurveyLink(ctx, m.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := surveys.AnswerSurvey(ctx, link.Token, rapport.SurveyAnswer{Rating: 1}); err != nil {
		t.Fatal(err)
	}
	if n := count(cases); n != 1 {
		t.Errorf("after the customer answered 1, %d cases for the moment; want 1", n)
	}
	if n := count(events); n != 1 {
		t.Errorf("%d moment.misery events for the moment; want the one from when it was recorded", n)
	}
}

// TestCaseNoticeCarriesTheCustomersWords has the owned customer rate a
// moment badly in a survey: the case it opens tells the owner what the
// customer wrote. A misery moment recorded by staff has no such words.
func TestCaseNoticeCarriesTheCustomersWords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, backend := range testdb.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			f := newPipelineFirm(t, backend)
			moments, surveys := sqlstore.NewMomentService(f.db), sqlstore.NewSurveyService(f.db)
			four, one := 4, 1
			fine := &rapport.Moment{CustomerID: f.customers["Ada"], Touchpoint: "service", Channel: rapport.ChannelPhone,
				OccurredAt: f.clock.Now().Add(-time.Hour), Rating: &four}
			bad := &rapport.Moment{CustomerID: f.customers["Ada"], Touchpoint: "complaint", Channel: rapport.ChannelPhone,
				OccurredAt: f.clock.Now().Add(-time.Hour), Rating: &one}
			if _, err := moments.RecordMoments(ctx, []*rapport.Moment{fine, bad}); err != nil {
				t.Fatal(err)
			}
			link, err := surveys.CreateSurveyLink(ctx, fine.ID, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := surveys.AnswerSurvey(ctx, link.Token, rapport.SurveyAnswer{Rating: 1, Comment: "Nobody came back to me"}); err != nil {
				t.Fatal(err)
			}
			// The notices' details go in the emails to the owner.
			var emails []string
			rows, err := f.raw.Query(`SELECT text_body FROM email_outbox WHERE user_id = $1`, f.staff)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var body string
				if err := rows.Scan(&body); err != nil {
					t.Fatal(err)
				}
				emails = append(emails, body)
			}
			var answered, recorded int
			for _, e := range emails {
				switch {
				case strings.Contains(e, "Service visit") && strings.Contains(e, "In their words: “Nobody came back to me”"):
					answered++
				case strings.Contains(e, "Service visit"):
					t.Errorf("the owner's email of the case the survey answer opened lacks the customer's words:\n%s", e)
				case strings.Contains(e, "their words"):
					t.Errorf("the owner's email of the case of the misery recorded by staff quotes words no one wrote:\n%s", e)
				default:
					recorded++
				}
			}
			if answered != 1 || recorded != 1 {
				t.Errorf("the owner got %d emails, %d of the answered survey with its words and %d of the misery recorded; want one of each", len(emails), answered, recorded)
			}
		})
	}
}

// TestConcurrentWritesKeepMeasures records batches for the same customers on
// different days from several clients at once, as imports and integrations
// do: every customer's kept figures must count every moment, as a rebuild
// from the moments does, however the transactions interleaved.
func TestConcurrentWritesKeepMeasures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, backend := range testdb.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			f := newPipelineFirm(t, backend)
			moments := sqlstore.NewMomentService(f.db)
			now := f.clock.Now()
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for client := range 8 {
				wg.Go(func() {
					for b := range 5 {
						batch := make([]*rapport.Moment, 6)
						for i := range batch {
							r := 1 + (client+i)%5
							batch[i] = &rapport.Moment{ExternalID: fmt.Sprintf("c%d-b%d-%d", client, b, i),
								CustomerID: f.customers[[]string{"Ada", "Ben", "Cy"}[i%3]], Touchpoint: "service",
								Channel: rapport.ChannelPhone, Rating: &r,
								// Each client its own days, so no two share a day's totals.
								OccurredAt: now.Add(-time.Duration(client*5+b+1) * 24 * time.Hour)}
						}
						if _, err := moments.RecordMoments(ctx, batch); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			kept := f.snapshot()
			// Cases weigh in risk, so the rebuild opens cases as recording
			// did: for misery of the policy's last 30 days.
			if err := f.db.RebuildFromMoments(ctx, sqlstore.Rebuild{OpenCasesSince: now.AddDate(0, 0, -30)}); err != nil {
				t.Fatal(err)
			}
			sameDerived(t, "kept by concurrent batches, against a rebuild", kept, f.snapshot(), "moment_stats", "customer_day_stats", "customer_measures", "recovery_cases")
		})
	}
}
