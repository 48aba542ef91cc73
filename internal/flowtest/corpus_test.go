package flowtest

import "testing"

// TestCorpus runs the workflow tests of the elastic/workflows definitions
// kept in testdata/corpus (Apache-2.0, see LICENSE.txt and NOTICE.txt
// there): each shows the branches the definition takes for given mocks.
func TestCorpus(t *testing.T) {
	files, err := Discover("../../testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 10 {
		t.Errorf("%d corpus test files, want at least 10", len(files))
	}
	RunDir(t, "../../testdata/corpus")
}
