package activitykit

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"

	"github.com/secflow/secflow/interpreter/step"
)

// Connector config keys that shape TLS, shared by every connector type.
const (
	// ConfigCA is a PEM-encoded CA bundle.
	ConfigCA = "ca"
	// ConfigCAFile is the path of a PEM-encoded CA bundle.
	ConfigCAFile = "ca_file"
	// ConfigVerificationMode is "full" (default) or "none" (skip verification).
	ConfigVerificationMode = "verification_mode"
)

// CAPEM returns the PEM CA bundle configured on c (ca or ca_file), or nil.
func CAPEM(c *step.Connector) ([]byte, error) {
	if pem := c.ConfigString(ConfigCA); pem != "" {
		return []byte(pem), nil
	}
	if path := c.ConfigString(ConfigCAFile); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("connector %s: reading CA file: %w", c.ID, err)
		}
		return b, nil
	}
	return nil, nil
}

// ClientFor returns hc, or a copy of it with a transport that trusts the CA
// configured on c and honours verification_mode: none.
func ClientFor(hc *http.Client, c *step.Connector) (*http.Client, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	pem, err := CAPEM(c)
	if err != nil {
		return nil, err
	}
	skip := c.ConfigString(ConfigVerificationMode) == "none"
	if pem == nil && !skip {
		return hc, nil
	}
	tr, err := TransportFor(hc.Transport, pem, skip)
	if err != nil {
		return nil, fmt.Errorf("connector %s: %w", c.ID, err)
	}
	cp := *hc
	cp.Transport = tr
	return &cp, nil
}

// TransportFor clones base (or http.DefaultTransport) with a TLS config that
// trusts pem (when non-nil) and skips verification when skip is set.
func TransportFor(base http.RoundTripper, pem []byte, skip bool) (*http.Transport, error) {
	var tr *http.Transport
	if t, ok := base.(*http.Transport); ok {
		tr = t.Clone()
	} else {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if tr.TLSClientConfig != nil {
		cfg = tr.TLSClientConfig.Clone()
	}
	if pem != nil {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA bundle holds no PEM certificate")
		}
		cfg.RootCAs = pool
	}
	if skip {
		cfg.InsecureSkipVerify = true //nolint:gosec // explicitly configured verification_mode: none
	}
	tr.TLSClientConfig = cfg
	return tr, nil
}
