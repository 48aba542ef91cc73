package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/interpreter/step"
)

func init() {
	register(command{
		name:    "docs",
		summary: "write the step reference (docs/steps/) and docs/variables.md from their declarations",
		run:     runDocs,
	})
}

// stepsDir is the directory, under the docs directory, of the generated
// step pages.
const stepsDir = "steps"

// variablesPage is the generated reference of the template context
// variables, relative to the docs directory.
const variablesPage = "variables.md"

func runDocs(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("docs", flag.ContinueOnError)
	fl.SetOutput(stderr)
	out := fl.String("out", "docs", "docs `directory`; the pages go to <dir>/steps/ and <dir>/variables.md")
	check := fl.Bool("check", false, "write nothing; exit 1 when the pages on disk are stale")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "Usage: secflow docs [--out docs] [--check]")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "Renders one Markdown page per registered step type (one per family of")
		fmt.Fprintln(stderr, "<prefix>.* types) and an index grouped by category into <dir>/steps/,")
		fmt.Fprintln(stderr, "and removes generated pages of step types that no longer exist; renders the")
		fmt.Fprintln(stderr, "template context variables (interpreter/variables.go) into <dir>/variables.md.")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "Example: secflow docs --out docs")
		fmt.Fprintln(stderr)
		fl.PrintDefaults()
	}
	if err := parseArgs(fl, args); err != nil {
		return flagExit(err)
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "secflow docs: unexpected arguments %q\n", fl.Args())
		return 2
	}
	files := docsFiles(step.Default())
	if *check {
		stale, err := staleDocs(*out, files)
		if err != nil {
			fmt.Fprintf(stderr, "secflow docs: %v\n", err)
			return 2
		}
		for _, s := range stale {
			fmt.Fprintln(stdout, s)
		}
		if len(stale) > 0 {
			fmt.Fprintf(stdout, "%d stale files under %s; run secflow docs --out %s\n", len(stale), *out, *out)
			return 1
		}
		fmt.Fprintf(stdout, "%d files under %s are current\n", len(files), *out)
		return 0
	}
	written, removed, err := writeDocs(*out, files)
	if err != nil {
		fmt.Fprintf(stderr, "secflow docs: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%d files under %s: %d written, %d removed, %d unchanged\n",
		len(files), *out, written, removed, len(files)-written)
	return 0
}

// docsFiles renders the generated docs — the step pages of reg and the
// template context variables — keyed by slash-separated path relative to
// the docs directory.
func docsFiles(reg *step.Registry) map[string][]byte {
	pages := step.Markdown(reg, step.MarkdownOptions{SourceBase: "../../", VariablesLink: "../" + variablesPage})
	files := make(map[string][]byte, len(pages)+1)
	for _, p := range pages {
		files[stepsDir+"/"+p.Name] = p.Body
	}
	files[variablesPage] = interpreter.VariablesMarkdown("../")
	return files
}

// generatedOnDisk lists the generated pages (those that start with
// step.GeneratedMarker) in dir/steps, as slash paths relative to dir.
func generatedOnDisk(dir string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(dir, stepsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing generated docs: %w", err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".md") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, stepsDir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading generated docs: %w", err)
		}
		if bytes.HasPrefix(data, []byte(step.GeneratedMarker)) {
			out = append(out, stepsDir+"/"+e.Name())
		}
	}
	return out, nil
}

// staleDocs compares files with dir and describes every difference: a
// missing or outdated file, or a generated page that is no longer produced.
func staleDocs(dir string, files map[string][]byte) ([]string, error) {
	var stale []string
	for _, name := range sortedKeys(files) {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			stale = append(stale, "missing: "+name)
		case err != nil:
			return nil, fmt.Errorf("reading generated docs: %w", err)
		case !bytes.Equal(got, files[name]):
			stale = append(stale, "outdated: "+name)
		}
	}
	onDisk, err := generatedOnDisk(dir)
	if err != nil {
		return nil, err
	}
	for _, name := range onDisk {
		if _, ok := files[name]; !ok {
			stale = append(stale, "obsolete: "+name)
		}
	}
	return stale, nil
}

// writeDocs writes the files that differ under dir and removes generated
// pages that are no longer produced. It returns how many files it wrote
// and removed.
func writeDocs(dir string, files map[string][]byte) (written, removed int, err error) {
	onDisk, err := generatedOnDisk(dir)
	if err != nil {
		return 0, 0, err
	}
	for _, name := range onDisk {
		if _, ok := files[name]; !ok {
			if err := os.Remove(filepath.Join(dir, filepath.FromSlash(name))); err != nil {
				return written, removed, fmt.Errorf("removing obsolete page: %w", err)
			}
			removed++
		}
	}
	for _, name := range sortedKeys(files) {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, files[name]) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return written, removed, fmt.Errorf("creating docs directory: %w", err)
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			return written, removed, fmt.Errorf("writing docs: %w", err)
		}
		written++
	}
	return written, removed, nil
}

// sortedKeys returns the keys of m, sorted.
func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
