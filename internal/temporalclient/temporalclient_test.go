package temporalclient

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func parse(t *testing.T, env map[string]string, args ...string) *Options {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := flagsFrom(fs, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	return o
}

func TestPrecedence(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want Options
	}{
		{
			name: "defaults",
			want: Options{Address: DefaultAddress, Namespace: DefaultNamespace},
		},
		{
			name: "env over default",
			env:  map[string]string{"TEMPORAL_ADDRESS": "temporal:7233", "TEMPORAL_NAMESPACE": "sec", "TEMPORAL_API_KEY": "k"},
			want: Options{Address: "temporal:7233", Namespace: "sec", APIKey: "k"},
		},
		{
			name: "flag over env",
			env:  map[string]string{"TEMPORAL_ADDRESS": "temporal:7233", "TEMPORAL_NAMESPACE": "sec"},
			args: []string{"--address", "other:1", "--namespace=ns2"},
			want: Options{Address: "other:1", Namespace: "ns2"},
		},
		{
			name: "v1.5.1 names preferred over envconfig names",
			env: map[string]string{
				"TEMPORAL_TLS_CERT": "a.crt", "TEMPORAL_TLS_CLIENT_CERT_PATH": "b.crt",
				"TEMPORAL_TLS_CLIENT_KEY_PATH": "b.key", "TEMPORAL_TLS_SERVER_CA_CERT_PATH": "ca.pem",
				"TEMPORAL_TLS_SERVER_NAME": "srv",
			},
			want: Options{Address: DefaultAddress, Namespace: DefaultNamespace,
				TLSCertPath: "a.crt", TLSKeyPath: "b.key", TLSCAPath: "ca.pem", TLSServerName: "srv"},
		},
		{
			name: "empty env value ignored",
			env:  map[string]string{"TEMPORAL_ADDRESS": ""},
			want: Options{Address: DefaultAddress, Namespace: DefaultNamespace},
		},
		{
			name: "TEMPORAL_TLS=false then --tls",
			env:  map[string]string{"TEMPORAL_TLS": "false"},
			args: []string{"--tls"},
			want: Options{Address: DefaultAddress, Namespace: DefaultNamespace, TLS: true, TLSSet: true},
		},
		{
			name: "TEMPORAL_TLS=false",
			env:  map[string]string{"TEMPORAL_TLS": "false"},
			want: Options{Address: DefaultAddress, Namespace: DefaultNamespace, TLSSet: true},
		},
		{
			name: "disable host verification from env, flags for the rest",
			env:  map[string]string{"TEMPORAL_TLS_DISABLE_HOST_VERIFICATION": "true"},
			args: []string{"--tls-cert-path", "c", "--tls-key-path", "k", "--tls-ca-path", "ca", "--tls-server-name", "n", "--api-key", "s"},
			want: Options{Address: DefaultAddress, Namespace: DefaultNamespace, TLSDisableHostVerification: true,
				TLSCertPath: "c", TLSKeyPath: "k", TLSCAPath: "ca", TLSServerName: "n", APIKey: "s"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parse(t, tt.env, tt.args...)
			if *got != tt.want {
				t.Errorf("got %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestStringHidesAPIKey(t *testing.T) {
	o := &Options{Address: "a:1", Namespace: "n", APIKey: "super-secret"}
	if s := o.String(); strings.Contains(s, "super-secret") || !strings.Contains(s, "api-key=<set>") || !strings.Contains(s, "tls=true") {
		t.Errorf("String() = %q", s)
	}
}

// writePair writes a self-signed certificate and its key as PEM files.
func writePair(t *testing.T, dir string) (certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(4102444800, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}

func TestTLSConfig(t *testing.T) {
	dir := t.TempDir()
	cert, key := writePair(t, dir)
	notPEM := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(notPEM, []byte("nope"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		o         Options
		wantNil   bool
		wantErr   string
		wantCerts int
		wantRoots bool
		wantSNI   string
		wantSkip  bool
	}{
		{name: "plain", o: Options{}, wantNil: true},
		{name: "explicit tls, system roots", o: Options{TLS: true, TLSSet: true}},
		{name: "api key implies tls", o: Options{APIKey: "k"}},
		{name: "api key with tls=false", o: Options{APIKey: "k", TLSSet: true}, wantNil: true},
		{name: "mtls", o: Options{TLSCertPath: cert, TLSKeyPath: key, TLSCAPath: cert, TLSServerName: "srv"},
			wantCerts: 1, wantRoots: true, wantSNI: "srv"},
		{name: "skip verify", o: Options{TLSDisableHostVerification: true}, wantSkip: true},
		{name: "cert without key", o: Options{TLSCertPath: cert}, wantErr: "together"},
		{name: "missing key file", o: Options{TLSCertPath: cert, TLSKeyPath: filepath.Join(dir, "none")}, wantErr: "loading TLS client certificate"},
		{name: "bad CA", o: Options{TLSCAPath: notPEM}, wantErr: "no PEM certificate"},
		{name: "missing CA", o: Options{TLSCAPath: filepath.Join(dir, "none")}, wantErr: "reading TLS CA bundle"},
		{name: "tls options with tls=false", o: Options{TLSSet: true, TLSCAPath: cert}, wantErr: "disabled explicitly"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := tt.o.TLSConfig()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (cfg == nil) != tt.wantNil {
				t.Fatalf("cfg = %v, want nil: %t", cfg, tt.wantNil)
			}
			if cfg == nil {
				return
			}
			if len(cfg.Certificates) != tt.wantCerts || (cfg.RootCAs != nil) != tt.wantRoots ||
				cfg.ServerName != tt.wantSNI || cfg.InsecureSkipVerify != tt.wantSkip {
				t.Errorf("cfg: certs=%d roots=%t sni=%q skip=%t", len(cfg.Certificates), cfg.RootCAs != nil, cfg.ServerName, cfg.InsecureSkipVerify)
			}
		})
	}
}

func TestClientOptions(t *testing.T) {
	o := &Options{Address: "h:1", Namespace: "ns", APIKey: "k"}
	co, err := o.ClientOptions(nil)
	if err != nil {
		t.Fatal(err)
	}
	if co.HostPort != "h:1" || co.Namespace != "ns" || co.Credentials == nil || co.Logger == nil || co.ConnectionOptions.TLS == nil {
		t.Errorf("client options: %+v", co)
	}
	if _, err := (&Options{}).ClientOptions(nil); err == nil {
		t.Error("empty address accepted")
	}
}
