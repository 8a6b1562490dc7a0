package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/rapport-crm/rapport"
)

// Body size limits: one record is small; a batch may carry up to maxBatch moments.
const (
	maxBodyBytes  = 1 << 20
	maxBatchBytes = 8 << 20
	maxBatch      = 1000
)

// encode writes v as JSON with the given status.
func encode(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// decode reads exactly one JSON value into v, refusing unknown fields, bodies
// over limit bytes and trailing data, so that a typo in a field name is an
// error rather than silently ignored.
func decode(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return rapport.Errorf(rapport.EMALFORMED, "The body must be JSON, sent with Content-Type: application/json.")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			return rapport.Errorf(rapport.EMALFORMED, "The body must hold a single JSON value.")
		}
		return checkBodyText(v)
	}
	var (
		tooLarge  *http.MaxBytesError
		syntax    *json.SyntaxError
		typeError *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooLarge):
		return rapport.Errorf(rapport.ETOOLARGE, "The body is larger than %d bytes.", limit)
	case errors.Is(err, io.EOF):
		return rapport.Errorf(rapport.EMALFORMED, "The body is empty; send a JSON object.")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return rapport.Errorf(rapport.EMALFORMED, "The body is not valid JSON: %v.", err)
	case errors.As(err, &typeError):
		field := typeError.Field
		if field == "" {
			field = "body"
		}
		return &rapport.Error{Code: rapport.EINVALID, Message: "The request is not valid.",
			Fields: []rapport.FieldError{{Field: field, Message: "must be " + describeType(typeError.Type.String())}}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &rapport.Error{Code: rapport.EINVALID, Message: "The request has a field Rapport does not know.",
			Fields: []rapport.FieldError{{Field: name, Message: "is not a known field"}}}
	}
	return rapport.Errorf(rapport.EMALFORMED, "The body could not be read: %v.", err)
}

func describeType(t string) string {
	switch {
	case strings.Contains(t, "int"):
		return "a whole number"
	case strings.Contains(t, "float"):
		return "a number"
	case t == "string", strings.HasSuffix(t, "Channel"), strings.HasSuffix(t, "Outcome"), strings.HasSuffix(t, "Role"):
		return "a string"
	case strings.HasPrefix(t, "map"), strings.HasPrefix(t, "struct"):
		return "an object"
	case strings.HasPrefix(t, "[]"):
		return "an array"
	case t == "bool":
		return "true or false"
	case t == "time.Time":
		return "an RFC 3339 time such as 2026-03-01T14:30:00Z"
	}
	return fmt.Sprintf("of type %s", t)
}

// problem is an RFC 9457 problem detail.
type problem struct {
	Type   string               `json:"type"`
	Title  string               `json:"title"`
	Status int                  `json:"status"`
	Detail string               `json:"detail"`
	Errors []rapport.FieldError `json:"errors,omitempty"`
}

// statuses maps each application error code to its HTTP status: the one place
// where domain errors become HTTP.
var statuses = map[string]int{
	rapport.EINVALID:      http.StatusUnprocessableEntity,
	rapport.EMALFORMED:    http.StatusBadRequest,
	rapport.ENOTFOUND:     http.StatusNotFound,
	rapport.ECONFLICT:     http.StatusConflict,
	rapport.EUNAUTHORIZED: http.StatusUnauthorized,
	rapport.EFORBIDDEN:    http.StatusForbidden,
	rapport.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	rapport.EMEDIATYPE:    http.StatusUnsupportedMediaType,
	rapport.EMETHOD:       http.StatusMethodNotAllowed,
	rapport.ETOOMANY:      http.StatusTooManyRequests,
	rapport.EINTERNAL:     http.StatusInternalServerError,
}

// writeError answers with a problem+json body. Internal errors are logged with
// their detail and shown to the client only as "Internal error."
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	code := rapport.ErrorCode(err)
	status, ok := statuses[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status == http.StatusInternalServerError {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="rapport"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problem{
		Type:   "urn:rapport:problem:" + code,
		Title:  http.StatusText(status),
		Status: status,
		Detail: rapport.ErrorMessage(err),
		Errors: rapport.ErrorFields(err),
	})
}

// boolParams reads query parameters that are true or false (or absent, for
// false) into their destinations; any other value is an invalid query.
func boolParams(r *http.Request, params map[string]*bool) error {
	var fields []rapport.FieldError
	q := r.URL.Query()
	for name, dst := range params {
		switch q.Get(name) {
		case "", "false":
		case "true":
			*dst = true
		default:
			fields = append(fields, rapport.FieldError{Field: name, Message: "must be true or false"})
		}
	}
	if len(fields) > 0 {
		slices.SortFunc(fields, func(a, b rapport.FieldError) int { return strings.Compare(a.Field, b.Field) })
		return &rapport.Error{Code: rapport.EINVALID, Message: "The query is not valid.", Fields: fields}
	}
	return nil
}
