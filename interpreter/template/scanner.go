package template

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/secflow/secflow/interpreter/jsvalue"
)

// scanner tokenizes Liquid expressions the way the LiquidJS Tokenizer does.
type scanner struct {
	s string
	p int
}

func isBlankRune(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x180e, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// isWordRune is LiquidJS isWord: ASCII letters, digits, '_', '-', '?', and
// any non-ASCII character that is not blank.
func isWordRune(r rune) bool {
	if r >= utf8.RuneSelf {
		return !isBlankRune(r)
	}
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '?'
}

func (s *scanner) end() bool { return s.p >= len(s.s) }

func (s *scanner) peek(n int) byte {
	if s.p+n >= len(s.s) || s.p+n < 0 {
		return 0
	}
	return s.s[s.p+n]
}

// runeAt decodes the rune at byte offset i (0 when out of range).
func (s *scanner) runeAt(i int) (rune, int) {
	if i >= len(s.s) || i < 0 {
		return 0, 0
	}
	c := s.s[i]
	if c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s.s[i:])
}

func (s *scanner) isWordAt(i int) bool {
	r, n := s.runeAt(i)
	return n > 0 && isWordRune(r)
}

func (s *scanner) skipBlank() {
	for s.p < len(s.s) {
		r, n := s.runeAt(s.p)
		if !isBlankRune(r) {
			return
		}
		s.p += n
	}
}

func (s *scanner) remaining() string { return s.s[s.p:] }

func (s *scanner) snapshot() string {
	rest := s.s[s.p:]
	if jsvalue.UTF16Len(rest) > 32 {
		rest = jsSubstr(rest, 0, 29) + "..."
	}
	b, _ := json.Marshal(rest)
	return string(b)
}

func (s *scanner) errorf(format string, args ...any) error {
	return newError(format, args...)
}

// readIdentifier reads a (possibly empty) run of word characters.
func (s *scanner) readIdentifier() string {
	s.skipBlank()
	begin := s.p
	for s.p < len(s.s) {
		r, n := s.runeAt(s.p)
		if !isWordRune(r) {
			break
		}
		s.p += n
	}
	return s.s[begin:s.p]
}

// readTo advances past the next occurrence of end, where the match may
// start at the current position (LiquidJS Tokenizer.readTo); false when not
// found (the scanner is then at the end).
func (s *scanner) readTo(end string) bool {
	for s.p < len(s.s) {
		s.p++
		if s.p >= len(end) && s.s[s.p-len(end):s.p] == end {
			return true
		}
	}
	return false
}

// readQuoted reads a quoted string literal.
func (s *scanner) readQuoted() (string, bool) {
	s.skipBlank()
	if s.p >= len(s.s) || (s.s[s.p] != '"' && s.s[s.p] != '\'') {
		return "", false
	}
	begin := s.p
	q := s.s[begin]
	s.p++
	escaped := false
	for s.p < len(s.s) {
		s.p++
		c := s.s[s.p-1]
		if c == q && !escaped {
			break
		}
		if escaped {
			escaped = false
		} else if c == '\\' {
			escaped = true
		}
	}
	return parseStringLiteral(s.s[begin:s.p]), true
}

// parseStringLiteral unquotes a LiquidJS string literal (quotes included).
func parseStringLiteral(raw string) string {
	if len(raw) < 2 {
		return ""
	}
	body := raw[1:]
	if body[len(body)-1] == raw[0] {
		body = body[:len(body)-1]
	}
	if !strings.Contains(body, "\\") {
		return body
	}
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' || i+1 >= len(body) {
			b.WriteByte(c)
			continue
		}
		i++
		switch e := body[i]; e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case '0':
			b.WriteByte(0)
		case 'u':
			if i+4 < len(body) {
				if n, err := strconv.ParseUint(body[i+1:i+5], 16, 32); err == nil {
					b.WriteRune(rune(n))
					i += 4
					continue
				}
			}
			b.WriteByte('u')
		case 'x':
			if i+2 < len(body) {
				if n, err := strconv.ParseUint(body[i+1:i+3], 16, 32); err == nil {
					b.WriteRune(rune(n))
					i += 2
					continue
				}
			}
			b.WriteByte('x')
		default:
			b.WriteByte(e)
		}
	}
	return b.String()
}

var literalWords = []struct {
	word string
	val  any
}{
	{"true", true}, {"false", false}, {"nil", nullDrop{}}, {"null", nullDrop{}},
	{"empty", emptyDrop{}}, {"blank", blankDrop{}},
}

func (s *scanner) readLiteral() (*valueExpr, bool) {
	s.skipBlank()
	rest := s.s[s.p:]
	for _, l := range literalWords {
		if strings.HasPrefix(rest, l.word) && !s.isWordAt(s.p+len(l.word)) {
			s.p += len(l.word)
			return &valueExpr{kind: exLiteral, lit: l.val, text: l.word}, true
		}
	}
	return nil, false
}

func (s *scanner) readNumber() (*valueExpr, bool) {
	s.skipBlank()
	n := 0
	if s.peek(0) == '-' {
		n++
	}
	decimal, digit := false, false
	for s.p+n < len(s.s) {
		c := s.peek(n)
		if c >= '0' && c <= '9' {
			digit = true
			n++
		} else if c == '.' && s.peek(n+1) != '.' {
			if decimal || !digit {
				return nil, false
			}
			decimal = true
			n++
		} else {
			break
		}
	}
	if digit && !s.isWordAt(s.p+n) {
		text := s.s[s.p : s.p+n]
		s.p += n
		f, _ := strconv.ParseFloat(strings.TrimSuffix(text, "."), 64)
		return &valueExpr{kind: exLiteral, lit: f, text: text}, true
	}
	return nil, false
}

func (s *scanner) readRange() (*valueExpr, bool, error) {
	s.skipBlank()
	if s.peek(0) != '(' {
		return nil, false, nil
	}
	begin := s.p
	s.p++
	lo, err := s.readValueOrThrow()
	if err != nil {
		return nil, false, err
	}
	s.p = min(s.p+2, len(s.s))
	hi, err := s.readValueOrThrow()
	if err != nil {
		return nil, false, err
	}
	s.p = min(s.p+1, len(s.s))
	return &valueExpr{kind: exRange, lo: lo, hi: hi, text: s.s[begin:s.p]}, true, nil
}

func (s *scanner) readValueOrThrow() (*valueExpr, error) {
	v, err := s.readValue()
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, s.errorf("unexpected token %s, value expected", s.snapshot())
	}
	return v, nil
}

// readValue reads one operand: a literal, quoted string, range or number,
// optionally followed by property accesses, or a variable path.
func (s *scanner) readValue() (*valueExpr, error) {
	s.skipBlank()
	begin := s.p
	var base *valueExpr
	if v, ok := s.readLiteral(); ok {
		base = v
	} else if str, ok := s.readQuoted(); ok {
		base = &valueExpr{kind: exLiteral, lit: str, text: s.s[begin:s.p]}
	} else if r, ok, err := s.readRange(); err != nil {
		return nil, err
	} else if ok {
		base = r
	} else if n, ok := s.readNumber(); ok {
		base = n
	}
	props, err := s.readProperties(base == nil)
	if err != nil {
		return nil, err
	}
	if len(props) == 0 {
		return base, nil
	}
	return &valueExpr{kind: exPath, base: base, props: props, text: s.s[begin:s.p]}, nil
}

func (s *scanner) readProperties(isBegin bool) ([]*valueExpr, error) {
	var props []*valueExpr
	for {
		if s.peek(0) == '[' {
			s.p++
			prop, err := s.readValue()
			if err != nil {
				return nil, err
			}
			if prop == nil {
				prop = &valueExpr{kind: exLiteral, lit: ""}
			}
			if !s.readTo("]") {
				return nil, s.errorf("[ not closed")
			}
			props = append(props, prop)
			continue
		}
		if isBegin && len(props) == 0 {
			if id := s.readIdentifier(); id != "" {
				props = append(props, &valueExpr{kind: exLiteral, lit: id, text: id})
				continue
			}
		}
		if s.peek(0) == '.' && s.peek(1) != '.' {
			s.p++
			id := s.readIdentifier()
			if id == "" {
				break
			}
			props = append(props, &valueExpr{kind: exLiteral, lit: id, text: id})
			continue
		}
		break
	}
	return props, nil
}

var symbolOps = []string{"==", "!=", ">=", "<=", ">", "<"}
var wordOps = []string{"contains", "and", "not", "or"}

func (s *scanner) readOperator() (string, bool) {
	s.skipBlank()
	rest := s.s[s.p:]
	for _, op := range symbolOps {
		if strings.HasPrefix(rest, op) {
			s.p += len(op)
			return op, true
		}
	}
	for _, op := range wordOps {
		if strings.HasPrefix(rest, op) && !s.isWordAt(s.p+len(op)) {
			s.p += len(op)
			return op, true
		}
	}
	return "", false
}

var precedence = map[string]int{
	"==": 2, "!=": 2, ">": 2, "<": 2, ">=": 2, "<=": 2, "contains": 2,
	"not": 1, "and": 0, "or": 0,
}

// readExpression reads operands and operators and converts them to postfix
// order with LiquidJS's precedence rules (and/or are right-associative).
func (s *scanner) readExpression() (expression, error) {
	var out []exprTok
	var ops []string
	for s.p < len(s.s) {
		if op, ok := s.readOperator(); ok {
			for len(ops) > 0 && precedence[ops[len(ops)-1]] > precedence[op] {
				out = append(out, exprTok{op: ops[len(ops)-1]})
				ops = ops[:len(ops)-1]
			}
			ops = append(ops, op)
			continue
		}
		v, err := s.readValue()
		if err != nil {
			return expression{}, err
		}
		if v == nil {
			break
		}
		out = append(out, exprTok{val: v})
	}
	for i := len(ops) - 1; i >= 0; i-- {
		out = append(out, exprTok{op: ops[i]})
	}
	return expression{postfix: out}, nil
}

// readFilteredValue reads `expression | filter: args | ...`.
func (s *scanner) readFilteredValue(e *Engine) (*filteredValue, error) {
	begin := s.p
	initial, err := s.readExpression()
	if err != nil {
		return nil, err
	}
	if len(initial.postfix) == 0 {
		return nil, s.errorf("invalid value expression: %s", s.snapshot())
	}
	fv := &filteredValue{initial: initial}
	for {
		s.skipBlank()
		if s.end() {
			break
		}
		if s.s[s.p] != '|' {
			return nil, s.errorf(`expected "|" before filter`)
		}
		s.p++
		name := s.readIdentifier()
		if name == "" {
			if !s.end() {
				return nil, s.errorf("expected filter name")
			}
			break
		}
		f := filterCall{name: name}
		fn, ok := e.filters[name]
		if !ok {
			return nil, s.errorf("undefined filter: %s", name)
		}
		f.fn = fn
		s.skipBlank()
		if s.peek(0) == ':' {
			for {
				s.p++
				arg, err := s.readFilterArg()
				if err != nil {
					return nil, err
				}
				if arg != nil {
					f.args = append(f.args, *arg)
				}
				s.skipBlank()
				if !(s.end() || s.peek(0) == ',' || s.peek(0) == '|') {
					return nil, s.errorf("unexpected character %s", s.snapshot())
				}
				if s.peek(0) != ',' {
					break
				}
			}
		} else if !(s.peek(0) == '|' || s.end()) {
			return nil, s.errorf(`expected ":" after filter name`)
		}
		fv.filters = append(fv.filters, f)
	}
	fv.src = s.s[begin:s.p]
	return fv, nil
}

func (s *scanner) readFilterArg() (*filterArg, error) {
	begin := s.p
	key, err := s.readValue()
	if err != nil || key == nil {
		return nil, err
	}
	keyText := strings.TrimSpace(s.s[begin:s.p])
	s.skipBlank()
	if s.peek(0) != ':' {
		return &filterArg{val: key}, nil
	}
	s.p++
	val, err := s.readValue()
	if err != nil {
		return nil, err
	}
	return &filterArg{key: keyText, val: val, keyword: true}, nil
}

// readHash reads `name: value` pairs (and bare names, which become true).
func (s *scanner) readHash() (map[string]*valueExpr, []string, error) {
	hash := map[string]*valueExpr{}
	var order []string
	for {
		s.skipBlank()
		if s.peek(0) == ',' {
			s.p++
		}
		name := s.readIdentifier()
		if name == "" {
			return hash, order, nil
		}
		s.skipBlank()
		var val *valueExpr
		if s.peek(0) == ':' {
			s.p++
			v, err := s.readValue()
			if err != nil {
				return nil, nil, err
			}
			val = v
		}
		if val == nil {
			val = &valueExpr{kind: exLiteral, lit: true}
		}
		if _, seen := hash[name]; !seen {
			order = append(order, name)
		}
		hash[name] = val
	}
}
