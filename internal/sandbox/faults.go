package sandbox

import (
	"net/http"
	"strings"
	"sync"
)

// Faults lets a test make a fake answer the next requests with an error
// status (5xx, 429, 4xx), optionally with a Retry-After header, before the
// fake's real handler runs again. Fakes embed it and wrap their handler
// with Wrap. The zero value injects nothing.
type Faults struct {
	mu      sync.Mutex
	pending []fault
}

type fault struct {
	pathPrefix string
	status     int
	retryAfter string
	body       string
}

// Inject queues count failures answering with status, a Retry-After header
// when retryAfter is not empty, and body (a JSON error of the service's
// shape when empty). Only requests whose path starts with pathPrefix
// ("" = any) consume them.
func (f *Faults) Inject(pathPrefix string, status int, retryAfter, body string, count int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := 0; i < count; i++ {
		f.pending = append(f.pending, fault{pathPrefix: pathPrefix, status: status, retryAfter: retryAfter, body: body})
	}
}

// Clear drops queued failures.
func (f *Faults) Clear() {
	f.mu.Lock()
	f.pending = nil
	f.mu.Unlock()
}

// take pops the first queued failure matching path.
func (f *Faults) take(path string) (fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, ft := range f.pending {
		if strings.HasPrefix(path, ft.pathPrefix) {
			f.pending = append(f.pending[:i], f.pending[i+1:]...)
			return ft, true
		}
	}
	return fault{}, false
}

// Wrap returns h preceded by fault injection; decorate sets service headers
// (such as X-Elastic-Product) on injected answers too, and defaultBody
// renders the body when none was given.
func (f *Faults) Wrap(h http.Handler, decorate func(http.Header), defaultBody func(status int) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ft, ok := f.take(r.URL.Path)
		if !ok {
			h.ServeHTTP(w, r)
			return
		}
		if decorate != nil {
			decorate(w.Header())
		}
		if ft.retryAfter != "" {
			w.Header().Set("Retry-After", ft.retryAfter)
		}
		body := ft.body
		if body == "" && defaultBody != nil {
			body = defaultBody(ft.status)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(ft.status)
		_, _ = w.Write([]byte(body))
	})
}
