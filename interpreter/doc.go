// Package interpreter runs Elastic Workflows (Kibana 9.x) YAML definitions.
//
// It holds the definition model and its loader (positions kept for every
// field), validation that reports every problem as file:line:col, and the
// Temporal workflow that walks a definition deterministically: flow and pure
// steps run in workflow code, side-effecting steps run as activities
// dispatched by type name, so this package never imports an integration.
//
// # Long runs
//
// Large values stay out of Temporal history (blob.go). The worker's
// activity wrapper stores an activity output whose JSON is over
// Options.BlobThreshold (128 KiB) in the blob store (internal/blobstore)
// and returns {"$blobRef": "sha256:…", "size": n}; the starter does the
// same for an alert event over its inline limit (RunInput.EventRef).
// Workflow code never does I/O: a template, condition or data step that
// mentions a root holding a reference is evaluated by the local activity
// secflow.fetchBlob, which resolves the references and returns only the
// result. Trade-off: we chose lazy resolution over fetching each value once
// per step, because a local activity's result is recorded in history (a
// marker): fetching a 1 MiB output once would record 1 MiB and hit the
// same 2 MiB payload limit, while evaluating `{{ steps.big.output.x }}`
// in the activity records only x. The price is one local activity (one
// marker event, no round trip to the server) per rendering that touches a
// large value, and the mention test is textual and conservative (a
// dynamic `steps[...]` resolves every reference). A rendering that needs a
// whole large value (`{{ steps.big.output | json }}`, a foreach over its
// items) still records it once. max-step-size is checked on the real size.
// References nested inside other values (a parallel step's results, the
// array of iteration outputs a child run gives its parent) are resolved
// the same way; step inputs (rendered `with`) are not offloaded.
//
// Runs continue as new (continue.go) when Temporal suggests it or
// Options.ContinueAsNewAfterEvents is reached, at top-level step
// boundaries and between iterations of a foreach, while or step-level
// foreach: that is top-level or nested only in if/switch/foreach/while
// steps, without timeout or on-failure spanning the boundary, carrying
// the cursor (ResumeFrame: step index, if branch, switch case, iteration),
// variables, step results, output, step records and the first run's start
// in RunInput.Resume. Other long steps (loops in a parallel branch, a
// fallback or a timeout) run to their end in one run; split them with
// workflow.execute.
//
// Templating lives in interpreter/template, conditions in interpreter/kql,
// durations in interpreter/duration and the step contract in interpreter/step.
package interpreter
