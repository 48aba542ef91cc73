package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/secflow/secflow/internal/defstore"
	"github.com/secflow/secflow/interpreter"
)

func init() {
	register(command{
		name:    "validate",
		summary: "check workflow definitions and report every problem as file:line:col",
		run:     runValidate,
	})
}

// validateReport is the --format json document.
type validateReport struct {
	Files    int                  `json:"files"`
	Errors   int                  `json:"errors"`
	Warnings int                  `json:"warnings"`
	Problems interpreter.Problems `json:"problems"`
}

func runValidate(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("validate", flag.ContinueOnError)
	fl.SetOutput(stderr)
	format := fl.String("format", "text", "output format: text or json")
	warnings := fl.Bool("warnings", false, "list warnings even when there is no error")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "Usage: secflow validate [--format text|json] [--warnings] [paths...]")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "Loads and validates every workflow definition (*.yaml, *.yml; *.test.yaml skipped)")
		fmt.Fprintln(stderr, "under the given files and directories (default: the current directory) and prints")
		fmt.Fprintln(stderr, "each problem as file:line:col: message. Exit status 0 when no definition has an")
		fmt.Fprintln(stderr, "error, 1 otherwise. When there is no error only a summary line is printed.")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "Example: secflow validate definitions/")
		fmt.Fprintln(stderr)
		fl.PrintDefaults()
	}
	if err := parseArgs(fl, args); err != nil {
		return flagExit(err)
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(stderr, "secflow validate: unknown --format %q (want text or json)\n", *format)
		return 2
	}
	paths := fl.Args()
	if len(paths) == 0 {
		paths = []string{"."}
	}
	files, err := defstore.Files(paths...)
	if err != nil {
		fmt.Fprintf(stderr, "secflow validate: %v\n", err)
		return 2
	}
	var all interpreter.Problems
	for _, f := range files {
		_, probs := interpreter.LoadFile(f, interpreter.LoadOptions{})
		all = append(all, probs...)
	}
	rep := validateReport{Files: len(files), Errors: len(all.Errors()), Warnings: len(all.Warnings()), Problems: all}
	if rep.Problems == nil {
		rep.Problems = interpreter.Problems{}
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "secflow validate: %v\n", err)
			return 2
		}
	} else {
		if rep.Errors > 0 || *warnings {
			for _, p := range all {
				fmt.Fprintln(stdout, p.String())
			}
		}
		fmt.Fprintln(stdout, summary(rep, *warnings))
	}
	if rep.Errors > 0 {
		return 1
	}
	return 0
}

func summary(r validateReport, listed bool) string {
	s := fmt.Sprintf("%d %s, %d %s, %d %s", r.Files, plural(r.Files, "file"), r.Errors, plural(r.Errors, "error"),
		r.Warnings, plural(r.Warnings, "warning"))
	if r.Errors == 0 && r.Warnings > 0 && !listed {
		s += " (run with --warnings to list them)"
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
