package connectors

import (
	"context"
	"io"
	"log/slog"
	"net/http"

	"github.com/secflow/secflow/interpreter/step"
)

// runtime implements step.Runtime over a Store.
type runtime struct {
	store *Store
	hc    *http.Client
	log   *slog.Logger
}

// NewRuntime returns the step.Runtime activities receive: connectors come
// from store (secrets resolved on each call), outgoing calls use hc
// (http.DefaultClient's transport with no overall timeout when nil: the
// activity context bounds each call), and log is the secret-free logger (a
// discarding one when nil).
func NewRuntime(store *Store, hc *http.Client, log *slog.Logger) step.Runtime {
	if store == nil {
		store, _ = NewStore()
	}
	if hc == nil {
		hc = &http.Client{}
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &runtime{store: store, hc: hc, log: log}
}

// Connector implements step.Runtime.
func (r *runtime) Connector(ctx context.Context, idOrName string, types ...string) (*step.Connector, error) {
	return r.store.Resolve(ctx, idOrName, types...)
}

// HTTPClient implements step.Runtime.
func (r *runtime) HTTPClient() *http.Client { return r.hc }

// Logger implements step.Runtime.
func (r *runtime) Logger() *slog.Logger { return r.log }

// AllowedHosts implements activitykit.HostPolicy.
func (r *runtime) AllowedHosts() []string { return r.store.AllowedHosts() }

// ConnectorNames implements activitykit.ConnectorLister.
func (r *runtime) ConnectorNames(types ...string) []string {
	var out []string
	for _, d := range r.store.List() {
		if len(types) > 0 && !contains(normalizeAll(types), d.Type) {
			continue
		}
		if d.Name != "" {
			out = append(out, d.Name)
		} else {
			out = append(out, d.ID)
		}
	}
	return out
}

func normalizeAll(types []string) []string {
	out := make([]string, len(types))
	for i, t := range types {
		out[i] = NormalizeType(t)
	}
	return out
}
