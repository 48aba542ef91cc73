package http

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secflow/secflow/internal/connectors"
	"github.com/secflow/secflow/interpreter/step"
)

// recorder is a stub server that records requests and answers per path.
type recorder struct {
	mu   sync.Mutex
	reqs []*nethttp.Request
	body []string
}

func (rc *recorder) last() (*nethttp.Request, string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.reqs[len(rc.reqs)-1], rc.body[len(rc.body)-1]
}

func (rc *recorder) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.reqs)
}

func stub(t *testing.T) (*httptest.Server, *recorder) {
	rc := &recorder{}
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, r)
		rc.body = append(rc.body, string(b))
		rc.mu.Unlock()
		switch r.URL.Path {
		case "/ok":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"ok":true}`))
		case "/missing":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(404)
			w.Write([]byte(`{"err":"x"}`))
		case "/busy":
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(503)
		case "/limited":
			w.Header().Set("Retry-After", "11")
			w.WriteHeader(429)
		case "/boom":
			w.WriteHeader(500)
		case "/text":
			w.Write([]byte("plain text"))
		case "/echo-auth":
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"auth": r.Header.Get("Authorization"), "key": r.Header.Get("X-Api-Key")})
		case "/redirect":
			nethttp.Redirect(w, r, "/ok", nethttp.StatusFound)
		default:
			w.WriteHeader(200)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, rc
}

func runtime(t *testing.T, defs ...connectors.Def) step.Runtime {
	t.Helper()
	s, err := connectors.NewStore(defs...)
	if err != nil {
		t.Fatal(err)
	}
	return connectors.NewRuntime(s, nil, nil)
}

func TestC36OutputAndError(t *testing.T) {
	srv, rc := stub(t)
	rt := runtime(t)
	out, err := Run(context.Background(), rt, step.Input{Type: "http", With: map[string]any{
		"url": srv.URL + "/ok", "method": "post", "headers": map[string]any{"X-Trace": 7.0}, "body": map[string]any{"q": "1.2.3.4"}}})
	if err != nil {
		t.Fatal(err)
	}
	m := out.(map[string]any)
	if m["status"] != 200.0 || m["statusText"] != "OK" || m["data"].(map[string]any)["ok"] != true {
		t.Fatalf("output = %v", m)
	}
	if m["headers"].(map[string]any)["content-type"] != "application/json" {
		t.Fatalf("headers = %v", m["headers"])
	}
	req, body := rc.last()
	if req.Method != "POST" || req.Header.Get("X-Trace") != "7" || req.Header.Get("Content-Type") != "application/json" || body != `{"q":"1.2.3.4"}` {
		t.Fatalf("request %s %v %q", req.Method, req.Header, body)
	}

	_, err = Run(context.Background(), rt, step.Input{Type: "http", With: map[string]any{"url": srv.URL + "/missing"}})
	se := step.AsError(err)
	if se.Type != "HttpRequestError" || se.Message != "Request failed with status code 404" || se.Retryable {
		t.Fatalf("error = %+v", se)
	}
	if se.Details["status"] != 404.0 || se.Details["statusText"] != "Not Found" || se.Details["data"].(map[string]any)["err"] != "x" {
		t.Fatalf("details = %v", se.Details)
	}
}

func TestClassification(t *testing.T) {
	srv, _ := stub(t)
	rt := runtime(t)
	tests := []struct {
		path      string
		retryable bool
		after     time.Duration
	}{
		{"/busy", true, 3 * time.Second},
		{"/limited", true, 11 * time.Second},
		{"/boom", true, 0},
		{"/missing", false, 0},
	}
	for _, tt := range tests {
		_, err := Run(context.Background(), rt, step.Input{Type: "http", With: map[string]any{"url": srv.URL + tt.path}})
		se := step.AsError(err)
		if se.Retryable != tt.retryable || se.RetryAfter != tt.after {
			t.Errorf("%s: %+v", tt.path, se)
		}
	}
}

func TestBodiesAndText(t *testing.T) {
	srv, rc := stub(t)
	rt := runtime(t)
	out, err := Run(context.Background(), rt, step.Input{With: map[string]any{"url": srv.URL + "/text", "method": "PUT", "body": "a=b",
		"query": map[string]any{"x": []any{"1", 2.0}}}})
	if err != nil {
		t.Fatal(err)
	}
	if out.(map[string]any)["data"] != "plain text" {
		t.Fatalf("data = %v", out)
	}
	req, body := rc.last()
	if body != "a=b" || !strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") || req.URL.RawQuery != "x=1&x=2" {
		t.Fatalf("request %v %q %q", req.Header, body, req.URL.RawQuery)
	}
}

func TestFetcherOptions(t *testing.T) {
	srv, _ := stub(t)
	rt := runtime(t)
	// Without redirects a 302 is a non-2xx answer: it fails like in axios.
	_, err := Run(context.Background(), rt, step.Input{With: map[string]any{"url": srv.URL + "/redirect",
		"fetcher": map[string]any{"follow_redirects": false}}})
	if se := step.AsError(err); se.Type != "HttpRequestError" || se.Details["status"] != 302.0 {
		t.Fatalf("no-follow: %+v", se)
	}
	out, err := Run(context.Background(), rt, step.Input{With: map[string]any{"url": srv.URL + "/redirect"}})
	if err != nil || out.(map[string]any)["status"] != 200.0 {
		t.Fatalf("follow: %v %v", out, err)
	}
	_, err = Run(context.Background(), rt, step.Input{With: map[string]any{"url": srv.URL + "/text",
		"fetcher": map[string]any{"max_content_length": 3.0}}})
	if se := step.AsError(err); se.Type != "ERR_BAD_RESPONSE" {
		t.Fatalf("max_content_length: %+v", se)
	}
}

func TestAllowedHosts(t *testing.T) {
	srv, rc := stub(t)
	s, _ := connectors.NewStore()
	s.SetAllowedHosts([]string{"api.example.com"})
	rt := connectors.NewRuntime(s, nil, nil)
	_, err := Run(context.Background(), rt, step.Input{With: map[string]any{"url": srv.URL + "/ok"}})
	if err == nil || !strings.Contains(err.Error(), "not added to the allowedHosts") {
		t.Fatalf("err = %v", err)
	}
	if len(rc.reqs) != 0 {
		t.Fatal("a blocked request was sent")
	}
}

func TestConnectorFormNoSecretLeak(t *testing.T) {
	srv, rc := stub(t)
	t.Setenv("TEST_HTTP_PASSWORD", "pa55-word-value")
	t.Setenv("TEST_HTTP_KEY", "key-value-123")
	rt := runtime(t, connectors.Def{ID: "api", Name: "My API", Type: ".webhook",
		Config:  map[string]any{"url": srv.URL, "method": "post", "headers": map[string]any{"X-Client": "secflow"}},
		Secrets: map[string]string{"user": "${env:TEST_HTTP_PASSWORD}", "password": "${env:TEST_HTTP_PASSWORD}", "header.X-Api-Key": "${env:TEST_HTTP_KEY}"}})
	out, err := Run(context.Background(), rt, step.Input{ConnectorID: "My API", With: map[string]any{"path": "echo-auth"}})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := rc.last()
	if req.Method != "POST" || req.URL.Path != "/echo-auth" || req.Header.Get("X-Client") != "secflow" || req.Header.Get("X-Api-Key") != "key-value-123" {
		t.Fatalf("request %s %s %v", req.Method, req.URL.Path, req.Header)
	}
	if u, p, ok := req.BasicAuth(); !ok || u != "pa55-word-value" || p != "pa55-word-value" {
		t.Fatal("basic auth not sent")
	}
	b, _ := json.Marshal(out)
	basic := base64.StdEncoding.EncodeToString([]byte("pa55-word-value:pa55-word-value"))
	if strings.Contains(string(b), "pa55-word-value") || strings.Contains(string(b), "key-value-123") || strings.Contains(string(b), basic) {
		t.Fatalf("secret echoed into output: %s", b)
	}
	_, err = Run(context.Background(), rt, step.Input{ConnectorID: "nope"})
	if err == nil || err.Error() != "Error: Connector nope not found" {
		t.Fatalf("err = %v", err)
	}
}

func TestSpecRegistered(t *testing.T) {
	s, ok := step.Default().Lookup("http")
	if !ok || s.Activity == nil || s.Kind != step.KindActivity {
		t.Fatal("http not registered")
	}
	var v any
	if err := json.Unmarshal([]byte(s.Output.Example), &v); err != nil {
		t.Fatalf("output example: %v", err)
	}
}

// TestRedirectEscapingAllowList: a redirect from an allowed host to a host
// outside allowedHosts must fail without the second host being called.
func TestRedirectEscapingAllowList(t *testing.T) {
	other, orc := stub(t)
	var hits int
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		hits++
		nethttp.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+"/ok", nethttp.StatusFound)
	}))
	t.Cleanup(srv.Close)
	s, _ := connectors.NewStore()
	s.SetAllowedHosts([]string{"127.0.0.1"})
	rt := connectors.NewRuntime(s, nil, nil)
	_, err := Run(context.Background(), rt, step.Input{With: map[string]any{"url": srv.URL + "/start"}})
	if err == nil || !strings.Contains(err.Error(), "not added to the allowedHosts") {
		t.Fatalf("err = %v", err)
	}
	if hits != 1 || len(orc.reqs) != 0 {
		t.Fatalf("hits=%d, non-allowed host received %d requests", hits, len(orc.reqs))
	}
}

// TestRedirectDropsSecretHeaders: a connector's secret headers are not
// forwarded when a redirect leaves the connector's host.
func TestRedirectDropsSecretHeaders(t *testing.T) {
	other, orc := stub(t)
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		nethttp.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+"/echo-auth", nethttp.StatusFound)
	}))
	t.Cleanup(srv.Close)
	t.Setenv("TEST_HTTP_KEY", "key-value-123")
	t.Setenv("TEST_HTTP_TOKEN", "token-value-456")
	rt := runtime(t, connectors.Def{ID: "api", Type: ".webhook", Config: map[string]any{"url": srv.URL},
		Secrets: map[string]string{"token": "${env:TEST_HTTP_TOKEN}", "header.X-Api-Key": "${env:TEST_HTTP_KEY}"}})
	if _, err := Run(context.Background(), rt, step.Input{ConnectorID: "api", With: map[string]any{"path": "x"}}); err != nil {
		t.Fatal(err)
	}
	req, _ := orc.last()
	if req.Header.Get("X-Api-Key") != "" || req.Header.Get("Authorization") != "" || req.Header.Get("Referer") != "" {
		t.Fatalf("secret headers forwarded across hosts: %v", req.Header)
	}
}

// TestMetadataAddressBlocked: with or without an allow-list, the step
// refuses to connect to link-local / cloud-metadata addresses unless the IP
// itself is listed in allowedHosts.
func TestMetadataAddressBlocked(t *testing.T) {
	tests := []struct {
		url     string
		allowed []string
		want    string
	}{
		{"http://169.254.169.254/latest/meta-data/", nil, "ForbiddenAddress"},
		{"http://[fd00:ec2::254]/latest/meta-data/", nil, "ForbiddenAddress"},
		{"http://100.100.100.200/latest/meta-data/", nil, "ForbiddenAddress"},
		{"http://169.254.169.254/latest/meta-data/", []string{"*"}, "ForbiddenAddress"},
		{"http://[fe80::1]/", []string{"*"}, "ForbiddenAddress"},
		{"http://[::ffff:169.254.169.254]/", []string{"*"}, "ForbiddenAddress"},
		{"http://0.0.0.0:9/", nil, "ForbiddenAddress"},
		{"http://0.0.0.0:9/", []string{"*"}, "ForbiddenAddress"},
		// explicitly listed: the guard lets it through (it then fails to connect)
		{"http://169.254.169.254:1/", []string{"169.254.169.254"}, ""},
	}
	for _, tt := range tests {
		s, _ := connectors.NewStore()
		s.SetAllowedHosts(tt.allowed)
		rt := connectors.NewRuntime(s, nil, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := Run(ctx, rt, step.Input{With: map[string]any{"url": tt.url}})
		cancel()
		se := step.AsError(err)
		if se == nil {
			t.Fatalf("%s: no error", tt.url)
		}
		if (se.Type == "ForbiddenAddress") != (tt.want == "ForbiddenAddress") {
			t.Errorf("%s allowed=%v: %+v", tt.url, tt.allowed, se)
		}
		if se.Type == "ForbiddenAddress" && se.Retryable {
			t.Errorf("%s: ForbiddenAddress is retryable", tt.url)
		}
	}
}

// bareRuntime is a step.Runtime that implements neither HostPolicy nor
// NetworkPolicy (a custom client, as flowtest's sandbox passes one).
type bareRuntime struct{ step.Runtime }

// TestMetadataBlockedWithCustomClient: the guard does not depend on the
// runtime's client or on an allow-list.
func TestMetadataBlockedWithCustomClient(t *testing.T) {
	s, _ := connectors.NewStore()
	rt := bareRuntime{connectors.NewRuntime(s, &nethttp.Client{Transport: &nethttp.Transport{}}, nil)}
	_, err := Run(context.Background(), rt, step.Input{With: map[string]any{"url": "http://169.254.169.254/latest/meta-data/"}})
	if se := step.AsError(err); se == nil || se.Type != "ForbiddenAddress" {
		t.Fatalf("err = %v", err)
	}
}

// TestPrivateNetworksBlocked: with blockPrivateNetworks the step refuses
// the loopback stub server (checked on the dialled address), unless its
// address is in allowedPrivateNetworks; a redirect from an exempted
// server into a blocked network is refused too.
func TestPrivateNetworksBlocked(t *testing.T) {
	srv, rc := stub(t)
	redir := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		nethttp.Redirect(w, r, "http://10.255.255.1:9/internal", nethttp.StatusFound)
	}))
	t.Cleanup(redir.Close)
	tests := []struct {
		name    string
		block   bool
		allowed []string
		url     string
		refused string // "" served, else the IP the refusal must name
	}{
		{"off", false, nil, srv.URL + "/ok", ""},
		{"on", true, nil, srv.URL + "/ok", "127.0.0.1"},
		{"on, localhost name", true, nil, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/ok", "127.0.0.1"},
		{"on, other network exempt", true, []string{"10.0.0.0/8"}, srv.URL + "/ok", "127.0.0.1"},
		{"exempt IP", true, []string{"127.0.0.1"}, srv.URL + "/ok", ""},
		{"exempt network", true, []string{"127.0.0.0/8"}, srv.URL + "/ok", ""},
		{"redirect into blocked network", true, []string{"127.0.0.1"}, redir.URL + "/start", "10.255.255.1"},
	}
	for _, tt := range tests {
		s, _ := connectors.NewStore()
		if err := s.SetPrivateNetworks(tt.block, tt.allowed); err != nil {
			t.Fatal(err)
		}
		before := rc.count()
		_, err := Run(context.Background(), connectors.NewRuntime(s, nil, nil), step.Input{With: map[string]any{"url": tt.url}})
		if tt.refused == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		se := step.AsError(err)
		if se == nil || se.Type != "ForbiddenAddress" || se.Retryable ||
			!strings.Contains(se.Message, tt.refused) || !strings.Contains(se.Message, "allowedPrivateNetworks") {
			t.Errorf("%s: err = %v, want permanent ForbiddenAddress naming %s", tt.name, err, tt.refused)
		}
		if rc.count() != before {
			t.Errorf("%s: a refused request reached the server", tt.name)
		}
	}
}

// TestTLSVerifiedUnlessSkipped: certificates are verified unless
// fetcher.skip_ssl_verification is explicitly true.
func TestTLSVerifiedUnlessSkipped(t *testing.T) {
	srv := httptest.NewTLSServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) { w.Write([]byte("ok")) }))
	t.Cleanup(srv.Close)
	tests := []struct {
		fetcher map[string]any
		allowed []string
		ok      bool
	}{
		{nil, nil, false},
		{map[string]any{"skip_ssl_verification": false}, nil, false},
		{map[string]any{"skip_ssl_verification": "no"}, nil, false},
		{map[string]any{"skip_ssl_verification": true}, nil, true},
		{map[string]any{"skip_ssl_verification": "true"}, nil, true},
		{nil, []string{"127.0.0.1"}, false},
		{map[string]any{"skip_ssl_verification": true}, []string{"127.0.0.1"}, true},
	}
	for _, tt := range tests {
		s, _ := connectors.NewStore()
		s.SetAllowedHosts(tt.allowed)
		rt := connectors.NewRuntime(s, nil, nil)
		_, err := Run(context.Background(), rt, step.Input{With: map[string]any{"url": srv.URL, "fetcher": tt.fetcher}})
		if (err == nil) != tt.ok {
			t.Errorf("fetcher %v allowed %v: err = %v", tt.fetcher, tt.allowed, err)
		}
		if !tt.ok && step.AsError(err).Type != "TLSError" {
			t.Errorf("fetcher %v: type %s", tt.fetcher, step.AsError(err).Type)
		}
	}
}
