package step

import (
	"context"
	"log/slog"
	"net/http"
)

// Input is what the interpreter passes to an activity. It is serialised into
// Temporal history, so it never holds secrets: credentials are resolved by the
// activity through Runtime.Connector.
type Input struct {
	// Type is the step's YAML type, e.g. "cases.createCase".
	Type string `json:"type"`
	// Name is the step's name.
	Name string `json:"name"`
	// Path is the step's path in the run, e.g. "enrich/foreach[3]/lookup".
	Path string `json:"path"`
	// IdempotencyKey is "<workflowID>/<stepPath>": stable across retries,
	// worker crashes and resets, so integrations can de-duplicate.
	IdempotencyKey string `json:"idempotencyKey"`
	// ConnectorID is the rendered `connector-id` (an id or a name), if any.
	ConnectorID string `json:"connectorId,omitempty"`
	// With is the rendered `with` block.
	With map[string]any `json:"with,omitempty"`
	// Config holds the rendered step-level config keys (agent-id, push-case, ...).
	Config map[string]any `json:"config,omitempty"`
	// SpaceID is the Kibana space of the run ("default" when unset).
	SpaceID string `json:"spaceId,omitempty"`
}

// String returns the `with` value called key as a string ("" when absent or not a string).
func (in Input) String(key string) string {
	s, _ := in.With[key].(string)
	return s
}

// Map returns the `with` value called key as an object (nil when absent).
func (in Input) Map(key string) map[string]any {
	m, _ := in.With[key].(map[string]any)
	return m
}

// Connector is a resolved connection to an outside system. Secrets holds
// resolved credentials and must never be returned, logged or wrapped into an
// error message.
type Connector struct {
	ID      string
	Name    string
	Type    string // Kibana connector type id, e.g. ".slack_api"
	Config  map[string]any
	Secrets map[string]string
}

// ConfigString returns Config[key] as a string.
func (c *Connector) ConfigString(key string) string {
	s, _ := c.Config[key].(string)
	return s
}

// Runtime is what the worker gives every activity.
type Runtime interface {
	// Connector resolves a connector by id or name (first match, as Kibana
	// does). When idOrName is empty the default connector of the first of
	// the given types is returned. Secrets are resolved here.
	Connector(ctx context.Context, idOrName string, types ...string) (*Connector, error)
	// HTTPClient is the shared client for outgoing calls.
	HTTPClient() *http.Client
	// Logger logs without secrets.
	Logger() *slog.Logger
}
