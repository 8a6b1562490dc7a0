package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport/internal/testdb"
)

// TestLoad runs the load command against a server on loopback, bounded to
// 300 requests: it prints the figures beside the bare handler's, and the
// moments it says it stored are the ones the server counted.
func TestLoad(t *testing.T) {
	db := filepath.Join(t.TempDir(), "rapport.db")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"token", "create", "--db", db, "--name", "load", "--role", "agent"}, noEnv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	token := lines[len(lines)-1]
	base, _ := startServer(t, "--db", db)
	for _, name := range []string{"Ada", "Ben", "Cy"} {
		req, _ := http.NewRequest("POST", base+"/api/v1/customers", strings.NewReader(`{"name": "`+name+`"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != http.StatusCreated {
			t.Fatalf("create customer %s: %v %v", name, res, err)
		}
		res.Body.Close()
	}

	for _, tc := range []struct {
		args    []string
		moments string
		more    []*regexp.Regexp
	}{
		{[]string{"--clients", "8", "--max", "300", "--reads", "2"}, "300", []*regexp.Regexp{
			regexp.MustCompile(`Read while recording, from 2 clients`),
			regexp.MustCompile(`customer\s+\d+\s+[\d.]+ ms\s+[\d.]+ ms\s+[\d.]+ ms\s+0`),
			regexp.MustCompile(`timeline\s+\d+\s+[\d.]+ ms\s+[\d.]+ ms\s+[\d.]+ ms\s+0`),
			regexp.MustCompile(`touchpoint report\s+\d+\s+[\d.]+ ms\s+[\d.]+ ms\s+[\d.]+ ms\s+0`),
		}},
		{[]string{"--clients", "0", "--reads", "2", "--read", "all", "--duration", "2s"}, "", []*regexp.Regexp{
			regexp.MustCompile(`Reading alone from 2 clients`),
			regexp.MustCompile(`(?m)^\s+recovery report\s+\d+\s+[\d.]+ ms\s+[\d.]+ ms\s+[\d.]+ ms\s+0`),
			regexp.MustCompile(`(?m)^\s+outcomes report\s+\d+\s+[\d.]+ ms\s+[\d.]+ ms\s+[\d.]+ ms\s+0`),
			regexp.MustCompile(`(?m)^\s+comparison of responses\s+\d+\s+[\d.]+ ms\s+[\d.]+ ms\s+[\d.]+ ms\s+0`),
		}},
		{[]string{"--clients", "4", "--max", "20", "--batch", "50", "--db", db}, "1000", []*regexp.Regexp{
			regexp.MustCompile(`bare insert \(ceiling\)\s+\d+\s+\d+\s+[\d.]+ ms`),
			regexp.MustCompile(`Rapport's share of the bare insert: [\d.]+%`),
		}},
	} {
		out.Reset()
		args := append([]string{"load", "--url", base, "--token", token, "--duration", "60s"}, tc.args...)
		if err := run(context.Background(), args, noEnv, &out, io.Discard); err != nil {
			t.Fatalf("rapport %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		recorded := []*regexp.Regexp{
			regexp.MustCompile(`bare handler \(ceiling\)\s+\d+\s+\d+\s+[\d.]+ ms`),
			regexp.MustCompile(`rapport\s+\d+\s+\d+\s+[\d.]+ ms\s+[\d.]+ ms\s+[\d.]+ ms\s+0`),
			regexp.MustCompile(`Rapport's share of the bare handler: [\d.]+%`),
			regexp.MustCompile(`Moments stored: ` + tc.moments + `\n`),
		}
		if tc.moments == "" { // reading alone records nothing
			recorded = nil
		}
		for _, want := range append(recorded, regexp.MustCompile(`Server resident memory after the run: \d+ MB`)) {
			if !want.MatchString(out.String()) {
				t.Errorf("rapport load %v printed no %s:\n%s", tc.args, want, out.String())
			}
		}
		for _, want := range tc.more {
			if !want.MatchString(out.String()) {
				t.Errorf("rapport load %v printed no %s:\n%s", tc.args, want, out.String())
			}
		}
	}
	// The insert ceiling's scratch table is gone from the server's database.
	var litter int
	if err := testdb.SQL(t, db).QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'ceiling%'`).Scan(&litter); err != nil || litter != 0 {
		t.Errorf("after the run the database holds %d scratch tables or indexes (%v); want none", litter, err)
	}

	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{`rapport_moments_recorded_total{how="single"} 300`, `rapport_moments_recorded_total{how="batch"} 1000`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("the server's metrics lack %s", want)
		}
	}

	// --rate holds the recording to that many requests a second.
	out.Reset()
	args := []string{"load", "--url", base, "--token", token, "--clients", "4", "--max", "30", "--rate", "100"}
	if err := run(context.Background(), args, noEnv, &out, io.Discard); err != nil {
		t.Fatalf("rapport %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	m := regexp.MustCompile(`rapport\s+(\d+)\s`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no rate printed:\n%s", out.String())
	}
	if n, _ := strconv.Atoi(m[1]); n > 105 {
		t.Errorf("with --rate 100, %d requests/s were sent", n)
	}

	// Only this machine is driven, and settings stay in bounds.
	for _, bad := range [][]string{
		{"--url", "http://192.0.2.10:8080"}, {"--url", "http://example.com"}, {"--clients", "0"}, {"--batch", "1001"}, {"--duration", "1h"},
		{"--rate", "-1"}, {"--reads", "65"}, {"--read", "customer,everything"}, {"--clients", "-1"},
	} {
		err := run(context.Background(), append([]string{"load", "--token", token}, bad...), noEnv, io.Discard, io.Discard)
		if _, ok := err.(usageError); !ok {
			t.Errorf("rapport load %v = %v; want a usage error", bad, err)
		}
	}
}
