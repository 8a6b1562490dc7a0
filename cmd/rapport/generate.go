package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
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
