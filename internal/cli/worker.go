package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/secflow/secflow/internal/blobstore"
	"github.com/secflow/secflow/internal/connectors"
	"github.com/secflow/secflow/internal/defstore"
	"github.com/secflow/secflow/internal/searchattr"
	"github.com/secflow/secflow/internal/temporalclient"
	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/interpreter/duration"
	"github.com/secflow/secflow/interpreter/step"
	"github.com/secflow/secflow/worker"
)

func init() {
	register(command{
		name:    "worker",
		summary: "run the Temporal worker against an existing cluster",
		run:     runWorker,
	})
}

// workerFlags are the flags of `secflow worker`.
type workerFlags struct {
	temporal    *temporalclient.Options
	common      *commonFlags
	connectors  string
	kibanaURL   string
	ensureAttrs bool
	metrics     *metricsFlags
	blobGCAge   string
	deployment  worker.Deployment
}

func runWorker(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := workerFlags{temporal: temporalclient.Flags(fs), common: addCommonFlags(fs), metrics: addMetricsFlags(fs, true)}
	fs.StringVar(&f.connectors, "connectors", env(connectors.EnvPath, ""), "connectors.yaml `file` (env "+connectors.EnvPath+"); empty: only SECFLOW_ES_URL / SECFLOW_KIBANA_URL defaults")
	fs.StringVar(&f.kibanaURL, "kibana-url", env("SECFLOW_KIBANA_URL", ""), "Kibana base `URL` exposed to templates as kibanaUrl (env SECFLOW_KIBANA_URL)")
	fs.StringVar(&f.blobGCAge, "blob-gc-older-than", env("SECFLOW_BLOB_GC_OLDER_THAN", ""), "collect the blob store every 6h, removing payloads unused for this `age` (e.g. 30d; at least the namespace retention + 1d; env SECFLOW_BLOB_GC_OLDER_THAN); empty: off, see docs/operating.md")
	fs.StringVar(&f.deployment.Name, "deployment-name", env("SECFLOW_DEPLOYMENT_NAME", ""), "Temporal Worker Deployment `name` (with --build-id: turns on Worker Versioning, runs stay pinned to the build that started them; env SECFLOW_DEPLOYMENT_NAME); empty: unversioned, see docs/operating.md")
	fs.StringVar(&f.deployment.BuildID, "build-id", env("SECFLOW_BUILD_ID", ""), "`ID` of this worker build within --deployment-name, e.g. the release tag (env SECFLOW_BUILD_ID)")
	fs.BoolVar(&f.ensureAttrs, "ensure-search-attributes", envBool("SECFLOW_ENSURE_SEARCH_ATTRIBUTES"), "register secflow's custom search attributes on the namespace before polling (needs operator permission; env SECFLOW_ENSURE_SEARCH_ATTRIBUTES)")
	return runService(fs, f.common, args, stderr, []string{
		"Runs the secflow Temporal worker (interpreter workflow + step activities) against an",
		"existing Temporal cluster; it never starts a server (use `secflow dev` for that).",
		"Connection flags default to the TEMPORAL_* variables the temporal CLI reads.",
		"",
		"Example: TEMPORAL_ADDRESS=temporal:7233 secflow worker --definitions /etc/secflow/definitions",
	}, func(log *slog.Logger) error { return workerMain(ctx, f, log) })
}

func workerMain(ctx context.Context, f workerFlags, log *slog.Logger) error {
	if err := f.deployment.Validate(); err != nil {
		return fmt.Errorf("--deployment-name/--build-id: %w", err)
	}
	var gc worker.BlobGC
	if f.blobGCAge != "" {
		age, err := duration.Parse(f.blobGCAge)
		if err != nil {
			return fmt.Errorf("--blob-gc-older-than: %w", err)
		}
		gc.OlderThan = age
	}
	defs, err := loadDefinitions(f.common.definitions)
	if err != nil {
		return err
	}
	watchDefinitions(ctx, defs, log)
	store, err := connectors.Load(f.connectors)
	if err != nil {
		return err
	}
	wopts, err := f.metrics.serveWorker(ctx, f.temporal, step.Default(), log)
	if err != nil {
		return err
	}
	log.Info("connecting to Temporal", "temporal", f.temporal.String())
	c, err := temporalclient.Dial(ctx, f.temporal, log)
	if err != nil {
		return err
	}
	defer c.Close()
	if f.ensureAttrs {
		if err := searchattr.Ensure(ctx, c, f.temporal.Namespace); err != nil {
			return err
		}
	}
	blobs, err := openBlobStore(f.common.blobDir, f.temporal)
	if err != nil {
		return err
	}
	log.Info("worker polling", "task_queue", f.common.taskQueue, "definitions", len(defs.All()), "blob_dir", blobs.Dir(),
		"deployment_version", f.deployment.String())
	return worker.Run(ctx, worker.Config{
		Blobs:       blobs,
		BlobGC:      gc,
		Client:      c,
		Namespace:   f.temporal.Namespace,
		TaskQueue:   f.common.taskQueue,
		Definitions: defs,
		Registry:    step.Default(),
		Runtime:     connectors.NewRuntime(store, nil, log.With("component", "activity")),
		Logger:      log,
		UIBaseURL:   f.common.uiURL,
		KibanaURL:   f.kibanaURL,
		Options:     wopts,
		Deployment:  f.deployment,
	})
}

// commonFlags are shared by worker, starter and dev.
type commonFlags struct {
	taskQueue   string
	definitions string
	uiURL       string
	logLevel    string
	logFormat   string
	blobDir     string
}

func addCommonFlags(fs *flag.FlagSet) *commonFlags {
	c := &commonFlags{}
	fs.StringVar(&c.taskQueue, "task-queue", env("SECFLOW_TASK_QUEUE", interpreter.DefaultTaskQueue), "Temporal task `queue` of the worker (env SECFLOW_TASK_QUEUE)")
	fs.StringVar(&c.definitions, "definitions", env("SECFLOW_DEFINITIONS", "definitions"), "`directory` of workflow definitions (*.yaml), reloaded on change (env SECFLOW_DEFINITIONS)")
	fs.StringVar(&c.uiURL, "ui-url", env("SECFLOW_UI_URL", ""), "Temporal Web UI base `URL` used in run links (env SECFLOW_UI_URL)")
	fs.StringVar(&c.logLevel, "log-level", env("SECFLOW_LOG_LEVEL", "info"), "log `level`: debug, info, warn, error (env SECFLOW_LOG_LEVEL)")
	fs.StringVar(&c.logFormat, "log-format", env("SECFLOW_LOG_FORMAT", "text"), "log `format`: text or json (env SECFLOW_LOG_FORMAT)")
	fs.StringVar(&c.blobDir, "blob-dir", env("SECFLOW_BLOB_DIR", blobstore.DefaultDir), "`directory` of the blob store keeping large step outputs and alert events out of Temporal history; the worker and the starter must share it (env SECFLOW_BLOB_DIR)")
	return c
}

// logger builds the process logger on w (stderr).
func (c *commonFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", c.logFormat)
	}
}

// loadDefinitions loads and validates the definitions directory.
func loadDefinitions(dir string) (*defstore.Store, error) {
	defs, err := defstore.Open(dir, step.Default())
	if err != nil {
		return nil, fmt.Errorf("loading definitions from %s: %w", dir, err)
	}
	return defs, nil
}

// watchDefinitions reloads the store on change until ctx is done (a broken
// edit keeps the previous set) and calls onChange after each reload that
// changed the set. Only one watcher per store: the pollers would race.
func watchDefinitions(ctx context.Context, defs *defstore.Store, log *slog.Logger, onChange ...func()) {
	go defs.Watch(ctx, 2*time.Second, func() {
		log.Info("definitions reloaded", "dir", defs.Dir(), "count", len(defs.All()))
		for _, f := range onChange {
			f()
		}
	})
}

// env returns the environment variable name, or def when unset or empty.
func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// envBool reads a boolean environment variable (false when unset or invalid).
func envBool(name string) bool {
	b, _ := strconv.ParseBool(os.Getenv(name))
	return b
}

// envList splits a comma-separated environment variable.
func envList(name string) []string {
	var out []string
	for _, s := range strings.Split(os.Getenv(name), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
