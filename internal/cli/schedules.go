package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/secflow/secflow/internal/defstore"
	"github.com/secflow/secflow/internal/temporalclient"
	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/starter"
)

func init() {
	register(command{
		name:    "schedules",
		summary: "list the Temporal Schedules of scheduled triggers with their next run times",
		run:     runSchedules,
	})
}

func runSchedules(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("schedules", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	next := fs.Int("next", 3, "how many next run times to show")
	sync := fs.Bool("sync", false, "first reconcile the schedules with --definitions (what the starter does at start)")
	defsDir := fs.String("definitions", runEnv("SECFLOW_DEFINITIONS", "definitions"), "definitions `directory` for --sync (env SECFLOW_DEFINITIONS)")
	taskQueue := fs.String("task-queue", runEnv("SECFLOW_TASK_QUEUE", interpreter.DefaultTaskQueue), "worker task `queue` for --sync (env SECFLOW_TASK_QUEUE)")
	topts := temporalclient.Flags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: secflow schedules [--json] [--next N] [--sync [--definitions dir]] [flags]")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "Lists the Temporal Schedules secflow manages (IDs secflow/<definition>/<trigger>),")
		fmt.Fprintln(stderr, "one per `scheduled` trigger, with their state and next run times.")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "Example: secflow schedules --next 5")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	if err := parseArgs(fs, args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "secflow schedules: unexpected arguments %q (schedules takes only flags; see secflow schedules -h)\n", fs.Args())
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// A bad key ring is a configuration error, not a connection one: report it
	// before dialling, without the dial hint.
	dc, err := topts.DataConverter() // the client's: decodes the schedules' memo
	if err != nil {
		fmt.Fprintf(stderr, "secflow schedules: %v\n", err)
		return 1
	}
	c, err := temporalclient.Dial(ctx, topts, logger)
	if err != nil {
		fmt.Fprintf(stderr, "secflow schedules: %v\n%s\n", err, dialHint)
		return 1
	}
	defer c.Close()
	sc := &starter.Scheduler{Client: c, Namespace: topts.Namespace, TaskQueue: *taskQueue, Logger: logger, DataConverter: dc}
	if *sync {
		store, err := defstore.Open(*defsDir, nil)
		if err != nil {
			fmt.Fprintf(stderr, "secflow schedules: loading definitions from %s: %v\n", *defsDir, err)
			return 1
		}
		changes, err := sc.Reconcile(ctx, store.All(), nil)
		for _, ch := range changes {
			fmt.Fprintf(stderr, "%s %s (paused=%t)\n", ch.Action, ch.ID, ch.Paused)
		}
		if err != nil {
			fmt.Fprintf(stderr, "secflow schedules: %v\n", err)
			return 1
		}
	}
	list, err := sc.List(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "secflow schedules: %v\n", err)
		return 1
	}
	for i := range list {
		if len(list[i].Next) > *next {
			list[i].Next = list[i].Next[:*next]
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if list == nil {
			list = []starter.ScheduleInfo{}
		}
		_ = enc.Encode(list)
		return 0
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, "no secflow schedules (no definition has a `scheduled` trigger, or the starter has not reconciled yet)")
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCHEDULE\tDEFINITION\tSTATE\tRUNS\tSPEC\tNEXT RUNS (UTC)")
	for _, s := range list {
		state := "active"
		times := make([]string, len(s.Next))
		for i, t := range s.Next {
			times[i] = t.UTC().Format(time.RFC3339)
		}
		if s.Paused {
			state, times = "paused", []string{"-"}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", s.ID, s.Definition, state, s.Runs, s.Spec, strings.Join(times, ", "))
	}
	_ = tw.Flush()
	return 0
}
