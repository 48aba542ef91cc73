package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"

	"github.com/secflow/secflow/internal/defstore"
	"github.com/secflow/secflow/internal/temporalclient"
	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/interpreter/schema"
	"github.com/secflow/secflow/starter"
)

func init() {
	register(command{
		name:    "run",
		summary: "start a manual run of a definition (inputs validated against its schema)",
		run:     runRun,
	})
}

// runInputs collects repeated --input k=v flags.
type runInputs []string

func (r *runInputs) String() string     { return strings.Join(*r, ",") }
func (r *runInputs) Set(v string) error { *r = append(*r, v); return nil }

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var inputs runInputs
	fs.Var(&inputs, "input", "input `name=value` (repeatable); value is JSON unless the schema says string, else taken as text")
	inputFile := fs.String("input-file", "", "`file` with a JSON object of inputs (--input values override it)")
	eventFile := fs.String("event-file", "", "`file` with the event the run handles: the alert for definitions with an alert trigger (any format /api/v1/alerts accepts), else the event payload (a JSON object) for definitions with event triggers such as cases.caseCreated")
	wait := fs.Bool("wait", false, "wait for the run to finish and print its result (needs a running worker)")
	key := fs.String("idempotency-key", "", "`key` making the start idempotent: the same key finds the same run")
	defsDir := fs.String("definitions", runEnv("SECFLOW_DEFINITIONS", "definitions"), "definitions `directory` (env SECFLOW_DEFINITIONS)")
	taskQueue := fs.String("task-queue", runEnv("SECFLOW_TASK_QUEUE", interpreter.DefaultTaskQueue), "worker task `queue` (env SECFLOW_TASK_QUEUE)")
	uiURL := fs.String("ui-url", runEnv("SECFLOW_UI_URL", "http://127.0.0.1:8233"), "Temporal Web UI `URL` for the printed link (empty: none)")
	topts := temporalclient.Flags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: secflow run <definition-id> [--input k=v ...] [--input-file f.json] [--event-file alert.json] [--wait] [flags]")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "Starts a manual run of a definition loaded from --definitions, exactly like")
		fmt.Fprintln(stderr, "POST /api/v1/workflows/<id>/run: inputs are checked against the definition's input")
		fmt.Fprintln(stderr, "schema (every problem is listed, nothing starts) and passed to the run.")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "Example: secflow run demo-manual --input ip=10.0.0.1 --input depth=2 --wait")
		fmt.Fprintln(stderr, "         secflow run demo-alert-triage --event-file definitions/demo-alert.json --wait")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	if err := parseArgs(fs, args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "secflow run: missing the definition id, e.g. secflow run <definition-id> --input name=value (see secflow run -h)")
		if store, err := defstore.Open(*defsDir, nil); err == nil {
			fmt.Fprintf(stderr, "definitions in %s: %s\n", *defsDir, definitionIDs(store))
		}
		return 2
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(stderr, "secflow run: unexpected arguments %q after the definition id %q; inputs are given as --input name=value\n", fs.Args()[1:], fs.Arg(0))
		return 2
	}
	id := fs.Arg(0)
	store, err := defstore.Open(*defsDir, nil)
	if err != nil {
		fmt.Fprintf(stderr, "secflow run: loading definitions from %s: %v (fix them, or point --definitions at another directory)\n", *defsDir, err)
		return 1
	}
	def, ok := store.Get(id)
	if !ok {
		fmt.Fprintf(stderr, "secflow run: no definition %q in %s (the id is the file name without .yaml); definitions there: %s\n", id, *defsDir, definitionIDs(store))
		return 1
	}
	in, err := parseRunInputs(def.Inputs, *inputFile, inputs)
	if err != nil {
		fmt.Fprintf(stderr, "secflow run: %v\n", err)
		return 2
	}
	if !def.Enabled {
		fmt.Fprintf(stderr, "secflow run: definition %q is disabled (enabled: false)\n", id)
		return 1
	}
	var rawEvent []byte
	if *eventFile != "" {
		if rawEvent, err = os.ReadFile(*eventFile); err != nil {
			fmt.Fprintf(stderr, "secflow run: reading --event-file: %v\n", err)
			return 2
		}
	}
	ev, err := starter.ManualEvent(def, rawEvent, starter.Limits{})
	if err != nil {
		fmt.Fprintf(stderr, "secflow run: %v\n", err)
		return 1
	}
	req, problems := starter.ManualRequest(def, in, *key)
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "secflow run: %d input problem(s):\n", len(problems))
		for _, p := range problems {
			fmt.Fprintf(stderr, "  %s\n", p)
		}
		return 1
	}
	req = starter.WithEvent(req, def, ev)
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// A bad key ring is a configuration error, not a connection one: report it
	// before dialling, without the dial hint.
	dc, err := topts.DataConverter() // the client's: the launcher encodes the input itself
	if err != nil {
		fmt.Fprintf(stderr, "secflow run: %v\n", err)
		return 1
	}
	c, err := temporalclient.Dial(ctx, topts, logger)
	if err != nil {
		fmt.Fprintf(stderr, "secflow run: %v\n%s\n", err, dialHint)
		return 1
	}
	defer c.Close()
	l := &starter.Launcher{Client: c, Namespace: topts.Namespace, TaskQueue: *taskQueue, Identity: "secflow-run", DataConverter: dc}
	res, err := l.Start(ctx, req)
	if err != nil {
		fmt.Fprintf(stderr, "secflow run: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s %s\n  workflow id: %s\n  run id:      %s\n", res.Status, id, res.WorkflowID, res.RunID)
	if *uiURL != "" {
		fmt.Fprintf(stdout, "  ui:          %s/namespaces/%s/workflows/%s/%s/history\n", strings.TrimRight(*uiURL, "/"),
			url.PathEscape(topts.Namespace), url.PathEscape(res.WorkflowID), res.RunID)
	}
	if !*wait {
		return 0
	}
	fmt.Fprintf(stderr, "waiting for the run to finish; a step failure nothing catches parks it for an operator: temporal workflow query -w %s --name state\n", res.WorkflowID)
	var result interpreter.RunResult
	if err := c.GetWorkflow(ctx, res.WorkflowID, res.RunID).Get(ctx, &result); err != nil {
		// A failed or timed-out run is a failed execution whose error
		// carries the run result: print that like a completed one.
		failed, ok := interpreter.ResultFromError(err)
		if !ok {
			fmt.Fprintf(stderr, "secflow run: waiting for the run: %v\n", err)
			return 1
		}
		result = *failed
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(result)
	if result.Status != "completed" {
		return 1
	}
	return 0
}

// parseRunInputs merges --input-file and --input flags. A flag value is
// kept as text when the schema declares the input a string, otherwise it is
// parsed as JSON when it parses (5, true, ["a"], {"k":1}) and kept as text
// when it does not.
func parseRunInputs(s *schema.Schema, file string, flags []string) (map[string]any, error) {
	in := map[string]any{}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("reading --input-file: %w", err)
		}
		if err := json.Unmarshal(b, &in); err != nil {
			return nil, fmt.Errorf("--input-file %s must hold a JSON object: %w", file, err)
		}
		if in == nil {
			in = map[string]any{}
		}
	}
	for _, kv := range flags {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, errors.New("--input takes name=value, got " + kv)
		}
		in[k] = runInputValue(s, k, v)
	}
	return in, nil
}

func runInputValue(s *schema.Schema, name, v string) any {
	if s != nil {
		if t, _ := s.Properties[name]["type"].(string); t == "string" {
			return v
		}
	}
	var parsed any
	if err := json.Unmarshal([]byte(v), &parsed); err == nil {
		return parsed
	}
	return v
}

func runEnv(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// definitionIDs lists the ids of the definitions in store for an error
// message, or says that there is none.
func definitionIDs(store *defstore.Store) string {
	var ids []string
	for _, d := range store.All() {
		ids = append(ids, d.ID)
	}
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}
