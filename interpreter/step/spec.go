package step

import (
	"context"
	"time"
)

// FieldType is the closed set of value types a spec field may declare.
type FieldType string

// Field types understood by the validator and the docs generator.
const (
	String   FieldType = "string"
	Int      FieldType = "int"
	Number   FieldType = "number"
	Bool     FieldType = "bool"
	Duration FieldType = "duration" // Kibana duration grammar, e.g. 1h30m
	Object   FieldType = "object"
	List     FieldType = "list"
	Any      FieldType = "any"
	Steps    FieldType = "steps" // a nested list of steps
)

// Kind says where a step type runs.
type Kind int

const (
	// KindFlow steps are control flow (if, foreach, wait, ...) run by the interpreter.
	KindFlow Kind = iota
	// KindPure steps compute a value from the context (data.*, console) in workflow code.
	KindPure
	// KindActivity steps have side effects and run as a Temporal activity.
	KindActivity
)

// String returns the lower-case name of the kind.
func (k Kind) String() string {
	switch k {
	case KindFlow:
		return "flow"
	case KindPure:
		return "pure"
	default:
		return "activity"
	}
}

// Field declares one key a step accepts, either beside `with` (Config) or
// inside it (With).
type Field struct {
	Name     string
	Type     FieldType
	Required bool
	Default  any
	Enum     []string
	Doc      string
	Example  any
	// Secret marks a value that must never be logged or stored in history.
	Secret bool
}

// Output documents what a step returns; Example is a JSON document whose
// shape (key paths and JSON types) is what downstream templates may read.
type Output struct {
	Doc     string
	Example string
}

// Example is a documented YAML snippet that must validate cleanly.
type Example struct {
	Title string
	YAML  string
}

// ActivityFunc performs a side-effecting step. It runs inside a Temporal
// activity; ctx carries the activity context (heartbeats, cancellation).
// Returned errors should be *Error values (see Errorf, Permanent, RetryAfter)
// so that the worker can classify them.
type ActivityFunc func(ctx context.Context, rt Runtime, in Input) (any, error)

// Spec is the complete declaration of one step type.
type Spec struct {
	// Type is the exact YAML `type:` value ("cases.createCase"), or a family
	// pattern ending in ".*" ("slack2.*") accepted for any sub-action.
	Type     string
	Kind     Kind
	Category string // flow, data, elasticsearch, kibana, cases, ai, notify, network
	Summary  string // one line
	Doc      string // Markdown

	// Config lists step-level keys beyond the common ones (name, type, with,
	// if, foreach, timeout, on-failure, connector-id, max-step-size).
	Config []Field
	// With lists the keys accepted under `with:`.
	With []Field
	// OpenWith accepts any key under `with:` (connector steps, raw requests).
	OpenWith bool
	// NeedsConnector says `connector-id` is required.
	NeedsConnector bool

	Output   Output
	Examples []Example

	// Activity is set for KindActivity types.
	Activity ActivityFunc
	// Timeout is the default StartToClose timeout of the activity.
	Timeout time.Duration
	// Heartbeat says the activity heartbeats, so a heartbeat timeout applies.
	Heartbeat bool

	// Source is the Go file that declares the spec (for generated docs).
	Source string
}

// IsFamily reports whether the spec matches a family of types (Type ends in ".*").
func (s *Spec) IsFamily() bool {
	return len(s.Type) > 2 && s.Type[len(s.Type)-2:] == ".*"
}

// Field returns the `with` field called name, or nil.
func (s *Spec) WithField(name string) *Field {
	for i := range s.With {
		if s.With[i].Name == name {
			return &s.With[i]
		}
	}
	return nil
}

// ConfigField returns the step-level config field called name, or nil.
func (s *Spec) ConfigField(name string) *Field {
	for i := range s.Config {
		if s.Config[i].Name == name {
			return &s.Config[i]
		}
	}
	return nil
}
