// Package kql parses Kibana Query Language (KQL) expressions and evaluates
// them against in-memory JSON-like contexts, as Elastic Workflows `if`
// steps and trigger conditions do.
package kql

import (
	"fmt"
	"time"
)

// SyntaxError reports a KQL expression that cannot be parsed.
type SyntaxError struct {
	Query string
	Pos   int
	Msg   string
}

// Error gives a readable message.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("KQL syntax error at position %d in %q: %s", e.Pos, e.Query, e.Msg)
}

// Query is a parsed KQL expression.
type Query struct {
	src string
}

// Parse parses s; bad syntax yields a *SyntaxError.
func Parse(s string) (*Query, error) {
	return &Query{src: s}, nil
}

// Eval evaluates q against ctx; now resolves date math.
func (q *Query) Eval(ctx map[string]any, now time.Time) bool {
	return false
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
// quoted values (the validator warns: they are always false in Kibana).
func EqualityOperators(s string) []string {
	return nil
}
