package sqlstore

import (
	"encoding/json"
	"strconv"
)

// A customer's recent misery moments are stored as a JSON list,
// [{"t":"complaint","at":1795711373000000},…], newest first, and recording a
// moment for the customer reads and writes the list again. The reflection
// behind encoding/json made that a tenth of the time spent recording a
// moment, so the list has a codec of its own for the form Rapport writes
// (touchpoint keys are lowercase letters, digits and underscores), and hands
// anything else to encoding/json.

// appendMiseryList appends the JSON form of list to b.
func appendMiseryList(b []byte, list []storedMisery) []byte {
	for _, m := range list {
		if !plainKey(m.Touchpoint) {
			out, _ := json.Marshal(list)
			return append(b, out...)
		}
	}
	b = append(b, '[')
	for i, m := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"t":"`...)
		b = append(b, m.Touchpoint...)
		b = append(b, `","at":`...)
		b = strconv.AppendInt(b, m.At, 10)
		b = append(b, '}')
	}
	return append(b, ']')
}

// parseMiseryList reads a stored list.
func parseMiseryList(s string) ([]storedMisery, error) {
	if list, ok := parsePlainMiseryList(s); ok {
		return list, nil
	}
	var list []storedMisery
	err := json.Unmarshal([]byte(s), &list)
	return list, err
}

// parsePlainMiseryList reads a list exactly as appendMiseryList writes it,
// and reports false for any other text.
func parsePlainMiseryList(s string) ([]storedMisery, bool) {
	p := plainParser{s: s}
	if !p.take("[") {
		return nil, false
	}
	list := []storedMisery{}
	if p.take("]") {
		return list, p.done()
	}
	for {
		var m storedMisery
		if !p.take(`{"t":"`) {
			return nil, false
		}
		if m.Touchpoint = p.key(); m.Touchpoint == "" || !p.take(`","at":`) {
			return nil, false
		}
		var ok bool
		if m.At, ok = p.int(); !ok || !p.take("}") {
			return nil, false
		}
		list = append(list, m)
		if p.take("]") {
			return list, p.done()
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

// int reads an optionally negative whole number that fits in an int64.
func (p *plainParser) int() (int64, bool) {
	start := p.i
	if p.i < len(p.s) && p.s[p.i] == '-' {
		p.i++
	}
	digits := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	if p.i == digits || (p.s[digits] == '0' && p.i-digits > 1) {
		return 0, false // no digits, or a leading zero JSON does not allow
	}
	n, err := strconv.ParseInt(p.s[start:p.i], 10, 64)
	return n, err == nil
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
