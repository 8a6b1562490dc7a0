package segment

import (
	"slices"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func TestCompile(t *testing.T) {
	tests := []struct {
		rule  string
		where string
		args  []any
	}{
		{`stage = "commitment" and rating_90d < 3.5`,
			`((m.stage = ?) AND (m.rating_90d IS NOT NULL AND m.rating_90d < CAST(? AS DOUBLE PRECISION)))`,
			[]any{"commitment", 3.5}},
		{`STAGE == 'expansion' OR Kind <> "person"`,
			`((m.stage = ?) OR (m.kind <> ?))`, []any{"expansion", "person"}},
		{`not (health >= 70 or risk > 50) and holdings = 2`,
			`((NOT ((m.health IS NOT NULL AND m.health >= CAST(? AS DOUBLE PRECISION)) OR (m.risk IS NOT NULL AND m.risk > CAST(? AS DOUBLE PRECISION)))) AND (COALESCE(m.holdings, 0) = CAST(? AS DOUBLE PRECISION)))`,
			[]any{70.0, 50.0, 2.0}},
		{`a or b`, "", nil}, // unknown field: see TestParseErrors
		{`stage in ["awareness", "exploration"]`, `(m.stage IN (?, ?))`, []any{"awareness", "exploration"}},
		{`owner not in ["u1"]`, `(m.owner_id IS NOT NULL AND m.owner_id NOT IN (?))`, []any{"u1"}},
		{`owner = null`, `(m.owner_id IS NULL)`, nil},
		{`referred_by != null`, `(m.referred_by IS NOT NULL)`, nil},
		{`owner != "u1"`, `(m.owner_id IS NOT NULL AND m.owner_id <> ?)`, []any{"u1"}},
		{`moments_30d > 0 and misery_90d >= 2 and revenue_365d < -1.5`,
			`(((COALESCE(m.moments_30d, 0) > CAST(? AS DOUBLE PRECISION)) AND (COALESCE(m.misery_90d, 0) >= CAST(? AS DOUBLE PRECISION))) AND (COALESCE(m.revenue_365d, 0) < CAST(? AS DOUBLE PRECISION)))`,
			[]any{0.0, 2.0, -1.5}},
		{`created = "2026-01-31"`, `(m.created_at >= ? AND m.created_at < ?)`,
			[]any{time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC).UnixMicro(), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC).UnixMicro()}},
		{`created <= "2026-01-31"`, `(m.created_at < ?)`, []any{time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC).UnixMicro()}},
		{`created > "2026-01-31T10:00:00+01:00"`, `(m.created_at >= ?)`, []any{time.Date(2026, 1, 31, 9, 0, 0, 1000, time.UTC).UnixMicro()}},
		{`created >= "-90d"`, `(m.created_at >= ?)`, []any{now.AddDate(0, 0, -90).UnixMicro()}},
		{`attributes.region = "North West"`, `((instr(c.attributes, ?) > 0))`, []any{`"region":"North West"`}},
		{`attributes."opt in" = true`, `(((instr(c.attributes, ?) > 0) OR (instr(c.attributes, ?) > 0)))`, []any{`"opt in":true,`, `"opt in":true}`}},
		{`attributes.region != "north"`, `((instr(c.attributes, ?) > 0) AND NOT ((instr(c.attributes, ?) > 0)))`, []any{`"region":`, `"region":"north"`}},
		{`attributes.region = null`, `(NOT (instr(c.attributes, ?) > 0))`, []any{`"region":`}},
		{`attributes.size in [3, "big"]`, `(((instr(c.attributes, ?) > 0) OR (instr(c.attributes, ?) > 0)) OR (instr(c.attributes, ?) > 0))`,
			[]any{`"size":3,`, `"size":3}`, `"size":"big"`}},
		{`attributes.note = "<a & \"b\">"`, `((instr(c.attributes, ?) > 0))`, []any{`"note":"\u003ca \u0026 \"b\"\u003e"`}},
	}
	for _, tt := range tests {
		r, err := Parse(tt.rule)
		if tt.where == "" {
			if err == nil {
				t.Errorf("Parse(%q) = nil error; want one", tt.rule)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q) = %v", tt.rule, err)
			continue
		}
		q, err := r.Compile(Options{Now: now})
		if err != nil {
			t.Errorf("Compile(%q) = %v", tt.rule, err)
			continue
		}
		if q.Where != tt.where || !slices.Equal(q.Args, tt.args) {
			t.Errorf("Compile(%q) =\n  %s %#v\nwant\n  %s %#v", tt.rule, q.Where, q.Args, tt.where, tt.args)
		}
		// Only a rule on attributes needs the customers table joined.
		if want := strings.Contains(tt.where, "c.attributes"); q.Customers != want {
			t.Errorf("Compile(%q).Customers = %v; want %v", tt.rule, q.Customers, want)
		}
	}
}

func TestCompileContains(t *testing.T) {
	r, err := Parse(`attributes.region = "north"`)
	if err != nil {
		t.Fatal(err)
	}
	q, err := r.Compile(Options{Now: now, Contains: func(col string) string { return "strpos(" + col + ", ?) > 0" }})
	if err != nil || q.Where != `((strpos(c.attributes, ?) > 0))` {
		t.Errorf("Compile with Contains = %q, %v; want the strpos form", q.Where, err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		rule string
		pos  int
		msg  string // a part of the message
	}{
		{``, 1, "empty"},
		{`   `, 1, "empty"},
		{`stage`, 6, "expected an operator"},
		{`stage = `, 9, "expected a value"},
		{`stage = "commitmnet"`, 9, `stage is one of`},
		{`stage < "commitment"`, 7, "only with =, !=, in"},
		{`colour = "red"`, 1, `unknown field "colour"`},
		{`health > "high"`, 10, "takes a number"},
		{`health > 50 and`, 16, "expected a field"},
		{`health > 50 and or risk < 2`, 17, "expected a field"},
		{`(health > 50`, 13, `expected ")"`},
		{`health > 50)`, 12, `unexpected ")"`},
		{`health > 50 risk < 2`, 13, "expected and, or"},
		{`stage in []`, 11, "the list is empty"},
		{`stage in ["commitment" "expansion"]`, 24, `expected "," or "]"`},
		{`stage in "commitment"`, 10, `expected "["`},
		{`stage = "commitment`, 9, "not closed"},
		{`stage = "a\qb"`, 11, "unknown escape"},
		{`risk ! 3`, 6, `"!" must be followed by "="`},
		{`risk > 3 & health < 2`, 10, "unexpected character"},
		{`risk > 3x`, 9, `unexpected "x" after a number`},
		{`risk > -`, 8, "digits"},
		{`health = null`, 10, "cannot be compared with null"},
		{`owner in [null]`, 11, "cannot be compared with null"},
		{`created in ["2026-01-01"]`, 9, "cannot be compared with a list"},
		{`created > "yesterday"`, 11, "is not a date"},
		{`attributes.region > "n"`, 19, "only with =, !=, in"},
		{`attributes = "n"`, 12, `expected "."`},
		{`attributes. = "n"`, 13, "expected an attribute's name"},
		{`stage.name = "x"`, 6, "has no parts"},
		{`risk > 1e9`, 9, `unexpected "e"`},
		{`risk > 99999999999999999`, 8, "out of range"},
		{`é = 1`, 1, "unexpected character"},
		{`risk > 3 and (stage = "commitment"`, 35, `close the "(" at position 14`},
		{strings.Repeat("not ", MaxDepth+1) + "risk > 1", 4*MaxDepth + 1, "nests too deeply"},
		{strings.Repeat("(", MaxDepth+1) + "risk > 1", MaxDepth + 1, "nests too deeply"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.rule)
		e, ok := err.(*Error)
		if !ok {
			t.Errorf("Parse(%q) = %v; want a *segment.Error", tt.rule, err)
			continue
		}
		if e.Pos != tt.pos || !strings.Contains(e.Msg, tt.msg) {
			t.Errorf("Parse(%q) = position %d %q; want position %d with %q", tt.rule, e.Pos, e.Msg, tt.pos, tt.msg)
		}
	}
}

// TestTooManyComparisons checks the limit that keeps a rule's SQL small.
func TestTooManyComparisons(t *testing.T) {
	rule := strings.TrimSuffix(strings.Repeat("risk > 1 or ", MaxComparisons+1), " or ")
	if _, err := Parse(rule); err == nil || !strings.Contains(err.Error(), "too many comparisons") {
		t.Errorf("Parse(%d comparisons) = %v; want too many comparisons", MaxComparisons+1, err)
	}
	rule = strings.TrimSuffix(strings.Repeat("risk > 1 or ", MaxComparisons), " or ")
	if _, err := Parse(rule); err != nil {
		t.Errorf("Parse(%d comparisons) = %v; want it accepted", MaxComparisons, err)
	}
}

// TestPrecedence checks that and binds tighter than or, and not tighter than both.
func TestPrecedence(t *testing.T) {
	r, err := Parse(`not risk > 1 or risk > 2 and risk > 3`)
	if err != nil {
		t.Fatal(err)
	}
	q, _ := r.Compile(Options{Now: now})
	want := `((NOT (m.risk IS NOT NULL AND m.risk > CAST(? AS DOUBLE PRECISION))) OR ((m.risk IS NOT NULL AND m.risk > CAST(? AS DOUBLE PRECISION)) AND (m.risk IS NOT NULL AND m.risk > CAST(? AS DOUBLE PRECISION))))`
	if q.Where != want {
		t.Errorf("Compile = %s; want %s", q.Where, want)
	}
}

func TestFields(t *testing.T) {
	fs := Fields()
	if len(fs) != len(fields) || fs[0].Name != "attributes" {
		t.Errorf("Fields() = %d fields starting %q; want %d sorted by name", len(fs), fs[0].Name, len(fields))
	}
	for _, f := range fs {
		if f.Doc == "" || f.column == "" {
			t.Errorf("field %s lacks a doc or column", f.Name)
		}
	}
}
