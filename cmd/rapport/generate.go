package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/csvio"
	"github.com/rapport-crm/rapport/internal/importgen"
	"github.com/rapport-crm/rapport/sqlstore"
)

// generatedCustomers is how many customers a generated file's moments name.
const generatedCustomers = 1000

// generateMoments writes a file of n moments for measuring imports (the
// hidden --generate flag of import), adding the customers it names when
// they are missing, and writes the lines of its planted bad rows beside
// it, in FILE.planted.
func generateMoments(ctx context.Context, db *sqlstore.DB, path string, n, badEvery int, stdout io.Writer) error {
	imports := sqlstore.NewImportService(db)
	file := &rapport.CustomerFile{}
	ids := make([]string, generatedCustomers)
	for i := range ids {
		ids[i] = fmt.Sprintf("gen-c-%d", i)
		file.Rows = append(file.Rows, rapport.CustomerRow{Row: i + 2, Customer: rapport.Customer{
			Name: fmt.Sprintf("Generated %d", i), ExternalID: ids[i], Kind: "person", Stage: rapport.StageAwareness}})
	}
	if _, err := imports.ImportCustomers(ctx, file, rapport.ImportOptions{}); err != nil {
		return fmt.Errorf("add the generated customers: %w", err)
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	defer out.Close()
	planted, err := importgen.Moments(out, importgen.File{Rows: n, Customers: ids, BadEvery: badEvery,
		Start: time.Now().Add(-time.Duration(n+1) * time.Minute)})
	if err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	lines := make([]string, len(planted))
	for i, l := range planted {
		lines[i] = fmt.Sprint(l)
	}
	if err := os.WriteFile(path+".planted", []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Wrote %s: %d moments, %d of them bad on purpose (their lines are in %s.planted).\n", path, n, len(planted), path)
	return nil
}

// measureCeiling inserts the good moments of a file of moments, in batches
// of rapport.ImportChunk, into a scratch copy of the moments table with
// nothing derived from them (the hidden --ceiling flag of import): the
// database's own rate for the rows an import of the file stores. Reading
// the file is in both figures.
func measureCeiling(ctx context.Context, db *sqlstore.DB, path string, stdout io.Writer) error {
	customers, touchpoints := map[string]string{}, map[string]bool{}
	cs := sqlstore.NewCustomerService(db)
	for f := (rapport.CustomerFilter{Limit: rapport.MaxPageSize}); ; {
		page, err := cs.FindCustomers(ctx, f)
		if err != nil {
			return err
		}
		for _, c := range page.Items {
			customers[c.ExternalID] = c.ID
		}
		if f.Cursor = page.NextCursor; f.Cursor == "" {
			break
		}
	}
	tps, err := sqlstore.NewTouchpointService(db).FindTouchpoints(ctx)
	if err != nil {
		return err
	}
	for _, tp := range tps {
		touchpoints[tp.Key] = true
	}
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	now := time.Now()
	rd, err := csvio.NewMomentReader(file, csvio.ReadOptions{Now: now})
	if err != nil {
		return err
	}
	rows, took, err := db.InsertCeiling(ctx, func(int) []*rapport.Moment {
		var ms []*rapport.Moment
		for len(ms) < rapport.ImportChunk {
			row, err := rd.Next()
			if err != nil {
				break
			}
			m := row.Value.Moment
			m.CustomerID = customers[row.Value.CustomerExternalID]
			if len(row.Problems) > 0 || m.CustomerID == "" || !touchpoints[m.Touchpoint] {
				continue
			}
			m.Validate(now, -1)
			m.ID, m.RecordedAt = rapport.NewID(now), now
			ms = append(ms, &m)
		}
		return ms
	}, 24*time.Hour)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Ceiling: %d moments inserted in %v, %.0f rows/s, into an empty copy of the moments table with nothing derived.\n",
		rows, took.Round(time.Millisecond), float64(rows)/took.Seconds())
	return nil
}
