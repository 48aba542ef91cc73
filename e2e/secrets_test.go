package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	"google.golang.org/protobuf/proto"

	"github.com/secflow/secflow/internal/connectors"
	"github.com/secflow/secflow/internal/sandbox"
	"github.com/secflow/secflow/internal/testenv"
	"github.com/secflow/secflow/interpreter"
)

// secretEnv maps the environment variables connectors.yaml references to
// the credentials the sandbox fakes accept.
func secretEnv(sb *sandbox.Sandbox) map[string]string {
	return map[string]string{
		"SECFLOW_E2E_ES_API_KEY":     sandbox.ElasticsearchAPIKey,
		"SECFLOW_E2E_KIBANA_API_KEY": sandbox.KibanaAPIKey,
		"SECFLOW_E2E_SLACK_WEBHOOK":  sb.URL("slack") + sandbox.SlackWebhookPath,
		"SECFLOW_E2E_PD_ROUTING_KEY": sandbox.PagerDutyRoutingKey,
	}
}

// secretConnectors is a connectors.yaml as an operator writes it: every
// credential a reference to an environment variable.
func secretConnectors(t *testing.T, sb *sandbox.Sandbox) *connectors.Store {
	t.Helper()
	for k, v := range secretEnv(sb) {
		t.Setenv(k, v)
	}
	doc := fmt.Sprintf(`
connectors:
  - id: es-e2e
    name: Elasticsearch (e2e)
    type: .elasticsearch
    default: true
    config: { url: %q }
    secrets: { apiKey: "${env:SECFLOW_E2E_ES_API_KEY}" }
  - id: kibana-e2e
    name: Kibana (e2e)
    type: .kibana
    default: true
    config: { url: %q, space: default }
    secrets: { apiKey: "${env:SECFLOW_E2E_KIBANA_API_KEY}" }
  - id: slack-e2e
    name: soc-slack
    type: .slack
    secrets: { webhookUrl: "${env:SECFLOW_E2E_SLACK_WEBHOOK}" }
  - id: pagerduty-e2e
    name: pagerduty-oncall
    type: .pagerduty
    config: { apiUrl: %q }
    secrets: { routingKey: "${env:SECFLOW_E2E_PD_ROUTING_KEY}" }
`, sb.URL("elasticsearch"), sb.URL("kibana"), sb.URL("pagerduty")+"/v2/enqueue")
	store, err := connectors.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return store
}

// secretValues are the strings that must never appear: each credential,
// the secret half of the API keys, the token part of the webhook URL, and
// the base64 form of each (as a basic-auth header would carry it).
func secretValues(sb *sandbox.Sandbox) map[string]string {
	out := map[string]string{}
	for name, v := range secretEnv(sb) {
		out[name] = v
		out[name+" (base64)"] = base64.StdEncoding.EncodeToString([]byte(v))
		if dec, err := base64.StdEncoding.DecodeString(v); err == nil {
			if _, secret, ok := strings.Cut(string(dec), ":"); ok && secret != "" {
				out[name+" (decoded secret)"] = secret
			}
		}
	}
	out["webhook token"] = sandbox.SlackWebhookPath[strings.LastIndex(sandbox.SlackWebhookPath, "/")+1:]
	return out
}

// evidence is everything a run leaves where operators, logs or Temporal
// can see it, by source.
type evidence map[string][]byte

func (e evidence) addJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	e[name] = b
}

func (e evidence) addProto(t *testing.T, name string, m proto.Message) {
	t.Helper()
	e[name] = testenv.ProtoBytes(t, m)
}

// find reports in which sources s occurs.
func (e evidence) find(s string) []string {
	var where []string
	for name, b := range e {
		if bytes.Contains(b, []byte(s)) {
			where = append(where, name)
		}
	}
	return where
}

// TestSecretsNeverLeak: with connectors whose credentials come from
// environment variables, the demo runs for a high and a critical alert
// while the fakes misbehave once each — a lost Slack answer and a
// PagerDuty 503 (retried by Temporal, so the connection errors land in
// history as the attempts' last failure), an Elasticsearch 401 and an
// Agent Builder 502 (caught by the demo's on-failure; the fallback prints
// the error message). No credential appears in the full history, the run
// results, the state and steps queries, the executions' descriptions or
// any log line of worker, activities, SDK and starter.
func TestSecretsNeverLeak(t *testing.T) {
	p := start(t, config{defsDir: demoDir, connectors: secretConnectors})
	seedContext(p.sandbox)
	p.sandbox.Service("slack").(*sandbox.Slack).LoseAnswer(sandbox.SlackWebhookPath)
	p.sandbox.Service("pagerduty").(*sandbox.PagerDuty).Inject("/v2/enqueue", http.StatusServiceUnavailable, "", "", 1)
	// Failures caught by the demo's on-failure: an Elasticsearch search
	// error (continue) and an Agent Builder error whose message the
	// fallback console step prints.
	p.sandbox.Service("elasticsearch").(*sandbox.Elasticsearch).Inject("/logs-", http.StatusUnauthorized, "", "", 1)
	p.sandbox.Service("kibana").(*sandbox.Kibana).Inject("/api/agent_builder/converse", http.StatusBadGateway, "", "", 1)

	high, _ := alertEvent(t, demoAlert, "high")
	critical, _ := alertEvent(t, demoAlert, "critical")
	hr := p.startAlert(t, high)
	cr := p.startAlert(t, critical)

	ev := evidence{}
	for _, r := range []struct{ name, wf, run string }{{"high", hr.WorkflowID, hr.RunID}, {"critical", cr.WorkflowID, cr.RunID}} {
		res := p.result(t, r.wf, r.run)
		if res.Status != interpreter.StatusCompleted {
			t.Fatalf("%s run: %+v", r.name, res)
		}
		ev.addJSON(t, r.name+" result", res)
		h := p.history(t, r.wf, r.run)
		ev.addProto(t, r.name+" history", h)
		st, err := p.state(r.wf)
		if err != nil {
			t.Fatal(err)
		}
		ev.addJSON(t, r.name+" state query", st)
		ev.addJSON(t, r.name+" steps query", p.steps(t, r.wf))
		d, err := p.env.Client.DescribeWorkflowExecution(context.Background(), r.wf, r.run)
		if err != nil {
			t.Fatal(err)
		}
		ev.addProto(t, r.name+" describe", d)

		// The retried attempt's failure is in history: the scan covers
		// connection error messages, not only successful payloads.
		retried := false
		for _, e := range h.GetEvents() {
			if e.GetEventType() == enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED && e.GetActivityTaskStartedEventAttributes().GetAttempt() > 1 &&
				e.GetActivityTaskStartedEventAttributes().GetLastFailure() != nil {
				retried = true
			}
		}
		if !retried {
			t.Errorf("%s run: no retried activity with its last failure in history; the fault injection did not work", r.name)
		}
	}
	ev["logs"] = []byte(p.logs.String())

	// Positive controls: the evidence holds the runs' data (decoded
	// payloads, not only field names), and the secrets did reach the fakes.
	for _, want := range []string{"soc-slack", "pagerduty-oncall", demoHost, "Related host events: 3", "AI triage: Sandbox agent",
		"AI triage unavailable: ", "sandbox_injected_fault"} {
		if where := ev.find(want); len(where) == 0 {
			t.Errorf("control %q found nowhere: the scan does not see payloads", want)
		}
	}
	if !strings.Contains(p.logs.String(), `"component":"sdk"`) || !strings.Contains(p.logs.String(), "Triage "+demoRule) {
		t.Errorf("the captured logs lack the SDK's or the console step's lines:\n%s", p.logs.String())
	}
	if n := len(p.sandbox.ReceivedBy("slack")); n != 2 {
		t.Errorf("Slack received %d webhook posts, want 2 (lost answer, retry)", n)
	}
	if n := len(p.sandbox.ReceivedBy("pagerduty")); n != 2 {
		t.Errorf("PagerDuty received %d requests, want 2 (503, retry)", n)
	}
	if len(p.sandbox.Service("pagerduty").(*sandbox.PagerDuty).Events()) != 1 {
		t.Error("the routing key was not accepted by PagerDuty")
	}

	for name, secret := range secretValues(p.sandbox) {
		if len(secret) < 16 {
			t.Fatalf("secret %s %q is too short to scan for without false positives", name, secret)
		}
		if where := ev.find(secret); len(where) > 0 {
			t.Errorf("secret %s (%q) leaked into: %s", name, secret, strings.Join(where, ", "))
		}
	}
}
