// Package http implements the `http` step type (§6.4): a generic HTTP
// request, either to a URL given in `with.url` or through a .http/.webhook
// connector that holds the base URL and credentials.
package http

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	nethttp "net/http"
	"net/url"
	"strings"
	"time"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// Field names under `with`.
const (
	fURL     = "url"
	fMethod  = "method"
	fHeaders = "headers"
	fBody    = "body"
	fPath    = "path"
	fQuery   = "query"
	fFetcher = "fetcher"

	// fetcher options
	fSkipSSL      = "skip_ssl_verification"
	fFollow       = "follow_redirects"
	fMaxRedirects = "max_redirects"
	fKeepAlive    = "keep_alive"
	fMaxContent   = "max_content_length"
)

// Connector types accepted by `connector-id`.
var connectorTypes = []string{".http", ".webhook"}

var spec = &step.Spec{
	Status:   step.StatusCore,
	Type:     "http",
	Kind:     step.KindActivity,
	Category: "network",
	Summary:  "Send an HTTP request and return {status, statusText, headers, data}.",
	Doc: "Sends one HTTP request. The URL's host must be allowed by the `allowedHosts` list of " +
		"connectors.yaml (like Kibana's `xpack.actions.allowedHosts`). A 2xx response completes the step with " +
		"`{status, statusText, headers, data}`, where `data` is parsed JSON for JSON responses and text otherwise. " +
		"Any other status fails with `HttpRequestError` (`details` holds the same four fields); 5xx and 429 are " +
		"retryable and honour `Retry-After`. A refused connection fails with `ConnectionRefused`.\n\n" +
		"Connections to link-local / cloud-metadata addresses (169.254.169.254, fe80::/10, fd00:ec2::254, " +
		"100.100.100.200, 0.0.0.0) fail with the permanent `ForbiddenAddress` unless that IP is listed in " +
		"`allowedHosts`; with `blockPrivateNetworks: true` in connectors.yaml so do private, loopback, CGNAT and " +
		"unique-local addresses not listed in `allowedPrivateNetworks`. The check is made on the address actually " +
		"connected to (after DNS), for every redirect too.\n\n" +
		"With `connector-id` (a `.http` or `.webhook` connector) the connector supplies the base URL " +
		"(`config.url`), default method and headers, and credentials (`secrets.user`/`password` for basic auth, " +
		"`secrets.token` for a bearer token, `secrets.header.<Name>` for any secret header); `with` then gives " +
		"`path`, `method`, `query`, `headers` and `body`.",
	With: []step.Field{
		{Name: fURL, Type: step.String, Doc: "Absolute URL to call (required without connector-id).", Example: "https://api.example.com/ip/1.2.3.4"},
		{Name: fMethod, Type: step.String, Default: "GET", Enum: []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"}, Doc: "HTTP method."},
		{Name: fHeaders, Type: step.Object, Doc: "Request headers (values are rendered to strings)."},
		{Name: fBody, Type: step.Any, Doc: "Request body: an object or array is sent as JSON, a string as-is."},
		{Name: fPath, Type: step.String, Doc: "With connector-id: path appended to the connector's base URL."},
		{Name: fQuery, Type: step.Object, Doc: "Query parameters appended to the URL (arrays repeat the key)."},
		{Name: fFetcher, Type: step.Object, Doc: "Transport options: skip_ssl_verification (false), follow_redirects (true), " +
			"max_redirects (5), keep_alive (true), max_content_length (10485760 bytes)."},
	},
	Output: step.Output{
		Doc: "The response. `headers` has lower-case names; `data` is parsed JSON or text.",
		Example: `{"status": 200, "statusText": "OK", "headers": {"content-type": "application/json"},
			"data": {"ip": "1.2.3.4", "reputation": 0}}`,
	},
	Examples: []step.Example{{
		Title: "Look up an IP",
		YAML: `- name: lookup
  type: http
  with:
    url: "https://api.example.com/ip/{{ inputs.ip }}"
    method: GET
    headers: { Accept: application/json }
  timeout: 30s`,
	}},
	Activity:  Run,
	Timeout:   5 * time.Minute,
	Heartbeat: true,
	Source:    "activities/http/http.go",
}

func init() { step.Register(spec) }

// Run performs the http step.
func Run(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	method := strings.ToUpper(in.String(fMethod))
	var (
		target  string
		header  = nethttp.Header{}
		secrets []string
	)
	if in.ConnectorID != "" {
		c, err := rt.Connector(ctx, in.ConnectorID, connectorTypes...)
		if err != nil {
			return nil, err
		}
		secrets = activitykit.SecretValues(c)
		base := strings.TrimRight(c.ConfigString("url"), "/")
		if base == "" {
			return nil, step.Errorf("ConnectorConfigError", "Connector %s has no url", in.ConnectorID)
		}
		target = base
		if p := in.String(fPath); p != "" {
			target += "/" + strings.TrimLeft(p, "/")
		}
		if method == "" {
			method = strings.ToUpper(c.ConfigString("method"))
		}
		if h, ok := c.Config["headers"].(map[string]any); ok {
			for k, v := range h {
				header.Set(k, activitykit.Stringify(v))
			}
		}
		applyConnectorAuth(c, header)
	} else {
		target = in.String(fURL)
		if target == "" {
			return nil, step.Errorf("InputValidationError", "http step: with.url is required")
		}
	}
	if method == "" {
		method = nethttp.MethodGet
	}
	if q := in.Map(fQuery); len(q) > 0 {
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		target += sep + activitykit.Query(q).Encode()
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, step.Errorf("InvalidURL", "Invalid URL: %s", activitykit.Redact(strip(target), secrets...))
	}
	if !activitykit.HostAllowed(rt, target) {
		return nil, step.Errorf("Error", "target url %q is not added to the allowedHosts list of connectors.yaml", u.Scheme+"://"+u.Host)
	}
	for k, v := range in.Map(fHeaders) {
		header.Set(k, activitykit.Stringify(v))
	}
	body, err := encodeBody(in.With[fBody], header)
	if err != nil {
		return nil, err
	}
	fetcher := in.Map(fFetcher)
	hc, maxBytes := client(rt.HTTPClient(), fetcher, rt, secrets)
	defer hc.CloseIdleConnections() // the transport is this call's own
	res, err := activitykit.Do(ctx, hc, activitykit.Request{Method: method, URL: target, Header: header, Body: body,
		MaxBytes: maxBytes, Secrets: secrets})
	if err != nil {
		return nil, err
	}
	out := map[string]any{
		"status":     float64(res.Status),
		"statusText": res.StatusText,
		"headers":    res.HeaderMap(),
		"data":       res.Data(),
	}
	out = activitykit.RedactValue(out, secrets...).(map[string]any)
	if !res.OK() {
		return nil, activitykit.StatusError(res, "HttpRequestError",
			fmt.Sprintf("Request failed with status code %d", res.Status), out)
	}
	return out, nil
}

// strip drops query and credentials from a URL for messages.
func strip(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<invalid>"
	}
	u.User, u.RawQuery = nil, ""
	return u.String()
}

// applyConnectorAuth adds the connector's credentials.
func applyConnectorAuth(c *step.Connector, h nethttp.Header) {
	switch {
	case c.Secrets["user"] != "":
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.Secrets["user"]+":"+c.Secrets["password"])))
	case c.Secrets["token"] != "":
		h.Set("Authorization", "Bearer "+c.Secrets["token"])
	}
	for k, v := range c.Secrets {
		if name, ok := strings.CutPrefix(k, "header."); ok && name != "" {
			h.Set(name, v)
		}
	}
}

// encodeBody renders the body as axios does: objects/arrays/numbers as JSON
// (application/json), strings as-is (application/x-www-form-urlencoded
// unless a Content-Type was given).
func encodeBody(b any, h nethttp.Header) ([]byte, error) {
	switch v := b.(type) {
	case nil:
		return nil, nil
	case string:
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
		}
		return []byte(v), nil
	default:
		enc, err := activitykit.EncodeJSON(v)
		if err != nil {
			return nil, step.Errorf("InputValidationError", "http step: body cannot be encoded as JSON: %v", err)
		}
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", "application/json")
		}
		return enc, nil
	}
}

// client applies the fetcher options to a copy of hc with its own
// transport (callers close its idle connections when done). It also
// enforces the host policy of rt on every redirect (a redirect to a host
// outside allowedHosts fails with the allow-list error instead of being
// followed), drops the connector's secret headers (and Referer) when a
// redirect leaves the original host, and guards every connection, the
// redirected ones included, with activitykit.StepAddrPolicy(rt): link-local
// / cloud-metadata addresses are always refused (unless the IP literal is
// in allowedHosts), private networks when connectors.yaml sets
// blockPrivateNetworks.
func client(hc *nethttp.Client, f map[string]any, rt any, secrets []string) (*nethttp.Client, int64) {
	if hc == nil {
		hc = nethttp.DefaultClient
	}
	var maxBytes int64
	if n, ok := activitykit.Int(f[fMaxContent]); ok && n > 0 {
		maxBytes = n
	}
	skip, _ := activitykit.Bool(f[fSkipSSL])
	keep, keepSet := activitykit.Bool(f[fKeepAlive])
	follow, followSet := activitykit.Bool(f[fFollow])
	maxRedirects := int64(5)
	if n, ok := activitykit.Int(f[fMaxRedirects]); ok && n >= 0 {
		maxRedirects = n
	}
	cp := *hc
	tr, err := activitykit.TransportFor(hc.Transport, nil, skip)
	if err != nil { // unreachable without a CA bundle; never send unguarded
		tr = nethttp.DefaultTransport.(*nethttp.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: skip} //nolint:gosec // explicit fetcher.skip_ssl_verification
	}
	tr.DisableKeepAlives = keepSet && !keep
	policy := activitykit.StepAddrPolicy(rt)
	activitykit.Guard(tr, func() activitykit.AddrPolicy { return policy })
	cp.Transport = tr
	cp.CheckRedirect = func(req *nethttp.Request, via []*nethttp.Request) error {
		if followSet && !follow {
			return nethttp.ErrUseLastResponse
		}
		if int64(len(via)) > maxRedirects {
			return step.Errorf("ERR_FR_TOO_MANY_REDIRECTS", "Maximum number of redirects exceeded")
		}
		if !activitykit.HostAllowed(rt, req.URL.String()) {
			return step.Errorf("Error", "redirect target url %q is not added to the allowedHosts list of connectors.yaml",
				req.URL.Scheme+"://"+req.URL.Host)
		}
		if len(via) > 0 && !strings.EqualFold(req.URL.Host, via[0].URL.Host) {
			for _, name := range secretHeaderNames(req.Header, secrets) {
				req.Header.Del(name)
			}
			req.Header.Del("Referer") // the original URL may carry a token in its path or query
		}
		return nil
	}
	return &cp, maxBytes
}

// secretHeaderNames lists the headers of h whose value contains a secret.
func secretHeaderNames(h nethttp.Header, secrets []string) []string {
	var out []string
	for name, vs := range h {
		for _, v := range vs {
			if activitykit.Redact(v, secrets...) != v || strings.EqualFold(name, "Authorization") {
				out = append(out, name)
				break
			}
		}
	}
	return out
}
