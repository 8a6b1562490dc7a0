package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
)

// loaderDB opens a fresh database of backend b with a plain handle beside it.
func loaderDB(t *testing.T, b testdb.Backend) (*sqlstore.DB, *sql.DB) {
	t.Helper()
	dsn := b.DSN(t)
	db, err := sqlstore.Open(context.Background(), dsn, nil)
	if err != nil {
		t.Fatalf("Open(%s) = %v", b.Name, err)
	}
	t.Cleanup(func() { db.Close() })
	return db, testdb.SQL(t, dsn)
}

func loaderCount(t *testing.T, raw *sql.DB, query string) int {
	t.Helper()
	var n int
	if err := raw.QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func loaderID(i int, at time.Time) string {
	var e [10]byte
	copy(e[:], fmt.Sprintf("%010d", i))
	return rapport.FormatID(at, e)
}

// TestLoader loads more rows than a chunk and a transaction hold, with each
// customer's moments and promises added straight after the customer, and
// reads them back through the services.
func TestLoader(t *testing.T) {
	t.Parallel()
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db, raw := loaderDB(t, b)
			at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
			l := db.Loader()
			l.CommitRows = 1500
			defer l.Close()

			boss := &rapport.User{ID: loaderID(0, at), Email: "boss@firm.example", Name: "Boss", Role: rapport.RoleManager, Team: "Care", CreatedAt: at}
			agent := &rapport.User{ID: loaderID(1, at), Email: "agent@firm.example", Name: "Agent", Role: rapport.RoleAgent, Team: "Care", ManagerID: boss.ID, CreatedAt: at}
			for _, u := range []*rapport.User{boss, agent} {
				if err := l.AddUser(ctx, u); err != nil {
					t.Fatalf("AddUser = %v", err)
				}
			}
			if err := l.AddProduct(ctx, &rapport.Product{Key: "motor", Name: "Motor", CreatedAt: at}); err != nil {
				t.Fatalf("AddProduct = %v", err)
			}
			resp := &rapport.Response{ID: loaderID(2, at), Touchpoint: "complaint", Key: "call_back", Status: rapport.ResponseTrial, CreatedAt: at}
			if err := l.AddResponse(ctx, resp); err != nil {
				t.Fatalf("AddResponse = %v", err)
			}
			const customers, momentsEach = 700, 3
			var first *rapport.Moment
			var firstCustomer string
			id := 10
			for i := range customers {
				c := &rapport.Customer{ID: loaderID(id, at), Kind: rapport.KindPerson, Name: fmt.Sprintf("Customer %d", i),
					Email: fmt.Sprintf("c%d@example.com", i), Stage: rapport.StageExploration, OwnerID: agent.ID,
					CreatedAt: at, UpdatedAt: at}
				if i > 0 && i%10 == 0 {
					c.ReferredBy = firstCustomer
				}
				if i == 0 {
					firstCustomer = c.ID
					c.Attributes = map[string]any{"region": "Wales"}
				}
				id++
				if err := l.AddCustomer(ctx, c); err != nil {
					t.Fatalf("AddCustomer = %v", err)
				}
				end := at.Add(time.Hour)
				if err := l.AddHolding(ctx, &rapport.Holding{ID: loaderID(id, at), CustomerID: c.ID, Product: "motor", StartedAt: at, EndedAt: &end}); err != nil {
					t.Fatalf("AddHolding = %v", err)
				}
				id++
				if err := l.AddStageChange(ctx, &rapport.StageChange{ID: loaderID(id, at), CustomerID: c.ID, To: rapport.StageExploration, Reason: "created", ChangedBy: "test", ChangedAt: at}); err != nil {
					t.Fatalf("AddStageChange = %v", err)
				}
				id++
				for j := range momentsEach {
					rating := 1 + (i+j)%5
					m := &rapport.Moment{ID: loaderID(id, at), CustomerID: c.ID, Touchpoint: "complaint", Channel: rapport.ChannelPhone,
						OccurredAt: at.Add(time.Duration(j) * time.Minute), StaffID: agent.ID, Response: "call_back", Rating: &rating,
						Notes: "called back", Revenue: 1.5, Cost: 2.25, RecordedAt: at.Add(time.Hour)}
					m.Outcome, m.OutcomeSource = rapport.DeriveOutcome("", m.Rating)
					id++
					if err := l.AddMoment(ctx, m); err != nil {
						t.Fatalf("AddMoment = %v", err)
					}
					if first == nil {
						first = m
					}
					if j == 0 {
						p := &rapport.Promise{ID: loaderID(id, at), CustomerID: c.ID, StaffID: agent.ID, MomentID: m.ID, Text: "call back",
							DueAt: at.Add(24 * time.Hour), Status: rapport.PromiseOpen, CreatedAt: at}
						id++
						if err := l.AddPromise(ctx, p); err != nil {
							t.Fatalf("AddPromise = %v", err)
						}
					}
				}
			}
			if err := l.SetStage(ctx, firstCustomer, rapport.StageCommitment, at.Add(2*time.Hour)); err != nil {
				t.Fatalf("SetStage = %v", err)
			}
			if err := l.Flush(ctx); err != nil {
				t.Fatalf("Flush = %v", err)
			}
			wantRows := 2 + 1 + 1 + customers*(3+momentsEach+1)
			if got := l.Rows(); got != wantRows {
				t.Errorf("Rows() = %d; want %d", got, wantRows)
			}
			for table, want := range map[string]int{"users": 2, "products": 1, "responses": 1, "customers": customers,
				"holdings": customers, "stage_changes": customers, "moments": customers * momentsEach, "promises": customers} {
				if got := loaderCount(t, raw, "SELECT COUNT(*) FROM "+table); got != want {
					t.Errorf("%s has %d rows; want %d", table, got, want)
				}
			}
			got, err := sqlstore.NewMomentService(db).FindMomentByID(ctx, first.ID)
			if err != nil {
				t.Fatalf("FindMomentByID = %v", err)
			}
			if !reflect.DeepEqual(got, first) {
				t.Errorf("FindMomentByID = %+v; want %+v", got, first)
			}
			c, err := sqlstore.NewCustomerService(db).FindCustomerByID(ctx, firstCustomer)
			if err != nil {
				t.Fatalf("FindCustomerByID = %v", err)
			}
			if c.Stage != rapport.StageCommitment || c.Attributes["region"] != "Wales" || len(c.Preferences.Likes) != 0 || c.Preferences.Likes == nil {
				t.Errorf("customer = stage %q, attributes %v, likes %#v; want commitment, Wales, []", c.Stage, c.Attributes, c.Preferences.Likes)
			}
			page, err := sqlstore.NewCustomerService(db).FindCustomers(ctx, rapport.CustomerFilter{Query: "C699@EXAMPLE"})
			if err != nil || len(page.Items) != 1 {
				t.Errorf("FindCustomers(c699@example) = %d customers, %v; want 1", len(page.Items), err)
			}
			if got := loaderCount(t, raw, "SELECT COUNT(*) FROM customers WHERE referred_by IS NOT NULL"); got != customers/10-1 {
				t.Errorf("%d customers were referred; want %d", got, customers/10-1)
			}
			if got := loaderCount(t, raw, "SELECT COUNT(*) FROM holdings WHERE ended_at IS NULL"); got != 0 {
				t.Errorf("%d holdings lost their end; want 0", got)
			}
			if err := l.SetStage(ctx, "missing", rapport.StageCommitment, at); rapport.ErrorCode(err) != rapport.ENOTFOUND {
				t.Errorf("SetStage(missing) = %v; want %s", err, rapport.ENOTFOUND)
			}
		})
	}
}

// TestLoaderFailure shows that a row the database refuses fails the load,
// that the failure sticks, and that Close discards what was not committed.
func TestLoaderFailure(t *testing.T) {
	t.Parallel()
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db, raw := loaderDB(t, b)
			at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

			l := db.Loader()
			c := &rapport.Customer{ID: loaderID(1, at), Kind: rapport.KindPerson, Name: "Kept out", Stage: rapport.StageAwareness, CreatedAt: at, UpdatedAt: at}
			if err := l.AddCustomer(ctx, c); err != nil {
				t.Fatalf("AddCustomer = %v", err)
			}
			if err := l.Close(); err != nil {
				t.Fatalf("Close = %v", err)
			}
			if err := l.Flush(ctx); err == nil {
				t.Errorf("Flush after Close = nil; want an error")
			}
			if got := loaderCount(t, raw, "SELECT COUNT(*) FROM customers"); got != 0 {
				t.Errorf("after Close, %d customers; want 0", got)
			}

			l = db.Loader()
			defer l.Close()
			m := &rapport.Moment{ID: loaderID(2, at), CustomerID: "nobody", Touchpoint: "query", Channel: rapport.ChannelWeb,
				OccurredAt: at, Outcome: rapport.OutcomeNeutral, OutcomeSource: rapport.OutcomeDefault, RecordedAt: at}
			if err := l.AddMoment(ctx, m); err != nil {
				t.Fatalf("AddMoment = %v", err)
			}
			err := l.Flush(ctx)
			if err == nil {
				t.Fatalf("Flush of a moment of no customer = nil; want an error")
			}
			if again := l.AddCustomer(ctx, c); again == nil || again.Error() != err.Error() {
				t.Errorf("AddCustomer after a failure = %v; want %v", again, err)
			}
			if got := loaderCount(t, raw, "SELECT COUNT(*) FROM moments"); got != 0 {
				t.Errorf("after a failed load, %d moments; want 0", got)
			}
			// The store still works after a failed load.
			if err := sqlstore.NewCustomerService(db).CreateCustomer(ctx, &rapport.Customer{Name: "After"}); err != nil {
				t.Errorf("CreateCustomer after a failed load = %v", err)
			}
		})
	}
}
