// Package testenv is the shared harness of integration tests: it starts one
// embedded Temporal stack (internal/devstack: real server, SQLite in a temp
// directory, UI, search attributes) per test binary, on free ports, and
// hands every test a connected client.
//
// Usage, once per test package:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		env := testenv.Start(t)                 // first call starts the stack (~1 s), later calls reuse it
//		tq := env.TaskQueue(t)                  // a task queue no other test uses
//		w := worker.New(env.Client, tq, worker.Options{}) ...
//	}
//
// Lifecycle: the stack is started lazily by the first Start (sync.Once) and
// stopped by Main after all tests ran, which also removes the temporary data
// directory. Stopping it from the first caller's t.Cleanup would kill it
// under the tests that follow, and a package without TestMain would leak the
// directory, so Start fails the test with a hint when Main is not in use.
// With -short, Start skips the test.
//
// It also holds the small helpers such tests share: History (the events of
// a run), ProtoBytes (server data to search for leaked plaintext) and
// SyncBuffer (a log sink written from other goroutines).
package testenv

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/secflow/secflow/internal/devstack"
	"github.com/secflow/secflow/internal/temporalclient"
)

// Env is the shared stack as seen by a test.
type Env struct {
	// Client is connected to the stack's namespace. Shared: do not Close it.
	Client client.Client
	// HostPort is the frontend gRPC address.
	HostPort string
	// Namespace is the namespace Client uses (with the search attributes registered).
	Namespace string
	// UIURL is the Web UI base URL.
	UIURL string
}

var (
	mainUsed atomic.Bool
	once     sync.Once
	shared   *Env
	stack    *devstack.Stack
	dataDir  string
	startErr error
	queues   atomic.Int64
)

// Main runs the tests of a package and then stops the shared stack. Call it
// from TestMain.
func Main(m *testing.M) {
	mainUsed.Store(true)
	code := m.Run()
	if err := Close(); err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// Start returns the shared stack, starting it on first use. It fails the
// test if the stack cannot start, and skips it with -short.
func Start(t testing.TB) *Env {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test (embedded Temporal server) skipped with -short")
	}
	if !mainUsed.Load() {
		t.Fatal("testenv: add `func TestMain(m *testing.M) { testenv.Main(m) }` to this package so the shared Temporal stack is stopped and its data removed")
	}
	once.Do(func() { startErr = start() })
	if startErr != nil {
		t.Fatalf("testenv: %v", startErr)
	}
	return shared
}

func start() error {
	dir, err := os.MkdirTemp("", "secflow-testenv-")
	if err != nil {
		return fmt.Errorf("creating data directory: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := devstack.Start(ctx, devstack.Options{DataDir: dir, Logger: logger})
	if err != nil {
		_ = os.RemoveAll(dir)
		return fmt.Errorf("starting the embedded Temporal stack: %w", err)
	}
	c, err := temporalclient.Dial(ctx, &temporalclient.Options{Address: st.HostPort(), Namespace: st.Namespace()}, logger)
	if err != nil {
		_ = st.Close()
		_ = os.RemoveAll(dir)
		return err
	}
	stack, dataDir = st, dir
	shared = &Env{Client: c, HostPort: st.HostPort(), Namespace: st.Namespace(), UIURL: st.UIURL()}
	return nil
}

// Close stops the shared stack and removes its data. Main calls it; it is a
// no-op when no test started the stack.
func Close() error {
	if stack == nil {
		return nil
	}
	shared.Client.Close()
	err := stack.Close()
	if rmErr := os.RemoveAll(dataDir); rmErr != nil && err == nil {
		err = fmt.Errorf("removing %s: %w", dataDir, rmErr)
	}
	stack, shared = nil, nil
	return err
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// TaskQueue returns a task queue name unique in this test binary, derived
// from the test name, so workers of different tests never steal each
// other's tasks.
func (e *Env) TaskQueue(t testing.TB) string {
	return fmt.Sprintf("%s-%d", unsafeChars.ReplaceAllString(t.Name(), "_"), queues.Add(1))
}

// History returns the full event history of a workflow run through c (an
// empty runID means the latest run), failing the test on error. The events
// are the server's bytes, whatever c's data converter.
func History(t testing.TB, c client.Client, workflowID, runID string) *historypb.History {
	t.Helper()
	h := &historypb.History{}
	it := c.GetWorkflowHistory(context.Background(), workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatalf("reading the history of %s: %v", workflowID, err)
		}
		h.Events = append(h.Events, e)
	}
	return h
}

// ProtoBytes is m as stored and as read by name, for tests that search
// server data for plaintext: its wire form (payload data as raw bytes,
// failure messages as strings), a newline, then its protojson (every field
// by name, bytes in base64).
func ProtoBytes(t testing.TB, m proto.Message) []byte {
	t.Helper()
	bin, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	js, err := protojson.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return append(append(bin, '\n'), js...)
}

// SyncBuffer is a bytes.Buffer safe for concurrent use: the log or output
// sink of code a test runs in other goroutines, read by the test.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
