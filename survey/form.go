package survey

import (
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/rapport-crm/rapport"
)

// formFields are the fields the survey form sends; anything else is ignored.
const (
	fieldNonce   = "nonce"
	fieldRating  = "rating"
	fieldEffort  = "effort"
	fieldNPS     = "nps"
	fieldComment = "comment"
	fieldReason  = "reason"
)

// parseAnswer reads a posted survey form. It accepts only what the page
// offers: one value per field, whole numbers written plainly, a comment of
// at most rapport.MaxSurveyComment characters. Control characters other
// than line breaks and tabs are dropped from the comment, and invalid UTF-8
// is replaced, so what lands in the moment's notes is clean text. The
// ranges themselves are the domain's to check (SurveyAnswer.Validate).
func parseAnswer(form url.Values) (rapport.SurveyAnswer, []rapport.FieldError) {
	var a rapport.SurveyAnswer
	var fields []rapport.FieldError
	bad := func(field, msg string) {
		fields = append(fields, rapport.FieldError{Field: field, Message: msg})
	}
	one := func(name string) (string, bool) {
		vs := form[name]
		switch len(vs) {
		case 0:
			return "", true
		case 1:
			return strings.TrimSpace(vs[0]), true
		}
		bad(name, "was sent more than once")
		return "", false
	}
	number := func(name string, required bool, msg string) *int {
		v, ok := one(name)
		if !ok {
			return nil
		}
		if v == "" {
			if required {
				bad(name, msg)
			}
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || len(v) > 2 || v[0] == '+' || v[0] == '-' {
			bad(name, msg)
			return nil
		}
		return &n
	}
	if r := number(fieldRating, true, "choose a rating from 1 to 5"); r != nil {
		a.Rating = *r
	}
	a.Effort = number(fieldEffort, false, "choose from 1 to 7, or leave it out")
	a.NPS = number(fieldNPS, false, "choose from 0 to 10, or leave it out")
	if c, ok := one(fieldComment); ok {
		a.Comment = cleanText(c)
	}
	if c, ok := one(fieldReason); ok {
		a.Reason = cleanText(c)
	}
	if len(fields) > 0 {
		return a, fields
	}
	if err := a.Validate(); err != nil {
		return a, rapport.ErrorFields(err)
	}
	return a, nil
}

// cleanText replaces invalid UTF-8 and drops control characters except
// line breaks and tabs; "\r\n" from a textarea becomes "\n".
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return -1
		}
		return r
	}, s)
}
