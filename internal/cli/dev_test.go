//go:build !nodev

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/secflow/secflow/internal/sandbox"
	"github.com/secflow/secflow/internal/temporalclient"
	"github.com/secflow/secflow/internal/testenv"
)

// TestDevCommand runs `secflow dev` in-process on free ports with the
// shipped definitions: it prints the banner, the bundled demo alert starts
// demo-alert-triage, the run completes against the sandbox fakes, the
// sandbox page lists the case, its comment and the Slack message, and the
// command stops cleanly on cancel.
func TestDevCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	// The shipped definitions and demo alert: what a new user runs.
	defs, err := filepath.Abs(filepath.Join("..", "..", "definitions"))
	if err != nil {
		t.Fatal(err)
	}
	demoAlert, err := os.ReadFile(filepath.Join(defs, "demo-alert.json"))
	if err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr testenv.SyncBuffer
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

	resp, err := http.Post(intake+"/api/v1/alerts", "application/json", bytes.NewReader(demoAlert))
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
	if err != nil || resp.StatusCode/100 != 2 || out.Started != 1 || len(out.Runs) != 1 || out.Runs[0].Definition != "demo-alert-triage" {
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

	// One /metrics on the intake port: the starter's, the Temporal SDK's
	// (the shared client's) and the worker's step metrics.
	mr, err := http.Get(intake + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(mr.Body)
	mr.Body.Close()
	for _, want := range []string{`secflow_starter_runs_total{status="started",trigger="alert"} 1`,
		`temporal_workflow_completed{`, `secflow_worker_steps_total{outcome="succeeded",step_type=`, "go_goroutines "} {
		if mr.StatusCode != http.StatusOK || !strings.Contains(string(metrics), want) {
			t.Errorf("GET /metrics: %s, lacks %q", mr.Status, want)
		}
	}

	// The sandbox page lists what the demo run did to the fake systems:
	// the case with its AI triage comment and the Slack message.
	sb, err := http.Get(intake + "/sandbox?format=json")
	if err != nil {
		t.Fatal(err)
	}
	var snap sandbox.Snapshot
	err = json.NewDecoder(sb.Body).Decode(&snap)
	sb.Body.Close()
	if sb.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("GET /sandbox: %s, %v", sb.Status, err)
	}
	if len(snap.Cases) != 1 {
		t.Fatalf("sandbox cases = %d, want 1", len(snap.Cases))
	}
	var userComments int
	for _, cm := range snap.Cases[0].Comments {
		if cm.Type == "user" && strings.HasPrefix(cm.Comment, "AI triage:") {
			userComments++
		}
	}
	if userComments != 1 {
		t.Errorf("case comments = %+v, want one AI triage comment", snap.Cases[0].Comments)
	}
	if len(snap.SlackMessages) != 1 || !strings.Contains(snap.SlackMessages[0].Text, snap.Cases[0].ID) {
		t.Errorf("slack messages = %+v, want one naming case %s", snap.SlackMessages, snap.Cases[0].ID)
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
