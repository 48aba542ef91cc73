package interpreter

import (
	"encoding/json"
	"testing"

	"github.com/secflow/secflow/interpreter/step"
)

// inventory is every flow-control and pure type of §6.0–§6.3.
var inventory = []string{
	"if", "foreach", "while", "switch", "parallel", "loop.break", "loop.continue", "wait", "waitForInput",
	"waitForApproval", "workflow.execute", "workflow.executeAsync", "workflow.output", "workflow.fail", "console",
	"data.set", "data.map", "data.parseJson", "data.stringifyJson", "data.filter", "data.find", "data.dedupe",
	"data.concat", "data.aggregate", "data.regexExtract", "data.regexReplace", "data.regex_extract", "data.regex_replace",
}

func TestBuiltinSpecsInventory(t *testing.T) {
	for _, typ := range inventory {
		spec, ok := step.Default().Lookup(typ)
		if !ok {
			t.Errorf("%s not registered in step.Default()", typ)
			continue
		}
		if spec.Kind == step.KindActivity {
			t.Errorf("%s: kind %s, want flow or pure", typ, spec.Kind)
		}
		if b, ok := BuiltinSpec(typ); !ok || b != spec {
			t.Errorf("%s: BuiltinSpec differs from the registry", typ)
		}
	}
	if len(BuiltinTypes()) != len(inventory) {
		t.Errorf("BuiltinTypes() = %v, want the %d inventory types", BuiltinTypes(), len(inventory))
	}
	if _, ok := step.Default().Lookup("merge"); ok {
		t.Error("merge must not be registered")
	}
}

func TestBuiltinSpecsDocumented(t *testing.T) {
	for _, spec := range builtinSpecs {
		if spec.Summary == "" || spec.Category == "" || spec.Output.Doc == "" {
			t.Errorf("%s: missing summary, category or output doc", spec.Type)
		}
		if spec.Output.Example != "" && !json.Valid([]byte(spec.Output.Example)) {
			t.Errorf("%s: output example is not JSON: %s", spec.Type, spec.Output.Example)
		}
		seen := map[string]bool{}
		for _, f := range append(append([]step.Field{}, spec.Config...), spec.With...) {
			if f.Doc == "" || f.Type == "" {
				t.Errorf("%s.%s: missing doc or type", spec.Type, f.Name)
			}
			if seen[f.Name] {
				t.Errorf("%s.%s declared twice", spec.Type, f.Name)
			}
			seen[f.Name] = true
		}
	}
}

func TestMergeRejected(t *testing.T) {
	src := "name: m\ntriggers: [{type: manual}]\nsteps:\n  - name: m\n    type: merge\n    sources: [a]\n    steps: []\n"
	_, probs := LoadBytes("m.yaml", []byte(src), LoadOptions{Registry: testRegistry()})
	if len(probs) != 1 || probs[0].Code != CodeUnsupported || probs[0].Line != 5 || probs[0].Col != 11 {
		t.Errorf("got %v", probs)
	}
}
