package api

import "github.com/rapport-crm/rapport"

// RouteRule is one route of the table: its method, pattern, and whether it
// needs no token.
type RouteRule struct {
	Method, Pattern string
	Public          bool
}

// RouteRules lists every route the server answers, from its route table.
func RouteRules() []RouteRule {
	s := NewServer(rapport.Services{}, Options{})
	out := make([]RouteRule, len(s.routes))
	for i, rt := range s.routes {
		out[i] = RouteRule{rt.method, rt.pattern, rt.public}
	}
	return out
}
