package rapport

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestAuditChanges(t *testing.T) {
	type doc = map[string]any
	tests := []struct {
		name          string
		before, after any
		want          map[string]AuditChange
	}{
		{"create lists what was given", nil, doc{"name": "Ada", "role": "agent", "team": "", "score": 3.0},
			map[string]AuditChange{"name": {nil, Redacted}, "role": {nil, "agent"}, "score": {nil, 3.0}}},
		{"update lists only what changed", doc{"name": "Ada", "stage": "awareness", "owner_id": "U1"}, doc{"name": "Ada", "stage": "commitment", "owner_id": "U2"},
			map[string]AuditChange{"stage": {"awareness", "commitment"}, "owner_id": {"U1", "U2"}}},
		{"nested values are the customer's own", doc{"attributes": doc{"segment": "gold", "age": 40.0}}, doc{"attributes": doc{"segment": "silver", "age": 41.0}},
			map[string]AuditChange{"attributes.segment": {Redacted, Redacted}, "attributes.age": {Redacted, Redacted}}},
		{"secrets are never kept", nil, doc{"secret": "whsec_x", "password_hash": "h", "signing_secret_id": "x"},
			map[string]AuditChange{"secret": {nil, Redacted}, "password_hash": {nil, Redacted}, "signing_secret_id": {nil, Redacted}}},
		{"delete", doc{"email": "a@b.example", "kind": "person"}, nil,
			map[string]AuditChange{"email": {Redacted, nil}, "kind": {"person", nil}}},
		{"nothing changed", doc{"name": "Ada"}, doc{"name": "Ada"}, map[string]AuditChange{}},
	}
	for _, tt := range tests {
		got, _ := json.Marshal(AuditChanges(tt.before, tt.after))
		want, _ := json.Marshal(tt.want)
		if string(got) != string(want) {
			t.Errorf("%s: AuditChanges = %s; want %s", tt.name, got, want)
		}
	}
}

// FuzzAuditChanges: whatever two documents hold, the changes never keep a
// text that is not a code, id or time at the top level, never keep a
// secret's field, and name every field that differs.
func FuzzAuditChanges(f *testing.F) {
	f.Add(`{"name":"Ada","email":"a@b.example"}`, `{"name":"Bo","attributes":{"role":"x"}}`)
	f.Add(`{"role":"agent","secret":"s"}`, `{"role":"admin","notes":["a","b"]}`)
	f.Add(`{}`, `{"kinds":["a"],"owner_id":"U1","x.y":"z"}`)
	f.Fuzz(func(t *testing.T, before, after string) {
		var b, a map[string]any
		if json.Unmarshal([]byte(before), &b) != nil || json.Unmarshal([]byte(after), &a) != nil {
			return
		}
		changes := AuditChanges(b, a)
		for path, c := range changes {
			for _, v := range []any{c.Before, c.After} {
				if v == nil || v == Redacted {
					continue
				}
				field := path[strings.LastIndex(path, ".")+1:]
				if isSecretField(field) || strings.Contains(path, ".") {
					t.Fatalf("%s keeps %v; want it redacted", path, v)
				}
				switch v.(type) {
				case bool, float64:
				default:
					if !codeField(field) {
						t.Fatalf("%s keeps the text %v; want it redacted", path, v)
					}
				}
			}
		}
		flatB, flatA := flatJSON(b), flatJSON(a)
		for k, v := range flatA {
			if w, ok := flatB[k]; !ok || string(mustJSON(v)) != string(mustJSON(w)) {
				if _, ok := changes[k]; !ok {
					t.Fatalf("%s changed from %v to %v but is not listed", k, w, v)
				}
			}
		}
	})
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
