package interpreter

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // rrule tzid and settings.timezone are checked against the IANA database

	"github.com/secflow/secflow/interpreter/duration"
	"github.com/secflow/secflow/interpreter/kql"
	"github.com/secflow/secflow/interpreter/step"
	"github.com/secflow/secflow/interpreter/template"
)

// Validate checks a decoded definition against the step specs of reg (nil
// means step.Default()) and returns every problem found, sorted. Positions
// come from Step.Pos and Trigger.Pos; LoadBytes, which also has the YAML
// nodes, reports exact positions for every value.
func Validate(def *Definition, reg *step.Registry) Problems {
	if reg == nil {
		reg = step.Default()
	}
	v := newValidator(def, reg, nil)
	v.run()
	for i := range v.probs {
		if v.probs[i].File == "" {
			v.probs[i].File = def.File
		}
	}
	v.probs.Sort()
	return v.probs
}

// checkNow is the fixed clock of the template engine used for static checks.
var checkNow = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

type validator struct {
	def   *Definition
	reg   *step.Registry
	loc   *locator
	eng   *template.Engine
	probs Problems
	// seen maps a step name to the path of its first use.
	seen map[string]string
	// allNames holds every step name of the main tree, fallbacks included.
	allNames map[string]bool
}

func newValidator(def *Definition, reg *step.Registry, loc *locator) *validator {
	v := &validator{def: def, reg: reg, loc: loc,
		eng:      template.New(template.Options{Now: func() time.Time { return checkNow }}),
		seen:     map[string]string{},
		allNames: map[string]bool{},
	}
	if v.loc == nil {
		v.loc = newLocator()
		for i, t := range def.Triggers {
			v.loc.val[indexPath("triggers", i)] = t.Pos
		}
		v.indexSteps(def.Steps, "steps")
		if def.Settings.OnFailure != nil {
			v.indexSteps(def.Settings.OnFailure.Fallback, "settings.on-failure.fallback")
		}
	}
	return v
}

// indexSteps records Step.Pos for every step path (used without a loader).
func (v *validator) indexSteps(list []*Step, path string) {
	for i, st := range list {
		p := indexPath(path, i)
		v.loc.val[p] = st.Pos
		v.indexSteps(st.Steps, p+".steps")
		v.indexSteps(st.Else, p+".else")
		v.indexSteps(st.Default, p+".default")
		for j, c := range st.Cases {
			v.indexSteps(c.Steps, indexPath(p+".cases", j)+".steps")
		}
		for j, b := range st.Branches {
			v.indexSteps(b.Steps, indexPath(p+".branches", j)+".steps")
		}
		if st.OnFailure != nil {
			v.indexSteps(st.OnFailure.Fallback, p+".on-failure.fallback")
		}
		if st.IterationOnFailure != nil {
			v.indexSteps(st.IterationOnFailure.Fallback, p+".iteration-on-failure.fallback")
		}
	}
}

// parentPath strips the last segment of a path (a.b[2] -> a.b, a["x.y"] -> a).
func parentPath(p string) string {
	cut := -1
	inQuote := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case !inQuote && (c == '.' || c == '['):
			cut = i
		}
	}
	if cut < 0 {
		return ""
	}
	return p[:cut]
}

// posOf returns the position of the value (or key) at path, or of the
// nearest enclosing value that has one.
func (v *validator) posOf(path string, key bool) Pos {
	if key {
		if p, ok := v.loc.key[path]; ok {
			return p
		}
	}
	for p := path; ; p = parentPath(p) {
		if pos, ok := v.loc.val[p]; ok {
			return pos
		}
		if p == "" {
			return Pos{File: v.def.File}
		}
	}
}

func (v *validator) report(sev Severity, path string, key bool, code, format string, args ...any) {
	v.probs = append(v.probs, Problem{Pos: v.posOf(path, key), Path: path, Severity: sev, Code: code,
		Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) errorf(path string, code, format string, args ...any) {
	v.report(SeverityError, path, false, code, format, args...)
}

func (v *validator) warnf(path string, code, format string, args ...any) {
	v.report(SeverityWarning, path, false, code, format, args...)
}

func (v *validator) run() {
	collectNames(v.def.Steps, v.allNames)
	for i, t := range v.def.Triggers {
		v.trigger(t, indexPath("triggers", i))
	}
	v.settings()
	v.walkSteps(v.def.Steps, "steps", map[string]bool{}, 0)
	if of := v.def.Settings.OnFailure; of != nil && len(of.Fallback) > 0 {
		// Workflow-level fallback steps run after whichever step failed, and
		// Kibana prefixes their ids, so they have their own name space and
		// may read any step.
		saved := v.seen
		v.seen = map[string]string{}
		v.walkSteps(of.Fallback, "settings.on-failure.fallback", v.allNames, 0)
		v.seen = saved
	}
}

func collectNames(list []*Step, into map[string]bool) {
	EachStep(list, func(st *Step) {
		if st.Name != "" {
			into[st.Name] = true
		}
	})
}

// --- triggers and settings ---

func (v *validator) trigger(t Trigger, path string) {
	if t.Type == "scheduled" {
		if every, ok := t.With["every"].(string); ok {
			if err := duration.ValidInterval(every); err != nil {
				v.errorf(path+".with.every", CodeInterval, "%s", errText(err))
			}
		}
		if rr, ok := t.With["rrule"].(map[string]any); ok {
			if tz, ok := rr["tzid"].(string); ok {
				v.timezone(tz, path+".with.rrule.tzid", "rrule.tzid")
			}
		}
	}
	if t.Condition != "" {
		v.condition(t.Condition, path+".on.condition", nil, "on.condition")
	}
}

func (v *validator) timezone(tz, path, what string) {
	if tz == "" || tz == "UTC" {
		return
	}
	if _, err := time.LoadLocation(tz); err != nil || tz == "Local" {
		v.errorf(path, CodeValue, "%s: unknown IANA time zone %q", what, tz)
	}
}

func (v *validator) settings() {
	s := v.def.Settings
	v.duration(s.Timeout, "settings.timeout", "settings.timeout")
	if s.OperatorTimeout != "0" {
		v.duration(s.OperatorTimeout, "settings.operator-timeout", "settings.operator-timeout")
	}
	v.byteSize(s.MaxStepSize, "settings.max-step-size", "settings.max-step-size")
	v.timezone(s.Timezone, "settings.timezone", "settings.timezone")
	if ttl, ok := s.Concurrency["queue-ttl"].(string); ok {
		v.duration(ttl, "settings.concurrency.queue-ttl", "concurrency.queue-ttl")
	}
	if key, ok := s.Concurrency["key"].(string); ok {
		v.templates(key, "settings.concurrency.key", nil)
	}
	if s.OnFailure != nil {
		// Fallback steps are walked by run (own name space).
		v.onFailureFields(s.OnFailure, "settings.on-failure", v.allNames)
	}
}

// errText is an error's message with a leading capital kept (package errors
// carry Kibana's texts).
func errText(err error) string { return err.Error() }

func (v *validator) duration(s, path, what string) {
	if s == "" {
		return
	}
	if _, err := duration.Parse(s); err != nil {
		v.errorf(path, CodeDuration, "%s: %s", what, errText(err))
	}
}

func (v *validator) byteSize(s, path, what string) {
	if s == "" {
		return
	}
	if _, err := duration.ParseBytes(s); err != nil {
		v.errorf(path, CodeDuration, "%s: %s", what, errText(err))
	}
}

// --- steps ---

func cloneSet(m map[string]bool) map[string]bool {
	out := make(map[string]bool, len(m)+4)
	for k := range m {
		out[k] = true
	}
	return out
}

// walkSteps checks a step list; vis holds the step names that may have run
// before the list starts. It returns every step name of the list's subtree.
func (v *validator) walkSteps(list []*Step, path string, vis map[string]bool, loop int) []string {
	local := cloneSet(vis)
	var names []string
	for i, st := range list {
		sub := v.walkStep(st, indexPath(path, i), local, loop)
		for _, n := range sub {
			local[n] = true
		}
		names = append(names, sub...)
	}
	return names
}

// walkStep checks one step and its subtree (see walkSteps).
func (v *validator) walkStep(st *Step, path string, vis map[string]bool, loop int) []string {
	var names []string
	if st.Name != "" {
		names = append(names, st.Name)
		if first, dup := v.seen[st.Name]; dup {
			v.errorf(path+".name", CodeDuplicate, "duplicate step name %q (first used at line %d); step names must be unique in the whole workflow",
				st.Name, v.posOf(first+".name", false).Line)
		} else {
			v.seen[st.Name] = path
		}
	}
	spec := v.stepType(st, path)
	if (st.Type == "loop.break" || st.Type == "loop.continue") && loop == 0 {
		v.errorf(path+".type", CodeLoopControl, "%s is only valid inside a foreach or while body", st.Type)
	}

	// Step modifiers.
	v.condition(st.If, path+".if", vis, "if")
	isLoopType := st.Type == "foreach" || st.Type == "while"
	if st.Foreach != nil {
		v.foreachValue(st.Foreach, path+".foreach", vis)
	}
	v.duration(st.Timeout, path+".timeout", "timeout")
	v.byteSize(st.MaxStepSize, path+".max-step-size", "max-step-size")
	if st.ConnectorID != "" {
		v.templates(st.ConnectorID, path+".connector-id", vis)
	}
	if spec != nil {
		// The generic connector fallback ("*") also catches registry steps
		// that are not connectors, so only declared types require it.
		if spec.NeedsConnector && spec.Type != "*" && st.ConnectorID == "" && !v.mentioned(path+".connector-id") {
			v.errorf(path, CodeRequired, "step %q (type %s) needs a connector-id (the name or id of a configured connector)", st.Name, st.Type)
		}
		v.with(st, spec, path, vis)
		v.config(st, spec, path, vis)
	}

	// Structure: the body of a container sees the container itself.
	inner := cloneSet(vis)
	if st.Name != "" {
		inner[st.Name] = true
	}
	bodyLoop := loop
	if isLoopType {
		bodyLoop = loop + 1
	}
	if st.Type == "parallel" {
		bodyLoop = 0
		v.parallel(st, path)
	}
	if st.Type != "while" {
		v.condition(st.Condition, path+".condition", vis, "condition")
	}
	if st.Expression != nil {
		switch e := st.Expression.(type) {
		case string:
			v.templates(e, path+".expression", vis)
		case float64, bool:
		default:
			v.errorf(path+".expression", CodeType, "expression must be a string, number or boolean")
		}
	}
	var sub []string
	body := v.walkSteps(st.Steps, path+".steps", inner, bodyLoop)
	sub = append(sub, body...)
	if st.Type == "while" {
		// Evaluated after each iteration: the body's steps are visible.
		after := cloneSet(inner)
		for _, n := range body {
			after[n] = true
		}
		v.condition(st.Condition, path+".condition", after, "condition")
	}
	sub = append(sub, v.walkSteps(st.Else, path+".else", inner, loop)...)
	for i, c := range st.Cases {
		cp := indexPath(path+".cases", i)
		if s, ok := c.Match.(string); ok {
			v.templates(s, cp+".match", inner)
		}
		sub = append(sub, v.walkSteps(c.Steps, cp+".steps", inner, loop)...)
	}
	sub = append(sub, v.walkSteps(st.Default, path+".default", inner, loop)...)
	for i, b := range st.Branches {
		sub = append(sub, v.walkSteps(b.Steps, indexPath(path+".branches", i)+".steps", inner, 0)...)
	}
	names = append(names, sub...)

	// Failure handling runs after the step (and its subtree) ran.
	after := cloneSet(inner)
	for _, n := range sub {
		after[n] = true
	}
	if st.IterationOnFailure != nil {
		v.onFailureFields(st.IterationOnFailure, path+".iteration-on-failure", after)
		names = append(names, v.walkSteps(st.IterationOnFailure.Fallback, path+".iteration-on-failure.fallback", after, bodyLoop)...)
	}
	if st.OnFailure != nil {
		v.onFailureFields(st.OnFailure, path+".on-failure", after)
		names = append(names, v.walkSteps(st.OnFailure.Fallback, path+".on-failure.fallback", after, loop)...)
	}
	return names
}

// stepType resolves the spec of st, reporting unknown types.
func (v *validator) stepType(st *Step, path string) *step.Spec {
	if st.Type == "" {
		return nil
	}
	if why, bad := unsupportedTypes[st.Type]; bad {
		v.errorf(path+".type", CodeUnsupported, "%s", why)
		return nil
	}
	spec, ok := lookupSpec(v.reg, st.Type)
	if ok && spec.Type == "*" {
		// Accepted only as a generic connector type: a name this close to a
		// known type is far more likely a typo than a connector.
		if s := suggest(st.Type, v.knownTypes()); s != "" {
			v.errorf(path+".type", CodeUnknownType, "unknown step type %q (did you mean %q?)", st.Type, s)
			return nil
		}
	}
	if ok {
		return spec
	}
	msg := fmt.Sprintf("unknown step type %q", st.Type)
	if s := suggest(st.Type, v.knownTypes()); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	v.errorf(path+".type", CodeUnknownType, "%s", msg)
	return nil
}

func (v *validator) knownTypes() []string {
	out := BuiltinTypes()
	for _, t := range v.reg.Types() {
		if !strings.Contains(t, "*") {
			out = append(out, t)
		}
	}
	return out
}

func (v *validator) foreachValue(val any, path string, vis map[string]bool) {
	switch f := val.(type) {
	case string:
		v.templates(f, path, vis)
	case []any:
		v.templates(f, path, vis)
	default:
		v.errorf(path, CodeType, "foreach must be a template string, a JSON-array string or a list")
	}
}

func (v *validator) parallel(st *Step, path string) {
	static := len(st.Branches) > 0
	dynamic := st.Foreach != nil || st.Steps != nil
	switch {
	case static && dynamic:
		v.errorf(path, CodeValue, "parallel step %q takes either branches or foreach + steps, not both", st.Name)
	case !static && !dynamic:
		v.errorf(path, CodeRequired, "parallel step %q needs branches, or foreach + steps", st.Name)
	case dynamic && (st.Foreach == nil || len(st.Steps) == 0):
		v.errorf(path, CodeRequired, "parallel step %q with a fan-out needs both foreach and steps", st.Name)
	}
	seen := map[string]bool{}
	for i, b := range st.Branches {
		if b.Name == "" {
			continue
		}
		if seen[b.Name] {
			v.errorf(indexPath(path+".branches", i)+".name", CodeDuplicate, "duplicate branch name %q", b.Name)
		}
		seen[b.Name] = true
	}
	switch c := st.Concurrency.(type) {
	case nil:
	case float64:
		if c < 1 || c != math.Trunc(c) {
			v.errorf(path+".concurrency", CodeValue, "concurrency must be a positive integer")
		}
	case map[string]any:
		for k, val := range c {
			switch k {
			case "max":
				if f, ok := val.(float64); !ok || f < 1 || f != math.Trunc(f) {
					v.errorf(joinPath(path+".concurrency", k), CodeValue, "concurrency.max must be a positive integer")
				}
			case "count-waiting":
				if _, ok := val.(bool); !ok {
					v.errorf(joinPath(path+".concurrency", k), CodeType, "concurrency.count-waiting must be true or false")
				}
			default:
				v.report(SeverityError, joinPath(path+".concurrency", k), true, CodeUnknownKey,
					"unknown key %q in concurrency%s", k, didYouMean(k, []string{"max", "count-waiting"}))
			}
		}
	default:
		v.errorf(path+".concurrency", CodeType, "concurrency must be an integer or {max, count-waiting}")
	}
}

func (v *validator) onFailureFields(of *OnFailure, path string, vis map[string]bool) {
	if r := of.Retry; r != nil {
		v.duration(r.Delay, path+".retry.delay", "retry.delay")
		v.duration(r.MaxDelay, path+".retry.max-delay", "retry.max-delay")
		v.condition(r.Condition, path+".retry.condition", vis, "retry.condition")
	}
	if s, ok := of.Continue.(string); ok {
		v.condition(s, path+".continue", vis, "continue")
	}
}

// with checks the `with` block against the spec's With fields.
func (v *validator) with(st *Step, spec *step.Spec, path string, vis map[string]bool) {
	wp := path + ".with"
	closed := closedWith(spec)
	switch w := st.With.(type) {
	case nil:
		if st.With == nil {
			for _, f := range spec.With {
				if f.Required {
					v.errorf(path, CodeRequired, "step %q (type %s) is missing with.%s", st.Name, st.Type, f.Name)
				}
			}
		}
		if spec.Type == "data.set" {
			v.errorf(path, CodeRequired, "step %q (type data.set) needs a with block of key-value pairs", st.Name)
		}
	case string:
		if !template.ContainsTemplate(w) {
			v.errorf(wp, CodeType, "with must be a mapping, got a string")
			return
		}
		v.templates(w, wp, vis)
	case map[string]any:
		for _, k := range keysSorted(w) {
			kp := joinPath(wp, k)
			f := spec.WithField(k)
			if f == nil {
				if closed {
					if s := suggest(k, fieldNames(spec.With)); s != "" {
						v.loc.misspelled[joinPath(wp, s)] = true
					}
					v.report(SeverityError, kp, true, CodeUnknownKey, "unknown key %q in with of step %q (type %s)%s",
						k, st.Name, st.Type, didYouMean(k, fieldNames(spec.With)))
				}
			} else {
				v.field(*f, w[k], kp, "with."+k)
			}
			v.templates(w[k], kp, vis)
			if (spec.Type == "data.filter" || spec.Type == "data.find") && k == "condition" {
				if s, ok := w[k].(string); ok && strings.TrimSpace(s) != "" {
					v.condition(s, kp, vis, "with.condition")
				}
			}
		}
		for _, f := range spec.With {
			if _, ok := w[f.Name]; !ok && f.Required && !v.mentioned(joinPath(wp, f.Name)) {
				v.errorf(wp, CodeRequired, "step %q (type %s) is missing with.%s", st.Name, st.Type, f.Name)
			}
		}
	default:
		v.errorf(wp, CodeType, "with must be a mapping")
	}
}

// config checks the type-specific step-level keys.
func (v *validator) config(st *Step, spec *step.Spec, path string, vis map[string]bool) {
	for _, f := range spec.Config {
		p := joinPath(path, f.Name)
		if structuralKeys[f.Name] {
			present := v.structuralPresent(st, f.Name) || v.mentioned(p)
			if f.Required && !present && !(spec.Type == "parallel") {
				v.errorf(path, CodeRequired, "step %q (type %s) is missing %s", st.Name, st.Type, f.Name)
			}
			if s := structuralString(st, f.Name); s != "" {
				v.field(f, s, p, f.Name)
			}
			continue
		}
		val, ok := st.Config[f.Name]
		if !ok || val == nil {
			if f.Required && !v.mentioned(p) {
				v.errorf(path, CodeRequired, "step %q (type %s) is missing %s", st.Name, st.Type, f.Name)
			}
			continue
		}
		v.field(f, val, p, f.Name)
		v.templates(val, p, vis)
	}
}

// mentioned reports whether path was written in the YAML (possibly with a
// wrong type, already reported) or is what a misspelled key meant.
func (v *validator) mentioned(path string) bool {
	_, written := v.loc.key[path]
	return written || v.loc.misspelled[path]
}

func (v *validator) structuralPresent(st *Step, name string) bool {
	switch name {
	case "condition":
		return st.Condition != nil
	case "steps":
		return st.Steps != nil
	case "else":
		return st.Else != nil
	case "expression":
		return st.Expression != nil
	case "cases":
		return st.Cases != nil
	case "default":
		return st.Default != nil
	case "branches":
		return st.Branches != nil
	case "foreach":
		return st.Foreach != nil
	case "max-iterations":
		return st.MaxIterations != nil
	case "iteration-on-failure":
		return st.IterationOnFailure != nil
	case "concurrency":
		return st.Concurrency != nil
	}
	return structuralString(st, name) != ""
}

func structuralString(st *Step, name string) string {
	switch name {
	case "mode":
		return st.Mode
	case "status":
		return st.Status
	case "branch-timeout":
		return st.BranchTimeout
	case "iteration-timeout":
		return st.IterationTimeout
	}
	return ""
}

// field checks one literal value against its declared type and enum.
// Template strings are checked only as templates (their type is known at
// run time).
func (v *validator) field(f step.Field, val any, path, what string) {
	if val == nil {
		return
	}
	if s, ok := val.(string); ok && template.ContainsTemplate(s) {
		return
	}
	want := ""
	switch f.Type {
	case step.String:
		if _, ok := val.(string); !ok {
			want = "a string"
		}
	case step.Int:
		if n, ok := val.(float64); !ok || n != math.Trunc(n) {
			want = "an integer"
		}
	case step.Number:
		if _, ok := val.(float64); !ok {
			want = "a number"
		}
	case step.Bool:
		if _, ok := val.(bool); !ok {
			want = "true or false"
		}
	case step.Duration:
		s, ok := val.(string)
		if !ok {
			want = `a duration such as "30s"`
		} else if _, err := duration.Parse(s); err != nil {
			v.errorf(path, CodeDuration, "%s: %s", what, errText(err))
			return
		}
	case step.Object:
		if _, ok := val.(map[string]any); !ok {
			want = "a mapping"
		}
	case step.List, step.Steps:
		if _, ok := val.([]any); !ok && f.Type == step.List {
			want = "a list"
		}
	}
	if want != "" {
		v.errorf(path, CodeType, "%s must be %s, got %s", what, want, describeValue(val))
		return
	}
	if s, ok := val.(string); ok && len(f.Enum) > 0 && !contains(f.Enum, s) {
		v.errorf(path, CodeValue, "%s must be one of %s, got %q%s", what, strings.Join(f.Enum, ", "), s, didYouMean(s, f.Enum))
	}
}

func describeValue(val any) string {
	switch val.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64, int, int64:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%T", val)
}

func fieldNames(fs []step.Field) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Name
	}
	return out
}

// --- templates, conditions and references ---

// templates statically checks every template string inside val (keys are
// never templated) and the step references they make.
func (v *validator) templates(val any, path string, vis map[string]bool) {
	switch x := val.(type) {
	case string:
		if !template.ContainsTemplate(x) {
			return
		}
		if err := v.eng.Check(x); err != nil {
			v.errorf(path, CodeTemplate, "invalid template: %s", errText(err))
		}
		if vis != nil {
			code := templateCode(x)
			v.references(code, path, vis)
			v.missingVariables(code, path)
		}
	case []any:
		for i, e := range x {
			v.templates(e, indexPath(path, i), vis)
		}
	case map[string]any:
		for _, k := range keysSorted(x) {
			v.templates(x[k], joinPath(path, k), vis)
		}
	}
}

// condition checks a condition: a boolean, or a string that is a template
// (checked as such) or KQL (parsed).
func (v *validator) condition(c any, path string, vis map[string]bool, what string) {
	switch x := c.(type) {
	case nil, bool:
	case string:
		if vis != nil || strings.Contains(x, "steps") {
			v.references(x, path, orEmpty(vis))
		}
		v.missingVariables(x, path)
		if template.ContainsTemplate(x) {
			if err := v.eng.Check(x); err != nil {
				v.errorf(path, CodeTemplate, "invalid template: %s", errText(err))
			}
			return
		}
		t := strings.TrimSpace(x)
		if t == "true" || t == "false" || t == "" {
			return
		}
		if _, err := kql.Parse(x); err != nil {
			var se *kql.SyntaxError
			if errors.As(err, &se) {
				v.errorf(path, CodeKQL, "syntax error in %s %q: %s (at offset %d)", what, x, se.Msg, se.Pos)
			} else {
				v.errorf(path, CodeKQL, "syntax error in %s %q: %s", what, x, errText(err))
			}
			return
		}
		if ops := kql.EqualityOperators(x); len(ops) > 0 {
			v.warnf(path, CodeKQLEquality, "%s uses %q, which is not KQL: Kibana reads it as free text, so the condition is always false; write `field: value`, a range, or a ${{ }} expression", what, ops[0])
		}
	default:
		v.errorf(path, CodeType, "%s must be a KQL string or a boolean, got %s", what, describeValue(c))
	}
}

func orEmpty(m map[string]bool) map[string]bool {
	if m == nil {
		return map[string]bool{}
	}
	return m
}

// templateCode returns the code inside the {{ }} and {% %} delimiters of s.
func templateCode(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "{")
		if i < 0 || i+1 >= len(s) {
			return b.String()
		}
		var end string
		switch s[i+1] {
		case '{':
			end = "}}"
		case '%':
			end = "%}"
		default:
			s = s[i+1:]
			continue
		}
		rest := s[i+2:]
		j := strings.Index(rest, end)
		if j < 0 {
			b.WriteString(rest)
			return b.String()
		}
		b.WriteString(rest[:j])
		b.WriteByte(' ')
		s = rest[j+2:]
	}
}

// missingVariables warns about reads of context variables that do not
// exist (the unavailable names declared in variables.go).
func (v *validator) missingVariables(code, path string) {
	for _, u := range unavailable {
		if m := u.read.FindStringSubmatch(code); m != nil {
			v.warnf(path, CodeReference, "%s", u.warning(m))
		}
	}
}

var stepRefRE = regexp.MustCompile(`(?:^|[^A-Za-z0-9_.\]])steps(?:\.([A-Za-z0-9_-]+)|\[\s*['"]([^'"]+)['"]\s*\])`)

// references warns about steps.X where X cannot have run at this point.
func (v *validator) references(code, path string, vis map[string]bool) {
	for _, m := range stepRefRE.FindAllStringSubmatch(code, -1) {
		name := m[1]
		if name == "" {
			name = m[2]
		}
		if vis[name] {
			continue
		}
		if v.allNames[name] {
			v.warnf(path, CodeReference, "steps.%s is not available here: step %q does not run before this point (Kibana exposes only preceding steps, so it renders empty)", name, name)
		} else {
			v.warnf(path, CodeReference, "steps.%s refers to no step of this workflow%s", name, didYouMean(name, sortedSet(vis)))
		}
	}
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// --- suggestions ---

// didYouMean formats a suggestion for s among candidates, or "".
func didYouMean(s string, candidates []string) string {
	if sg := suggest(s, candidates); sg != "" {
		return fmt.Sprintf(" (did you mean %q?)", sg)
	}
	return ""
}

// suggest returns the candidate closest to s by Levenshtein distance when it
// is close enough to be a likely typo, else "".
func suggest(s string, candidates []string) string {
	best, bestD := "", math.MaxInt
	ls := strings.ToLower(s)
	for _, c := range candidates {
		if c == s {
			continue
		}
		d := levenshtein(ls, strings.ToLower(c))
		if d < bestD || d == bestD && c < best {
			best, bestD = c, d
		}
	}
	limit := len([]rune(s)) / 3
	if limit < 1 {
		limit = 1
	}
	if limit > 3 {
		limit = 3
	}
	if best != "" && bestD <= limit {
		return best
	}
	return ""
}

// levenshtein is the edit distance between a and b in runes, counting the
// transposition of two adjacent runes as one edit (optimal string alignment),
// so that "dealy" is one edit from "delay".
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
