package cli

// `secflow codec-server` is its own command rather than a flag of the
// starter: it holds the payload decryption keys and answers anyone it
// lets in with decrypted run data, so it belongs on the operators'
// network behind its own token, while the starter is the alert intake
// that alerting systems reach. It needs no Temporal connection.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/secflow/secflow/internal/payloadcodec"
	"github.com/secflow/secflow/starter"
)

func init() {
	register(command{
		name:    "codec-server",
		summary: "serve the payload codec (decrypt/encrypt) for the Temporal UI and CLI",
		run:     runCodecServer,
	})
}

// codecServerFlags are the flags of `secflow codec-server`.
type codecServerFlags struct {
	listen  string
	keys    payloadcodec.Source
	tokens  stringList
	origins stringList
	tls     starter.TLSConfig
	common  commonFlags
}

func runCodecServer(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("codec-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := codecServerFlags{keys: payloadcodec.SourceFromEnv(os.LookupEnv)}
	fs.StringVar(&f.listen, "listen", env("SECFLOW_CODEC_LISTEN", "127.0.0.1:8088"), "HTTP listen `address` (env SECFLOW_CODEC_LISTEN)")
	fs.StringVar(&f.keys.File, "payload-keys-file", f.keys.File, "`file` of the payload key ring, id:base64key entries (env "+payloadcodec.EnvKeysFile+"; or the ring inline in env "+payloadcodec.EnvKeys+")")
	f.tokens = envList("SECFLOW_CODEC_TOKENS")
	fs.Var(&f.tokens, "auth-token", "accepted bearer `token` (repeatable; env SECFLOW_CODEC_TOKENS, comma-separated; prefer the env: flags show in ps). None: no authentication")
	f.origins = envList("SECFLOW_CODEC_CORS_ORIGINS")
	fs.Var(&f.origins, "cors-origin", "browser `origin` allowed to call the server, the Temporal UI's, e.g. http://127.0.0.1:8233 (repeatable; env SECFLOW_CODEC_CORS_ORIGINS, comma-separated)")
	fs.StringVar(&f.tls.CertFile, "http-tls-cert", env("SECFLOW_CODEC_TLS_CERT", ""), "serve HTTPS with this certificate `file` (env SECFLOW_CODEC_TLS_CERT)")
	fs.StringVar(&f.tls.KeyFile, "http-tls-key", env("SECFLOW_CODEC_TLS_KEY", ""), "private key `file` for --http-tls-cert (env SECFLOW_CODEC_TLS_KEY)")
	fs.StringVar(&f.tls.ClientCAFile, "http-client-ca", env("SECFLOW_CODEC_CLIENT_CA", ""), "require client certificates signed by this CA `file` (env SECFLOW_CODEC_CLIENT_CA)")
	fs.StringVar(&f.common.logLevel, "log-level", env("SECFLOW_LOG_LEVEL", "info"), "log `level`: debug, info, warn, error (env SECFLOW_LOG_LEVEL)")
	fs.StringVar(&f.common.logFormat, "log-format", env("SECFLOW_LOG_FORMAT", "text"), "log `format`: text or json (env SECFLOW_LOG_FORMAT)")
	return runService(fs, &f.common, args, stderr, []string{
		"Serves the Temporal codec server protocol (POST /encode, /decode, also under a",
		"/{namespace}/ prefix) with the payload key ring the worker and starter use, so",
		"the Temporal UI (Settings → Codec Server) and CLI show decrypted payloads:",
		"",
		"  SECFLOW_PAYLOAD_KEYS_FILE=/run/secrets/payload-keys secflow codec-server --cors-origin http://127.0.0.1:8233",
		"  temporal workflow show -w <id> --codec-endpoint http://127.0.0.1:8088 [--codec-auth 'Bearer <token>']",
		"",
		"Whoever can reach it can decrypt run data: keep it on the operators' network,",
		"set SECFLOW_CODEC_TOKENS, serve HTTPS beyond loopback.",
	}, func(log *slog.Logger) error { return codecServerMain(ctx, f, log, nil) })
}

// codecServerMain serves until ctx is done. ready, if not nil, is called
// with the listen address once the server accepts connections (tests).
func codecServerMain(ctx context.Context, f codecServerFlags, log *slog.Logger, ready func(addr string)) error {
	codec, err := f.keys.Load()
	if err != nil {
		return err
	}
	if codec == nil {
		return fmt.Errorf("no payload key ring: set %s or %s (or --payload-keys-file)", payloadcodec.EnvKeys, payloadcodec.EnvKeysFile)
	}
	h, err := payloadcodec.NewHandler(payloadcodec.HandlerOptions{
		Codec: codec, BearerTokens: f.tokens, AllowedOrigins: f.origins, Logger: log,
	})
	if err != nil {
		return err
	}
	tlsCfg, err := f.tls.Load()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("codec server: %w", err)
	}
	if len(f.tokens) == 0 && !isLoopback(ln.Addr()) {
		log.Warn("codec server without --auth-token on a non-loopback address: anyone who reaches it can decrypt run data", "listen", ln.Addr().String())
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.Handle("/", h)
	srv := &http.Server{
		Handler: mux, TLSConfig: tlsCfg,
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if tlsCfg != nil {
		scheme = "https"
	}
	log.Info("codec server listening", "url", scheme+"://"+ln.Addr().String(), "current_key", codec.CurrentKeyID(),
		"keys", codec.KeyIDs(), "auth", len(f.tokens) > 0, "cors_origins", []string(f.origins))
	if ready != nil {
		ready(scheme + "://" + ln.Addr().String())
	}
	err = starter.Serve(ctx, srv, ln, 5*time.Second)
	if ctx.Err() != nil {
		// Stopped on purpose: the shutdown is best effort.
		log.Info("codec server stopped")
		return nil
	}
	if err != nil {
		return fmt.Errorf("codec server: %w", err)
	}
	return nil
}

func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}
