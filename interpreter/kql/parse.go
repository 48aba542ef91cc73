package kql

import (
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/secflow/secflow/interpreter/jsvalue"
)

// wildcardSymbol is Kibana's in-band marker for an unescaped `*` in an
// unquoted literal (KQL_WILDCARD_SYMBOL). Keeping it lets odd inputs (a
// wildcard in a field name or range bound) behave exactly as in Kibana.
const wildcardSymbol = "@kuery-wildcard@"

type nodeKind uint8

const (
	nodeAnd nodeKind = iota
	nodeOr
	nodeNot
	nodeIs
	nodeRange
	nodeNested
)

type litKind uint8

const (
	litString litKind = iota
	litBool
	litNull
	litWildcard
)

// literal is a KQL literal or wildcard node.
type literal struct {
	kind litKind
	// str is String(node.value) in Kibana: the text, "true"/"false",
	// "null", or the wildcard text with wildcardSymbol markers.
	str string
	// parts is str split at the wildcards (wildcard nodes only).
	parts []string
	// num is parseFloat(str) (NaN when not numeric).
	num float64
	// dateMath is set when str starts with "now" or contains "||".
	dateMath bool
}

func newLiteral(kind litKind, s string) *literal {
	l := &literal{kind: kind, str: s, num: jsvalue.ParseFloat(s)}
	if kind == litWildcard {
		l.parts = strings.Split(s, wildcardSymbol)
	}
	l.dateMath = strings.HasPrefix(s, "now") || strings.Contains(s, "||")
	return l
}

// node is a KQL function node.
type node struct {
	kind  nodeKind
	kids  []*node
	path  []string // is/range: the field split with JS property-access rules
	value *literal // is/range: the right-hand side
	op    rangeOp  // range only
}

type rangeOp uint8

const (
	opGT rangeOp = iota
	opGTE
	opLT
	opLTE
)

// valueTree is a value list (`field: (a or b and not c)`) before the field
// is distributed over it, like the grammar's partial functions.
type valueTree struct {
	kind nodeKind // nodeAnd, nodeOr, nodeNot or nodeIs
	kids []*valueTree
	lit  *literal
}

func (v *valueTree) apply(path []string) *node {
	if v.kind == nodeIs {
		return &node{kind: nodeIs, path: path, value: v.lit}
	}
	n := &node{kind: v.kind, kids: make([]*node, len(v.kids))}
	for i, k := range v.kids {
		n.kids[i] = k.apply(path)
	}
	return n
}

// parser is a backtracking recursive-descent transcription of Kibana's
// grammar.peggy. Failure reporting follows peggy: the furthest failure
// position wins, named rules report their name and silence their insides.
type parser struct {
	src      string
	pos      int
	silent   int
	maxFail  int
	expected []string
}

// parse parses src into a function node.
func parse(src string) (*node, error) {
	p := &parser{src: src}
	p.spaces()
	save := p.pos
	q, ok := p.orQuery()
	if !ok {
		p.pos = save
		q = nil
	}
	p.optionalSpace()
	if p.pos != len(p.src) {
		p.fail("end of input")
		return nil, p.syntaxError()
	}
	if q == nil {
		// An empty query is `is(*, *)` in Kibana.
		return &node{kind: nodeIs, path: fieldPath(newLiteral(litWildcard, wildcardSymbol)),
			value: newLiteral(litWildcard, wildcardSymbol)}, nil
	}
	return q, nil
}

func (p *parser) syntaxError() *SyntaxError {
	seen := map[string]bool{}
	var list []string
	for _, e := range p.expected {
		if !seen[e] {
			seen[e] = true
			list = append(list, e)
		}
	}
	sort.Strings(list)
	found := "end of input"
	if p.maxFail < len(p.src) {
		r, size := utf8.DecodeRuneInString(p.src[p.maxFail:])
		if r == utf8.RuneError && size <= 1 {
			found = `"` + p.src[p.maxFail:p.maxFail+1] + `"`
		} else {
			found = `"` + string(r) + `"`
		}
	}
	msg := "Expected " + strings.Join(list, ", ") + " but " + found + " found."
	return &SyntaxError{Query: p.src, Pos: p.maxFail, Msg: msg}
}

func (p *parser) fail(desc string) {
	if p.silent > 0 || p.pos < p.maxFail {
		return
	}
	if p.pos > p.maxFail {
		p.maxFail = p.pos
		p.expected = p.expected[:0]
	}
	p.expected = append(p.expected, desc)
}

// lit matches an exact terminal.
func (p *parser) lit(s string) bool {
	if strings.HasPrefix(p.src[p.pos:], s) {
		p.pos += len(s)
		return true
	}
	p.fail(`"` + s + `"`)
	return false
}

// litI matches an ASCII keyword case-insensitively and returns its text.
func (p *parser) litI(s string) (string, bool) {
	if len(p.src)-p.pos >= len(s) && strings.EqualFold(p.src[p.pos:p.pos+len(s)], s) {
		t := p.src[p.pos : p.pos+len(s)]
		p.pos += len(s)
		return t, true
	}
	p.fail(`"` + s + `"`)
	return "", false
}

func isSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\r' || r == '\n' || r == '\u00a0'
}

// space is the named rule Space "whitespace".
func (p *parser) space() bool {
	if p.pos < len(p.src) {
		r, size := utf8.DecodeRuneInString(p.src[p.pos:])
		if isSpace(r) {
			p.pos += size
			return true
		}
	}
	p.fail("whitespace")
	return false
}

// spaces is Space*.
func (p *parser) spaces() {
	for p.space() {
	}
}

// spaces1 is Space+.
func (p *parser) spaces1() bool {
	if !p.space() {
		return false
	}
	p.spaces()
	return true
}

// optionalSpace is OptionalSpace (its failures are not reported, as in
// Kibana's messages).
func (p *parser) optionalSpace() {
	p.silent++
	p.spaces()
	p.silent--
}

// named runs a named rule: inner failures are silent, a failure reports
// the rule's name at its start position.
func (p *parser) named(name string, f func() bool) bool {
	start := p.pos
	p.silent++
	ok := f()
	p.silent--
	if !ok {
		p.pos = start
		p.fail(name)
	}
	return ok
}

func (p *parser) keyword(name, kw string) bool {
	return p.named(name, func() bool {
		if !p.spaces1() {
			return false
		}
		if _, ok := p.litI(kw); !ok {
			return false
		}
		return p.spaces1()
	})
}

func (p *parser) or() bool  { return p.keyword("OR", "or") }
func (p *parser) and() bool { return p.keyword("AND", "and") }

func (p *parser) not() bool {
	return p.named("NOT", func() bool {
		if _, ok := p.litI("not"); !ok {
			return false
		}
		return p.spaces1()
	})
}

func (p *parser) orQuery() (*node, bool) {
	kids, ok := sepBy(p, p.andQuery, p.or)
	if !ok {
		return nil, false
	}
	if len(kids) == 1 {
		return kids[0], true
	}
	return &node{kind: nodeOr, kids: kids}, true
}

func (p *parser) andQuery() (*node, bool) {
	kids, ok := sepBy(p, p.notQuery, p.and)
	if !ok {
		return nil, false
	}
	if len(kids) == 1 {
		return kids[0], true
	}
	return &node{kind: nodeAnd, kids: kids}, true
}

func (p *parser) notQuery() (*node, bool) {
	save := p.pos
	if p.not() {
		if q, ok := p.subQuery(); ok {
			return &node{kind: nodeNot, kids: []*node{q}}, true
		}
	}
	p.pos = save
	return p.subQuery()
}

func (p *parser) subQuery() (*node, bool) {
	save := p.pos
	if p.lit("(") {
		p.spaces()
		if q, ok := p.orQuery(); ok {
			p.optionalSpace()
			if p.lit(")") {
				return q, true
			}
		}
	}
	p.pos = save
	return p.nestedQuery()
}

func (p *parser) nestedQuery() (*node, bool) {
	save := p.pos
	if f, ok := p.field(); ok {
		p.spaces()
		if p.lit(":") {
			p.spaces()
			if p.lit("{") {
				p.spaces()
				if q, ok := p.orQuery(); ok {
					p.optionalSpace()
					if p.lit("}") {
						return &node{kind: nodeNested, path: fieldPath(f), kids: []*node{q}}, true
					}
				}
			}
		}
	}
	p.pos = save
	return p.expression()
}

func (p *parser) expression() (*node, bool) {
	save := p.pos
	if n, ok := p.fieldRange(); ok {
		return n, true
	}
	p.pos = save
	if n, ok := p.fieldValue(); ok {
		return n, true
	}
	p.pos = save
	v, ok := p.value()
	if !ok {
		p.pos = save
		return nil, false
	}
	// Free text: the field is the literal null, read as the path "null".
	return v.apply(fieldPath(newLiteral(litNull, "null"))), true
}

func (p *parser) field() (*literal, bool) {
	var l *literal
	ok := p.named("field name", func() bool {
		var ok bool
		l, ok = p.literal()
		return ok
	})
	return l, ok
}

func (p *parser) literal() (*literal, bool) {
	var l *literal
	ok := p.named("literal", func() bool {
		var ok bool
		if l, ok = p.quotedString(); ok {
			return true
		}
		l, ok = p.unquotedLiteral()
		return ok
	})
	return l, ok
}

func (p *parser) fieldRange() (*node, bool) {
	f, ok := p.field()
	if !ok {
		return nil, false
	}
	p.spaces()
	var op rangeOp
	switch {
	case p.lit("<="):
		op = opLTE
	case p.lit(">="):
		op = opGTE
	case p.lit("<"):
		op = opLT
	case p.lit(">"):
		op = opGT
	default:
		return nil, false
	}
	p.spaces()
	v, ok := p.literal()
	if !ok {
		return nil, false
	}
	return &node{kind: nodeRange, path: fieldPath(f), op: op, value: v}, true
}

func (p *parser) fieldValue() (*node, bool) {
	f, ok := p.field()
	if !ok {
		return nil, false
	}
	p.spaces()
	if !p.lit(":") {
		return nil, false
	}
	p.spaces()
	v, ok := p.listOfValues()
	if !ok {
		return nil, false
	}
	return v.apply(fieldPath(f)), true
}

func (p *parser) listOfValues() (*valueTree, bool) {
	save := p.pos
	if p.lit("(") {
		p.spaces()
		if v, ok := p.orListOfValues(); ok {
			p.optionalSpace()
			if p.lit(")") {
				return v, true
			}
		}
	}
	p.pos = save
	return p.value()
}

func (p *parser) orListOfValues() (*valueTree, bool) {
	kids, ok := sepBy(p, p.andListOfValues, p.or)
	if !ok {
		return nil, false
	}
	if len(kids) == 1 {
		return kids[0], true
	}
	return &valueTree{kind: nodeOr, kids: kids}, true
}

func (p *parser) andListOfValues() (*valueTree, bool) {
	kids, ok := sepBy(p, p.notListOfValues, p.and)
	if !ok {
		return nil, false
	}
	if len(kids) == 1 {
		return kids[0], true
	}
	return &valueTree{kind: nodeAnd, kids: kids}, true
}

func (p *parser) notListOfValues() (*valueTree, bool) {
	save := p.pos
	if p.not() {
		if v, ok := p.listOfValues(); ok {
			return &valueTree{kind: nodeNot, kids: []*valueTree{v}}, true
		}
	}
	p.pos = save
	return p.listOfValues()
}

// value is the named rule Value "value".
func (p *parser) value() (*valueTree, bool) {
	var l *literal
	ok := p.named("value", func() bool {
		var ok bool
		if l, ok = p.quotedString(); ok {
			return true
		}
		l, ok = p.unquotedLiteral()
		return ok
	})
	if !ok {
		return nil, false
	}
	return &valueTree{kind: nodeIs, lit: l}, true
}

func (p *parser) peek() (rune, int) {
	if p.pos >= len(p.src) {
		return -1, 0
	}
	return utf8.DecodeRuneInString(p.src[p.pos:])
}

func (p *parser) quotedString() (*literal, bool) {
	save := p.pos
	if !p.lit(`"`) {
		return nil, false
	}
	var b strings.Builder
	for {
		if s, ok := p.escapedWhitespace(); ok {
			b.WriteString(s)
			continue
		}
		if s, ok := p.escapedUnicode(); ok {
			b.WriteString(s)
			continue
		}
		if strings.HasPrefix(p.src[p.pos:], `\\`) || strings.HasPrefix(p.src[p.pos:], `\"`) {
			b.WriteByte(p.src[p.pos+1])
			p.pos += 2
			continue
		}
		r, size := p.peek()
		if size == 0 || r == '"' {
			break
		}
		b.WriteString(p.src[p.pos : p.pos+size])
		p.pos += size
	}
	if !p.lit(`"`) {
		p.pos = save
		return nil, false
	}
	// secflow follows the conformance reference (semantics §5.3, C14): a
	// `*` inside a quoted value is still a wildcard, while a backslash is
	// kept as an ordinary character (so "John\*" matches neither "John*"
	// nor "John Doe"). Kibana's newest kbn-eval-kql treats quoted values as
	// exact literals; that difference is documented in the package doc.
	if str := b.String(); strings.Contains(str, "*") {
		return newLiteral(litWildcard, strings.ReplaceAll(str, "*", wildcardSymbol)), true
	}
	return newLiteral(litString, b.String()), true
}

func (p *parser) escapedWhitespace() (string, bool) {
	rest := p.src[p.pos:]
	if len(rest) >= 2 && rest[0] == '\\' {
		switch rest[1] {
		case 't':
			p.pos += 2
			return "\t", true
		case 'r':
			p.pos += 2
			return "\r", true
		case 'n':
			p.pos += 2
			return "\n", true
		}
	}
	return "", false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func (p *parser) escapedUnicode() (string, bool) {
	rest := p.src[p.pos:]
	if len(rest) >= 6 && rest[0] == '\\' && rest[1] == 'u' &&
		isHex(rest[2]) && isHex(rest[3]) && isHex(rest[4]) && isHex(rest[5]) {
		var v rune
		for _, c := range []byte(rest[2:6]) {
			v <<= 4
			switch {
			case c >= '0' && c <= '9':
				v |= rune(c - '0')
			case c >= 'a' && c <= 'f':
				v |= rune(c-'a') + 10
			default:
				v |= rune(c-'A') + 10
			}
		}
		p.pos += 6
		return string(v), true
	}
	return "", false
}

func isSpecial(r rune) bool {
	switch r {
	case '\\', '(', ')', ':', '<', '>', '"', '*', '{', '}':
		return true
	}
	return false
}

// atKeyword is the grammar's Keyword lookahead: Space or Space,
// Space and Space, or `not` Space.
func (p *parser) atKeyword() bool {
	rest := p.src[p.pos:]
	r, size := utf8.DecodeRuneInString(rest)
	if size > 0 && isSpace(r) {
		after := rest[size:]
		for _, kw := range [...]string{"or", "and"} {
			if len(after) > len(kw) && strings.EqualFold(after[:len(kw)], kw) {
				r2, _ := utf8.DecodeRuneInString(after[len(kw):])
				if isSpace(r2) {
					return true
				}
			}
		}
		return false
	}
	if len(rest) > 3 && strings.EqualFold(rest[:3], "not") {
		r2, _ := utf8.DecodeRuneInString(rest[3:])
		return isSpace(r2)
	}
	return false
}

func (p *parser) unquotedLiteral() (*literal, bool) {
	var b strings.Builder
	wildcard := false
	n := 0
	for {
		rest := p.src[p.pos:]
		if len(rest) == 0 {
			break
		}
		if s, ok := p.escapedWhitespace(); ok {
			b.WriteString(s)
			n++
			continue
		}
		if len(rest) >= 2 && rest[0] == '\\' {
			r, size := utf8.DecodeRuneInString(rest[1:])
			if isSpecial(r) {
				b.WriteString(rest[1 : 1+size])
				p.pos += 1 + size
				n++
				continue
			}
		}
		if s, ok := p.escapedUnicode(); ok {
			b.WriteString(s)
			n++
			continue
		}
		if rest[0] == '\\' {
			matched := false
			for _, kw := range [...]string{"or", "and", "not"} {
				if len(rest) >= 1+len(kw) && strings.EqualFold(rest[1:1+len(kw)], kw) {
					b.WriteString(rest[1 : 1+len(kw)])
					p.pos += 1 + len(kw)
					matched = true
					break
				}
			}
			if matched {
				n++
				continue
			}
		}
		if rest[0] == '*' {
			b.WriteString(wildcardSymbol)
			wildcard = true
			p.pos++
			n++
			continue
		}
		r, size := utf8.DecodeRuneInString(rest)
		if isSpecial(r) || p.atKeyword() {
			break
		}
		b.WriteString(rest[:size])
		p.pos += size
		n++
	}
	if n == 0 {
		p.fail("literal character")
		return nil, false
	}
	seq := jsvalue.Trim(b.String())
	switch {
	case seq == "null":
		return newLiteral(litNull, "null"), true
	case seq == "true":
		return newLiteral(litBool, "true"), true
	case seq == "false":
		return newLiteral(litBool, "false"), true
	case wildcard:
		return newLiteral(litWildcard, seq), true
	}
	return newLiteral(litString, seq), true
}

// sepBy parses `item (sep item)*` (the grammar's OrQuery, AndQuery,
// OrListOfValues and AndListOfValues): a separator not followed by an item
// is left unconsumed.
func sepBy[T any](p *parser, item func() (T, bool), sep func() bool) ([]T, bool) {
	head, ok := item()
	if !ok {
		return nil, false
	}
	items := []T{head}
	for {
		save := p.pos
		if !sep() {
			p.pos = save
			break
		}
		next, ok := item()
		if !ok {
			p.pos = save
			break
		}
		items = append(items, next)
	}
	return items, true
}
