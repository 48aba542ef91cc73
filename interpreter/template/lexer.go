package template

import (
	"encoding/json"
	"strings"

	"github.com/secflow/secflow/interpreter/jsvalue"
)

type tokKind uint8

const (
	tokText tokKind = iota
	tokOutput
	tokTag
)

// token is a top-level template token: literal text, {{ output }} or {% tag %}.
type token struct {
	kind  tokKind
	raw   string // source text of the whole token ("{% if x %}")
	text  string // tokText: the text (after whitespace control)
	inner string // tokOutput: expression source; tokTag: arguments after the name
	name  string // tokTag: tag name
	trimL bool
	trimR bool
}

func snapshotAt(s string) string {
	if jsvalue.UTF16Len(s) > 32 {
		s = jsSubstr(s, 0, 29) + "..."
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// readToDelimiter returns the index just past delim, scanning from p like
// LiquidJS (optionally skipping quoted strings), or -1.
func readToDelimiter(s string, p int, delim string, respectQuoted bool) int {
	for p < len(s) {
		if respectQuoted && (s[p] == '"' || s[p] == '\'') {
			q := s[p]
			p++
			escaped := false
			for p < len(s) {
				p++
				c := s[p-1]
				if c == q && !escaped {
					break
				}
				if escaped {
					escaped = false
				} else if c == '\\' {
					escaped = true
				}
			}
			continue
		}
		p++
		if p >= len(delim) && s[p-len(delim):p] == delim {
			return p
		}
	}
	return -1
}

// lex splits a template into tokens and applies whitespace control.
func lex(src string) ([]token, error) {
	var toks []token
	p := 0
	inRaw := false
	for p < len(src) {
		if inRaw {
			t, end, err := readRawContent(src, p)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t...)
			p = end
			inRaw = false
			continue
		}
		rest := src[p:]
		switch {
		case strings.HasPrefix(rest, "{%"):
			end := readToDelimiter(src, p, "%}", false)
			if end < 0 {
				return nil, newError("tag %s not closed", snapshotAt(rest))
			}
			t := makeDelimited(tokTag, src[p:end])
			if t.name == "" {
				return nil, newError("illegal tag syntax, tag name expected")
			}
			toks = append(toks, t)
			p = end
			if t.name == "raw" {
				inRaw = true
			}
		case strings.HasPrefix(rest, "{{"):
			end := readToDelimiter(src, p, "}}", true)
			if end < 0 {
				return nil, newError("output %s not closed", snapshotAt(rest))
			}
			toks = append(toks, makeDelimited(tokOutput, src[p:end]))
			p = end
		default:
			i := indexDelim(rest)
			if i < 0 {
				i = len(rest)
			}
			toks = append(toks, token{kind: tokText, raw: rest[:i], text: rest[:i]})
			p += i
		}
	}
	whitespaceControl(toks)
	return toks, nil
}

// indexDelim finds the next "{{" or "{%".
func indexDelim(s string) int {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '{' && (s[i+1] == '{' || s[i+1] == '%') {
			return i
		}
	}
	return -1
}

func makeDelimited(kind tokKind, raw string) token {
	t := token{kind: kind, raw: raw}
	content := ""
	if len(raw) >= 4 {
		content = raw[2 : len(raw)-2]
	}
	if strings.HasPrefix(content, "-") {
		t.trimL = true
		content = content[1:]
	}
	if strings.HasSuffix(content, "-") {
		t.trimR = true
		content = content[:len(content)-1]
	} else if t.trimL && content == "" {
		t.trimR = true
	}
	content = trimBlank(content)
	if kind == tokOutput {
		t.inner = content
		return t
	}
	if strings.HasPrefix(content, "#") {
		t.name = "#"
		t.inner = content[1:]
		return t
	}
	sc := scanner{s: content}
	t.name = sc.readIdentifier()
	sc.skipBlank()
	t.inner = sc.remaining()
	return t
}

func trimBlank(s string) string {
	return strings.TrimFunc(s, isBlankRune)
}

// readRawContent reads the body of {% raw %} up to and including {% endraw %}.
func readRawContent(src string, p int) ([]token, int, error) {
	for i := p; i < len(src); {
		j := strings.Index(src[i:], "{%")
		if j < 0 {
			break
		}
		start := i + j
		sc := scanner{s: src, p: start + 2}
		if sc.peek(0) == '-' {
			sc.p++
		}
		if sc.readIdentifier() == "endraw" {
			end := readToDelimiter(src, sc.p, "%}", false)
			if end < 0 {
				break
			}
			var out []token
			if start > p {
				out = append(out, token{kind: tokText, raw: src[p:start], text: src[p:start]})
			}
			out = append(out, makeDelimited(tokTag, src[start:end]))
			return out, end, nil
		}
		i = start + 2
	}
	return nil, 0, newError("raw %s not closed", snapshotAt(src[p:]))
}

// whitespaceControl applies {{- -}} / {%- -%} trimming to neighbouring text
// tokens (greedy: all blanks including newlines, as LiquidJS by default).
func whitespaceControl(toks []token) {
	inRaw := false
	for i := range toks {
		t := &toks[i]
		if t.kind == tokText {
			continue
		}
		if !inRaw && t.trimL && i > 0 && toks[i-1].kind == tokText {
			toks[i-1].text = strings.TrimRightFunc(toks[i-1].text, isBlankRune)
		}
		if t.kind == tokTag {
			if t.name == "raw" {
				inRaw = true
			} else if t.name == "endraw" {
				inRaw = false
			}
		}
		if !inRaw && t.trimR && i+1 < len(toks) && toks[i+1].kind == tokText {
			toks[i+1].text = strings.TrimLeftFunc(toks[i+1].text, isBlankRune)
		}
	}
}
