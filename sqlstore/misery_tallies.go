package sqlstore

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
)

// A customer's misery moments of the last 90 days are kept with their
// figures as one tally per touchpoint, in JSON:
//
//	[{"t":"complaint","n":2,"s":3591422746,"l":1795711373000000,"o":1794501975403414}]
//
// with the touchpoint key, how many, their times in seconds added up, and
// the latest and oldest in microseconds. Recording a moment reads and
// writes it again, so its size does not grow with the moments and it has a
// codec of its own for the form Rapport writes (touchpoint keys are
// lowercase letters, digits and underscores); anything else, such as the
// list of single moments stored before ([{"t":"complaint","at":…}]), goes
// to encoding/json.

// appendMiseryTallies appends the stored form of ts to b, by touchpoint.
func appendMiseryTallies(b []byte, ts miseryTallies) []byte {
	keys := slices.Sorted(maps.Keys(ts))
	for _, k := range keys {
		if !plainKey(k) {
			out, _ := json.Marshal(storedTallies(ts, keys))
			return append(b, out...)
		}
	}
	b = append(b, '[')
	for i, k := range keys {
		x := ts[k]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"t":"`...)
		b = append(b, k...)
		b = append(b, `","n":`...)
		b = strconv.AppendInt(b, x.n, 10)
		b = append(b, `,"s":`...)
		b = strconv.AppendInt(b, x.sumSeconds, 10)
		b = append(b, `,"l":`...)
		b = strconv.AppendInt(b, x.latest, 10)
		b = append(b, `,"o":`...)
		b = strconv.AppendInt(b, x.oldest, 10)
		b = append(b, '}')
	}
	return append(b, ']')
}

// storedTally is one entry of the stored form: a tally, or (with At set
// and N zero) a single moment as stored before tallies.
type storedTally struct {
	T string `json:"t"`
	N int64  `json:"n,omitempty"`
	S int64  `json:"s,omitempty"`
	L int64  `json:"l,omitempty"`
	O int64  `json:"o,omitempty"`
	// At is a single moment's time.
	At int64 `json:"at,omitempty"`
}

func storedTallies(ts miseryTallies, keys []string) []storedTally {
	out := make([]storedTally, len(keys))
	for i, k := range keys {
		x := ts[k]
		out[i] = storedTally{T: k, N: x.n, S: x.sumSeconds, L: x.latest, O: x.oldest}
	}
	return out
}

// parseMiseryTallies reads the stored form.
func parseMiseryTallies(s string) (miseryTallies, error) {
	if ts, ok := parsePlainMiseryTallies(s); ok {
		return ts, nil
	}
	var list []storedTally
	if err := json.Unmarshal([]byte(s), &list); err != nil {
		return nil, err
	}
	ts := miseryTallies{}
	for _, e := range list {
		if e.N == 0 {
			ts.add(e.T, e.At)
			continue
		}
		ts.merge(e.T, miseryTally{n: e.N, sumSeconds: e.S, latest: e.L, oldest: e.O})
	}
	return ts, nil
}

// merge adds a whole tally to touchpoint's.
func (ts miseryTallies) merge(touchpoint string, y miseryTally) {
	x := ts[touchpoint]
	if x == nil {
		ts[touchpoint] = &y
		return
	}
	x.n += y.n
	x.sumSeconds += y.sumSeconds
	x.latest, x.oldest = max(x.latest, y.latest), min(x.oldest, y.oldest)
}

// parsePlainMiseryTallies reads the form exactly as appendMiseryTallies
// writes it for plain keys, and reports false for any other text.
func parsePlainMiseryTallies(s string) (miseryTallies, bool) {
	p := plainParser{s: s}
	if !p.take("[") {
		return nil, false
	}
	ts := miseryTallies{}
	if p.take("]") {
		return ts, p.done()
	}
	for {
		if !p.take(`{"t":"`) {
			return nil, false
		}
		k := p.key()
		var x miseryTally
		ok := k != "" && p.take(`","n":`) && p.int(&x.n) && x.n != 0 && p.take(`,"s":`) && p.int(&x.sumSeconds) &&
			p.take(`,"l":`) && p.int(&x.latest) && p.take(`,"o":`) && p.int(&x.oldest) && p.take("}")
		if !ok {
			return nil, false
		}
		ts.merge(k, x)
		if p.take("]") {
			return ts, p.done()
		}
		if !p.take(",") {
			return nil, false
		}
	}
}

type plainParser struct {
	s string
	i int
}

func (p *plainParser) take(lit string) bool {
	if len(p.s)-p.i < len(lit) || p.s[p.i:p.i+len(lit)] != lit {
		return false
	}
	p.i += len(lit)
	return true
}

func (p *plainParser) done() bool { return p.i == len(p.s) }

// key reads a run of plain key characters.
func (p *plainParser) key() string {
	start := p.i
	for p.i < len(p.s) && plainKeyByte(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// int reads a whole number as JSON writes it that fits in an int64.
func (p *plainParser) int(n *int64) bool {
	start := p.i
	if p.i < len(p.s) && p.s[p.i] == '-' {
		p.i++
	}
	digits := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	if p.i == digits || (p.s[digits] == '0' && p.i-digits > 1) {
		return false // no digits, or a leading zero JSON does not allow
	}
	v, err := strconv.ParseInt(p.s[start:p.i], 10, 64)
	*n = v
	return err == nil
}

func plainKey(s string) bool {
	for i := range len(s) {
		if !plainKeyByte(s[i]) {
			return false
		}
	}
	return s != ""
}

func plainKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_'
}
