// Package segment reads the rule language that defines Rapport's segments
// and compiles a rule to a parameterised SQL condition.
//
// A rule is a condition on one customer, for example
//
//	stage = "commitment" and rating_90d < 3.5
//	attributes.region in ["North West", "Scotland"] and not misery_90d = 0
//	(holdings >= 2 or revenue_365d > 1000) and created < "2025-01-01"
//
// The grammar, in EBNF (keywords are case-insensitive):
//
//	rule       = or .
//	or         = and { "or" and } .
//	and        = unary { "and" unary } .
//	unary      = "not" unary | "(" or ")" | comparison .
//	comparison = field op value
//	           | field [ "not" ] "in" "[" value { "," value } "]" .
//	field      = ident | "attributes" "." ( ident | string ) .
//	op         = "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=" .
//	value      = string | number | "true" | "false" | "null" .
//	string     = '"' { char } '"' | "'" { char } "'" .  (escapes: \" \' \\ \n \t)
//	number     = [ "-" ] digit { digit } [ "." digit { digit } ] .
//	ident      = letter { letter | digit | "_" } .
//
// "and" binds tighter than "or"; "not" tighter than both. The fields, each
// with the values it takes, are listed by Fields. A comparison on a figure
// the customer does not have (no owner, no rating in 90 days, no such
// attribute, no measures yet) is false whatever the operator, so "not"
// always selects exactly the other customers.
//
// Safety: a field name becomes SQL only through a fixed table of columns,
// and every value is passed as a parameter, so no rule can change the shape
// of the query. Errors carry the 1-based position (in characters) of the
// token at fault.
package segment
