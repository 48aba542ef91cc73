package devstack

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/server/common/config"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	sqliteschema "go.temporal.io/server/schema/sqlite"

	"github.com/secflow/secflow/internal/searchattr"
	"github.com/secflow/secflow/internal/temporalclient"
)

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func start(t *testing.T, o Options) *Stack {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	o.Logger = testLogger(t)
	t0 := time.Now()
	s, err := Start(context.Background(), o)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("stack up in %v at %s, UI %s", time.Since(t0).Round(time.Millisecond), s.HostPort(), s.UIURL())
	return s
}

func dial(t *testing.T, s *Stack) client.Client {
	t.Helper()
	c, err := temporalclient.Dial(context.Background(), &temporalclient.Options{Address: s.HostPort(), Namespace: s.Namespace()}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// requireSearchAttributes checks the namespace has the ten Keyword attributes.
func requireSearchAttributes(t *testing.T, c client.Client, ns string) {
	t.Helper()
	resp, err := c.OperatorService().ListSearchAttributes(context.Background(), &operatorservice.ListSearchAttributesRequest{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	for name, typ := range searchattr.Types() {
		if got, ok := resp.GetCustomAttributes()[name]; !ok || got != typ {
			t.Errorf("search attribute %s: got %v (present %t), want %v", name, got, ok, typ)
		}
	}
	if len(searchattr.Types()) != 10 {
		t.Errorf("expected 10 declared attributes, got %d", len(searchattr.Types()))
	}
}

// startProbe starts a workflow no worker serves (it stays running) with two
// search attributes set.
func startProbe(t *testing.T, c client.Client, id, rule string) client.WorkflowRun {
	t.Helper()
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		ID: id, TaskQueue: "devstack-test-no-worker",
		TypedSearchAttributes: temporal.NewSearchAttributes(searchattr.RuleName.ValueSet(rule), searchattr.AlertSeverity.ValueSet("high")),
	}, "probe-type")
	if err != nil {
		t.Fatalf("starting probe workflow: %v", err)
	}
	return run
}

// requireListed polls visibility for the query until it returns want.
func requireListed(t *testing.T, c client.Client, query, wantID string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := c.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err == nil && len(resp.GetExecutions()) == 1 && resp.GetExecutions()[0].GetExecution().GetWorkflowId() == wantID {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("query %q: err=%v executions=%v, want exactly %s", query, err, resp.GetExecutions(), wantID)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func portOf(t *testing.T, hostPort string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(hostPort)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return n
}

// TestRestartKeepsRuns covers a fresh database, the endpoints, refusal of a
// second stack on the same directory or port, a clean stop, and a restart on
// the same database that still has the run and its search attributes.
func TestRestartKeepsRuns(t *testing.T) {
	dir := t.TempDir()
	s1 := start(t, Options{DataDir: dir})
	closed := false
	defer func() {
		if !closed {
			_ = s1.Close()
		}
	}()
	if !strings.HasPrefix(s1.HostPort(), "127.0.0.1:") || !strings.HasPrefix(s1.UIURL(), "http://127.0.0.1:") || s1.Namespace() != "default" {
		t.Fatalf("addresses: %s %s %s", s1.HostPort(), s1.UIURL(), s1.Namespace())
	}
	if filepath.Dir(s1.DBPath()) != dir {
		t.Errorf("DB %s not under %s", s1.DBPath(), dir)
	}

	c := dial(t, s1)
	if _, err := c.CheckHealth(context.Background(), &client.CheckHealthRequest{}); err != nil {
		t.Fatalf("gRPC health: %v", err)
	}
	requireSearchAttributes(t, c, s1.Namespace())

	if code, _ := httpGet(t, s1.UIURL()+"/healthz"); code != http.StatusOK {
		t.Errorf("UI /healthz: %d", code)
	}
	if code, body := httpGet(t, s1.UIURL()+"/"); code != http.StatusOK || !strings.Contains(strings.ToLower(body), "<html") {
		t.Errorf("UI /: %d %.80q", code, body)
	}
	// The UI reaches the frontend (it proxies the API over gRPC).
	if code, body := httpGet(t, s1.UIURL()+"/api/v1/namespaces"); code != http.StatusOK || !strings.Contains(body, `"default"`) {
		t.Errorf("UI /api/v1/namespaces: %d %.200q", code, body)
	}

	run := startProbe(t, c, "probe-1", "rule-restart")
	requireListed(t, c, `RuleName = "rule-restart" AND AlertSeverity = "high"`, "probe-1")

	// Same data directory: refused by the lock, nothing else started.
	if _, err := Start(context.Background(), Options{DataDir: dir, NoUI: true}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second stack on the same directory: err = %v", err)
	}
	// Busy gRPC port: refused before the server could exit the process.
	if _, err := Start(context.Background(), Options{DataDir: t.TempDir(), GRPCPort: portOf(t, s1.HostPort()), NoUI: true}); err == nil || !strings.Contains(err.Error(), "not free") {
		t.Errorf("busy port: err = %v", err)
	}

	c.Close()
	t0 := time.Now()
	if err := s1.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	closed = true
	t.Logf("stopped in %v", time.Since(t0).Round(time.Millisecond))
	if err := s1.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// The write-ahead log was folded into the database file.
	if fi, err := os.Stat(s1.DBPath() + "-wal"); err == nil && fi.Size() != 0 {
		t.Errorf("WAL still holds %d bytes after Close", fi.Size())
	}
	for _, addr := range []string{s1.HostPort(), strings.TrimPrefix(s1.UIURL(), "http://")} {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("%s still bound after Close: %v", addr, err)
			continue
		}
		_ = l.Close()
	}

	// Restart on the same database, same ports.
	s2 := start(t, Options{DataDir: dir, GRPCPort: portOf(t, s1.HostPort()), NoUI: true})
	defer s2.Close()
	c2 := dial(t, s2)
	defer c2.Close()
	requireSearchAttributes(t, c2, s2.Namespace())
	desc, err := c2.DescribeWorkflowExecution(context.Background(), "probe-1", run.GetRunID())
	if err != nil {
		t.Fatalf("run lost across restart: %v", err)
	}
	if st := desc.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Errorf("status after restart: %v", st)
	}
	requireListed(t, c2, `RuleName = "rule-restart"`, "probe-1")
	// Attributes keep working for new runs too.
	startProbe(t, c2, "probe-2", "rule-after-restart")
	requireListed(t, c2, `RuleName = "rule-after-restart"`, "probe-2")
	for _, id := range []string{"probe-1", "probe-2"} {
		if err := c2.TerminateWorkflow(context.Background(), id, "", "test done"); err != nil {
			t.Errorf("terminate %s: %v", id, err)
		}
	}
}

// TestEnsureOnExistingDB starts on a database whose namespace was created
// without the search attributes (an older secflow, or the temporal CLI):
// Start must add them.
func TestEnsureOnExistingDB(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	dir := t.TempDir()
	conf := &config.SQL{PluginName: sqliteplugin.PluginName, DatabaseName: filepath.Join(dir, DBFileName), ConnectAttributes: map[string]string{"mode": "rwc"}}
	if err := sqliteschema.SetupSchema(conf); err != nil {
		t.Fatal(err)
	}
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, DefaultNamespace, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := sqliteschema.CreateNamespaces(conf, ns); err != nil {
		t.Fatal(err)
	}

	s := start(t, Options{DataDir: dir, NoUI: true})
	defer s.Close()
	if s.UIURL() != "" {
		t.Errorf("UIURL with NoUI: %q", s.UIURL())
	}
	c := dial(t, s)
	defer c.Close()
	requireSearchAttributes(t, c, s.Namespace())
	startProbe(t, c, "probe-existing", "rule-existing")
	requireListed(t, c, `RuleName = "rule-existing"`, "probe-existing")
	if err := c.TerminateWorkflow(context.Background(), "probe-existing", "", "test done"); err != nil {
		t.Error(err)
	}
}

func TestAllocatePorts(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port

	tests := []struct {
		name    string
		o       Options
		wantErr string
	}{
		{name: "all free", o: Options{}},
		{name: "busy gRPC", o: Options{GRPCPort: busyPort}, wantErr: "gRPC port " + strconv.Itoa(busyPort) + " on 127.0.0.1 is not free"},
		{name: "busy UI", o: Options{UIPort: busyPort}, wantErr: "UI port"},
		{name: "busy UI ignored without UI", o: Options{UIPort: busyPort, NoUI: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := allocatePorts(tt.o)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			seen := map[int]bool{}
			for _, port := range []int{p.frontend, p.frontendHTTP, p.history, p.matching, p.worker} {
				if port == 0 || seen[port] {
					t.Errorf("ports %+v: zero or duplicate %d", p, port)
				}
				seen[port] = true
			}
			if tt.o.NoUI != (p.ui == 0) {
				t.Errorf("UI port %d with NoUI=%t", p.ui, tt.o.NoUI)
			}
		})
	}
}

func TestLockDir(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lockDir(dir); err == nil {
		t.Fatal("second lock on the same directory succeeded")
	}
	unlock()
	unlock2, err := lockDir(dir)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock2()
}

func TestServerLoggerLevels(t *testing.T) {
	var buf strings.Builder
	level := &slog.LevelVar{}
	level.Set(slog.LevelWarn)
	l := serverLogger{log: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), level: level}
	l.Info("info-dropped")
	l.Warn("warn-kept")
	l.Fatal("fatal-as-error") // must not exit
	level.Set(slog.LevelError + 4)
	l.Error("error-silenced")
	l.SLog().Error("slog-silenced")
	out := buf.String()
	for _, want := range []string{"warn-kept", "level=ERROR msg=fatal-as-error"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in %q", want, out)
		}
	}
	for _, bad := range []string{"info-dropped", "error-silenced", "slog-silenced"} {
		if strings.Contains(out, bad) {
			t.Errorf("unexpected %q in %q", bad, out)
		}
	}
}
