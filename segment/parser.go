package segment

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits that keep any rule's SQL small: nesting depth (of parentheses and
// "not"), comparisons, and values in one list.
const (
	MaxDepth       = 32
	MaxComparisons = 200
	MaxListValues  = 200
	maxTokens      = 4000
)

// Node is a part of a parsed rule.
type Node interface{ pos() int }

// Binary is "and" or "or" of two conditions.
type Binary struct {
	Op          string // "and" or "or"
	Left, Right Node
	Pos         int
}

// Not negates a condition.
type Not struct {
	X   Node
	Pos int
}

// Comparison tests one field: with Op and one value, or with "in" (Op is
// "in" or "not in") and a list.
type Comparison struct {
	Field *Field
	// Attr is the attribute's key when Field is attributes.
	Attr   string
	Op     string
	Values []Value
	Pos    int
}

func (n *Binary) pos() int     { return n.Pos }
func (n *Not) pos() int        { return n.Pos }
func (n *Comparison) pos() int { return n.Pos }

// ValueKind is the kind of a literal.
type ValueKind int

// The kinds of literal.
const (
	ValueString ValueKind = iota
	ValueNumber
	ValueBool
	ValueNull
)

// Value is a literal in a rule.
type Value struct {
	Kind ValueKind
	Str  string
	Num  float64
	Bool bool
	Pos  int
	// For a time field: an absolute time (a whole day when Day is set), or
	// DaysAgo days before the moment of evaluation.
	Time    time.Time
	Day     bool
	DaysAgo int
	Ago     bool
}

// Rule is a parsed, checked rule, ready to compile.
type Rule struct {
	Source string
	Root   Node
}

// Parse reads and checks a rule; every rule it accepts compiles.
func Parse(src string) (*Rule, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	if len(toks) > maxTokens {
		return nil, errorf(toks[maxTokens].pos, "the rule is too long: at most %d words and symbols", maxTokens)
	}
	p := &parser{toks: toks}
	if p.peek().kind == tokEOF {
		return nil, errorf(1, "the rule is empty: write a condition such as stage = \"commitment\"")
	}
	root, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		if t.kind == tokRParen {
			return nil, errorf(t.pos, `unexpected ")" with no "(" to close`)
		}
		return nil, errorf(t.pos, "unexpected %s: expected and, or, or the end of the rule", t.describe())
	}
	return &Rule{Source: src, Root: root}, nil
}

type parser struct {
	toks        []token
	i           int
	depth       int
	comparisons int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) or() (Node, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tokOr {
		t := p.next()
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		left = &Binary{Op: "or", Left: left, Right: right, Pos: t.pos}
	}
	return left, nil
}

func (p *parser) and() (Node, error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tokAnd {
		t := p.next()
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		left = &Binary{Op: "and", Left: left, Right: right, Pos: t.pos}
	}
	return left, nil
}

func (p *parser) unary() (Node, error) {
	t := p.peek()
	switch t.kind {
	case tokNot, tokLParen:
		if p.depth++; p.depth > MaxDepth {
			return nil, errorf(t.pos, "the rule nests too deeply: at most %d levels of parentheses and not", MaxDepth)
		}
		defer func() { p.depth-- }()
		p.next()
		if t.kind == tokNot {
			x, err := p.unary()
			if err != nil {
				return nil, err
			}
			return &Not{X: x, Pos: t.pos}, nil
		}
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tokRParen {
			return nil, errorf(c.pos, `expected ")" to close the "(" at position %d, found %s`, t.pos, c.describe())
		}
		return x, nil
	}
	return p.comparison()
}

func (p *parser) comparison() (Node, error) {
	t := p.next()
	if t.kind != tokIdent {
		return nil, errorf(t.pos, "expected a field such as stage or rating_90d, found %s", t.describe())
	}
	f := fields[strings.ToLower(t.text)]
	if f == nil {
		return nil, errorf(t.pos, "unknown field %q; the fields are %s", t.text, fieldNames())
	}
	if p.comparisons++; p.comparisons > MaxComparisons {
		return nil, errorf(t.pos, "the rule has too many comparisons: at most %d", MaxComparisons)
	}
	c := &Comparison{Field: f, Pos: t.pos}
	if f.Kind == KindAttribute {
		if d := p.next(); d.kind != tokDot {
			return nil, errorf(d.pos, `expected "." and an attribute's name after attributes, as in attributes.region`)
		}
		k := p.next()
		if k.kind != tokIdent && k.kind != tokString && !isKeyword(k.kind) {
			return nil, errorf(k.pos, "expected an attribute's name after attributes., found %s", k.describe())
		}
		if k.text == "" || len([]rune(k.text)) > 64 {
			return nil, errorf(k.pos, "an attribute's name has 1 to 64 characters")
		}
		c.Attr = k.text
	} else if d := p.peek(); d.kind == tokDot {
		return nil, errorf(d.pos, "%s has no parts to pick with \".\"; only attributes has", f.Name)
	}

	op := p.next()
	switch {
	case op.kind == tokOp:
		c.Op = op.text
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		c.Values = []Value{v}
	case op.kind == tokIn || op.kind == tokNot && p.peek().kind == tokIn:
		c.Op = "in"
		if op.kind == tokNot {
			p.next()
			c.Op = "not in"
		}
		list, err := p.list()
		if err != nil {
			return nil, err
		}
		c.Values = list
	default:
		return nil, errorf(op.pos, "expected an operator after %s (=, !=, <, <=, >, >=, in, not in), found %s", f.Name, op.describe())
	}
	return c, check(c, op.pos)
}

func isKeyword(k tokenKind) bool { return k >= tokAnd && k <= tokNull }

func (p *parser) list() ([]Value, error) {
	open := p.next()
	if open.kind != tokLBracket {
		return nil, errorf(open.pos, `expected "[" to start the list of values, found %s`, open.describe())
	}
	var out []Value
	for {
		if p.peek().kind == tokRBracket && len(out) == 0 {
			return nil, errorf(p.peek().pos, "the list is empty: give at least one value")
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		if out = append(out, v); len(out) > MaxListValues {
			return nil, errorf(v.Pos, "the list is too long: at most %d values", MaxListValues)
		}
		switch t := p.next(); t.kind {
		case tokComma:
		case tokRBracket:
			return out, nil
		default:
			return nil, errorf(t.pos, `expected "," or "]" in the list that starts at position %d, found %s`, open.pos, t.describe())
		}
	}
}

func (p *parser) value() (Value, error) {
	t := p.next()
	v := Value{Pos: t.pos}
	switch t.kind {
	case tokString:
		v.Kind, v.Str = ValueString, t.text
	case tokNumber:
		n, err := strconv.ParseFloat(t.text, 64)
		if err != nil || n > 1e15 || n < -1e15 {
			return v, errorf(t.pos, "the number %s is out of range", t.text)
		}
		v.Kind, v.Num = ValueNumber, n
	case tokTrue, tokFalse:
		v.Kind, v.Bool = ValueBool, t.kind == tokTrue
	case tokNull:
		v.Kind = ValueNull
	default:
		return v, errorf(t.pos, "expected a value (a \"string\", a number, true, false or null), found %s", t.describe())
	}
	return v, nil
}

// daysAgo matches relative times such as "-90d".
var daysAgo = regexp.MustCompile(`^-([0-9]{1,5})d$`)

// check refuses comparisons that make no sense for the field, so that every
// parsed rule compiles.
func check(c *Comparison, opPos int) error {
	f := c.Field
	list := c.Op == "in" || c.Op == "not in"
	switch f.Kind {
	case KindEnum, KindText, KindAttribute:
		if !list && c.Op != "=" && c.Op != "!=" {
			return errorf(opPos, "%s can be compared only with =, !=, in and not in", f.Name)
		}
	case KindTime:
		if list {
			return errorf(opPos, "%s cannot be compared with a list; use < and >", f.Name)
		}
	}
	for i := range c.Values {
		v := &c.Values[i]
		if v.Kind == ValueNull {
			if list || (f.Kind != KindText && f.Kind != KindAttribute) {
				return errorf(v.Pos, "%s cannot be compared with null", f.Name)
			}
			continue
		}
		switch f.Kind {
		case KindEnum:
			if v.Kind != ValueString || !slices.Contains(f.Values, v.Str) {
				return errorf(v.Pos, "%s is one of %s", f.Name, quoteAll(f.Values))
			}
		case KindText:
			if v.Kind != ValueString {
				return errorf(v.Pos, "%s takes a string, such as an id in quotes", f.Name)
			}
		case KindNumber:
			if v.Kind != ValueNumber {
				return errorf(v.Pos, "%s takes a number", f.Name)
			}
		case KindTime:
			if v.Kind != ValueString {
				return errorf(v.Pos, `%s takes a date such as "2026-01-31", an RFC 3339 time, or days ago such as "-90d"`, f.Name)
			}
			if m := daysAgo.FindStringSubmatch(v.Str); m != nil {
				v.Ago = true
				v.DaysAgo, _ = strconv.Atoi(m[1])
			} else if t, err := time.Parse(time.DateOnly, v.Str); err == nil {
				v.Time, v.Day = t, true
			} else if t, err := time.Parse(time.RFC3339Nano, v.Str); err == nil && t.Year() >= 1970 && t.Year() < 10000 {
				v.Time = t.UTC()
			} else {
				return errorf(v.Pos, `%q is not a date such as "2026-01-31", an RFC 3339 time, or days ago such as "-90d"`, v.Str)
			}
			if v.Day && v.Time.Year() < 1970 {
				return errorf(v.Pos, "%q is before 1970", v.Str)
			}
		}
	}
	return nil
}

func quoteAll(vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}
