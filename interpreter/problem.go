package interpreter

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Severity says whether a Problem makes a definition unusable.
type Severity string

// Severities of a Problem.
const (
	// SeverityError makes the definition invalid: it is refused.
	SeverityError Severity = "error"
	// SeverityWarning flags a likely mistake that Kibana accepts silently
	// (e.g. `==` in KQL, which is always false); the definition stays valid.
	SeverityWarning Severity = "warning"
)

// Problem codes: stable identifiers of each kind of problem, for tools and tests.
const (
	CodeYAML          = "yaml"           // the file is not well-formed YAML
	CodeUnknownKey    = "unknown-key"    // a key that the schema does not know
	CodeType          = "type"           // a value of the wrong type
	CodeRequired      = "required"       // a missing required field
	CodeValue         = "value"          // a value out of range or not in an enum
	CodeDuplicate     = "duplicate-name" // two steps with the same name
	CodeUnknownType   = "unknown-type"   // an unknown step or trigger type
	CodeDuration      = "duration"       // an invalid duration or byte size
	CodeTemplate      = "template"       // a Liquid template that does not parse
	CodeKQL           = "kql"            // a KQL condition that does not parse
	CodeKQLEquality   = "kql-equality"   // `==`/`!=` in KQL (warning)
	CodeReference     = "reference"      // steps.X that cannot have run (warning)
	CodeLoopControl   = "loop-control"   // loop.break/continue outside a loop
	CodeInterval      = "interval"       // scheduled interval under one minute
	CodeNotInstalled  = "not-installed"  // an __install__.<name> placeholder left
	CodeUnsupported   = "unsupported"    // a construct secflow refuses (merge, ...)
	CodeSchema        = "schema"         // inputs/outputs declaration rejected
	CodeSuspiciousKey = "suspicious-key" // accepted, but probably not what was meant
)

// Problem is one thing wrong with a definition, located at the YAML node
// that causes it.
type Problem struct {
	Pos
	// Path locates the value inside the definition, e.g. steps[2].with.title.
	Path     string   `json:"path,omitempty"`
	Severity Severity `json:"severity"`
	// Code is one of the Code* constants.
	Code string `json:"code"`
	Msg  string `json:"message"`
}

// String formats p as "file:line:col: msg"; warnings read
// "file:line:col: warning: msg". Missing parts of the position are left out.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Pos.String())
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if p.Severity == SeverityWarning {
		b.WriteString("warning: ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error implements error.
func (p Problem) Error() string { return p.String() }

// String formats a position as file:line:col (parts that are unknown are omitted).
func (p Pos) String() string {
	s := p.File
	if p.Line > 0 {
		if s != "" {
			s += ":"
		}
		s += fmt.Sprintf("%d", p.Line)
		if p.Col > 0 {
			s += fmt.Sprintf(":%d", p.Col)
		}
	}
	return s
}

// Problems is a list of problems in the manner of go/scanner.ErrorList:
// Sort orders them by position, Err returns nil when none is an error.
type Problems []Problem

// Len, Less and Swap implement sort.Interface (file, line, column, then path
// and message).
func (ps Problems) Len() int      { return len(ps) }
func (ps Problems) Swap(i, j int) { ps[i], ps[j] = ps[j], ps[i] }
func (ps Problems) Less(i, j int) bool {
	a, b := ps[i], ps[j]
	if a.File != b.File {
		return a.File < b.File
	}
	if a.Line != b.Line {
		return a.Line < b.Line
	}
	if a.Col != b.Col {
		return a.Col < b.Col
	}
	if a.Severity != b.Severity {
		return a.Severity == SeverityError
	}
	if a.Path != b.Path {
		return a.Path < b.Path
	}
	return a.Msg < b.Msg
}

// Sort sorts ps in place and removes exact duplicates (same position,
// severity and message).
func (ps *Problems) Sort() {
	sort.Stable(*ps)
	out := (*ps)[:0]
	for i, p := range *ps {
		if i > 0 {
			q := out[len(out)-1]
			if q.Pos == p.Pos && q.Msg == p.Msg && q.Severity == p.Severity {
				continue
			}
		}
		out = append(out, p)
	}
	*ps = out
}

// Errors returns the problems of severity error.
func (ps Problems) Errors() Problems { return ps.filter(SeverityError) }

// Warnings returns the problems of severity warning.
func (ps Problems) Warnings() Problems { return ps.filter(SeverityWarning) }

func (ps Problems) filter(s Severity) Problems {
	var out Problems
	for _, p := range ps {
		if p.Severity == s {
			out = append(out, p)
		}
	}
	return out
}

// HasErrors reports whether any problem is an error.
func (ps Problems) HasErrors() bool {
	for _, p := range ps {
		if p.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Err returns the errors of ps (warnings excluded) as an error, or nil when
// there is none.
func (ps Problems) Err() error {
	errs := ps.Errors()
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// Error prints the first problem and how many more there are.
func (ps Problems) Error() string {
	switch len(ps) {
	case 0:
		return "no problems"
	case 1:
		return ps[0].String()
	}
	return fmt.Sprintf("%s (and %d more)", ps[0], len(ps)-1)
}

// String prints every problem, one per line.
func (ps Problems) String() string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// MarshalJSON encodes ps as a JSON array (never null).
func (ps Problems) MarshalJSON() ([]byte, error) {
	if ps == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]Problem(ps))
}
