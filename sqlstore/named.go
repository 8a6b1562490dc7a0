package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// namedArgs are a query's arguments by name. A query that uses the same few
// values many times (the bounds of a window, say) names them as :now or
// :from90, so no value can land in another's place.
type namedArgs map[string]any

// bindNamed rewrites each :name of query (outside quoted text, and not a
// PostgreSQL ::cast) as ? and returns the values in the order they appear.
// A []string value stands for a list, as in `customer_id IN (:ids)`; an
// empty list is written NULL, which matches nothing on either database. A
// name without a value is an error rather than a silent NULL.
func bindNamed(query string, args namedArgs) (string, []any, error) {
	var b strings.Builder
	b.Grow(len(query))
	var values []any
	quoted := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		if c == '\'' {
			quoted = !quoted
		}
		if quoted || c != ':' || i+1 == len(query) || !isNameByte(query[i+1], true) || (i > 0 && query[i-1] == ':') {
			b.WriteByte(c)
			continue
		}
		end := i + 1
		for end < len(query) && isNameByte(query[end], false) {
			end++
		}
		name := query[i+1 : end]
		v, ok := args[name]
		if !ok {
			return "", nil, fmt.Errorf("sqlstore: query argument :%s has no value", name)
		}
		if list, ok := v.([]string); ok {
			if len(list) == 0 {
				b.WriteString("NULL")
			}
			for k, s := range list {
				if k > 0 {
					b.WriteString(", ")
				}
				b.WriteByte('?')
				values = append(values, s)
			}
		} else {
			b.WriteByte('?')
			values = append(values, v)
		}
		i = end - 1
	}
	return b.String(), values, nil
}

func isNameByte(c byte, first bool) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || !first && c >= '0' && c <= '9'
}

// eachNamedRow is eachRow for a query with named arguments.
func eachNamedRow(ctx context.Context, q querier, query string, args namedArgs, fn func(*sql.Rows) error) error {
	query, values, err := bindNamed(query, args)
	if err != nil {
		return err
	}
	return eachRow(ctx, q, query, values, fn)
}

// column is one item of a select list and where its value is scanned, kept
// side by side so the list and the scan cannot fall out of step.
type column struct {
	sql  string
	dest any
}

// selectList joins the columns' SQL and returns their destinations in order.
func selectList(cols []column) (string, []any) {
	exprs := make([]string, len(cols))
	dests := make([]any, len(cols))
	for i, c := range cols {
		exprs[i], dests[i] = c.sql, c.dest
	}
	return strings.Join(exprs, ",\n\t\t"), dests
}

// columnValue is a column to write and its value, kept side by side so a
// list of columns and its values cannot fall out of step.
type columnValue struct {
	name  string
	value any
}
