//go:build !nodev

package cli

// The dev command embeds the Temporal server (internal/devstack), which
// makes the binary ~5x larger. Production images build with -tags nodev:
// the worker and starter commands then carry no server code at all.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/interceptor"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/secflow/secflow/internal/connectors"
	"github.com/secflow/secflow/internal/devstack"
	"github.com/secflow/secflow/internal/metricsauth"
	"github.com/secflow/secflow/internal/payloadcodec"
	"github.com/secflow/secflow/internal/sandbox"
	"github.com/secflow/secflow/internal/temporalclient"
	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/interpreter/step"
	"github.com/secflow/secflow/starter"
	"github.com/secflow/secflow/worker"
)

func init() {
	register(command{
		name:    "dev",
		summary: "run everything locally: embedded Temporal server + UI, worker and alert intake",
		run:     runDev,
	})
}

// sandboxServices are the fakes `secflow dev --sandbox` wires as connectors.
var sandboxServices = []string{"elasticsearch", "kibana", "openai", "slack", "pagerduty", "jira", "smtp"}

// devFlags are the flags of `secflow dev`.
type devFlags struct {
	grpcPort, uiPort, httpPort int
	dataDir                    string
	sandbox                    bool
	connectors                 string
	verboseServer              bool
	common                     commonFlags
	metrics                    *metricsFlags
}

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	started := time.Now()
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f devFlags
	fs.IntVar(&f.grpcPort, "grpc-port", devstack.DefaultGRPCPort, "Temporal frontend gRPC `port` on 127.0.0.1")
	fs.IntVar(&f.uiPort, "ui-port", devstack.DefaultUIPort, "Temporal Web UI `port` on 127.0.0.1")
	fs.IntVar(&f.httpPort, "http-port", 8080, "alert intake (starter) HTTP `port` on 127.0.0.1")
	fs.StringVar(&f.dataDir, "data-dir", devstack.DefaultDataDir, "`directory` of the Temporal SQLite database (kept across restarts)")
	fs.StringVar(&f.common.definitions, "definitions", "definitions", "`directory` of workflow definitions, reloaded on change")
	fs.StringVar(&f.common.taskQueue, "task-queue", interpreter.DefaultTaskQueue, "Temporal task `queue`")
	fs.StringVar(&f.connectors, "connectors", env(connectors.EnvPath, ""), "connectors.yaml `file` for real systems (env "+connectors.EnvPath+"); turns the sandbox off unless --sandbox is given")
	fs.BoolVar(&f.sandbox, "sandbox", true, "wire the connectors to in-process fakes (Elasticsearch, Kibana, OpenAI, Slack, PagerDuty, Jira, SMTP); default on without --connectors")
	fs.BoolVar(&f.verboseServer, "verbose-server", false, "also log the Temporal server's info messages")
	fs.StringVar(&f.common.logLevel, "log-level", "info", "log `level`: debug, info, warn, error")
	fs.StringVar(&f.common.logFormat, "log-format", "text", "log `format`: text or json")
	f.metrics = addMetricsFlags(fs, false)
	fs.StringVar(&f.common.blobDir, "blob-dir", "", "`directory` of the blob store for large step outputs and alert events (default <data-dir>/blobs)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: secflow dev [flags]")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "Starts, in this process and on 127.0.0.1 only: a real Temporal server (SQLite under")
		fmt.Fprintln(stderr, "--data-dir), the Temporal Web UI, the secflow worker and the alert intake API.")
		fmt.Fprintln(stderr, "Ctrl-C stops everything. Runs survive a restart on the same --data-dir.")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "Example: secflow dev --http-port 9090 --data-dir /tmp/secflow")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	if err := parseArgs(fs, args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "secflow dev: unexpected arguments %q (dev takes only flags; see secflow dev -h)\n", fs.Args())
		return 2
	}
	explicit := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { explicit[fl.Name] = true })
	if f.connectors != "" && !explicit["sandbox"] {
		f.sandbox = false
	}
	log, err := f.common.logger(stderr)
	if err != nil {
		fmt.Fprintln(stderr, "secflow dev:", err)
		return 2
	}
	if err := devMain(ctx, f, started, stdout, log); err != nil {
		log.Error("secflow dev failed", "error", err)
		return 1
	}
	return 0
}

// devMain starts everything, prints where it listens, and blocks until ctx
// is done; then it stops the parts in reverse order.
func devMain(ctx context.Context, f devFlags, started time.Time, stdout io.Writer, log *slog.Logger) (err error) {
	// Cancelled before the parts are closed, so watchers and reconcilers
	// stop first whichever way devMain returns.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Claim the HTTP port first: a busy port fails before the slow parts start.
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(f.httpPort)))
	if err != nil {
		return fmt.Errorf("alert intake port %d is not free: %w", f.httpPort, err)
	}
	defer ln.Close()

	defs, err := loadDefinitions(f.common.definitions)
	if err != nil {
		return err
	}

	// Payload encryption (SECFLOW_PAYLOAD_KEYS / _FILE): a bad key ring
	// fails before the slow parts start; the codec server is served on the
	// intake port under /codec and the Web UI pointed at it.
	topts := &temporalclient.Options{Payload: temporalclient.PayloadFromEnv()}
	codec, err := topts.Payload.Load()
	if err != nil {
		return err
	}
	codecEndpoint := ""
	if codec != nil {
		codecEndpoint = "http://" + ln.Addr().String() + "/codec"
	}

	stack, err := devstack.Start(ctx, devstack.Options{
		DataDir: f.dataDir, GRPCPort: f.grpcPort, UIPort: f.uiPort,
		Logger: log.With("component", "temporal"), VerboseServer: f.verboseServer,
		CodecEndpoint: codecEndpoint,
	})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := stack.Close(); cerr != nil && err == nil {
			err = cerr
		}
		log.Info("Temporal server stopped")
	}()

	var store *connectors.Store
	var sb *sandbox.Sandbox
	kibanaURL := ""
	if f.sandbox {
		if sb, err = sandbox.Start(); err != nil {
			return err
		}
		defer sb.Close()
		urls := map[string]string{}
		for _, n := range sandboxServices {
			if u := sb.URL(n); u != "" {
				urls[n] = u
			}
		}
		store, kibanaURL = connectors.ForSandbox(urls), urls["kibana"]
	} else if store, err = connectors.Load(f.connectors); err != nil {
		return err
	}

	topts.Address, topts.Namespace = stack.HostPort(), stack.Namespace()
	// One /metrics on the intake port: the Temporal SDK's, the worker's step
	// metrics and the starter's, all on the worker metrics' registry.
	wm := worker.NewMetrics()
	topts.MetricsHandler = wm.SDKHandler()
	c, err := temporalclient.Dial(ctx, topts, log)
	if err != nil {
		return err
	}
	defer c.Close()
	dc, err := topts.DataConverter() // the client's: the starter encodes inputs itself
	if err != nil {
		return err
	}

	blobDir := f.common.blobDir
	if blobDir == "" {
		blobDir = filepath.Join(f.dataDir, "blobs")
	}
	blobs, err := openBlobStore(blobDir, topts)
	if err != nil {
		return err
	}
	w, err := worker.New(worker.Config{
		Blobs:       blobs,
		Client:      c,
		Namespace:   stack.Namespace(),
		TaskQueue:   f.common.taskQueue,
		Definitions: defs,
		Registry:    step.Default(),
		Runtime:     connectors.NewRuntime(store, nil, log.With("component", "activity")),
		Logger:      log,
		UIBaseURL:   stack.UIURL(),
		KibanaURL:   kibanaURL,
		Options:     sdkworker.Options{Interceptors: []interceptor.WorkerInterceptor{wm.Interceptor(step.Default())}},
	})
	if err != nil {
		return err
	}
	if err := w.Start(); err != nil {
		return fmt.Errorf("starting the worker: %w", err)
	}
	defer func() {
		w.Stop()
		log.Info("worker stopped")
	}()

	st, err := starter.New(starter.Config{
		DataConverter: dc,
		Blobs:         blobs,
		Client:        c,
		Namespace:     stack.Namespace(),
		TaskQueue:     f.common.taskQueue,
		Definitions:   defs,
		Logger:        log,
		UIBaseURL:     stack.UIURL(),
		// Loopback only; a dev-only open API is what `dev` is for, and
		// no per-client rate limit, so `secflow loadtest` measures the
		// stack rather than the limiter.
		RateLimit:    starter.RateLimit{PerSecond: -1},
		Registerer:   wm.Registry(),
		MetricsToken: f.metrics.token,
	})
	if err != nil {
		return err
	}
	watchDefinitions(ctx, defs, log, st.DefinitionsChanged)
	go st.RunScheduleReconciler(ctx, 0)

	mux := http.NewServeMux()
	if sb != nil {
		mux.Handle("GET /sandbox", sb.PageHandler())
	}
	mux.Handle("/", st.Handler())
	mux.Handle("GET /metrics", metricsauth.Require(f.metrics.token, promhttp.HandlerFor(wm.Registry(), promhttp.HandlerOpts{})))
	if codec != nil {
		h, err := payloadcodec.NewHandler(payloadcodec.HandlerOptions{
			Codec: codec, AllowedOrigins: uiOrigins(stack.UIURL()), Logger: log.With("component", "codec"),
		})
		if err != nil {
			return err
		}
		mux.Handle("/codec/", h)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		log.Info("alert intake stopped")
	}()

	intake := "http://" + ln.Addr().String()
	printBanner(stdout, f, stack, intake, sb, len(defs.All()), time.Since(started))
	if codec != nil {
		fmt.Fprintf(stdout, "Payloads are encrypted (key %s). The UI decodes them through %s; so does the CLI with:\n", codec.CurrentKeyID(), codecEndpoint)
		fmt.Fprintf(stdout, "  temporal workflow show --address %s -w <workflow id> --codec-endpoint %s\n\n", stack.HostPort(), codecEndpoint)
	}

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("stopping")
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			runErr = fmt.Errorf("alert intake: %w", err)
		}
	}
	cancel()
	return runErr
}

func printBanner(w io.Writer, f devFlags, stack *devstack.Stack, intake string, sb *sandbox.Sandbox, nDefs int, took time.Duration) {
	fmt.Fprintf(w, "\nsecflow dev is up in %s — Ctrl-C stops everything.\n\n", took.Round(10*time.Millisecond))
	fmt.Fprintf(w, "Temporal UI     %s\n", stack.UIURL())
	fmt.Fprintf(w, "Temporal gRPC   %s (namespace %s, task queue %s)\n", stack.HostPort(), stack.Namespace(), f.common.taskQueue)
	fmt.Fprintf(w, "Alert intake    %s/api/v1/alerts\n", intake)
	if sb != nil {
		fmt.Fprintf(w, "Sandbox         %s/sandbox (fake Elasticsearch, Kibana, OpenAI, Slack, PagerDuty, Jira, SMTP)\n", intake)
	} else {
		fmt.Fprintf(w, "Connectors      %s\n", orDefault(f.connectors, "(none; SECFLOW_ES_URL / SECFLOW_KIBANA_URL defaults only)"))
	}
	fmt.Fprintf(w, "Definitions     %s (%d loaded, reloaded on change)\n", f.common.definitions, nDefs)
	fmt.Fprintf(w, "Database        %s\n", stack.DBPath())
	fmt.Fprintln(w)
	demo := filepath.Join(f.common.definitions, "demo-alert.json")
	if _, err := os.Stat(demo); err == nil {
		fmt.Fprintln(w, "Fire the demo alert:")
		fmt.Fprintf(w, "  curl -sS -X POST %s/api/v1/alerts -H 'Content-Type: application/json' --data @%s\n", intake, demo)
	} else {
		fmt.Fprintln(w, "Post an alert:")
		fmt.Fprintf(w, "  curl -sS -X POST %s/api/v1/alerts -H 'Content-Type: application/json' --data @alert.json\n", intake)
	}
	fmt.Fprintln(w, "List runs with the temporal CLI:")
	fmt.Fprintf(w, "  temporal workflow list --address %s\n\n", stack.HostPort())
}

// uiOrigins are the browser origins of the Web UI at uiURL: as printed
// (127.0.0.1) and as "localhost", which users type too.
func uiOrigins(uiURL string) []string {
	if uiURL == "" {
		return nil
	}
	return []string{uiURL, strings.Replace(uiURL, "://127.0.0.1:", "://localhost:", 1)}
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}
