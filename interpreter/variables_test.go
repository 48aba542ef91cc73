package interpreter

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// contextKeys is what TestVariablesMatchContext's workflow reports: the
// top-level keys of a template context, and the keys of its object values.
type contextKeys struct {
	Top  []string
	Subs map[string][]string
}

// buildContext builds a template context through the interpreter's own
// code path (configure, then templateContext) inside a test workflow.
// With full set, every optional source is present: an alert event, a
// parent, an emitted output, and a scope inside a foreach, a while and a
// fallback.
func buildContext(ctx workflow.Context, full bool) (contextKeys, error) {
	def := &Definition{ID: "ctx", Name: "ctx", Enabled: true,
		Steps: []*Step{{Name: "first", Type: "console"}, {Name: "second", Type: "console"}}}
	info := workflow.GetInfo(ctx)
	r := &run{ctx: ctx, def: def, wfID: info.WorkflowExecution.ID, runID: info.WorkflowExecution.RunID,
		variables: map[string]any{}, aliases: map[string]*Step{}}
	r.layout = newLayout(def)
	in := RunInput{}
	sc := &scope{store: newStore(nil)}
	if full {
		in.Event = map[string]any{"alerts": []any{}}
		in.Parent = &ParentRef{WorkflowID: "p", ExecutionID: "pe", Depth: 1}
		r.output = map[string]any{"verdict": "ok"}
		sc.foreach = map[string]any{"items": []any{"a"}, "item": "a", "index": 0, "total": 1}
		sc.while = map[string]any{"iteration": 0}
		sc.errVal = map[string]any{"type": "E", "message": "m"}
	}
	r.configure(in, runEnv{UIBaseURL: "http://ui.test", KibanaURL: "http://kibana.test"})
	// execute sets inputs once they are validated (workflow.go); the
	// static check below covers that assignment.
	r.base["inputs"] = map[string]any{}
	m := r.templateContext(sc, viewer{at: def.Steps[1]})
	// Keys are sorted, so the map order does not matter.
	return keysOf(m), nil //workflowcheck:ignore
}

// keysOf returns the sorted top-level keys of m and the sorted keys of its
// object values.
func keysOf(m map[string]any) contextKeys {
	out := contextKeys{Subs: map[string][]string{}}
	for k, v := range m {
		out.Top = append(out.Top, k)
		if obj, ok := v.(map[string]any); ok {
			for sk := range obj {
				out.Subs[k] = append(out.Subs[k], sk)
			}
			sort.Strings(out.Subs[k])
		}
	}
	sort.Strings(out.Top)
	return out
}

// declaredNames returns the sorted names of the declared variables that
// pass keep.
func declaredNames(keep func(Variable) bool) []string {
	var out []string
	for _, v := range Variables() {
		if keep(v) {
			out = append(out, v.Name)
		}
	}
	sort.Strings(out)
	return out
}

// TestVariablesMatchContext builds a minimal and a full template context
// through the real code path and compares their top-level keys with the
// declaration: the minimal context holds exactly the PresentAlways
// variables, the full one every variable but the step-local ones, and the
// object variables with FixedKeys hold exactly the declared keys.
func TestVariablesMatchContext(t *testing.T) {
	for _, tc := range []struct {
		name string
		full bool
		want []string
	}{
		{"minimal", false, declaredNames(func(v Variable) bool { return v.Presence == PresentAlways })},
		{"full", true, declaredNames(func(v Variable) bool { return v.Presence != PresentStepLocal })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var suite testsuite.WorkflowTestSuite
			env := suite.NewTestWorkflowEnvironment()
			env.RegisterWorkflowWithOptions(buildContext, workflow.RegisterOptions{Name: "buildContext"})
			env.ExecuteWorkflow("buildContext", tc.full)
			if err := env.GetWorkflowError(); err != nil {
				t.Fatal(err)
			}
			var got contextKeys
			if err := env.GetWorkflowResult(&got); err != nil {
				t.Fatal(err)
			}
			if g, w := strings.Join(got.Top, " "), strings.Join(tc.want, " "); g != w {
				t.Errorf("template context keys:\n got  %s\n want %s (declared in variables.go)", g, w)
			}
			if !tc.full {
				return
			}
			for _, v := range Variables() {
				if !v.FixedKeys {
					continue
				}
				var want []string
				for _, k := range v.Keys {
					want = append(want, k.Name)
				}
				sort.Strings(want)
				if g, w := strings.Join(got.Subs[v.Name], " "), strings.Join(want, " "); g != w {
					t.Errorf("%s keys:\n got  %s\n want %s (declared in variables.go)", v.Name, g, w)
				}
			}
		})
	}
}

// TestVariablesCoverSources scans the interpreter's sources for every
// top-level key written into the template context — r.base[...] = and
// r.base = map[string]any{...} anywhere, m[...] = in templateContext — so
// that a key added on a path the context test does not build (such as
// inputs, set by execute) must be declared too.
func TestVariablesCoverSources(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{} // key -> where
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				as, ok := n.(*ast.AssignStmt)
				if !ok {
					return true
				}
				for i, lhs := range as.Lhs {
					switch l := lhs.(type) {
					case *ast.IndexExpr:
						if isBase(l.X) || fn.Name.Name == "templateContext" && isIdent(l.X, "m") {
							if k, ok := stringLit(l.Index); ok {
								found[k] = fset.Position(l.Pos()).String()
							}
						}
					case *ast.SelectorExpr:
						if !isBase(l) || i >= len(as.Rhs) {
							continue
						}
						if lit, ok := as.Rhs[i].(*ast.CompositeLit); ok {
							for _, el := range lit.Elts {
								if kv, ok := el.(*ast.KeyValueExpr); ok {
									if k, ok := stringLit(kv.Key); ok {
										found[k] = fset.Position(kv.Pos()).String()
									}
								}
							}
						}
					}
				}
				return true
			})
		}
	}
	declared := map[string]Variable{}
	for _, v := range Variables() {
		declared[v.Name] = v
	}
	if len(found) < 10 {
		t.Fatalf("found only %d context keys in the sources (%v); has the code moved?", len(found), found)
	}
	for k, where := range found {
		v, ok := declared[k]
		switch {
		case !ok:
			t.Errorf("%s: template context key %q is not declared in variables.go", where, k)
		case v.Presence == PresentStepLocal:
			t.Errorf("%s: %q is declared step-local but the interpreter puts it into the run's context", where, k)
		}
	}
	for name, v := range declared {
		if _, ok := found[name]; !ok && v.Presence != PresentStepLocal {
			t.Errorf("%q is declared but no source writes it into the template context", name)
		}
	}
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

// isBase reports whether e is <something>.base.
func isBase(e ast.Expr) bool {
	sel, ok := e.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "base"
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// TestVariablesDeclared checks each declaration is complete: a unique
// name, shape, availability, valid status, doc and an example.
func TestVariablesDeclared(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range Variables() {
		var gaps []string
		if v.Name == "" || seen[v.Name] {
			gaps = append(gaps, "empty or duplicate name")
		}
		seen[v.Name] = true
		if v.Shape == "" {
			gaps = append(gaps, "no Shape")
		}
		if v.When == "" {
			gaps = append(gaps, "no When")
		}
		if !v.Status.Valid() {
			gaps = append(gaps, "invalid Status "+strconv.Quote(string(v.Status)))
		}
		if strings.TrimSpace(v.Doc) == "" {
			gaps = append(gaps, "no Doc")
		}
		if len(v.Examples) == 0 {
			gaps = append(gaps, "no Examples")
		}
		for _, ex := range v.Examples {
			if strings.Contains(ex, "`") || !strings.Contains(ex, v.Name) {
				gaps = append(gaps, "example "+strconv.Quote(ex)+" has a backtick or does not read the variable")
			}
		}
		if v.FixedKeys && len(v.Keys) == 0 {
			gaps = append(gaps, "FixedKeys without Keys")
		}
		if len(gaps) > 0 {
			t.Errorf("variable %q: %s", v.Name, strings.Join(gaps, "; "))
		}
	}
	if len(UnavailableVariables()) == 0 {
		t.Error("no unavailable names declared")
	}
}

// TestVariablesMarkdown checks the rendered page: marker, banner, one
// table row and one section per variable, statuses, the unavailable names
// and the differences.
func TestVariablesMarkdown(t *testing.T) {
	page := string(VariablesMarkdown("../"))
	want := []string{
		VariablesGeneratedMarker + "\n",
		"# Template context variables",
		"> Generated from [`interpreter/variables.go`](../interpreter/variables.go) by `secflow docs` — do not edit.",
		"| Variable | Shape | Present | Status |",
		"| [`inputs`](#inputs) | object | always (`{}` without inputs) | core |",
		"| [`while`](#while) | `{iteration}` | inside a `while` body and its condition | newer |",
		"Status is the Kibana generation of a variable",
		"## `inputs`",
		"## `execution`", "| Key | Value in secflow |", "| `url` | **The run's history page in the Temporal UI**",
		"## `steps`", "| state keys |",
		"## Not available", "- `env.*` and `secrets.*` — keep credentials in connectors",
		"## Differences from Kibana", "- `execution.url` links the Temporal UI",
	}
	rest := page
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("%q missing (or out of order) in:\n%s", w, page)
		}
		rest = rest[i+len(w):]
	}
	for _, v := range Variables() {
		if !strings.Contains(page, "\n## `"+v.Name+"`\n") || !strings.Contains(page, "| [`"+v.Name+"`](#") {
			t.Errorf("%s: no section or table row", v.Name)
		}
	}
	if !strings.Contains(page, "; `\\| date: …` formats it;") {
		t.Error("a pipe inside a table cell is not escaped")
	}
	if !strings.HasSuffix(page, "\n") || strings.HasSuffix(page, "\n\n") {
		t.Error("page must end with exactly one newline")
	}
	if VariablesMarkdown("") == nil || strings.Contains(string(VariablesMarkdown("")), "](../interpreter") {
		t.Error("no source link expected without a base")
	}
}
