// Package sandbox runs protocol-faithful, in-memory fakes of the outside
// systems secflow talks to (Elasticsearch, Kibana, Slack, PagerDuty, Jira, an
// OpenAI-compatible endpoint, SMTP). Each fake uses the real paths, methods,
// auth headers and response shapes of the service's public API and records
// what it received. The same fakes serve the tests and `secflow dev --sandbox`.
package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Request is one request a fake received, as shown on the sandbox page.
type Request struct {
	Service string            `json:"service"`
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Query   string            `json:"query,omitempty"`
	Header  map[string]string `json:"header,omitempty"`
	Body    string            `json:"body,omitempty"`
	At      time.Time         `json:"at"`
}

// Service is one fake. Handler serves its API; the sandbox records every
// request before calling it.
type Service interface {
	// Name is the short service name ("slack", "kibana", ...).
	Name() string
	// Handler serves the fake API.
	Handler() http.Handler
}

// StreamService is implemented by fakes that also speak a non-HTTP protocol
// (the SMTP fake) on a listener of their own. Start serves it next to the
// HTTP handler; URL(name) is then "<scheme>://host:port" and Addr(name) its
// host:port.
type StreamService interface {
	// Serve accepts connections on ln until Close; record adds an entry to
	// what the sandbox received.
	Serve(ln net.Listener, record func(Request)) error
	// Close stops serving.
	Close() error
	// Scheme is the URL scheme URL(name) reports for the listener ("smtp").
	Scheme() string
}

// factories holds the service constructors registered by init() in each
// service file, keyed by name.
var factories = map[string]func() Service{}

// register adds a service constructor; called from init() in service files.
func register(name string, f func() Service) {
	if _, dup := factories[name]; dup {
		panic("sandbox: duplicate service " + name)
	}
	factories[name] = f
}

// Sandbox is a set of running fakes, each on its own loopback listener.
type Sandbox struct {
	mu       sync.Mutex
	services map[string]Service
	urls     map[string]string
	servers  []*http.Server
	received []Request
	addrs    map[string]string
	streams  []StreamService
}

// Start starts every registered fake on a free 127.0.0.1 port.
func Start() (*Sandbox, error) {
	s := &Sandbox{services: map[string]Service{}, urls: map[string]string{}, addrs: map[string]string{}}
	names := make([]string, 0, len(factories))
	for n := range factories {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		svc := factories[n]()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("sandbox: listen for %s: %w", n, err)
		}
		srv := &http.Server{Handler: s.record(n, svc.Handler()), ReadHeaderTimeout: 5 * time.Second}
		s.servers = append(s.servers, srv)
		s.services[n] = svc
		s.urls[n] = "http://" + ln.Addr().String()
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				_ = err // the listener was closed; nothing to report
			}
		}()
		if ss, ok := svc.(StreamService); ok {
			sln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				s.Close()
				return nil, fmt.Errorf("sandbox: listen for %s stream: %w", n, err)
			}
			s.addrs[n] = sln.Addr().String()
			s.urls[n] = ss.Scheme() + "://" + s.addrs[n]
			s.streams = append(s.streams, ss)
			go func() { _ = ss.Serve(sln, s.add) }()
		}
	}
	return s, nil
}

// URL returns the base URL of the named fake ("" if it does not exist).
func (s *Sandbox) URL(name string) string { return s.urls[name] }

// Addr returns the host:port of the named fake's non-HTTP listener (the
// SMTP fake), "" if it has none.
func (s *Sandbox) Addr(name string) string { return s.addrs[name] }

// add appends r to what the sandbox received.
func (s *Sandbox) add(r Request) {
	s.mu.Lock()
	s.received = append(s.received, r)
	s.mu.Unlock()
}

// Service returns the named fake, for tests that inspect its state.
func (s *Sandbox) Service(name string) Service { return s.services[name] }

// Received returns a copy of every request received so far, in order.
func (s *Sandbox) Received() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.received...)
}

// ReceivedBy returns the requests one fake received.
func (s *Sandbox) ReceivedBy(name string) []Request {
	var out []Request
	for _, r := range s.Received() {
		if r.Service == name {
			out = append(out, r)
		}
	}
	return out
}

// Close stops every fake.
func (s *Sandbox) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, srv := range s.servers {
		_ = srv.Shutdown(ctx)
	}
	for _, ss := range s.streams {
		_ = ss.Close()
	}
}

// record wraps h so that every request is appended to s.received. Secrets in
// auth headers are masked: the sandbox page is shown to users.
func (s *Sandbox) record(name string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := readAndRestore(r)
		if err != nil {
			http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
			return
		}
		hdr := map[string]string{}
		for k := range r.Header {
			v := r.Header.Get(k)
			if k == "Authorization" || k == "X-Api-Key" || k == "Api-Key" {
				v = maskSecret(v)
			}
			hdr[k] = v
		}
		s.mu.Lock()
		s.received = append(s.received, Request{Service: name, Method: r.Method, Path: r.URL.Path,
			Query: r.URL.RawQuery, Header: hdr, Body: string(body), At: time.Now().UTC()})
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// writeJSON writes v as a JSON response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
