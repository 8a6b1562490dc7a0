package web

import (
	"net/url"
	"slices"
	"testing"
)

// FuzzParseViewQuery reads any text as a saved view's filter: it is refused,
// or read into a filter that keeps only the list's own parameters and reads
// back the same once saved.
func FuzzParseViewQuery(f *testing.F) {
	for _, seed := range []string{"", "risk=high&sort=risk", "owner=me&stage=commitment", "q=%E2%9C%93&segment=01ABC", "page=3&sort=-last",
		"stage=lost", "x=1", "q=%zz", "sort=name&sort=risk", "health=low;risk=high"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := parseViewQuery(raw)
		if err != nil {
			return
		}
		saved := q.Encoded()
		v, err := url.ParseQuery(saved)
		if err != nil {
			t.Fatalf("parseViewQuery(%q) saves %q, which does not parse: %v", raw, saved, err)
		}
		for k := range v {
			if !slices.Contains(customerListKeys, k) {
				t.Errorf("parseViewQuery(%q) saves %q, with the parameter %q", raw, saved, k)
			}
		}
		again, err := parseViewQuery(saved)
		if err != nil || again != q {
			t.Errorf("parseViewQuery(%q) = %+v, saved as %q, which reads back as %+v, %v", raw, q, saved, again, err)
		}
	})
}
