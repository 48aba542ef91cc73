// Package e2e holds the cross-package end-to-end tests of secflow: they run
// the real product — the starter's HTTP API, the worker with the
// interpreter workflow and every integration activity, the connectors — on
// the real embedded Temporal server (internal/testenv) against the sandbox
// fakes (internal/sandbox), and assert what reached the outside systems,
// what Temporal recorded and what an operator sees.
//
// The package has no non-test code; run it with `go test ./e2e -v`.
package e2e
