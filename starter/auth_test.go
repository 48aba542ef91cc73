package starter

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
)

func TestAuthenticator(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	body := []byte(`{"alerts":[]}`)
	secret := []byte("s3cret")
	good := SignatureHeaderValue(secret, ts, body)
	cfg := AuthConfig{BearerTokens: []string{"tok-1", "tok-2"}, HMACSecret: "s3cret",
		SignatureHeader: "X-Sig", TimestampHeader: "X-Ts", Tolerance: time.Minute}
	tests := []struct {
		name    string
		cfg     AuthConfig
		headers map[string]string
		body    []byte
		at      time.Time
		want    string // "" = accepted, else substring of the reason
	}{
		{"no auth configured", AuthConfig{}, nil, body, now, ""},
		{"bearer ok", cfg, map[string]string{"Authorization": "Bearer tok-2"}, body, now, ""},
		{"bearer wrong", cfg, map[string]string{"Authorization": "Bearer tok-3"}, body, now, "invalid bearer token"},
		{"bearer prefix of a token", cfg, map[string]string{"Authorization": "Bearer tok"}, body, now, "invalid bearer token"},
		{"nothing", cfg, nil, body, now, "missing credentials"},
		{"basic auth is not bearer", cfg, map[string]string{"Authorization": "Basic dG9rLTE6"}, body, now, "missing credentials"},
		{"signature ok", cfg, map[string]string{"X-Sig": good, "X-Ts": ts}, body, now, ""},
		{"signature without prefix ok", cfg, map[string]string{"X-Sig": strings.TrimPrefix(good, "sha256="), "X-Ts": ts}, body, now.Add(time.Second), ""},
		{"signature over another body", cfg, map[string]string{"X-Sig": good, "X-Ts": ts}, []byte(`{"alerts":[1]}`), now, "invalid signature"},
		{"signature too old", cfg, map[string]string{"X-Sig": good, "X-Ts": ts}, body, now.Add(2 * time.Minute), "outside the accepted window"},
		{"signature from the future", cfg, map[string]string{"X-Sig": good, "X-Ts": ts}, body, now.Add(-2 * time.Minute), "outside the accepted window"},
		{"signature without timestamp", cfg, map[string]string{"X-Sig": good}, body, now, "missing X-Ts"},
		{"malformed signature", cfg, map[string]string{"X-Sig": "sha256=zz", "X-Ts": ts}, body, now, "malformed signature"},
		{"wrong bearer but good signature", cfg, map[string]string{"Authorization": "Bearer nope", "X-Sig": good, "X-Ts": ts}, body, now, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newAuthenticator(tc.cfg) // fresh: no replay memory between cases
			r := httptest.NewRequest("POST", "/api/v1/alerts", nil)
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			got := a.check(r, tc.body, tc.at)
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("check = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAuthenticatorRejectsReplay(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	body := []byte("x")
	a := newAuthenticator(AuthConfig{HMACSecret: "k", SignatureHeader: "X-Sig", TimestampHeader: "X-Ts", Tolerance: time.Minute})
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("X-Sig", SignatureHeaderValue([]byte("k"), ts, body))
	r.Header.Set("X-Ts", ts)
	if got := a.check(r, body, now); got != "" {
		t.Fatalf("first use rejected: %s", got)
	}
	if got := a.check(r, body, now.Add(time.Second)); !strings.Contains(got, "replay") {
		t.Errorf("second use = %q, want a replay rejection", got)
	}
}

func TestLimiter(t *testing.T) {
	now := time.Unix(0, 0)
	l := newLimiter(RateLimit{PerSecond: 2, Burst: 3})
	for i := 0; i < 3; i++ {
		if ok, _ := l.allow("a", now); !ok {
			t.Fatalf("request %d within the burst refused", i)
		}
	}
	ok, wait := l.allow("a", now)
	if ok || wait <= 0 || wait > time.Second {
		t.Fatalf("4th request: ok=%v wait=%v, want refused with a wait ≤ 1s", ok, wait)
	}
	if ok, _ := l.allow("b", now); !ok {
		t.Error("another client shares the bucket")
	}
	if ok, _ := l.allow("a", now.Add(600*time.Millisecond)); !ok {
		t.Error("token not refilled after 0.6s at 2/s")
	}
	if newLimiter(RateLimit{PerSecond: -1}) != nil {
		t.Error("negative rate does not disable limiting")
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.1:5555"
	r.Header.Set("X-Forwarded-For", "1.2.3.4, 10.0.0.1")
	if got := l.clientKey(r); got != "10.0.0.1" {
		t.Errorf("clientKey without trust = %s", got)
	}
	l2 := newLimiter(RateLimit{TrustForwardedFor: true})
	// The proxy appends the address it saw; what the client wrote to the
	// left is spoofable and must not choose the bucket.
	if got := l2.clientKey(r); got != "10.0.0.1" {
		t.Errorf("clientKey with trust = %s, want the proxy-appended 10.0.0.1", got)
	}
	r.Header.Set("X-Forwarded-For", "9.9.9.9")
	r.Header.Add("X-Forwarded-For", "5.6.7.8, 1.2.3.4")
	if got := l2.clientKey(r); got != "1.2.3.4" {
		t.Errorf("clientKey with repeated headers = %s", got)
	}
}

// countingBody counts the bytes the server reads from a request body.
type countingBody struct {
	n, size int
}

func (c *countingBody) Read(p []byte) (int, error) {
	if c.n >= c.size {
		return 0, io.EOF
	}
	k := min(len(p), c.size-c.n)
	for i := range p[:k] {
		p[i] = 'x'
	}
	c.n += k
	return k, nil
}

// TestSignedRequestRefusedBeforeBody: a request that only carries a
// signature header with a stale, future or missing timestamp, or a malformed
// signature, is refused 401 without its body being read (no 413, no buffering).
func TestSignedRequestRefusedBeforeBody(t *testing.T) {
	c, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	now := time.Unix(1_800_000_000, 0)
	s, err := New(Config{Client: c, Definitions: newMemDefs(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Auth: AuthConfig{HMACSecret: "k"}, MaxBodyBytes: 1 << 10, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	stale := strconv.FormatInt(now.Add(-time.Hour).Unix(), 10)
	future := strconv.FormatInt(now.Add(time.Hour).Unix(), 10)
	tests := []struct {
		name    string
		headers map[string]string
	}{
		{"stale", map[string]string{"X-Secflow-Signature": "sha256=00", "X-Secflow-Timestamp": stale}},
		{"future", map[string]string{"X-Secflow-Signature": "sha256=00", "X-Secflow-Timestamp": future}},
		{"no timestamp", map[string]string{"X-Secflow-Signature": "sha256=00"}},
		{"malformed", map[string]string{"X-Secflow-Signature": "sha256=zz", "X-Secflow-Timestamp": ts}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := &countingBody{size: 1 << 20}
			r := httptest.NewRequest("POST", "/api/v1/alerts", body)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			s.Handler().ServeHTTP(w, r)
			if w.Code != 401 || body.n != 0 {
				t.Fatalf("code %d after reading %d body bytes: %s", w.Code, body.n, w.Body)
			}
		})
	}
}
