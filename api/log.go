package api

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
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

// LogRequests logs one structured line per request: method, path, status,
// duration and, when the request was signed in, who made it (the user's
// id, the token's id; never a secret).
func LogRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		ctx, principal := rapport.NewContextNotingPrincipal(r.Context())
		next.ServeHTTP(rec, r.WithContext(ctx))
		attrs := []slog.Attr{slog.String("method", r.Method), slog.String("path", redactPath(r.URL.Path)),
			slog.Int("status", rec.status), slog.Duration("duration", time.Since(start))}
		if p := principal(); p != nil {
			if p.UserID != "" {
				attrs = append(attrs, slog.String("user_id", p.UserID))
			}
			if p.TokenID != "" {
				attrs = append(attrs, slog.String("token_id", p.TokenID))
			}
		}
		log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
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
