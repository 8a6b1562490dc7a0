package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// writeLines writes a file of the given lines, the header first, and
// returns its path.
func writeLines(t *testing.T, name string, lines []string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// plantedFile builds a file of rows, row(i) for each, in which the rows
// bad(i) says are planted bad ones; it returns the lines and the planted
// rows' line numbers.
func plantedFile(header string, rows int, row func(i int) (line string, bad bool)) ([]string, []int) {
	lines := []string{header}
	var planted []int
	for i := range rows {
		l, bad := row(i)
		lines = append(lines, l)
		if bad {
			planted = append(planted, len(lines))
		}
	}
	return lines, planted
}

// TestImportJobPromises imports a file of 1,500 promises, open and
// settled, with planted bad rows of every kind: the good ones are stored
// and counted, the report lists exactly the planted rows, a row equal to
// an earlier one is stored once, and importing the file again stores
// nothing.
func TestImportJobPromises(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		imports := sqlstore.NewImportServiceWith(s.db, sqlstore.ImportFiles{Dir: t.TempDir()})
		customers := importFirm(t, s, 30)
		staff := s.user(t, "Ann Agent")
		now := s.clock.Now()
		day := func(n int) string { return now.Add(time.Duration(n) * 24 * time.Hour).Format(time.RFC3339) }
		const rows = 1500
		first := fmt.Sprintf("%s,%s,Send the quote 0,%s,,", customers[0], staff.Email, day(1))
		lines, planted := plantedFile("customer_external_id,staff_email,text,due_at,status,resolved_at", rows, func(i int) (string, bool) {
			c := customers[i%len(customers)]
			switch {
			case i == 10:
				return fmt.Sprintf("nobody,,Call back,%s,,", day(3)), true // unknown customer
			case i == 400:
				return fmt.Sprintf("%s,,Call back,%s,,", c, day(-3)), true // open and past due
			case i == 800:
				return fmt.Sprintf("%s,,Call back,%s,lost,", c, day(-3)), true // no such status
			case i == 1100:
				return fmt.Sprintf("%s,,,%s,,", c, day(3)), true // no text
			case i == 1300:
				return fmt.Sprintf("%s,ghost@firm.example,Call back,%s,,", c, day(3)), true // unknown staff
			case i == 1499:
				return first, false // the same as row 0: skipped
			case i%3 == 0:
				return fmt.Sprintf("%s,%s,Send the quote %d,%s,,", c, staff.Email, i, day(1+i%50)), false
			case i%3 == 1:
				return fmt.Sprintf("%s,%s,Refund %d,%s,kept,%s", c, staff.Email, i, day(-10-i%50), day(-9-i%50)), false
			}
			return fmt.Sprintf("%s,,Visit %d,%s,broken,", c, i, day(-20-i%50)), false
		})
		path := writeLines(t, "promises.csv", lines)
		job := runFile(t, imports, rapport.ImportRequest{Kind: rapport.ImportPromisesKind, FileName: "promises.csv", Path: path})
		good := rows - len(planted) - 1
		if job.State != rapport.ImportDone || job.RowsRead != rows || job.Stored != good || job.Skipped != 1 || job.Rejected != len(planted) {
			t.Fatalf("job = %+v; want done, %d read, %d stored, 1 skipped, %d rejected", job, rows, good, len(planted))
		}
		if got := reportLines(t, imports, job, path); !slices.Equal(got, planted) {
			t.Errorf("report lists lines %v; want the planted %v", got, planted)
		}
		for _, status := range []string{"open", "kept", "broken"} {
			stored := s.count(t, "promises", "status = '"+status+"'")
			var counted int
			s.raw.QueryRow(`SELECT COALESCE(SUM(promises), 0) FROM promise_counts WHERE status = '` + status + `'`).Scan(&counted)
			if stored == 0 || counted != stored {
				t.Errorf("%d %s promises stored, %d counted; want as many, more than none", stored, status, counted)
			}
		}
		if n := s.count(t, "moments", ""); n != 0 {
			t.Errorf("importing broken promises recorded %d moments; want none (history)", n)
		}
		again := runFile(t, imports, rapport.ImportRequest{Kind: rapport.ImportPromisesKind, Path: path})
		if again.Stored != 0 || again.Skipped != good+1 || again.Rejected != len(planted) {
			t.Errorf("the same file again = %+v; want nothing stored, %d skipped", again, good+1)
		}
		if n := s.count(t, "promises", ""); n != good {
			t.Errorf("after importing twice, %d promises; want %d", n, good)
		}
	})
}

// TestImportJobHoldings imports a file of holdings, ended and current,
// with planted bad rows: the good ones are stored, the customers' product
// counts follow, the report lists exactly the planted rows, and importing
// the file again stores nothing.
func TestImportJobHoldings(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		imports := sqlstore.NewImportServiceWith(s.db, sqlstore.ImportFiles{Dir: t.TempDir()})
		holdings := sqlstore.NewHoldingService(s.db)
		products := []string{"current_account", "savings", "mortgage"}
		for _, p := range products {
			if err := holdings.CreateProduct(ctx, &rapport.Product{Key: p, Name: p}); err != nil {
				t.Fatal(err)
			}
		}
		customers := importFirm(t, s, 400)
		now := s.clock.Now()
		day := func(n int) string { return now.Add(time.Duration(n) * 24 * time.Hour).Format(time.DateOnly) }
		const rows = 1203
		lines, planted := plantedFile("customer_external_id,product,started_at,ended_at", rows, func(i int) (string, bool) {
			c, p := customers[i%400], products[min(i/400, 2)]
			switch {
			case i == 5:
				return fmt.Sprintf("%s,yacht,%s,", c, day(-100)), true // no such product
			case i == 450:
				return fmt.Sprintf("%s,%s,%s,%s", c, p, day(-100), day(-200)), true // ends before it starts
			case i == 900:
				return fmt.Sprintf("nobody,%s,%s,", p, day(-100)), true // unknown customer
			case i >= 1200:
				// Overlaps the customer's holdings of this product in rows 800 and 801.
				return fmt.Sprintf("%s,mortgage,%s,", customers[i-1200], day(-600)), true
			case i%2 == 0:
				return fmt.Sprintf("%s,%s,%s,", c, p, day(-300-i%100)), false
			}
			return fmt.Sprintf("%s,%s,%s,%s", c, p, day(-900), day(-400)), false
		})
		path := writeLines(t, "holdings.csv", lines)
		job := runFile(t, imports, rapport.ImportRequest{Kind: rapport.ImportHoldingsKind, FileName: "holdings.csv", Path: path})
		good := rows - len(planted)
		if job.State != rapport.ImportDone || job.RowsRead != rows || job.Stored != good || job.Rejected != len(planted) {
			t.Fatalf("job = %+v; want done, %d read, %d stored, %d rejected", job, rows, good, len(planted))
		}
		if got := reportLines(t, imports, job, path); !slices.Equal(got, planted) {
			t.Errorf("report lists lines %v; want the planted %v", got, planted)
		}
		// The cross-sell counts follow: as many customers counted as hold
		// a product now, and each product's holders as stored.
		var counted, holders int
		s.raw.QueryRow(`SELECT customers FROM product_pairs WHERE held = '' AND also = ''`).Scan(&counted)
		s.raw.QueryRow(`SELECT COUNT(DISTINCT customer_id) FROM holdings WHERE ended_at IS NULL`).Scan(&holders)
		if holders == 0 || counted != holders {
			t.Errorf("product_pairs counts %d customers holding products; %d hold one", counted, holders)
		}
		for _, p := range products {
			var pairs int
			s.raw.QueryRow(`SELECT customers FROM product_pairs WHERE held = '` + p + `' AND also = '` + p + `'`).Scan(&pairs)
			if want := s.count(t, "holdings", "ended_at IS NULL AND product = '"+p+"'"); pairs != want {
				t.Errorf("product_pairs counts %d holders of %s; %d hold it", pairs, p, want)
			}
		}
		again := runFile(t, imports, rapport.ImportRequest{Kind: rapport.ImportHoldingsKind, Path: path})
		if again.Stored != 0 || again.Skipped != good || again.Rejected != len(planted) {
			t.Errorf("the same file again = %+v; want nothing stored, %d skipped", again, good)
		}
		if n := s.count(t, "holdings", ""); n != good {
			t.Errorf("after importing twice, %d holdings; want %d", n, good)
		}
	})
}

// TestImportMappings saves mappings for the firm: one of the same kind
// and name replaces the first, each kind lists its own, a mapping that
// says nothing or names no kind is refused, and a deleted one is gone.
func TestImportMappings(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		imports := sqlstore.NewImportService(s.db)
		old := &rapport.ImportMapping{Kind: rapport.ImportCustomersKind, Name: " Old CRM ", Map: map[string]string{"E-mail": "email"}, Delimiter: ";"}
		if err := imports.SaveImportMapping(ctx, old); err != nil {
			t.Fatal(err)
		}
		again := &rapport.ImportMapping{Kind: rapport.ImportCustomersKind, Name: "Old CRM", Map: map[string]string{"Mail": "email"}}
		if err := imports.SaveImportMapping(ctx, again); err != nil || again.ID != old.ID {
			t.Fatalf("saving Old CRM again = %v, id %s; want the first (%s) replaced", err, again.ID, old.ID)
		}
		shop := &rapport.ImportMapping{Kind: rapport.ImportMomentsKind, Name: "Old CRM", DateFormat: "DD/MM/YYYY"}
		if err := imports.SaveImportMapping(ctx, shop); err != nil {
			t.Fatal(err)
		}
		got, err := imports.FindImportMappings(ctx, rapport.ImportCustomersKind)
		if err != nil || len(got) != 1 || got[0].Name != "Old CRM" || show(got[0].Map) != `{"Mail":"email"}` || got[0].Delimiter != "" {
			t.Errorf("customers' mappings = %s, %v; want Old CRM as saved the second time", show(got), err)
		}
		req := rapport.ImportRequest{Kind: rapport.ImportCustomersKind, Map: map[string]string{"Tel": "phone"}}
		got[0].Apply(&req)
		if show(req.Map) != `{"Mail":"email","Tel":"phone"}` {
			t.Errorf("the mapping applied to a request with its own column = %s; want both", show(req.Map))
		}
		for _, bad := range []*rapport.ImportMapping{
			{Kind: rapport.ImportCustomersKind, Name: "Nothing"},
			{Kind: "invoices", Name: "Books", Map: map[string]string{"a": "b"}},
			{Kind: rapport.ImportPromisesKind, Name: "Keyed", Key: []string{"text"}},
			{Kind: rapport.ImportMomentsKind, Name: "", Map: map[string]string{"a": "b"}},
		} {
			if err := imports.SaveImportMapping(ctx, bad); rapport.ErrorCode(err) != rapport.EINVALID {
				t.Errorf("SaveImportMapping(%s) = %v; want EINVALID", show(bad), err)
			}
		}
		if err := imports.DeleteImportMapping(ctx, old.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := imports.FindImportMapping(ctx, old.ID); rapport.ErrorCode(err) != rapport.ENOTFOUND {
			t.Errorf("a deleted mapping = %v; want ENOTFOUND", err)
		}
		if all, _ := imports.FindImportMappings(ctx, ""); len(all) != 1 || all[0].ID != shop.ID {
			t.Errorf("mappings left = %s; want the moments' one", show(all))
		}
	})
}
