package web

import (
	"net/url"
	"strings"
	"testing"
)

func TestSafeNext(t *testing.T) {
	tests := []struct{ next, want string }{
		{"/customers?q=vane", "/customers?q=vane"},
		{"/customers/01H8/brief#open", "/customers/01H8/brief#open"},
		{"", "/"},
		{"customers", "/"},
		{"//evil.example/", "/"},
		{"/\\evil.example", "/"},
		{"/\t/evil.example/phish", "/"},
		{"/%09/evil.example/phish", "/%09/evil.example/phish"}, // an escaped tab is a path on this site
		{"/\n/evil.example", "/"},
		{"/\r/evil.example", "/"},
		{"\t//evil.example", "/"},
		{"/x\\..\\\\evil.example", "/"},
		{"https://evil.example/", "/"},
		{"/%2F%2Fevil.example", "/"},
		{"/signin?next=/", "/"},
		{"/\x7f/evil.example", "/"},
	}
	for _, tc := range tests {
		if got := safeNext(tc.next); got != tc.want {
			t.Errorf("safeNext(%q) = %q; want %q", tc.next, got, tc.want)
		}
	}
}

// browserResolve does what a browser does to a Location header before
// following it (WHATWG URL): it drops tabs and newlines, reads a backslash
// as a slash, and resolves the rest against the page.
func browserResolve(base *url.URL, loc string) (*url.URL, error) {
	loc = strings.Trim(loc, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ")
	loc = strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(loc)
	ref, err := url.Parse(loc)
	if err != nil {
		return nil, err
	}
	return base.ResolveReference(ref), nil
}

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "/customers?q=a", "//evil.example", "/\t/evil.example", "/\\evil", "http://x", "/%2f%2fx", "/\x00//x"} {
		f.Add(s)
	}
	base, _ := url.Parse("http://rapport.test/signin?next=x")
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if got != "/" && got != next {
			t.Fatalf("safeNext(%q) = %q; want the input or /", next, got)
		}
		u, err := browserResolve(base, got)
		if err != nil {
			t.Fatalf("safeNext(%q) = %q, which a browser cannot read: %v", next, got, err)
		}
		if u.Host != base.Host || u.Scheme != base.Scheme {
			t.Fatalf("safeNext(%q) = %q leads a browser to %s://%s; want this site", next, got, u.Scheme, u.Host)
		}
	})
}
