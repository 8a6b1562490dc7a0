package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the command line and returns what it printed.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, noEnv, &out, &errOut)
	return out.String(), errOut.String(), err
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestImportExportCommands(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "rapport.db")
	if _, _, err := runCLI(t, "user", "create", "--db", db, "--email", "ana@harbour.example", "--name", "Ana", "--role", "agent"); err != nil {
		t.Fatal(err)
	}
	customers := writeFile(t, dir, "customers.csv", "external_id,name,owner_email,stage,attributes.region\n"+
		"pol-1,Grace Hopper,ana@harbour.example,commitment,north\npol-2,Bunter & Co,,exploration,\n")
	if out, _, err := runCLI(t, "import", "customers", customers, "--db", db); err != nil || !strings.Contains(out, "2 rows; 2 created, 0 skipped") {
		t.Fatalf("import customers = %q, %v", out, err)
	}

	bad := writeFile(t, dir, "bad.csv", "external_id,customer_external_id,touchpoint,channel,occurred_at,rating\n"+
		"call-1,pol-1,complaint,phone,2026-03-01T14:30:00Z,2\n"+
		"call-2,pol-1,greeting,phone,2026-03-01T14:30:00Z,7\n"+
		"call-3,pol-404,greeting,phone,2026-03-01T14:30:00Z,\n")
	_, _, err := runCLI(t, "import", "moments", "--db", db, bad, "--strict")
	if err == nil || exitCode(err) != 1 {
		t.Fatalf("strict import of a bad file: error %v; want exit code 1", err)
	}
	if !strings.Contains(err.Error(), "2 of 3 rows are not valid; nothing was imported") {
		t.Errorf("error = %v", err)
	}
	wantReport := "external_id,customer_external_id,touchpoint,channel,occurred_at,rating,import_line,import_problem,import_raw\n" +
		"call-2,pol-1,greeting,phone,2026-03-01T14:30:00Z,7,3,rating: must be from 1 to 5,\n" +
		`call-3,pol-404,greeting,phone,2026-03-01T14:30:00Z,,4,"customer_external_id: no customer has the external id ""pol-404""",` + "\n"
	if got, err := os.ReadFile(filepath.Join(dir, "bad.errors.csv")); err != nil || string(got) != wantReport {
		t.Errorf("error report = %v\n%s\nwant\n%s", err, got, wantReport)
	}
	if out, _, _ := runCLI(t, "export", "moments", "--db", db); strings.Count(out, "\n") != 1 {
		t.Fatalf("a refused import wrote moments:\n%s", out)
	}

	good := writeFile(t, dir, "good.csv", "external_id,customer_external_id,touchpoint,channel,occurred_at,staff_email,rating\n"+
		"call-1,pol-1,complaint,phone,2026-03-01T14:30:00Z,ana@harbour.example,2\n"+
		"call-2,pol-2,greeting,chat,2026-03-02,,5\n")
	if out, _, err := runCLI(t, "import", "moments", good, "--db", db, "--dry-run"); err != nil || !strings.Contains(out, "2 would be created") || !strings.Contains(out, "Nothing was written.") {
		t.Errorf("dry run = %q, %v", out, err)
	}
	if out, _, err := runCLI(t, "import", "moments", good, "--db", db); err != nil || !strings.Contains(out, "2 rows; 2 created, 0 skipped") {
		t.Fatalf("import = %q, %v", out, err)
	}
	if out, _, err := runCLI(t, "import", "moments", good, "--db", db); err != nil || !strings.Contains(out, "0 created, 2 skipped") {
		t.Errorf("the same file again = %q, %v; want everything skipped", out, err)
	}

	// Without --strict the good rows land and the bad ones are reported.
	if out, _, err := runCLI(t, "import", "moments", bad, "--db", db); err == nil || !strings.Contains(out, "0 created, 1 skipped (stored already), 2 rejected") {
		t.Errorf("import of a bad file = %q, %v; want the good row skipped as stored, two rejected, and an error", out, err)
	}

	out, _, err := runCLI(t, "export", "moments", "--db", db, "--from", "2026-03-02", "--to", "2026-03-03T00:00:00Z")
	if err != nil || strings.Count(out, "\n") != 2 || !strings.Contains(out, "call-2,") || strings.Contains(out, "call-1,") {
		t.Errorf("export of 2 March = %v\n%s", err, out)
	}
	all, _, err := runCLI(t, "export", "moments", "--db", db)
	if err != nil || !strings.Contains(all, "ana@harbour.example") {
		t.Fatalf("export = %v\n%s", err, all)
	}
	if lines, _, err := runCLI(t, "export", "moments", "--db", db, "--format", "ndjson"); err != nil || strings.Count(lines, "\n") != 2 ||
		!strings.Contains(lines, `"customer_external_id":"pol-1"`) || !strings.Contains(lines, `"staff_email":"ana@harbour.example"`) {
		t.Errorf("export as ndjson = %v\n%s", err, lines)
	}
	exported := writeFile(t, dir, "export.csv", all)
	if out, _, err := runCLI(t, "import", "moments", exported, "--db", db); err != nil || !strings.Contains(out, "0 created, 2 skipped") {
		t.Errorf("re-importing the export = %q, %v; want everything skipped", out, err)
	}
	if out, _, err := runCLI(t, "export", "customers", "--db", db, "--stage", "commitment"); err != nil ||
		!strings.HasPrefix(out, "id,external_id,kind,name") || !strings.Contains(out, "attributes.region") || !strings.Contains(out, "Grace Hopper") || strings.Contains(out, "Bunter") {
		t.Errorf("export customers = %v\n%s", err, out)
	}

	for _, args := range [][]string{
		{"import"}, {"import", "moments"}, {"import", "things", good}, {"export"}, {"export", "things"},
		{"export", "moments", "--db", db, "--from", "yesterday"}, {"export", "moments", "--db", db, "--channel", "fax"},
	} {
		if _, _, err := runCLI(t, args...); err == nil || exitCode(err) != 2 {
			t.Errorf("run(%q) = %v; want a usage error", args, err)
		}
	}
	if _, _, err := runCLI(t, "import", "moments", filepath.Join(dir, "missing.csv"), "--db", db); err == nil {
		t.Error("importing a missing file succeeded")
	}
}
