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

// Status says which generation of Kibana's engine a step type belongs to,
// as the semantics reference marks it (§0.2, §6.0 inventory). The zero
// value means "not declared" and is not a valid status: the catalogue
// test requires every registered spec to declare one.
type Status string

// The statuses of semantics §0.2 and the §6.0 inventory.
const (
	// StatusCore types are present since the early engine and still
	// current (semantics [core]): any Kibana 9.x YAML may use them.
	StatusCore Status = "core"
	// StatusNewer types were added later, roughly Kibana 9.4–9.5+ and main
	// (semantics [newer]).
	StatusNewer Status = "newer"
	// StatusPreview types are newer and still a technical preview in
	// Kibana (the §6.0 inventory's "tech preview"): their Kibana contract
	// may still change.
	StatusPreview Status = "preview"
	// StatusLegacy types are older names or behaviour that Kibana replaced
	// (semantics [legacy], "deprecated"), accepted so old YAML keeps
	// working.
	StatusLegacy Status = "legacy"
)

// Statuses lists the valid statuses, from oldest and most stable to
// replaced.
func Statuses() []Status {
	return []Status{StatusCore, StatusNewer, StatusPreview, StatusLegacy}
}

// Valid reports whether s is one of the declared statuses (the zero value
// is not).
func (s Status) Valid() bool {
	for _, v := range Statuses() {
		if s == v {
			return true
		}
	}
	return false
}

// Describe returns a one-line explanation of s for the generated docs, or
// "" for an invalid status.
func (s Status) Describe() string {
	switch s {
	case StatusCore:
		return "in Kibana since the early engine and still current"
	case StatusNewer:
		return "added in newer Kibana, about 9.4–9.5+"
	case StatusPreview:
		return "newer, and a technical preview in Kibana"
	case StatusLegacy:
		return "an older name or behaviour that Kibana replaced, kept so old YAML runs"
	}
	return ""
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
	// Status is the Kibana generation of the type (StatusCore, ...), from
	// the markers of the semantics reference; it must be set.
	Status  Status
	Summary string // one line
	Doc     string // Markdown

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
