package api

import (
	"cmp"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// checkAddress refuses a request whose path or query holds bad text.
func checkAddress(r *http.Request) error {
	if !rapport.StorableText(r.URL.Path) || !rapport.StorableValues(r.URL.Query()) {
		return rapport.Errorf(rapport.EMALFORMED, "The address holds a NUL character or text that is not UTF-8.")
	}
	return nil
}

// checkBodyText refuses a decoded body holding a NUL character in any
// string or object key, naming the field. (The JSON decoder has already
// replaced bytes that are not UTF-8.)
func checkBodyText(v any) error {
	if field := nulField(reflect.ValueOf(v), ""); field != "" {
		return &rapport.Error{Code: rapport.EINVALID, Message: "The request is not valid.",
			Fields: []rapport.FieldError{{Field: field, Message: "must not hold a NUL character (\\u0000)"}}}
	}
	return nil
}

// nulField returns the path of the first string under v holding a NUL, or "".
func nulField(v reflect.Value, path string) string {
	name := func(field string) string {
		if path == "" {
			return field
		}
		return path + "." + field
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return nulField(v.Elem(), path)
		}
	case reflect.String:
		if strings.IndexByte(v.String(), 0) >= 0 {
			return cmp.Or(path, "body")
		}
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if tag == "-" {
				continue
			}
			if tag == "" {
				tag = f.Name
			}
			if p := nulField(v.Field(i), name(tag)); p != "" {
				return p
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if p := nulField(v.Index(i), path); p != "" {
				return p
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if k := it.Key(); k.Kind() == reflect.String && strings.IndexByte(k.String(), 0) >= 0 {
				return cmp.Or(path, "body")
			}
			if p := nulField(it.Value(), name(it.Key().String())); p != "" {
				return p
			}
		}
	}
	return ""
}

// Dates a query may name: anything outside is a mistake (year 1 read as
// "no filter", year 9999 past what a window can reach).
const minQueryYear, maxQueryYear = 1900, 2999

// queryTime reads a time from a query: RFC 3339, or a date. A "+" in a query
// string arrives as a space when the client did not escape it. It returns
// what is wrong with v, or "".
func queryTime(v string) (time.Time, string) {
	v = strings.ReplaceAll(v, " ", "+")
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		t, err = time.Parse(time.DateOnly, v)
	}
	switch {
	case err != nil:
		return time.Time{}, "must be a date such as 2026-03-01 or an RFC 3339 time"
	case t.Year() < minQueryYear || t.Year() > maxQueryYear:
		return time.Time{}, "must be a date between the years 1900 and 2999"
	}
	return t, ""
}

// queryWindow reads the query's from and to into from and to, with a field
// error for each that is not a time.
func queryWindow(q url.Values, from, to *time.Time) []rapport.FieldError {
	var fields []rapport.FieldError
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", from}, {"to", to}} {
		if v := q.Get(p.name); v != "" {
			t, problem := queryTime(v)
			if problem != "" {
				fields = append(fields, rapport.FieldError{Field: p.name, Message: problem})
			}
			*p.dst = t
		}
	}
	return fields
}
