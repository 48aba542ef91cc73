package flowtest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	_ "github.com/secflow/secflow/activities/all" // every integration step type, as in the secflow binary
	"github.com/secflow/secflow/internal/defstore"
	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/interpreter/step"
)

// Options configures a Runner.
type Options struct {
	// Registry resolves step types; nil means step.Default() (every
	// integration of the secflow binary).
	Registry *step.Registry
	// Filter selects the cases to run by name (`--run`); nil runs all.
	Filter *regexp.Regexp
	// Sandbox answers unmocked side-effecting steps by running the real
	// step against the in-process sandbox fakes (internal/sandbox) instead
	// of failing the case. Nothing outside the loopback interface is ever
	// called.
	Sandbox bool
	// Parallel is the number of cases run at once; 0 means GOMAXPROCS.
	Parallel int
	// CaseTimeout bounds the real (wall-clock) time a case may sit idle,
	// e.g. on a stuck activity; 0 means 30s. Workflow time is skipped and
	// not bounded by this.
	CaseTimeout time.Duration
}

// Runner runs test files. It is safe for concurrent use. Close it to stop
// the sandbox when Options.Sandbox is set.
type Runner struct {
	opts Options
	reg  *step.Registry

	sbOnce sync.Once
	sb     *sandboxEnv
	sbErr  error

	mu   sync.Mutex
	defs map[string]*loaded // by absolute definition path
}

// New returns a Runner.
func New(opts Options) *Runner {
	if opts.Registry == nil {
		opts.Registry = step.Default()
	}
	if opts.Parallel <= 0 {
		opts.Parallel = runtime.GOMAXPROCS(0)
	}
	if opts.CaseTimeout <= 0 {
		opts.CaseTimeout = 30 * time.Second
	}
	return &Runner{opts: opts, reg: opts.Registry, defs: map[string]*loaded{}}
}

// Close stops the sandbox, if one was started.
func (r *Runner) Close() {
	if r.sb != nil {
		r.sb.close()
	}
}

// FileResult is the outcome of one test file.
type FileResult struct {
	// Path is the test file.
	Path string
	// Definition is the definition file the cases ran against.
	Definition string
	// Err is set when the file could not run at all (invalid test file,
	// definition missing or invalid); Cases is then empty.
	Err      error
	Cases    []CaseResult
	Duration time.Duration
}

// Passed reports whether the file ran and every case passed.
func (f *FileResult) Passed() bool {
	if f.Err != nil {
		return false
	}
	for _, c := range f.Cases {
		if !c.Passed() {
			return false
		}
	}
	return true
}

// CaseResult is the outcome of one case.
type CaseResult struct {
	Name string
	Pos  Pos
	// Status is the run status the case observed ("" when it did not run).
	Status   string
	Failures []Failure
	Duration time.Duration
}

// Passed reports whether every expectation held.
func (c CaseResult) Passed() bool { return len(c.Failures) == 0 }

// Discover expands paths into the *.test.yaml / *.test.yml files they
// name: files as given, directories walked recursively (hidden
// directories skipped). The result is sorted.
func Discover(paths ...string) ([]string, error) {
	return defstore.FilesMatching(IsTestFile, paths...)
}

// IsTestFile reports whether a file name is a workflow test.
func IsTestFile(name string) bool {
	return strings.HasSuffix(name, ".test.yaml") || strings.HasSuffix(name, ".test.yml")
}

// RunFile parses the test file at path and runs its (selected) cases.
func (r *Runner) RunFile(path string) *FileResult {
	start := time.Now()
	res := &FileResult{Path: path}
	defer func() { res.Duration = time.Since(start) }()
	f, err := ParseFile(path)
	if err != nil {
		res.Err = err
		return res
	}
	ld, err := r.definition(f)
	if err != nil {
		res.Err = err
		return res
	}
	res.Definition = ld.path
	if probs := r.checkFile(f, ld); len(probs) > 0 {
		res.Err = probs
		return res
	}
	var cases []*Case
	for _, c := range f.Cases {
		if r.opts.Filter == nil || r.opts.Filter.MatchString(c.Name) {
			cases = append(cases, c)
		}
	}
	res.Cases = make([]CaseResult, len(cases))
	sem := make(chan struct{}, r.opts.Parallel)
	var wg sync.WaitGroup
	for i, c := range cases {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res.Cases[i] = r.runCase(f, ld, c)
		}()
	}
	wg.Wait()
	return res
}

// RunFiles runs every file in order.
func (r *Runner) RunFiles(paths []string) []*FileResult {
	out := make([]*FileResult, 0, len(paths))
	for _, p := range paths {
		out = append(out, r.RunFile(p))
	}
	return out
}

// loaded is a definition loaded for tests, with what the checks need.
type loaded struct {
	path string
	def  *interpreter.Definition
	// types maps every step name of the definition (nested, fallback and
	// workflow-level fallback steps included) to its type.
	types map[string]string
	// fallbacks are the names of workflow-level fallback steps, whose
	// executions run as clones named workflow-level-on-failure_<step>_<name>.
	fallbacks []string
	defs      *dirDefs
}

// alias returns the fallback step name a workflow-level fallback clone
// stands for ("" for other names).
func (ld *loaded) alias(name string) string {
	if !strings.HasPrefix(name, wfFallbackPrefix) {
		return ""
	}
	best := ""
	for _, fn := range ld.fallbacks {
		if strings.HasSuffix(name, "_"+fn) && len(fn) > len(best) {
			best = fn
		}
	}
	return best
}

// definition resolves and loads the definition a test file names: a path
// relative to the test file, else a definition id looked up under the
// test file's directory.
func (r *Runner) definition(f *File) (*loaded, error) {
	dir := filepath.Dir(f.Path)
	candidate := f.Workflow
	if !filepath.IsAbs(candidate) {
		candidate = filepath.Join(dir, candidate)
	}
	if info, err := os.Stat(candidate); err != nil || info.IsDir() {
		files, ferr := defstore.Files(dir)
		found := ""
		if ferr == nil {
			for _, df := range files {
				if interpreter.Slug(df) == f.Workflow {
					found = df
					break
				}
			}
		}
		if found == "" {
			return nil, fmt.Errorf("%s: workflow %q: no such file (paths are relative to the test file) and no definition with that id under %s",
				f.WorkflowPos, f.Workflow, dir)
		}
		candidate = found
	}
	abs, err := filepath.Abs(candidate)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", candidate, err)
	}
	r.mu.Lock()
	ld, ok := r.defs[abs]
	r.mu.Unlock()
	if ok {
		return ld, nil
	}
	def, probs := interpreter.LoadFile(candidate, interpreter.LoadOptions{Registry: r.reg})
	if err := probs.Err(); err != nil {
		return nil, fmt.Errorf("%s: the workflow does not load:\n%s", f.WorkflowPos, strings.TrimRight(probs.Errors().String(), "\n"))
	}
	ld = &loaded{path: candidate, def: def,
		defs: &dirDefs{dir: filepath.Dir(candidate), reg: r.reg, byID: map[string]*interpreter.Definition{def.ID: def}}}
	ld.types, ld.fallbacks = childSteps(def, ld.defs)
	r.mu.Lock()
	r.defs[abs] = ld
	r.mu.Unlock()
	return ld, nil
}

// childSteps maps every step name of def, and of the child workflows its
// workflow.execute steps name literally (found through defs), to its type:
// mocks answer child steps by name too.
func childSteps(def *interpreter.Definition, defs *dirDefs) (map[string]string, []string) {
	out := map[string]string{}
	var fallbacks []string
	seen := map[string]bool{def.ID: true}
	queue := []*interpreter.Definition{def}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		types, children := stepTypes(d)
		if of := d.Settings.OnFailure; of != nil {
			for _, f := range of.Fallback {
				if f != nil {
					fallbacks = append(fallbacks, f.Name)
				}
			}
		}
		for k, v := range types {
			if _, dup := out[k]; !dup {
				out[k] = v
			}
		}
		for _, id := range children {
			if seen[id] {
				continue
			}
			seen[id] = true
			if cd, ok := defs.Get(id); ok {
				queue = append(queue, cd)
			}
		}
	}
	return out, fallbacks
}

// stepTypes maps every step name of def to its type, and lists the child
// definition ids its workflow.execute steps name literally.
func stepTypes(def *interpreter.Definition) (map[string]string, []string) {
	out := map[string]string{}
	var children []string
	visit := func(s *interpreter.Step) {
		if _, dup := out[s.Name]; !dup {
			out[s.Name] = s.Type
		}
		if s.Type == "workflow.execute" || s.Type == "workflow.executeAsync" {
			with, _ := s.With.(map[string]any)
			if id, ok := with["workflow-id"].(string); ok && !strings.Contains(id, "{{") {
				children = append(children, strings.TrimSpace(id))
			}
		}
	}
	interpreter.EachStep(def.Steps, visit)
	if of := def.Settings.OnFailure; of != nil {
		interpreter.EachStep(of.Fallback, visit)
		// Kibana names the workflow-level fallback steps run for step s
		// workflow-level-on-failure_<s>_<name>.
		fallback := map[string]string{}
		for _, f := range of.Fallback {
			if f != nil {
				fallback[f.Name] = f.Type
			}
		}
		for name := range out {
			for fn, ft := range fallback {
				out[wfFallbackPrefix+name+"_"+fn] = ft
			}
		}
	}
	return out, children
}

// wfFallbackPrefix starts the names of workflow-level fallback clones.
const wfFallbackPrefix = "workflow-level-on-failure_"

// hitlTypes are the step types whose answer comes from a mock although
// they run in the workflow (human-in-the-loop waits).
var hitlTypes = []string{"waitForInput", "waitForApproval"}

// sideEffecting reports whether steps of type typ run as activities (and
// therefore need a mock).
func (r *Runner) sideEffecting(typ string) bool {
	if _, ok := interpreter.BuiltinSpec(typ); ok {
		return false
	}
	spec, ok := r.reg.Lookup(typ)
	return ok && spec.Kind == step.KindActivity
}

// checkFile checks the step names a test file uses against the definition,
// so that a typo is reported where it is written instead of as a puzzling
// failure.
func (r *Runner) checkFile(f *File, ld *loaded) Errors {
	var errs Errors
	known := func(ref Ref, what string) {
		if _, ok := ld.types[ref.Step]; !ok {
			errs = append(errs, fmt.Errorf("%s: %s: the workflow has no step %q%s", ref.Pos, what, ref.Step, suggest(ref.Step, ld.types)))
		}
	}
	checkMocks := func(ms map[string]*Mock, what string) {
		for _, name := range sortedKeys(ms) {
			m := ms[name]
			typ, ok := ld.types[name]
			if !ok {
				known(Ref{Step: name, Pos: m.Pos}, what)
				continue
			}
			if !m.Unset && !r.sideEffecting(typ) && !contains(hitlTypes, typ) {
				errs = append(errs, fmt.Errorf("%s: %s: step %q (type %s) always runs for real and cannot be mocked; mock the side-effecting steps it reads from",
					m.Pos, what, name, typ))
			}
		}
	}
	checkMocks(f.Mocks, "mocks")
	for _, c := range f.Cases {
		checkMocks(c.Mocks, "mocks")
		if c.Trigger != "" && !hasTrigger(ld.def, c.Trigger) {
			errs = append(errs, fmt.Errorf("%s: trigger: the workflow has no trigger of type %q (its triggers: %s)",
				c.TriggerPos, c.Trigger, triggerTypes(ld.def)))
		}
		e := c.Expect
		for _, ref := range e.Ran {
			known(ref, "expect.ran")
		}
		for _, ref := range e.NotRan {
			known(ref, "expect.not_ran")
		}
		for _, cnt := range e.Calls {
			known(cnt.Ref, "expect.calls")
		}
		for _, se := range e.Steps {
			known(se.Ref, "expect.steps")
		}
	}
	return errs
}

// hasTrigger reports whether def has a trigger of type typ.
func hasTrigger(def *interpreter.Definition, typ string) bool {
	for _, t := range def.Triggers {
		if t.Type == typ {
			return true
		}
	}
	return false
}

// triggerTypes lists the trigger types of def ("none" without any).
func triggerTypes(def *interpreter.Definition) string {
	var types []string
	for _, t := range def.Triggers {
		if !contains(types, t.Type) {
			types = append(types, t.Type)
		}
	}
	if len(types) == 0 {
		return "none"
	}
	return strings.Join(types, ", ")
}

// suggest returns ` (did you mean "x"?)` for the closest known step name.
func suggest(name string, known map[string]string) string {
	best, bestD := "", 4
	for k := range known {
		if strings.HasPrefix(k, wfFallbackPrefix) {
			continue
		}
		if d := editDistance(strings.ToLower(name), strings.ToLower(k)); d < bestD || d == bestD && k < best {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// dirDefs serves child-workflow definitions (workflow.execute) from the
// directory of the tested definition, loading each on first use.
type dirDefs struct {
	dir  string
	reg  *step.Registry
	mu   sync.Mutex
	byID map[string]*interpreter.Definition
}

// Get implements worker.Definitions.
func (d *dirDefs) Get(id string) (*interpreter.Definition, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if def, ok := d.byID[id]; ok {
		return def, def != nil
	}
	files, err := defstore.Files(d.dir)
	if err != nil {
		return nil, false
	}
	for _, f := range files {
		if interpreter.Slug(f) != id {
			continue
		}
		def, probs := interpreter.LoadFile(f, interpreter.LoadOptions{Registry: d.reg})
		if probs.HasErrors() {
			def = nil
		}
		d.byID[id] = def
		return def, def != nil
	}
	d.byID[id] = nil
	return nil, false
}
