package sqlstore

import (
	"reflect"
	"testing"
)

func TestBindNamed(t *testing.T) {
	args := namedArgs{"now": int64(9), "from": int64(1), "ids": []string{"a", "b"}}
	for _, tc := range []struct {
		query, want string
		values      []any
	}{
		{`SELECT 1`, `SELECT 1`, nil},
		{`x >= :from AND x <= :now AND y <= :now`, `x >= ? AND x <= ? AND y <= ?`, []any{int64(1), int64(9), int64(9)}},
		{`id IN (:ids) AND x > :now`, `id IN (?, ?) AND x > ?`, []any{"a", "b", int64(9)}},
		{`x::bigint = :now`, `x::bigint = ?`, []any{int64(9)}},
		{`note = 'at :now' AND x = :now`, `note = 'at :now' AND x = ?`, []any{int64(9)}},
		{`x = :now)`, `x = ?)`, []any{int64(9)}},
		{`x = ':'`, `x = ':'`, nil},
	} {
		got, values, err := bindNamed(tc.query, args)
		if err != nil || got != tc.want || !reflect.DeepEqual(values, tc.values) {
			t.Errorf("bindNamed(%q) = %q, %v, %v; want %q, %v", tc.query, got, values, err, tc.want, tc.values)
		}
	}
	if got, values, _ := bindNamed(`id IN (:none)`, namedArgs{"none": []string{}}); got != `id IN (NULL)` || len(values) != 0 {
		t.Errorf("bindNamed with an empty list = %q, %v; want %q, no values", got, values, `id IN (NULL)`)
	}
	if _, _, err := bindNamed(`x = :nwo`, args); err == nil {
		t.Errorf("bindNamed with an unknown name: no error")
	}
}

// TestMomentTotalsColumns checks that every figure of momentTotals is read,
// each once, so the select list cannot leave a field at zero.
func TestMomentTotalsColumns(t *testing.T) {
	var m momentTotals
	seen := map[any]bool{}
	for _, c := range m.columns() {
		if seen[c.dest] {
			t.Errorf("column %s fills a field already filled", c.sql)
		}
		seen[c.dest] = true
	}
	if n := reflect.TypeOf(m).NumField(); len(seen) != n {
		t.Errorf("momentTotals.columns fill %d fields; want %d", len(seen), n)
	}
}
