package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// progress shows an import's progress: a bar redrawn in place on a
// terminal, or a plain line every few seconds when the output is a file
// or a pipe.
type progress struct {
	w        io.Writer
	terminal bool
	last     time.Time
	drawn    bool
}

// plainEvery is how often a plain progress line is written.
const plainEvery = 5 * time.Second

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, last: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

func (p *progress) show(j *rapport.ImportJob) {
	if !p.terminal && time.Since(p.last) < plainEvery {
		return
	}
	p.last = time.Now()
	line := progressLine(j)
	if p.terminal {
		const width = 30
		done := 0
		if j.Size > 0 {
			done = int(int64(width) * j.BytesRead / j.Size)
		}
		fmt.Fprintf(p.w, "\r[%s%s] %s\x1b[K", strings.Repeat("#", done), strings.Repeat(" ", width-done), line)
		p.drawn = true
		return
	}
	fmt.Fprintln(p.w, line)
}

// progressLine says how far a job is: rows, rate and estimated finish.
func progressLine(j *rapport.ImportJob) string {
	pct := 0.0
	if j.Size > 0 {
		pct = 100 * float64(j.BytesRead) / float64(j.Size)
	}
	s := fmt.Sprintf("%s %3.0f%%: %d rows, %d stored, %d skipped, %d rejected, %.0f rows/s", j.Phase, pct, j.RowsRead, j.Stored, j.Skipped, j.Rejected, j.RowsPerSecond)
	if j.EstimatedFinish != nil {
		s += ", about " + time.Until(*j.EstimatedFinish).Round(time.Second).String() + " left"
	}
	return s
}

func (p *progress) end() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}
