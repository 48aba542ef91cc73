package starter

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/secflow/secflow/internal/blobstore"
	"github.com/secflow/secflow/interpreter"
)

// DefinitionSource is where the starter reads definitions from;
// *defstore.Store implements it.
type DefinitionSource interface {
	// Get returns the current revision of a definition.
	Get(id string) (*interpreter.Definition, bool)
	// All returns every loaded definition.
	All() []*interpreter.Definition
}

// Config configures a Server. Client and Definitions are required; every
// other field has a default.
type Config struct {
	// Client is the Temporal client runs are started with.
	Client client.Client
	// Namespace is the Temporal namespace (default "default").
	Namespace string
	// TaskQueue is the worker's task queue (default interpreter.DefaultTaskQueue).
	TaskQueue string
	// Definitions is the loaded definitions directory (*defstore.Store).
	Definitions DefinitionSource
	// Logger receives structured logs (default: JSON on stderr).
	Logger *slog.Logger
	// UIBaseURL is the Temporal Web UI root (e.g. "http://127.0.0.1:8233");
	// responses link to run pages under it. Empty: no links.
	UIBaseURL string

	// Auth authenticates /api/ requests. With no token and no secret set,
	// the API is open (development only; a warning is logged).
	Auth AuthConfig
	// TLS, when CertFile and KeyFile are set, makes ListenAndServe serve
	// HTTPS (callers running their own http.Server use TLS.Load).
	TLS TLSConfig
	// MaxBodyBytes caps a request body (default 10 MiB); larger → 413.
	MaxBodyBytes int64
	// MaxEventBytes caps one normalised event passed inline as run input
	// (default 1.5 MiB). A larger event is stored in Blobs and passed by
	// reference (RunInput.EventRef); without Blobs it is answered 413.
	MaxEventBytes int
	// Blobs stores events over MaxEventBytes (nil: 413). The worker must
	// read the same store (e.g. the same blobstore.Disk directory).
	Blobs blobstore.Store
	// Limits bound JSON nesting and alerts per request.
	Limits Limits
	// RateLimit limits requests per client (see RateLimit for defaults).
	RateLimit RateLimit

	// StartTimeout bounds each Temporal start, retries included (default 10s).
	StartTimeout time.Duration
	// DataConverter must match the worker's (default: the SDK default).
	DataConverter converter.DataConverter
	// Registerer receives the starter's Prometheus metrics in addition to
	// the Server's own registry served on /metrics (optional).
	Registerer prometheus.Registerer
	// MetricsToken, when set, is the bearer token GET /metrics requires
	// ("Authorization: Bearer <token>", compared in constant time; else
	// 401). Empty: /metrics is open (Prometheus on an internal network).
	MetricsToken string
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// AuthConfig selects how /api/ requests authenticate. A request passes when
// it carries any configured bearer token, or a valid HMAC signature.
type AuthConfig struct {
	// BearerTokens are accepted in "Authorization: Bearer <token>" (what a
	// Kibana Webhook connector sends as a custom header). Compared in
	// constant time.
	BearerTokens []string
	// HMACSecret enables signed requests: SignatureHeader carries
	// "sha256=<hex of HMAC-SHA256(secret, <timestamp> + "." + <body>)>" and
	// TimestampHeader the Unix time in seconds.
	HMACSecret string
	// SignatureHeader defaults to "X-Secflow-Signature".
	SignatureHeader string
	// TimestampHeader defaults to "X-Secflow-Timestamp".
	TimestampHeader string
	// Tolerance is the accepted clock difference for signed requests
	// (default 5m); a signature is also accepted only once within it.
	Tolerance time.Duration
}

// Enabled reports whether any authentication is configured.
func (a AuthConfig) Enabled() bool { return len(a.BearerTokens) > 0 || a.HMACSecret != "" }

// RateLimit is a token bucket per client (the remote IP, or, when
// TrustForwardedFor is set, the last X-Forwarded-For address: the one the
// reverse proxy in front of the starter appended). The zero value
// means 100 requests/s with bursts of 200; PerSecond < 0 disables limiting.
type RateLimit struct {
	PerSecond         float64
	Burst             int
	TrustForwardedFor bool
}

func (r RateLimit) withDefaults() RateLimit {
	if r.PerSecond == 0 {
		r.PerSecond = 100
	}
	if r.Burst <= 0 {
		r.Burst = int(2 * r.PerSecond)
		if r.Burst < 1 {
			r.Burst = 1
		}
	}
	return r
}

// TLSConfig names the server certificate; ClientCAFile additionally requires
// client certificates signed by that CA (mTLS).
type TLSConfig struct {
	CertFile     string
	KeyFile      string
	ClientCAFile string
}

// Enabled reports whether a certificate is configured.
func (t TLSConfig) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" }

// Load builds the server TLS configuration (nil when TLS is not enabled).
func (t TLSConfig) Load() (*tls.Config, error) {
	if !t.Enabled() {
		return nil, nil
	}
	if t.CertFile == "" || t.KeyFile == "" {
		return nil, errors.New("TLS needs both a certificate and a key file")
	}
	pair, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("loading TLS certificate %s / key %s: %w", t.CertFile, t.KeyFile, err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}}
	if t.ClientCAFile != "" {
		pem, err := os.ReadFile(t.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("reading client CA bundle: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client CA bundle %s holds no PEM certificate", t.ClientCAFile)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

func (c *Config) setDefaults() error {
	if c.Client == nil {
		return errors.New("starter: Config.Client is required")
	}
	if c.Definitions == nil {
		return errors.New("starter: Config.Definitions is required")
	}
	if c.Namespace == "" {
		c.Namespace = "default"
	}
	if c.TaskQueue == "" {
		c.TaskQueue = interpreter.DefaultTaskQueue
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 10 << 20
	}
	if c.MaxEventBytes <= 0 {
		c.MaxEventBytes = 1536 << 10
	}
	c.Limits = c.Limits.withDefaults()
	if c.Auth.SignatureHeader == "" {
		c.Auth.SignatureHeader = "X-Secflow-Signature"
	}
	if c.Auth.TimestampHeader == "" {
		c.Auth.TimestampHeader = "X-Secflow-Timestamp"
	}
	if c.Auth.Tolerance <= 0 {
		c.Auth.Tolerance = 5 * time.Minute
	}
	if c.StartTimeout <= 0 {
		c.StartTimeout = 10 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}
