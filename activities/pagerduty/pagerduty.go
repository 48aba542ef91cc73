// Package pagerduty implements the `pagerduty` step type: an event of
// Kibana's .pagerduty connector (trigger, acknowledge, resolve) sent to the
// PagerDuty Events API v2 with github.com/PagerDuty/go-pagerduty.
//
// The event's dedup_key defaults to the step's idempotency key, so a retry
// after a lost answer lands on the alert the first attempt opened:
// PagerDuty merges a trigger into the open alert with the same dedup_key.
package pagerduty

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	pd "github.com/PagerDuty/go-pagerduty"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// DefaultAPIURL is the Events API v2 URL used when the connector's config
// has no apiUrl (Kibana's default).
const DefaultAPIURL = "https://events.pagerduty.com/v2/enqueue"

// Field names under `with` (Kibana's .pagerduty params).
const (
	fEventAction   = "eventAction"
	fDedupKey      = "dedupKey"
	fSummary       = "summary"
	fSource        = "source"
	fSeverity      = "severity"
	fTimestamp     = "timestamp"
	fComponent     = "component"
	fGroup         = "group"
	fClass         = "class"
	fCustomDetails = "customDetails"
	fLinks         = "links"
)

// maxDedupKey is the Events API's limit on dedup_key.
const maxDedupKey = 255

var spec = &step.Spec{
	Type:     "pagerduty",
	Kind:     step.KindActivity,
	Category: "notify",
	Status:   step.StatusCore,
	Summary:  "Trigger, acknowledge or resolve a PagerDuty alert through a .pagerduty connector (Events API v2).",
	Doc: "Sends one Events API v2 event with the connector's integration key (`secrets.routingKey`) to " +
		"`config.apiUrl` (default https://events.pagerduty.com/v2/enqueue), like Kibana's `.pagerduty` connector, and " +
		"returns PagerDuty's answer `{status, message, dedup_key}`.\n\n" +
		"`dedupKey` defaults to the step's idempotency key (`<workflowID>/<stepPath>`, hashed when longer than 255 " +
		"characters), so a retried step never opens a second alert; give `dedupKey` explicitly to acknowledge or " +
		"resolve an alert another step triggered (it is required for those actions). 429 and 5xx answers are " +
		"retryable (429 honours `Retry-After`); other statuses fail with `ConnectorExecutionError` and PagerDuty's " +
		"error list in `details.errors`.",
	With: []step.Field{
		{Name: fEventAction, Type: step.String, Default: "trigger", Enum: []string{"trigger", "acknowledge", "resolve"}, Doc: "The event action."},
		{Name: fDedupKey, Type: step.String, Doc: "Alert de-duplication key (default: the step's idempotency key). Required for acknowledge and resolve.", Example: "{{ event.alerts[0].kibana.alert.uuid }}"},
		{Name: fSummary, Type: step.String, Default: "No summary provided.", Doc: "trigger: alert summary (at most 1024 characters)."},
		{Name: fSource, Type: step.String, Doc: "trigger: the affected system (default \"secflow connector <connector id>\")."},
		{Name: fSeverity, Type: step.String, Default: "info", Enum: []string{"critical", "error", "warning", "info"}, Doc: "trigger: alert severity."},
		{Name: fTimestamp, Type: step.String, Doc: "trigger: when the problem was detected (ISO 8601, or epoch milliseconds)."},
		{Name: fComponent, Type: step.String, Doc: "trigger: the component responsible."},
		{Name: fGroup, Type: step.String, Doc: "trigger: logical grouping of components."},
		{Name: fClass, Type: step.String, Doc: "trigger: the class/type of the event."},
		{Name: fCustomDetails, Type: step.Object, Doc: "trigger: free-form details shown on the alert."},
		{Name: fLinks, Type: step.List, Doc: "trigger: links [{href, text}] shown on the alert."},
	},
	NeedsConnector: true,
	Output: step.Output{
		Doc:     "PagerDuty's answer.",
		Example: `{"status": "success", "message": "Event processed", "dedup_key": "wf-1/page"}`,
	},
	Examples: []step.Example{{
		Title: "Page the on-call for a critical alert",
		YAML: `- name: page
  type: pagerduty
  connector-id: soc-pagerduty
  with:
    eventAction: trigger
    severity: critical
    summary: "{{ event.alerts[0].kibana.alert.rule.name }} on {{ event.alerts[0].host.name }}"
    source: "{{ event.alerts[0].host.name }}"
    customDetails:
      case: "{{ steps.open_case.output.case.id }}"`,
	}},
	Activity:  Run,
	Timeout:   time.Minute,
	Heartbeat: true,
	Source:    "activities/pagerduty/pagerduty.go",
}

func init() { step.Register(spec) }

// Run performs the `pagerduty` step.
func Run(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	conn, err := rt.Connector(ctx, in.ConnectorID, ".pagerduty")
	if err != nil {
		return nil, err
	}
	secrets := activitykit.SecretValues(conn)
	routingKey := conn.Secrets["routingKey"]
	if routingKey == "" {
		return nil, step.Errorf("ConnectorConfigError", "Connector %s has no secrets.routingKey", conn.ID)
	}
	ev, err := Event(conn.ID, in)
	if err != nil {
		return nil, err
	}
	ev.RoutingKey = routingKey

	apiURL := conn.ConfigString("apiUrl")
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	if !activitykit.HostAllowed(rt, apiURL) {
		return nil, step.Errorf("Error", "the apiUrl host of connector %s is not added to the allowedHosts list of connectors.yaml", conn.ID)
	}
	hc, err := activitykit.ClientFor(rt.HTTPClient(), conn)
	if err != nil {
		return nil, step.Errorf("ConnectorConfigError", "%s", activitykit.Redact(err.Error(), secrets...))
	}
	rec := &recorder{hc: activitykit.LimitResponses(hc, 0)}
	client := pd.NewClient("", pd.WithV2EventsAPIEndpoint(strings.TrimSuffix(strings.TrimRight(apiURL, "/"), "/v2/enqueue")))
	client.HTTPClient = rec

	stop := activitykit.KeepAlive(ctx, 0)
	defer stop()
	res, err := client.ManageEventWithContext(ctx, ev)
	if err != nil {
		return nil, classify(ctx, rec, err, activitykit.Origin(apiURL), secrets)
	}
	return map[string]any{"status": res.Status, "message": res.Message, "dedup_key": res.DedupKey}, nil
}

// Event builds the Events API v2 event of a step (without the routing
// key), as Kibana's getBodyForEventAction does.
func Event(connectorID string, in step.Input) (*pd.V2Event, error) {
	action := in.String(fEventAction)
	if action == "" {
		action = "trigger"
	}
	if action != "trigger" && action != "acknowledge" && action != "resolve" {
		return nil, step.Errorf("InputValidationError", "pagerduty: eventAction must be trigger, acknowledge or resolve, not %q", action)
	}
	ev := &pd.V2Event{Action: action, DedupKey: in.String(fDedupKey)}
	if len(ev.DedupKey) > maxDedupKey {
		return nil, step.Errorf("InputValidationError", "pagerduty: dedupKey must be at most %d characters", maxDedupKey)
	}
	if action != "trigger" {
		if ev.DedupKey == "" {
			return nil, step.Errorf("InputValidationError", "pagerduty: DedupKey is required when eventAction is %q", action)
		}
		return ev, nil
	}
	if ev.DedupKey == "" {
		ev.DedupKey = DedupKey(in.IdempotencyKey)
	}
	p := &pd.V2Payload{
		Summary:   in.String(fSummary),
		Source:    in.String(fSource),
		Severity:  in.String(fSeverity),
		Component: in.String(fComponent),
		Group:     in.String(fGroup),
		Class:     in.String(fClass),
	}
	if p.Summary == "" {
		p.Summary = "No summary provided."
	}
	if p.Source == "" {
		p.Source = "secflow connector " + connectorID
	}
	if p.Severity == "" {
		p.Severity = "info"
	}
	switch p.Severity {
	case "critical", "error", "warning", "info":
	default:
		return nil, step.Errorf("InputValidationError", "pagerduty: severity must be critical, error, warning or info, not %q", p.Severity)
	}
	if ts, ok := in.With[fTimestamp]; ok && ts != nil && ts != "" {
		t, err := timestamp(ts)
		if err != nil {
			return nil, step.Errorf("InputValidationError", "pagerduty: error parsing timestamp %q", activitykit.Stringify(ts))
		}
		p.Timestamp = t.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	if d := in.Map(fCustomDetails); d != nil {
		p.Details = d
	}
	ev.Payload = p
	if links, ok := in.With[fLinks].([]any); ok && len(links) > 0 {
		ev.Links = links
	}
	return ev, nil
}

// DedupKey is the dedup_key derived from an idempotency key: the key
// itself, or "secflow-<sha256>" when it is longer than PagerDuty allows.
func DedupKey(idempotencyKey string) string {
	if len(idempotencyKey) <= maxDedupKey {
		return idempotencyKey
	}
	sum := sha256.Sum256([]byte(idempotencyKey))
	return "secflow-" + hex.EncodeToString(sum[:])
}

// timestamp parses an ISO 8601 string or epoch milliseconds.
func timestamp(v any) (time.Time, error) {
	if ms, ok := activitykit.Float(v); ok {
		if _, isStr := v.(string); !isStr {
			return time.UnixMilli(int64(ms)), nil
		}
	}
	s := strings.TrimSpace(activitykit.Stringify(v))
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z07:00", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if ms, ok := activitykit.Float(s); ok {
		return time.UnixMilli(int64(ms)), nil
	}
	return time.Time{}, fmt.Errorf("unparseable timestamp")
}

// recorder is the go-pagerduty HTTP client: it keeps the transport error
// and the status, headers and body of a non-2xx answer, which go-pagerduty's
// error drops (the error chain, Retry-After, the Events API's error list).
type recorder struct {
	hc     *http.Client
	err    error // the transport error, which go-pagerduty flattens to text
	status int
	header http.Header
	body   []byte
}

// Do implements pagerduty.HTTPClient.
func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	res, err := r.hc.Do(req)
	if err != nil {
		r.err = err
		return nil, err
	}
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return res, err
	}
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	_ = res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(b))
	r.status, r.header, r.body = res.StatusCode, res.Header, b
	return res, nil
}

// classify turns a failed ManageEventWithContext into a *step.Error with
// Kibana's messages.
func classify(ctx context.Context, rec *recorder, err error, origin string, secrets []string) error {
	if rec.status == 0 {
		if rec.err != nil {
			err = rec.err
		}
		return activitykit.NetworkError(ctx, err, origin, secrets...)
	}
	msg := fmt.Sprintf("error posting pagerduty event: unexpected status %d", rec.status)
	if activitykit.Retryable(rec.status) {
		msg = fmt.Sprintf("error posting pagerduty event: http status %d, retry later", rec.status)
	}
	details := map[string]any{"status": float64(rec.status)}
	if v, derr := activitykit.DecodeJSON(rec.body); derr == nil {
		if m, ok := v.(map[string]any); ok {
			if x, ok := m["errors"]; ok {
				details["errors"] = x
			}
			if x, ok := m["message"]; ok {
				details["serviceMessage"] = x
			}
		}
	}
	e := &step.Error{Type: "ConnectorExecutionError", Message: msg, Details: details}
	return activitykit.RedactError(activitykit.Classify(e, rec.status, rec.header), secrets...)
}
