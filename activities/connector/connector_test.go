package connector

import (
	"testing"

	"github.com/secflow/secflow/activities/activitykit/activitytest"
	"github.com/secflow/secflow/internal/connectors"
	"github.com/secflow/secflow/internal/sandbox"
	"github.com/secflow/secflow/interpreter/step"
)

func setup(t *testing.T) (*sandbox.Sandbox, *sandbox.Kibana, step.Runtime) {
	t.Helper()
	t.Setenv("TEST_VT_KEY", "vt-secret-key-value")
	sb, rt := activitytest.Sandbox(t,
		connectors.Def{ID: "vt-1", Name: "VirusTotal", Type: ".virustotal", Secrets: map[string]string{"apiKey": "${env:TEST_VT_KEY}"}},
		connectors.Def{ID: "local-id", Name: "PD MCP", Type: ".pagerduty_mcp", Config: map[string]any{"kibanaConnectorId": "kibana-pd-id"}},
	)
	return sb, sb.Service("kibana").(*sandbox.Kibana), rt
}

func run(t *testing.T, rt step.Runtime, in step.Input) (any, error) {
	t.Helper()
	if s, ok := step.Default().Lookup(in.Type); !ok || s.Type != "*" {
		t.Fatalf("%s does not resolve to the generic connector spec", in.Type)
	}
	return activitytest.Run(t, rt, in, "vt-secret-key-value", sandbox.KibanaAPIKey)
}

func TestSubActionExecute(t *testing.T) {
	sb, fake, rt := setup(t)
	fake.SetConnectorResult("vt-1", sandbox.ConnectorResult{Status: "ok", Data: map[string]any{"reputation": 5.0}})
	out, err := run(t, rt, step.Input{Type: "virustotal.getIpReport", ConnectorID: "VirusTotal", SpaceID: "soc",
		With: map[string]any{"ip": "1.2.3.4"}})
	if err != nil {
		t.Fatal(err)
	}
	if out.(map[string]any)["reputation"] != 5.0 {
		t.Fatalf("output = %v", out)
	}
	reqs := sb.ReceivedBy("kibana")
	r := reqs[len(reqs)-1]
	if r.Method != "POST" || r.Path != "/s/soc/api/actions/connector/vt-1/_execute" ||
		r.Body != `{"params":{"subAction":"getIpReport","subActionParams":{"ip":"1.2.3.4"}}}` {
		t.Fatalf("request = %+v", r)
	}
}

func TestNoSubActionAndKibanaID(t *testing.T) {
	_, fake, rt := setup(t)
	out, err := run(t, rt, step.Input{Type: "pagerduty_mcp", ConnectorID: "local-id", With: map[string]any{"x": 1.0}})
	if err != nil {
		t.Fatal(err)
	}
	ex := fake.Executions()
	last := ex[len(ex)-1]
	if last.ConnectorID != "kibana-pd-id" || last.Params["x"] != 1.0 || last.Params["subAction"] != nil {
		t.Fatalf("execution = %+v", last)
	}
	if out.(map[string]any)["connector_id"] != "kibana-pd-id" {
		t.Fatalf("output = %v", out)
	}
}

func TestErrors(t *testing.T) {
	_, fake, rt := setup(t)
	tests := []struct {
		name  string
		in    step.Input
		setup func()
		typ   string
		msg   string
		retry bool
	}{
		{name: "id required", in: step.Input{Type: "virustotal.scanUrl"}, typ: "Error", msg: "Connector ID is required"},
		{name: "not found", in: step.Input{Type: "virustotal.scanUrl", ConnectorID: "nope"}, typ: "Error", msg: "Connector nope not found"},
		{name: "service message", in: step.Input{Type: "virustotal.scanUrl", ConnectorID: "vt-1"},
			setup: func() {
				fake.SetConnectorResult("vt-1", sandbox.ConnectorResult{Status: "error", Message: "an error occurred while running the action", ServiceMessage: "Quota exceeded"})
			},
			typ: "ConnectorExecutionError", msg: "Quota exceeded"},
		{name: "message only", in: step.Input{Type: "virustotal.scanUrl", ConnectorID: "vt-1"},
			setup: func() {
				fake.SetConnectorResult("vt-1", sandbox.ConnectorResult{Status: "error", Message: "an error occurred while running the action"})
			},
			typ: "ConnectorExecutionError", msg: "an error occurred while running the action"},
		{name: "kibana 503", in: step.Input{Type: "virustotal.scanUrl", ConnectorID: "vt-1"},
			setup: func() { fake.Inject("/api/actions", 503, "1", "", 1) }, typ: "Error", retry: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup()
			}
			_, err := run(t, rt, tt.in)
			se := step.AsError(err)
			if se == nil || se.Type != tt.typ || (tt.msg != "" && se.Message != tt.msg) || se.Retryable != tt.retry {
				t.Fatalf("got %+v", se)
			}
		})
	}
}
