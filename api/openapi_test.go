package api

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
)

// httpMethods are the keys of an OpenAPI path item that are operations.
var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// loadOpenAPI parses the embedded document.
func loadOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(mustOpenAPI(t), &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	return doc
}

// operations returns the document's operations keyed by "METHOD /path".
func operations(t *testing.T, doc map[string]any) map[string]map[string]any {
	t.Helper()
	paths, ok := doc["paths"].(map[string]any)
	if !ok {
		t.Fatal("openapi.json has no paths object")
	}
	ops := map[string]map[string]any{}
	for path, v := range paths {
		item, ok := v.(map[string]any)
		if !ok {
			t.Errorf("path %s is not an object", path)
			continue
		}
		for _, m := range httpMethods {
			if op, ok := item[m].(map[string]any); ok {
				ops[strings.ToUpper(m)+" "+path] = op
			}
		}
	}
	return ops
}

// openAPIPath turns a net/http pattern into an OpenAPI path: {name...} is
// {name}, and {$} (the exact-match marker) disappears.
func openAPIPath(pattern string) string {
	pattern = strings.TrimSuffix(pattern, "{$}")
	return regexp.MustCompile(`\{([A-Za-z0-9_]+)\.\.\.\}`).ReplaceAllString(pattern, "{$1}")
}

func TestOpenAPICoversRoutes(t *testing.T) {
	s := NewServer(rapport.Services{}, Options{})
	if len(s.routes) == 0 {
		t.Fatal("the server has no routes")
	}
	ops := operations(t, loadOpenAPI(t))
	routes := map[string]bool{}
	for _, rt := range s.routes {
		key := rt.method + " " + openAPIPath(rt.pattern)
		if routes[key] {
			t.Errorf("route %s is in the route table twice", key)
		}
		routes[key] = true
		if _, ok := ops[key]; !ok {
			t.Errorf("route %s is not documented in api/openapi.json", key)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(ops)) {
		if !routes[key] {
			t.Errorf("api/openapi.json documents %s, which is not a route in routes.go", key)
		}
	}
}

// TestOpenAPIRolesMatchRoutes checks that what the document says about
// authentication and roles is what the route table enforces.
func TestOpenAPIRolesMatchRoutes(t *testing.T) {
	s := NewServer(rapport.Services{}, Options{})
	ops := operations(t, loadOpenAPI(t))
	for _, rt := range s.routes {
		key := rt.method + " " + openAPIPath(rt.pattern)
		op, ok := ops[key]
		if !ok {
			continue // TestOpenAPICoversRoutes reports it
		}
		responses, _ := op["responses"].(map[string]any)
		security, hasSecurity := op["security"].([]any)
		if rt.public {
			if !hasSecurity || len(security) != 0 {
				t.Errorf("%s needs no token, so its operation must say \"security\": []", key)
			}
			if _, ok := op["x-rapport-roles"]; ok {
				t.Errorf("%s needs no token, so its operation must not list x-rapport-roles", key)
			}
			continue
		}
		if hasSecurity && len(security) == 0 {
			t.Errorf("%s needs a token, but its operation says \"security\": []", key)
		}
		if _, ok := responses["401"]; !ok {
			t.Errorf("%s needs a token, but its operation does not document 401", key)
		}
		var want []string
		for _, r := range rapport.Roles {
			if r.Can(rt.perm) {
				want = append(want, string(r))
			}
		}
		var got []string
		if list, ok := op["x-rapport-roles"].([]any); ok {
			for _, r := range list {
				s, _ := r.(string)
				got = append(got, s)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: x-rapport-roles = %v; want %v, the roles allowed by its permission", key, got, want)
		}
		if _, ok := responses["403"]; !ok && len(want) < len(rapport.Roles) {
			t.Errorf("%s is refused to some roles, but its operation does not document 403", key)
		}
		if _, ok := responses["403"]; ok && len(want) == len(rapport.Roles) {
			t.Errorf("%s is allowed to every role, but its operation documents 403", key)
		}
		description, _ := op["description"].(string)
		for _, r := range rapport.Roles {
			if slices.Contains(want, string(r)) && !strings.Contains(description, string(r)) {
				t.Errorf("%s: the description does not name the %s role, which may call it", key, r)
			}
		}
	}
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc := loadOpenAPI(t)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Errorf("openapi = %q; want 3.x", v)
	}
	info, _ := doc["info"].(map[string]any)
	for _, field := range []string{"title", "version"} {
		if v, _ := info[field].(string); v == "" {
			t.Errorf("info.%s is missing", field)
		}
	}

	tags := map[string]bool{}
	for _, v := range asSlice(doc["tags"]) {
		tag, _ := v.(map[string]any)
		name, _ := tag["name"].(string)
		tags[name] = true
	}
	components, _ := doc["components"].(map[string]any)
	schemes, _ := components["securitySchemes"].(map[string]any)
	checkSecurity := func(where string, v any) {
		for _, req := range asSlice(v) {
			req, _ := req.(map[string]any)
			for name := range req {
				if _, ok := schemes[name]; !ok {
					t.Errorf("%s: security scheme %q is not in components.securitySchemes", where, name)
				}
			}
		}
	}
	checkSecurity("security", doc["security"])

	ops := operations(t, doc)
	ids := map[string]string{}
	for _, key := range slices.Sorted(maps.Keys(ops)) {
		op := ops[key]
		id, _ := op["operationId"].(string)
		switch {
		case id == "":
			t.Errorf("%s has no operationId", key)
		case ids[id] != "":
			t.Errorf("%s and %s share the operationId %q", ids[id], key, id)
		default:
			ids[id] = key
		}
		if s, _ := op["summary"].(string); s == "" {
			t.Errorf("%s has no summary", key)
		}
		if s, _ := op["description"].(string); s == "" {
			t.Errorf("%s has no description", key)
		}
		opTags := asSlice(op["tags"])
		if len(opTags) == 0 {
			t.Errorf("%s has no tag", key)
		}
		for _, tag := range opTags {
			if name, _ := tag.(string); !tags[name] {
				t.Errorf("%s: tag %v is not declared in the document's tags", key, tag)
			}
		}
		responses, _ := op["responses"].(map[string]any)
		if len(responses) == 0 {
			t.Errorf("%s has no responses", key)
		}
		success := false
		for code := range responses {
			n, err := strconv.Atoi(code)
			if err != nil || n < 100 || n > 599 {
				t.Errorf("%s: response %q is not an HTTP status", key, code)
			}
			success = success || n >= 200 && n < 300
		}
		if !success {
			t.Errorf("%s documents no 2xx response", key)
		}
		checkSecurity(key, op["security"])
	}

	// Every $ref must point at something in this document's components.
	var refs []string
	collectRefs(doc, "#", &refs)
	if len(refs) == 0 {
		t.Error("the document uses no $ref; shared schemas belong in components")
	}
	for _, ref := range refs {
		at, target, _ := strings.Cut(ref, " -> ")
		if !strings.HasPrefix(target, "#/components/") {
			t.Errorf("%s: $ref %q does not point into #/components/", at, target)
			continue
		}
		if _, ok := resolvePointer(doc, target); !ok {
			t.Errorf("%s: $ref %q points at nothing", at, target)
		}
	}
}

// TestOpenAPIServed checks that the handler serves the embedded document as JSON.
func TestOpenAPIServed(t *testing.T) {
	s := NewServer(rapport.Services{}, Options{})
	w := httptest.NewRecorder()
	s.handleOpenAPI(w, httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil))
	if w.Code != http.StatusOK {
		t.Errorf("status = %d; want 200", w.Code)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q; want application/json", ct)
	}
	if w.Body.String() != string(mustOpenAPI(t)) {
		t.Error("the body is not the merged OpenAPI document")
	}
}

// collectRefs appends "location -> target" for every $ref under v.
func collectRefs(v any, at string, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "$ref" {
				*out = append(*out, at+" -> "+s)
				continue
			}
			collectRefs(x, at+"/"+escapePointer(k), out)
		}
	case []any:
		for i, x := range v {
			collectRefs(x, at+"/"+strconv.Itoa(i), out)
		}
	}
}

// resolvePointer follows a local JSON pointer such as #/components/schemas/Customer.
func resolvePointer(doc any, ref string) (any, bool) {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, false
	}
	cur := doc
	for _, part := range strings.Split(rest, "/") {
		part = strings.NewReplacer("~1", "/", "~0", "~").Replace(part)
		switch c := cur.(type) {
		case map[string]any:
			if cur, ok = c[part]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

func escapePointer(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func mustOpenAPI(t *testing.T) []byte {
	t.Helper()
	doc, err := OpenAPI()
	if err != nil {
		t.Fatalf("OpenAPI() = %v", err)
	}
	return doc
}
