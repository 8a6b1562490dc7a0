package api

import (
	_ "embed"
	"net/http"
)

// openAPI describes every route in routes.go; TestOpenAPICoversRoutes keeps
// the two in step.
//
//go:embed openapi.json
var openAPI []byte

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPI)
}
