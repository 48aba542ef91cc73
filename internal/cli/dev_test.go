//go:build !nodev

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secflow/secflow/internal/temporalclient"
)

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const devTestDefinition = `version: "1"
name: Dev smoke
enabled: true
triggers:
  - type: alert
steps:
  - name: announce
    type: console
    with:
      message: "Triage {{ event.rule.name }}"
`

const devTestAlert = `{"alerts":[{"_id":"a-1","kibana":{"alert":{"uuid":"a-1","severity":"high",
"rule":{"uuid":"r-1","name":"Rule one"}}},"host":{"name":"h1"}}],
"rule":{"id":"r-1","name":"Rule one"},"spaceId":"default"}`

// TestDevCommand runs `secflow dev` in-process on free ports: it prints the
// banner, accepts an alert that starts a run, and stops cleanly on cancel.
func TestDevCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	defs := t.TempDir()
	if err := os.WriteFile(filepath.Join(defs, "dev-smoke.yaml"), []byte(devTestDefinition), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(defs, "demo-alert.json"), []byte(devTestAlert), 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- runDev(ctx, []string{"--grpc-port", "0", "--ui-port", "0", "--http-port", "0",
			"--data-dir", dataDir, "--definitions", defs, "--log-level", "warn"}, &stdout, &stderr)
	}()

	intakeRe := regexp.MustCompile(`Alert intake\s+(http://127\.0\.0\.1:\d+)/api/v1/alerts`)
	var intake string
	deadline := time.Now().Add(2 * time.Minute)
	for intake == "" {
		if m := intakeRe.FindStringSubmatch(stdout.String()); m != nil {
			intake = m[1]
			break
		}
		select {
		case code := <-done:
			t.Fatalf("dev exited with %d before serving\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no banner\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
		}
	}
	banner := stdout.String()
	for _, want := range []string{"Temporal UI     http://127.0.0.1:", "Temporal gRPC   127.0.0.1:", "--data @" + filepath.Join(defs, "demo-alert.json"), "Sandbox"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}

	resp, err := http.Post(intake+"/api/v1/alerts", "application/json", strings.NewReader(devTestAlert))
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Started int `json:"started"`
		Runs    []struct {
			Definition string `json:"definition"`
			WorkflowID string `json:"workflowId"`
		} `json:"runs"`
	}
	err = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if err != nil || resp.StatusCode/100 != 2 || out.Started != 1 || len(out.Runs) != 1 || out.Runs[0].Definition != "dev-smoke" {
		t.Fatalf("POST alert: status %d, err %v, body %+v\nstderr:\n%s", resp.StatusCode, err, out, stderr.String())
	}
	// The in-process worker runs it to completion.
	grpc := regexp.MustCompile(`Temporal gRPC\s+(127\.0\.0\.1:\d+)`).FindStringSubmatch(banner)
	if grpc == nil {
		t.Fatalf("no gRPC address in banner:\n%s", banner)
	}
	c, err := temporalclient.Dial(ctx, &temporalclient.Options{Address: grpc[1], Namespace: "default"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	err = c.GetWorkflow(wctx, out.Runs[0].WorkflowID, "").Get(wctx, nil)
	wcancel()
	c.Close()
	if err != nil {
		t.Fatalf("run %s did not complete: %v\nstderr:\n%s", out.Runs[0].WorkflowID, err, stderr.String())
	}

	sb, err := http.Get(intake + "/sandbox")
	if err != nil {
		t.Fatal(err)
	}
	sb.Body.Close()
	if sb.StatusCode != http.StatusOK {
		t.Errorf("GET /sandbox: %s", sb.Status)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code %d\nstderr:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("dev did not stop within 30s of cancel")
	}
	if _, err := http.Get(intake + "/healthz"); err == nil {
		t.Error("intake still answers after stop")
	}
}
