// Package jira implements the `jira` and `jira.<subAction>` step types: the
// sub-actions of Kibana's .jira connector (pushToService, getIncident,
// issue, issues, issueTypes, fieldsByIssueType, getFields, handshake) plus
// two secflow extensions (addComment, transition), over the Jira REST API
// v2 with github.com/andygrunwald/go-jira (basic auth: email + API token).
//
// Writes are idempotent per step. An issue created by pushToService carries
// a label derived from the step's idempotency key, and a retry searches
// JQL `labels = "<label>"` before creating; comments carry the key (plus
// the comment's position) in an entity property and are looked up before
// being added again; a transition whose target status the issue already
// has is not repeated.
package jira

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	gojira "github.com/andygrunwald/go-jira"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// LabelPrefix starts the label that marks issues created by a step.
const LabelPrefix = "secflow-"

// CommentProperty is the entity property key that marks comments added by a step.
const CommentProperty = "secflow.idempotency"

// Label is the Jira label derived from an idempotency key (labels may not
// contain spaces, so the key is hashed).
func Label(idempotencyKey string) string {
	sum := sha256.Sum256([]byte(idempotencyKey))
	return LabelPrefix + hex.EncodeToString(sum[:12])
}

// client is a go-jira client bound to one resolved .jira connector.
type client struct {
	api        *gojira.Client
	baseURL    string // without trailing slash
	projectKey string
	secrets    []string
	origin     string
}

func newClient(ctx context.Context, rt step.Runtime, in step.Input) (*client, error) {
	conn, err := rt.Connector(ctx, in.ConnectorID, ".jira")
	if err != nil {
		return nil, err
	}
	secrets := activitykit.SecretValues(conn)
	base := strings.TrimRight(conn.ConfigString("apiUrl"), "/")
	project := conn.ConfigString("projectKey")
	email, token := conn.Secrets["email"], conn.Secrets["apiToken"]
	if base == "" || project == "" || email == "" || token == "" {
		return nil, step.Errorf("ConnectorConfigError", "[Action][Jira]: Wrong configuration of connector %s (config.apiUrl, config.projectKey, secrets.email and secrets.apiToken are required).", conn.ID)
	}
	if !activitykit.HostAllowed(rt, base) {
		return nil, step.Errorf("Error", "the apiUrl host of connector %s is not added to the allowedHosts list of connectors.yaml", conn.ID)
	}
	hc, err := activitykit.ClientFor(rt.HTTPClient(), conn)
	if err != nil {
		return nil, step.Errorf("ConnectorConfigError", "%s", activitykit.Redact(err.Error(), secrets...))
	}
	hc = activitykit.LimitResponses(hc, 0)
	tp := &gojira.BasicAuthTransport{Username: email, Password: token, Transport: hc.Transport}
	api, err := gojira.NewClient(&http.Client{Transport: tp, CheckRedirect: hc.CheckRedirect, Jar: hc.Jar, Timeout: hc.Timeout}, base)
	if err != nil {
		return nil, step.Errorf("ConnectorConfigError", "connector %s: invalid apiUrl", conn.ID)
	}
	return &client{api: api, baseURL: base, projectKey: project, secrets: secrets, origin: activitykit.Origin(base)}, nil
}

// apiError is Jira's error document.
type apiError struct {
	ErrorMessages []string          `json:"errorMessages"`
	Errors        map[string]string `json:"errors"`
}

// reason renders Jira's error document as Kibana's createErrorMessage does.
func (e apiError) reason() string {
	if len(e.ErrorMessages) > 0 {
		return strings.Join(e.ErrorMessages, ", ")
	}
	keys := make([]string, 0, len(e.Errors))
	for k := range e.Errors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, e.Errors[k])
	}
	if len(parts) == 0 {
		return "unknown: errorResponse.errors was null"
	}
	return strings.Join(parts, " ")
}

// httpError is a non-2xx answer.
type httpError struct {
	status int
	header http.Header
	api    apiError
}

func (e *httpError) Error() string { return fmt.Sprintf("status %d", e.status) }

// do sends one request (body is JSON-encoded when non-nil) and decodes a
// 2xx answer into out. It returns *httpError for non-2xx answers and the
// transport error otherwise.
func (c *client) do(ctx context.Context, method, path string, body, out any) error {
	activitykit.Heartbeat(ctx)
	req, err := c.api.NewRequestWithContext(ctx, method, path, body)
	if err != nil {
		return err
	}
	res, err := c.api.Do(req, out)
	if res != nil && (res.StatusCode < 200 || res.StatusCode > 299) {
		he := &httpError{status: res.StatusCode, header: res.Header}
		b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
		_ = res.Body.Close()
		_ = json.Unmarshal(b, &he.api)
		return he
	}
	if err != nil && res == nil {
		return transportError{err}
	}
	if out == nil && res != nil {
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
	}
	if err != nil {
		return fmt.Errorf("decoding Jira answer: %w", err)
	}
	return nil
}

// transportError marks a failure before any answer arrived.
type transportError struct{ err error }

func (e transportError) Error() string { return e.err.Error() }
func (e transportError) Unwrap() error { return e.err }

// fail turns an error of do into a classified *step.Error with Kibana's
// message: "[Action][Jira]: <what>. Error: <cause>. Reason: <Jira's reason>".
func (c *client) fail(ctx context.Context, what string, err error) error {
	var he *httpError
	var te transportError
	var se *step.Error
	switch {
	case errors.As(err, &se):
		return se
	case errors.As(err, &he):
		e := &step.Error{Type: "ConnectorExecutionError",
			Message: fmt.Sprintf("[Action][Jira]: %s. Error: Request failed with status code %d. Reason: %s", what, he.status, he.api.reason()),
			Details: map[string]any{"status": float64(he.status)}}
		return activitykit.RedactError(activitykit.Classify(e, he.status, he.header), c.secrets...)
	case errors.As(err, &te):
		ne := activitykit.NetworkError(ctx, te.err, c.origin, c.secrets...)
		ne.Message = fmt.Sprintf("[Action][Jira]: %s. Error: %s", what, ne.Message)
		return ne
	}
	return activitykit.RedactError(&step.Error{Type: "ConnectorExecutionError",
		Message: fmt.Sprintf("[Action][Jira]: %s. Error: %s", what, err.Error())}, c.secrets...)
}

// statusOf reports the HTTP status of an error of do (0 when none).
func statusOf(err error) int {
	var he *httpError
	if errors.As(err, &he) {
		return he.status
	}
	return 0
}

// issueDoc is the part of an issue the sub-actions read.
type issueDoc struct {
	ID     string         `json:"id"`
	Key    string         `json:"key"`
	Fields map[string]any `json:"fields"`
}

// searchDoc is the answer of both search endpoints.
type searchDoc struct {
	Issues []issueDoc `json:"issues"`
}

// search runs a JQL query on /rest/api/2/search/jql (Jira Cloud), falling
// back to /rest/api/2/search (Jira Data Center) when the former is absent.
func (c *client) search(ctx context.Context, jql string, fields []string, max int) ([]issueDoc, error) {
	q := activitykit.Query(map[string]any{"jql": jql, "fields": strings.Join(fields, ","), "maxResults": float64(max)}).Encode()
	var doc searchDoc
	err := c.do(ctx, http.MethodGet, "rest/api/2/search/jql?"+q, nil, &doc)
	if statusOf(err) == http.StatusNotFound {
		doc = searchDoc{}
		err = c.do(ctx, http.MethodGet, "rest/api/2/search?"+q, nil, &doc)
	}
	return doc.Issues, err
}

// jiraTime converts a Jira timestamp ("2024-05-01T10:00:00.000+0000") to
// ISO 8601 UTC, as Kibana's new Date(x).toISOString() does.
func jiraTime(v any) string {
	s, _ := v.(string)
	for _, layout := range []string{"2006-01-02T15:04:05.000-0700", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Format("2006-01-02T15:04:05.000Z")
		}
	}
	return s
}

// escapeJQL escapes a value for a double-quoted JQL string.
func escapeJQL(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}
