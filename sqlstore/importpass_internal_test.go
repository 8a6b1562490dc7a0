package sqlstore

import (
	"testing"
	"time"
)

// TestNextChunkSize: chunks double while quick, halve when slow, hold
// between, and stay within their bounds.
func TestNextChunkSize(t *testing.T) {
	for _, c := range []struct {
		size int
		took time.Duration
		want int
	}{
		{1000, 100 * time.Millisecond, 2000},
		{12_000, 100 * time.Millisecond, maxChunkRows},
		{4000, 400 * time.Millisecond, 4000},
		{4000, 900 * time.Millisecond, 2000},
		{1000, 5 * time.Second, minChunkRows},
	} {
		if got := nextChunkSize(c.size, c.took); got != c.want {
			t.Errorf("nextChunkSize(%d, %v) = %d; want %d", c.size, c.took, got, c.want)
		}
	}
}
