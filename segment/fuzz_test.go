package segment

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// sqlWords are every word and symbol compiled SQL may hold: column
// expressions, operators and placeholders. Anything else would have come
// from the rule's text.
var sqlWords = func() map[string]bool {
	words := map[string]bool{}
	for _, w := range strings.Fields(`( ) , ? = <> < <= > >= AND OR NOT IN IS NULL CAST AS DOUBLE PRECISION instr strpos 0`) {
		words[w] = true
	}
	for _, f := range fields {
		for _, w := range strings.Fields(strings.NewReplacer("(", " ", ")", " ", ",", " ").Replace(f.column)) {
			words[w] = true
		}
	}
	return words
}()

// FuzzParse checks that no rule makes the parser panic, that every accepted
// rule compiles, and that compiled SQL holds nothing from the rule's text:
// no quote, no word outside the fixed vocabulary, one argument per placeholder.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`stage = "commitment" and rating_90d < 3.5`,
		`attributes.region in ["north", 'south'] or not (holdings >= 2)`,
		`created >= "-90d" and owner != null and referred_by = "x"`,
		`created = "2026-01-31" or created > "2026-01-31T10:00:00Z"`,
		`attributes."a b" = true and attributes.n != 3.25`,
		`kind <> "person" and (risk > 70 or health <= 20) and misery_90d >= 1`,
		`stage = "x'; DROP TABLE customers; --"`,
		`owner = "'); DELETE FROM users; --"`,
		`attributes.region = "\" OR 1=1 --"`,
		`(((`, `not not not risk > 1`, `stage in []`, `"`, `risk > -`, `attributes.`,
	} {
		f.Add(seed)
	}
	f.Fuzz(checkRule)
}

// TestRandomRules runs FuzzParse's checks on rules put together at random
// from the language's grammar, some of them then damaged, which reaches
// deeper than random bytes do.
func TestRandomRules(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	accepted := 0
	for range 30000 {
		rule := randomRule(r, 0)
		if r.IntN(4) == 0 {
			rule = damage(r, rule)
		}
		if _, err := Parse(rule); err == nil {
			accepted++
		}
		checkRule(t, rule)
	}
	if accepted < 2000 {
		t.Errorf("only %d of the random rules parsed; the generator is too weak to test compiling", accepted)
	}
}

var (
	randomFields = []string{"stage", "kind", "owner", "referred_by", "created", "attributes.region", `attributes."a b"`,
		"health", "risk", "moments_30d", "rating_90d", "misery_90d", "holdings", "revenue_365d", "referrals"}
	randomOps    = []string{"=", "!=", "<", "<=", ">", ">=", "==", "<>"}
	randomValues = []string{`"commitment"`, `"expansion"`, `"person"`, `"-90d"`, `"2026-01-31"`, `"2026-01-31T10:00:00Z"`,
		`'x'`, `"o'k"`, `"\\"`, `"a\"b"`, `"' OR 1=1 --"`, "3.5", "-2", "0", "100", "true", "false", "null"}
)

func randomRule(r *rand.Rand, depth int) string {
	pick := func(list []string) string { return list[r.IntN(len(list))] }
	switch k := r.IntN(10); {
	case depth < 4 && k < 2:
		return randomRule(r, depth+1) + " and " + randomRule(r, depth+1)
	case depth < 4 && k < 4:
		return randomRule(r, depth+1) + " OR " + randomRule(r, depth+1)
	case depth < 4 && k < 5:
		return "not " + randomRule(r, depth+1)
	case depth < 4 && k < 6:
		return "(" + randomRule(r, depth+1) + ")"
	case k < 8:
		n := 1 + r.IntN(3)
		vals := make([]string, n)
		for i := range vals {
			vals[i] = pick(randomValues)
		}
		in := " in "
		if r.IntN(2) == 0 {
			in = " not in "
		}
		return pick(randomFields) + in + "[" + strings.Join(vals, ", ") + "]"
	}
	return pick(randomFields) + " " + pick(randomOps) + " " + pick(randomValues)
}

// damage deletes, repeats or inserts a few characters.
func damage(r *rand.Rand, rule string) string {
	b := []byte(rule)
	i := r.IntN(len(b))
	switch r.IntN(3) {
	case 0:
		return string(append(b[:i:i], b[min(i+1+r.IntN(3), len(b)):]...))
	case 1:
		return string(b[:i]) + string(b[i:min(i+3, len(b))]) + string(b[i:])
	}
	const symbols = "()[],.\\\"'=<>!-"
	return string(b[:i]) + string(symbols[r.IntN(len(symbols))]) + string(b[i:])
}

func checkRule(t *testing.T, rule string) {
	t.Helper()
	{
		r, err := Parse(rule)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) = %v; want a *segment.Error", rule, err)
			}
			if n := utf8.RuneCountInString(rule); e.Pos < 1 || e.Pos > n+1 {
				t.Fatalf("Parse(%q) error at position %d; want 1 to %d", rule, e.Pos, n+1)
			}
			return
		}
		q, err := r.Compile(Options{Now: now})
		if err != nil {
			t.Fatalf("Parse(%q) accepted a rule that does not compile: %v", rule, err)
		}
		if strings.ContainsAny(q.Where, `'"`+"`;") {
			t.Fatalf("Compile(%q) = %s; SQL must hold no quotes or semicolons", rule, q.Where)
		}
		words := strings.Fields(strings.NewReplacer("(", " ( ", ")", " ) ", ",", " , ").Replace(q.Where))
		for _, w := range words {
			if !sqlWords[w] {
				t.Fatalf("Compile(%q) = %s; %q is not in the fixed vocabulary", rule, q.Where, w)
			}
		}
		if n := strings.Count(q.Where, "?"); n != len(q.Args) {
			t.Fatalf("Compile(%q) has %d placeholders and %d arguments", rule, n, len(q.Args))
		}
		// The literals of the rule reach SQL only as arguments.
		for _, v := range literals(r.Root) {
			if len(v) > 1 && strings.Contains(q.Where, v) {
				t.Fatalf("Compile(%q) = %s; it holds the literal %q", rule, q.Where, v)
			}
		}
	}
}

// literals returns the quoted source of every string value in a rule.
func literals(n Node) []string {
	switch n := n.(type) {
	case *Binary:
		return append(literals(n.Left), literals(n.Right)...)
	case *Not:
		return literals(n.X)
	case *Comparison:
		var out []string
		for _, v := range n.Values {
			if v.Kind == ValueString {
				out = append(out, `"`+v.Str+`"`, "'"+v.Str+"'")
			}
		}
		return out
	}
	return nil
}
