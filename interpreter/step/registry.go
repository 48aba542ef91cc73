package step

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Registry holds step specs by type name. The zero value is not usable; use
// NewRegistry or Default.
type Registry struct {
	mu    sync.RWMutex
	specs map[string]*Spec
}

// NewRegistry returns an empty registry (tests use it for isolation).
func NewRegistry() *Registry {
	return &Registry{specs: map[string]*Spec{}}
}

var defaultRegistry = NewRegistry()

// Default returns the process-wide registry that init() functions fill.
func Default() *Registry { return defaultRegistry }

// Register adds spec to the default registry; it panics on a duplicate or
// malformed spec, since that is a programming error found at start-up.
func Register(spec *Spec) { defaultRegistry.MustAdd(spec) }

// Add adds spec to r.
func (r *Registry) Add(spec *Spec) error {
	if spec == nil || spec.Type == "" {
		return fmt.Errorf("step spec without a type")
	}
	if spec.Kind == KindActivity && spec.Activity == nil {
		return fmt.Errorf("step %q: activity kind without an Activity func", spec.Type)
	}
	if spec.Status != "" && !spec.Status.Valid() {
		return fmt.Errorf("step %q: unknown status %q (want one of %v)", spec.Type, spec.Status, Statuses())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.specs[spec.Type]; dup {
		return fmt.Errorf("step %q registered twice", spec.Type)
	}
	r.specs[spec.Type] = spec
	return nil
}

// MustAdd is Add that panics on error.
func (r *Registry) MustAdd(spec *Spec) {
	if err := r.Add(spec); err != nil {
		panic(err)
	}
}

// Clone returns a copy of r that can be extended without touching r.
func (r *Registry) Clone() *Registry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c := NewRegistry()
	for k, v := range r.specs {
		c.specs[k] = v
	}
	return c
}

// Lookup finds the spec for a YAML type: an exact match first, then the
// longest family "<prefix>.*" whose prefix is a dotted prefix of the type,
// then the generic connector spec registered as "*" if any.
func (r *Registry) Lookup(typ string) (*Spec, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if s, ok := r.specs[typ]; ok {
		return s, true
	}
	// Families, most specific first: "a.b.c" tries "a.b.*", then "a.*".
	for i := strings.LastIndex(typ, "."); i > 0; i = strings.LastIndex(typ[:i], ".") {
		if s, ok := r.specs[typ[:i]+".*"]; ok {
			return s, true
		}
	}
	if s, ok := r.specs["*"]; ok && isConnectorType(typ) {
		return s, true
	}
	return nil, false
}

// isConnectorType reports whether typ has the `<type>` or `<type>.<subAction>`
// form of a connector step and is not in a reserved built-in family.
func isConnectorType(typ string) bool {
	if typ == "" {
		return false
	}
	for _, reserved := range []string{"elasticsearch.", "kibana.", "cases.", "ai.", "data.", "workflow.", "loop."} {
		if strings.HasPrefix(typ, reserved) {
			return false
		}
	}
	for _, c := range typ {
		if !(c == '.' || c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// All returns every spec sorted by type.
func (r *Registry) All() []*Spec {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*Spec, 0, len(r.specs))
	for _, s := range r.specs {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}

// Types returns every registered type name, sorted.
func (r *Registry) Types() []string {
	all := r.All()
	out := make([]string, len(all))
	for i, s := range all {
		out[i] = s.Type
	}
	return out
}
