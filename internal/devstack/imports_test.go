package devstack

import (
	"os/exec"
	"strings"
	"testing"
)

// TestProductionBuildHasNoServer checks the rule that production code paths
// never import the embedded server: the binary built with -tags nodev (what
// the Dockerfile builds: worker, starter, ...) must not link any package of
// go.temporal.io/server, nor this package.
func TestProductionBuildHasNoServer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-tags", "nodev", "-deps", "github.com/secflow/secflow").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	var bad []string
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "go.temporal.io/server") || strings.HasPrefix(pkg, "github.com/temporalio/ui-server") ||
			pkg == "github.com/secflow/secflow/internal/devstack" || pkg == "github.com/secflow/secflow/internal/testenv" {
			bad = append(bad, pkg)
		}
	}
	if len(bad) > 0 {
		t.Errorf("production build (-tags nodev) links %d server packages, e.g. %v", len(bad), bad[:min(5, len(bad))])
	}
	if !strings.Contains(string(out), "github.com/secflow/secflow/worker\n") {
		t.Errorf("go list output does not look like the secflow binary's dependencies:\n%.500s", out)
	}
}
