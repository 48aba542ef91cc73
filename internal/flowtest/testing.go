package flowtest

import (
	"sync"
	"testing"
)

var (
	defaultOnce   sync.Once
	defaultRunner *Runner
)

// shared returns the Runner the go test helpers use (no sandbox).
func shared() *Runner {
	defaultOnce.Do(func() { defaultRunner = New(Options{}) })
	return defaultRunner
}

// RunFile runs the test file at path from a Go test: with a *testing.T
// each case is a subtest named after it; a case whose expectations do not
// hold fails with the same diff `secflow test` prints.
func RunFile(t testing.TB, path string) {
	t.Helper()
	report(t, shared().RunFile(path))
}

// RunDir runs every *.test.yaml under dir (recursively) from a Go test, one
// subtest per file when t is a *testing.T. It fails when dir holds no test
// file.
func RunDir(t testing.TB, dir string) {
	t.Helper()
	files, err := Discover(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no *.test.yaml file under %s", dir)
	}
	for _, f := range files {
		if tt, ok := t.(*testing.T); ok {
			tt.Run(f, func(t *testing.T) { RunFile(t, f) })
			continue
		}
		RunFile(t, f)
	}
}

// report turns a file result into test failures.
func report(t testing.TB, res *FileResult) {
	t.Helper()
	if res.Err != nil {
		t.Errorf("%s:\n%v", res.Path, res.Err)
		return
	}
	if len(res.Cases) == 0 {
		t.Logf("%s: no case selected", res.Path)
	}
	for _, c := range res.Cases {
		check := func(t testing.TB) {
			t.Helper()
			for _, f := range c.Failures {
				t.Errorf("%s: %s", c.Pos, f)
			}
		}
		if tt, ok := t.(*testing.T); ok {
			tt.Run(c.Name, func(t *testing.T) { check(t) })
		} else {
			check(t)
		}
	}
}
