package rapport

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Application error codes. The HTTP layer maps each to one status.
const (
	EINVALID      = "invalid"   // the input breaks a rule; Fields says where
	EMALFORMED    = "malformed" // the input cannot be read at all
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ETOOLARGE     = "too_large"
	EMEDIATYPE    = "unsupported_media_type" // the body is not in a format this request takes
	EMETHOD       = "method_not_allowed"
	ETOOMANY      = "too_many_requests" // too many failed attempts: wait and try again
	EINTERNAL     = "internal"
)

// FieldError names one field of the input that is wrong and why.
type FieldError struct {
	// Index is the item's position in a batch; nil outside a batch.
	Index   *int   `json:"index,omitempty"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the application's error: a code, a message safe to show a user,
// and for validation, the fields at fault.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("rapport: %s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("rapport: %s: %s (%d field errors, first %s: %s)",
		e.Code, e.Message, len(e.Fields), e.Fields[0].Field, e.Fields[0].Message)
}

// Errorf returns an application error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of an application error, EINTERNAL for any other error,
// and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of an application error; any other error
// gets a generic message so internal details never reach a user.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorFields returns the field errors of an application error.
func ErrorFields(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// validation collects field errors so that every problem is reported at once.
type validation struct {
	index  int // -1 outside a batch
	fields []FieldError
}

func (v *validation) add(field, format string, args ...any) {
	v.fields = append(v.fields, NewFieldError(v.index, field, format, args...))
}

// NewFieldError returns a field error; index is the item's place in a batch, or -1.
func NewFieldError(index int, field, format string, args ...any) FieldError {
	f := FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
	if index >= 0 {
		f.Index = &index
	}
	return f
}

func (v *validation) err(what string) error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "The " + what + " is not valid.", Fields: v.fields}
}

// StorableText reports whether s can be stored and compared alike on every
// database: PostgreSQL refuses a NUL character and bytes that are not UTF-8,
// which SQLite would store, so both are refused at the door.
func StorableText(s string) bool {
	return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s)
}

// StorableValues reports whether every key and value of a query or form is
// StorableText.
func StorableValues(values map[string][]string) bool {
	for k, vs := range values {
		if !StorableText(k) {
			return false
		}
		for _, v := range vs {
			if !StorableText(v) {
				return false
			}
		}
	}
	return true
}
