package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/secflow/secflow/internal/connectors"
	"github.com/secflow/secflow/internal/sandbox"
	"github.com/secflow/secflow/interpreter/step"
)

// captured is one request the fake received.
type captured struct {
	Method, Path, ContentType, Auth string
	Body                            string
}

// env is a Slack fake behind a recording server and a runtime whose
// default connectors point at it.
type env struct {
	fake *sandbox.Slack
	srv  *httptest.Server
	rt   step.Runtime
	mu   sync.Mutex
	reqs []captured
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{fake: sandbox.NewSlack()}
	h := e.fake.Handler()
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		e.mu.Lock()
		e.reqs = append(e.reqs, captured{r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), string(b)})
		e.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	e.rt = connectors.NewRuntime(connectors.ForSandbox(map[string]string{"slack": e.srv.URL}), nil, nil)
	return e
}

// requests returns the captured requests whose path ends with suffix.
func (e *env) requests(suffix string) []captured {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []captured
	for _, r := range e.reqs {
		if strings.HasSuffix(r.Path, suffix) {
			out = append(out, r)
		}
	}
	return out
}

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

// stepErr asserts err is a *step.Error and returns it.
func stepErr(t *testing.T, err error) *step.Error {
	t.Helper()
	var se *step.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *step.Error", err, err)
	}
	return se
}

// noSecrets fails when any secret appears in v (an output or an error).
func noSecrets(t *testing.T, v any, secrets ...string) {
	t.Helper()
	var text string
	if err, ok := v.(error); ok {
		text = err.Error()
		var se *step.Error
		if errors.As(err, &se) {
			b, _ := json.Marshal(se.Details)
			text += string(b)
		}
	} else {
		b, _ := json.Marshal(v)
		text = string(b)
	}
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Fatalf("secret %q leaked into %s", s, text)
		}
	}
}

// allSecrets are the sandbox Slack credentials.
var allSecrets = []string{sandbox.SlackToken, "sandboxwebhooksecret"}

var bg = context.Background()

// input builds a step input.
func input(typ, connectorID string, with map[string]any) step.Input {
	return step.Input{Type: typ, Name: "notify", Path: "notify", IdempotencyKey: "wf-1/notify", ConnectorID: connectorID, With: with}
}
