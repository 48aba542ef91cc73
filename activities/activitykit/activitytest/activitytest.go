// Package activitytest is test support for the activity packages: a runtime
// over the sandbox fakes, a recording front for one fake, running a
// registered step with a check that no secret leaks into its output or
// error, and asserting a *step.Error.
package activitytest

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

// Sandbox starts every sandbox fake for the length of the test and returns
// it with a runtime whose default connectors point at it; extra connectors
// are added to that runtime's store.
func Sandbox(t testing.TB, extra ...connectors.Def) (*sandbox.Sandbox, step.Runtime) {
	t.Helper()
	sb, err := sandbox.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	store := connectors.FromSandbox(sb)
	for _, d := range extra {
		if err := store.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	return sb, connectors.NewRuntime(store, nil, nil)
}

// Runtime returns a runtime whose default connector for service points at
// url (as connectors.ForSandbox does for a whole sandbox).
func Runtime(service, url string) step.Runtime {
	return connectors.NewRuntime(connectors.ForSandbox(map[string]string{service: url}), nil, nil)
}

// Run looks in.Type up in step.Default, runs its activity with rt, and fails
// the test when the type is not registered or any of secrets appears in the
// output or the error.
func Run(t testing.TB, rt step.Runtime, in step.Input, secrets ...string) (any, error) {
	t.Helper()
	s, ok := step.Default().Lookup(in.Type)
	if !ok {
		t.Fatalf("%s not registered", in.Type)
	}
	out, err := s.Activity(context.Background(), rt, in)
	NoSecrets(t, out, secrets...)
	if err != nil {
		NoSecrets(t, err, secrets...)
	}
	return out, err
}

// NoSecrets fails the test when any of secrets appears in v: an error's
// text and, for a *step.Error, its JSON form (details included); any other
// value's JSON form.
func NoSecrets(t testing.TB, v any, secrets ...string) {
	t.Helper()
	var text string
	if err, ok := v.(error); ok {
		text = err.Error()
		var se *step.Error
		if errors.As(err, &se) {
			b, _ := json.Marshal(se)
			text += string(b)
		}
	} else {
		b, _ := json.Marshal(v)
		text = string(b)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Fatalf("secret %q leaked into %s", s, text)
		}
	}
}

// StepError fails the test unless err is (or wraps) a *step.Error, and
// returns it.
func StepError(t testing.TB, err error) *step.Error {
	t.Helper()
	var se *step.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *step.Error", err, err)
	}
	return se
}

// Request is one request a Recorder received. Unlike sandbox.Request, the
// Authorization header is kept as sent.
type Request struct {
	Method, Path, Query, ContentType, Auth string
	// Body is the request body as sent.
	Body string
}

// JSON returns the body decoded as a JSON object, nil when it is not one.
func (r Request) JSON() map[string]any {
	var m map[string]any
	_ = json.Unmarshal([]byte(r.Body), &m)
	return m
}

// Recorder is an httptest server in front of a handler (usually a sandbox
// fake's) that records every request before passing it on. Its URL is the
// base URL; Close stops it early (a test of a refused connection).
type Recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []Request
}

// Record serves h behind a recording server for the length of the test.
func Record(t testing.TB, h http.Handler) *Recorder {
	t.Helper()
	rec := &Recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, Request{r.Method, r.URL.Path, r.URL.RawQuery,
			r.Header.Get("Content-Type"), r.Header.Get("Authorization"), string(b)})
		rec.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(rec.Close)
	return rec
}

// Requests returns, in order, the recorded requests with the given method
// ("" for any) whose path ends with suffix ("" for any).
func (r *Recorder) Requests(method, suffix string) []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Request
	for _, q := range r.reqs {
		if (method == "" || q.Method == method) && strings.HasSuffix(q.Path, suffix) {
			out = append(out, q)
		}
	}
	return out
}

// RedirectAway serves other on a second server, reached under another host
// name (localhost instead of 127.0.0.1), and returns the URL of a server
// that answers every request with a redirect (code) to the same path there:
// for tests that a client does not carry credentials to another host.
func RedirectAway(t testing.TB, code int, other http.Handler) string {
	t.Helper()
	o := httptest.NewServer(other)
	t.Cleanup(o.Close)
	away := strings.Replace(o.URL, "127.0.0.1", "localhost", 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, away+r.URL.Path, code)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
