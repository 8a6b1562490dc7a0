package rapport

import (
	"encoding/json"
	"strings"
)

// FormatAttribute writes an attribute value as one line of text that
// ParseAttribute reads back as the same value: text as it is unless it would
// read as something else, anything else as JSON. The web UI's attribute
// editor and CSV files both write values this way, so a value typed in one
// reads the same in the other.
func FormatAttribute(v any) string {
	if s, ok := v.(string); ok {
		if v, isText := ParseAttribute(s).(string); isText && v == s && !strings.ContainsAny(s, "\r\n") {
			return s
		}
		b, _ := json.Marshal(s)
		return string(b)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// ParseAttribute reads one attribute value: a number, true, false, a quoted
// string, an object or a list as JSON; anything else as plain text.
func ParseAttribute(s string) any {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	switch c := s[0]; {
	case c == '"' || c == '{' || c == '[' || c == '-' || (c >= '0' && c <= '9') || s == "true" || s == "false":
		var v any
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		if err := d.Decode(&v); err == nil && !d.More() {
			if n, ok := v.(json.Number); ok {
				if i, err := n.Int64(); err == nil {
					return float64(i)
				}
				f, _ := n.Float64()
				return f
			}
			return v
		}
	}
	return s
}
