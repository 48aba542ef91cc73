// Package temporalclient builds a Temporal SDK client from command-line
// flags and the TEMPORAL_* environment variables the `temporal` CLI reads,
// so `secflow worker` and `secflow starter` connect to a cluster the same
// way the operator CLI does. When a payload key ring is configured
// (SECFLOW_PAYLOAD_KEYS / SECFLOW_PAYLOAD_KEYS_FILE, see
// internal/payloadcodec) every client it builds encrypts payloads.
package temporalclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"

	"github.com/secflow/secflow/internal/payloadcodec"
)

// DefaultAddress and DefaultNamespace are used when neither a flag nor an
// environment variable names the cluster.
const (
	DefaultAddress   = "127.0.0.1:7233"
	DefaultNamespace = "default"
)

// Options are the connection settings of a Temporal client.
type Options struct {
	// Address is the frontend gRPC endpoint, host:port.
	Address string
	// Namespace is the namespace every call targets.
	Namespace string
	// TLS enables TLS; it is implied by any certificate, CA, server name or API key.
	TLS bool
	// TLSSet records that TLS was chosen explicitly (flag or TEMPORAL_TLS),
	// so TLS=false then wins over the implication above.
	TLSSet bool
	// TLSCertPath and TLSKeyPath name the client certificate and key (mTLS).
	TLSCertPath string
	TLSKeyPath  string
	// TLSCAPath names a PEM bundle of CAs to verify the server with (default: system roots).
	TLSCAPath string
	// TLSServerName overrides the name the server certificate is checked against (SNI).
	TLSServerName string
	// TLSDisableHostVerification skips server certificate verification (testing only).
	TLSDisableHostVerification bool
	// APIKey is sent as a bearer token on every call. It is a secret: it is
	// never logged nor printed by String.
	APIKey string
	// Payload is the payload encryption key ring (env SECFLOW_PAYLOAD_KEYS
	// or --payload-keys-file / SECFLOW_PAYLOAD_KEYS_FILE); none: payloads
	// are stored in clear. The keys are never logged nor printed by String.
	Payload payloadcodec.Source
	// MetricsHandler receives the SDK's metrics (not a flag; nil: none).
	// `secflow worker --metrics-listen` sets it (see internal/sdkmetrics).
	MetricsHandler client.MetricsHandler
}

// envNames maps each setting to the environment variables read for it, in
// order of preference. The first name is the one of `temporal` CLI v1.5.1;
// the second, where present, the name newer CLIs and the SDK's envconfig use.
var envNames = map[string][]string{
	"address":                       {"TEMPORAL_ADDRESS"},
	"namespace":                     {"TEMPORAL_NAMESPACE"},
	"tls":                           {"TEMPORAL_TLS"},
	"tls-cert-path":                 {"TEMPORAL_TLS_CERT", "TEMPORAL_TLS_CLIENT_CERT_PATH"},
	"tls-key-path":                  {"TEMPORAL_TLS_KEY", "TEMPORAL_TLS_CLIENT_KEY_PATH"},
	"tls-ca-path":                   {"TEMPORAL_TLS_CA", "TEMPORAL_TLS_SERVER_CA_CERT_PATH"},
	"tls-server-name":               {"TEMPORAL_TLS_SERVER_NAME"},
	"tls-disable-host-verification": {"TEMPORAL_TLS_DISABLE_HOST_VERIFICATION"},
	"api-key":                       {"TEMPORAL_API_KEY"},
}

// Flags registers the connection flags on fs and returns the Options they
// fill. Defaults come from the environment (see envNames), so the
// precedence is: flag, then environment variable, then built-in default.
// The environment is read when Flags is called.
func Flags(fs *flag.FlagSet) *Options {
	return flagsFrom(fs, os.LookupEnv)
}

func flagsFrom(fs *flag.FlagSet, lookup func(string) (string, bool)) *Options {
	o := &Options{}
	env := func(name, def string) string {
		for _, n := range envNames[name] {
			if v, ok := lookup(n); ok && v != "" {
				return v
			}
		}
		return def
	}
	help := func(name, text string) string {
		return text + " (env " + strings.Join(envNames[name], " or ") + ")"
	}
	fs.StringVar(&o.Address, "address", env("address", DefaultAddress), help("address", "Temporal frontend gRPC `host:port`"))
	fs.StringVar(&o.Namespace, "namespace", env("namespace", DefaultNamespace), help("namespace", "Temporal `namespace`"))
	if v := env("tls", ""); v != "" {
		b, err := strconv.ParseBool(v)
		o.TLS, o.TLSSet = b, err == nil
	}
	fs.Var(tlsFlag{o}, "tls", help("tls", "enable TLS (implied by the other TLS options and --api-key)"))
	fs.StringVar(&o.TLSCertPath, "tls-cert-path", env("tls-cert-path", ""), help("tls-cert-path", "`path` of the client certificate (PEM) for mTLS"))
	fs.StringVar(&o.TLSKeyPath, "tls-key-path", env("tls-key-path", ""), help("tls-key-path", "`path` of the client private key (PEM) for mTLS"))
	fs.StringVar(&o.TLSCAPath, "tls-ca-path", env("tls-ca-path", ""), help("tls-ca-path", "`path` of the CA bundle (PEM) that signs the server certificate"))
	fs.StringVar(&o.TLSServerName, "tls-server-name", env("tls-server-name", ""), help("tls-server-name", "server `name` to verify the certificate against"))
	disable, _ := strconv.ParseBool(env("tls-disable-host-verification", "false"))
	fs.BoolVar(&o.TLSDisableHostVerification, "tls-disable-host-verification", disable, help("tls-disable-host-verification", "do not verify the server certificate"))
	fs.StringVar(&o.APIKey, "api-key", env("api-key", ""), help("api-key", "API `key` sent as bearer token"))
	// The inline key ring is read from the environment only, so keys never
	// appear in a process listing.
	o.Payload = payloadcodec.SourceFromEnv(lookup)
	fs.StringVar(&o.Payload.File, "payload-keys-file", o.Payload.File,
		"`file` of the payload encryption key ring, id:base64key entries, the first encrypts (env "+payloadcodec.EnvKeysFile+"; or the ring inline in env "+payloadcodec.EnvKeys+")")
	return o
}

// tlsFlag is the --tls boolean flag; setting it records the explicit choice.
type tlsFlag struct{ o *Options }

func (f tlsFlag) String() string {
	if f.o == nil {
		return "false"
	}
	return strconv.FormatBool(f.o.TLS)
}

func (f tlsFlag) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	f.o.TLS, f.o.TLSSet = b, true
	return nil
}

func (f tlsFlag) IsBoolFlag() bool { return true }

// String describes the options for logs; the API key is never included.
func (o *Options) String() string {
	s := fmt.Sprintf("address=%s namespace=%s tls=%t", o.Address, o.Namespace, o.tlsEnabled())
	if o.APIKey != "" {
		s += " api-key=<set>"
	}
	if o.Payload.Configured() {
		s += " payload-encryption=on"
	}
	return s
}

func (o *Options) tlsEnabled() bool {
	if o.TLSSet {
		return o.TLS
	}
	return o.TLS || o.TLSCertPath != "" || o.TLSKeyPath != "" || o.TLSCAPath != "" ||
		o.TLSServerName != "" || o.TLSDisableHostVerification || o.APIKey != ""
}

// TLSConfig builds the client TLS configuration, or returns nil when TLS is
// off. Certificate and key must be given together.
func (o *Options) TLSConfig() (*tls.Config, error) {
	if !o.tlsEnabled() {
		if o.TLSCertPath != "" || o.TLSKeyPath != "" || o.TLSCAPath != "" {
			return nil, errors.New("TLS options given but TLS disabled explicitly (--tls=false / TEMPORAL_TLS=false)")
		}
		return nil, nil
	}
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         o.TLSServerName,
		InsecureSkipVerify: o.TLSDisableHostVerification, //nolint:gosec // operator's explicit choice
	}
	switch {
	case o.TLSCertPath != "" && o.TLSKeyPath != "":
		pair, err := tls.LoadX509KeyPair(o.TLSCertPath, o.TLSKeyPath)
		if err != nil {
			return nil, fmt.Errorf("loading TLS client certificate %s / key %s: %w", o.TLSCertPath, o.TLSKeyPath, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	case o.TLSCertPath != "" || o.TLSKeyPath != "":
		return nil, errors.New("--tls-cert-path and --tls-key-path must be given together")
	}
	if o.TLSCAPath != "" {
		pem, err := os.ReadFile(o.TLSCAPath)
		if err != nil {
			return nil, fmt.Errorf("reading TLS CA bundle: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TLS CA bundle %s holds no PEM certificate", o.TLSCAPath)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// ClientOptions converts the options into SDK client options. logger may be
// nil (then the SDK logs nothing).
func (o *Options) ClientOptions(logger *slog.Logger) (client.Options, error) {
	if o.Address == "" {
		return client.Options{}, errors.New("no Temporal address (--address or TEMPORAL_ADDRESS)")
	}
	tlsCfg, err := o.TLSConfig()
	if err != nil {
		return client.Options{}, err
	}
	dc, err := o.DataConverter()
	if err != nil {
		return client.Options{}, err
	}
	co := client.Options{
		HostPort:  o.Address,
		Namespace: o.Namespace,
		Logger:    Logger(logger),
	}
	if o.MetricsHandler != nil {
		co.MetricsHandler = o.MetricsHandler
	}
	if dc != nil {
		co.DataConverter = dc
		// Failure messages and stack traces move into an encoded payload
		// too (the default failure converter leaves them in clear).
		co.FailureConverter = temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
			DataConverter: dc, EncodeCommonAttributes: true,
		})
	}
	co.ConnectionOptions.TLS = tlsCfg
	if o.APIKey != "" {
		co.Credentials = client.NewAPIKeyStaticCredentials(o.APIKey)
	}
	return co, nil
}

// DataConverter returns the data converter clients use: nil (the SDK
// default) without a payload key ring, else the default converter with the
// AES-256-GCM codec of internal/payloadcodec. Code that encodes payloads
// itself (the starter's Launcher) must use the same one. A bad key ring is
// an error.
func (o *Options) DataConverter() (converter.DataConverter, error) {
	codec, err := o.Payload.Load()
	if err != nil || codec == nil {
		return nil, err
	}
	return codec.DataConverter(), nil
}

// PayloadFromEnv returns the payload key ring source of the environment,
// for clients built without Flags (secflow dev, tests).
func PayloadFromEnv() payloadcodec.Source {
	return payloadcodec.SourceFromEnv(os.LookupEnv)
}

// Dial connects to the cluster and checks it answers (the SDK calls
// GetSystemInfo on dial).
func Dial(ctx context.Context, o *Options, logger *slog.Logger) (client.Client, error) {
	co, err := o.ClientOptions(logger)
	if err != nil {
		return nil, err
	}
	c, err := client.DialContext(ctx, co)
	if err != nil {
		return nil, fmt.Errorf("connecting to Temporal at %s (namespace %s): %w", o.Address, o.Namespace, err)
	}
	return c, nil
}

// Logger adapts a slog logger for the SDK (whose default logger writes to
// stdout). A nil logger discards everything.
func Logger(l *slog.Logger) sdklog.Logger {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return sdklog.NewStructuredLogger(l)
}
