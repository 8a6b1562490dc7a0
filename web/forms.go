package web

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/rapport-crm/rapport"
)

// form is a posted (or about to be shown) form: what was typed, so nothing
// is lost when the form comes back, and the errors to show beside each field.
type form struct {
	Values url.Values
	Errors map[string]string
	// Message is an error about the form as a whole.
	Message string
}

func newForm(v url.Values) *form {
	if v == nil {
		v = url.Values{}
	}
	return &form{Values: v, Errors: map[string]string{}}
}

// Get returns a field's value, trimmed.
func (f *form) Get(name string) string { return strings.TrimSpace(f.Values.Get(name)) }

// Has reports whether a field (a checkbox, radio or select) has the value.
func (f *form) Has(name, value string) bool {
	for _, v := range f.Values[name] {
		if v == value {
			return true
		}
	}
	return false
}

// Err returns the error to show beside a field, or "".
func (f *form) Err(name string) string { return f.Errors[name] }

// Invalid reports whether the form has any error.
func (f *form) Invalid() bool { return len(f.Errors) > 0 || f.Message != "" }

// fail records an error about one field; the first error a field gets is
// the one shown.
func (f *form) fail(name, msg string) {
	if _, ok := f.Errors[name]; !ok {
		f.Errors[name] = msg
	}
}

// fromError puts an application error on the form: each field error beside
// its field (renamed by fields, where the form's names differ from the
// domain's), the rest as the form's message. It reports whether err was one
// the user can fix; other errors are for the caller to handle.
func (f *form) fromError(err error, fields map[string]string) bool {
	switch rapport.ErrorCode(err) {
	case rapport.EINVALID, rapport.ECONFLICT:
	default:
		return false
	}
	fe := rapport.ErrorFields(err)
	for _, e := range fe {
		name := e.Field
		if n, ok := fields[name]; ok {
			name = n
		}
		if _, shown := f.Values[name]; shown || fields[e.Field] != "" {
			f.fail(name, sentence(e.Message))
		} else {
			f.Message = rapport.ErrorMessage(err) + " " + e.Field + ": " + e.Message
		}
	}
	if len(fe) == 0 {
		f.Message = rapport.ErrorMessage(err)
	}
	return true
}

// sentence turns a field message such as "is required" into one that stands
// on its own beside the field: "This is required."
func sentence(msg string) string {
	switch {
	case msg == "":
		return ""
	case strings.HasPrefix(msg, "is ") || strings.HasPrefix(msg, "must "):
		msg = "This " + msg
	default:
		msg = strings.ToUpper(msg[:1]) + msg[1:]
	}
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

// optionalInt reads a whole number that may be left empty.
func (f *form) optionalInt(name string) *int {
	s := f.Get(name)
	if s == "" {
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		f.fail(name, "Enter a whole number.")
		return nil
	}
	return &n
}

// optionalFloat reads a number that may be left empty (as 0).
func (f *form) optionalFloat(name string) float64 {
	s := f.Get(name)
	if s == "" {
		return 0
	}
	x, err := strconv.ParseFloat(strings.ReplaceAll(s, ",", ""), 64)
	if err != nil {
		f.fail(name, "Enter a number, such as 12.50.")
		return 0
	}
	return x
}

// lines splits a textarea into its non-blank lines.
func lines(s string) []string {
	out := []string{}
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
