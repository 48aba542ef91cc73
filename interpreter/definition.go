package interpreter

import "github.com/secflow/secflow/interpreter/schema"

// Pos is a position in a definition file.
type Pos struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
}

// Definition is a parsed, validated workflow definition. It is plain data
// (JSON-serialisable) because it is pinned into a run's history.
type Definition struct {
	// ID is the definition id: the file's slug ("demo-alert-triage"). It is
	// the Temporal workflow type.
	ID string `json:"id"`
	// Revision is the sha256 (hex) of the file content the run started with.
	Revision string `json:"revision"`
	// File is the path the definition was loaded from.
	File string `json:"file,omitempty"`

	Version     string         `json:"version,omitempty"`
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	Enabled     bool           `json:"enabled"`
	Tags        []string       `json:"tags,omitempty"`
	Triggers    []Trigger      `json:"triggers"`
	Consts      map[string]any `json:"consts,omitempty"`
	// Inputs is the manual-trigger (or legacy top-level) input declaration,
	// normalised to JSON-schema form; nil when none is declared.
	Inputs *schema.Schema `json:"inputs,omitempty"`
	// Outputs is the declared workflow output schema (JSON-schema form).
	Outputs  *schema.Schema `json:"outputs,omitempty"`
	Settings Settings       `json:"settings,omitempty"`
	Steps    []*Step        `json:"steps"`
}

// Trigger is one entry of `triggers:`.
type Trigger struct {
	Type string `json:"type"` // manual | scheduled | alert | custom event ids
	// With holds trigger parameters: every/rrule for scheduled, rule_id /
	// rule_name for alert; secflow's `per-alert: true` selects per-alert runs.
	With map[string]any `json:"with,omitempty"`
	// Condition is `on.condition`, a KQL filter over the event.
	Condition string `json:"condition,omitempty"`
	Pos       Pos    `json:"pos,omitempty"`
}

// Settings is the `settings:` block.
type Settings struct {
	Timeout     string         `json:"timeout,omitempty"`
	OnFailure   *OnFailure     `json:"onFailure,omitempty"`
	Concurrency map[string]any `json:"concurrency,omitempty"`
	MaxStepSize string         `json:"maxStepSize,omitempty"`
	Timezone    string         `json:"timezone,omitempty"`
	Liquid      *LiquidLimits  `json:"liquid,omitempty"`
	// OperatorTimeout (secflow extension `operator-timeout`) bounds how long
	// a failed step waits for an operator; "0" disables parking.
	OperatorTimeout string `json:"operatorTimeout,omitempty"`
}

// LiquidLimits are the Liquid engine guard-rails of `settings.liquid`.
type LiquidLimits struct {
	ParseLimit  int `json:"parseLimit,omitempty"`
	RenderLimit int `json:"renderLimit,omitempty"` // milliseconds
	MemoryLimit int `json:"memoryLimit,omitempty"`
}

// OnFailure is an `on-failure:` block (step level or settings level).
type OnFailure struct {
	Retry    *Retry  `json:"retry,omitempty"`
	Fallback []*Step `json:"fallback,omitempty"`
	// Continue is a bool or a condition string.
	Continue any `json:"continue,omitempty"`
}

// Retry is `on-failure.retry`. MaxAttempts counts retries: N means up to N+1 runs.
type Retry struct {
	MaxAttempts int     `json:"maxAttempts"`
	Delay       string  `json:"delay,omitempty"`
	Condition   any     `json:"condition,omitempty"`
	Strategy    string  `json:"strategy,omitempty"` // fixed | exponential
	Multiplier  float64 `json:"multiplier,omitempty"`
	MaxDelay    string  `json:"maxDelay,omitempty"`
	Jitter      bool    `json:"jitter,omitempty"`
}

// MaxIterations is `max-iterations:` (a plain integer becomes {Limit: n}).
type MaxIterations struct {
	Limit   int    `json:"limit"`
	OnLimit string `json:"onLimit,omitempty"` // fail (default) | continue
}

// Step is one step of any type. Fields that a type does not use stay empty;
// the registry spec of the type says which are allowed.
type Step struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Pos  Pos    `json:"pos,omitempty"`

	// With is the raw (unrendered) `with` value; normally an object.
	With any `json:"with,omitempty"`
	// If is the step-level guard (string or bool), nil when absent.
	If any `json:"if,omitempty"`
	// Foreach is the loop collection (string template or literal list):
	// for `type: foreach`, `parallel` fan-out, or a step-level `foreach:`.
	Foreach            any            `json:"foreach,omitempty"`
	Timeout            string         `json:"timeout,omitempty"`
	OnFailure          *OnFailure     `json:"onFailure,omitempty"`
	ConnectorID        string         `json:"connectorId,omitempty"`
	MaxStepSize        string         `json:"maxStepSize,omitempty"`
	MaxIterations      *MaxIterations `json:"maxIterations,omitempty"`
	IterationOnFailure *OnFailure     `json:"iterationOnFailure,omitempty"`
	IterationTimeout   string         `json:"iterationTimeout,omitempty"`

	// Condition is the `condition:` of if/while (string or bool).
	Condition any     `json:"condition,omitempty"`
	Steps     []*Step `json:"steps,omitempty"`
	Else      []*Step `json:"else,omitempty"`

	// Expression, Cases and Default belong to `switch`.
	Expression any          `json:"expression,omitempty"`
	Cases      []SwitchCase `json:"cases,omitempty"`
	Default    []*Step      `json:"default,omitempty"`

	// Branches, Mode, Concurrency and BranchTimeout belong to `parallel`.
	Branches      []Branch `json:"branches,omitempty"`
	Mode          string   `json:"mode,omitempty"`
	Concurrency   any      `json:"concurrency,omitempty"`
	BranchTimeout string   `json:"branchTimeout,omitempty"`

	// Status is the `status:` of workflow.output.
	Status string `json:"status,omitempty"`

	// Config holds the other step-level keys the type's spec declares
	// (items, source, agent-id, push-case, create-conversation, ...).
	Config map[string]any `json:"config,omitempty"`
}

// EachStep calls fn for every non-nil step of list and, depth first in
// document order, for the steps nested in it: its steps, else, default,
// switch cases and parallel branches, then its on-failure and
// iteration-on-failure fallbacks.
func EachStep(list []*Step, fn func(*Step)) {
	for _, s := range list {
		if s == nil {
			continue
		}
		fn(s)
		EachStep(s.Steps, fn)
		EachStep(s.Else, fn)
		EachStep(s.Default, fn)
		for _, c := range s.Cases {
			EachStep(c.Steps, fn)
		}
		for _, b := range s.Branches {
			EachStep(b.Steps, fn)
		}
		if s.OnFailure != nil {
			EachStep(s.OnFailure.Fallback, fn)
		}
		if s.IterationOnFailure != nil {
			EachStep(s.IterationOnFailure.Fallback, fn)
		}
	}
}

// SwitchCase is one `cases:` entry of a switch step.
type SwitchCase struct {
	Match any     `json:"match"`
	Steps []*Step `json:"steps"`
}

// Branch is one static branch of a parallel step.
type Branch struct {
	Name  string  `json:"name"`
	Steps []*Step `json:"steps"`
}
