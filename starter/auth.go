package starter

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/secflow/secflow/internal/bearer"
)

// authenticator checks bearer tokens and HMAC body signatures.
type authenticator struct {
	cfg    AuthConfig
	tokens bearer.Tokens

	mu        sync.Mutex
	seen      map[string]time.Time // accepted signatures → expiry (replay guard)
	lastSweep time.Time
}

func newAuthenticator(cfg AuthConfig) *authenticator {
	return &authenticator{cfg: cfg, tokens: bearer.New(cfg.BearerTokens...), seen: map[string]time.Time{}}
}

// check returns "" when the request is authenticated, otherwise the reason
// it is not (safe to show the client: it never echoes a secret).
func (a *authenticator) check(r *http.Request, body []byte, now time.Time) string {
	if !a.cfg.Enabled() {
		return ""
	}
	if a.bearerOK(r) {
		return ""
	}
	if _, ok := bearer.Credentials(r.Header.Get("Authorization")); ok && len(a.tokens) > 0 &&
		(a.cfg.HMACSecret == "" || r.Header.Get(a.cfg.SignatureHeader) == "") {
		return "invalid bearer token"
	}
	if a.cfg.HMACSecret != "" {
		if sig := r.Header.Get(a.cfg.SignatureHeader); sig != "" {
			return a.checkSignature(r, sig, body, now)
		}
	}
	switch {
	case len(a.tokens) > 0 && a.cfg.HMACSecret != "":
		return "missing credentials: send Authorization: Bearer <token> or an " + a.cfg.SignatureHeader + " signature"
	case len(a.tokens) > 0:
		return "missing credentials: send Authorization: Bearer <token>"
	default:
		return "missing " + a.cfg.SignatureHeader + " signature"
	}
}

// precheck decides what can be decided about r before its body is read: a
// valid bearer token passes, and a signed request whose timestamp is
// missing, stale or from the future, or whose signature is malformed, is
// refused — so an unauthenticated client cannot make the server buffer a
// body just by sending a signature header. It returns "" when the body must
// be read (and check called) to decide.
func (a *authenticator) precheck(r *http.Request, now time.Time) string {
	if !a.cfg.Enabled() || a.cfg.HMACSecret == "" {
		return ""
	}
	sig := r.Header.Get(a.cfg.SignatureHeader)
	if sig == "" {
		return ""
	}
	if a.bearerOK(r) {
		return ""
	}
	return a.signatureShape(r, sig, now)
}

// bearerOK reports whether r carries one of the configured bearer tokens
// (bearer.Tokens: constant-time compare of SHA-256 digests).
func (a *authenticator) bearerOK(r *http.Request) bool {
	return a.tokens.Authorized(r.Header.Get("Authorization"))
}

// signatureShape checks the timestamp window and the signature syntax.
func (a *authenticator) signatureShape(r *http.Request, sig string, now time.Time) string {
	ts := r.Header.Get(a.cfg.TimestampHeader)
	if ts == "" {
		return "missing " + a.cfg.TimestampHeader + " header (Unix seconds) for the signature"
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return a.cfg.TimestampHeader + " must be Unix seconds"
	}
	at := time.Unix(sec, 0)
	if d := now.Sub(at); d > a.cfg.Tolerance || d < -a.cfg.Tolerance {
		return "signature timestamp outside the accepted window of " + a.cfg.Tolerance.String()
	}
	if _, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(sig), "sha256=")); err != nil {
		return "malformed signature: expected sha256=<hex>"
	}
	return ""
}

func (a *authenticator) checkSignature(r *http.Request, sig string, body []byte, now time.Time) string {
	if why := a.signatureShape(r, sig, now); why != "" {
		return why
	}
	ts := r.Header.Get(a.cfg.TimestampHeader)
	got, _ := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(sig), "sha256="))
	if !hmac.Equal(got, Sign([]byte(a.cfg.HMACSecret), ts, body)) {
		return "invalid signature"
	}
	key := hex.EncodeToString(got)
	a.mu.Lock()
	defer a.mu.Unlock()
	if now.Sub(a.lastSweep) > time.Second {
		a.lastSweep = now
		for k, exp := range a.seen {
			if now.After(exp) {
				delete(a.seen, k)
			}
		}
	}
	if _, replay := a.seen[key]; replay {
		return "signature already used (replay)"
	}
	a.seen[key] = now.Add(2 * a.cfg.Tolerance)
	return ""
}

// normalizedSignature is the lower-case hex of a signature header value
// ("sha256=<hex>" or "<hex>").
func normalizedSignature(header string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(header), "sha256="))
}

// Sign computes the HMAC-SHA256 of "<timestamp>.<body>" with secret, the
// signature the starter expects (hex-encoded, prefixed "sha256=", in the
// signature header).
func Sign(secret []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// SignatureHeaderValue is the value of the signature header for body.
func SignatureHeaderValue(secret []byte, timestamp string, body []byte) string {
	return "sha256=" + hex.EncodeToString(Sign(secret, timestamp, body))
}
