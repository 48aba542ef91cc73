// Package connector implements the generic connector step (§6.9): any step
// type of the form `<type>` or `<type>.<subAction>` that no integration
// package registers (virustotal.getIpReport, abuseipdb.*, github.*, ...)
// runs the named Kibana connector through
// POST /api/actions/connector/{id}/_execute.
package connector

import (
	"context"
	"strings"
	"time"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// ConfigKibanaConnectorID is the connector config key naming the Kibana
// connector id when it differs from the id in connectors.yaml.
const ConfigKibanaConnectorID = activitykit.ConfigKibanaConnectorID

var spec = &step.Spec{
	Type:     "*",
	Kind:     step.KindActivity,
	Category: "connector",
	Status:   step.StatusCore,
	Summary:  "Run a Kibana connector (`<type>` or `<type>.<subAction>`) through the Actions _execute API.",
	Doc: "Any step type not otherwise known runs the connector named by `connector-id` (its id or name in " +
		"connectors.yaml; the first match wins). With a sub-action (`virustotal.getIpReport`) the connector " +
		"receives `{subAction, subActionParams: <with>}`, otherwise `with` is the params. The call is " +
		"`POST /api/actions/connector/{id}/_execute` on the default `.kibana` connector, in the run's space " +
		"(the Kibana connector id is `config.kibanaConnectorId` when set, else the connector's id). A result " +
		"with `status: ok` completes the step with its `data`; any other status fails with " +
		"`ConnectorExecutionError` and the connector's service message.",
	OpenWith:       true,
	NeedsConnector: true,
	Output:         step.Output{Doc: "The connector's `data`.", Example: `{"data": {"attributes": {"reputation": 0, "country": "US"}}}`},
	Examples: []step.Example{{Title: "VirusTotal IP report", YAML: `- name: vt
  type: virustotal.getIpReport
  connector-id: virustotal
  with:
    ip: "{{ event.alerts[0].destination.ip }}"`}},
	Activity:  Run,
	Timeout:   5 * time.Minute,
	Heartbeat: true,
	Source:    "activities/connector/connector.go",
}

func init() { step.Register(spec) }

// Run executes a connector step.
func Run(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	if in.ConnectorID == "" {
		return nil, step.Errorf("Error", "Connector ID is required")
	}
	c, err := rt.Connector(ctx, in.ConnectorID)
	if err != nil {
		return nil, err
	}
	with := in.With
	if with == nil {
		with = map[string]any{}
	}
	var params map[string]any
	if _, sub, ok := strings.Cut(in.Type, "."); ok && sub != "" {
		params = map[string]any{"subAction": sub, "subActionParams": with}
	} else {
		params = with
	}
	kb, err := activitykit.KibanaFor(ctx, rt, "")
	if err != nil {
		return nil, err
	}
	res, err := kb.ExecuteConnector(ctx, c, kb.Space(in.SpaceID), params)
	if err != nil {
		return nil, err
	}
	if res == nil {
		return nil, step.Errorf("ConnectorExecutionError", "Unknown error")
	}
	if status, _ := res["status"].(string); status == "ok" {
		return res["data"], nil
	}
	e := &step.Error{Type: "ConnectorExecutionError", Message: activitykit.ServiceMessage(res)}
	if retry, _ := res["retry"].(bool); retry {
		e.Retryable = true
	}
	return nil, activitykit.RedactError(e, activitykit.SecretValues(c)...)
}
