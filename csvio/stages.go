package csvio

import (
	"io"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// StageChangeColumns are the columns of a stage-changes file. A file needs
// customer_id or customer_external_id, stage, reason and changed_at;
// dissolution_reason is required for dissolution, as when a person sets it.
var StageChangeColumns = []string{"customer_id", "customer_external_id", "stage", "reason", "dissolution_reason", "changed_at"}

// ReadStageChanges reads a file of customers' past stage changes as
// ReadMoments reads moments.
func ReadStageChanges(r io.Reader) (*rapport.StageChangeFile, error) {
	t, err := readHeader(r, StageChangeColumns, false, [][]string{
		{"customer_id", "customer_external_id"}, {"stage"}, {"reason"}, {"changed_at"},
	}, wholeFile(time.Time{}))
	if err != nil {
		return nil, err
	}
	// Stage changes have no ids: the same change twice is skipped when stored.
	rows, err := readRows(t, t.stageChange, func(rapport.StageChangeRow) (string, string) { return "", "" })
	if err != nil {
		return nil, err
	}
	return &rapport.StageChangeFile{Rows: rows, Problems: t.problems}, nil
}

// stageChange reads the current row as a stage change.
func (t *table) stageChange() rapport.StageChangeRow {
	row := rapport.StageChangeRow{Row: t.row, CustomerID: t.get("customer_id"), CustomerExternalID: t.get("customer_external_id")}
	in := &row.Change
	in.Stage = rapport.Stage(strings.ToLower(t.get("stage")))
	in.Reason = t.get("reason")
	in.DissolutionReason = strings.ToLower(t.get("dissolution_reason"))
	if row.CustomerID == "" && row.CustomerExternalID == "" {
		t.fail("customer_id", "is required, or customer_external_id")
	}
	if s := t.get("changed_at"); s == "" {
		t.fail("changed_at", "is required: when the change happened")
	} else if at, err := ParseTime(s); err != nil {
		t.fail("changed_at", "%v", err)
	} else {
		in.ChangedAt = &at
	}
	t.addDomain(rapport.ErrorFields(in.Validate()), nil)
	return row
}
