package template

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// corpusDir holds the real Elastic Workflows definitions the team tests against.
const corpusDir = "/work/shared/corpus/elastic-workflows"

func walkStrings(v any, path string, fn func(path, s string)) {
	switch x := v.(type) {
	case string:
		fn(path, x)
	case []any:
		for i, e := range x {
			walkStrings(e, fmt.Sprintf("%s[%d]", path, i), fn)
		}
	case map[string]any:
		for _, k := range sortedKeys(x) {
			walkStrings(x[k], path+"."+k, fn)
		}
	}
}

// TestCorpusTemplatesParse checks every template string of the corpus
// statically and renders it against an empty context (which must not fail
// for any reason other than the expression itself).
func TestCorpusTemplatesParse(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skip("corpus not available")
	}
	e := newTestEngine()
	n := 0
	err := filepath.Walk(corpusDir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var doc any
		if yaml.Unmarshal(b, &doc) != nil {
			return nil
		}
		walkStrings(doc, "", func(path, s string) {
			if !ContainsTemplate(s) {
				return
			}
			n++
			if err := e.Check(s); err != nil {
				t.Errorf("%s %s: Check: %v", p, path, err)
			}
			ctx := map[string]any{"inputs": map[string]any{}, "steps": map[string]any{}}
			if _, err := e.Render(s, ctx); err != nil && !strings.Contains(err.Error(), "expression is invalid") {
				t.Errorf("%s %s: Render: %v", p, path, err)
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 100 {
		t.Fatalf("only %d templates found in the corpus", n)
	}
	t.Logf("%d corpus templates checked", n)
}
