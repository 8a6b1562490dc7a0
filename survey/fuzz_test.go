package survey

import (
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzParseAnswer feeds arbitrary form bodies to the survey form's parser:
// it never panics, and whatever it accepts is a valid answer with a clean
// comment.
func FuzzParseAnswer(f *testing.F) {
	for _, seed := range []string{
		"rating=5", "rating=1&effort=7&nps=0&comment=fine", "rating=3&effort=&nps=&comment=",
		"rating=0", "rating=6", "rating=-1", "rating=+3", "rating=03", "rating=3.0", "rating=1e1", "rating=%EF%BC%93",
		"rating=2&rating=5", "effort=8&rating=2", "nps=11&rating=4", "rating=4&comment=%00%01%1B%5B31m%E2%80%A8x",
		"rating=4&comment=%FF%FE", "rating=5&comment=" + strings.Repeat("a", 2001), "", "rating", "=&&=", "rating=%zz",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return // net/http refuses such bodies before the parser sees them
		}
		a, errs := parseAnswer(form)
		if len(errs) > 0 {
			for _, e := range errs {
				if e.Field == "" || e.Message == "" {
					t.Errorf("parseAnswer(%q) gave an empty field error %+v", body, e)
				}
			}
			return
		}
		if a.Rating < 1 || a.Rating > 5 {
			t.Errorf("parseAnswer(%q) accepted rating %d", body, a.Rating)
		}
		if a.Effort != nil && (*a.Effort < 1 || *a.Effort > 7) {
			t.Errorf("parseAnswer(%q) accepted effort %d", body, *a.Effort)
		}
		if a.NPS != nil && (*a.NPS < 0 || *a.NPS > 10) {
			t.Errorf("parseAnswer(%q) accepted NPS %d", body, *a.NPS)
		}
		if !utf8.ValidString(a.Comment) || utf8.RuneCountInString(a.Comment) > 2000 {
			t.Errorf("parseAnswer(%q) accepted a comment of %d runes, valid UTF-8 %v", body, utf8.RuneCountInString(a.Comment), utf8.ValidString(a.Comment))
		}
		for _, r := range a.Comment {
			if r != '\n' && r != '\t' && unicode.IsControl(r) {
				t.Errorf("parseAnswer(%q) kept control character %U in the comment", body, r)
			}
		}
		if err := a.Validate(); err != nil {
			t.Errorf("parseAnswer(%q) accepted an answer Validate refuses: %v", body, err)
		}
	})
}

func TestParseAnswer(t *testing.T) {
	tests := []struct {
		body   string
		rating int
		fields string
	}{
		{"rating=5&effort=2&nps=10&comment=Great", 5, ""},
		{"rating=3&effort=&nps=", 3, ""},
		{"", 0, "rating"},
		{"rating=6", 0, "rating"},
		{"rating=%2B3", 0, "rating"},
		{"rating=2&rating=2", 0, "rating"},
		{"rating=2&effort=0&nps=11", 2, "effort nps"},
		{"rating=4&comment=" + strings.Repeat("x", 2001), 4, "comment"},
	}
	for _, tt := range tests {
		form, _ := url.ParseQuery(tt.body)
		a, errs := parseAnswer(form)
		var fields []string
		for _, e := range errs {
			fields = append(fields, e.Field)
		}
		if got := strings.Join(fields, " "); got != tt.fields || (tt.fields == "" && a.Rating != tt.rating) {
			t.Errorf("parseAnswer(%q) = rating %d, errors %q; want %d, %q", tt.body, a.Rating, got, tt.rating, tt.fields)
		}
	}
	form, _ := url.ParseQuery("rating=4&comment=" + url.QueryEscape("line one\r\nline two\x00\x1b[0m"))
	if a, _ := parseAnswer(form); a.Comment != "line one\nline two[0m" {
		t.Errorf("comment = %q; want control characters dropped and CRLF as LF", a.Comment)
	}
}
