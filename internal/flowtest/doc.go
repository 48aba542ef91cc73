// Package flowtest runs workflow tests: *.test.yaml files that pair a
// definition with cases (an event or inputs, mocks for every side-effecting
// step, expectations on the run). Each case runs the real interpreter
// workflow under Temporal's test environment (time skipping, no server);
// every activity step type is answered from the case's mocks by step name,
// so a test is fast, offline and deterministic.
//
// `secflow test` (internal/cli/test.go) and go tests (RunFile, RunDir) use
// the same Runner. The file format is documented in docs/testing.md.
package flowtest
