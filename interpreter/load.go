package interpreter

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/secflow/secflow/interpreter/schema"
	"github.com/secflow/secflow/interpreter/step"
)

// LoadOptions configures LoadFile and LoadBytes.
type LoadOptions struct {
	// Registry resolves step types that are not flow-control or pure
	// (those always come from this package); nil means step.Default().
	Registry *step.Registry
	// Install gives values for the `__install__.<name>` placeholders of
	// template-library files, keyed by <name>. A placeholder without a value
	// is reported as "not installed".
	Install map[string]string
}

// MaxDefinitionBytes is the largest definition Kibana saves (1 MiB of
// YAML); LoadBytes and LoadFile reject larger ones before decoding them.
const MaxDefinitionBytes = 1 << 20

// LoadFile reads and loads the definition at path. See LoadBytes. A file
// over MaxDefinitionBytes is not read.
func LoadFile(path string, opts LoadOptions) (*Definition, Problems) {
	data, err := readDefinition(path)
	if err != nil {
		return nil, Problems{{Pos: Pos{File: path}, Severity: SeverityError, Code: CodeYAML,
			Msg: fmt.Sprintf("cannot read definition: %v", err)}}
	}
	return LoadBytes(path, data, opts)
}

// readDefinition reads path, or only its first MaxDefinitionBytes+1 bytes
// when it is larger (enough for LoadBytes to reject it).
func readDefinition(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, MaxDefinitionBytes+1))
}

// tooLarge is the problem of a definition over MaxDefinitionBytes.
func tooLarge(file string, size int) Problems {
	return Problems{{Pos: Pos{File: file, Line: 1, Col: 1}, Severity: SeverityError, Code: CodeValue,
		Msg: fmt.Sprintf("definition too large: %d bytes of YAML, more than the %d (1 MiB) Kibana saves; split it into child workflows (workflow.execute)",
			size, MaxDefinitionBytes)}}
}

// LoadBytes decodes the YAML definition data (read from file, which names
// the definition: its ID is the file's base name without .yaml/.yml) and
// validates it. The returned problems include every decoding and validation
// problem, sorted; the definition is usable only when Problems.Err() is nil.
// The definition is nil only when data is not a YAML mapping or is over
// MaxDefinitionBytes (Kibana refuses to save it; nothing is decoded).
//
// Values that keep YAML's dynamic typing (with, consts, trigger with, step
// config keys, ...) follow the runtime value conventions: nil, bool, string,
// float64 (every YAML number, integers included, so that a JSON round-trip
// of the pinned definition does not change any type), []any and
// map[string]any. Timestamps stay strings, as in Kibana's YAML 1.2 parser.
func LoadBytes(file string, data []byte, opts LoadOptions) (*Definition, Problems) {
	if len(data) > MaxDefinitionBytes {
		return nil, tooLarge(file, len(data))
	}
	reg := opts.Registry
	if reg == nil {
		reg = step.Default()
	}
	l := &loader{file: file, reg: reg, install: opts.Install, loc: newLocator()}
	def := l.load(data)
	if def != nil {
		v := newValidator(def, reg, l.loc)
		v.run()
		l.probs = append(l.probs, v.probs...)
	}
	for i := range l.probs {
		if l.probs[i].File == "" {
			l.probs[i].File = file
		}
	}
	l.probs.Sort()
	return def, l.probs
}

// Slug returns the definition ID for a file: its base name without the
// .yaml or .yml extension.
func Slug(file string) string {
	base := filepath.Base(file)
	for _, ext := range []string{".yaml", ".yml"} {
		if strings.HasSuffix(base, ext) {
			return strings.TrimSuffix(base, ext)
		}
	}
	return base
}

// locator maps a definition path (steps[2].with.title) to the position of
// its value node and of its key node, so that validation of the decoded
// model can point at the right line and column.
type locator struct {
	val map[string]Pos
	key map[string]Pos
	// misspelled holds the paths that an unknown key probably meant (its
	// "did you mean"), so that validation does not also report them missing.
	misspelled map[string]bool
}

func newLocator() *locator {
	return &locator{val: map[string]Pos{}, key: map[string]Pos{}, misspelled: map[string]bool{}}
}

// maxNodes bounds the number of YAML nodes decoded, so that alias expansion
// ("billion laughs") cannot exhaust memory; maxDepth bounds nesting; maxSteps
// bounds the number of steps decoded. Kibana refuses to save a workflow of
// more than kibanaMaxSteps steps (WorkflowStepCountExceeded, §7.7; every
// step counts, nested and fallback steps included): that is an error at
// the first step over the limit.
const (
	maxNodes       = 250_000
	maxDepth       = 200
	maxSteps       = 2000
	kibanaMaxSteps = 150
)

type loader struct {
	file    string
	reg     *step.Registry
	install map[string]string
	loc     *locator
	probs   Problems
	nodes   int
	steps   int
	tooBig  bool
	// over is the first step over kibanaMaxSteps (and its path).
	over     *yaml.Node
	overPath string
}

func (l *loader) pos(n *yaml.Node) Pos {
	if n == nil {
		return Pos{File: l.file}
	}
	return Pos{File: l.file, Line: n.Line, Col: n.Column}
}

func (l *loader) report(sev Severity, n *yaml.Node, path, code, format string, args ...any) {
	l.probs = append(l.probs, Problem{Pos: l.pos(n), Path: path, Severity: sev, Code: code,
		Msg: fmt.Sprintf(format, args...)})
}

func (l *loader) errorf(n *yaml.Node, path, code, format string, args ...any) {
	l.report(SeverityError, n, path, code, format, args...)
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (l *loader) load(data []byte) *Definition {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			l.errorf(nil, "", CodeYAML, "empty definition: expected a YAML mapping with name, triggers and steps")
			return nil
		}
		l.yamlError(err)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		l.errorf(&extra, "", CodeYAML, "a definition file holds one YAML document; found a second one")
	} else if !errors.Is(err, io.EOF) {
		l.yamlError(err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			l.errorf(nil, "", CodeYAML, "empty definition: expected a YAML mapping with name, triggers and steps")
			return nil
		}
		root = root.Content[0]
	}
	root = l.deref(root)
	if root == nil || root.Kind != yaml.MappingNode {
		l.errorf(root, "", CodeType, "a definition must be a YAML mapping with name, triggers and steps")
		return nil
	}
	l.substituteInstall(root)
	sum := sha256.Sum256(data)
	def := &Definition{
		ID:       Slug(l.file),
		Revision: hex.EncodeToString(sum[:]),
		File:     l.file,
		Enabled:  true,
		Version:  "1",
	}
	l.definition(root, def)
	if l.over != nil {
		count := fmt.Sprint(l.steps)
		if l.tooBig {
			count = "at least " + count // decoding stopped early
		}
		l.errorf(l.over, l.overPath, CodeValue,
			"WorkflowStepCountExceeded: the workflow has %s steps, more than the maximum of %d (Kibana refuses to save it); split it into child workflows (workflow.execute)",
			count, kibanaMaxSteps)
	}
	return def
}

func (l *loader) yamlError(err error) {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	line := 0
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	l.probs = append(l.probs, Problem{Pos: Pos{File: l.file, Line: line}, Severity: SeverityError,
		Code: CodeYAML, Msg: "invalid YAML: " + msg})
}

// deref follows aliases.
func (l *loader) deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// visit counts a decoded node; false once the document is too large.
func (l *loader) visit(n *yaml.Node, depth int) bool {
	if l.tooBig {
		return false
	}
	l.nodes++
	if l.nodes > maxNodes {
		l.tooBig = true
		l.errorf(n, "", CodeYAML, "definition too large: more than %d YAML nodes after alias expansion", maxNodes)
		return false
	}
	if depth > maxDepth {
		l.tooBig = true
		l.errorf(n, "", CodeYAML, "definition nested too deeply (more than %d levels)", maxDepth)
		return false
	}
	return true
}

var installRE = regexp.MustCompile(`__install__\.([A-Za-z0-9_-]*[A-Za-z0-9])`)

// substituteInstall replaces __install__.<name> placeholders in every scalar
// value (not in keys, not under template-metadata) with the configured
// values, and reports the ones without a value.
func (l *loader) substituteInstall(root *yaml.Node) {
	seen := map[*yaml.Node]bool{}
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if n == nil || seen[n] || depth > maxDepth {
			return
		}
		seen[n] = true
		switch n.Kind {
		case yaml.AliasNode:
			walk(n.Alias, depth+1)
		case yaml.ScalarNode:
			if !strings.Contains(n.Value, "__install__.") {
				return
			}
			whole := installRE.FindString(n.Value) == n.Value
			var missing []string
			out := installRE.ReplaceAllStringFunc(n.Value, func(m string) string {
				name := m[len("__install__."):]
				if v, ok := l.install[name]; ok {
					return v
				}
				missing = append(missing, name)
				return m
			})
			for _, name := range missing {
				l.errorf(n, "", CodeNotInstalled,
					"template placeholder __install__.%s is not installed: give a value for %q when installing the template", name, name)
			}
			if len(missing) == 0 {
				n.Value = out
				if whole && n.Style == 0 {
					// A bare placeholder takes the YAML type of its value (7 -> number).
					n.Tag = ""
				}
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				if n == root && k.Value == "template-metadata" {
					continue
				}
				walk(n.Content[i+1], depth+1)
			}
		default:
			for _, c := range n.Content {
				walk(c, depth+1)
			}
		}
	}
	walk(root, 0)
}

// pair is one key/value of a mapping, merge keys expanded.
type pair struct {
	key  string
	k, v *yaml.Node
}

// pairs returns the entries of mapping n (already dereferenced), reporting
// duplicate and non-scalar keys. Merge keys (<<) are expanded; explicit keys
// win over merged ones.
func (l *loader) pairs(n *yaml.Node, path string) []pair {
	var out []pair
	seen := map[string]*yaml.Node{}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		kk := l.deref(k)
		if kk == nil || kk.Kind != yaml.ScalarNode {
			l.errorf(k, path, CodeType, "mapping keys must be strings")
			continue
		}
		if prev, dup := seen[kk.Value]; dup {
			l.errorf(k, joinPath(path, kk.Value), CodeDuplicate, "key %q is defined twice (first at line %d)", kk.Value, prev.Line)
			continue
		}
		seen[kk.Value] = k
		out = append(out, pair{key: kk.Value, k: k, v: v})
	}
	for _, m := range merges {
		m = l.deref(m)
		var srcs []*yaml.Node
		switch {
		case m == nil:
		case m.Kind == yaml.MappingNode:
			srcs = []*yaml.Node{m}
		case m.Kind == yaml.SequenceNode:
			for _, c := range m.Content {
				srcs = append(srcs, l.deref(c))
			}
		}
		for _, src := range srcs {
			if src == nil || src.Kind != yaml.MappingNode {
				l.errorf(m, path, CodeType, "a merge key (<<) must refer to a mapping")
				continue
			}
			for i := 0; i+1 < len(src.Content); i += 2 {
				k := l.deref(src.Content[i])
				if k == nil || k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
					continue
				}
				if _, dup := seen[k.Value]; dup {
					continue
				}
				seen[k.Value] = k
				out = append(out, pair{key: k.Value, k: src.Content[i], v: src.Content[i+1]})
			}
		}
	}
	return out
}

// joinPath appends a mapping key to a path: a.b, or a["x.y"] for keys that
// are not plain identifiers.
func joinPath(path, key string) string {
	plain := key != ""
	for _, c := range key {
		if !(c == '_' || c == '-' || c == '$' || c == '@' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			plain = false
			break
		}
	}
	if !plain {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func indexPath(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// record remembers where the key and the value of path are.
func (l *loader) record(path string, k, v *yaml.Node) {
	if k != nil {
		l.loc.key[path] = l.pos(k)
	}
	if v != nil {
		if _, ok := l.loc.val[path]; !ok || v.Kind != yaml.AliasNode {
			l.loc.val[path] = l.pos(v)
		}
	}
}

// mapping dereferences n and checks that it is a mapping; a null value
// yields ok=false without a problem when allowNull.
func (l *loader) mapping(n *yaml.Node, path, what string) (*yaml.Node, bool) {
	n = l.deref(n)
	if n == nil {
		return nil, false
	}
	if n.Kind == yaml.MappingNode {
		return n, true
	}
	if isNull(n) {
		l.errorf(n, path, CodeType, "%s must be a mapping, got nothing", what)
		return nil, false
	}
	l.errorf(n, path, CodeType, "%s must be a mapping, got %s", what, describe(n))
	return nil, false
}

func isNull(n *yaml.Node) bool {
	return n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names the YAML type of n for messages.
func describe(n *yaml.Node) string {
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!bool":
			return "a boolean"
		case "!!int", "!!float":
			return "a number"
		default:
			return "a string"
		}
	}
	return "a value"
}

// isString reports whether scalar n is a string (timestamps and binary
// scalars are strings, as in YAML 1.2's core schema).
func isString(n *yaml.Node) bool {
	if n == nil || n.Kind != yaml.ScalarNode {
		return false
	}
	switch n.ShortTag() {
	case "!!str", "!!timestamp", "!!binary":
		return true
	}
	return false
}

// str decodes a string scalar; anything else is a type problem.
func (l *loader) str(n *yaml.Node, path, what string) (string, bool) {
	n = l.deref(n)
	if isString(n) {
		return n.Value, true
	}
	l.errorf(n, path, CodeType, "%s must be a string, got %s", what, describe(n))
	return "", false
}

func (l *loader) boolean(n *yaml.Node, path, what string) (bool, bool) {
	n = l.deref(n)
	if n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		var b bool
		if err := n.Decode(&b); err == nil {
			return b, true
		}
	}
	l.errorf(n, path, CodeType, "%s must be true or false, got %s", what, describe(n))
	return false, false
}

// integer decodes an integer scalar within [min, max].
func (l *loader) integer(n *yaml.Node, path, what string, min, max int) (int, bool) {
	n = l.deref(n)
	if n != nil && n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float") {
		var f float64
		if err := n.Decode(&f); err == nil && f == math.Trunc(f) && !math.IsInf(f, 0) {
			if f < float64(min) || f > float64(max) {
				if max == math.MaxInt32 {
					l.errorf(n, path, CodeValue, "%s must be at least %d, got %s", what, min, n.Value)
				} else {
					l.errorf(n, path, CodeValue, "%s must be between %d and %d, got %s", what, min, max, n.Value)
				}
				return 0, false
			}
			return int(f), true
		}
	}
	l.errorf(n, path, CodeType, "%s must be an integer, got %s", what, describe(n))
	return 0, false
}

func (l *loader) number(n *yaml.Node, path, what string) (float64, bool) {
	n = l.deref(n)
	if n != nil && n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float") {
		if v, ok := l.scalar(n, path).(float64); ok {
			return v, true
		}
		return 0, false
	}
	l.errorf(n, path, CodeType, "%s must be a number, got %s", what, describe(n))
	return 0, false
}

// strList decodes a list of strings.
func (l *loader) strList(n *yaml.Node, path, what string) []string {
	n = l.deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		l.errorf(n, path, CodeType, "%s must be a list of strings, got %s", what, describe(n))
		return nil
	}
	var out []string
	for i, c := range n.Content {
		p := indexPath(path, i)
		l.record(p, nil, c)
		if s, ok := l.str(c, p, what+" entries"); ok {
			out = append(out, s)
		}
	}
	return out
}

// value decodes any YAML node into a JSON-like value, recording positions.
func (l *loader) value(n *yaml.Node, path string, depth int) any {
	if !l.visit(n, depth) {
		return nil
	}
	n = l.deref(n)
	if n == nil {
		l.errorf(nil, path, CodeYAML, "alias chain too long")
		return nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return l.scalar(n, path)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			p := indexPath(path, i)
			l.record(p, nil, c)
			out = append(out, l.value(c, p, depth+1))
		}
		return out
	case yaml.MappingNode:
		out := map[string]any{}
		for _, kv := range l.pairs(n, path) {
			p := joinPath(path, kv.key)
			l.record(p, kv.k, kv.v)
			out[kv.key] = l.value(kv.v, p, depth+1)
		}
		return out
	}
	return nil
}

// scalar converts a scalar node: numbers become float64.
func (l *loader) scalar(n *yaml.Node, path string) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err == nil {
			return b
		}
	case "!!int", "!!float":
		var v any
		if err := n.Decode(&v); err == nil {
			var f float64
			switch x := v.(type) {
			case int:
				f = float64(x)
			case int64:
				f = float64(x)
			case uint64:
				f = float64(x)
			case float64:
				f = x
			default:
				f, _ = strconv.ParseFloat(n.Value, 64)
			}
			if math.IsInf(f, 0) || math.IsNaN(f) {
				l.errorf(n, path, CodeValue, "%s is not a finite number (not representable in JSON)", n.Value)
				return nil
			}
			return f
		}
		// Integers beyond 64 bits: keep the float approximation, as JavaScript does.
		if f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64); err == nil && !math.IsInf(f, 0) {
			return f
		}
		l.errorf(n, path, CodeValue, "invalid number %q", n.Value)
		return nil
	case "!!str", "!!timestamp", "!!binary":
		return n.Value
	default:
		l.errorf(n, path, CodeType, "unsupported YAML tag %s", n.Tag)
		return n.Value
	}
	return n.Value
}

// unknownKey reports key as not allowed here, suggesting the closest allowed one.
func (l *loader) unknownKey(k *yaml.Node, path, key, where string, allowed []string) {
	msg := fmt.Sprintf("unknown key %q in %s", key, where)
	if s := suggest(key, allowed); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
		l.loc.misspelled[joinPath(parentPath(path), s)] = true
	}
	l.errorf(k, path, CodeUnknownKey, "%s", msg)
}

// --- top level ---

var topLevelKeys = []string{"version", "name", "description", "enabled", "tags", "triggers", "consts",
	"inputs", "outputs", "settings", "steps", "template-metadata"}

func (l *loader) definition(root *yaml.Node, def *Definition) {
	l.record("", nil, root)
	var have = map[string]bool{}
	var topInputs *yaml.Node
	var topInputsPath string
	for _, kv := range l.pairs(root, "") {
		p := joinPath("", kv.key)
		l.record(p, kv.k, kv.v)
		have[kv.key] = true
		switch kv.key {
		case "version":
			v := l.deref(kv.v)
			if v == nil || v.Kind != yaml.ScalarNode || v.Value != "1" || isNull(v) {
				l.errorf(kv.v, p, CodeValue, `version must be "1"`)
			}
		case "name":
			if s, ok := l.str(kv.v, p, "name"); ok {
				if strings.TrimSpace(s) == "" {
					l.errorf(kv.v, p, CodeValue, "name must not be empty")
				}
				def.Name = s
			}
		case "description":
			if s, ok := l.str(kv.v, p, "description"); ok {
				def.Description = s
			}
		case "enabled":
			if b, ok := l.boolean(kv.v, p, "enabled"); ok {
				def.Enabled = b
			}
		case "tags":
			def.Tags = l.strList(kv.v, p, "tags")
		case "triggers":
			l.triggers(kv.v, p, def)
		case "consts":
			l.consts(kv.v, p, def)
		case "inputs":
			topInputs, topInputsPath = kv.v, p
		case "outputs":
			def.Outputs = l.schema(kv.v, p, "outputs")
		case "settings":
			l.settings(kv.v, p, &def.Settings)
		case "steps":
			def.Steps = l.stepList(kv.v, p, true, 0)
		case "template-metadata":
			// Template-library header: accepted and ignored.
		default:
			l.unknownKey(kv.k, p, kv.key, "the workflow", topLevelKeys)
		}
	}
	for _, req := range []string{"name", "triggers", "steps"} {
		if !have[req] {
			l.errorf(root, "", CodeRequired, "missing required field %q", req)
		}
	}
	if topInputs != nil && def.Inputs == nil {
		def.Inputs = l.schema(topInputs, topInputsPath, "inputs")
	} else if topInputs != nil {
		l.report(SeverityWarning, topInputs, topInputsPath, CodeSuspiciousKey,
			"top-level inputs are ignored: the manual trigger declares its own inputs")
	}
}

func (l *loader) schema(n *yaml.Node, path, what string) *schema.Schema {
	v := l.value(n, path, 1)
	if v == nil {
		return nil
	}
	s, err := schema.FromValue(v)
	if err != nil {
		l.errorf(n, path, CodeSchema, "invalid %s declaration: %v", what, err)
		return nil
	}
	return s
}

func (l *loader) consts(n *yaml.Node, path string, def *Definition) {
	m, ok := l.mapping(n, path, "consts")
	if !ok {
		return
	}
	def.Consts = map[string]any{}
	for _, kv := range l.pairs(m, path) {
		p := joinPath(path, kv.key)
		l.record(p, kv.k, kv.v)
		v := l.value(kv.v, p, 1)
		if v == nil {
			l.errorf(kv.v, p, CodeType, "consts.%s must be a string, number, boolean, object or list, got null", kv.key)
		}
		def.Consts[kv.key] = v
	}
}

// --- triggers ---

var triggerTypes = []string{"manual", "scheduled", "alert"}

func (l *loader) triggers(n *yaml.Node, path string, def *Definition) {
	seq := l.deref(n)
	if seq == nil || seq.Kind != yaml.SequenceNode {
		l.errorf(n, path, CodeType, "triggers must be a list, got %s", describe(seq))
		return
	}
	if len(seq.Content) == 0 {
		l.errorf(seq, path, CodeRequired, "triggers must have at least one entry")
	}
	def.Triggers = []Trigger{}
	for i, c := range seq.Content {
		p := indexPath(path, i)
		l.record(p, nil, c)
		// Keep every entry (even a broken one, already reported) so that
		// indices match the YAML paths used by validation.
		t, _ := l.trigger(c, p, def)
		def.Triggers = append(def.Triggers, t)
	}
}

func (l *loader) trigger(n *yaml.Node, path string, def *Definition) (Trigger, bool) {
	m, ok := l.mapping(n, path, "a trigger")
	if !ok {
		return Trigger{}, false
	}
	t := Trigger{Pos: l.pos(m)}
	ps := l.pairs(m, path)
	var typeNode *yaml.Node
	for _, kv := range ps {
		if kv.key == "type" {
			typeNode = kv.v
			l.record(joinPath(path, "type"), kv.k, kv.v)
			t.Type, _ = l.str(kv.v, joinPath(path, "type"), "trigger type")
		}
	}
	if typeNode == nil {
		l.errorf(m, path, CodeRequired, "missing required field \"type\" in trigger")
		return t, false
	}
	var allowed []string
	custom := false
	switch t.Type {
	case "manual":
		allowed = []string{"type", "inputs"}
	case "scheduled":
		allowed = []string{"type", "with"}
	case "alert":
		allowed = []string{"type", "with", "on"}
	case "":
		return t, false
	default:
		if !strings.Contains(t.Type, ".") {
			msg := fmt.Sprintf("unknown trigger type %q (want manual, scheduled, alert or an event trigger such as cases.caseCreated)", t.Type)
			if s := suggest(t.Type, triggerTypes); s != "" {
				msg = fmt.Sprintf("unknown trigger type %q (did you mean %q?)", t.Type, s)
			}
			l.errorf(typeNode, joinPath(path, "type"), CodeUnknownType, "%s", msg)
			return t, false
		}
		custom = true
		allowed = []string{"type", "on", "with", "connector-id"}
	}
	hasWith := false
	for _, kv := range ps {
		p := joinPath(path, kv.key)
		l.record(p, kv.k, kv.v)
		switch {
		case kv.key == "type":
		case !contains(allowed, kv.key):
			l.unknownKey(kv.k, p, kv.key, fmt.Sprintf("a %s trigger", t.Type), allowed)
		case kv.key == "inputs":
			if s := l.schema(kv.v, p, "inputs"); s != nil {
				def.Inputs = s
			}
		case kv.key == "with":
			hasWith = true
			switch t.Type {
			case "scheduled":
				t.With = l.scheduledWith(kv.v, p)
			case "alert":
				t.With = l.alertWith(kv.v, p)
			default:
				if mm, ok := l.mapping(kv.v, p, "with"); ok {
					w, _ := l.value(mm, p, 1).(map[string]any)
					if w == nil {
						w = map[string]any{}
					}
					for k, v := range t.With {
						w[k] = v
					}
					t.With = w
				}
			}
		case kv.key == "on":
			l.triggerOn(kv.v, p, &t, custom)
		case kv.key == "connector-id":
			if s, ok := l.str(kv.v, p, "connector-id"); ok {
				if t.With == nil {
					t.With = map[string]any{}
				}
				t.With["connector-id"] = s
			}
		}
	}
	if t.Type == "scheduled" && !hasWith {
		l.errorf(m, path, CodeRequired, "a scheduled trigger needs `with: {every: ...}` or `with: {rrule: ...}`")
	}
	return t, true
}

func (l *loader) triggerOn(n *yaml.Node, path string, t *Trigger, custom bool) {
	m, ok := l.mapping(n, path, "on")
	if !ok {
		return
	}
	allowed := []string{"condition"}
	if custom {
		allowed = append(allowed, "workflowEvents")
	}
	for _, kv := range l.pairs(m, path) {
		p := joinPath(path, kv.key)
		l.record(p, kv.k, kv.v)
		switch kv.key {
		case "condition":
			if s, ok := l.str(kv.v, p, "on.condition"); ok {
				t.Condition = s
			}
		case "workflowEvents":
			if s, ok := l.str(kv.v, p, "on.workflowEvents"); ok {
				l.enum(kv.v, p, "on.workflowEvents", s, []string{"ignore", "avoid-loop", "allow-all"})
				if t.With == nil {
					t.With = map[string]any{}
				}
				t.With["workflowEvents"] = s
			}
		default:
			l.unknownKey(kv.k, p, kv.key, "a trigger's on block", allowed)
		}
	}
}

func (l *loader) enum(n *yaml.Node, path, what, s string, values []string) bool {
	if contains(values, s) {
		return true
	}
	msg := fmt.Sprintf("%s must be one of %s, got %q", what, strings.Join(values, ", "), s)
	if sg := suggest(s, values); sg != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", sg)
	}
	l.errorf(n, path, CodeValue, "%s", msg)
	return false
}

func (l *loader) alertWith(n *yaml.Node, path string) map[string]any {
	m, ok := l.mapping(n, path, "with")
	if !ok {
		return nil
	}
	out := map[string]any{}
	allowed := []string{"rule_id", "rule_name", "per-alert"}
	for _, kv := range l.pairs(m, path) {
		p := joinPath(path, kv.key)
		l.record(p, kv.k, kv.v)
		switch kv.key {
		case "rule_id", "rule_name":
			if s, ok := l.str(kv.v, p, kv.key); ok {
				out[kv.key] = s
			}
		case "per-alert":
			if b, ok := l.boolean(kv.v, p, "per-alert"); ok {
				out[kv.key] = b
			}
		default:
			l.unknownKey(kv.k, p, kv.key, "an alert trigger's with", allowed)
		}
	}
	return out
}

func (l *loader) scheduledWith(n *yaml.Node, path string) map[string]any {
	m, ok := l.mapping(n, path, "with")
	if !ok {
		return nil
	}
	out := map[string]any{}
	allowed := []string{"every", "rrule"}
	for _, kv := range l.pairs(m, path) {
		p := joinPath(path, kv.key)
		l.record(p, kv.k, kv.v)
		switch kv.key {
		case "every":
			if s, ok := l.str(kv.v, p, "every"); ok {
				out["every"] = s
			}
		case "rrule":
			if r := l.rrule(kv.v, p); r != nil {
				out["rrule"] = r
			}
		default:
			l.unknownKey(kv.k, p, kv.key, "a scheduled trigger's with", allowed)
		}
	}
	_, ev := out["every"]
	_, rr := out["rrule"]
	if ev && rr {
		l.errorf(m, path, CodeValue, "a scheduled trigger takes either every or rrule, not both")
	}
	if !ev && !rr && len(l.pairs(m, path)) == 0 {
		l.errorf(m, path, CodeRequired, "a scheduled trigger needs every or rrule")
	}
	return out
}

var rruleKeys = []string{"freq", "interval", "tzid", "dtstart", "byhour", "byminute", "byweekday", "bymonthday"}

func (l *loader) rrule(n *yaml.Node, path string) map[string]any {
	m, ok := l.mapping(n, path, "rrule")
	if !ok {
		return nil
	}
	out := map[string]any{}
	intList := func(kv pair, p string, min, max int) {
		seq := l.deref(kv.v)
		if seq == nil || seq.Kind != yaml.SequenceNode {
			l.errorf(kv.v, p, CodeType, "rrule.%s must be a list of integers, got %s", kv.key, describe(seq))
			return
		}
		var vals []any
		for i, c := range seq.Content {
			pp := indexPath(p, i)
			l.record(pp, nil, c)
			if v, ok := l.integer(c, pp, "rrule."+kv.key+" entries", min, max); ok {
				vals = append(vals, float64(v))
			}
		}
		out[kv.key] = vals
	}
	for _, kv := range l.pairs(m, path) {
		p := joinPath(path, kv.key)
		l.record(p, kv.k, kv.v)
		switch kv.key {
		case "freq":
			if s, ok := l.str(kv.v, p, "rrule.freq"); ok && l.enum(kv.v, p, "rrule.freq", s, []string{"DAILY", "WEEKLY", "MONTHLY"}) {
				out["freq"] = s
			}
		case "interval":
			if v, ok := l.integer(kv.v, p, "rrule.interval", 1, math.MaxInt32); ok {
				out["interval"] = float64(v)
			}
		case "tzid", "dtstart":
			if s, ok := l.str(kv.v, p, "rrule."+kv.key); ok {
				out[kv.key] = s
			}
		case "byhour":
			intList(kv, p, 0, 23)
		case "byminute":
			intList(kv, p, 0, 59)
		case "bymonthday":
			intList(kv, p, 1, 31)
		case "byweekday":
			days := l.strList(kv.v, p, "rrule.byweekday")
			var vals []any
			for i, d := range days {
				if l.enum(l.deref(kv.v).Content[i], indexPath(p, i), "rrule.byweekday entries", d, []string{"MO", "TU", "WE", "TH", "FR", "SA", "SU"}) {
					vals = append(vals, d)
				}
			}
			out["byweekday"] = vals
		default:
			l.unknownKey(kv.k, p, kv.key, "rrule", rruleKeys)
		}
	}
	for _, req := range []string{"freq", "interval"} {
		if _, ok := out[req]; !ok && !l.hasKey(m, req) {
			l.errorf(m, path, CodeRequired, "missing required field %q in rrule", req)
		}
	}
	return out
}

func (l *loader) hasKey(m *yaml.Node, key string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := l.deref(m.Content[i]); k != nil && k.Value == key {
			return true
		}
	}
	return false
}

// --- settings ---

var settingsKeys = []string{"timeout", "on-failure", "concurrency", "max-step-size", "timezone", "liquid", "operator-timeout"}

func (l *loader) settings(n *yaml.Node, path string, s *Settings) {
	m, ok := l.mapping(n, path, "settings")
	if !ok {
		return
	}
	for _, kv := range l.pairs(m, path) {
		p := joinPath(path, kv.key)
		l.record(p, kv.k, kv.v)
		switch kv.key {
		case "timeout":
			s.Timeout, _ = l.str(kv.v, p, "settings.timeout")
		case "max-step-size":
			s.MaxStepSize, _ = l.str(kv.v, p, "settings.max-step-size")
		case "timezone":
			s.Timezone, _ = l.str(kv.v, p, "settings.timezone")
		case "operator-timeout":
			v := l.deref(kv.v)
			if v != nil && v.Kind == yaml.ScalarNode && v.Value == "0" {
				s.OperatorTimeout = "0"
			} else {
				s.OperatorTimeout, _ = l.str(kv.v, p, "settings.operator-timeout")
			}
		case "on-failure":
			s.OnFailure = l.onFailure(kv.v, p, 0)
		case "concurrency":
			s.Concurrency = l.concurrency(kv.v, p)
		case "liquid":
			s.Liquid = l.liquid(kv.v, p)
		default:
			l.unknownKey(kv.k, p, kv.key, "settings", settingsKeys)
		}
	}
}

var concurrencyKeys = []string{"key", "strategy", "max", "queue-size", "queue-ttl"}

func (l *loader) concurrency(n *yaml.Node, path string) map[string]any {
	m, ok := l.mapping(n, path, "settings.concurrency")
	if !ok {
		return nil
	}
	out := map[string]any{}
	for _, kv := range l.pairs(m, path) {
		p := joinPath(path, kv.key)
		l.record(p, kv.k, kv.v)
		what := "concurrency." + kv.key
		switch kv.key {
		case "key", "queue-ttl":
			if s, ok := l.str(kv.v, p, what); ok {
				out[kv.key] = s
			}
		case "strategy":
			if s, ok := l.str(kv.v, p, what); ok && l.enum(kv.v, p, what, s, []string{"drop", "cancel-in-progress", "queue"}) {
				out[kv.key] = s
			}
		case "max", "queue-size":
			if v, ok := l.integer(kv.v, p, what, 1, math.MaxInt32); ok {
				out[kv.key] = float64(v)
			}
		default:
			l.unknownKey(kv.k, p, kv.key, "settings.concurrency", concurrencyKeys)
		}
	}
	return out
}

func (l *loader) liquid(n *yaml.Node, path string) *LiquidLimits {
	m, ok := l.mapping(n, path, "settings.liquid")
	if !ok {
		return nil
	}
	out := &LiquidLimits{}
	keys := []string{"parseLimit", "renderLimit", "memoryLimit"}
	for _, kv := range l.pairs(m, path) {
		p := joinPath(path, kv.key)
		l.record(p, kv.k, kv.v)
		what := "liquid." + kv.key
		switch kv.key {
		case "parseLimit":
			out.ParseLimit, _ = l.integer(kv.v, p, what, 1, 600_000)
		case "renderLimit":
			out.RenderLimit, _ = l.integer(kv.v, p, what, 1, 2_000)
		case "memoryLimit":
			out.MemoryLimit, _ = l.integer(kv.v, p, what, 1, 60_000_000)
		default:
			l.unknownKey(kv.k, p, kv.key, "settings.liquid", keys)
		}
	}
	return out
}

// --- on-failure ---

var onFailureKeys = []string{"retry", "fallback", "continue"}
var retryKeys = []string{"max-attempts", "delay", "condition", "strategy", "multiplier", "max-delay", "jitter"}

func (l *loader) onFailure(n *yaml.Node, path string, depth int) *OnFailure {
	m, ok := l.mapping(n, path, "on-failure")
	if !ok {
		return nil
	}
	of := &OnFailure{}
	for _, kv := range l.pairs(m, path) {
		p := joinPath(path, kv.key)
		l.record(p, kv.k, kv.v)
		switch kv.key {
		case "retry":
			of.Retry = l.retry(kv.v, p)
		case "fallback":
			of.Fallback = l.stepList(kv.v, p, false, depth+1)
		case "continue":
			v := l.deref(kv.v)
			switch {
			case v != nil && v.Kind == yaml.ScalarNode && v.ShortTag() == "!!bool":
				of.Continue, _ = l.boolean(v, p, "continue")
			case isString(v):
				of.Continue = v.Value
			default:
				l.errorf(kv.v, p, CodeType, "continue must be true, false or a condition string, got %s", describe(v))
			}
		default:
			l.unknownKey(kv.k, p, kv.key, "on-failure", onFailureKeys)
		}
	}
	return of
}

func (l *loader) retry(n *yaml.Node, path string) *Retry {
	m, ok := l.mapping(n, path, "retry")
	if !ok {
		return nil
	}
	r := &Retry{}
	hasMax := false
	for _, kv := range l.pairs(m, path) {
		p := joinPath(path, kv.key)
		l.record(p, kv.k, kv.v)
		what := "retry." + kv.key
		switch kv.key {
		case "max-attempts":
			hasMax = true
			r.MaxAttempts, _ = l.integer(kv.v, p, what, 1, math.MaxInt32)
		case "delay":
			r.Delay, _ = l.str(kv.v, p, what)
		case "max-delay":
			r.MaxDelay, _ = l.str(kv.v, p, what)
		case "condition":
			v := l.deref(kv.v)
			if v != nil && v.Kind == yaml.ScalarNode && v.ShortTag() == "!!bool" {
				r.Condition, _ = l.boolean(v, p, what)
			} else if s, ok := l.str(kv.v, p, what); ok {
				r.Condition = s
			}
		case "strategy":
			if s, ok := l.str(kv.v, p, what); ok && l.enum(kv.v, p, what, s, []string{"fixed", "exponential"}) {
				r.Strategy = s
			}
		case "multiplier":
			if f, ok := l.number(kv.v, p, what); ok {
				if f < 1 {
					l.errorf(kv.v, p, CodeValue, "retry.multiplier must be at least 1")
				}
				r.Multiplier = f
			}
		case "jitter":
			r.Jitter, _ = l.boolean(kv.v, p, what)
		default:
			l.unknownKey(kv.k, p, kv.key, "retry", retryKeys)
		}
	}
	if !hasMax {
		l.errorf(m, path, CodeRequired, "missing required field \"max-attempts\" in retry")
	}
	return r
}

// --- steps ---

// stepList decodes a list of steps; min1 requires at least one.
func (l *loader) stepList(n *yaml.Node, path string, min1 bool, depth int) []*Step {
	seq := l.deref(n)
	if seq == nil || seq.Kind != yaml.SequenceNode {
		l.errorf(n, path, CodeType, "%s must be a list of steps, got %s", lastSegment(path), describe(seq))
		return nil
	}
	if min1 && len(seq.Content) == 0 {
		l.errorf(seq, path, CodeRequired, "%s must have at least one step", lastSegment(path))
	}
	out := []*Step{}
	for i, c := range seq.Content {
		p := indexPath(path, i)
		l.record(p, nil, c)
		s := l.step(c, p, depth+1)
		if s == nil {
			// Keep a placeholder (the problem is reported) so that indices
			// match the YAML paths used by validation.
			s = &Step{Pos: l.pos(c)}
		}
		out = append(out, s)
	}
	return out
}

func lastSegment(path string) string {
	if i := strings.LastIndexAny(path, ".]"); i >= 0 && i < len(path)-1 {
		return path[i+1:]
	}
	return path
}

// commonStepKeys are accepted on every step type.
var commonStepKeys = []string{"name", "type", "id", "if", "timeout", "on-failure", "max-step-size"}

// structuralKeys are step-level keys decoded into dedicated Step fields when
// the type's spec declares them.
var structuralKeys = map[string]bool{
	"condition": true, "steps": true, "else": true, "expression": true, "cases": true, "default": true,
	"branches": true, "mode": true, "concurrency": true, "branch-timeout": true, "max-iterations": true,
	"iteration-on-failure": true, "iteration-timeout": true, "status": true, "foreach": true,
}

// lookupSpec resolves a step type: flow-control and pure types from this
// package first, then the registry.
func lookupSpec(reg *step.Registry, typ string) (*step.Spec, bool) {
	if s, ok := builtinByType[typ]; ok {
		return s, true
	}
	if _, bad := unsupportedTypes[typ]; bad {
		return nil, false
	}
	if reg == nil {
		reg = step.Default()
	}
	return reg.Lookup(typ)
}

// allowsWith reports whether a step type takes a `with` block: every
// activity and pure type (Kibana registry steps all take one, possibly
// empty), and flow types that declare With fields.
func allowsWith(s *step.Spec) bool {
	return s.Kind != step.KindFlow || s.OpenWith || len(s.With) > 0
}

// closedWith reports whether unknown `with` keys are errors for s: built-in
// types always declare all their keys; an activity type does when it lists
// With fields and is not OpenWith.
func closedWith(s *step.Spec) bool {
	if s.OpenWith {
		return false
	}
	if _, builtin := builtinByType[s.Type]; builtin {
		return true
	}
	return len(s.With) > 0
}

// allowsConnector reports whether a step type takes `connector-id`.
func allowsConnector(s *step.Spec) bool {
	return s.Kind == step.KindActivity || s.NeedsConnector
}

// allowsStepForeach reports whether a type takes a step-level `foreach:`
// (atomic steps; foreach and parallel declare it as their own key).
func allowsStepForeach(s *step.Spec) bool {
	return s.Kind != step.KindFlow || s.ConfigField("foreach") != nil
}

// allowedStepKeys lists the keys a step of spec s accepts, for suggestions.
func allowedStepKeys(s *step.Spec) []string {
	keys := append([]string(nil), commonStepKeys...)
	if allowsWith(s) {
		keys = append(keys, "with")
	}
	if allowsConnector(s) {
		keys = append(keys, "connector-id")
	}
	if allowsStepForeach(s) && s.ConfigField("foreach") == nil {
		keys = append(keys, "foreach")
	}
	for _, f := range s.Config {
		keys = append(keys, f.Name)
	}
	sort.Strings(keys)
	return keys
}

func (l *loader) step(n *yaml.Node, path string, depth int) *Step {
	if !l.visit(n, depth) {
		return nil
	}
	l.steps++
	if l.steps == kibanaMaxSteps+1 {
		l.over, l.overPath = n, path
	}
	if l.steps > maxSteps {
		l.tooBig = true
		return nil
	}
	m, ok := l.mapping(n, path, "a step")
	if !ok {
		return nil
	}
	st := &Step{Pos: l.pos(m)}
	ps := l.pairs(m, path)
	var hasName, hasType bool
	for _, kv := range ps {
		p := joinPath(path, kv.key)
		switch kv.key {
		case "name":
			hasName = true
			l.record(p, kv.k, kv.v)
			if s, ok := l.str(kv.v, p, "step name"); ok {
				if strings.TrimSpace(s) == "" {
					l.errorf(kv.v, p, CodeValue, "step name must not be empty")
				}
				st.Name = s
			}
		case "type":
			hasType = true
			l.record(p, kv.k, kv.v)
			st.Type, _ = l.str(kv.v, p, "step type")
		}
	}
	if !hasName {
		l.errorf(m, path, CodeRequired, "missing required field \"name\" in step")
	}
	if !hasType {
		l.errorf(m, path, CodeRequired, "missing required field \"type\" in step %q", st.Name)
	}
	spec, known := lookupSpec(l.reg, st.Type)
	where := fmt.Sprintf("step %q (type %s)", st.Name, st.Type)
	for _, kv := range ps {
		p := joinPath(path, kv.key)
		l.record(p, kv.k, kv.v)
		key := kv.key
		switch {
		case key == "name" || key == "type":
			continue
		case key == "id":
			// Accepted (Kibana's graph id); secflow identifies steps by name.
			l.value(kv.v, p, depth+1)
			continue
		case key == "if":
			l.stepIf(kv.v, p, st)
			continue
		case key == "timeout":
			st.Timeout, _ = l.str(kv.v, p, "timeout")
			continue
		case key == "max-step-size":
			st.MaxStepSize, _ = l.str(kv.v, p, "max-step-size")
			continue
		case key == "on-failure":
			st.OnFailure = l.onFailure(kv.v, p, depth)
			continue
		}
		if !known {
			// The type is reported by validation; decode what we can so that
			// nested steps are still checked.
			l.stepKey(kv, p, st, depth, nil)
			continue
		}
		switch {
		case key == "with" && allowsWith(spec):
			st.With = l.value(kv.v, p, depth+1)
		case key == "connector-id" && allowsConnector(spec):
			st.ConnectorID, _ = l.str(kv.v, p, "connector-id")
		case key == "foreach" && allowsStepForeach(spec):
			st.Foreach = l.value(kv.v, p, depth+1)
		case spec.ConfigField(key) != nil:
			l.stepKey(kv, p, st, depth, spec.ConfigField(key))
		default:
			if key == "with" {
				hint := ""
				if st.Type == "foreach" {
					hint = " (the list to loop over goes in `foreach:`, not in with.items)"
				}
				l.errorf(kv.k, p, CodeUnknownKey, "step type %s does not take a with block%s", st.Type, hint)
				continue
			}
			l.unknownKey(kv.k, p, key, where, allowedStepKeys(spec))
		}
	}
	return st
}

func (l *loader) stepIf(n *yaml.Node, path string, st *Step) {
	v := l.deref(n)
	switch {
	case v != nil && v.Kind == yaml.ScalarNode && v.ShortTag() == "!!bool":
		st.If, _ = l.boolean(v, path, "if")
	case isString(v):
		st.If = v.Value
	default:
		l.errorf(n, path, CodeType, "if must be a condition string or a boolean, got %s", describe(v))
	}
}

// stepKey decodes a type-specific step key; f is its spec field (nil when
// the type is unknown).
func (l *loader) stepKey(kv pair, p string, st *Step, depth int, f *step.Field) {
	switch kv.key {
	case "condition":
		st.Condition = l.value(kv.v, p, depth+1)
	case "steps":
		st.Steps = l.stepList(kv.v, p, f != nil && f.Required && st.Type != "parallel", depth)
	case "else":
		st.Else = l.stepList(kv.v, p, false, depth)
	case "default":
		st.Default = l.stepList(kv.v, p, false, depth)
	case "expression":
		st.Expression = l.value(kv.v, p, depth+1)
	case "cases":
		st.Cases = l.cases(kv.v, p, depth)
	case "branches":
		st.Branches = l.branches(kv.v, p, depth)
	case "mode":
		st.Mode, _ = l.str(kv.v, p, "mode")
	case "concurrency":
		st.Concurrency = l.value(kv.v, p, depth+1)
	case "branch-timeout":
		st.BranchTimeout, _ = l.str(kv.v, p, "branch-timeout")
	case "iteration-timeout":
		st.IterationTimeout, _ = l.str(kv.v, p, "iteration-timeout")
	case "iteration-on-failure":
		st.IterationOnFailure = l.onFailure(kv.v, p, depth)
	case "max-iterations":
		st.MaxIterations = l.maxIterations(kv.v, p)
	case "status":
		st.Status, _ = l.str(kv.v, p, "status")
	case "foreach":
		st.Foreach = l.value(kv.v, p, depth+1)
	default:
		if st.Config == nil {
			st.Config = map[string]any{}
		}
		st.Config[kv.key] = l.value(kv.v, p, depth+1)
	}
}

func (l *loader) maxIterations(n *yaml.Node, path string) *MaxIterations {
	v := l.deref(n)
	if v != nil && v.Kind == yaml.MappingNode {
		mi := &MaxIterations{}
		hasLimit, hasOnLimit := false, false
		for _, kv := range l.pairs(v, path) {
			p := joinPath(path, kv.key)
			l.record(p, kv.k, kv.v)
			switch kv.key {
			case "limit":
				hasLimit = true
				mi.Limit, _ = l.integer(kv.v, p, "max-iterations.limit", 1, math.MaxInt32)
			case "on-limit":
				hasOnLimit = true
				if s, ok := l.str(kv.v, p, "max-iterations.on-limit"); ok && l.enum(kv.v, p, "max-iterations.on-limit", s, []string{"fail", "continue"}) {
					mi.OnLimit = s
				}
			default:
				l.unknownKey(kv.k, p, kv.key, "max-iterations", []string{"limit", "on-limit"})
			}
		}
		if !hasLimit {
			l.errorf(v, path, CodeRequired, "missing required field \"limit\" in max-iterations")
		}
		if !hasOnLimit {
			l.errorf(v, path, CodeRequired, "missing required field \"on-limit\" in max-iterations (fail or continue)")
		}
		return mi
	}
	if lim, ok := l.integer(n, path, "max-iterations", 1, math.MaxInt32); ok {
		return &MaxIterations{Limit: lim}
	}
	return nil
}

func (l *loader) cases(n *yaml.Node, path string, depth int) []SwitchCase {
	seq := l.deref(n)
	if seq == nil || seq.Kind != yaml.SequenceNode {
		l.errorf(n, path, CodeType, "cases must be a list of {match, steps}, got %s", describe(seq))
		return nil
	}
	if len(seq.Content) == 0 {
		l.errorf(seq, path, CodeRequired, "cases must have at least one entry")
	}
	var out []SwitchCase
	for i, c := range seq.Content {
		p := indexPath(path, i)
		l.record(p, nil, c)
		m, ok := l.mapping(c, p, "a switch case")
		if !ok {
			out = append(out, SwitchCase{})
			continue
		}
		var sc SwitchCase
		hasMatch, hasSteps := false, false
		for _, kv := range l.pairs(m, p) {
			pp := joinPath(p, kv.key)
			l.record(pp, kv.k, kv.v)
			switch kv.key {
			case "match":
				hasMatch = true
				v := l.deref(kv.v)
				if v == nil || v.Kind != yaml.ScalarNode || isNull(v) {
					l.errorf(kv.v, pp, CodeType, "match must be a string, number or boolean, got %s", describe(v))
					continue
				}
				sc.Match = l.scalar(v, pp)
			case "steps":
				hasSteps = true
				sc.Steps = l.stepList(kv.v, pp, true, depth)
			default:
				l.unknownKey(kv.k, pp, kv.key, "a switch case", []string{"match", "steps"})
			}
		}
		if !hasMatch {
			l.errorf(m, p, CodeRequired, "missing required field \"match\" in switch case")
		}
		if !hasSteps {
			l.errorf(m, p, CodeRequired, "missing required field \"steps\" in switch case")
		}
		out = append(out, sc)
	}
	return out
}

func (l *loader) branches(n *yaml.Node, path string, depth int) []Branch {
	seq := l.deref(n)
	if seq == nil || seq.Kind != yaml.SequenceNode {
		l.errorf(n, path, CodeType, "branches must be a list of {name, steps}, got %s", describe(seq))
		return nil
	}
	var out []Branch
	for i, c := range seq.Content {
		p := indexPath(path, i)
		l.record(p, nil, c)
		m, ok := l.mapping(c, p, "a branch")
		if !ok {
			out = append(out, Branch{})
			continue
		}
		var b Branch
		hasName, hasSteps := false, false
		for _, kv := range l.pairs(m, p) {
			pp := joinPath(p, kv.key)
			l.record(pp, kv.k, kv.v)
			switch kv.key {
			case "name":
				hasName = true
				b.Name, _ = l.str(kv.v, pp, "branch name")
			case "steps":
				hasSteps = true
				b.Steps = l.stepList(kv.v, pp, false, depth)
			default:
				l.unknownKey(kv.k, pp, kv.key, "a parallel branch", []string{"name", "steps"})
			}
		}
		if !hasName {
			l.errorf(m, p, CodeRequired, "missing required field \"name\" in branch")
		}
		if !hasSteps {
			l.errorf(m, p, CodeRequired, "missing required field \"steps\" in branch")
		}
		out = append(out, b)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
