package sqlstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
)

// benchCustomers is how many customers the benchmark moments spread over.
const benchCustomers = 100

// benchFirm opens a database holding customers and, recorded before the
// timer starts, stored moments.
//
// On PostgreSQL it then analyzes the database, as autovacuum does for any
// table that grows. Without statistics, a connection that ran a query a few
// times against a near-empty table keeps a sequential-scan plan for it, and
// the benchmark would measure that plan's cost, rising with every row, rather
// than a working server's.
func benchFirm(b *testing.B, backend testdb.Backend, stored int) (*sqlstore.MomentService, []string) {
	b.Helper()
	ctx := context.Background()
	dsn := backend.DSN(b)
	db, err := sqlstore.Open(ctx, dsn, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	customers := sqlstore.NewCustomerService(db)
	ids := make([]string, benchCustomers)
	for i := range ids {
		c := &rapport.Customer{Name: fmt.Sprintf("Customer %d", i), ExternalID: fmt.Sprintf("c-%d", i)}
		if err := customers.CreateCustomer(ctx, c); err != nil {
			b.Fatal(err)
		}
		ids[i] = c.ID
	}
	moments, now := sqlstore.NewMomentService(db), time.Now()
	for start := 0; start < stored; start += 1000 {
		batch := make([]*rapport.Moment, min(1000, stored-start))
		for i := range batch {
			batch[i] = benchMoment("stored", start+i, ids, now)
		}
		if _, err := moments.RecordMoments(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	if backend.Name == "postgres" {
		if _, err := testdb.SQL(b, dsn).Exec(`ANALYZE`); err != nil {
			b.Fatal(err)
		}
	}
	return moments, ids
}

var benchTouchpoints = []string{"greeting", "query", "complaint", "offer", "purchase", "delivery", "service", "closing"}

// benchMoment is the i-th moment of a run: as the API receives them, with an
// external id, so the idempotency check is part of the cost.
func benchMoment(run string, i int, customers []string, now time.Time) *rapport.Moment {
	return &rapport.Moment{
		ExternalID: fmt.Sprintf("%s-%d", run, i),
		CustomerID: customers[i%len(customers)],
		Touchpoint: benchTouchpoints[i%len(benchTouchpoints)],
		Channel:    rapport.Channels[i%len(rapport.Channels)],
		OccurredAt: now.Add(-time.Duration(i%10000) * time.Minute),
		Rating:     ptr(1 + i%5),
		Notes:      "Asked about the renewal date and was answered at once.",
		Revenue:    float64(i % 50),
		Cost:       2.5,
	}
}

func reportMomentsPerSecond(b *testing.B, moments int) {
	b.ReportMetric(float64(moments)/b.Elapsed().Seconds(), "moments/s")
}

// benchStored is how many moments the database holds before recording starts.
const benchStored = 10000

// BenchmarkRecordMoment records one moment per call, each its own transaction.
func BenchmarkRecordMoment(b *testing.B) {
	for _, backend := range testdb.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			moments, customers := benchFirm(b, backend, benchStored)
			ctx, now := context.Background(), time.Now()
			n := 0
			for b.Loop() {
				if _, err := moments.RecordMoment(ctx, benchMoment("one", n, customers, now)); err != nil {
					b.Fatal(err)
				}
				n++
			}
			reportMomentsPerSecond(b, n)
		})
	}
}

// BenchmarkRecordMomentConcurrent records one moment per call from 32
// clients at once, as a contact centre's agents and systems do: the moments
// that arrive while a transaction commits share the next one.
func BenchmarkRecordMomentConcurrent(b *testing.B) {
	for _, backend := range testdb.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			moments, customers := benchFirm(b, backend, benchStored)
			ctx, now := context.Background(), time.Now()
			var n atomic.Int64
			b.SetParallelism(16) // 32 clients on 2 cores
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := int(n.Add(1))
					if _, err := moments.RecordMoment(ctx, benchMoment("concurrent", i, customers, now)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			reportMomentsPerSecond(b, int(n.Load()))
		})
	}
}

// BenchmarkRecordMoments records batches of moments, each batch one transaction.
func BenchmarkRecordMoments(b *testing.B) {
	for _, backend := range testdb.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			for _, size := range []int{100, 1000} {
				b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
					moments, customers := benchFirm(b, backend, benchStored)
					ctx, now := context.Background(), time.Now()
					n := 0
					for b.Loop() {
						batch := make([]*rapport.Moment, size)
						for i := range batch {
							batch[i] = benchMoment("batch", n+i, customers, now)
						}
						if _, err := moments.RecordMoments(ctx, batch); err != nil {
							b.Fatal(err)
						}
						n += size
					}
					reportMomentsPerSecond(b, n)
				})
			}
		})
	}
}

// BenchmarkFindMoments reads the newest page of one customer's moments, as
// the customer page does, from a store of 50,000 moments.
func BenchmarkFindMoments(b *testing.B) {
	const page = 50
	for _, backend := range testdb.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			moments, customers := benchFirm(b, backend, 50000)
			ctx := context.Background()
			read := 0
			for i := 0; b.Loop(); i++ {
				got, err := moments.FindMoments(ctx, rapport.MomentFilter{CustomerID: customers[i%len(customers)], Limit: page})
				if err != nil {
					b.Fatal(err)
				}
				if len(got.Items) != page {
					b.Fatalf("FindMoments = %d items; want %d", len(got.Items), page)
				}
				read += len(got.Items)
			}
			reportMomentsPerSecond(b, read)
		})
	}
}
