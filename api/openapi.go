package api

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"sort"
)

// The OpenAPI document is openapi.json, the core, plus one fragment per area
// of the API in openapi/*.json (paths, webhooks, components and tags only), so
// that each capability documents its routes beside its handlers. webhooks
// describes the requests Rapport sends, not routes it answers. TestOpenAPICoversRoutes
// keeps the merged document and routes.go in step.
//
//go:embed openapi.json openapi
var openAPIFiles embed.FS

// OpenAPI returns the merged OpenAPI document.
func OpenAPI() ([]byte, error) {
	core, err := openAPIFiles.ReadFile("openapi.json")
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(core, &doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	names, err := fs.Glob(openAPIFiles, "openapi/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	for _, name := range names {
		b, err := openAPIFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var frag map[string]any
		if err := json.Unmarshal(b, &frag); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if err := mergeFragment(doc, frag); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// mergeFragment adds a fragment's paths, webhooks, components and tags to
// doc; a name defined twice is an error rather than a silent overwrite.
func mergeFragment(doc, frag map[string]any) error {
	for key, val := range frag {
		switch key {
		case "paths", "webhooks":
			if err := mergeObject(doc, key, val); err != nil {
				return err
			}
		case "components":
			parts, _ := val.(map[string]any)
			comps, _ := doc["components"].(map[string]any)
			if comps == nil {
				comps = map[string]any{}
				doc["components"] = comps
			}
			for part, defs := range parts {
				if err := mergeObject(comps, part, defs); err != nil {
					return fmt.Errorf("components: %w", err)
				}
			}
		case "tags":
			tags, _ := doc["tags"].([]any)
			more, _ := val.([]any)
			doc["tags"] = append(tags, more...)
		default:
			return fmt.Errorf("a fragment may hold only paths, webhooks, components and tags, not %q", key)
		}
	}
	return nil
}

func mergeObject(parent map[string]any, key string, val any) error {
	add, ok := val.(map[string]any)
	if !ok {
		return fmt.Errorf("%s must be an object", key)
	}
	dst, _ := parent[key].(map[string]any)
	if dst == nil {
		dst = map[string]any{}
		parent[key] = dst
	}
	for name, def := range add {
		if _, dup := dst[name]; dup {
			return fmt.Errorf("%s %q is defined twice", key, name)
		}
		dst[name] = def
	}
	return nil
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(s.openAPI)
}
