// Package kql parses Kibana Query Language (KQL) expressions and evaluates
// them against in-memory JSON-like contexts, as Elastic Workflows conditions
// (`if`, step-level `if:`, `while.condition`, ...) do.
//
// The parser follows Kibana's KQL grammar (kbn-es-query grammar.peggy) rule
// for rule, so that what Kibana accepts or rejects is accepted or rejected
// here. The evaluator follows the in-memory evaluator (kbn-eval-kql) as the
// conformance reference describes it (semantics §5.3, C14): `*` is a
// wildcard in quoted and unquoted values (a backslash escapes it only when
// unquoted; inside quotes it stays a backslash), `?` is an ordinary
// character, arrays are multi-valued, missing paths are false and
// anything the evaluator does not understand (free text, nested queries) is
// false rather than an error. A final `length` path segment on an array or a
// string yields its length (secflow project decision, see the spec §5.2).
//
// Known difference: Kibana's newest kbn-eval-kql treats a quoted value as an
// exact literal (`user.name: "John*"` matches only "John*"); secflow keeps
// the wildcard, as the conformance cases require.
//
// Evaluation is deterministic: no goroutines, no wall clock (date math uses
// the injected now), no dependence on map iteration order.
package kql

import (
	"strings"
	"time"
	"unicode/utf8"
)

// SyntaxError reports a KQL expression that cannot be parsed.
type SyntaxError struct {
	// Query is the expression as given.
	Query string
	// Pos is the byte offset of the furthest point the parser reached.
	Pos int
	// Msg describes what was expected, in Kibana's wording
	// (`Expected AND, OR, end of input, whitespace but "\"" found.`).
	Msg string
}

// Error gives a readable message: the description, the query and a caret
// under the failing position, as Kibana's KQLSyntaxError does.
func (e *SyntaxError) Error() string {
	caret := 0
	if e.Pos >= 0 && e.Pos <= len(e.Query) {
		caret = utf8.RuneCountInString(e.Query[:e.Pos])
	}
	return e.Msg + "\n" + e.Query + "\n" + strings.Repeat("-", caret) + "^"
}

// Query is a parsed KQL expression, safe to evaluate many times and from
// several goroutines at once (it is never mutated after Parse).
type Query struct {
	src  string
	root *node
}

// String returns the source text of the query.
func (q *Query) String() string { return q.src }

// Parse parses s; bad syntax yields a *SyntaxError.
func Parse(s string) (*Query, error) {
	root, err := parse(s)
	if err != nil {
		return nil, err
	}
	return &Query{src: s, root: root}, nil
}

// Eval evaluates q against ctx. now resolves date-math literals
// (`now-1h`, `now/d`, `2025-01-01||+1d`); it is used in UTC.
func (q *Query) Eval(ctx map[string]any, now time.Time) bool {
	e := evaluator{now: now}
	return e.eval(q.root, ctx)
}

// Eval parses s and evaluates it against ctx.
func Eval(s string, ctx map[string]any, now time.Time) (bool, error) {
	q, err := Parse(s)
	if err != nil {
		return false, err
	}
	return q.Eval(ctx, now), nil
}

// EqualityOperators returns the `==`, `!=` or `=` operators found outside
// quoted values, in order of appearance. They are not KQL: Kibana parses
// them as free text, which is always false, so the validator warns about
// them. Template regions (`{{ … }}`, `${{ … }}`, `{% … %}`) are skipped,
// since comparisons there are Liquid, not KQL; `<=` and `>=` are ranges and
// are not reported; a backslash-escaped character is skipped.
func EqualityOperators(s string) []string {
	var ops []string
	inQuote := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			i++ // escaped character, in or out of quotes
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		case c == '{' && i+1 < len(s) && (s[i+1] == '{' || s[i+1] == '%'):
			closer := "}}"
			if s[i+1] == '%' {
				closer = "%}"
			}
			end := strings.Index(s[i+2:], closer)
			if end < 0 {
				return ops
			}
			i += 2 + end + 1
		case c == '=':
			prev := byte(0)
			if i > 0 {
				prev = s[i-1]
			}
			switch {
			case prev == '<' || prev == '>':
			case prev == '!':
				ops = append(ops, "!=")
				if i+1 < len(s) && s[i+1] == '=' { // "!==" counts once
					i++
				}
			case i+1 < len(s) && s[i+1] == '=':
				ops = append(ops, "==")
				i++
				if i+1 < len(s) && s[i+1] == '=' { // "===" counts once
					i++
				}
			default:
				ops = append(ops, "=")
			}
		}
	}
	return ops
}
