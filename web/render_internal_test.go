package web

import (
	"html/template"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
)

// TestTitleTakesDomainWords checks that the title function reads stages and
// statuses as it reads plain strings, so that pages look the same whatever
// type a word has.
func TestTitleTakesDomainWords(t *testing.T) {
	tmpl := template.Must(template.New("t").Funcs(templateFuncs).Parse(`{{title .}}`))
	for _, tc := range []struct {
		in   any
		want string
	}{
		{"not_recovered", "Not recovered"},
		{rapport.Stage(rapport.StageDissolution), "Dissolution"},
		{rapport.RecoveryNotRecovered, "Not recovered"},
		{rapport.PromiseKept, "Kept"},
		{rapport.Stage(""), ""},
	} {
		var b strings.Builder
		if err := tmpl.Execute(&b, tc.in); err != nil {
			t.Errorf("title %#v: %v", tc.in, err)
			continue
		}
		if got := b.String(); got != tc.want {
			t.Errorf("title %#v = %q; want %q", tc.in, got, tc.want)
		}
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, 3); err == nil {
		t.Errorf("title 3 = %q; want an error", b.String())
	}
}

// TestThousands writes counts of every integer type with a comma between
// each three digits, and refuses what is not a whole number.
func TestThousands(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{0, "0"}, {7, "7"}, {999, "999"}, {1000, "1,000"}, {88792, "88,792"}, {1234567, "1,234,567"},
		{-1234, "-1,234"}, {int64(10_000_000_000), "10,000,000,000"}, {uint32(65536), "65,536"},
	} {
		if got, err := thousands(tc.in); err != nil || got != tc.want {
			t.Errorf("thousands(%v) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := thousands(3.5); err == nil {
		t.Error("thousands(3.5) = nil error; want a refusal")
	}
}
