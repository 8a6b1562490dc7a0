package sqlstore_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/demo"
	"github.com/rapport-crm/rapport/sqlstore"
)

// demoFirm opens a demo firm of RAPPORT_BENCH_MOMENTS moments (default
// 200,000) on SQLite. The file is kept in RAPPORT_BENCH_DIR (default the
// system temp dir) and reused by later runs, since generating ten million
// moments takes minutes.
func demoFirm(b *testing.B) *sqlstore.DB {
	b.Helper()
	moments := 200_000
	if v := os.Getenv("RAPPORT_BENCH_MOMENTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatalf("RAPPORT_BENCH_MOMENTS=%q: %v", v, err)
		}
		moments = n
	}
	dir := os.Getenv("RAPPORT_BENCH_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	path := filepath.Join(dir, "rapport-bench-"+strconv.Itoa(moments)+".db")
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	ctx := context.Background()
	_, statErr := os.Stat(path)
	db, err := sqlstore.Open(ctx, path, func() time.Time { return now })
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if os.IsNotExist(statErr) {
		start := time.Now()
		// About 30 moments per customer, as in the demo.
		if _, err := demo.Populate(ctx, db, demo.Config{Seed: 1, Customers: max(moments/30, 100), Moments: moments, Now: now}); err != nil {
			os.Remove(path)
			b.Fatal(err)
		}
		b.Logf("generated %d moments in %s into %s", moments, time.Since(start).Round(time.Second), path)
	}
	return db
}

// BenchmarkTouchpointReport measures the year's touchpoint report, which reads
// the running totals rather than the moments.
func BenchmarkTouchpointReport(b *testing.B) {
	db := demoFirm(b)
	reports := sqlstore.NewReportService(db)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := reports.TouchpointReport(ctx, rapport.ReportFilter{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompareResponses measures the comparison of a touchpoint's responses over a year.
func BenchmarkCompareResponses(b *testing.B) {
	db := demoFirm(b)
	responses := sqlstore.NewResponseService(db)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := responses.CompareResponses(ctx, "complaint", rapport.ReportFilter{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrend measures a touchpoint's 26-week trend.
func BenchmarkTrend(b *testing.B) {
	db := demoFirm(b)
	reports := sqlstore.NewReportService(db)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := reports.Trend(ctx, "service", 26); err != nil {
			b.Fatal(err)
		}
	}
}
