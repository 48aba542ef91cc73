package starter

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// authenticator checks bearer tokens and HMAC body signatures.
type authenticator struct {
	cfg    AuthConfig
	tokens [][32]byte // sha256 of each token: equal-length constant-time compares

	mu        sync.Mutex
	seen      map[string]time.Time // accepted signatures → expiry (replay guard)
	lastSweep time.Time
}

func newAuthenticator(cfg AuthConfig) *authenticator {
	a := &authenticator{cfg: cfg, seen: map[string]time.Time{}}
	for _, t := range cfg.BearerTokens {
		if t != "" {
			a.tokens = append(a.tokens, sha256.Sum256([]byte(t)))
		}
	}
	return a
}

// check returns "" when the request is authenticated, otherwise the reason
// it is not (safe to show the client: it never echoes a secret).
func (a *authenticator) check(r *http.Request, body []byte, now time.Time) string {
	if !a.cfg.Enabled() {
		return ""
	}
	if h := r.Header.Get("Authorization"); h != "" && len(a.tokens) > 0 {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			tok, ok = strings.CutPrefix(h, "bearer ")
		}
		if ok {
			sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
			match := 0
			for _, t := range a.tokens {
				match |= subtle.ConstantTimeCompare(sum[:], t[:])
			}
			if match == 1 {
				return ""
			}
			if a.cfg.HMACSecret == "" || r.Header.Get(a.cfg.SignatureHeader) == "" {
				return "invalid bearer token"
			}
		}
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

func (a *authenticator) checkSignature(r *http.Request, sig string, body []byte, now time.Time) string {
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
	got, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(sig), "sha256="))
	if err != nil {
		return "malformed signature: expected sha256=<hex>"
	}
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
