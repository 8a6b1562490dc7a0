package rapport_test

import (
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
)

// TestImportJobMeasure: the rate counts only what this run read, and the
// rest of the file is expected to go at the rate its bytes went so far.
func TestImportJobMeasure(t *testing.T) {
	start := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	j := rapport.ImportJob{State: rapport.ImportRunning, Size: 1000, BytesRead: 600, RowsRead: 300, UpdatedAt: start.Add(10 * time.Second)}
	// Resumed at 100 bytes and 50 rows: 500 bytes and 250 rows in 10 s.
	j.Measure(start, j.RowsRead-50, j.BytesRead-100)
	if j.RowsPerSecond != 25 || j.EstimatedFinish == nil || !j.EstimatedFinish.Equal(start.Add(18*time.Second)) {
		t.Errorf("Measure = %v rows/s, finish %v; want 25 rows/s and 8 s after the last update", j.RowsPerSecond, j.EstimatedFinish)
	}
	j.State = rapport.ImportDone
	j.Measure(start, 250, 500)
	if j.RowsPerSecond != 0 || j.EstimatedFinish != nil {
		t.Errorf("an ended job measures %v rows/s, finish %v; want none", j.RowsPerSecond, j.EstimatedFinish)
	}
	j = rapport.ImportJob{State: rapport.ImportRunning, Size: 1000, UpdatedAt: start}
	if j.Measure(start, 0, 0); j.EstimatedFinish != nil {
		t.Errorf("a job that has read nothing has a finish %v; want none", j.EstimatedFinish)
	}
}
