package activitytest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/secflow/secflow/interpreter/step"
)

// fatalTB records Fatalf instead of stopping the test.
type fatalTB struct {
	testing.TB
	failed string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) { f.failed = fmt.Sprintf(format, args...) }

func TestNoSecrets(t *testing.T) {
	for _, tt := range []struct {
		name string
		v    any
		leak bool
	}{
		{"clean output", map[string]any{"ok": true}, false},
		{"output", map[string]any{"token": "s3cret"}, true},
		{"error text", fmt.Errorf("bad s3cret"), true},
		{"step error details", fmt.Errorf("wrapped: %w", &step.Error{Type: "X", Message: "m", Details: map[string]any{"k": "s3cret"}}), true},
		{"clean step error", &step.Error{Type: "X", Message: "m"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := &fatalTB{TB: t}
			NoSecrets(f, tt.v, "s3cret")
			if (f.failed != "") != tt.leak {
				t.Fatalf("leak reported = %q, want leak %v", f.failed, tt.leak)
			}
		})
	}
}

func TestStepError(t *testing.T) {
	se := &step.Error{Type: "X", Message: "m"}
	if got := StepError(t, fmt.Errorf("w: %w", se)); got != se {
		t.Fatalf("got %v", got)
	}
	f := &fatalTB{TB: t}
	StepError(f, fmt.Errorf("plain"))
	if f.failed == "" {
		t.Fatal("a plain error was accepted")
	}
}

func TestRecorder(t *testing.T) {
	rec := Record(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		req, _ := http.NewRequest(m, rec.URL+"/a/b?x=1", strings.NewReader(`{"k":"v"}`))
		req.Header.Set("Authorization", "Bearer t")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	if n := len(rec.Requests("", "")); n != 2 {
		t.Fatalf("recorded %d requests", n)
	}
	posts := rec.Requests(http.MethodPost, "/b")
	if len(posts) != 1 || posts[0].Auth != "Bearer t" || posts[0].Query != "x=1" || posts[0].JSON()["k"] != "v" {
		t.Fatalf("posts = %+v", posts)
	}
	if len(rec.Requests("", "/c")) != 0 {
		t.Fatal("suffix not matched")
	}
}

func TestRedirectAway(t *testing.T) {
	var host, path string
	url := RedirectAway(t, http.StatusTemporaryRedirect, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, path = r.Host, r.URL.Path
	}))
	res, err := http.Get(url + "/x/y")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if !strings.HasPrefix(host, "localhost:") || path != "/x/y" || strings.Contains(url, "localhost") {
		t.Fatalf("redirect %s reached host %q path %q", url, host, path)
	}
}
