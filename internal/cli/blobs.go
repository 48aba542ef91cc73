package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/secflow/secflow/internal/blobstore"
	"github.com/secflow/secflow/interpreter/duration"
)

func init() {
	register(command{
		name:    "blobs",
		summary: "inspect (stats) and garbage-collect (gc) the blob store of large outputs and events",
		run:     runBlobs,
	})
}

// defaultBlobGCAge is the default --older-than of `secflow blobs gc`: well
// over the namespace retention docker-compose and `secflow dev` create (7
// days) plus the longest wait a run does by default (72h); see
// docs/operating.md for the rule.
const defaultBlobGCAge = "30d"

// blobsUsage is the help of `secflow blobs`.
func blobsUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: secflow blobs stats [--dir DIR]")
	fmt.Fprintln(w, "       secflow blobs gc [--older-than 30d] [--dry-run] [-v] [--dir DIR]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "The blob store keeps step outputs and alert events too large for Temporal history.")
	fmt.Fprintln(w, "stats counts its payloads by time since last use; gc removes the payloads not written")
	fmt.Fprintln(w, "or read for longer than --older-than, and temporary files of interrupted writes.")
	fmt.Fprintln(w, "A payload must outlive every run that references it: choose --older-than above the")
	fmt.Fprintln(w, "longest a run stays open without reading it plus the namespace retention (docs/operating.md).")
	fmt.Fprintln(w, "Safe while the worker and the starter run.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Example: secflow blobs gc --older-than 30d --dir /blobs")
}

func runBlobs(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		blobsUsage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	switch args[0] {
	case "gc":
		return runBlobsGC(ctx, args[1:], stdout, stderr)
	case "stats":
		return runBlobsStats(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "secflow blobs: unknown subcommand %q (want stats or gc)\n\n", args[0])
		blobsUsage(stderr)
		return 2
	}
}

// blobsFlagSet returns the flag set of a blobs subcommand with --dir, read
// like the worker's and the starter's --blob-dir.
func blobsFlagSet(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("blobs "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		blobsUsage(stderr)
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	dir := fs.String("dir", env("SECFLOW_BLOB_DIR", blobstore.DefaultDir), "`directory` of the blob store: the worker's and the starter's --blob-dir (env SECFLOW_BLOB_DIR; secflow dev: <data-dir>/blobs)")
	return fs, dir
}

// openBlobs parses the flags of a blobs subcommand and opens the store;
// code is the exit status when it returns nil.
func openBlobs(fs *flag.FlagSet, dir *string, args []string, stderr io.Writer) (d *blobstore.Disk, code int) {
	if err := parseArgs(fs, args); err != nil {
		return nil, flagExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "secflow %s: unexpected arguments %q\n", fs.Name(), fs.Args())
		return nil, 2
	}
	d, err := blobstore.OpenDisk(*dir)
	if err != nil {
		fmt.Fprintf(stderr, "secflow %s: %v\n", fs.Name(), err)
		return nil, 1
	}
	return d, 0
}

func runBlobsGC(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, dir := blobsFlagSet("gc", stderr)
	olderThan := fs.String("older-than", defaultBlobGCAge, "remove payloads not written or read for this `age` (\"30d\", \"720h\"; at least 1d); keep it above the longest a run stays open plus the Temporal namespace retention")
	dryRun := fs.Bool("dry-run", false, "report what would be removed, remove nothing")
	verbose := fs.Bool("v", false, "list every file removed")
	d, code := openBlobs(fs, dir, args, stderr)
	if d == nil {
		return code
	}
	age, err := duration.Parse(*olderThan)
	if err != nil {
		fmt.Fprintf(stderr, "secflow blobs gc: --older-than: %v\n", err)
		return 2
	}
	if age < blobstore.MinGCAge {
		fmt.Fprintf(stderr, "secflow blobs gc: --older-than %s is under the minimum of 1d (Temporal's minimum namespace retention)\n", *olderThan)
		return 2
	}
	verb := "removed"
	if *dryRun {
		verb = "would remove"
	}
	opts := blobstore.GCOptions{OlderThan: age, DryRun: *dryRun}
	if *verbose {
		opts.OnRemove = func(r blobstore.Removed) {
			what := r.Ref
			if what == "" {
				what = "temporary file " + r.Path
			}
			fmt.Fprintf(stdout, "%s %s (%s, last used %s)\n", verb, what, humanBytes(r.Size), r.LastUsed.UTC().Format(time.RFC3339))
		}
	}
	rep, err := d.GC(ctx, opts)
	fmt.Fprintf(stdout, "%s %d blobs (%s) and %d temporary files (%s) not used since %s (--older-than %s) in %s; kept %d blobs (%s)\n",
		verb, rep.Removed, humanBytes(rep.RemovedBytes), rep.Temps, humanBytes(rep.TempBytes),
		rep.Cutoff.UTC().Format(time.RFC3339), *olderThan, d.Dir(), rep.Kept, humanBytes(rep.KeptBytes))
	if err != nil {
		fmt.Fprintf(stderr, "secflow blobs gc: %v\n", err)
		return 1
	}
	return 0
}

func runBlobsStats(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, dir := blobsFlagSet("stats", stderr)
	d, code := openBlobs(fs, dir, args, stderr)
	if d == nil {
		return code
	}
	st, err := d.Stats(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "secflow blobs stats: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %d blobs, %s\n", d.Dir(), st.Blobs, humanBytes(st.Bytes))
	if st.Blobs > 0 {
		fmt.Fprintf(stdout, "last used: oldest %s, newest %s\n", st.Oldest.UTC().Format(time.RFC3339), st.Newest.UTC().Format(time.RFC3339))
		fmt.Fprintln(stdout, "by time since last use:")
		prev := "0"
		for _, b := range st.Ages {
			label := "over " + prev
			if b.UpTo > 0 {
				label = prev + " to " + days(b.UpTo)
				prev = days(b.UpTo)
			}
			fmt.Fprintf(stdout, "  %-12s %6d blobs  %10s\n", label, b.Blobs, humanBytes(b.Bytes))
		}
	}
	if st.Temps > 0 {
		fmt.Fprintf(stdout, "temporary files: %d, %s (writes in progress or interrupted; gc removes old ones)\n", st.Temps, humanBytes(st.TempBytes))
	}
	return 0
}

// days formats a whole number of days ("30d").
func days(d time.Duration) string { return fmt.Sprintf("%dd", d/(24*time.Hour)) }

// humanBytes formats a byte count with a binary unit ("1.5 MiB").
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
