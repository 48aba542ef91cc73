package slack

import (
	"context"
	"testing"

	"github.com/secflow/secflow/activities/activitykit/activitytest"
	"github.com/secflow/secflow/internal/connectors"
	"github.com/secflow/secflow/internal/sandbox"
	"github.com/secflow/secflow/interpreter/step"
)

// env is a Slack fake behind a recording server and a runtime whose
// default connectors point at it.
type env struct {
	fake *sandbox.Slack
	srv  *activitytest.Recorder
	rt   step.Runtime
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{fake: sandbox.NewSlack()}
	e.srv = activitytest.Record(t, e.fake.Handler())
	e.rt = activitytest.Runtime("slack", e.srv.URL)
	return e
}

// requests returns the captured requests whose path ends with suffix.
func (e *env) requests(suffix string) []activitytest.Request { return e.srv.Requests("", suffix) }

// runtimeWith returns a runtime holding one connector whose token secret
// comes from the environment variable SLACK_TEST_TOKEN set to token.
func runtimeWith(t *testing.T, def connectors.Def, secretName, secret string) step.Runtime {
	t.Helper()
	t.Setenv("SLACK_TEST_SECRET", secret)
	def.Secrets = map[string]string{secretName: "${env:SLACK_TEST_SECRET}"}
	store, err := connectors.NewStore(def)
	if err != nil {
		t.Fatal(err)
	}
	return connectors.NewRuntime(store, nil, nil)
}

// allSecrets are the sandbox Slack credentials.
var allSecrets = []string{sandbox.SlackToken, "sandboxwebhooksecret"}

var bg = context.Background()

// input builds a step input.
func input(typ, connectorID string, with map[string]any) step.Input {
	return step.Input{Type: typ, Name: "notify", Path: "notify", IdempotencyKey: "wf-1/notify", ConnectorID: connectorID, With: with}
}
