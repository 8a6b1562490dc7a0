package csvio

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"time"

	"github.com/rapport-crm/rapport"
)

// AuditColumns are the columns of the audit log as CSV; changes is the
// entry's changes as a JSON object.
var AuditColumns = []string{"id", "at", "actor", "token_id", "address", "action", "entity_type", "entity_id", "changes"}

// AuditWriter writes audit entries as CSV.
type AuditWriter struct{ w *csv.Writer }

// NewAuditWriter writes the header row.
func NewAuditWriter(w io.Writer) (*AuditWriter, error) {
	aw := &AuditWriter{w: csv.NewWriter(w)}
	return aw, aw.w.Write(AuditColumns)
}

// Write writes one entry.
func (aw *AuditWriter) Write(e *rapport.AuditEntry) error {
	changes, err := json.Marshal(e.Changes)
	if err != nil {
		return err
	}
	return aw.w.Write([]string{escape(e.ID), e.At.Format(time.RFC3339Nano), escape(e.Actor), escape(e.TokenID),
		escape(e.Address), escape(e.Action), escape(e.EntityType), escape(e.EntityID), escape(string(changes))})
}

// Flush sends what is buffered and reports any error writing.
func (aw *AuditWriter) Flush() error {
	aw.w.Flush()
	return aw.w.Error()
}
