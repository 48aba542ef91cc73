package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/secflow/secflow/internal/payloadcodec"
)

func TestCodecServerConfigErrors(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	tests := []struct {
		name string
		f    codecServerFlags
		want string
	}{
		{"no keys", codecServerFlags{listen: "127.0.0.1:0"}, "no payload key ring"},
		{"bad key", codecServerFlags{listen: "127.0.0.1:0", keys: payloadcodec.Source{Keys: "k1:" + key[:20]}}, `key "k1"`},
		{"wildcard origin", codecServerFlags{listen: "127.0.0.1:0", keys: payloadcodec.Source{Keys: "k1:" + key}, origins: stringList{"*"}}, `"*"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := codecServerMain(context.Background(), tt.f, slog.New(slog.DiscardHandler), func(string) { t.Error("server started") })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), key[:20]) {
				t.Errorf("error holds key material: %v", err)
			}
		})
	}
}

func TestCodecServerServes(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	f := codecServerFlags{listen: "127.0.0.1:0", keys: payloadcodec.Source{Keys: "k1:" + key}, tokens: stringList{"tok-0123456789"}}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- codecServerMain(ctx, f, slog.New(slog.DiscardHandler), func(a string) { addr <- a }) }()
	var base string
	select {
	case base = <-addr:
	case err := <-done:
		t.Fatalf("server ended: %v", err)
	}
	post := func(path, body, token string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
		req.Header.Set("X-Namespace", "default")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	plain := `{"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"ImhlbGxvIg=="}]}` // json/plain "hello"
	if code, _ := post("/encode", plain, ""); code != http.StatusUnauthorized {
		t.Errorf("without token: %d, want 401", code)
	}
	code, enc := post("/default/encode", plain, "tok-0123456789")
	if code != http.StatusOK || !strings.Contains(enc, base64.StdEncoding.EncodeToString([]byte(payloadcodec.EncodingEncrypted))) {
		t.Fatalf("encode: %d %s", code, enc)
	}
	code, dec := post("/default/decode", enc, "tok-0123456789")
	if code != http.StatusOK || !strings.Contains(dec, `"ImhlbGxvIg=="`) {
		t.Fatalf("decode: %d %s", code, dec)
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("after cancel: %v", err)
	}
}
