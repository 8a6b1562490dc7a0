package api

import (
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// statusRecorder remembers the status a handler wrote, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// LogRequests logs one structured line per request: method, path, status and duration.
func LogRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", redactPath(r.URL.Path)),
			slog.Int("status", rec.status), slog.Duration("duration", time.Since(start)))
	})
}

// redactPath hides the secret in a survey link, so that logs never hold a
// token that would let their reader answer for the customer.
func redactPath(p string) string {
	if rest, ok := strings.CutPrefix(p, "/s/"); ok && rest != "" && !strings.HasPrefix(rest, "static/") {
		return "/s/…"
	}
	return p
}
