// Package elasticsearch implements the elasticsearch.* step types (§6.5)
// over github.com/elastic/go-elasticsearch/v8: elasticsearch.request (raw),
// the named APIs of api_steps.go (search, index, update, bulk, esql.query,
// indices.create/exists/delete, ...) and, for any other elasticsearch.*
// type, the raw `with.request` form. The output is the raw response body;
// Elasticsearch errors fail the step with their type and reason.
package elasticsearch

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	es "github.com/elastic/go-elasticsearch/v8"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// ConnectorType is the type of an Elasticsearch connection connector.
const ConnectorType = ".elasticsearch"

// rawRequest is one resolved HTTP request to Elasticsearch.
type rawRequest struct {
	Method string
	// Path starts with "/" and may carry a query string.
	Path   string
	Query  url.Values
	Header map[string]string
	// Body is sent as-is; ContentType defaults to application/json.
	Body        []byte
	ContentType string
}

// client is a go-elasticsearch client bound to one connector.
type client struct {
	es      *es.Client
	origin  string
	secrets []string
}

// newClient resolves the .elasticsearch connector (connector-id, or the
// default one) and builds a client: config url (or cloudId), ca/ca_file,
// verification_mode; secrets apiKey or username+password.
func newClient(ctx context.Context, rt step.Runtime, in step.Input) (*client, error) {
	c, err := rt.Connector(ctx, in.ConnectorID, ConnectorType)
	if err != nil {
		return nil, err
	}
	secrets := activitykit.SecretValues(c)
	cfg := es.Config{
		APIKey:       c.Secrets[activitykit.SecretAPIKey],
		Username:     c.Secrets[activitykit.SecretUsername],
		Password:     c.Secrets[activitykit.SecretPassword],
		CloudID:      c.ConfigString("cloudId"),
		DisableRetry: true, // the interpreter's retry policy decides
	}
	if u := c.ConfigString("url"); u != "" {
		cfg.Addresses = []string{strings.TrimRight(u, "/")}
	}
	if len(cfg.Addresses) == 0 && cfg.CloudID == "" {
		return nil, step.Errorf("ConnectorConfigError", "Elasticsearch connector %s has no url", c.ID)
	}
	hc, err := activitykit.ClientFor(rt.HTTPClient(), c)
	if err != nil {
		return nil, step.Errorf("ConnectorConfigError", "%s", activitykit.Redact(err.Error(), secrets...))
	}
	cfg.Transport = hc.Transport
	if cfg.Transport == nil {
		cfg.Transport = http.DefaultTransport
	}
	cl, err := es.NewClient(cfg)
	if err != nil {
		return nil, step.Errorf("ConnectorConfigError", "Elasticsearch connector %s: %s", c.ID, activitykit.Redact(err.Error(), secrets...))
	}
	origin := ""
	if len(cfg.Addresses) > 0 {
		origin = activitykit.Origin(cfg.Addresses[0])
	}
	return &client{es: cl, origin: origin, secrets: secrets}, nil
}

// do sends r and returns the raw response body as a JSON-like value (HEAD:
// true for 2xx, false for 404). Non-2xx responses fail with
// {type: "ResponseError", message: "<es type>: <reason>"}, classified
// (5xx/429 retryable).
func (c *client) do(ctx context.Context, r rawRequest) (any, error) {
	path := r.Path
	if len(r.Query) > 0 {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + r.Query.Encode()
	}
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, path, body)
	if err != nil {
		return nil, step.Errorf("InvalidRequest", "invalid Elasticsearch request %s %s: %v", r.Method, r.Path, err)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	if r.Body != nil {
		ct := r.ContentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	stop := activitykit.KeepAlive(ctx, 0)
	defer stop()
	res, err := c.es.Perform(req)
	if err != nil {
		if strings.Contains(err.Error(), "not Elasticsearch") {
			return nil, step.Errorf("ProductNotSupportedError", "The server at %s is not Elasticsearch (missing X-Elastic-Product header)", c.origin)
		}
		return nil, activitykit.NetworkError(ctx, err, c.origin, c.secrets...)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, activitykit.DefaultMaxBytes+1))
	if err != nil {
		return nil, activitykit.NetworkError(ctx, err, c.origin, c.secrets...)
	}
	if int64(len(data)) > activitykit.DefaultMaxBytes {
		return nil, step.Errorf("StepSizeLimitExceeded", "Elasticsearch response exceeds %d bytes", activitykit.DefaultMaxBytes)
	}
	resp := &activitykit.Response{Status: res.StatusCode, StatusText: activitykit.StatusText(res), Header: res.Header, Body: data}
	if r.Method == http.MethodHead {
		switch {
		case resp.OK():
			return true, nil
		case resp.Status == http.StatusNotFound:
			return false, nil
		}
	}
	if !resp.OK() {
		return nil, c.responseError(resp)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return map[string]any{}, nil
	}
	return activitykit.RedactValue(resp.Data(), c.secrets...), nil
}

// responseError turns an Elasticsearch error response into a step error
// carrying the error type and reason.
func (c *client) responseError(res *activitykit.Response) *step.Error {
	typ, reason := "", ""
	data := res.Data()
	if m, ok := data.(map[string]any); ok {
		switch e := m["error"].(type) {
		case map[string]any:
			typ, _ = e["type"].(string)
			reason, _ = e["reason"].(string)
			if rc, ok := e["root_cause"].([]any); ok && len(rc) > 0 && reason == "" {
				if r0, ok := rc[0].(map[string]any); ok {
					reason, _ = r0["reason"].(string)
				}
			}
		case string:
			reason = e
		}
	}
	if typ == "" {
		typ = strings.ReplaceAll(strings.ToLower(http.StatusText(res.Status)), " ", "_")
	}
	if reason == "" {
		reason = strings.TrimSpace(string(res.Body))
	}
	msg := activitykit.Redact(fmt.Sprintf("%s: %s", typ, reason), c.secrets...)
	return activitykit.StatusError(res, "ResponseError", msg, map[string]any{
		"status": float64(res.Status), "type": typ, "reason": activitykit.Redact(reason, c.secrets...),
		"body": activitykit.RedactValue(data, c.secrets...),
	})
}
