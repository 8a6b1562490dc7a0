package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
)

// The insert ceiling stores whole batches into a scratch table shaped like
// the moments table, refusing what the moments table refuses, and leaves
// neither the table nor any moment behind.
func TestInsertCeiling(t *testing.T) {
	for _, backend := range testdb.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			ctx := context.Background()
			dsn := backend.DSN(t)
			db, err := sqlstore.Open(ctx, dsn, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			c := &rapport.Customer{Name: "Ada"}
			if err := sqlstore.NewCustomerService(db).CreateCustomer(ctx, c); err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC().Truncate(time.Microsecond)
			batch := func(customer string) func(i int) []*rapport.Moment {
				return func(i int) []*rapport.Moment {
					if i == 3 {
						return nil
					}
					ms := make([]*rapport.Moment, 700) // more than one INSERT's worth
					for j := range ms {
						ms[j] = &rapport.Moment{ID: rapport.NewID(now), CustomerID: customer, Touchpoint: "greeting",
							Channel: rapport.ChannelPhone, OccurredAt: now, Outcome: rapport.OutcomeNeutral,
							OutcomeSource: "derived", RecordedAt: now}
					}
					return ms
				}
			}
			rows, took, err := db.InsertCeiling(ctx, batch(c.ID), time.Minute)
			if err != nil || rows != 2100 || took <= 0 {
				t.Fatalf("InsertCeiling = %d rows in %v, %v; want 2100 rows", rows, took, err)
			}
			if _, _, err := db.InsertCeiling(ctx, batch("no-such-customer"), time.Minute); err == nil {
				t.Error("InsertCeiling stored moments of a customer who does not exist: the copy lost the moments table's references")
			}
			raw := testdb.SQL(t, dsn)
			var moments, scratch int
			raw.QueryRow(`SELECT COUNT(*) FROM moments`).Scan(&moments)
			q := `SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'ceiling%'`
			if backend.Name == "postgres" {
				q = `SELECT COUNT(*) FROM pg_class WHERE relname LIKE 'ceiling%'`
			}
			if err := raw.QueryRow(q).Scan(&scratch); err != nil {
				t.Fatal(err)
			}
			if moments != 0 || scratch != 0 {
				t.Errorf("after the ceiling, %d moments and %d scratch tables or indexes remain; want none", moments, scratch)
			}
		})
	}
}

// BenchmarkInsertCeiling is the database's own rate for batches of 1,000
// moments with nothing derived, on the firm BenchmarkRecordMoments records
// into, so that the two read side by side.
func BenchmarkInsertCeiling(b *testing.B) {
	for _, backend := range testdb.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			// benchFirm's database, opened again for the ceiling's own use.
			dsn := backend.DSN(b)
			backend := testdb.Backend{Name: backend.Name, DSN: func(testing.TB) string { return dsn }}
			_, customers := benchFirm(b, backend, benchStored)
			db, err := sqlstore.Open(context.Background(), dsn, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			now := time.Now()
			b.ResetTimer()
			rows, _, err := db.InsertCeiling(context.Background(), func(i int) []*rapport.Moment {
				if i == b.N {
					return nil
				}
				ms := make([]*rapport.Moment, 1000)
				for j := range ms {
					m := benchMoment("ceiling", i*1000+j, customers, now)
					m.Validate(now, -1)
					m.ID, m.RecordedAt = rapport.NewID(now), now
					ms[j] = m
				}
				return ms
			}, time.Hour)
			if err != nil {
				b.Fatal(err)
			}
			reportMomentsPerSecond(b, rows)
		})
	}
}
