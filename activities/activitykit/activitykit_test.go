package activitykit

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/secflow/secflow/interpreter/step"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"7", 7 * time.Second, true},
		{"0", 0, true},
		{"1.5", 1500 * time.Millisecond, true},
		{"Wed, 01 Jan 2025 00:00:30 GMT", 30 * time.Second, true},
		{"Tue, 31 Dec 2024 23:00:00 GMT", 0, true},
		{"", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestStatusErrorClassification(t *testing.T) {
	tests := []struct {
		status     int
		retryAfter string
		retryable  bool
		after      time.Duration
	}{
		{500, "", true, 0},
		{502, "", true, 0},
		{503, "4", true, 4 * time.Second},
		{429, "2", true, 2 * time.Second},
		{429, "", true, 0},
		{500, "9", true, 0}, // Retry-After only honoured for 429/503
		{400, "", false, 0},
		{401, "", false, 0},
		{404, "3", false, 0},
		{409, "", false, 0},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.retryAfter != "" {
			h.Set("Retry-After", tt.retryAfter)
		}
		e := StatusError(&Response{Status: tt.status, Header: h}, "X", "m", nil)
		if e.Retryable != tt.retryable || e.RetryAfter != tt.after {
			t.Errorf("%d/%q: retryable=%v after=%v; want %v %v", tt.status, tt.retryAfter, e.Retryable, e.RetryAfter, tt.retryable, tt.after)
		}
	}
}

func TestDoConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = Do(context.Background(), nil, Request{URL: "http://" + addr + "/x?token=supersecret", Secrets: []string{"supersecret"}})
	se := step.AsError(err)
	if se.Type != "ConnectionRefused" || se.Message != "Connection refused to http://"+addr || !se.Retryable {
		t.Fatalf("got %+v", se)
	}
}

func TestDoSizeCapAndCancel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		w.Write([]byte(strings.Repeat("a", 100)))
	}))
	defer srv.Close()
	_, err := Do(context.Background(), srv.Client(), Request{URL: srv.URL, MaxBytes: 10})
	if se := step.AsError(err); se.Type != "ERR_BAD_RESPONSE" || se.Retryable {
		t.Fatalf("size cap: %+v", se)
	}
	res, err := Do(context.Background(), srv.Client(), Request{URL: srv.URL, MaxBytes: 100})
	if err != nil || len(res.Body) != 100 {
		t.Fatalf("exact size: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	_, err = Do(ctx, srv.Client(), Request{URL: srv.URL + "/slow"})
	if se := step.AsError(err); se.Type != "HttpRequestCancelledError" || se.Message != "HTTP request was cancelled" || se.Retryable {
		t.Fatalf("cancel: %+v", se)
	}
}

func TestResponseData(t *testing.T) {
	tests := []struct {
		ct, body string
		want     any
	}{
		{"application/json", `{"a":1}`, map[string]any{"a": 1.0}},
		{"text/plain", `{"a":1}`, map[string]any{"a": 1.0}},
		{"text/plain", `hello`, "hello"},
		{"application/json", ``, ""},
		{"application/json", `{bad`, "{bad"},
	}
	for _, tt := range tests {
		r := &Response{Header: http.Header{"Content-Type": {tt.ct}}, Body: []byte(tt.body)}
		got, _ := EncodeJSON(r.Data())
		want, _ := EncodeJSON(tt.want)
		if string(got) != string(want) {
			t.Errorf("Data(%q, %q) = %s, want %s", tt.ct, tt.body, got, want)
		}
	}
}

func TestRedact(t *testing.T) {
	got := Redact("token=abc123 and abc123456", "abc123", "abc123456")
	if got != "token=[REDACTED] and [REDACTED]" {
		t.Fatalf("got %q", got)
	}
	v := RedactValue(map[string]any{"k": []any{"x abc123"}}, "abc123").(map[string]any)
	if v["k"].([]any)[0] != "x [REDACTED]" {
		t.Fatalf("got %v", v)
	}
}

func TestFormatNumber(t *testing.T) {
	a, b := 0.1, 0.2
	for in, want := range map[float64]string{5: "5", 3.14: "3.14", 1e21: "1e+21", a + b: "0.30000000000000004", -2: "-2", 1e-7: "1e-7"} {
		if got := FormatNumber(in); got != want {
			t.Errorf("FormatNumber(%v) = %q, want %q", in, got, want)
		}
	}
}

type policy []string

func (p policy) AllowedHosts() []string { return p }

func TestHostAllowed(t *testing.T) {
	tests := []struct {
		hosts policy
		url   string
		want  bool
	}{
		{nil, "https://any.example", true},
		{policy{"*"}, "https://any.example", true},
		{policy{"api.example.com"}, "https://API.example.com:8443/x", true},
		{policy{"api.example.com"}, "https://evil.example.com", false},
		{policy{"*.virustotal.com"}, "https://www.virustotal.com/api", true},
		{policy{"*.virustotal.com"}, "https://virustotal.com.evil.io", false},
	}
	for _, tt := range tests {
		if got := HostAllowed(tt.hosts, tt.url); got != tt.want {
			t.Errorf("HostAllowed(%v, %s) = %v", tt.hosts, tt.url, got)
		}
	}
	if !HostAllowed(struct{}{}, "https://x") {
		t.Error("runtime without a policy must allow every host")
	}
}

func TestKeepAliveOutsideActivity(t *testing.T) {
	stop := KeepAlive(context.Background(), time.Millisecond)
	stop()
	stop() // idempotent
	Heartbeat(context.Background())
}
