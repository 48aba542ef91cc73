package flowtest

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/secflow/secflow/internal/connectors"
	"github.com/secflow/secflow/internal/sandbox"
	"github.com/secflow/secflow/interpreter/step"
)

// sandboxEnv is the in-process sandbox that answers unmocked steps with
// --sandbox.
type sandboxEnv struct {
	sb *sandbox.Sandbox
	rt *sandboxRuntime
}

func (s *sandboxEnv) close() { s.sb.Close() }

// sandboxRuntime returns the runtime of the real activities under
// --sandbox, starting the sandbox on first use.
func (r *Runner) sandboxRuntime() (step.Runtime, error) {
	r.sbOnce.Do(func() {
		sb, err := sandbox.Start()
		if err != nil {
			r.sbErr = fmt.Errorf("starting the sandbox: %w", err)
			return
		}
		store := connectors.FromSandbox(sb)
		hc := &http.Client{Transport: &http.Transport{DialContext: loopbackOnly}, Timeout: 30 * time.Second}
		r.sb = &sandboxEnv{sb: sb, rt: &sandboxRuntime{inner: connectors.NewRuntime(store, hc, nil), store: store}}
	})
	if r.sbErr != nil {
		return nil, r.sbErr
	}
	return r.sb.rt, nil
}

// sandboxRuntime serves the sandbox connectors. A connector-id the sandbox
// does not know (the definition names a production connector such as
// "soc-slack") falls back to the sandbox default of the requested type,
// and the http step may call loopback hosts only, so a test never reaches
// an outside system.
type sandboxRuntime struct {
	inner step.Runtime
	store *connectors.Store
}

// Connector implements step.Runtime.
func (s *sandboxRuntime) Connector(ctx context.Context, idOrName string, types ...string) (*step.Connector, error) {
	c, err := s.inner.Connector(ctx, idOrName, types...)
	if err != nil && idOrName != "" && len(types) > 0 {
		if d, derr := s.inner.Connector(ctx, "", types...); derr == nil {
			return d, nil
		}
	}
	return c, err
}

// HTTPClient implements step.Runtime.
func (s *sandboxRuntime) HTTPClient() *http.Client { return s.inner.HTTPClient() }

// Logger implements step.Runtime.
func (s *sandboxRuntime) Logger() *slog.Logger { return s.inner.Logger() }

// AllowedHosts restricts the http step to the loopback interface
// (activitykit.HostPolicy).
func (s *sandboxRuntime) AllowedHosts() []string { return []string{"127.0.0.1", "localhost", "::1"} }

// ConnectorNames lists the sandbox connectors (activitykit.ConnectorLister).
func (s *sandboxRuntime) ConnectorNames(types ...string) []string {
	if l, ok := s.inner.(interface{ ConnectorNames(...string) []string }); ok {
		return l.ConnectorNames(types...)
	}
	return nil
}

// loopbackOnly dials loopback addresses only, without resolving names
// (a DNS query is already an outside call).
func loopbackOnly(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("secflow test --sandbox calls loopback hosts only, not %s", host)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}
