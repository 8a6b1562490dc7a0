// Package importgen writes moments files of any size for measuring and
// testing imports, with bad rows planted where the caller can find them.
package importgen

import (
	"bufio"
	"fmt"
	"io"
	"time"
)

// Header is the header of the files Moments writes.
const Header = "external_id,customer_external_id,touchpoint,channel,occurred_at,rating,notes\n"

// Planted kinds of bad row, in the order Moments plants them.
var Planted = []string{"rating", "customer", "quoting", "utf8", "touchpoint"}

// File says what file to write.
type File struct {
	Rows int
	// Customers are external ids of stored customers; rows name them in turn.
	Customers []string
	// BadEvery plants a bad row every BadEvery rows (0: none), cycling
	// through Planted: a rating out of range, an unknown customer, a bare
	// quote that is not valid CSV, a note that is not UTF-8, an unknown
	// touchpoint.
	BadEvery int
	// NoExternalIDs leaves the external id column empty.
	NoExternalIDs bool
	// Start is the time of the first moment; each is a minute after the last.
	Start time.Time
}

// Moments writes the file to w and returns the lines of the rows it
// planted as bad (the header is line 1).
func Moments(w io.Writer, f File) ([]int, error) {
	out := bufio.NewWriterSize(w, 64<<10)
	out.WriteString(Header)
	touchpoints := []string{"greeting", "query", "complaint", "purchase", "delivery"}
	channels := []string{"phone", "email", "chat", "web", "in_person"}
	var planted []int
	for i := range f.Rows {
		ext := fmt.Sprintf("gen-%d", i)
		if f.NoExternalIDs {
			ext = ""
		}
		customer, rating, notes, touchpoint := f.Customers[i%len(f.Customers)], fmt.Sprint(1+i%5), "as it came", touchpoints[i%len(touchpoints)]
		at := f.Start.Add(time.Duration(i) * time.Minute).UTC().Format(time.RFC3339)
		if f.BadEvery > 0 && i%f.BadEvery == f.BadEvery-1 {
			planted = append(planted, i+2)
			switch Planted[(i/f.BadEvery)%len(Planted)] {
			case "rating":
				rating = "9"
			case "customer":
				customer = "nobody-" + ext
			case "quoting":
				notes = `said "no" twice`
			case "utf8":
				notes = "caf\xe9"
			case "touchpoint":
				touchpoint = "teleport"
			}
		}
		fmt.Fprintf(out, "%s,%s,%s,%s,%s,%s,%s\n", ext, customer, touchpoint, channels[i%len(channels)], at, rating, notes)
	}
	return planted, out.Flush()
}
