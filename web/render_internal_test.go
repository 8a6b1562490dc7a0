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
