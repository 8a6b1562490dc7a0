package sqlstore_test

import (
	"context"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// readFirm opens the existing database RAPPORT_BENCH_DB names (a SQLite file
// or a postgres:// URL), made for instance with
//
//	rapport demo --db /tmp/reads/1m.db --customers 33000 --moments 1000000
//
// and returns its services and the customer of the latest moment. These
// reads must not grow with the firm's history: compare a small demo with a
// large one.
func readFirm(b *testing.B) (rapport.Services, string) {
	b.Helper()
	dsn := os.Getenv("RAPPORT_BENCH_DB")
	if dsn == "" {
		b.Skip("RAPPORT_BENCH_DB names no database to read")
	}
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	page, err := sqlstore.NewMomentService(db).FindMoments(ctx, rapport.MomentFilter{Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	if len(page.Items) == 0 {
		b.Fatalf("%s has no moments", dsn)
	}
	return sqlstore.NewServices(db, sqlstore.Options{}), page.Items[0].CustomerID
}

// BenchmarkCustomerReads measures each read behind the customer page, and
// the page's reads together, for one customer.
func BenchmarkCustomerReads(b *testing.B) {
	s, id := readFirm(b)
	ctx := context.Background()
	reads := []struct {
		name string
		read func() error
	}{
		{"customer", func() error { _, err := s.Customers.FindCustomerByID(ctx, id); return err }},
		{"timeline", func() error {
			_, err := s.Timeline.Timeline(ctx, id, rapport.TimelineFilter{Limit: 25})
			return err
		}},
		{"promises", func() error {
			_, err := s.Promises.FindPromises(ctx, rapport.PromiseFilter{CustomerID: id, Status: rapport.PromiseOpen, Limit: 5})
			return err
		}},
		{"cases", func() error {
			_, err := s.Recovery.FindCases(ctx, rapport.CaseFilter{CustomerID: id, Status: rapport.CaseOpen, Limit: 5})
			return err
		}},
		{"stage", func() error { _, err := s.Stages.StageStatus(ctx, id); return err }},
		{"stage-history", func() error { _, err := s.Stages.StageHistory(ctx, id); return err }},
		{"health", func() error { _, err := s.HealthScores.CustomerHealth(ctx, id); return err }},
		{"holdings", func() error { _, err := s.Holdings.FindHoldings(ctx, id); return err }},
		{"referrals", func() error { _, err := s.Holdings.Referrals(ctx, id); return err }},
		{"cross-sell", func() error { _, err := s.Holdings.CrossSell(ctx, id); return err }},
		{"brief", func() error { _, err := s.Briefs.Brief(ctx, id); return err }},
		{"suggestions", func() error { _, err := s.Suggestions.Suggest(ctx, id, "complaint"); return err }},
	}
	for _, r := range reads {
		b.Run(r.name, func(b *testing.B) {
			for b.Loop() {
				if err := r.read(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("page", func(b *testing.B) {
		for b.Loop() {
			for _, r := range reads {
				if r.name == "brief" {
					continue // a page of its own
				}
				if err := r.read(); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkRecoveryReportRead measures the recovery report over its default
// window, the last year.
func BenchmarkRecoveryReportRead(b *testing.B) {
	s, _ := readFirm(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.Recovery.RecoveryReport(ctx, rapport.RecoveryReportFilter{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPromiseReportRead measures the promises report over all time, as
// the report page first shows it.
func BenchmarkPromiseReportRead(b *testing.B) {
	s, _ := readFirm(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.Promises.PromiseReport(ctx, rapport.PromiseReportFilter{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRecoveryReportOnBenchDB finds the recovery report read from the facts
// the cases keep equal to the report made from the whole history, on the
// database RAPPORT_BENCH_DB names (a firm migrated from before the facts
// were kept, or generated since), for the default window and a few others.
func TestRecoveryReportOnBenchDB(t *testing.T) {
	dsn := os.Getenv("RAPPORT_BENCH_DB")
	if dsn == "" {
		t.Skip("RAPPORT_BENCH_DB names no database to read")
	}
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	recovery := sqlstore.NewRecoveryService(db)
	now := time.Now()
	for _, f := range []rapport.RecoveryReportFilter{
		{To: now},
		{From: now.AddDate(0, 0, -10), To: now},
		{From: now.AddDate(0, 0, -40).Add(5 * time.Hour), To: now.AddDate(0, 0, -3).Add(-7 * time.Hour)},
	} {
		kept, err := recovery.RecoveryReport(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		want, err := sqlstore.RecoveryReportFromScratch(ctx, db, f)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(kept, want) {
			t.Errorf("report from %s to %s = %s; from the whole history = %s", f.From, f.To, show(kept), show(want))
		}
		if kept.Opened == 0 {
			t.Errorf("report from %s to %s has no cases", f.From, f.To)
		}
	}
}
