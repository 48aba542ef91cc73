package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestWorkerDeploymentFlags: --deployment-name and --build-id (or their
// environment variables) come together; one alone or an invalid name stops
// the worker before it loads definitions or dials Temporal.
func TestWorkerDeploymentFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"name flag only", []string{"--deployment-name", "secflow"}, nil, "both a deployment name and a build ID"},
		{"build id env only", nil, map[string]string{"SECFLOW_BUILD_ID": "1.4.0"}, "both a deployment name and a build ID"},
		{"dot in name", []string{"--build-id", "1"}, map[string]string{"SECFLOW_DEPLOYMENT_NAME": "sec.flow"}, "must not contain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SECFLOW_DEPLOYMENT_NAME", "")
			t.Setenv("SECFLOW_BUILD_ID", "")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var stderr bytes.Buffer
			// A definitions directory that does not exist: reaching the loader would fail differently.
			args := append([]string{"--definitions", t.TempDir() + "/missing"}, tc.args...)
			code := runWorker(context.Background(), args, &bytes.Buffer{}, &stderr)
			if code != 1 || !strings.Contains(stderr.String(), "--deployment-name/--build-id") || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr:\n%s", code, stderr.String())
			}
		})
	}
}
