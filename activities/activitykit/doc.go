// Package activitykit holds the helpers every integration package in
// activities/ shares, so that all step types behave alike:
//
//   - [Do] sends one HTTP request with the step's context, heartbeats while
//     it waits, caps the response size and turns network failures into
//     classified *step.Error values (ConnectionRefused, cancelled, ...);
//   - [StatusError] classifies a non-2xx response: 5xx and 429 are
//     retryable, 429/503 with Retry-After set step.Error.RetryAfter, every
//     other 4xx is permanent;
//   - [Heartbeat] and [KeepAlive] report liveness so that Temporal can
//     deliver cancellation to long calls;
//   - [DecodeJSON] and [JSONLike] produce the JSON-like values (nil, bool,
//     string, float64, []any, map[string]any) the interpreter expects;
//   - [Redact] scrubs secret values from any text before it leaves an
//     activity;
//   - [Kibana] is the small Kibana HTTP client shared by the kibana, cases,
//     ai and generic connector packages.
package activitykit
