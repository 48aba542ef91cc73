package interpreter

// This file is the single declaration of the template context variables
// (semantics §4.6) as secflow builds them (context.go, workflow.go
// `configure`), and renders docs/variables.md from it. A test cross-checks
// the declaration against the keys the interpreter really puts into the
// context, so the two cannot drift.

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/secflow/secflow/interpreter/step"
)

// Presence says where a template context variable exists.
type Presence int

const (
	// PresentAlways variables are in every template context.
	PresentAlways Presence = iota
	// PresentSometimes variables are in the context only where
	// Variable.When says (an alert run, a loop body, a fallback, ...).
	PresentSometimes
	// PresentStepLocal variables are not in the run's context: a data step
	// adds them for its own field templates or conditions only.
	PresentStepLocal
)

// Variable declares one top-level template context variable.
type Variable struct {
	// Name is the top-level key templates read (`inputs`).
	Name string
	// Shape is the value's shape in Markdown (`object`, "`{id, name}`").
	Shape string
	// Presence says whether the interpreter always sets the key.
	Presence Presence
	// When says, in Markdown, when the variable is available.
	When string
	// Status is the Kibana generation of the variable (semantics §4.6
	// markers; core where the reference marks nothing).
	Status step.Status
	// Doc is the Markdown description, one or more paragraphs.
	Doc string
	// Keys documents the keys of an object value, as secflow fills them.
	Keys []VariableKey
	// FixedKeys says Keys is exactly the key set the interpreter builds
	// (checked by a test); otherwise Keys only documents typical entries.
	FixedKeys bool
	// Examples are templates or conditions that read the variable
	// (rendered as code spans: no backticks).
	Examples []string
}

// VariableKey documents one key of an object variable.
type VariableKey struct {
	Name string
	Doc  string // Markdown, one line
}

// Unavailable is a name that Kibana's docs or users expect in templates
// but neither Kibana nor secflow provides (semantics §4.6); the validator
// warns when a template reads one.
type Unavailable struct {
	Name   string // Markdown
	Advice string // Markdown: what to use instead

	// read finds a read of the name in template code (see templateCode).
	read *regexp.Regexp
	// warning is the validator's message for a match of read.
	warning func(match []string) string
}

// Variables returns the template context variables, in documentation
// order. The slice is a fresh copy.
func Variables() []Variable {
	out := make([]Variable, len(variables))
	copy(out, variables)
	return out
}

// UnavailableVariables returns the names templates cannot read.
func UnavailableVariables() []Unavailable {
	out := make([]Unavailable, len(unavailable))
	copy(out, unavailable)
	return out
}

// variablesIntro opens docs/variables.md.
const variablesIntro = "Every string in a step's `with`, in step-level keys such as `foreach`, " +
	"`condition` or `expression`, and in `if:` conditions is rendered against the context below. " +
	"`{{ … }}` renders a string; `${{ … }}` keeps the value's type (semantics §4.3, §4.4). The context is " +
	"the one Kibana builds (semantics §4.6), as secflow implements it in `interpreter/context.go` and " +
	"`interpreter/workflow.go` (`configure`); the differences are listed at the end."

// variables is the declaration; keep it in the order of the docs.
var variables = []Variable{
	{
		Name: "inputs", Shape: "object", Presence: PresentAlways, When: "always (`{}` without inputs)",
		Status: step.StatusCore,
		Doc: "The run's inputs after the defaults of the definition's `inputs` schema are applied " +
			"(semantics §1.3.1). Inputs that break the schema fail the run before its first step with " +
			"`InputValidationError`. A manual run gets them from the starter (`POST /api/v1/workflows/<id>/run`), " +
			"`secflow run` or `temporal workflow start --input '{\"inputs\": {…}}'`; a child run from the " +
			"parent's `with.inputs`.",
		Examples: []string{"{{ inputs.ip }}", "${{ inputs.hosts | size }}"},
	},
	{
		Name: "consts", Shape: "object", Presence: PresentAlways, When: "always (`{}` without consts)",
		Status:   step.StatusCore,
		Doc:      "The definition's top-level `consts`, as written in the YAML.",
		Examples: []string{"{{ consts.index }}"},
	},
	{
		Name: "event", Shape: "object", Presence: PresentSometimes,
		When:   "runs started by an alert or an event trigger (or given an event)",
		Status: step.StatusCore,
		Doc: "The trigger payload: for an alert-triggered run the alert event of semantics §8.1 " +
			"(`{alerts, rule, spaceId, ruleUrl}`) as the starter builds it; for an event-triggered run " +
			"(`POST /api/v1/events/{type}`, semantics §1.3.4) the posted payload plus `timestamp` and `spaceId`. " +
			"Manual and scheduled runs have no " +
			"`event`; a template that reads it renders as empty.",
		Keys: []VariableKey{
			{"alerts", "The alerts of the rule execution, each with `_id`, `_index` and the alert's fields."},
			{"rule", "The rule: `id`, `name`, `tags`, `consumer`, `producer`, `ruleTypeId`."},
			{"spaceId", "The Kibana space of the rule."},
			{"ruleUrl", "Link to the rule in Kibana, when the rule has one."},
		},
		Examples: []string{"{{ event.alerts[0].host.name }}", "${{ event.alerts | map: '_id' }}", "{{ event.rule.name }}"},
	},
	{
		Name: "execution", Shape: "`{id, isTestRun, startedAt, url, executedBy, triggeredBy}`", Presence: PresentAlways,
		When: "always", Status: step.StatusCore,
		Doc: "The run itself.",
		Keys: []VariableKey{
			{"id", "The Temporal workflow ID of the run (what `secflow run` prints, `temporal workflow list` and the Temporal UI show)."},
			{"isTestRun", "Always `false`."},
			{"startedAt", "A date: the workflow time when the run started (`workflow.Now`, replay-safe). Renders like " +
				"JavaScript's `String(new Date())`; `| date: …` formats it; in JSON it is an ISO-8601 string."},
			{"url", "**The run's history page in the Temporal UI**: `<ui-url>/namespaces/<namespace>/workflows/<workflowId>/<runId>/history`, " +
				"where `<ui-url>` is the worker's `--ui-url` (env `SECFLOW_UI_URL`; `secflow dev` sets it to its embedded UI). " +
				"Empty when the worker has no UI URL."},
			{"executedBy", "Always `\"unknown\"`."},
			{"triggeredBy", "`manual`, `alert`, `scheduled`, the trigger id (e.g. `cases.caseCreated`) for event triggers, " +
				"or `workflow-step` for children of `workflow.execute`."},
		},
		FixedKeys: true,
		Examples:  []string{"Run {{ execution.id }}: {{ execution.url }}", "{{ execution.startedAt | date: '%Y-%m-%d' }}"},
	},
	{
		Name: "workflow", Shape: "`{id, name, enabled, spaceId}`", Presence: PresentAlways, When: "always",
		Status: step.StatusCore,
		Doc:    "The definition the run executes.",
		Keys: []VariableKey{
			{"id", "The definition ID: the file name without `.yaml`/`.yml` (also the Temporal workflow type)."},
			{"name", "The definition's `name`."},
			{"enabled", "The definition's `enabled`."},
			{"spaceId", "The run's Kibana space; `\"default\"` unless the trigger gave one."},
		},
		FixedKeys: true,
		Examples:  []string{"{{ workflow.name }} ({{ workflow.id }})"},
	},
	{
		Name: "kibanaUrl", Shape: "string", Presence: PresentAlways, When: "always (`\"\"` when not configured)",
		Status: step.StatusNewer, // Kibana PR #241553 (semantics §4.6)
		Doc: "The worker's `--kibana-url` (env `SECFLOW_KIBANA_URL`); `secflow dev --sandbox` sets it to the " +
			"sandbox's fake Kibana. Empty when not configured.",
		Examples: []string{"{{ kibanaUrl }}/app/security/alerts"},
	},
	{
		Name: "now", Shape: "date", Presence: PresentAlways, When: "always",
		Status: step.StatusCore,
		Doc: "The current workflow time, taken again for each rendering (deterministic under replay). It is a " +
			"date, like `execution.startedAt`.",
		Examples: []string{"{{ now | date: '%Y-%m-%dT%H:%M:%S' }}"},
	},
	{
		Name: "steps", Shape: "`{<name>: {input, output, error, …state}}`", Presence: PresentAlways,
		When: "always (the steps visible from here)", Status: step.StatusCore,
		Doc: "`steps.<name>` holds what a step has produced so far (keys below).\n\n" +
			"Only **predecessors** are visible (semantics §3): steps that ran before the current one in document " +
			"order, not steps of another branch of the same `if`, `switch` or `parallel`. Inside a loop a step sees " +
			"the previous steps of the current iteration. The loop of a step-level `foreach:` is recorded as " +
			"`steps.foreach_<name>` (its `items`, `item`, `index`, `total`) and the step itself, after each " +
			"iteration, as `steps.<name>`; the fallback steps of `settings.on-failure` run as " +
			"`workflow-level-on-failure_<step>_<name>`. Such entries are visible wherever the step they belong to is.",
		Keys: []VariableKey{
			{"input", "What the step was run with: the rendered `with` for activity, `console`, `data.set`, `wait`, " +
				"`waitForInput` and `workflow.execute*` steps; `{condition}` for `if`; `{rawExpression, expression}` " +
				"for `switch`; `{foreach}` for a dynamic `parallel`."},
			{"output", "The step's output (see each page under [steps/](steps/README.md)); absent for steps without output."},
			{"error", "`{type, message, details?}` when the step failed."},
			{"state keys", "`foreach`: `items`, `item`, `index`, `total`; `while`: `iteration`; `switch`: `matchedValue`, `matchedIndex`."},
		},
		Examples: []string{"{{ steps.search.output.hits.total.value }}", "${{ steps.fetch.output.data }}"},
	},
	{
		Name: "variables", Shape: "object", Presence: PresentAlways, When: "always (`{}` before the first `data.set`)",
		Status: step.StatusCore,
		Doc: "The merge of the outputs of every `data.set` step run so far (a later `data.set` overwrites a key, " +
			"semantics §6.3.1).",
		Examples: []string{"{{ variables.host }}", "${{ variables.list | push: foreach.item }}"},
	},
	{
		Name: "output", Shape: "object", Presence: PresentSometimes, When: "after a `workflow.output` step",
		Status:   step.StatusNewer,
		Doc:      "The outputs emitted by `workflow.output` (a child run's output to its parent).",
		Examples: []string{"{{ output.verdict }}"},
	},
	{
		Name: "foreach", Shape: "`{items, item, index, total}`", Presence: PresentSometimes,
		When:   "inside a `foreach` body (or a step-level `foreach:` iteration, a dynamic `parallel` branch)",
		Status: step.StatusCore,
		Doc: "Inside a loop body: `items` (the whole list), `item`, `index` (0-based) and `total`. In nested loops " +
			"it is the innermost loop; reach an outer one through `steps.<outerLoop>.item` / `.index`.",
		Examples: []string{"{{ foreach.index }}/{{ foreach.total }}: {{ foreach.item.name }}"},
	},
	{
		Name: "while", Shape: "`{iteration}`", Presence: PresentSometimes, When: "inside a `while` body and its condition",
		Status:   step.StatusNewer,
		Doc:      "Inside a `while` body and in its `condition`: `{iteration}`, 0-based. Also `steps.<whileName>.iteration`.",
		Examples: []string{"while.iteration < 5"},
	},
	{
		Name: "error", Shape: "`{type, message, details?}`", Presence: PresentSometimes,
		When:   "in a fallback path, a `retry.condition`, a `continue` expression",
		Status: step.StatusCore,
		Doc: "The error that led here, `{type, message, details?}`: inside the `fallback` steps of an `on-failure` " +
			"(step level or `settings.on-failure`), and in the `retry.condition` and `continue` expressions that " +
			"decide what to do about it.",
		Examples: []string{"{{ error.type }}: {{ error.message }}", "error.details.status >= 500"},
	},
	{
		Name: "parent", Shape: "`{workflowId, executionId, depth}`", Presence: PresentSometimes,
		When:   "in a child run started by `workflow.execute` / `workflow.executeAsync`",
		Status: step.StatusNewer,
		Doc:    "In a child run: the run that started it.",
		Keys: []VariableKey{
			{"workflowId", "The Temporal workflow ID of the parent run."},
			{"executionId", "The Temporal run ID of the parent run."},
			{"depth", "1 for a direct child; at most 10."},
		},
		FixedKeys: true,
		Examples:  []string{"{{ parent.workflowId }}"},
	},
	{
		Name: "item", Shape: "any", Presence: PresentStepLocal,
		When:   "only inside `data.map` fields and `data.filter` / `data.find` conditions",
		Status: step.StatusNewer,
		Doc: "The current element of the data step's `items`. A `$map` in `data.map` fields may rename it " +
			"(`$map: {items, item: label}`).",
		Examples: []string{"${{ item.objectId }}", "item.state: active"},
	},
	{
		Name: "index", Shape: "number", Presence: PresentStepLocal,
		When:     "only inside `data.map` fields and `data.filter` / `data.find` conditions",
		Status:   step.StatusNewer,
		Doc:      "The 0-based position of `item` in `items` (renamed like `item` by `$map`).",
		Examples: []string{"${{ index }}"},
	},
}

// unavailable are the names of semantics §4.6 "not available".
var unavailable = []Unavailable{
	{Name: "`env.*` and `secrets.*`",
		Advice: "keep credentials in connectors (`connectors.yaml`) and configuration in `consts`",
		read:   regexp.MustCompile(`(?:^|[^A-Za-z0-9_.\]])(env|secrets)\.[A-Za-z_]`),
		warning: func(m []string) string {
			return m[1] + " is not a template variable in Elastic Workflows (it renders empty); keep values in consts or in a connector"
		}},
	{Name: "`foreach.first`, `foreach.last`",
		Advice: "compare `foreach.index` with `foreach.total`",
		read:   regexp.MustCompile(`(?:^|[^A-Za-z0-9_.\]])foreach\.(first|last)\b`),
		warning: func(m []string) string {
			return "foreach." + m[1] + " does not exist (foreach has item, index, total and items); compare foreach.index instead"
		}},
	{Name: "`steps.<name>.status`",
		Advice: "test `steps.<name>.error` or `.output`",
		read:   regexp.MustCompile(`(?:^|[^A-Za-z0-9_.\]])steps\.([A-Za-z0-9_-]+)\.status\b`),
		warning: func(m []string) string {
			return "steps." + m[1] + ".status does not exist (a step exposes input, output and error); test steps." + m[1] + ".error instead"
		}},
}

// variableDifferences are secflow's deliberate differences from Kibana's
// context, in Markdown.
var variableDifferences = []string{
	"`execution.url` links the Temporal UI, not Kibana's executions tab.",
	"`execution.executedBy` is always `\"unknown\"` and `execution.isTestRun` always `false` (also under " +
		"`secflow test`); there is no `execution.usage`.",
	"`metadata` (caller-supplied execution metadata) is not provided.",
	"Kibana's test-run `contextOverride` does not exist; `secflow test` gives inputs, events and step outputs " +
		"through mocks instead ([testing.md](testing.md)).",
	"Objects have no key order: where JavaScript would keep insertion order (e.g. `{{ obj | json }}`), " +
		"secflow sorts keys.",
}

// VariablesGeneratedMarker is the first line of the generated
// docs/variables.md.
const VariablesGeneratedMarker = "<!-- Code generated by secflow docs from interpreter/variables.go. DO NOT EDIT. -->"

// VariablesMarkdown renders the reference of the template context
// variables (docs/variables.md). sourceBase is prefixed to the declaring
// file's path to link it ("../" from docs/); empty means no link.
func VariablesMarkdown(sourceBase string) []byte {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	src := "`interpreter/variables.go`"
	if sourceBase != "" {
		src = fmt.Sprintf("[%s](%sinterpreter/variables.go)", src, sourceBase)
	}
	line("%s", VariablesGeneratedMarker)
	line("")
	line("# Template context variables")
	line("")
	line("> Generated from %s by `secflow docs` — do not edit.", src)
	line("")
	line("%s", variablesIntro)
	line("")
	line("| Variable | Shape | Present | Status |")
	line("|---|---|---|---|")
	for _, v := range variables {
		line("| [`%s`](#%s) | %s | %s | %s |", v.Name, strings.ToLower(v.Name), mdCell(v.Shape), mdCell(v.When), v.Status)
	}
	line("")
	var legend []string
	for _, st := range step.Statuses() {
		legend = append(legend, fmt.Sprintf("`%s` (%s)", st, st.Describe()))
	}
	line("Status is the Kibana generation of a variable (semantics §0.2, §4.6): %s.", strings.Join(legend, "; "))
	for _, v := range variables {
		line("")
		line("## `%s`", v.Name)
		line("")
		line("%s", strings.TrimSpace(v.Doc))
		if len(v.Keys) > 0 {
			line("")
			line("| Key | Value in secflow |")
			line("|---|---|")
			for _, k := range v.Keys {
				name := "`" + k.Name + "`"
				if strings.Contains(k.Name, " ") {
					name = k.Name
				}
				line("| %s | %s |", name, mdCell(k.Doc))
			}
		}
		if len(v.Examples) > 0 {
			exs := make([]string, len(v.Examples))
			for i, ex := range v.Examples {
				exs[i] = "`" + ex + "`"
			}
			line("")
			line("Examples: %s.", strings.Join(exs, ", "))
		}
	}
	line("")
	line("## Not available")
	line("")
	line("The validator warns when a template reads one of these, since neither Kibana nor secflow provides " +
		"them (semantics §4.6):")
	line("")
	for _, u := range unavailable {
		line("- %s — %s;", u.Name, u.Advice)
	}
	line("")
	line("A reference to a step that does not exist (or is not a predecessor) is a warning too (`secflow validate`).")
	line("")
	line("## Differences from Kibana")
	line("")
	for _, d := range variableDifferences {
		line("- %s", d)
	}
	return []byte(b.String())
}

// mdCell makes s safe inside a Markdown table cell.
func mdCell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(strings.TrimSpace(s), "\n", " "), "|", `\|`)
}
