package sqlstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
)

// markCustomer gives a customer personal data everywhere Rapport keeps it,
// each time with marker: a manual stage's reason, a promise, a misery
// moment's notes with its case's note and resolution, and a survey comment.
func markCustomer(t *testing.T, db *sqlstore.DB, raw *sql.DB, now time.Time, customerID, marker string) {
	t.Helper()
	ctx := context.Background()
	services := sqlstore.NewServices(db, sqlstore.Options{})
	if _, err := services.Stages.SetStage(ctx, customerID, rapport.StageInput{Stage: rapport.StageCommitment,
		Reason: "told us " + marker}); err != nil {
		t.Fatal(err)
	}
	if err := services.Promises.CreatePromise(ctx, &rapport.Promise{CustomerID: customerID, Text: "Call " + marker + " back",
		DueAt: now.Add(48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	misery := &rapport.Moment{CustomerID: customerID, Touchpoint: "complaint", Channel: rapport.ChannelPhone,
		OccurredAt: now.Add(-time.Minute), Rating: ptr(1), Notes: "angry: " + marker}
	if _, err := services.Moments.RecordMoment(ctx, misery); err != nil {
		t.Fatal(err)
	}
	var caseID string
	if err := raw.QueryRow(`SELECT id FROM recovery_cases WHERE moment_id = $1`, misery.ID).Scan(&caseID); err != nil {
		t.Fatalf("the misery moment opened no case: %v", err)
	}
	if _, err := services.Recovery.UpdateCase(ctx, caseID, rapport.CaseUpdate{Note: ptr("spoke to " + marker),
		Status: ptr(rapport.CaseResolved), Resolution: ptr("refunded " + marker)}); err != nil {
		t.Fatal(err)
	}
	rated := &rapport.Moment{CustomerID: customerID, Touchpoint: "query", Channel: rapport.ChannelEmail,
		OccurredAt: now.Add(-time.Minute), Notes: "asked about " + marker}
	if _, err := services.Moments.RecordMoment(ctx, rated); err != nil {
		t.Fatal(err)
	}
	link, err := services.Surveys.CreateSurveyLink(ctx, rated.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := services.Surveys.AnswerSurvey(ctx, link.Token, rapport.SurveyAnswer{Rating: 5, Comment: "thanks, " + marker}); err != nil {
		t.Fatal(err)
	}
}

// markerFound lists every table and column whose stored text holds marker,
// reading every table of the database through SQL.
func markerFound(t *testing.T, raw *sql.DB, dsn, marker string) []string {
	t.Helper()
	tablesQuery := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if strings.HasPrefix(dsn, "postgres") {
		tablesQuery = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`
	}
	rows, err := raw.Query(tablesQuery)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) < 20 {
		t.Fatalf("found %d tables: %v; the scan would prove nothing", len(tables), tables)
	}
	var found []string
	for _, table := range tables {
		eachStoredRow(t, raw, table, func(cols []string, vals []any) {
			for i, v := range vals {
				if strings.Contains(strings.ToLower(canonical(v, nil)), strings.ToLower(marker)) {
					found = append(found, table+"."+cols[i])
				}
			}
		})
	}
	slices.Sort(found)
	return slices.Compact(found)
}

// TestEraseKeepsFigures erases a customer whose data is everywhere and
// finds it nowhere after, while every derived table, the touchpoint report
// and the outcomes read as before, and the moments are all still there.
func TestEraseKeepsFigures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const marker = "Zanzibar-7731"
	for _, backend := range testdb.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			f := newPipelineFirm(t, backend)
			services := sqlstore.NewServices(f.db, sqlstore.Options{})
			ada := f.customers["Ada"]
			if _, err := services.Customers.UpdateCustomer(ctx, ada, rapport.CustomerUpdate{Name: ptr("Ada " + marker),
				Email: ptr(strings.ToLower(marker) + "@mail.example"), Phone: ptr("+44 1632 960000"),
				Attributes: map[string]any{"city": marker}, Preferences: &rapport.Preferences{Likes: []string{marker}}}); err != nil {
				t.Fatal(err)
			}
			for _, m := range f.moments() {
				if m.CustomerID == ada {
					m.Notes += " " + marker
				}
				if _, err := services.Moments.RecordMoment(ctx, m); err != nil {
					t.Fatal(err)
				}
			}
			markCustomer(t, f.db, f.raw, f.clock.Now(), ada, marker)
			var adaMoments, allMoments int
			f.raw.QueryRow(`SELECT COUNT(*) FROM moments WHERE customer_id = $1`, ada).Scan(&adaMoments)
			f.raw.QueryRow(`SELECT COUNT(*) FROM moments`).Scan(&allMoments)

			found := markerFound(t, f.raw, f.dsn, marker)
			for _, want := range []string{"customers.name", "customers.attributes", "moments.notes", "promises.text",
				"recovery_cases.resolution", "case_actions.text", "survey_links.comment", "stage_changes.reason",
				"webhook_deliveries.payload"} {
				if !slices.Contains(found, want) {
					t.Fatalf("before erasing, the marker is in %v, not in %s: the test would prove nothing", found, want)
				}
			}
			before := f.snapshot()
			reportBefore, outcomesBefore := reports(t, services)

			erased, err := services.Erasure.EraseCustomer(ctx, ada)
			if err != nil {
				t.Fatalf("EraseCustomer = %v", err)
			}
			if want := rapport.ErasedName(ada); erased.Name != want || erased.ErasedAt == nil {
				t.Errorf("EraseCustomer = %q erased at %v; want %q with a time", erased.Name, erased.ErasedAt, want)
			}
			if found := markerFound(t, f.raw, f.dsn, marker); len(found) > 0 {
				t.Errorf("after erasing, the marker is still in %v", found)
			}
			var tables []string
			for _, table := range derivedTables {
				if table.name != "webhook_deliveries" {
					tables = append(tables, table.name)
				}
			}
			// A case's resolution is words staff wrote, not a figure.
			after := f.snapshot()
			for _, snap := range []map[string][]string{before, after} {
				for i, line := range snap["recovery_cases"] {
					snap["recovery_cases"][i] = resolutionText.ReplaceAllString(line, " ")
				}
			}
			sameDerived(t, "after erasing against before", after, before, tables...)
			reportAfter, outcomesAfter := reports(t, services)
			if reportAfter != reportBefore {
				t.Errorf("the touchpoint report changed with the erasure:\n got %s\nwant %s", reportAfter, reportBefore)
			}
			if outcomesAfter != outcomesBefore {
				t.Errorf("the outcomes changed with the erasure:\n got %s\nwant %s", outcomesAfter, outcomesBefore)
			}
			var adaAfter, allAfter, othersDeliveries int
			f.raw.QueryRow(`SELECT COUNT(*) FROM moments WHERE customer_id = $1`, ada).Scan(&adaAfter)
			f.raw.QueryRow(`SELECT COUNT(*) FROM moments`).Scan(&allAfter)
			f.raw.QueryRow(`SELECT COUNT(*) FROM webhook_deliveries WHERE customer_id <> $1`, ada).Scan(&othersDeliveries)
			if adaAfter != adaMoments || allAfter != allMoments {
				t.Errorf("after erasing: %d of %d moments, %d of them Ada's; want %d of %d", allAfter, allMoments, adaAfter, allMoments, adaMoments)
			}
			if othersDeliveries == 0 {
				t.Error("erasing Ada removed the other customers' webhook deliveries too")
			}

			// Erasing again succeeds and keeps the first time.
			f.clock.Add(time.Hour)
			again, err := services.Erasure.EraseCustomer(ctx, ada)
			if err != nil || !again.ErasedAt.Equal(*erased.ErasedAt) {
				t.Errorf("EraseCustomer(again) = %v, %v; want erased at %v", again.ErasedAt, err, erased.ErasedAt)
			}
		})
	}
}

var resolutionText = regexp.MustCompile(` resolution=.* updated_at=`)

// reports are the touchpoint report and the outcomes over every customer,
// as JSON.
func reports(t *testing.T, services rapport.Services) (string, string) {
	t.Helper()
	ctx := context.Background()
	report, err := services.Reports.TouchpointReport(ctx, rapport.ReportFilter{})
	if err != nil {
		t.Fatal(err)
	}
	outcomes, err := services.Outcomes.Outcomes(ctx, rapport.OutcomeFilter{Fresh: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Touchpoints) == 0 {
		t.Fatal("the touchpoint report is empty: comparing it would prove nothing")
	}
	return show(report), show(outcomes)
}

// TestErasedCustomerTakesNothingNew checks that an erased customer cannot be
// edited back to life nor given moments, promises, holdings or survey
// links, each refused with a clear error that changes nothing.
func TestErasedCustomerTakesNothingNew(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		services := sqlstore.NewServices(s.db, sqlstore.Options{})
		c := s.customer(t, &rapport.Customer{Name: "Nell Quist", Email: "nell@mail.example"})
		m := s.record(t, s.moment(c.ID))
		if err := services.Holdings.CreateProduct(ctx, &rapport.Product{Key: "home", Name: "Home insurance"}); err != nil {
			t.Fatal(err)
		}
		if _, err := services.Erasure.EraseCustomer(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		moments := s.count(t, "moments", "")

		_, err := services.Customers.UpdateCustomer(ctx, c.ID, rapport.CustomerUpdate{Name: ptr("Nell Quist")})
		wantCode(t, "UpdateCustomer(erased)", err, rapport.ECONFLICT)
		_, err = services.Moments.RecordMoment(ctx, s.moment(c.ID))
		wantCode(t, "RecordMoment(erased)", err, rapport.EINVALID)
		if fields := rapport.ErrorFields(err); len(fields) != 1 || !strings.Contains(fields[0].Message, "erased") {
			t.Errorf("RecordMoment(erased) fields = %+v; want one saying the customer was erased", fields)
		}
		err = services.Promises.CreatePromise(ctx, &rapport.Promise{CustomerID: c.ID, Text: "Call back", DueAt: s.clock.Now().Add(time.Hour)})
		wantCode(t, "CreatePromise(erased)", err, rapport.ECONFLICT)
		_, err = services.Holdings.AddHolding(ctx, c.ID, rapport.HoldingInput{Product: "home"})
		wantCode(t, "AddHolding(erased)", err, rapport.ECONFLICT)
		_, err = services.Surveys.CreateSurveyLink(ctx, m.ID, 0)
		wantCode(t, "CreateSurveyLink(erased)", err, rapport.ECONFLICT)

		got, err := services.Customers.FindCustomerByID(ctx, c.ID)
		if err != nil || got.Name != rapport.ErasedName(c.ID) || got.Email != "" {
			t.Errorf("FindCustomerByID = %q <%s>, %v; want %q and no email", got.Name, got.Email, err, rapport.ErasedName(c.ID))
		}
		if n := s.count(t, "moments", ""); n != moments {
			t.Errorf("moments = %d after refusals; want %d", n, moments)
		}
		if n := s.count(t, "promises", "") + s.count(t, "holdings", "") + s.count(t, "survey_links", ""); n != 0 {
			t.Errorf("promises, holdings and survey links = %d after refusals; want 0", n)
		}
		_, err = services.Erasure.EraseCustomer(ctx, "01NOSUCHCUSTOMER0000000000")
		wantCode(t, "EraseCustomer(unknown)", err, rapport.ENOTFOUND)
	})
}

// TestExportCustomer checks that the export holds everything kept on one
// customer, and nothing of anyone else's.
func TestExportCustomer(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		services := sqlstore.NewServices(s.db, sqlstore.Options{})
		other := s.customer(t, &rapport.Customer{Name: "Otto Other"})
		c := s.customer(t, &rapport.Customer{Name: "Vera Export", Email: "vera@mail.example", ReferredBy: other.ID,
			Attributes: map[string]any{"city": "Leeds"}})
		s.record(t, s.moment(other.ID))
		for range 3 {
			s.record(t, s.moment(c.ID))
		}
		markCustomer(t, s.db, s.raw, s.clock.Now(), c.ID, "export-mark")
		if err := services.Holdings.CreateProduct(ctx, &rapport.Product{Key: "home", Name: "Home insurance"}); err != nil {
			t.Fatal(err)
		}
		if _, err := services.Holdings.AddHolding(ctx, c.ID, rapport.HoldingInput{Product: "home"}); err != nil {
			t.Fatal(err)
		}
		for _, sg := range []*rapport.Segment{{Name: "In Leeds", Rule: `attributes.city = "Leeds"`}, {Name: "Dissolved", Rule: `stage = "dissolution"`}} {
			if err := services.Segments.CreateSegment(ctx, sg); err != nil {
				t.Fatal(err)
			}
		}
		// A survey invitation emailed to her, and her asking for no more.
		if _, err := s.raw.Exec(`INSERT INTO email_outbox (id, kind, customer_id, to_addr, subject, text_body, html_body, status,
			next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, '', '', $6, 0, 0)`, rapport.NewID(s.clock.Now()),
			rapport.EmailSurveyInvitation, c.ID, "vera@mail.example", "How did we do?", rapport.EmailSent); err != nil {
			t.Fatal(err)
		}
		if _, err := s.raw.Exec(`INSERT INTO email_opt_outs (customer_id, opted_out_at) VALUES ($1, $2)`, c.ID, 1000); err != nil {
			t.Fatal(err)
		}

		// Her first anniversary, found by a gesture rule.
		rule := &rapport.GestureRule{Name: "Anniversary card", Milestone: rapport.MilestoneAnniversary, Kind: rapport.OfferGift}
		if err := services.Gestures.CreateGestureRule(ctx, rule); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{c.ID, other.ID} {
			if _, err := s.raw.Exec(`INSERT INTO gestures (id, rule_id, customer_id, milestone_at, milestone, arm, created_at)
				VALUES ($1, $2, $3, 5, '1st anniversary', 'offered', 5)`, rapport.NewID(s.clock.Now()), rule.ID, id); err != nil {
				t.Fatal(err)
			}
		}

		var b bytes.Buffer
		if err := services.Erasure.ExportCustomer(ctx, c.ID, &b); err != nil {
			t.Fatalf("ExportCustomer = %v", err)
		}
		var e rapport.CustomerExport
		dec := json.NewDecoder(&b)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("the export is not a customer export: %v\n%s", err, b.String())
		}
		got := map[string]int{"moments": len(e.Moments), "holdings": len(e.Holdings), "promises": len(e.Promises),
			"cases": len(e.Cases), "case actions": 0, "survey links": len(e.SurveyLinks), "survey answers": len(e.Surveys),
			"stage changes": len(e.StageChanges), "segments": len(e.Segments)}
		for _, cs := range e.Cases {
			got["case actions"] += len(cs.Actions)
		}
		want := map[string]int{"moments": 5, "holdings": 1, "promises": 1, "cases": 1, "case actions": 2, "survey links": 1,
			"survey answers": 1, "stage changes": 2, "segments": 1}
		if show(got) != show(want) {
			t.Errorf("the export holds %v; want %v", got, want)
		}
		if e.Customer.Email != "vera@mail.example" || e.Referrals.ReferredBy == nil || e.Referrals.ReferredBy.ID != other.ID ||
			len(e.Segments) != 1 || e.Segments[0].Name != "In Leeds" {
			t.Errorf("the export's customer %+v, referrals %+v, segments %+v; want Vera's, referred by Otto, in Leeds", e.Customer, e.Referrals, e.Segments)
		}
		for _, m := range e.Moments {
			if m.CustomerID != c.ID {
				t.Errorf("the export holds moment %s of customer %s", m.ID, m.CustomerID)
			}
		}
		if len(e.Emails) != 1 || e.Emails[0].To != "vera@mail.example" || e.Emails[0].Subject != "How did we do?" || e.OptedOutAt == nil {
			t.Errorf("the export's emails %+v, opted out %v; want the invitation sent to Vera and her opt-out", e.Emails, e.OptedOutAt)
		}
		if len(e.Gestures) != 1 || e.Gestures[0].Name != "Anniversary card" || e.Gestures[0].Milestone != "1st anniversary" {
			t.Errorf("the export's gestures %+v; want her anniversary card alone", e.Gestures)
		}
		if !strings.Contains(show(e), "export-mark") {
			t.Error("the export holds none of the texts kept on the customer")
		}

		b.Reset()
		err := services.Erasure.ExportCustomer(ctx, "01NOSUCHCUSTOMER0000000000", &b)
		wantCode(t, "ExportCustomer(unknown)", err, rapport.ENOTFOUND)
		if b.Len() != 0 {
			t.Errorf("ExportCustomer(unknown) wrote %q; want nothing", b.String())
		}
	})
}

// TestErasureLeavesNothingInTheFile erases one customer and deletes
// another, each with a marker in every kind of personal data, and finds
// neither marker anywhere in the bytes of the SQLite file or its log: not
// in live rows, nor in the free space SQLite keeps for reuse.
func TestErasureLeavesNothingInTheFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := t.TempDir() + "/rapport.db"
	clock := testdb.NewClock(epoch)
	db, err := sqlstore.Open(ctx, path, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw := testdb.SQL(t, path)
	services := sqlstore.NewServices(db, sqlstore.Options{})
	if _, err := services.Webhooks.CreateWebhook(ctx, &rapport.Webhook{URL: "https://crm-sync.example/hook", Active: true,
		Kinds: rapport.EventKinds}, strings.Repeat("s", 32)); err != nil {
		t.Fatal(err)
	}
	owner := &rapport.User{Email: "owner@firm.example", Name: "Olive Owner", Role: rapport.RoleAgent}
	if err := services.Users.CreateUser(ctx, owner); err != nil {
		t.Fatal(err)
	}
	subjects := map[string]string{"erased": "Quixotic-Erased-4412", "deleted": "Quixotic-Deleted-9083"}
	ids := map[string]string{}
	for how, marker := range subjects {
		c := &rapport.Customer{Name: "Ruth " + marker, Email: strings.ToLower(marker) + "@mail.example", OwnerID: owner.ID,
			ExternalID: "crm-" + marker, Attributes: map[string]any{"notes": "prefers " + marker}}
		if err := services.Customers.CreateCustomer(ctx, c); err != nil {
			t.Fatal(err)
		}
		ids[how] = c.ID
		markCustomer(t, db, raw, clock.Now(), c.ID, marker)
		// Enough moments with notes to fill pages of their own, which
		// deleting frees whole.
		for i := range 200 {
			m := &rapport.Moment{CustomerID: c.ID, Touchpoint: "query", Channel: rapport.ChannelChat, Rating: ptr(3 + i%3),
				OccurredAt: clock.Now().Add(-time.Duration(i) * time.Hour), Notes: fmt.Sprintf("note %d about %s", i, marker)}
			if _, err := services.Moments.RecordMoment(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Someone else's moments, written after, share the pages.
	bystander := &rapport.Customer{Name: "Bo Bystander"}
	if err := services.Customers.CreateCustomer(ctx, bystander); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		m := &rapport.Moment{CustomerID: bystander.ID, Touchpoint: "query", Channel: rapport.ChannelChat,
			OccurredAt: clock.Now().Add(-time.Duration(i) * time.Minute), Notes: fmt.Sprintf("bystander note %d", i)}
		if _, err := services.Moments.RecordMoment(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	checkpoint := func() {
		t.Helper()
		if _, err := raw.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			t.Fatal(err)
		}
	}
	inFile := func(marker string) []string {
		t.Helper()
		var where []string
		for _, file := range []string{path, path + "-wal"} {
			b, err := os.ReadFile(file)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			if n := bytes.Count(bytes.ToLower(b), bytes.ToLower([]byte(marker))); n > 0 {
				where = append(where, fmt.Sprintf("%s (%d times)", file[len(path)-len("rapport.db"):], n))
			}
		}
		return where
	}
	checkpoint()
	for _, marker := range subjects {
		if len(inFile(marker)) == 0 {
			t.Fatalf("the marker %q is not in the file before erasing: the scan would prove nothing", marker)
		}
	}

	if _, err := services.Erasure.EraseCustomer(ctx, ids["erased"]); err != nil {
		t.Fatal(err)
	}
	if err := services.Customers.DeleteCustomer(ctx, ids["deleted"]); err != nil {
		t.Fatal(err)
	}
	checkpoint()
	for how, marker := range subjects {
		if where := inFile(marker); len(where) > 0 {
			t.Errorf("the %s customer's marker %q is still in %v", how, marker, where)
		}
	}
	if len(inFile("bystander note 49")) == 0 {
		t.Error("the bystander's notes are gone from the file too")
	}
	// Of the erased and deleted customers' deliveries, only the news of the
	// erasure is left, for the webhook to erase its copies.
	var kinds []string
	rows, err := raw.Query(`SELECT kind FROM webhook_deliveries WHERE payload LIKE $1 OR payload LIKE $2`,
		"%"+ids["erased"]+"%", "%"+ids["deleted"]+"%")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var kind string
		rows.Scan(&kind)
		kinds = append(kinds, kind)
	}
	rows.Close()
	if !slices.Equal(kinds, []string{rapport.EventCustomerErased}) {
		t.Errorf("deliveries about the erased and deleted customers: %v; want one %s", kinds, rapport.EventCustomerErased)
	}
}

// TestEraseWhileRecording erases customers while moments with notes are
// being recorded for them from several clients: each moment is either
// stored before the erasure, and cleared by it, or refused after; none
// keeps its notes.
func TestEraseWhileRecording(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		services := sqlstore.NewServices(s.db, sqlstore.Options{})
		for round := range 8 {
			c := s.customer(t, &rapport.Customer{Name: fmt.Sprintf("Racing %d", round)})
			var wg sync.WaitGroup
			var stored, refused atomic.Int64
			for client := range 6 {
				wg.Go(func() {
					for i := range 15 {
						m := s.moment(c.ID)
						m.Notes = fmt.Sprintf("secret %d/%d", client, i)
						_, err := services.Moments.RecordMoments(ctx, []*rapport.Moment{m})
						switch {
						case err == nil:
							stored.Add(1)
						case rapport.ErrorCode(err) == rapport.EINVALID:
							refused.Add(1)
						default:
							t.Error(err)
						}
					}
				})
			}
			time.Sleep(time.Duration(round) * time.Millisecond)
			if _, err := services.Erasure.EraseCustomer(ctx, c.ID); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			if n := s.count(t, "moments", "notes <> '' AND customer_id = '"+c.ID+"'"); n > 0 {
				t.Errorf("round %d: %d of the erased customer's moments kept their notes (%d stored, %d refused)",
					round, n, stored.Load(), refused.Load())
			}
		}
	})
}
