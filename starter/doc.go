// Package starter is the HTTP intake of secflow: it turns alerts posted by
// Kibana rule actions, Elastic Security detection rules or any tooling, and
// events of custom triggers, into exactly one durable Temporal run per
// matching definition, starts manual runs with validated inputs, keeps the
// Temporal Schedules of `scheduled` triggers in line with the definitions,
// and answers run lookups from Temporal visibility.
//
// The pieces, one file each:
//
//   - event.go: normalisation of every accepted body format to the alert
//     event of the semantics spec §8.1;
//   - route.go: which definitions an event starts (alert triggers, their
//     rule filters and `on.condition` KQL, summary or per-alert mode);
//   - events.go: custom / event-driven triggers (`type: cases.caseCreated`,
//     semantics §1.3.4) delivered on POST /api/v1/events/{type}: the event
//     context, routing by type, `on.condition` and `on.workflowEvents`;
//   - launch.go: the Temporal start itself (workflow IDs, search attributes,
//     started/duplicate detection), shared with `secflow run`;
//   - schedules.go: `scheduled` triggers → Temporal Schedules;
//   - server.go and handlers_*.go: the HTTP API, authentication, limits,
//     rate limiting, health and Prometheus metrics.
//
// Operators' documentation is docs/starter.md.
package starter
