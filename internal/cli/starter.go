package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/secflow/secflow/internal/temporalclient"
	"github.com/secflow/secflow/starter"
)

func init() {
	register(command{
		name:    "starter",
		summary: "run the alert intake HTTP service against an existing cluster",
		run:     runStarter,
	})
}

// starterFlags are the flags of `secflow starter`.
type starterFlags struct {
	temporal   *temporalclient.Options
	common     *commonFlags
	listen     string
	tokens     stringList
	hmacSecret string
	tls        starter.TLSConfig
	trustXFF   bool
	metrics    *metricsFlags
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return fmt.Sprint(len(*l), " value(s)") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func runStarter(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("starter", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := starterFlags{temporal: temporalclient.Flags(fs), common: addCommonFlags(fs), metrics: addMetricsFlags(fs, false)}
	fs.StringVar(&f.listen, "listen", env("SECFLOW_LISTEN", "127.0.0.1:8080"), "HTTP listen `address` (env SECFLOW_LISTEN)")
	f.tokens = envList("SECFLOW_API_TOKENS")
	fs.Var(&f.tokens, "api-token", "accepted bearer `token` for /api/ (repeatable; env SECFLOW_API_TOKENS, comma-separated). None and no --hmac-secret: the API is open")
	fs.StringVar(&f.hmacSecret, "hmac-secret", env("SECFLOW_HMAC_SECRET", ""), "`secret` for HMAC-signed requests (prefer env SECFLOW_HMAC_SECRET: flags show in ps)")
	fs.StringVar(&f.tls.CertFile, "http-tls-cert", env("SECFLOW_HTTP_TLS_CERT", ""), "serve HTTPS with this certificate `file` (env SECFLOW_HTTP_TLS_CERT)")
	fs.StringVar(&f.tls.KeyFile, "http-tls-key", env("SECFLOW_HTTP_TLS_KEY", ""), "private key `file` for --http-tls-cert (env SECFLOW_HTTP_TLS_KEY)")
	fs.StringVar(&f.tls.ClientCAFile, "http-client-ca", env("SECFLOW_HTTP_CLIENT_CA", ""), "require client certificates signed by this CA `file` (env SECFLOW_HTTP_CLIENT_CA)")
	fs.BoolVar(&f.trustXFF, "trust-forwarded-for", envBool("SECFLOW_TRUST_FORWARDED_FOR"), "rate-limit by the last X-Forwarded-For address, the one your proxy appended (behind a proxy; env SECFLOW_TRUST_FORWARDED_FOR)")
	return runService(fs, f.common, args, stderr, []string{
		"Serves the alert intake API (POST /api/v1/alerts, manual runs, schedules) and starts",
		"runs on an existing Temporal cluster; it never starts a server (use `secflow dev`).",
		"Connection flags default to the TEMPORAL_* variables the temporal CLI reads.",
		"",
		"Example: SECFLOW_API_TOKENS=s3cret secflow starter --listen :8080 --address temporal:7233",
	}, func(log *slog.Logger) error { return starterMain(ctx, f, log) })
}

func starterMain(ctx context.Context, f starterFlags, log *slog.Logger) error {
	defs, err := loadDefinitions(f.common.definitions)
	if err != nil {
		return err
	}
	log.Info("connecting to Temporal", "temporal", f.temporal.String())
	c, err := temporalclient.Dial(ctx, f.temporal, log)
	if err != nil {
		return err
	}
	defer c.Close()
	dc, err := f.temporal.DataConverter() // the client's: the starter encodes inputs itself
	if err != nil {
		return err
	}
	blobs, err := openBlobStore(f.common.blobDir, f.temporal)
	if err != nil {
		return err
	}
	srv, err := starter.New(starter.Config{
		DataConverter: dc,
		Blobs:         blobs,
		Client:        c,
		Namespace:     f.temporal.Namespace,
		TaskQueue:     f.common.taskQueue,
		Definitions:   defs,
		Logger:        log,
		UIBaseURL:     f.common.uiURL,
		Auth:          starter.AuthConfig{BearerTokens: f.tokens, HMACSecret: f.hmacSecret},
		TLS:           f.tls,
		RateLimit:     starter.RateLimit{TrustForwardedFor: f.trustXFF},
		MetricsToken:  f.metrics.token,
	})
	if err != nil {
		return err
	}
	// One watcher drives both the reload and the schedules of `scheduled` triggers.
	watchDefinitions(ctx, defs, log, srv.DefinitionsChanged)
	go srv.RunScheduleReconciler(ctx, 0)
	scheme := "http"
	if f.tls.Enabled() {
		scheme = "https"
	}
	log.Info("starter listening", "url", scheme+"://"+strings.TrimPrefix(f.listen, ":"), "task_queue", f.common.taskQueue, "definitions", len(defs.All()))
	return srv.ListenAndServe(ctx, f.listen, 10*time.Second)
}
