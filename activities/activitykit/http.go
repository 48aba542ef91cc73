package activitykit

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"syscall"

	"github.com/secflow/secflow/interpreter/step"
)

// DefaultMaxBytes is the response size cap when a Request sets none (10 MiB,
// Kibana's default max_content_length / max-step-size).
const DefaultMaxBytes int64 = 10 << 20

// Request is one outgoing HTTP call.
type Request struct {
	Method string
	URL    string
	Header http.Header
	// Body is sent as-is; nil sends no body.
	Body []byte
	// MaxBytes caps the response body; 0 means DefaultMaxBytes, <0 no cap.
	MaxBytes int64
	// Secrets are scrubbed from every error message (tokens in URLs, ...).
	Secrets []string
}

// Response is a fully read HTTP response.
type Response struct {
	Status     int
	StatusText string
	Header     http.Header
	Body       []byte
}

// OK reports a 2xx status.
func (r *Response) OK() bool { return r.Status >= 200 && r.Status < 300 }

// Data is the body as a JSON-like value: parsed JSON when the response is
// JSON (by Content-Type, or a body that parses as a JSON object or array),
// otherwise the text. An empty body is "".
func (r *Response) Data() any {
	if len(bytes.TrimSpace(r.Body)) == 0 {
		return ""
	}
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	trimmed := bytes.TrimSpace(r.Body)
	if strings.Contains(ct, "json") || trimmed[0] == '{' || trimmed[0] == '[' {
		if v, err := DecodeJSON(r.Body); err == nil {
			return v
		}
	}
	return string(r.Body)
}

// HeaderMap returns the headers as a JSON-like object with lower-case names
// (as Node's http module gives them); repeated values are joined with ", ".
func (r *Response) HeaderMap() map[string]any {
	out := make(map[string]any, len(r.Header))
	for k, vs := range r.Header {
		out[strings.ToLower(k)] = strings.Join(vs, ", ")
	}
	return out
}

// Do sends req with ctx (the activity context: cancelling it aborts the
// call), heartbeating while it waits. It returns the response whatever its
// status; callers classify non-2xx with StatusError. Failures before a
// response arrives are returned as *step.Error:
//
//   - connection refused: ConnectionRefused "Connection refused to <origin>", retryable;
//   - ctx cancelled: HttpRequestCancelledError "HTTP request was cancelled", permanent;
//   - timeouts, resets, DNS failures: the error code (ETIMEDOUT, ECONNRESET,
//     ENOTFOUND), retryable;
//   - TLS verification failures: TLSError, permanent;
//   - a body over the cap: ERR_BAD_RESPONSE "maxContentLength size of N exceeded", permanent.
//
// No message ever contains the request URL beyond its origin, nor a secret.
func Do(ctx context.Context, hc *http.Client, req Request) (*Response, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	u, err := url.Parse(req.URL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, step.Errorf("InvalidURL", "Invalid URL: %s", Redact(safeURL(req.URL), req.Secrets...))
	}
	origin := u.Scheme + "://" + u.Host
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	method := strings.ToUpper(req.Method)
	if method == "" {
		method = http.MethodGet
	}
	hr, err := http.NewRequestWithContext(ctx, method, req.URL, body)
	if err != nil {
		return nil, step.Errorf("InvalidRequest", "building request to %s: %s", origin, Redact(err.Error(), req.Secrets...))
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	stop := KeepAlive(ctx, 0)
	defer stop()
	res, err := hc.Do(hr)
	if err != nil {
		return nil, NetworkError(ctx, err, origin, req.Secrets...)
	}
	defer res.Body.Close()
	max := req.MaxBytes
	if max == 0 {
		max = DefaultMaxBytes
	}
	var data []byte
	if max > 0 {
		data, err = io.ReadAll(io.LimitReader(res.Body, max+1))
		if err == nil && int64(len(data)) > max {
			return nil, step.Errorf("ERR_BAD_RESPONSE", "maxContentLength size of %d exceeded", max)
		}
	} else {
		data, err = io.ReadAll(res.Body)
	}
	if err != nil {
		return nil, NetworkError(ctx, err, origin, req.Secrets...)
	}
	return &Response{Status: res.StatusCode, StatusText: StatusText(res), Header: res.Header, Body: data}, nil
}

// StatusText is the reason phrase of res ("Not Found"), without the code.
func StatusText(res *http.Response) string {
	if s := strings.TrimSpace(strings.TrimPrefix(res.Status, fmt.Sprint(res.StatusCode))); s != "" {
		return s
	}
	return http.StatusText(res.StatusCode)
}

// NetworkError classifies an error returned by http.Client.Do or while
// reading a body (see Do). origin is "scheme://host[:port]".
func NetworkError(ctx context.Context, err error, origin string, secrets ...string) *step.Error {
	var se *step.Error
	if errors.As(err, &se) {
		return se
	}
	if errors.Is(err, context.Canceled) || ctx.Err() == context.Canceled {
		return step.Errorf("HttpRequestCancelledError", "HTTP request was cancelled")
	}
	inner := err
	var ue *url.Error
	if errors.As(err, &ue) {
		inner = ue.Err // drop the full URL: it may carry a token
	}
	msg := Redact(inner.Error(), secrets...)
	var cve *tls.CertificateVerificationError
	var uae x509.UnknownAuthorityError
	var hne x509.HostnameError
	var cie x509.CertificateInvalidError
	var dnse *net.DNSError
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return step.Transient("ConnectionRefused", "Connection refused to %s", origin)
	case errors.As(err, &cve), errors.As(err, &uae), errors.As(err, &hne), errors.As(err, &cie):
		return step.Errorf("TLSError", "TLS handshake with %s failed: %s", origin, msg)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return step.Transient("ETIMEDOUT", "Request to %s timed out", origin)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return step.Transient("ECONNRESET", "Connection to %s was reset: %s", origin, msg)
	case errors.As(err, &dnse):
		return step.Transient("ENOTFOUND", "Host of %s not found: %s", origin, msg)
	}
	return step.Transient("UnknownHttpRequestError", "Request to %s failed: %s", origin, msg)
}

// safeURL drops query and user info from a URL for messages.
func safeURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparseable URL>"
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}

// Origin returns "scheme://host" of raw, or "" when raw is not absolute.
func Origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// Query builds a query string from a JSON-like object: arrays repeat the
// key, nested objects are JSON-encoded, keys are sorted.
func Query(m map[string]any) url.Values {
	q := url.Values{}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch v := m[k].(type) {
		case nil:
		case []any:
			for _, e := range v {
				q.Add(k, Stringify(e))
			}
		default:
			q.Set(k, Stringify(v))
		}
	}
	return q
}

// HostPolicy is implemented by runtimes that restrict the hosts the http
// step (and webhook-style connectors) may call, like Kibana's
// xpack.actions.allowedHosts. connectors.NewRuntime implements it.
type HostPolicy interface {
	// AllowedHosts lists allowed host names; "*" allows every host, and an
	// empty list means no restriction was configured (everything allowed).
	AllowedHosts() []string
}

// HostAllowed reports whether rawURL's host may be called under rt's
// policy. Entries match the host name exactly (case-insensitive, port
// ignored) or as "*.example.com" suffix patterns.
func HostAllowed(rt any, rawURL string) bool {
	p, ok := rt.(HostPolicy)
	if !ok {
		return true
	}
	hosts := p.AllowedHosts()
	if len(hosts) == 0 {
		return true
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	h := strings.ToLower(u.Hostname())
	for _, a := range hosts {
		a = strings.ToLower(strings.TrimSpace(a))
		switch {
		case a == "*", a == h:
			return true
		case strings.HasPrefix(a, "*.") && strings.HasSuffix(h, a[1:]):
			return true
		}
	}
	return false
}
