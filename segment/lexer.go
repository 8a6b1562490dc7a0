package segment

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error is a rule that cannot be read, with the 1-based position (in
// characters) of the token at fault.
type Error struct {
	Pos int
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("position %d: %s", e.Pos, e.Msg) }

func errorf(pos int, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// tokenKind is the kind of a lexical token.
type tokenKind int

const (
	tokEOF tokenKind = iota
	tokIdent
	tokString
	tokNumber
	tokOp // = != < <= > >=
	tokLParen
	tokRParen
	tokLBracket
	tokRBracket
	tokComma
	tokDot
	tokAnd
	tokOr
	tokNot
	tokIn
	tokTrue
	tokFalse
	tokNull
)

// token is one lexical unit; pos is its 1-based character position and
// text its source (for strings, the decoded value).
type token struct {
	kind tokenKind
	pos  int
	text string
}

var keywords = map[string]tokenKind{
	"and": tokAnd, "or": tokOr, "not": tokNot, "in": tokIn,
	"true": tokTrue, "false": tokFalse, "null": tokNull,
}

// describe names a token for error messages.
func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "the end of the rule"
	case tokString:
		return fmt.Sprintf("the string %q", t.text)
	case tokIdent:
		return fmt.Sprintf("%q", t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

// lex splits a rule into tokens.
func lex(src string) ([]token, error) {
	if !utf8.ValidString(src) {
		return nil, errorf(1, "the rule is not valid UTF-8 text")
	}
	var toks []token
	runes := []rune(src)
	for i := 0; i < len(runes); {
		r := runes[i]
		pos := i + 1
		switch {
		case unicode.IsSpace(r):
			i++
		case r == '(':
			toks, i = append(toks, token{tokLParen, pos, "("}), i+1
		case r == ')':
			toks, i = append(toks, token{tokRParen, pos, ")"}), i+1
		case r == '[':
			toks, i = append(toks, token{tokLBracket, pos, "["}), i+1
		case r == ']':
			toks, i = append(toks, token{tokRBracket, pos, "]"}), i+1
		case r == ',':
			toks, i = append(toks, token{tokComma, pos, ","}), i+1
		case r == '.' && !(i+1 < len(runes) && isDigit(runes[i+1])):
			toks, i = append(toks, token{tokDot, pos, "."}), i+1
		case r == '=' || r == '!' || r == '<' || r == '>':
			op, n := string(r), 1
			if i+1 < len(runes) {
				switch two := string(runes[i : i+2]); two {
				case "==":
					op, n = "=", 2
				case "!=", "<=", ">=":
					op, n = two, 2
				case "<>":
					op, n = "!=", 2
				}
			}
			if op == "!" {
				return nil, errorf(pos, `"!" must be followed by "=" (use "not" to negate)`)
			}
			toks, i = append(toks, token{tokOp, pos, op}), i+n
		case r == '"' || r == '\'':
			s, n, err := lexString(runes[i:], pos)
			if err != nil {
				return nil, err
			}
			toks, i = append(toks, token{tokString, pos, s}), i+n
		case isDigit(r) || r == '-' || r == '.':
			j := i
			if r == '-' {
				j++
			}
			start := j
			for j < len(runes) && isDigit(runes[j]) {
				j++
			}
			if j == start {
				return nil, errorf(pos, "a number must have digits after %q", string(r))
			}
			if j < len(runes) && runes[j] == '.' {
				j++
				frac := j
				for j < len(runes) && isDigit(runes[j]) {
					j++
				}
				if j == frac {
					return nil, errorf(pos, "a number must have digits after its decimal point")
				}
			}
			if j < len(runes) && (isLetter(runes[j]) || runes[j] == '_') {
				return nil, errorf(j+1, "unexpected %q after a number", string(runes[j]))
			}
			toks, i = append(toks, token{tokNumber, pos, string(runes[i:j])}), j
		case isLetter(r) || r == '_':
			j := i + 1
			for j < len(runes) && (isLetter(runes[j]) || isDigit(runes[j]) || runes[j] == '_') {
				j++
			}
			word := string(runes[i:j])
			kind := tokIdent
			if k, ok := keywords[strings.ToLower(word)]; ok {
				kind = k
			}
			toks, i = append(toks, token{kind, pos, word}), j
		default:
			return nil, errorf(pos, "unexpected character %q", string(r))
		}
	}
	return append(toks, token{tokEOF, len(runes) + 1, ""}), nil
}

// lexString reads a quoted string at the start of rs and returns its value
// and how many runes it took.
func lexString(rs []rune, pos int) (string, int, error) {
	quote := rs[0]
	var b strings.Builder
	for i := 1; i < len(rs); i++ {
		switch r := rs[i]; {
		case r == quote:
			return b.String(), i + 1, nil
		case r == '\\':
			if i+1 >= len(rs) {
				return "", 0, errorf(pos+i, "the string ends with an unfinished escape")
			}
			i++
			switch rs[i] {
			case '"', '\'', '\\':
				b.WriteRune(rs[i])
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			default:
				return "", 0, errorf(pos+i-1, `unknown escape "\%c": use \", \', \\, \n or \t`, rs[i])
			}
		case r == '\n':
			return "", 0, errorf(pos, "the string is not closed before the end of the line")
		default:
			b.WriteRune(r)
		}
	}
	return "", 0, errorf(pos, "the string is not closed: add %c", quote)
}

func isDigit(r rune) bool  { return r >= '0' && r <= '9' }
func isLetter(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }
