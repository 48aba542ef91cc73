package cli

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/secflow/secflow/interpreter/schema"
)

func TestParseRunInputs(t *testing.T) {
	s := &schema.Schema{Properties: map[string]map[string]any{
		"ip":    {"type": "string"},
		"depth": {"type": "number"},
	}}
	dir := t.TempDir()
	file := filepath.Join(dir, "in.json")
	if err := os.WriteFile(file, []byte(`{"depth": 1, "tags": ["a"], "ip": "from-file"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		s     *schema.Schema
		file  string
		flags []string
		want  map[string]any
		err   bool
	}{
		{"string schema keeps text", s, "", []string{"ip=10"}, map[string]any{"ip": "10"}, false},
		{"number parsed as JSON", s, "", []string{"depth=2"}, map[string]any{"depth": 2.0}, false},
		{"unknown input: JSON when it parses", s, "", []string{"x=true", "y=[1]", "z=hello"}, map[string]any{"x": true, "y": []any{1.0}, "z": "hello"}, false},
		{"value with = kept whole", nil, "", []string{"q=a=b"}, map[string]any{"q": "a=b"}, false},
		{"flags override the file", s, file, []string{"ip=1.2.3.4"}, map[string]any{"depth": 1.0, "tags": []any{"a"}, "ip": "1.2.3.4"}, false},
		{"missing =", s, "", []string{"ip"}, nil, true},
		{"missing file", s, filepath.Join(dir, "nope.json"), nil, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseRunInputs(tc.s, tc.file, tc.flags)
			if tc.err {
				if err == nil {
					t.Fatalf("want an error, got %v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLoadtestPercentileAndServerTiming(t *testing.T) {
	if d := serverTiming("start;dur=12.5"); d.Microseconds() != 12500 {
		t.Errorf("serverTiming = %v", d)
	}
	if d := serverTiming(""); d != 0 {
		t.Errorf("serverTiming(empty) = %v", d)
	}
}

// TestRunUsageErrors checks the mistakes `secflow run` answers before
// contacting Temporal: each says what to do and, where it helps, which
// definitions exist; flags are accepted after the definition id.
func TestRunUsageErrors(t *testing.T) {
	dir := t.TempDir()
	def := "version: \"1\"\nname: Hello\nenabled: true\ntriggers:\n  - type: manual\ninputs:\n  - name: ip\n    type: string\n    required: true\nsteps:\n  - name: hi\n    type: console\n    with:\n      message: hi\n"
	if err := os.WriteFile(filepath.Join(dir, "hello.yaml"), []byte(def), 0o600); err != nil {
		t.Fatal(err)
	}
	badKeys := filepath.Join(dir, "keys")
	if err := os.WriteFile(badKeys, []byte("k1:AAAA\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		args      []string
		code      int
		stderrIn  []string
		stderrOut []string
	}{
		{"missing id lists definitions", []string{"run", "--definitions", dir}, 2, []string{"missing the definition id", "definitions in " + dir + ": hello"}, nil},
		{"unknown id lists definitions", []string{"run", "nope", "--definitions", dir}, 1, []string{`no definition "nope"`, "definitions there: hello"}, nil},
		{"input without --input", []string{"run", "hello", "ip=1", "--definitions", dir}, 2, []string{`unexpected arguments ["ip=1"]`, "--input name=value"}, nil},
		{"flags after the id are read", []string{"run", "hello", "--definitions", dir}, 1, []string{"ip: Invalid input"}, nil},
		{"help exits 0", []string{"run", "-h"}, 0, []string{"Example: secflow run"}, nil},
		{"bad key ring is reported before dialling", []string{"run", "hello", "--input", "ip=1", "--definitions", dir, "--payload-keys-file", badKeys},
			1, []string{`key "k1"`}, []string{"Is Temporal running", "AAAA"}},
		{"schedules: bad key ring is reported before dialling", []string{"schedules", "--payload-keys-file", badKeys},
			1, []string{`key "k1"`}, []string{"Is Temporal running", "AAAA"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			code := Main(context.Background(), tc.args, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr.String())
			}
			for _, want := range tc.stderrIn {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
				}
			}
			for _, unwanted := range tc.stderrOut {
				if strings.Contains(stderr.String(), unwanted) {
					t.Errorf("stderr holds %q:\n%s", unwanted, stderr.String())
				}
			}
		})
	}
}
