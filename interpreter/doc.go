// Package interpreter runs Elastic Workflows (Kibana 9.x) YAML definitions.
//
// It holds the definition model and its loader (positions kept for every
// field), validation that reports every problem as file:line:col, and the
// Temporal workflow that walks a definition deterministically: flow and pure
// steps run in workflow code, side-effecting steps run as activities
// dispatched by type name, so this package never imports an integration.
//
// Templating lives in interpreter/template, conditions in interpreter/kql,
// durations in interpreter/duration and the step contract in interpreter/step.
package interpreter
