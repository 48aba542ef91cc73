package activitykit

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestLimitResponses(t *testing.T) {
	var otherHits int
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { otherHits++ }))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Write([]byte(strings.Repeat("x", 100)))
		case "/small":
			w.Write([]byte(strings.Repeat("x", 10)))
		case "/away":
			http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+"/", http.StatusTemporaryRedirect)
		case "/here":
			http.Redirect(w, r, "/small", http.StatusFound)
		}
	}))
	defer srv.Close()
	hc := LimitResponses(nil, 10)
	tests := []struct {
		path    string
		n       int
		tooBig  bool
		refused bool
	}{
		{"/small", 10, false, false},
		{"/big", 10, true, false},
		{"/here", 10, false, false},
		{"/away", 0, false, true},
	}
	for _, tt := range tests {
		res, err := hc.Get(srv.URL + tt.path)
		if tt.refused {
			if err == nil || !strings.Contains(err.Error(), "refused") || otherHits != 0 {
				t.Fatalf("%s: err=%v otherHits=%d", tt.path, err, otherHits)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.path, err)
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		var tl *ErrResponseTooLarge
		if errors.As(err, &tl) != tt.tooBig || len(b) != tt.n {
			t.Errorf("%s: read %d bytes, err %v", tt.path, len(b), err)
		}
	}
}
