package payloadcodec

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
)

const (
	uiOrigin  = "http://127.0.0.1:8233"
	testToken = "codec-token-0123456789abcdef"
)

func newTestServer(t *testing.T, o HandlerOptions) (*httptest.Server, *Codec) {
	t.Helper()
	c := mustCodec(t, Key{ID: "k1", Secret: testKey(1)})
	if o.Codec == nil {
		o.Codec = c
	}
	h, err := NewHandler(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, c
}

func payloadsJSON(t *testing.T, ps ...*commonpb.Payload) string {
	t.Helper()
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: ps})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func do(t *testing.T, method, url, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestServerEncodeDecode(t *testing.T) {
	srv, c := newTestServer(t, HandlerOptions{})
	plain := jsonPayload(t, map[string]any{"user": marker})
	hdr := map[string]string{"Content-Type": "application/json", "X-Namespace": "default"}

	// /encode, with the CLI's {namespace} prefix.
	resp, body := do(t, http.MethodPost, srv.URL+"/default/encode", payloadsJSON(t, plain), hdr)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("encode: %d %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var enc commonpb.Payloads
	if err := protojson.Unmarshal([]byte(body), &enc); err != nil {
		t.Fatal(err)
	}
	if len(enc.Payloads) != 1 || string(enc.Payloads[0].Metadata[MetadataEncoding]) != EncodingEncrypted || strings.Contains(body, marker) {
		t.Fatalf("encode answered %s", body)
	}
	// What the server encrypted, the codec decrypts.
	if dec, err := c.Decode(enc.Payloads); err != nil || !bytes.Equal(dec[0].Data, plain.Data) {
		t.Fatalf("codec cannot decode the server's encoding: %v", err)
	}

	// /decode: an encrypted and a plain payload in one request.
	other := jsonPayload(t, "plain")
	resp, body = do(t, http.MethodPost, srv.URL+"/decode", payloadsJSON(t, enc.Payloads[0], other), hdr)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("decode: %d %s", resp.StatusCode, body)
	}
	var dec commonpb.Payloads
	if err := protojson.Unmarshal([]byte(body), &dec); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	var s string
	if len(dec.Payloads) != 2 ||
		converter.GetDefaultDataConverter().FromPayload(dec.Payloads[0], &got) != nil || got["user"] != marker ||
		converter.GetDefaultDataConverter().FromPayload(dec.Payloads[1], &s) != nil || s != "plain" {
		t.Fatalf("decode answered %s", body)
	}

	// Empty request: an empty list, not an empty object.
	if resp, body = do(t, http.MethodPost, srv.URL+"/decode", `{}`, hdr); resp.StatusCode != http.StatusOK || body != `{"payloads":[]}` {
		t.Errorf("empty decode: %d %s", resp.StatusCode, body)
	}
}

func TestServerRefusals(t *testing.T) {
	srv, c := newTestServer(t, HandlerOptions{MaxBodyBytes: 4096})
	enc, err := c.Encode([]*commonpb.Payload{jsonPayload(t, marker)})
	if err != nil {
		t.Fatal(err)
	}
	enc[0].Data[len(enc[0].Data)-1] ^= 1
	tests := []struct {
		name, method, path, body string
		status                   int
		reason                   string
	}{
		{"GET", http.MethodGet, "/decode", "", http.StatusMethodNotAllowed, "use POST"},
		{"PUT", http.MethodPut, "/encode", "{}", http.StatusMethodNotAllowed, "use POST"},
		{"unknown path", http.MethodPost, "/transcode", "{}", http.StatusNotFound, "unknown path"},
		{"not JSON", http.MethodPost, "/decode", "payloads=" + marker, http.StatusBadRequest, "not JSON of the form"},
		{"wrong shape", http.MethodPost, "/decode", `{"payloads": "` + marker + `"}`, http.StatusBadRequest, "not JSON of the form"},
		{"bad base64", http.MethodPost, "/decode", `{"payloads": [{"data": "!!` + marker + `"}]}`, http.StatusBadRequest, "not JSON of the form"},
		{"tampered payload", http.MethodPost, "/decode", payloadsJSON(t, enc[0]), http.StatusBadRequest, "decode failed: decrypting payload (key id \"k1\"): authentication failed"},
		{"too large", http.MethodPost, "/encode", `{"payloads": [{"data": "` + strings.Repeat("QUFB", 2000) + `"}]}`, http.StatusRequestEntityTooLarge, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, tt.method, srv.URL+tt.path, tt.body, nil)
			if resp.StatusCode != tt.status || !strings.Contains(body, tt.reason) {
				t.Errorf("%d %q, want %d with %q", resp.StatusCode, body, tt.status, tt.reason)
			}
			if strings.Contains(body, marker) {
				t.Errorf("answer echoes request data: %s", body)
			}
			if tt.status == http.StatusMethodNotAllowed && resp.Header.Get("Allow") != "POST, OPTIONS" {
				t.Errorf("Allow = %q", resp.Header.Get("Allow"))
			}
		})
	}
}

func TestServerAuth(t *testing.T) {
	srv, _ := newTestServer(t, HandlerOptions{BearerTokens: []string{"other-token", testToken}, AllowedOrigins: []string{uiOrigin}})
	body := payloadsJSON(t, jsonPayload(t, "x"))
	tests := []struct {
		name   string
		auth   string
		status int
	}{
		{"no header", "", http.StatusUnauthorized},
		{"wrong token", "Bearer nope", http.StatusUnauthorized},
		{"wrong scheme", "Basic " + testToken, http.StatusUnauthorized},
		{"token without scheme", testToken, http.StatusUnauthorized},
		{"second token", "Bearer " + testToken, http.StatusOK},
		{"scheme case-insensitive", "bearer other-token", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tt.auth != "" {
				hdr["Authorization"] = tt.auth
			}
			resp, got := do(t, http.MethodPost, srv.URL+"/decode", body, hdr)
			if resp.StatusCode != tt.status {
				t.Fatalf("%d %s, want %d", resp.StatusCode, got, tt.status)
			}
			if tt.status == http.StatusUnauthorized && (resp.Header.Get("WWW-Authenticate") == "" || strings.Contains(got, testToken)) {
				t.Errorf("401 answer: %v %q", resp.Header, got)
			}
		})
	}
	// The browser's preflight carries no credentials: it passes without a token.
	resp, _ := do(t, http.MethodOptions, srv.URL+"/decode", "", map[string]string{"Origin": uiOrigin, "Access-Control-Request-Method": "POST"})
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("preflight with auth configured: %d", resp.StatusCode)
	}
}

func TestServerCORS(t *testing.T) {
	srv, _ := newTestServer(t, HandlerOptions{AllowedOrigins: []string{uiOrigin + "/", "http://localhost:8233"}})
	body := payloadsJSON(t, jsonPayload(t, "x"))

	resp, _ := do(t, http.MethodOptions, srv.URL+"/default/decode", "", map[string]string{
		"Origin": uiOrigin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-namespace",
	})
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("preflight: %d", resp.StatusCode)
	}
	for k, want := range map[string]string{
		"Access-Control-Allow-Origin":      uiOrigin,
		"Access-Control-Allow-Methods":     "POST, OPTIONS",
		"Access-Control-Allow-Headers":     "Content-Type, X-Namespace, Authorization",
		"Access-Control-Allow-Credentials": "true",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("preflight %s = %q, want %q", k, got, want)
		}
	}

	resp, _ = do(t, http.MethodPost, srv.URL+"/decode", body, map[string]string{"Origin": "http://localhost:8233"})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:8233" {
		t.Errorf("POST from allowed origin: %d, Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}

	// Another origin gets no CORS grant (the browser then withholds the answer).
	resp, _ = do(t, http.MethodPost, srv.URL+"/decode", body, map[string]string{"Origin": "https://evil.example"})
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("foreign origin granted: %q", got)
	}
	if resp, _ = do(t, http.MethodOptions, srv.URL+"/decode", "", map[string]string{"Origin": "https://evil.example"}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("preflight from a foreign origin: %d, want 403", resp.StatusCode)
	}
}

func TestNewHandlerOptions(t *testing.T) {
	if _, err := NewHandler(HandlerOptions{}); err == nil {
		t.Error("handler without codec accepted")
	}
	c := mustCodec(t, Key{ID: "k1", Secret: testKey(1)})
	if _, err := NewHandler(HandlerOptions{Codec: c, AllowedOrigins: []string{"*"}}); err == nil || !strings.Contains(err.Error(), `"*"`) {
		t.Errorf("wildcard origin: %v", err)
	}
}
