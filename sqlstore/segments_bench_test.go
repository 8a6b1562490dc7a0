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

// bigFirm opens a demo firm of RAPPORT_BENCH_CUSTOMERS customers (default
// 100,000) with RAPPORT_BENCH_CUSTOMER_MOMENTS moments each (default 30):
// on SQLite, cached in RAPPORT_BENCH_DIR (default the system temp dir) like
// demoFirm, or in the PostgreSQL database RAPPORT_BENCH_POSTGRES names (it
// must exist; it is filled when it has no customers and kept), since making
// a large firm takes minutes.
func bigFirm(b *testing.B) *sqlstore.DB {
	b.Helper()
	env := func(name string, def int) int {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				b.Fatalf("%s=%q: %v", name, v, err)
			}
			return n
		}
		return def
	}
	customers, each := env("RAPPORT_BENCH_CUSTOMERS", 100_000), env("RAPPORT_BENCH_CUSTOMER_MOMENTS", 30)
	dir := os.Getenv("RAPPORT_BENCH_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	dsn := filepath.Join(dir, "rapport-bench-customers-"+strconv.Itoa(customers)+"x"+strconv.Itoa(each)+".db")
	_, statErr := os.Stat(dsn)
	empty := os.IsNotExist(statErr)
	if pg := os.Getenv("RAPPORT_BENCH_POSTGRES"); pg != "" {
		dsn = pg
	}
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn, func() time.Time { return now })
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if db.Backend() == "postgres" {
		page, err := sqlstore.NewCustomerService(db).FindCustomers(ctx, rapport.CustomerFilter{Limit: 1})
		if err != nil {
			b.Fatal(err)
		}
		empty = len(page.Items) == 0
	}
	if empty {
		start := time.Now()
		sum, err := demo.Populate(ctx, db, demo.Config{Seed: 1, Customers: customers, Moments: customers * each, Now: now})
		if err != nil {
			if db.Backend() != "postgres" {
				os.Remove(dsn)
			}
			b.Fatal(err)
		}
		b.Logf("generated %d customers and %d moments in %s on %s", sum.Customers, sum.Moments, time.Since(start).Round(time.Second), db.Backend())
		start = time.Now()
		if err := db.RebuildCustomerMeasures(ctx); err != nil {
			b.Fatal(err)
		}
		b.Logf("measured every customer again in %s", time.Since(start).Round(time.Millisecond))
	}
	return db
}

// benchRules are segment rules of several shapes: on the profile, on
// measures, on attributes, and mixed.
var benchRules = []struct{ name, rule string }{
	{"stage_and_rating", `stage = "commitment" and rating_90d < 3.5`},
	{"risk", `risk >= 30`},
	{"attribute", `attributes.region = "North West" and holdings >= 2`},
	{"mixed", `(misery_90d >= 1 or risk > 40) and not stage in ["dissolution"] and created < "2025-06-01"`},
}

// BenchmarkSegmentSize measures counting a segment's members: a scan of
// every customer with their stored measures.
func BenchmarkSegmentSize(b *testing.B) {
	db := bigFirm(b)
	segments := sqlstore.NewSegmentService(db)
	ctx := context.Background()
	for _, r := range benchRules {
		b.Run(r.name, func(b *testing.B) {
			var size int
			for b.Loop() {
				p, err := segments.PreviewSegment(ctx, r.rule, 1)
				if err != nil {
					b.Fatal(err)
				}
				size = p.Size
			}
			b.ReportMetric(float64(size), "members")
		})
	}
}

// BenchmarkSegmentMembers measures the first page of a saved segment's members.
func BenchmarkSegmentMembers(b *testing.B) {
	db := bigFirm(b)
	segments := sqlstore.NewSegmentService(db)
	ctx := context.Background()
	for _, r := range benchRules {
		b.Run(r.name, func(b *testing.B) {
			sg := &rapport.Segment{Name: "bench " + r.name + " " + strconv.FormatInt(time.Now().UnixNano(), 36), Rule: r.rule}
			if err := segments.CreateSegment(ctx, sg); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { segments.DeleteSegment(ctx, sg.ID) })
			for b.Loop() {
				if _, err := segments.SegmentMembers(ctx, sg.ID, 50, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOutcomes measures the outcomes report over the default year, for
// every customer and for a segment: measured afresh, and as a report opens
// on a recent measurement.
func BenchmarkOutcomes(b *testing.B) {
	db := bigFirm(b)
	segments, outcomes := sqlstore.NewSegmentService(db), sqlstore.NewOutcomeService(db)
	ctx := context.Background()
	sg := &rapport.Segment{Name: "bench outcomes " + strconv.FormatInt(time.Now().UnixNano(), 36), Rule: `risk >= 30`}
	if err := segments.CreateSegment(ctx, sg); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { segments.DeleteSegment(ctx, sg.ID) })
	for _, f := range []struct {
		name   string
		filter rapport.OutcomeFilter
	}{
		{"everyone_year", rapport.OutcomeFilter{Fresh: true}},
		{"everyone_quarter", rapport.OutcomeFilter{From: time.Date(2026, 8, 20, 0, 0, 0, 0, time.UTC), Fresh: true}},
		{"segment_year", rapport.OutcomeFilter{Segment: sg.ID, Fresh: true}},
		// As a report opens: the sweep's recent measurement, read back.
		{"everyone_year_measured", rapport.OutcomeFilter{}},
		{"segment_year_measured", rapport.OutcomeFilter{Segment: sg.ID}},
	} {
		b.Run(f.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := outcomes.Outcomes(ctx, f.filter); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCustomerHealth measures reading one customer's stored health.
func BenchmarkCustomerHealth(b *testing.B) {
	db := bigFirm(b)
	page, err := sqlstore.NewCustomerService(db).FindCustomers(context.Background(), rapport.CustomerFilter{Limit: 1})
	if err != nil || len(page.Items) == 0 {
		b.Fatal(err)
	}
	health, id := sqlstore.NewHealthService(db), page.Items[0].ID
	for b.Loop() {
		if _, err := health.CustomerHealth(context.Background(), id); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSweep measures a periodic sweep: the first brings every customer
// whose figures time has changed up to date (the generated firm was measured
// at its end, so an hour later few are due) and compares every referral
// count once; later ones find little to do and cost two counts.
func BenchmarkSweep(b *testing.B) {
	db := bigFirm(b)
	health := sqlstore.NewHealthService(db)
	var last *rapport.SweepResult
	for b.Loop() {
		res, err := health.Sweep(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		last = res
	}
	b.ReportMetric(float64(last.Customers), "customers/op")
}
