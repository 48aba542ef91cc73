package activitykit

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/secflow/secflow/interpreter/step"
)

// KibanaType is the connector type of a Kibana connection.
const KibanaType = ".kibana"

// Kibana connector config and secret keys.
const (
	KibanaConfigURL   = "url"
	KibanaConfigSpace = "space"
	SecretAPIKey      = "apiKey"
	SecretUsername    = "username"
	SecretPassword    = "password"
)

// Kibana is a minimal client for Kibana's HTTP APIs over a .kibana
// connector. It sets the headers Kibana requires (kbn-xsrf,
// x-elastic-internal-origin) and the credentials, which callers cannot
// override.
type Kibana struct {
	base    string
	auth    string
	space   string
	hc      *http.Client
	secrets []string
}

// KibanaFor resolves the .kibana connector idOrName ("" = the default one)
// through rt and returns a client for it.
func KibanaFor(ctx context.Context, rt step.Runtime, idOrName string) (*Kibana, error) {
	c, err := rt.Connector(ctx, idOrName, KibanaType)
	if err != nil {
		return nil, err
	}
	return NewKibana(c, rt.HTTPClient())
}

// NewKibana builds a client from a resolved .kibana connector: config url,
// space, ca/ca_file/verification_mode; secrets apiKey or username+password.
func NewKibana(c *step.Connector, hc *http.Client) (*Kibana, error) {
	base := strings.TrimRight(c.ConfigString(KibanaConfigURL), "/")
	if base == "" {
		return nil, step.Errorf("ConnectorConfigError", "Kibana connector %s has no url", c.ID)
	}
	client, err := ClientFor(hc, c)
	if err != nil {
		return nil, step.Errorf("ConnectorConfigError", "%s", Redact(err.Error(), SecretValues(c)...))
	}
	return &Kibana{base: base, auth: AuthHeader(c), space: c.ConfigString(KibanaConfigSpace),
		hc: client, secrets: SecretValues(c)}, nil
}

// AuthHeader returns the Authorization value for a connector with apiKey
// ("ApiKey <key>") or username/password (Basic) secrets, or "".
func AuthHeader(c *step.Connector) string {
	if k := c.Secrets[SecretAPIKey]; k != "" {
		return "ApiKey " + k
	}
	if u := c.Secrets[SecretUsername]; u != "" {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+c.Secrets[SecretPassword]))
	}
	return ""
}

// Secrets returns the connector's secret values (for Redact).
func (k *Kibana) Secrets() []string { return k.secrets }

// BaseURL is the Kibana URL without a trailing slash.
func (k *Kibana) BaseURL() string { return k.base }

// Space returns the space a call should run in: the run's space unless it
// is empty or "default", else the connector's configured space.
func (k *Kibana) Space(runSpace string) string {
	if runSpace != "" && runSpace != "default" {
		return runSpace
	}
	return k.space
}

// KibanaRequest is one call to a Kibana API.
type KibanaRequest struct {
	Method string
	// Path is the API path ("/api/cases"); it may already carry a query.
	Path  string
	Query url.Values
	// Header adds headers; auth, kbn-xsrf and x-elastic-internal-origin win.
	Header map[string]string
	// Body is JSON-encoded unless it is a string or []byte (sent as-is).
	Body any
	// Space prefixes the path with /s/<space> unless "" or "default".
	Space    string
	MaxBytes int64
}

// SpacePath returns path with the /s/<space> prefix for non-default spaces.
func SpacePath(space, path string) string {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	if space == "" || space == "default" || strings.HasPrefix(path, "/s/") {
		return path
	}
	return "/s/" + url.PathEscape(space) + path
}

// Do sends r and returns the response whatever its status.
func (k *Kibana) Do(ctx context.Context, r KibanaRequest) (*Response, error) {
	u := k.base + SpacePath(r.Space, r.Path)
	if len(r.Query) > 0 {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + r.Query.Encode()
	}
	h := http.Header{}
	for name, v := range r.Header {
		h.Set(name, v)
	}
	var body []byte
	switch b := r.Body.(type) {
	case nil:
	case []byte:
		body = b
	case string:
		body = []byte(b)
	default:
		enc, err := EncodeJSON(b)
		if err != nil {
			return nil, step.Errorf("InvalidRequest", "encoding request body: %v", err)
		}
		body = enc
	}
	if body != nil && h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	h.Set("kbn-xsrf", "true")
	h.Set("x-elastic-internal-origin", "Kibana")
	if k.auth != "" {
		h.Set("Authorization", k.auth)
	}
	return Do(ctx, k.hc, Request{Method: r.Method, URL: u, Header: h, Body: body, MaxBytes: r.MaxBytes, Secrets: k.secrets})
}

// JSON sends r and returns the parsed body (JSON ⇒ object, text ⇒ string,
// 204/304 or empty ⇒ {}). A non-2xx response fails with
// "HTTP <status>: <body>", classified by StatusError. Secret values are
// scrubbed from the result.
func (k *Kibana) JSON(ctx context.Context, r KibanaRequest) (any, error) {
	res, err := k.Do(ctx, r)
	if err != nil {
		return nil, err
	}
	if !res.OK() {
		return nil, k.Error(res)
	}
	if res.Status == http.StatusNoContent || res.Status == http.StatusNotModified || len(strings.TrimSpace(string(res.Body))) == 0 {
		return map[string]any{}, nil
	}
	return RedactValue(res.Data(), k.secrets...), nil
}

// Error is the failure for a non-2xx Kibana response:
// {type: "Error", message: "HTTP <status>: <body>", details: {status, body}}.
func (k *Kibana) Error(res *Response) *step.Error {
	body := Redact(strings.TrimSpace(string(res.Body)), k.secrets...)
	if len(body) > 2000 {
		body = body[:2000] + "…"
	}
	return StatusError(res, "Error", fmt.Sprintf("HTTP %d: %s", res.Status, body),
		map[string]any{"status": float64(res.Status), "body": RedactValue(res.Data(), k.secrets...)})
}

// ConfigKibanaConnectorID is the connector config key naming the Kibana
// connector id when it differs from the id in connectors.yaml.
const ConfigKibanaConnectorID = "kibanaConnectorId"

// ExecuteConnector runs the Kibana connector c stands for (its
// ConfigKibanaConnectorID, else its id) with params through
// POST /api/actions/connector/{id}/_execute in space, and returns the
// Actions result: {status, data?, message?, service_message?, retry?}
// (nil when the answer is not an object). Judging status is the caller's.
func (k *Kibana) ExecuteConnector(ctx context.Context, c *step.Connector, space string, params map[string]any) (map[string]any, error) {
	kid := c.ConfigString(ConfigKibanaConnectorID)
	if kid == "" {
		kid = c.ID
	}
	out, err := k.JSON(ctx, KibanaRequest{Method: http.MethodPost,
		Path: "/api/actions/connector/" + url.PathEscape(kid) + "/_execute", Body: map[string]any{"params": params},
		Space: space})
	if err != nil {
		return nil, err
	}
	res, _ := out.(map[string]any)
	return res, nil
}

// ServiceMessage is serviceMessage ?? message ?? "Unknown error" of an
// Actions result (the public API spells the first service_message).
func ServiceMessage(res map[string]any) string {
	for _, k := range []string{"service_message", "serviceMessage", "message"} {
		if s, ok := res[k].(string); ok && s != "" {
			return s
		}
	}
	return "Unknown error"
}

// ConnectorLister is implemented by runtimes that can list connectors, for
// error messages such as "Available AI connectors: …".
// connectors.NewRuntime implements it.
type ConnectorLister interface {
	// ConnectorNames returns the names (ids when unnamed) of the
	// connectors of the given types, in file order.
	ConnectorNames(types ...string) []string
}

// ConnectorNames lists connectors of types when rt supports it (else nil).
func ConnectorNames(rt any, types ...string) []string {
	if l, ok := rt.(ConnectorLister); ok {
		return l.ConnectorNames(types...)
	}
	return nil
}
