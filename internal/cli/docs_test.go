package cli

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/secflow/secflow/activities/all" // integration step types, as in the secflow binary
	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/interpreter/step"
)

var writeDocsFlag = flag.Bool("write", false, "regenerate docs/steps/ and docs/variables.md (TestDocs)")

// repoDocs is the docs directory of the repository, seen from this package.
const repoDocs = "../../docs"

// TestDocs is the golden test of the generated docs: it fails when
// docs/steps/ does not match the registry or docs/variables.md does not
// match interpreter/variables.go. Regenerate with
//
//	go test ./internal/cli -run TestDocs -args -write
func TestDocs(t *testing.T) {
	files := docsFiles(step.Default())
	if *writeDocsFlag {
		written, removed, err := writeDocs(repoDocs, files)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d files: %d written, %d removed", len(files), written, removed)
		return
	}
	stale, err := staleDocs(repoDocs, files)
	if err != nil {
		t.Fatal(err)
	}
	if len(stale) > 0 {
		t.Errorf("generated docs are stale (%d files); regenerate with\n\tgo test ./internal/cli -run TestDocs -args -write\nor\tsecflow docs --out docs\n  %s",
			len(stale), strings.Join(stale, "\n  "))
	}
	if !bytes.Equal(files[variablesPage], interpreter.VariablesMarkdown("../")) {
		t.Errorf("docsFiles does not render %s from interpreter.VariablesMarkdown", variablesPage)
	}
	// Every registered type is documented on exactly one page, and the
	// index links every page.
	index := string(files[stepsDir+"/"+step.IndexPage])
	for _, s := range step.Default().All() {
		name := stepsDir + "/" + step.PageName(s)
		body, ok := files[name]
		if !ok {
			t.Errorf("%s: no page %s", s.Type, name)
			continue
		}
		if !bytes.Contains(body, []byte("`"+s.Type+"`")) {
			t.Errorf("%s: page %s does not name the type", s.Type, name)
		}
		if !strings.Contains(index, "]("+step.PageName(s)+")") {
			t.Errorf("%s: index does not link %s", s.Type, step.PageName(s))
		}
	}
}

// TestDocsCommand runs `secflow docs` into a temporary directory: a first
// run writes every page, --check then passes; an edited step page, an
// edited variables.md, an obsolete generated page and a hand-written page
// make --check fail on all but the last, and a new run repairs them and
// leaves the hand-written page.
func TestDocsCommand(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := Main(context.Background(), append([]string{"docs"}, args...), &out, &errOut)
		return code, out.String() + errOut.String()
	}
	if code, out := run("-h"); code != 0 || !strings.Contains(out, "Example: secflow docs") {
		t.Errorf("docs -h: exit %d, want 0 and the help: %s", code, out)
	}
	if code, _ := run("--no-such-flag"); code != 2 {
		t.Errorf("docs --no-such-flag: exit %d, want 2", code)
	}
	code, out := run("--out", dir)
	n := len(docsFiles(step.Default()))
	if code != 0 || !strings.Contains(out, " written, 0 removed") {
		t.Fatalf("first run: exit %d: %s", code, out)
	}
	if code, out = run("--out", dir, "--check"); code != 0 || !strings.Contains(out, "are current") {
		t.Fatalf("check after write: exit %d: %s", code, out)
	}

	steps := filepath.Join(dir, stepsDir)
	httpPage := filepath.Join(steps, "http.md")
	if err := os.WriteFile(httpPage, []byte(step.GeneratedMarker+"\nedited by hand\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	obsolete := filepath.Join(steps, "gone.md")
	if err := os.WriteFile(obsolete, []byte(step.GeneratedMarker+"\n# `gone`\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	varsPage := filepath.Join(dir, variablesPage)
	if data, err := os.ReadFile(varsPage); err != nil || !bytes.HasPrefix(data, []byte(interpreter.VariablesGeneratedMarker)) {
		t.Fatalf("first run did not write %s: %v", variablesPage, err)
	}
	if err := os.WriteFile(varsPage, []byte("# Variables, edited by hand\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	handWritten := filepath.Join(steps, "notes.md")
	if err := os.WriteFile(handWritten, []byte("# Notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out = run("--out", dir, "--check")
	if code != 1 {
		t.Errorf("check with stale pages: exit %d, want 1", code)
	}
	for _, w := range []string{"outdated: steps/http.md", "obsolete: steps/gone.md", "outdated: variables.md", "3 stale files"} {
		if !strings.Contains(out, w) {
			t.Errorf("check output lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "notes.md") {
		t.Errorf("check reports the hand-written page:\n%s", out)
	}

	if code, out = run("--out", dir); code != 0 || !strings.Contains(out, "2 written, 1 removed") {
		t.Errorf("repair run: exit %d: %s (%d files)", code, out, n)
	}
	if _, err := os.Stat(obsolete); !os.IsNotExist(err) {
		t.Errorf("obsolete page still there: %v", err)
	}
	if _, err := os.Stat(handWritten); err != nil {
		t.Errorf("hand-written page removed: %v", err)
	}
	if code, _ = run("--out", dir, "--check"); code != 0 {
		t.Errorf("check after repair: exit %d", code)
	}
	if code, _ = run("--out", dir, "extra"); code != 2 {
		t.Errorf("extra argument: exit %d, want 2", code)
	}
}
