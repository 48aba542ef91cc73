package template

import (
	"strings"
)

type exprKind uint8

const (
	exLiteral exprKind = iota
	exPath
	exRange
)

// valueExpr is one operand: a literal, a range or a property path.
type valueExpr struct {
	kind  exprKind
	lit   any
	base  *valueExpr   // exPath: optional non-variable base (literal, range)
	props []*valueExpr // exPath: property keys; without base props[0] is the variable name
	lo    *valueExpr   // exRange
	hi    *valueExpr   // exRange
	text  string
}

// exprTok is an operand or an operator in postfix order.
type exprTok struct {
	op  string
	val *valueExpr
}

type expression struct{ postfix []exprTok }

type filterArg struct {
	key     string
	val     *valueExpr
	keyword bool
}

type filterCall struct {
	name string
	fn   filterFunc
	args []filterArg
}

// filteredValue is `expression | filter: args ...`.
type filteredValue struct {
	initial expression
	filters []filterCall
	src     string
}

// node is a parsed template element.
type node interface {
	render(c *renderCtx, b *strings.Builder) error
}

type textNode struct{ s string }
type outputNode struct{ v *filteredValue }
type assignNode struct {
	name string
	v    *filteredValue
}
type captureNode struct {
	name string
	body []node
}
type echoNode struct{ v *filteredValue }
type ifBranch struct {
	cond   *filteredValue
	negate bool
	body   []node
}
type ifNode struct {
	branches []ifBranch
	elseBody []node
}
type forNode struct {
	variable  string
	coll      *valueExpr
	collText  string
	hash      map[string]*valueExpr
	body      []node
	elseBody  []node
	hasElse   bool
	continueK string
}
type caseBranch struct {
	values []*valueExpr
	body   []node
}
type caseNode struct {
	v        *filteredValue
	branches []caseBranch
	elseBody []node
}
type cycleNode struct {
	group      *valueExpr
	candidates []*valueExpr
	key        string
}
type counterNode struct {
	name string
	inc  bool
}
type breakNode struct{ cont bool }
type seqNode struct{ body []node }

// allowedTags is Kibana's tag allow-list (LIQUID_ALLOWED_TAGS).
var allowedTags = map[string]bool{
	"assign": true, "for": true, "capture": true, "case": true, "comment": true,
	"decrement": true, "increment": true, "cycle": true, "if": true, "unless": true,
	"break": true, "continue": true, "raw": true, "echo": true, "liquid": true, "#": true,
}

type parser struct {
	e    *Engine
	toks []token
	i    int
}

func (e *Engine) parseTemplate(src string) ([]node, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{e: e, toks: toks}
	nodes, stop, err := p.parseUntil(nil)
	if err != nil {
		return nil, err
	}
	if stop != nil {
		return nil, newError("tag %q not found", stop.name)
	}
	return nodes, nil
}

// parseUntil parses tokens until a tag whose name is in stop (returned) or
// the end of input (nil token).
func (p *parser) parseUntil(stop map[string]bool) ([]node, *token, error) {
	var nodes []node
	for p.i < len(p.toks) {
		t := &p.toks[p.i]
		p.i++
		switch t.kind {
		case tokText:
			if t.text != "" {
				nodes = append(nodes, &textNode{s: t.text})
			}
		case tokOutput:
			sc := scanner{s: t.inner}
			v, err := sc.readFilteredValue(p.e)
			if err != nil {
				return nil, nil, err
			}
			nodes = append(nodes, &outputNode{v: v})
		case tokTag:
			if stop[t.name] {
				return nodes, t, nil
			}
			n, err := p.parseTag(t)
			if err != nil {
				return nil, nil, err
			}
			if n != nil {
				nodes = append(nodes, n)
			}
		}
	}
	return nodes, nil, nil
}

func notClosed(t *token) error {
	return newError("tag %s not closed", t.raw)
}

func (p *parser) parseTag(t *token) (node, error) {
	if !allowedTags[t.name] {
		return nil, newError("tag %q not found", t.name)
	}
	sc := &scanner{s: t.inner}
	switch t.name {
	case "assign":
		name := sc.readIdentifier()
		if name == "" {
			return nil, newError("expected variable name")
		}
		sc.skipBlank()
		if sc.peek(0) != '=' {
			return nil, newError(`expected "="`)
		}
		sc.p++
		v, err := sc.readFilteredValue(p.e)
		if err != nil {
			return nil, err
		}
		return &assignNode{name: name, v: v}, nil
	case "echo":
		sc.skipBlank()
		if sc.end() {
			return &echoNode{}, nil
		}
		v, err := sc.readFilteredValue(p.e)
		if err != nil {
			return nil, err
		}
		return &echoNode{v: v}, nil
	case "capture":
		name := sc.readIdentifier()
		if name == "" {
			q, ok := sc.readQuoted()
			if !ok {
				return nil, newError("invalid capture name")
			}
			name = q
		}
		body, stop, err := p.parseUntil(map[string]bool{"endcapture": true})
		if err != nil {
			return nil, err
		}
		if stop == nil {
			return nil, notClosed(t)
		}
		return &captureNode{name: name, body: body}, nil
	case "if", "unless":
		return p.parseIf(t)
	case "for":
		return p.parseFor(t, sc)
	case "case":
		return p.parseCase(t, sc)
	case "comment":
		for p.i < len(p.toks) {
			tk := &p.toks[p.i]
			p.i++
			if tk.kind == tokTag && tk.name == "endcomment" {
				return nil, nil
			}
		}
		return nil, notClosed(t)
	case "raw":
		var b strings.Builder
		for p.i < len(p.toks) {
			tk := &p.toks[p.i]
			p.i++
			if tk.kind == tokTag && tk.name == "endraw" {
				return &textNode{s: b.String()}, nil
			}
			if tk.kind == tokText {
				b.WriteString(tk.text)
			} else {
				b.WriteString(tk.raw)
			}
		}
		return nil, notClosed(t)
	case "#":
		lines := strings.Split(t.inner, "\n")
		for _, l := range lines[1:] {
			l = trimBlank(l)
			if l != "" && !strings.HasPrefix(l, "#") {
				return nil, newError("every line of an inline comment must start with a '#' character")
			}
		}
		return nil, nil
	case "increment", "decrement":
		return &counterNode{name: sc.readIdentifier(), inc: t.name == "increment"}, nil
	case "break":
		return &breakNode{}, nil
	case "continue":
		return &breakNode{cont: true}, nil
	case "cycle":
		return p.parseCycle(t, sc)
	case "liquid":
		return p.parseLiquid(t)
	}
	return nil, newError("tag %q not found", t.name)
}

func (p *parser) parseIf(t *token) (node, error) {
	endName := "end" + t.name
	sc := scanner{s: t.inner}
	cond, err := sc.readFilteredValue(p.e)
	if err != nil {
		return nil, err
	}
	n := &ifNode{}
	cur := ifBranch{cond: cond, negate: t.name == "unless"}
	inElse := false
	stops := map[string]bool{"elsif": true, "else": true, endName: true}
	for {
		body, stop, err := p.parseUntil(stops)
		if err != nil {
			return nil, err
		}
		if stop == nil {
			return nil, notClosed(t)
		}
		if inElse {
			n.elseBody = append(n.elseBody, body...)
		} else {
			cur.body = body
			n.branches = append(n.branches, cur)
		}
		switch stop.name {
		case endName:
			return n, nil
		case "else":
			if inElse {
				return nil, newError("duplicated else")
			}
			inElse = true
		case "elsif":
			if inElse {
				return nil, newError("unexpected elsif after else")
			}
			esc := scanner{s: stop.inner}
			c, err := esc.readFilteredValue(p.e)
			if err != nil {
				return nil, err
			}
			cur = ifBranch{cond: c}
		}
	}
}

func (p *parser) parseFor(t *token, sc *scanner) (node, error) {
	variable := sc.readIdentifier()
	in := sc.readIdentifier()
	coll, err := sc.readValue()
	if err != nil {
		return nil, err
	}
	if variable == "" || in != "in" || coll == nil {
		return nil, newError("illegal tag: %s", t.raw)
	}
	hash, _, err := sc.readHash()
	if err != nil {
		return nil, err
	}
	n := &forNode{variable: variable, coll: coll, collText: coll.text, hash: hash}
	n.continueK = "continue-" + variable + "-" + coll.text
	body, stop, err := p.parseUntil(map[string]bool{"else": true, "endfor": true})
	if err != nil {
		return nil, err
	}
	if stop == nil {
		return nil, notClosed(t)
	}
	n.body = body
	if stop.name == "else" {
		n.hasElse = true
		body, stop, err = p.parseUntil(map[string]bool{"endfor": true})
		if err != nil {
			return nil, err
		}
		if stop == nil {
			return nil, notClosed(t)
		}
		n.elseBody = body
	}
	return n, nil
}

func (p *parser) parseCase(t *token, sc *scanner) (node, error) {
	v, err := sc.readFilteredValue(p.e)
	if err != nil {
		return nil, err
	}
	n := &caseNode{v: v}
	stops := map[string]bool{"when": true, "else": true, "endcase": true}
	elseCount := 0
	// Content before the first {% when %} is discarded.
	_, stop, err := p.parseUntil(stops)
	for {
		if err != nil {
			return nil, err
		}
		if stop == nil {
			return nil, notClosed(t)
		}
		var body []node
		switch stop.name {
		case "endcase":
			return n, nil
		case "else":
			elseCount++
			body, stop, err = p.parseUntil(stops)
			if err == nil && elseCount == 1 {
				n.elseBody = body
			}
		case "when":
			wsc := scanner{s: stop.inner}
			var values []*valueExpr
			for {
				wsc.skipBlank()
				if wsc.end() {
					break
				}
				val, verr := wsc.readValueOrThrow()
				if verr != nil {
					return nil, verr
				}
				values = append(values, val)
				wsc.skipBlank()
				if wsc.peek(0) == ',' {
					wsc.readTo(",")
				} else {
					wsc.readTo("or")
				}
			}
			body, stop, err = p.parseUntil(stops)
			if err == nil && elseCount == 0 {
				n.branches = append(n.branches, caseBranch{values: values, body: body})
			}
		}
	}
}

func (p *parser) parseCycle(t *token, sc *scanner) (node, error) {
	n := &cycleNode{}
	first, err := sc.readValue()
	if err != nil {
		return nil, err
	}
	sc.skipBlank()
	if first != nil {
		if sc.peek(0) == ':' {
			n.group = first
			sc.p++
		} else {
			n.candidates = append(n.candidates, first)
		}
	}
	for !sc.end() {
		v, err := sc.readValue()
		if err != nil {
			return nil, err
		}
		if v != nil {
			n.candidates = append(n.candidates, v)
		}
		sc.readTo(",")
	}
	if len(n.candidates) == 0 {
		return nil, newError("empty candidates: %q", t.raw)
	}
	texts := make([]string, len(n.candidates))
	for i, c := range n.candidates {
		texts[i] = c.text
	}
	n.key = strings.Join(texts, ",")
	return n, nil
}

// parseLiquid parses {% liquid %}: one tag per line, without delimiters.
func (p *parser) parseLiquid(t *token) (node, error) {
	var toks []token
	for _, line := range strings.Split(t.inner, "\n") {
		line = trimBlank(line)
		if line == "" {
			continue
		}
		tk := token{kind: tokTag, raw: line}
		if strings.HasPrefix(line, "#") {
			tk.name = "#"
			tk.inner = ""
		} else {
			sc := scanner{s: line}
			tk.name = sc.readIdentifier()
			sc.skipBlank()
			tk.inner = sc.remaining()
		}
		if tk.name == "" {
			return nil, newError("illegal liquid tag syntax: %s", line)
		}
		toks = append(toks, tk)
	}
	sub := &parser{e: p.e, toks: toks}
	nodes, stop, err := sub.parseUntil(nil)
	if err != nil {
		return nil, err
	}
	if stop != nil {
		return nil, newError("tag %q not found", stop.name)
	}
	return &seqNode{body: nodes}, nil
}
