package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestTestCommand(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"definitions pass", []string{"test", "../../definitions"}, 0,
			[]string{"ok    ../../definitions/demo-alert-triage.test.yaml: critical alert opens a case and pages on-call",
				"ok    ../../definitions/case-escalation.test.yaml: a high case starts no run", "PASS: "}},
		{"wrong expectations fail", []string{"test", "../flowtest/testdata/wrong.test.yaml"}, 1,
			[]string{`step "notify" input.message: expected contains "case-9", got "Malware abc123: case case-1"`, "FAIL: 0 passed, 2 failed"}},
		{"run filter", []string{"test", "--run", "^high alert", "../../definitions"}, 0,
			[]string{"high alert posts to Slack", "1 passed, 0 failed (1 case in 2 files"}},
		{"junit", []string{"test", "--format", "junit", "../flowtest/testdata/wrong.test.yaml"}, 1,
			[]string{`<testsuites tests="2" failures="2" errors="0"`, `<testcase name="unmocked step"`}},
		{"bad format", []string{"test", "--format", "tap", "."}, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Main(context.Background(), tt.args, &out, &errOut)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, out.String(), errOut.String())
			}
			for _, c := range tt.contains {
				if !strings.Contains(out.String(), c) {
					t.Errorf("output lacks %q:\n%s", c, out.String())
				}
			}
		})
	}
}
