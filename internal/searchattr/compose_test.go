package searchattr

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestComposeRegistersTheSameAttributes keeps the list docker-compose.yml
// registers (its temporal-init service) in line with All.
func TestComposeRegistersTheSameAttributes(t *testing.T) {
	b, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*SECFLOW_SEARCH_ATTRIBUTES:\s*(.+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("docker-compose.yml has no SECFLOW_SEARCH_ATTRIBUTES")
	}
	got := strings.Fields(string(m[1]))
	want := make([]string, 0, len(All))
	for _, k := range All {
		want = append(want, k.GetName())
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("docker-compose.yml registers %v, searchattr.All is %v", got, want)
	}
}
