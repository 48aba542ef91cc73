package flowtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/secflow/secflow/starter"
)

// File is a parsed *.test.yaml file.
type File struct {
	// Path is the file the test was read from.
	Path string
	// Workflow is the `workflow:` value: a path relative to the test file,
	// or a definition id.
	Workflow    string
	WorkflowPos Pos
	// Engine holds the top-level `engine:` options (both off by default:
	// Kibana's semantics exactly).
	Engine Engine
	// Mocks are file-level mocks, used by every case that does not mock
	// the same step itself.
	Mocks map[string]*Mock
	Cases []*Case
}

// Pos is a position in a test file.
type Pos struct {
	File string
	Line int
	Col  int
}

// String formats p as file:line:col.
func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Engine is the `engine:` block: the deliberate differences from Kibana a
// test may turn on.
type Engine struct {
	TransientRetry   bool
	OperatorRecovery bool
}

// Case is one entry of `cases:`.
type Case struct {
	Name string
	Pos  Pos
	// Event is the trigger event: an alert run, or with Trigger the payload
	// of an event-triggered run; nil for manual runs.
	Event map[string]any
	// Trigger is the custom (event) trigger the case simulates, e.g.
	// cases.caseCreated; "" for alert and manual runs.
	Trigger    string
	TriggerPos Pos
	// Inputs are the manual inputs (defaults and validation apply).
	Inputs map[string]any
	// Consts are merged over the definition's consts (maps merge deeply).
	Consts map[string]any
	// Now fixes the clock (zero: the real clock at the start of the case).
	Now time.Time
	// Mocks answer side-effecting steps by step name.
	Mocks map[string]*Mock
	// Engine overrides the file's engine options for this case.
	Engine *Engine
	Expect Expect
}

// Mock answers the executions of one step. A single entry answers every
// call; a list is consumed call by call and running past its end fails the
// case.
type Mock struct {
	Step    string
	Pos     Pos
	Entries []MockEntry
	// Repeat says the mock was one entry (not a list) and answers every call.
	Repeat bool
	// Unset (`step: null` in a case) removes the file-level mock of the
	// step for that case.
	Unset bool
}

// MockEntry is one answer: an output or an error.
type MockEntry struct {
	Pos    Pos
	Output any
	Error  *MockError
}

// MockError is `error: {type, message, details, retryable}` of a mock.
type MockError struct {
	Type    string
	Message string
	Details map[string]any
	// Retryable marks the error transient (matters with transient-retry);
	// nil means inferred from the type and message (see transient).
	Retryable *bool
}

// Expect is the `expect:` block of a case.
type Expect struct {
	Pos Pos
	// Status is the expected run status; empty means completed, or failed
	// when Error is set.
	Status string
	Ran    []Ref
	NotRan []Ref
	Calls  []Count
	Steps  []StepExpect
	// Output and Error are expectation trees (see match.go); nil when
	// absent.
	Output any
	Error  any
	// Triggered, for a case with a trigger, says whether the trigger's
	// `on.condition` must match the event (nil: it must). With false the
	// case passes when the condition does not match, and nothing runs.
	Triggered    *bool
	TriggeredPos Pos
	// others says an expectation other than triggered was given.
	others bool
}

// Ref names a step at a position of the test file.
type Ref struct {
	Step string
	Pos  Pos
}

// Count is one entry of `calls:`.
type Count struct {
	Ref
	N int
}

// StepExpect is one entry of `steps:`: expectations on a step's last
// execution.
type StepExpect struct {
	Ref
	Input  any
	Output any
	Error  any
	// Status is the status of the step's last execution (completed, failed,
	// skipped, ...); empty means not checked.
	Status string
	has    map[string]bool
}

// Run statuses a case may expect.
var runStatuses = []string{"completed", "failed", "cancelled", "timed_out", "waiting_for_input", "waiting_for_operator"}

// ParseFile reads and parses a test file.
func ParseFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the test file: %w", err)
	}
	return Parse(path, data)
}

// Parse parses the content of a test file. Unknown keys, wrong types and
// bad values are errors carrying file:line:col.
func Parse(path string, data []byte) (*File, error) {
	p := &parser{file: path}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty test file: expected workflow and cases", path)
		}
		return nil, fmt.Errorf("%s: invalid YAML: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	f := p.top(deref(root))
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return f, nil
}

// Errors is a list of problems of a test file, one per line.
type Errors []error

func (e Errors) Error() string {
	var b strings.Builder
	for i, err := range e {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(err.Error())
	}
	return b.String()
}

// parser collects every problem of a test file.
type parser struct {
	file string
	errs Errors
}

func (p *parser) pos(n *yaml.Node) Pos {
	if n == nil {
		return Pos{File: p.file}
	}
	return Pos{File: p.file, Line: n.Line, Col: n.Column}
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s: %s", p.pos(n), fmt.Sprintf(format, args...)))
}

// deref follows aliases.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// pair is one key/value of a mapping.
type pair struct {
	key   string
	kn, v *yaml.Node
}

// pairs returns the entries of mapping n with merge keys (<<) expanded;
// explicit keys win over merged ones. ok is false (and an error reported)
// when n is not a mapping.
func (p *parser) pairs(n *yaml.Node, what string) ([]pair, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping", what)
		return nil, false
	}
	var out, merged []pair
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "<<" && k.Tag == "!!merge" {
			srcs := []*yaml.Node{deref(v)}
			if d := deref(v); d != nil && d.Kind == yaml.SequenceNode {
				srcs = d.Content
			}
			for _, s := range srcs {
				ps, ok := p.pairs(s, "a merged value (<<)")
				if ok {
					merged = append(merged, ps...)
				}
			}
			continue
		}
		if seen[k.Value] {
			p.errorf(k, "duplicate key %q in %s", k.Value, what)
		}
		seen[k.Value] = true
		out = append(out, pair{key: k.Value, kn: k, v: v})
	}
	for _, m := range merged {
		if !seen[m.key] {
			seen[m.key] = true
			out = append(out, m)
		}
	}
	return out, true
}

// unknown reports an unknown key with the list of known ones.
func (p *parser) unknown(kv pair, what string, known ...string) {
	p.errorf(kv.kn, "unknown key %q in %s (known keys: %s)", kv.key, what, strings.Join(known, ", "))
}

func (p *parser) str(n *yaml.Node, what string) string {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorf(n, "%s must be a string", what)
		return ""
	}
	return n.Value
}

func (p *parser) boolean(n *yaml.Node, what string) bool {
	n = deref(n)
	var b bool
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
		p.errorf(n, "%s must be true or false", what)
	}
	return b
}

// object decodes a mapping into a JSON-like map.
func (p *parser) object(n *yaml.Node, what string) map[string]any {
	v, err := decodeValue(n)
	if err != nil {
		p.errorf(n, "%s: %v", what, err)
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		p.errorf(n, "%s must be a mapping", what)
	}
	return m
}

// refs parses a list of step names.
func (p *parser) refs(n *yaml.Node, what string) []Ref {
	n = deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s must be a list of step names", what)
		return nil
	}
	var out []Ref
	for _, e := range n.Content {
		if s := p.str(e, what+" entry"); s != "" {
			out = append(out, Ref{Step: s, Pos: p.pos(e)})
		}
	}
	return out
}

func (p *parser) top(root *yaml.Node) *File {
	f := &File{Path: p.file}
	ps, ok := p.pairs(root, "a test file")
	if !ok {
		return f
	}
	var casesNode *yaml.Node
	for _, kv := range ps {
		switch kv.key {
		case "workflow":
			f.Workflow = p.str(kv.v, "workflow")
			f.WorkflowPos = p.pos(kv.v)
		case "engine":
			f.Engine = p.engine(kv.v)
		case "mocks":
			f.Mocks = p.mocks(kv.v)
		case "description":
			p.str(kv.v, "description")
		case "cases":
			casesNode = kv.v
		default:
			p.unknown(kv, "the test file", "workflow", "description", "engine", "mocks", "cases")
		}
	}
	if f.Workflow == "" && len(p.errs) == 0 {
		p.errorf(root, "missing workflow: the definition to test (a path relative to this file, or a definition id)")
	}
	cn := deref(casesNode)
	switch {
	case cn == nil:
		p.errorf(root, "missing cases: a list of test cases")
	case cn.Kind != yaml.SequenceNode || len(cn.Content) == 0:
		p.errorf(cn, "cases must be a non-empty list")
	default:
		names := map[string]bool{}
		for _, c := range cn.Content {
			tc := p.testCase(c)
			if tc == nil {
				continue
			}
			if names[tc.Name] {
				p.errorf(c, "duplicate case name %q", tc.Name)
			}
			names[tc.Name] = true
			f.Cases = append(f.Cases, tc)
		}
	}
	return f
}

func (p *parser) engine(n *yaml.Node) Engine {
	var e Engine
	ps, _ := p.pairs(n, "engine")
	for _, kv := range ps {
		switch kv.key {
		case "transient-retry":
			e.TransientRetry = p.boolean(kv.v, "engine.transient-retry")
		case "operator-recovery":
			e.OperatorRecovery = p.boolean(kv.v, "engine.operator-recovery")
		default:
			p.unknown(kv, "engine", "transient-retry", "operator-recovery")
		}
	}
	return e
}

func (p *parser) testCase(n *yaml.Node) *Case {
	c := &Case{Pos: p.pos(deref(n))}
	ps, ok := p.pairs(n, "a case")
	if !ok {
		return nil
	}
	for _, kv := range ps {
		switch kv.key {
		case "name":
			c.Name = p.str(kv.v, "name")
		case "description":
			p.str(kv.v, "description")
		case "event":
			c.Event = p.object(kv.v, "event")
		case "trigger":
			c.Trigger, c.TriggerPos = p.str(kv.v, "trigger"), p.pos(deref(kv.v))
			if c.Trigger != "" && !starter.ValidEventType(c.Trigger) {
				p.errorf(kv.v, "trigger %q is not an event trigger id such as cases.caseCreated (without trigger, a case with event is an alert run and one with inputs a manual run)", c.Trigger)
			}
		case "inputs":
			c.Inputs = p.object(kv.v, "inputs")
		case "consts":
			c.Consts = p.object(kv.v, "consts")
		case "now":
			s := p.str(kv.v, "now")
			t, err := time.Parse(time.RFC3339Nano, s)
			if s != "" && err != nil {
				p.errorf(kv.v, "now must be an RFC 3339 time such as 2026-01-15T10:00:00Z: %v", err)
			}
			c.Now = t
		case "mocks":
			c.Mocks = p.mocks(kv.v)
		case "engine":
			e := p.engine(kv.v)
			c.Engine = &e
		case "expect":
			c.Expect = p.expect(kv.v)
		default:
			p.unknown(kv, "a case", "name", "description", "trigger", "event", "inputs", "consts", "now", "mocks", "engine", "expect")
		}
	}
	if c.Name == "" {
		p.errorf(deref(n), "a case needs a name")
		return nil
	}
	if c.Event != nil && c.Inputs != nil {
		p.errorf(deref(n), "case %q: give event (alert run) or inputs (manual run), not both", c.Name)
	}
	if c.Trigger != "" && c.Inputs != nil {
		p.errorf(deref(n), "case %q: a trigger case runs on its event (the payload), not on inputs", c.Name)
	}
	if c.Expect.Triggered != nil && c.Trigger == "" {
		p.errorf(deref(n), "case %q: expect.triggered needs trigger: the event trigger whose on.condition is checked", c.Name)
	}
	if t := c.Expect.Triggered; t != nil && !*t && c.Expect.others {
		p.errorf(deref(n), "case %q: with expect.triggered: false nothing runs; give no other expectation", c.Name)
	}
	return c
}

func (p *parser) mocks(n *yaml.Node) map[string]*Mock {
	out := map[string]*Mock{}
	ps, _ := p.pairs(n, "mocks")
	for _, kv := range ps {
		m := &Mock{Step: kv.key, Pos: p.pos(kv.kn)}
		v := deref(kv.v)
		if v != nil && v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			m.Unset = true
		} else if v != nil && v.Kind == yaml.SequenceNode {
			if len(v.Content) == 0 {
				p.errorf(v, "mocks.%s: an empty list answers nothing; give at least one entry", kv.key)
			}
			for _, e := range v.Content {
				m.Entries = append(m.Entries, p.mockEntry(e, kv.key))
			}
		} else {
			m.Repeat = true
			m.Entries = []MockEntry{p.mockEntry(v, kv.key)}
		}
		out[kv.key] = m
	}
	return out
}

func (p *parser) mockEntry(n *yaml.Node, step string) MockEntry {
	e := MockEntry{Pos: p.pos(deref(n))}
	what := "mocks." + step
	ps, ok := p.pairs(n, what+" (an entry {output: ...} or {error: {type, message}})")
	if !ok {
		return e
	}
	hasOutput := false
	for _, kv := range ps {
		switch kv.key {
		case "output":
			v, err := decodeValue(kv.v)
			if err != nil {
				p.errorf(kv.v, "%s.output: %v", what, err)
			}
			e.Output, hasOutput = v, true
		case "error":
			e.Error = p.mockError(kv.v, what)
		default:
			p.unknown(kv, what, "output", "error")
		}
	}
	if hasOutput && e.Error != nil {
		p.errorf(deref(n), "%s: an entry has output or error, not both", what)
	}
	return e
}

func (p *parser) mockError(n *yaml.Node, what string) *MockError {
	me := &MockError{}
	ps, _ := p.pairs(n, what+".error")
	for _, kv := range ps {
		switch kv.key {
		case "type":
			me.Type = p.str(kv.v, what+".error.type")
		case "message":
			me.Message = p.str(kv.v, what+".error.message")
		case "details":
			me.Details = p.object(kv.v, what+".error.details")
		case "retryable":
			b := p.boolean(kv.v, what+".error.retryable")
			me.Retryable = &b
		default:
			p.unknown(kv, what+".error", "type", "message", "details", "retryable")
		}
	}
	if me.Type == "" {
		me.Type = "Error"
	}
	return me
}

func (p *parser) expect(n *yaml.Node) Expect {
	e := Expect{Pos: p.pos(deref(n))}
	ps, _ := p.pairs(n, "expect")
	for _, kv := range ps {
		e.others = e.others || kv.key != "triggered"
		switch kv.key {
		case "triggered":
			b := p.boolean(kv.v, "expect.triggered")
			e.Triggered, e.TriggeredPos = &b, p.pos(kv.kn)
		case "status":
			e.Status = p.str(kv.v, "expect.status")
			if e.Status != "" && !contains(runStatuses, e.Status) {
				p.errorf(kv.v, "unknown status %q (want one of %s)", e.Status, strings.Join(runStatuses, ", "))
			}
		case "ran":
			e.Ran = p.refs(kv.v, "expect.ran")
		case "not_ran":
			e.NotRan = p.refs(kv.v, "expect.not_ran")
		case "calls":
			cps, _ := p.pairs(kv.v, "expect.calls")
			for _, c := range cps {
				var nCalls int
				v := deref(c.v)
				if v == nil || v.Tag != "!!int" || v.Decode(&nCalls) != nil || nCalls < 0 {
					p.errorf(c.v, "expect.calls.%s must be a number of executions (0 or more)", c.key)
				}
				e.Calls = append(e.Calls, Count{Ref: Ref{Step: c.key, Pos: p.pos(c.kn)}, N: nCalls})
			}
		case "steps":
			sps, _ := p.pairs(kv.v, "expect.steps")
			for _, s := range sps {
				e.Steps = append(e.Steps, p.stepExpect(s))
			}
		case "output":
			e.Output = p.expectation(kv.v, "expect.output")
		case "error":
			e.Error = p.expectation(kv.v, "expect.error")
		default:
			p.unknown(kv, "expect", "status", "ran", "not_ran", "calls", "steps", "output", "error", "triggered")
		}
	}
	return e
}

func (p *parser) stepExpect(kv pair) StepExpect {
	se := StepExpect{Ref: Ref{Step: kv.key, Pos: p.pos(kv.kn)}, has: map[string]bool{}}
	what := "expect.steps." + kv.key
	ps, _ := p.pairs(kv.v, what)
	for _, f := range ps {
		switch f.key {
		case "input":
			se.Input = p.expectation(f.v, what+".input")
		case "output":
			se.Output = p.expectation(f.v, what+".output")
		case "error":
			se.Error = p.expectation(f.v, what+".error")
		case "status":
			se.Status = p.str(f.v, what+".status")
		default:
			p.unknown(f, what, "input", "output", "error", "status")
			continue
		}
		se.has[f.key] = true
	}
	return se
}

// expectation parses an expected value: plain YAML values, where a mapping
// with the single key contains, matches, exists or equals is a matcher.
func (p *parser) expectation(n *yaml.Node, what string) any {
	n = deref(n)
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		ps, _ := p.pairs(n, what)
		if len(ps) == 1 && contains(matcherKinds, ps[0].key) {
			return p.matcher(ps[0], what)
		}
		m := make(map[string]any, len(ps))
		for _, kv := range ps {
			m[kv.key] = p.expectation(kv.v, what+"."+kv.key)
		}
		return m
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, e := range n.Content {
			l[i] = p.expectation(e, fmt.Sprintf("%s[%d]", what, i))
		}
		return l
	}
	v, err := decodeValue(n)
	if err != nil {
		p.errorf(n, "%s: %v", what, err)
	}
	return v
}

func (p *parser) matcher(kv pair, what string) *matcher {
	m := &matcher{kind: kv.key, pos: p.pos(kv.kn)}
	switch kv.key {
	case "matches":
		src := p.str(kv.v, what+".matches")
		re, err := regexp.Compile(src)
		if err != nil {
			p.errorf(kv.v, "%s.matches: invalid regular expression: %v", what, err)
		}
		m.re, m.arg = re, src
	case "exists":
		m.arg = p.boolean(kv.v, what+".exists")
	case "contains":
		m.arg = p.expectation(kv.v, what+".contains")
	default: // equals: a literal, compared exactly
		v, err := decodeValue(kv.v)
		if err != nil {
			p.errorf(kv.v, "%s.equals: %v", what, err)
		}
		m.arg = v
	}
	return m
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
