package rapport

import (
	"context"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"time"
)

// AuditEntry is one change as the audit log keeps it: who made it, from
// where, when, and which fields of what it changed. The log holds no
// personal data: a field whose value could name or describe a person keeps
// its name and says Redacted for its values.
type AuditEntry struct {
	ID string    `json:"id"`
	At time.Time `json:"at"`
	// Actor is the user's id, "token:<id>" for a token of no user, "cli" for
	// the command line, or "system" for work that runs on a clock.
	Actor string `json:"actor"`
	// TokenID is the API token the change came with, if any.
	TokenID string `json:"token_id,omitempty"`
	// Address is the client's network address, or for the command line
	// "cli:" and the account that ran it.
	Address    string                 `json:"address,omitempty"`
	Action     string                 `json:"action"`
	EntityType string                 `json:"entity_type"`
	EntityID   string                 `json:"entity_id"`
	Changes    map[string]AuditChange `json:"changes"`
}

// AuditChange is one field's value before and after a change; nil is absent.
type AuditChange struct {
	Before any `json:"before"`
	After  any `json:"after"`
}

// Redacted stands for a value the audit log does not keep.
const Redacted = "[redacted]"

// Audit actions.
const (
	AuditCreate = "create"
	AuditUpdate = "update"
	AuditDelete = "delete"
	AuditRevoke = "revoke"
	AuditImport = "import"
	AuditErase  = "erase"
	// AuditLiftHold is an admin lifting the hold on an account that too
	// many wrong passwords had held.
	AuditLiftHold = "lift_sign_in_hold"
)

// Actors that are not a user or a token.
const (
	ActorSystem = "system"
	ActorCLI    = "cli"
)

// AuditFilter selects audit entries; empty fields select all.
type AuditFilter struct {
	Actor      string
	EntityType string
	EntityID   string
	Action     string
	From, To   time.Time // From inclusive, To exclusive; zero is open
	Limit      int
	Cursor     string
}

// DefaultAuditRetention is how long the audit log keeps an entry unless an
// admin says otherwise.
const DefaultAuditRetention = 365

// Bounds on the retention in days: at least a week, so a slip cannot empty
// the log, and at most ten years.
const (
	MinAuditRetention = 7
	MaxAuditRetention = 3650
)

// AuditSettings are the audit log's settings.
type AuditSettings struct {
	RetentionDays int `json:"retention_days"`
}

// Validate checks the settings.
func (s AuditSettings) Validate() error {
	v := validation{index: -1}
	if s.RetentionDays < MinAuditRetention || s.RetentionDays > MaxAuditRetention {
		v.add("retention_days", "must be between 7 and 3650 days")
	}
	return v.err("audit setting")
}

// AuditService reads the audit log. Entries are written by the services
// that make each change, in its transaction; nothing changes or removes
// them but the retention sweep.
type AuditService interface {
	// FindAudit lists entries, newest first.
	FindAudit(ctx context.Context, f AuditFilter) (Page[*AuditEntry], error)
	// ExportAudit calls each for every entry the filter selects, newest first.
	ExportAudit(ctx context.Context, f AuditFilter, each func(*AuditEntry) error) error
	AuditSettings(ctx context.Context) (*AuditSettings, error)
	SetAuditSettings(ctx context.Context, s AuditSettings) (*AuditSettings, error)
	// SweepAudit removes the entries older than the retention and says how many.
	SweepAudit(ctx context.Context) (int, error)
	// RecordAudit records a change that no stored entity holds, such as an
	// admin lifting a sign-in hold kept in a server's memory.
	RecordAudit(ctx context.Context, action, entityType, entityID string, changes map[string]AuditChange) error
}

// AuditActor says who acts in ctx and from where, for the audit log.
func AuditActor(ctx context.Context) (actor, tokenID, address string) {
	p := PrincipalFromContext(ctx)
	switch {
	case p == nil:
		return ActorSystem, "", ""
	case p.UserID != "":
		return p.UserID, p.TokenID, p.Address
	case p.TokenID != "":
		return "token:" + p.TokenID, p.TokenID, p.Address
	}
	return ActorCLI, "", p.Address
}

// CommandLinePrincipal is who acts when account runs a command of Rapport's
// on the server's machine: whoever can run it can open the database anyway.
func CommandLinePrincipal(account string) *Principal {
	return &Principal{Name: ActorCLI, Role: RoleAdmin, Address: "cli:" + account}
}

// AuditChanges returns the fields that differ between before and after
// (either may be nil, for a creation or a deletion), as their JSON forms
// name them, nested objects flattened with dots. Values of fields that
// could hold personal data or secrets are Redacted.
func AuditChanges(before, after any) map[string]AuditChange {
	b, a := flatJSON(before), flatJSON(after)
	out := map[string]AuditChange{}
	for k, bv := range b {
		if av, ok := a[k]; !ok || !reflect.DeepEqual(bv, av) {
			out[k] = AuditChange{Before: auditValue(k, bv), After: auditValue(k, a[k])}
		}
	}
	for k, av := range a {
		if _, ok := b[k]; !ok {
			out[k] = AuditChange{Before: nil, After: auditValue(k, av)}
		}
	}
	return out
}

// flatJSON is v's JSON object as path → value, leaving out empty values so
// that a creation lists only what was given.
func flatJSON(v any) map[string]any {
	out := map[string]any{}
	if v == nil || (reflect.ValueOf(v).Kind() == reflect.Pointer && reflect.ValueOf(v).IsNil()) {
		return out
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return out
	}
	var doc map[string]any
	if json.Unmarshal(raw, &doc) != nil {
		return out
	}
	flatten("", doc, out)
	return out
}

func flatten(prefix string, doc map[string]any, out map[string]any) {
	for k, v := range doc {
		switch v := v.(type) {
		case map[string]any:
			flatten(prefix+k+".", v, out)
		case nil, string, []any:
			if v != nil && v != "" && !(isList(v) && len(v.([]any)) == 0) {
				out[prefix+k] = v
			}
		default:
			out[prefix+k] = v
		}
	}
}

func isList(v any) bool { _, ok := v.([]any); return ok }

// auditValue is what the log keeps of one field's value: numbers, booleans
// and absence as they are; text and lists only for fields that hold codes,
// ids and times, never a name, an address or a note. Nested fields (a
// customer's attributes and preferences) are the firm's own notes on a
// person, and are never kept.
func auditValue(path string, v any) any {
	if v == nil {
		return nil
	}
	field := path[strings.LastIndex(path, ".")+1:]
	if isSecretField(field) || strings.Contains(path, ".") {
		return Redacted
	}
	switch v.(type) {
	case bool, float64:
		return v
	}
	if codeField(field) {
		return v
	}
	return Redacted
}

func isSecretField(field string) bool {
	return strings.Contains(field, "secret") || strings.Contains(field, "password") || strings.Contains(field, "hash")
}

// codeFields hold codes the firm chose, never a person's words.
var codeFields = map[string]bool{
	"id": true, "role": true, "stage": true, "kind": true, "kinds": true, "status": true,
	"channel": true, "channels": true, "phase": true, "outcome": true, "touchpoint": true,
	"response": true, "key": true, "action": true, "dissolution_reason": true,
	"segment": true, "source": true, "events": true, "queue": true, "product": true,
}

// personalIDFields are ids that name a person elsewhere (a customer's id
// in the firm's other systems): erasing the customer clears them, so the
// log never keeps them.
var personalIDFields = map[string]bool{"external_id": true}

func codeField(field string) bool {
	if personalIDFields[field] {
		return false
	}
	return codeFields[field] || strings.HasSuffix(field, "_id") || strings.HasSuffix(field, "_ids") ||
		strings.HasSuffix(field, "_at") || strings.HasSuffix(field, "_by")
}

// AuditFields lists the changed fields' names in order, for showing an entry.
func (e *AuditEntry) AuditFields() []string {
	out := make([]string, 0, len(e.Changes))
	for k := range e.Changes {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
