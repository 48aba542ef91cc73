package connectors

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/netip"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// runtime implements step.Runtime over a Store.
type runtime struct {
	store *Store
	hc    *http.Client
	log   *slog.Logger
}

// NewRuntime returns the step.Runtime activities receive: connectors come
// from store (secrets resolved on each call), outgoing calls use hc, and
// log is the secret-free logger (a discarding one when nil). When hc is nil
// the client is a clone of http.DefaultTransport with no overall timeout
// (the activity context bounds each call) that refuses to connect to
// link-local / cloud-metadata addresses unless the IP literal is in the
// store's allowedHosts (activitykit.Guard), for every integration.
func NewRuntime(store *Store, hc *http.Client, log *slog.Logger) step.Runtime {
	if store == nil {
		store, _ = NewStore()
	}
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		activitykit.Guard(tr, func() activitykit.AddrPolicy {
			return activitykit.AddrPolicy{MetadataExempt: activitykit.IPLiterals(store.AllowedHosts())}
		})
		hc = &http.Client{Transport: tr}
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

// PrivateNetworks implements activitykit.NetworkPolicy.
func (r *runtime) PrivateNetworks() (bool, []netip.Prefix) { return r.store.PrivateNetworks() }

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
