package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"regexp"

	sdkworker "go.temporal.io/sdk/worker"

	"github.com/secflow/secflow/internal/flowtest"
)

func init() {
	register(command{
		name:    "test",
		summary: "run workflow tests (*.test.yaml) offline against mocks",
		run:     runTest,
	})
}

func runTest(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("test", flag.ContinueOnError)
	fl.SetOutput(stderr)
	runExpr := fl.String("run", "", "run only the cases whose name matches this `regexp`")
	format := fl.String("format", "text", "output format: text or junit")
	sandbox := fl.Bool("sandbox", false, "answer unmocked side-effecting steps from the in-process sandbox fakes instead of failing")
	parallel := fl.Int("parallel", 0, "cases run at once (default: the number of CPUs)")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "Usage: secflow test [--run regexp] [--format text|junit] [--sandbox] [paths...]")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "Finds the workflow tests (*.test.yaml, *.test.yml) under the given files and")
		fmt.Fprintln(stderr, "directories (default: the current directory) and runs every case with the real")
		fmt.Fprintln(stderr, "interpreter under Temporal's test environment: skipped time, side-effecting steps")
		fmt.Fprintln(stderr, "answered from the case's mocks. No Temporal server or outside system is contacted.")
		fmt.Fprintln(stderr, "Prints one line per case (ok / FAIL with what differed) and a summary; exit status")
		fmt.Fprintln(stderr, "0 when every case passed, 1 otherwise. The file format is in docs/testing.md.")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "Example: secflow test definitions/")
		fmt.Fprintln(stderr)
		fl.PrintDefaults()
	}
	if err := parseArgs(fl, args); err != nil {
		return flagExit(err)
	}
	if *format != "text" && *format != "junit" {
		fmt.Fprintf(stderr, "secflow test: unknown --format %q (want text or junit)\n", *format)
		return 2
	}
	opts := flowtest.Options{Sandbox: *sandbox, Parallel: *parallel}
	if *runExpr != "" {
		re, err := regexp.Compile(*runExpr)
		if err != nil {
			fmt.Fprintf(stderr, "secflow test: --run: %v\n", err)
			return 2
		}
		opts.Filter = re
	}
	paths := fl.Args()
	if len(paths) == 0 {
		paths = []string{"."}
	}
	files, err := flowtest.Discover(paths...)
	if err != nil {
		fmt.Fprintf(stderr, "secflow test: %v\n", err)
		return 2
	}
	if len(files) == 0 {
		fmt.Fprintf(stderr, "secflow test: no *.test.yaml file under %v\n", paths)
		return 1
	}
	// The test environment otherwise hashes this (large) executable on the
	// first activity to make a build id; `secflow test` runs no real worker.
	sdkworker.SetBinaryChecksum("secflow-test")
	r := flowtest.New(opts)
	defer r.Close()
	results := r.RunFiles(files)
	var sum flowtest.Summary
	if *format == "junit" {
		if sum, err = flowtest.WriteJUnit(stdout, results); err != nil {
			fmt.Fprintf(stderr, "secflow test: %v\n", err)
			return 2
		}
	} else {
		sum = flowtest.WriteText(stdout, results)
	}
	if !sum.OK() {
		return 1
	}
	return 0
}
