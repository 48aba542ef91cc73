package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const validDef = `name: ok
triggers:
  - type: manual
steps:
  - name: hello
    type: console
    with: { message: "hi" }
`

const warnDef = `name: warn
triggers:
  - type: manual
steps:
  - name: gate
    type: if
    condition: "inputs.n == 5"
    steps:
      - { name: inner, type: console, with: { message: x } }
`

const badDef = `name: bad
triggers:
  - type: manual
steps:
  - name: pause
    type: wait
    with: { duration: soon }
  - name: pause
    type: console
    whith: { message: x }
`

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func runCLI(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := Main(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestValidateCommand(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"ok.yaml":            validDef,
		"sub/warn.yml":       warnDef,
		"sub/ok.test.yaml":   "not: [a definition",
		"notes.txt":          "ignored",
		".hidden/bad.yaml":   badDef,
		"bad/bad.yaml":       badDef,
		"clean/only.yaml":    validDef,
		"clean/w/warn2.yaml": warnDef,
	})
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   []string // substrings, in order
		exact    string   // whole stdout when set
		stderrIn string
	}{
		{name: "clean dir prints one summary line", args: []string{"validate", filepath.Join(dir, "clean")},
			code: 0, exact: "2 files, 0 errors, 1 warning (run with --warnings to list them)\n"},
		{name: "warnings listed on request", args: []string{"validate", "--warnings", filepath.Join(dir, "clean")},
			code: 0, stdout: []string{"warn2.yaml:7:16: warning: condition uses \"==\"", "2 files, 0 errors, 1 warning\n"}},
		{name: "errors listed with positions", args: []string{"validate", filepath.Join(dir, "bad")},
			code: 1, stdout: []string{
				"bad.yaml:7:23: with.duration: Invalid duration format: soon.",
				"bad.yaml:8:11: duplicate step name \"pause\" (first used at line 5)",
				"bad.yaml:10:5: unknown key \"whith\" in step \"pause\" (type console) (did you mean \"with\"?)",
				"1 file, 3 errors, 0 warnings\n"}},
		{name: "walks recursively, skips tests, hidden dirs and other files", args: []string{"validate", dir},
			code: 1, stdout: []string{"5 files, 3 errors, 2 warnings"}},
		{name: "explicit file", args: []string{"validate", filepath.Join(dir, "ok.yaml")},
			code: 0, exact: "1 file, 0 errors, 0 warnings\n"},
		{name: "missing path", args: []string{"validate", filepath.Join(dir, "nope")}, code: 2, stderrIn: "cannot read"},
		{name: "bad format", args: []string{"validate", "--format", "xml", dir}, code: 2, stderrIn: "unknown --format"},
		{name: "flag after the path", args: []string{"validate", dir, "--format", "xml"}, code: 2, stderrIn: "unknown --format"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errOut)
			}
			if tc.exact != "" && out != tc.exact {
				t.Errorf("stdout = %q, want %q", out, tc.exact)
			}
			rest := out
			for _, s := range tc.stdout {
				i := strings.Index(rest, s)
				if i < 0 {
					t.Errorf("stdout lacks %q (in order):\n%s", s, out)
					break
				}
				rest = rest[i+len(s):]
			}
			if tc.stderrIn != "" && !strings.Contains(errOut, tc.stderrIn) {
				t.Errorf("stderr lacks %q: %s", tc.stderrIn, errOut)
			}
		})
	}
}

func TestValidateCommandJSON(t *testing.T) {
	dir := writeFiles(t, map[string]string{"bad.yaml": badDef, "warn.yaml": warnDef})
	code, out, _ := runCLI("validate", "--format", "json", dir)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	var rep struct {
		Files, Errors, Warnings int
		Problems                []struct {
			File, Path, Severity, Code, Message string
			Line, Col                           int
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, out)
	}
	if rep.Files != 2 || rep.Errors != 3 || rep.Warnings != 1 || len(rep.Problems) != 4 {
		t.Fatalf("report = %+v", rep)
	}
	p := rep.Problems[0]
	if !strings.HasSuffix(p.File, "bad.yaml") || p.Line != 7 || p.Col != 23 || p.Path != "steps[0].with.duration" ||
		p.Severity != "error" || p.Code != "duration" {
		t.Errorf("first problem = %+v", p)
	}
	if last := rep.Problems[3]; last.Severity != "warning" || last.Code != "kql-equality" || last.Path != "steps[0].condition" {
		t.Errorf("last problem = %+v", last)
	}
	// A clean run gives an empty list, not null.
	clean := writeFiles(t, map[string]string{"ok.yaml": validDef})
	_, out, _ = runCLI("validate", "--format", "json", clean)
	if !strings.Contains(out, `"problems": []`) {
		t.Errorf("clean JSON lacks an empty problems list: %s", out)
	}
}
