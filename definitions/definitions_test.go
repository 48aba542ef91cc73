// Package definitions_test checks the shipped workflow definitions: every
// one loads without errors, every one has a workflow test, and every
// *.test.yaml in this directory passes.
package definitions_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/secflow/secflow/internal/defstore"
	"github.com/secflow/secflow/internal/flowtest"
	"github.com/secflow/secflow/interpreter"
)

// TestDefinitionsValidate loads every definition with the registry of the
// secflow binary (flowtest imports every integration).
func TestDefinitionsValidate(t *testing.T) {
	files, err := defstore.Files(".")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no definition found")
	}
	for _, f := range files {
		_, probs := interpreter.LoadFile(f, interpreter.LoadOptions{})
		if probs.HasErrors() {
			t.Errorf("%s does not validate:\n%s", f, probs.Errors())
		}
	}
}

// TestDefinitionsHaveTests requires a <name>.test.yaml next to every
// definition.
func TestDefinitionsHaveTests(t *testing.T) {
	files, err := defstore.Files(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		base := strings.TrimSuffix(strings.TrimSuffix(f, ".yaml"), ".yml")
		if ms, _ := filepath.Glob(base + ".test.y*ml"); len(ms) == 0 {
			t.Errorf("%s has no workflow test (%s.test.yaml)", f, base)
		}
	}
}

// TestWorkflows runs every *.test.yaml of this directory.
func TestWorkflows(t *testing.T) {
	flowtest.RunDir(t, ".")
}
