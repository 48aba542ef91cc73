package slack

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// Field names of the `slack` step.
const fMessage = "message"

var webhookSpec = &step.Spec{
	Type:     "slack",
	Kind:     step.KindActivity,
	Category: "notify",
	Status:   step.StatusCore,
	Summary:  "Post a message through a Slack incoming-webhook (.slack) connector.",
	Doc: "Posts `with.message` as `{\"text\": message}` to the connector's webhook URL (`secrets.webhookUrl`), " +
		"as Kibana's `.slack` connector does, and returns Slack's answer `{text: \"ok\"}`. A non-`ok` answer fails " +
		"with `ConnectorExecutionError`; 5xx and 429 are retryable (429 honours `Retry-After`), other statuses are " +
		"not. An incoming webhook cannot read back what it posted, so a retry after a lost answer may post twice: " +
		"use `slack_api` or `slack2.sendMessage` where exactly-once matters.",
	With: []step.Field{
		{Name: fMessage, Type: step.String, Required: true, Doc: "Message text (Slack mrkdwn).", Example: "Alert {{ event.alerts[0].kibana.alert.rule.name }} fired"},
	},
	NeedsConnector: true,
	Output: step.Output{
		Doc:     "Slack's webhook answer.",
		Example: `{"text": "ok"}`,
	},
	Examples: []step.Example{{
		Title: "Notify a channel",
		YAML: `- name: notify
  type: slack
  connector-id: soc-slack
  with:
    message: "{{ steps.summary.output.content }}"`,
	}},
	Activity:  RunWebhook,
	Timeout:   time.Minute,
	Heartbeat: true,
	Source:    "activities/slack/slack.go",
}

func init() { step.Register(webhookSpec) }

// RunWebhook performs the `slack` step.
func RunWebhook(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	message := in.String(fMessage)
	if strings.TrimSpace(message) == "" {
		return nil, step.Errorf("InputValidationError", "slack: with.message is required")
	}
	conn, err := rt.Connector(ctx, in.ConnectorID, typeWebhook)
	if err != nil {
		return nil, err
	}
	secrets := activitykit.SecretValues(conn)
	hook := conn.Secrets["webhookUrl"]
	if hook == "" {
		return nil, step.Errorf("ConnectorConfigError", "Connector %s has no secrets.webhookUrl", conn.ID)
	}
	if !activitykit.HostAllowed(rt, hook) {
		return nil, step.Errorf("Error", "the webhook host of connector %s is not added to the allowedHosts list of connectors.yaml", conn.ID)
	}
	hc, err := activitykit.ClientFor(rt.HTTPClient(), conn)
	if err != nil {
		return nil, step.Errorf("ConnectorConfigError", "%s", activitykit.Redact(err.Error(), secrets...))
	}
	body, err := activitykit.EncodeJSON(map[string]any{"text": message})
	if err != nil {
		return nil, step.Errorf("InputValidationError", "slack: %v", err)
	}
	// The webhook URL is the credential: never follow a redirect to another
	// host (Go would send the URL along as Referer).
	res, err := activitykit.Do(ctx, activitykit.LimitResponses(hc, 1<<20), activitykit.Request{
		Method:   http.MethodPost,
		URL:      hook,
		Header:   http.Header{"Content-Type": {"application/json"}},
		Body:     body,
		MaxBytes: 1 << 20,
		Secrets:  secrets,
	})
	if err != nil {
		return nil, err
	}
	text := strings.TrimSpace(string(res.Body))
	if !res.OK() {
		msg := fmt.Sprintf("unexpected http response from slack: %d %s", res.Status, res.StatusText)
		if activitykit.Retryable(res.Status) {
			msg = fmt.Sprintf("Request failed with status code %d", res.Status)
		}
		return nil, activitykit.StatusError(res, "ConnectorExecutionError", activitykit.Redact(msg, secrets...),
			map[string]any{"status": float64(res.Status), "serviceMessage": activitykit.Redact(text, secrets...)})
	}
	if text != "ok" {
		return nil, step.Errorf("ConnectorExecutionError", "%s", activitykit.Redact(text, secrets...))
	}
	return map[string]any{"text": text}, nil
}
