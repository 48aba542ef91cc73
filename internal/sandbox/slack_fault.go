package sandbox

import (
	"net/http"
	"strings"
	"sync"
)

// lostAnswers simulates the crash window of the notification fakes (Slack,
// PagerDuty, Jira): the request is served — its side effect happens — and
// then the connection is dropped before the answer reaches the client, as
// when a worker dies between "request sent" and "activity completed".
type lostAnswers struct {
	mu    sync.Mutex
	paths []string
}

// lose queues one lost answer for the next request whose path ends with
// suffix ("" = any); "POST /comment" also requires the method.
func (l *lostAnswers) lose(suffix string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.paths = append(l.paths, suffix)
}

func (l *lostAnswers) take(method, path string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, s := range l.paths {
		m, suffix, hasMethod := strings.Cut(s, " ")
		if !hasMethod {
			m, suffix = "", s
		}
		if (m == "" || m == method) && strings.HasSuffix(path, suffix) {
			l.paths = append(l.paths[:i], l.paths[i+1:]...)
			return true
		}
	}
	return false
}

// notifyDiscardWriter swallows the real answer of a request whose answer is lost.
type notifyDiscardWriter struct{ h http.Header }

func (d *notifyDiscardWriter) Header() http.Header {
	if d.h == nil {
		d.h = http.Header{}
	}
	return d.h
}
func (d *notifyDiscardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *notifyDiscardWriter) WriteHeader(int)             {}

// wrap serves h, dropping the connection instead of answering when the
// request's answer is to be lost.
func (l *lostAnswers) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !l.take(r.Method, r.URL.Path) {
			h.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(&notifyDiscardWriter{}, r)
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		w.WriteHeader(http.StatusBadGateway)
	})
}
