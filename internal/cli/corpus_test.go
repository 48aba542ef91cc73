package cli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	_ "github.com/secflow/secflow/activities/all" // integration step types, as in the secflow binary
	"github.com/secflow/secflow/internal/defstore"
	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/interpreter/step"
)

var updateCorpus = flag.Bool("update", false, "rewrite testdata/corpus.golden")

// TestCorpus validates the 81 elastic/workflows definitions copied into
// testdata/corpus (Apache-2.0, see testdata/corpus/LICENSE.txt and
// NOTICE.txt) with every registered step type, and compares the complete
// output (every problem, warnings included, and the summary) with
// testdata/corpus.golden. Run with -update after a deliberate change.
func TestCorpus(t *testing.T) {
	var out, errOut bytes.Buffer
	code := Main(context.Background(), []string{"validate", "--warnings", "testdata/corpus"}, &out, &errOut)
	if errOut.Len() > 0 {
		t.Fatalf("stderr: %s", errOut.String())
	}
	got := out.Bytes()
	if *updateCorpus {
		if err := os.WriteFile("testdata/corpus.golden", got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile("testdata/corpus.golden")
	if err != nil {
		t.Fatalf("read golden (run go test ./internal/cli -run TestCorpus -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("corpus outcome changed (exit %d); run with -update if intended.\n--- got\n%s\n--- want\n%s", code, got, want)
	}
	wantCode := 0
	if !bytes.Contains(want, []byte(" 0 errors,")) {
		wantCode = 1
	}
	if code != wantCode {
		t.Errorf("exit code %d, want %d", code, wantCode)
	}
}

// permissiveRegistry is the default registry plus generic specs for every
// activity family the corpus uses, so that TestCorpusSchema checks the
// loader and validator on the whole corpus whatever integrations exist yet.
func permissiveRegistry() *step.Registry {
	reg := step.Default().Clone()
	noop := func(context.Context, step.Runtime, step.Input) (any, error) { return nil, nil }
	for _, typ := range []string{"*", "http", "elasticsearch.*", "elasticsearch.esql.*", "elasticsearch.indices.*",
		"kibana.*", "cases.*", "ai.*", "search.*", "security.*"} {
		_ = reg.Add(&step.Spec{Type: typ, Kind: step.KindActivity, Summary: "test stand-in", OpenWith: true, Activity: noop})
	}
	_ = reg.Add(&step.Spec{Type: "ai.agent", Kind: step.KindActivity, Summary: "test stand-in", OpenWith: true, Activity: noop,
		Config: []step.Field{{Name: "agent-id", Type: step.String}, {Name: "create-conversation", Type: step.Bool}}})
	return reg
}

// corpusSchemaErrors lists the corpus files that really break the engine's
// schema, with their exact errors (file-relative "line:col: message").
var corpusSchemaErrors = map[string][]string{}

// TestCorpusSchema requires every corpus definition to be free of errors
// when every step type is known, except the files listed in
// corpusSchemaErrors, which must fail with exactly those errors.
func TestCorpusSchema(t *testing.T) {
	files, err := defstore.Files("testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 81 {
		t.Fatalf("corpus has %d definitions, want 81", len(files))
	}
	reg := permissiveRegistry()
	for _, f := range files {
		def, probs := interpreter.LoadFile(f, interpreter.LoadOptions{Registry: reg})
		var got []string
		for _, p := range probs.Errors() {
			got = append(got, fmt.Sprintf("%d:%d: %s", p.Line, p.Col, p.Msg))
		}
		rel := strings.TrimPrefix(f, "testdata/corpus/")
		want := corpusSchemaErrors[rel]
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: errors\n%s\nwant\n%s", rel, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if len(want) == 0 && (def == nil || def.Name == "" || len(def.Steps) == 0 || len(def.Triggers) == 0) {
			t.Errorf("%s: incomplete definition %+v", rel, def)
		}
	}
}
