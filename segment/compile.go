package segment

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Options are what compiling needs to know of the database and the moment.
type Options struct {
	// Now is the moment the rule is evaluated at, for relative times such
	// as "-90d"; zero means the current time.
	Now time.Time
	// Contains returns SQL that is true when the text column contains, as
	// a substring with exact case, the value of the next parameter; for
	// example "instr(c.attributes, ?) > 0" (SQLite) or
	// "strpos(c.attributes, ?) > 0" (PostgreSQL). Nil means the SQLite form.
	Contains func(column string) string
}

// Query is a compiled rule: a condition over customer_measures m, written
// with ? placeholders, and its arguments. A rule on custom attributes also
// reads customers c, joined on c.id = m.customer_id.
type Query struct {
	Where string
	Args  []any
	// Customers says the condition reads customers c as well.
	Customers bool
}

// numberParam is how a number goes into SQL: as a double whatever the
// column's type, so that PostgreSQL does not infer an integer parameter from
// an integer column and refuse 3.5.
const numberParam = "CAST(? AS DOUBLE PRECISION)"

// Compile turns a parsed rule into SQL. Field names come only from the fixed
// table of fields; every value is a parameter.
func (r *Rule) Compile(o Options) (Query, error) {
	if r == nil || r.Root == nil {
		return Query{}, errorf(1, "the rule is empty")
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Contains == nil {
		o.Contains = func(col string) string { return "instr(" + col + ", ?) > 0" }
	}
	c := &compiler{o: o}
	if err := c.node(r.Root); err != nil {
		return Query{}, err
	}
	return Query{Where: c.b.String(), Args: c.args, Customers: c.customers}, nil
}

type compiler struct {
	o         Options
	b         strings.Builder
	args      []any
	customers bool
}

func (c *compiler) w(s string) { c.b.WriteString(s) }

func (c *compiler) arg(v any) { c.args = append(c.args, v) }

func (c *compiler) node(n Node) error {
	switch n := n.(type) {
	case *Binary:
		c.w("(")
		if err := c.node(n.Left); err != nil {
			return err
		}
		c.w(map[string]string{"and": " AND ", "or": " OR "}[n.Op])
		if err := c.node(n.Right); err != nil {
			return err
		}
		c.w(")")
	case *Not:
		c.w("(NOT ")
		if err := c.node(n.X); err != nil {
			return err
		}
		c.w(")")
	case *Comparison:
		return c.comparison(n)
	default:
		return errorf(n.pos(), "unknown kind of condition")
	}
	return nil
}

// sqlOps are the comparison operators in SQL.
var sqlOps = map[string]string{"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

func (c *compiler) comparison(n *Comparison) error {
	f := n.Field
	switch f.Kind {
	case KindAttribute:
		return c.attribute(n)
	case KindTime:
		return c.time(n)
	}
	// Enum, text and number fields: one column.
	param := "?"
	if f.Kind == KindNumber {
		param = numberParam
	}
	value := func(v Value) any {
		if v.Kind == ValueNumber {
			return v.Num
		}
		return v.Str
	}
	// A comparison with a missing value is false, never NULL, so that NOT
	// selects exactly the other customers.
	guard := ""
	if f.nullable {
		guard = f.column + " IS NOT NULL AND "
	}
	switch {
	case n.Op == "in" || n.Op == "not in":
		c.w("(" + guard + f.column)
		if n.Op == "not in" {
			c.w(" NOT")
		}
		c.w(" IN (")
		for i, v := range n.Values {
			if i > 0 {
				c.w(", ")
			}
			c.w(param)
			c.arg(value(v))
		}
		c.w("))")
	case n.Values[0].Kind == ValueNull:
		if n.Op == "=" {
			c.w("(" + f.column + " IS NULL)")
		} else {
			c.w("(" + f.column + " IS NOT NULL)")
		}
	default:
		op, ok := sqlOps[n.Op]
		if !ok {
			return errorf(n.Pos, "unknown operator %q", n.Op)
		}
		c.w("(" + guard + f.column + " " + op + " " + param + ")")
		c.arg(value(n.Values[0]))
	}
	return nil
}

// time compares created with a day (which covers the whole UTC day), an
// instant, or a number of days before now.
func (c *compiler) time(n *Comparison) error {
	v := n.Values[0]
	col := n.Field.column
	at := v.Time
	if v.Ago {
		at = c.o.Now.UTC().AddDate(0, 0, -v.DaysAgo)
	}
	start, end := at.UnixMicro(), at.UnixMicro()+1
	if v.Day {
		end = at.AddDate(0, 0, 1).UnixMicro()
	}
	switch n.Op {
	case "=":
		c.w("(" + col + " >= ? AND " + col + " < ?)")
		c.arg(start)
		c.arg(end)
	case "!=":
		c.w("(" + col + " < ? OR " + col + " >= ?)")
		c.arg(start)
		c.arg(end)
	case "<":
		c.w("(" + col + " < ?)")
		c.arg(start)
	case ">=":
		c.w("(" + col + " >= ?)")
		c.arg(start)
	case "<=":
		c.w("(" + col + " < ?)")
		c.arg(end)
	case ">":
		c.w("(" + col + " >= ?)")
		c.arg(end)
	default:
		return errorf(n.Pos, "unknown operator %q", n.Op)
	}
	return nil
}

// attribute tests a custom attribute. Attributes are stored as the compact
// JSON that encoding/json writes (keys sorted, no spaces), so `"key":"value"`
// appears in the text exactly when the attribute has that value: inside a
// JSON string every quote is escaped. The same holds for nested objects, so
// keep attributes flat.
func (c *compiler) attribute(n *Comparison) error {
	c.customers = true
	key, err := json.Marshal(n.Attr)
	if err != nil {
		return errorf(n.Pos, "the attribute's name cannot be encoded")
	}
	prefix := string(key) + ":"
	contains := func(text string) {
		c.w("(" + c.o.Contains(n.Field.column) + ")")
		c.arg(text)
	}
	equals := func(v Value) error {
		var enc []byte
		var err error
		switch v.Kind {
		case ValueString:
			enc, err = json.Marshal(v.Str)
		case ValueNumber:
			enc, err = json.Marshal(v.Num)
		case ValueBool:
			enc, err = json.Marshal(v.Bool)
		default:
			return errorf(v.Pos, "null is not a value an attribute can be equal to in a list")
		}
		if err != nil {
			return errorf(v.Pos, "the value cannot be encoded")
		}
		if v.Kind == ValueString {
			contains(prefix + string(enc))
			return nil
		}
		// A number or boolean ends at the next comma or at the end of the object.
		c.w("(")
		contains(prefix + string(enc) + ",")
		c.w(" OR ")
		contains(prefix + string(enc) + "}")
		c.w(")")
		return nil
	}
	anyOf := func(vals []Value) error {
		c.w("(")
		for i, v := range vals {
			if i > 0 {
				c.w(" OR ")
			}
			if err := equals(v); err != nil {
				return err
			}
		}
		c.w(")")
		return nil
	}
	v := n.Values[0]
	switch {
	case n.Op == "=" && v.Kind == ValueNull:
		c.w("(NOT ")
		contains(prefix)
		c.w(")")
	case n.Op == "!=" && v.Kind == ValueNull:
		c.w("(")
		contains(prefix)
		c.w(")")
	case n.Op == "=" || n.Op == "in":
		return anyOf(n.Values)
	case n.Op == "!=" || n.Op == "not in":
		c.w("(")
		contains(prefix)
		c.w(" AND NOT ")
		if err := anyOf(n.Values); err != nil {
			return err
		}
		c.w(")")
	default:
		return errorf(n.Pos, "attributes can be compared only with =, !=, in and not in")
	}
	return nil
}

// String renders a compiled query for logs and tests.
func (q Query) String() string { return fmt.Sprintf("%s %v", q.Where, q.Args) }
