package interpreter

import (
	"sort"

	"github.com/secflow/secflow/interpreter/step"
)

// This file is the single declaration of the fields of every flow-control
// and pure step type (§6.0–§6.3). The executors live elsewhere in this
// package; they map the same type names to code.

// Step-level config keys shared by the built-in specs.
var (
	fieldSteps = step.Field{Name: "steps", Type: step.Steps, Required: true,
		Doc: "The steps to run."}
	fieldMaxIterations = step.Field{Name: "max-iterations", Type: step.Any,
		Doc:     "Loop guard: a positive integer, or {limit, on-limit: fail|continue}. Default limit 2000, on-limit fail.",
		Example: map[string]any{"limit": 500, "on-limit": "continue"}}
	fieldIterationOnFailure = step.Field{Name: "iteration-on-failure", Type: step.Object,
		Doc: "An on-failure policy ({retry, fallback, continue}) applied to each iteration."}
	fieldIterationTimeout = step.Field{Name: "iteration-timeout", Type: step.Duration,
		Doc: "Timeout of each iteration.", Example: "30s"}
	fieldItems = step.Field{Name: "items", Type: step.Any, Required: true,
		Doc: "The collection to work on, usually a ${{ }} expression.", Example: "${{ steps.fetch.output }}"}
	fieldSource = step.Field{Name: "source", Type: step.Any, Required: true,
		Doc: "The value to work on, usually a ${{ }} expression.", Example: "${{ steps.http_call.output.data }}"}
)

// builtinSpecs lists every flow-control and pure step type.
var builtinSpecs = []*step.Spec{
	// --- flow control (§6.1) ---
	{
		Type: "if", Kind: step.KindFlow, Category: "flow", Status: step.StatusCore,
		Summary: "Run steps when a condition holds, else the `else` steps.",
		Doc:     "The condition is KQL, a boolean, or a `${{ }}` expression yielding a boolean (§5).",
		Config: []step.Field{
			{Name: "condition", Type: step.Any, Required: true,
				Doc: "KQL condition or boolean expression.", Example: "steps.search.output.hits.total.value > 0"},
			fieldSteps,
			{Name: "else", Type: step.Steps, Doc: "Steps to run when the condition is false."},
		},
		Output: step.Output{Doc: "No output."},
	},
	{
		Type: "foreach", Kind: step.KindFlow, Category: "flow", Status: step.StatusCore,
		Summary: "Run steps once per item of a list.",
		Doc:     "Inside the body `foreach.item`, `foreach.index`, `foreach.total` and `foreach.items` are in scope.",
		Config: []step.Field{
			{Name: "foreach", Type: step.Any, Required: true,
				Doc: "The list: a template evaluated with its type kept, a JSON-array string, or a YAML list.", Example: "{{ event.alerts }}"},
			fieldSteps, fieldMaxIterations, fieldIterationOnFailure, fieldIterationTimeout,
		},
		Output: step.Output{Doc: "No output; state {items, item, index, total} is visible as steps.<name>.*.",
			Example: `{"items":["a","b"],"item":"b","index":1,"total":2}`},
	},
	{
		Type: "while", Kind: step.KindFlow, Category: "flow", Status: step.StatusNewer,
		Summary: "Repeat steps while a condition holds (do-while: the body runs at least once).",
		Config: []step.Field{
			{Name: "condition", Type: step.Any, Required: true,
				Doc: "Evaluated after each iteration with the body's steps visible.", Example: "steps.check.output.hits.total.value < 1"},
			fieldSteps, fieldMaxIterations, fieldIterationOnFailure, fieldIterationTimeout,
		},
		Output: step.Output{Doc: "No output; state {iteration} is visible as steps.<name>.iteration.", Example: `{"iteration":2}`},
	},
	{
		Type: "switch", Kind: step.KindFlow, Category: "flow", Status: step.StatusNewer,
		Summary: "Run the steps of the first case whose match equals the expression.",
		Config: []step.Field{
			{Name: "expression", Type: step.Any, Required: true,
				Doc: "Rendered once and compared as a string with each case's match.", Example: "{{ inputs.resource_type }}"},
			{Name: "cases", Type: step.List, Required: true,
				Doc: "Ordered list of {match, steps}; match is a string, number or boolean."},
			{Name: "default", Type: step.Steps, Doc: "Steps to run when no case matches."},
		},
		Output: step.Output{Doc: "No output; state {matchedValue, matchedIndex} (-1 when none matched).",
			Example: `{"matchedValue":"200","matchedIndex":0}`},
	},
	{
		Type: "parallel", Kind: step.KindFlow, Category: "flow", Status: step.StatusPreview,
		Summary: "Run static branches, or one branch per item, concurrently.",
		Doc:     "Either `branches` (static scatter-gather) or `foreach` + `steps` (dynamic fan-out), not both.",
		Config: []step.Field{
			{Name: "branches", Type: step.List, Doc: "Static branches: list of {name, steps}."},
			{Name: "foreach", Type: step.Any, Doc: "Dynamic fan-out: the list of items, one branch each."},
			{Name: "steps", Type: step.Steps, Doc: "Body of each dynamic branch."},
			{Name: "mode", Type: step.String, Enum: []string{"fail-fast", "settled"}, Default: "fail-fast",
				Doc: "fail-fast stops starting branches after a failure and fails the step; settled always completes."},
			{Name: "concurrency", Type: step.Any, Doc: "Max branches running at once: an integer or {max, count-waiting}."},
			{Name: "branch-timeout", Type: step.Duration, Doc: "Timeout of each branch.", Example: "30s"},
		},
		Output: step.Output{Doc: "Aggregate of the branches.",
			Example: `{"results":[{"index":0,"key":"vt","status":"completed","output":{},"error":null,"startedAt":0,"finishedAt":0,"durationMs":0}],"total":1,"succeeded":1,"failed":0,"status":"completed","branches":{"vt":{"status":"completed","output":{}}}}`},
	},
	{
		Type: "loop.break", Kind: step.KindFlow, Category: "flow", Status: step.StatusNewer,
		Summary: "Exit the innermost foreach/while loop.",
		Output:  step.Output{Doc: "No output."},
	},
	{
		Type: "loop.continue", Kind: step.KindFlow, Category: "flow", Status: step.StatusNewer,
		Summary: "End the current iteration of the innermost foreach/while loop.",
		Output:  step.Output{Doc: "No output."},
	},
	{
		Type: "wait", Kind: step.KindFlow, Category: "flow", Status: step.StatusCore,
		Summary: "Pause the run for a duration (a durable timer).",
		With: []step.Field{
			{Name: "duration", Type: step.Duration, Required: true, Doc: "How long to wait.", Example: "1h30m"},
		},
		Output: step.Output{Doc: "No output."},
	},
	{
		Type: "waitForInput", Kind: step.KindFlow, Category: "flow", Status: step.StatusNewer,
		Summary: "Pause until a human (or system) provides input.",
		With: []step.Field{
			{Name: "message", Type: step.String, Doc: "Message shown to whoever resumes the run."},
			{Name: "schema", Type: step.Object, Doc: "JSON schema of the expected input (validation and defaults)."},
			{Name: "timeout", Type: step.Duration, Doc: "How long to wait (older field location); default 72h.", Example: "30m"},
			{Name: "channels", Type: step.Any, Doc: "External channels that receive a resume link."},
		},
		Output: step.Output{Doc: "The input received, or timedOut when the wait expired.",
			Example: `{"input":{"reason":"ok"},"resumedAt":"2026-01-01T00:00:00Z","resumedBy":"analyst"}`},
	},
	{
		Type: "waitForApproval", Kind: step.KindFlow, Category: "flow", Status: step.StatusNewer,
		Summary: "Pause until a human approves or rejects; rejection fails the step.",
		With: []step.Field{
			{Name: "message", Type: step.String, Required: true, Doc: "The question shown to the approver."},
			{Name: "approveLabel", Type: step.String, Doc: "Label of the approve action."},
			{Name: "rejectLabel", Type: step.String, Doc: "Label of the reject action."},
			{Name: "timeout", Type: step.Duration, Doc: "How long to wait for a decision.", Example: "4h"},
		},
		Output: step.Output{Doc: "The decision.",
			Example: `{"approved":true,"respondedBy":"analyst","respondedAt":"2026-01-01T00:00:00Z","comment":"go"}`},
	},
	{
		Type: "workflow.execute", Kind: step.KindFlow, Category: "flow", Status: step.StatusPreview,
		Summary: "Run another workflow as a child and wait for its outputs.",
		With: []step.Field{
			{Name: "workflow-id", Type: step.String, Required: true, Doc: "Id (file slug) of the workflow to run."},
			{Name: "inputs", Type: step.Object, Doc: "Inputs of the child run."},
		},
		Output: step.Output{Doc: "The child's workflow.output values, else the output of its last top-level step.", Example: `{}`},
	},
	{
		Type: "workflow.executeAsync", Kind: step.KindFlow, Category: "flow", Status: step.StatusPreview,
		Summary: "Start another workflow and continue without waiting.",
		With: []step.Field{
			{Name: "workflow-id", Type: step.String, Required: true, Doc: "Id (file slug) of the workflow to run."},
			{Name: "inputs", Type: step.Object, Doc: "Inputs of the child run."},
		},
		Output: step.Output{Doc: "Where the child runs.",
			Example: `{"workflowId":"child","executionId":"abc","awaited":false,"status":"running","startedAt":"2026-01-01T00:00:00Z"}`},
	},
	{
		Type: "workflow.output", Kind: step.KindFlow, Category: "flow", Status: step.StatusNewer,
		Summary: "Emit the workflow's outputs and end the run.",
		Doc:     "Each top-level `with` value that is a single `{{ }}` keeps its type.",
		Config: []step.Field{
			{Name: "status", Type: step.String, Enum: []string{"completed", "cancelled", "failed"}, Default: "completed",
				Doc: "Final status of the run."},
		},
		OpenWith: true,
		Output:   step.Output{Doc: "The rendered values.", Example: `{"verdict":"malicious"}`},
	},
	{
		Type: "workflow.fail", Kind: step.KindFlow, Category: "flow", Status: step.StatusNewer,
		Summary: "End the run as failed.",
		With: []step.Field{
			{Name: "message", Type: step.String, Doc: "Error message of the run."},
			{Name: "reason", Type: step.String, Doc: "Machine-readable reason."},
		},
		Output: step.Output{Doc: "No output."},
	},

	// --- pure steps (§6.2, §6.3) ---
	{
		Type: "console", Kind: step.KindPure, Category: "data", Status: step.StatusCore,
		Summary: "Log a message; the output is the rendered message.",
		With: []step.Field{
			{Name: "message", Type: step.Any, Doc: "The message (a `${{ }}` expression keeps its type)."},
		},
		Output: step.Output{Doc: "The rendered message.", Example: `"Processing 10.0.0.1"`},
	},
	{
		Type: "data.set", Kind: step.KindPure, Category: "data", Status: step.StatusCore,
		Summary:  "Set variables: the rendered `with` object is merged into `variables`.",
		OpenWith: true,
		Output:   step.Output{Doc: "The rendered object.", Example: `{"total":0,"host":"web-1"}`},
	},
	{
		Type: "data.map", Kind: step.KindPure, Category: "data", Status: step.StatusNewer,
		Summary: "Map each item (or one object) to a new object.",
		Config:  []step.Field{fieldItems},
		With: []step.Field{
			{Name: "fields", Type: step.Object, Doc: "Output fields; templates see `item` and `index`; `$map` maps nested arrays."},
			{Name: "transform", Type: step.Object, Doc: "{pick: paths to keep}."},
		},
		Output: step.Output{Doc: "Array of mapped objects (or one object).", Example: `[{"id":1,"source":"api"}]`},
	},
	{
		Type: "data.parseJson", Kind: step.KindPure, Category: "data", Status: step.StatusNewer,
		Summary: "Parse a JSON string (structured values pass through).",
		Config:  []step.Field{fieldSource},
		Output:  step.Output{Doc: "The parsed value.", Example: `{"a":1}`},
	},
	{
		Type: "data.stringifyJson", Kind: step.KindPure, Category: "data", Status: step.StatusNewer,
		Summary: "Serialise a value to JSON text.",
		Config:  []step.Field{fieldSource},
		With: []step.Field{
			{Name: "pretty", Type: step.Bool, Default: false, Doc: "Indent with two spaces."},
		},
		Output: step.Output{Doc: "The JSON text.", Example: `"{\"a\":1}"`},
	},
	{
		Type: "data.filter", Kind: step.KindPure, Category: "data", Status: step.StatusNewer,
		Summary: "Keep the items that match a KQL condition over {item, index}.",
		Config:  []step.Field{fieldItems},
		With: []step.Field{
			{Name: "condition", Type: step.String, Required: true, Doc: "KQL over `item` and `index`.", Example: "item.state: active"},
			{Name: "limit", Type: step.Number, Doc: "Stop after this many matches."},
		},
		Output: step.Output{Doc: "The matching items.", Example: `[{"state":"active"}]`},
	},
	{
		Type: "data.find", Kind: step.KindPure, Category: "data", Status: step.StatusNewer,
		Summary: "Return the first item that matches a KQL condition over {item, index}.",
		Config:  []step.Field{fieldItems},
		With: []step.Field{
			{Name: "condition", Type: step.String, Required: true, Doc: "KQL over `item` and `index`.", Example: "item.id: 42"},
		},
		Output: step.Output{Doc: "The first matching item, or null.", Example: `{"id":42}`},
	},
	{
		Type: "data.dedupe", Kind: step.KindPure, Category: "data", Status: step.StatusNewer,
		Summary: "Remove duplicate items by key fields.",
		Config: []step.Field{fieldItems,
			{Name: "strategy", Type: step.String, Enum: []string{"keep_first", "keep_last"}, Default: "keep_first",
				Doc: "Which duplicate to keep."}},
		With: []step.Field{
			{Name: "keys", Type: step.List, Required: true, Doc: "Fields that identify an item.", Example: []any{"host.name"}},
		},
		Output: step.Output{Doc: "The items without duplicates.", Example: `[{"host":{"name":"a"}}]`},
	},
	{
		Type: "data.concat", Kind: step.KindPure, Category: "data", Status: step.StatusNewer,
		Summary: "Concatenate arrays.",
		Config: []step.Field{
			{Name: "arrays", Type: step.List, Required: true, Doc: "The arrays to concatenate (max 50)."},
		},
		With: []step.Field{
			{Name: "dedupe", Type: step.Bool, Default: false, Doc: "Remove duplicates, keeping the first."},
			{Name: "flatten", Type: step.Any, Default: false, Doc: "true for one level, or a depth 1-10."},
		},
		Output: step.Output{Doc: "One array.", Example: `["a","b"]`},
	},
	{
		Type: "data.aggregate", Kind: step.KindPure, Category: "data", Status: step.StatusNewer,
		Summary: "Group items and compute metrics.",
		Config:  []step.Field{fieldItems},
		With: []step.Field{
			{Name: "group_by", Type: step.Any, Required: true, Doc: "A field or list of fields."},
			{Name: "metrics", Type: step.Object, Required: true, Doc: "name -> {type: sum|avg|min|max|count, field}."},
			{Name: "sort_by", Type: step.String, Doc: "Field to sort the groups by."},
			{Name: "sort_order", Type: step.String, Enum: []string{"asc", "desc"}, Default: "asc", Doc: "Sort order."},
			{Name: "limit", Type: step.Number, Doc: "Max groups returned."},
		},
		Output: step.Output{Doc: "One record per group.", Example: `[{"host":"a","count":3}]`},
	},
	regexExtractSpec("data.regexExtract", step.StatusNewer),
	regexExtractSpec("data.regex_extract", step.StatusLegacy), // older id (§6.0)
	regexReplaceSpec("data.regexReplace", step.StatusNewer),
	regexReplaceSpec("data.regex_replace", step.StatusLegacy), // older id (§6.0)
}

func regexExtractSpec(typ string, status step.Status) *step.Spec {
	return &step.Spec{
		Type: typ, Kind: step.KindPure, Category: "data", Status: status,
		Summary: "Extract fields from text with regular-expression groups.",
		Config: []step.Field{fieldSource,
			{Name: "errorIfNoMatch", Type: step.Bool, Default: false, Doc: "Fail when nothing matches."}},
		With: []step.Field{
			{Name: "pattern", Type: step.String, Required: true, Doc: "The regular expression (max 10 000 chars)."},
			{Name: "fields", Type: step.Object, Required: true, Doc: "Output field -> group name or $n."},
			{Name: "flags", Type: step.String, Doc: "Regex flags, e.g. i."},
		},
		Output: step.Output{Doc: "An object, an array of objects/null (array source), or null.", Example: `{"major":"1"}`},
	}
}

func regexReplaceSpec(typ string, status step.Status) *step.Spec {
	return &step.Spec{
		Type: typ, Kind: step.KindPure, Category: "data", Status: status,
		Summary: "Replace text with a regular expression.",
		Config: []step.Field{fieldSource,
			{Name: "detailed", Type: step.Bool, Default: false, Doc: "Return {original, replaced, matchCount}."}},
		With: []step.Field{
			{Name: "pattern", Type: step.String, Required: true, Doc: "The regular expression (max 10 000 chars)."},
			{Name: "replacement", Type: step.String, Required: true, Doc: "Replacement text ($1, $<name> allowed)."},
			{Name: "flags", Type: step.String, Doc: "Regex flags, e.g. gi."},
		},
		Output: step.Output{Doc: "The replaced string(s).", Example: `"My *** is ***"`},
	}
}

// builtinByType indexes builtinSpecs.
var builtinByType = map[string]*step.Spec{}

func init() {
	for _, s := range builtinSpecs {
		s.Source = "interpreter/builtin_specs.go"
		builtinByType[s.Type] = s
		step.Register(s)
	}
}

// BuiltinSpec returns the spec of a flow-control or pure step type.
func BuiltinSpec(typ string) (*step.Spec, bool) {
	s, ok := builtinByType[typ]
	return s, ok
}

// BuiltinTypes returns the flow-control and pure step types, sorted.
func BuiltinTypes() []string {
	out := make([]string, 0, len(builtinByType))
	for t := range builtinByType {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// unsupportedTypes are step types Kibana's schema declares that secflow
// refuses, with the reason.
var unsupportedTypes = map[string]string{
	"merge": `step type "merge" is not supported: Kibana declares it in its schema but has no runtime for it; read the branches' results from the parallel step's output instead`,
}
