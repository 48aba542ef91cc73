package interpreter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/secflow/secflow/internal/blobstore"
	"github.com/secflow/secflow/interpreter/datastep"
	"github.com/secflow/secflow/interpreter/step"
	"github.com/secflow/secflow/interpreter/template"
)

// blob.go: values kept out of Temporal history (issue 4 item 9).
//
// A value too large for history travels as a blob reference
// {"$blobRef": "sha256:…", "size": <JSON bytes>} (see NewBlobRef): an
// activity step output over the threshold (stored by the worker's activity
// wrapper), the alert event of RunInput.EventRef (stored by the starter),
// and values carried over a continue-as-new (stored through the local
// activity StoreBlobActivity). References sit where templates look them
// up: `event`, `steps.<name>.output` / `.input`, `variables.<key>`.
//
// Workflow code never reads the store. A template, condition or data step
// whose text mentions a root holding a reference (`event`,
// `steps.<name>` with that name, `variables.<key>`, or `steps` /
// `variables` accessed dynamically) is evaluated by the local activity
// FetchBlobActivity instead: it fetches the referenced values, substitutes
// them into the context and returns only the result, which is what lands
// in history (a LocalActivity marker). Reading one field of a 1 MiB output
// records that field, not the output; rendering the whole value (e.g.
// `{{ steps.big.output | json }}`) records it once. Every other rendering
// stays in workflow code, without history cost.
//
// References also end up nested inside values: a parallel step's
// output.results (and .branches) holds each branch's last output, a child
// run without workflow.output gives its parent the outputs of the
// iterations of its last loop as an array, and a value carried over a
// continue-as-new may be stored whole with such references inside. A
// template that mentions a root holding nested references goes through
// FetchBlobActivity too, with one slot per reference (its path through
// map keys and array indexes); the activity resolves references inside
// stored values as well. So a foreach over those results, a data.set
// copying them or an activity `with` reading them gets the real values.
// Every reference inside a mentioned value is fetched (by the worker,
// cached; history records only the result), even when the template reads
// one branch. Runs recorded before this (changeNestedBlobs) read them as
// they were.

// Names of the blob local activities.
const (
	// FetchBlobActivity evaluates a template, condition or data step
	// against a context whose blob references it resolves.
	FetchBlobActivity = "secflow.fetchBlob"
	// StoreBlobActivity stores a large value (at continue-as-new) and
	// returns its reference.
	StoreBlobActivity = "secflow.storeBlob"
)

// DefaultBlobThreshold is the JSON size above which a step output is kept
// in the blob store rather than in history (Options.BlobThreshold).
const DefaultBlobThreshold = 128 << 10

// BlobRefKey is the key of a blob reference object.
const BlobRefKey = "$blobRef"

// ErrTypeBlob is the step error type of a blob that cannot be read.
const ErrTypeBlob = "BlobUnavailable"

// NewBlobRef returns the reference object of a stored value whose JSON
// encoding is size bytes.
func NewBlobRef(ref string, size int) map[string]any {
	return map[string]any{BlobRefKey: ref, "size": float64(size)}
}

// BlobRefOf reports whether v is a blob reference object and returns its
// reference and size.
func BlobRefOf(v any) (ref string, size int64, ok bool) {
	m, isMap := v.(map[string]any)
	if !isMap || len(m) > 2 {
		return "", 0, false
	}
	ref, ok = m[BlobRefKey].(string)
	if !ok || ref == "" {
		return "", 0, false
	}
	n, _ := toInt(m["size"])
	return ref, int64(n), true
}

// BlobSlot is where a blob reference sits in a template context: a path
// from the root ("event"; "steps", name, "output"; "variables", key), then,
// for a reference nested inside such a value, map keys and array indexes
// (decimal) down to it (e.g. "steps", "fan", "output", "results", "0",
// "output").
type BlobSlot struct {
	Path []string `json:"path"`
	Ref  string   `json:"ref"`
	// nested marks a reference inside a value rather than the value
	// itself (resolved since changeNestedBlobs).
	nested bool
}

// changeNestedBlobs is the GetVersion change ID of resolving references
// nested inside values (a parallel step's results, a child run's
// outputs collected from a loop): histories recorded before it replay
// reading those references as they are.
const changeNestedBlobs = "blob-nested-refs"

// maxRefDepth bounds the search for nested references (JSON values are
// far shallower; a deeper one is left as it is).
const maxRefDepth = 64

// Operations of FetchBlobActivity.
const (
	blobOpRender    = "render"    // Render(Value)
	blobOpString    = "string"    // RenderString(Value)
	blobOpEvaluate  = "evaluate"  // Evaluate(Value)
	blobOpCondition = "condition" // the condition algorithm of §5.1
	blobOpData      = "data"      // a data.* step
)

// BlobRequest is the argument of FetchBlobActivity (built by the workflow;
// local activity arguments are not recorded in history).
type BlobRequest struct {
	Op     string `json:"op"`
	Value  any    `json:"value,omitempty"`
	StepID string `json:"stepId,omitempty"`
	// Step names the step in a TemplateSizeLimitExceeded error.
	Step   string         `json:"step,omitempty"`
	Type   string         `json:"type,omitempty"`
	Config map[string]any `json:"config,omitempty"`
	// Context is the template context with the references in place.
	Context map[string]any `json:"context"`
	// Slots are the references to resolve.
	Slots []BlobSlot `json:"slots"`
	// Now is the run's clock at the call; Liquid the template limits
	// (OutputLimit: the step's max-step-size, or 0).
	Now    time.Time        `json:"now"`
	Liquid template.Options `json:"liquid"`
}

// BlobResult is the recorded result of FetchBlobActivity: the value, or the
// step error the same evaluation in workflow code would have returned.
type BlobResult struct {
	Value any         `json:"value,omitempty"`
	Bool  bool        `json:"bool,omitempty"`
	Err   *step.Error `json:"error,omitempty"`
}

// StoreBlobRequest is the argument of StoreBlobActivity.
type StoreBlobRequest struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
}

// blobActivityOptions are the options of the blob local activities.
var blobActivityOptions = workflow.LocalActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3},
}

// renderValue renders v (§4.2) against ctx for step s, through
// FetchBlobActivity when v reads a value kept in the blob store. Each
// template's output is limited to the step's max-step-size
// (TemplateSizeLimitExceeded, limits.go).
func (r *run) renderValue(wctx workflow.Context, s *Step, v any, ctx map[string]any) (any, error) {
	return renderVia(r, wctx, s, blobOpRender, v, ctx, func(e limitedEngine) (any, error) { return e.Render(v, ctx) })
}

// renderString renders a template string against ctx (see renderValue).
func (r *run) renderString(wctx workflow.Context, s *Step, str string, ctx map[string]any) (string, error) {
	return renderVia(r, wctx, s, blobOpString, str, ctx, func(e limitedEngine) (string, error) { return e.RenderString(str, ctx) })
}

// renderVia renders v for step s with the step's template output limit:
// with render on the limited engine in workflow code, or, when v reads
// a value kept in the blob store, as op in FetchBlobActivity (a result
// that is not a T reads as T's zero value).
func renderVia[T any](r *run, wctx workflow.Context, s *Step, op string, v any, ctx map[string]any,
	render func(limitedEngine) (T, error)) (T, error) {
	slots := r.neededSlots(wctx, ctx, v)
	return withTemplateLimit(r, wctx, s, func(limit int) (T, error) {
		if len(slots) > 0 {
			res, err := r.viaBlobs(wctx, &BlobRequest{Op: op, Value: v, Step: stepName(s),
				Liquid: template.Options{OutputLimit: limit}}, ctx, slots)
			if err != nil {
				var zero T
				return zero, err
			}
			out, _ := res.Value.(T)
			return out, nil
		}
		return render(r.engineFor(s, limit))
	})
}

// stepName is the name of s ("" for nil).
func stepName(s *Step) string {
	if s == nil {
		return ""
	}
	return s.Name
}

// evaluate evaluates an expression with its type (see renderValue; a
// typed value is not rendered text and has no template output limit).
func (r *run) evaluate(wctx workflow.Context, expr string, ctx map[string]any) (any, error) {
	if slots := r.neededSlots(wctx, ctx, expr); len(slots) > 0 {
		res, err := r.viaBlobs(wctx, &BlobRequest{Op: blobOpEvaluate, Value: expr}, ctx, slots)
		if err != nil {
			return nil, err
		}
		return res.Value, nil
	}
	return pureEvaluate(r.tpl, expr, ctx)
}

// viaBlobs runs req in FetchBlobActivity with ctx and the slots to resolve.
// Errors of the evaluation come back as the step error they would be in
// workflow code; a blob that cannot be read fails the step with
// ErrTypeBlob.
func (r *run) viaBlobs(wctx workflow.Context, req *BlobRequest, ctx map[string]any, slots []BlobSlot) (*BlobResult, error) {
	// The activity reads the context while other workflow coroutines may
	// run; the maps the workflow updates in place (the run output) are
	// copied, everything else in a template context is replaced, never
	// modified.
	c := make(map[string]any, len(ctx))
	for _, k := range keysSorted(ctx) {
		c[k] = ctx[k]
	}
	if out, ok := ctx["output"].(map[string]any); ok {
		o := make(map[string]any, len(out))
		for _, k := range keysSorted(out) {
			o[k] = out[k]
		}
		c["output"] = o
	}
	req.Context = c
	req.Slots = slots
	req.Now = r.now()
	limit := req.Liquid.OutputLimit
	req.Liquid = r.tplOpts
	req.Liquid.OutputLimit = limit
	var res BlobResult
	lctx := workflow.WithLocalActivityOptions(wctx, blobActivityOptions)
	if err := workflow.ExecuteLocalActivity(lctx, FetchBlobActivity, req).Get(lctx, &res); err != nil {
		if temporal.IsCanceledError(err) || wctx.Err() != nil {
			return nil, err
		}
		return nil, &step.Error{Type: ErrTypeBlob, Message: "reading a value kept in the blob store failed: " + fromActivityError(err, "").Message}
	}
	if res.Err != nil {
		return nil, res.Err
	}
	return &res, nil
}

// blobSlots lists the blob references of a template context that sit
// where templates look them up (not those nested inside values), in a
// fixed order: event, steps.<name>.<field>, variables.<key>.
func blobSlots(ctx map[string]any) []BlobSlot {
	var out []BlobSlot
	eachRoot(ctx, func(path []string, v any) {
		if ref, _, ok := BlobRefOf(v); ok {
			out = append(out, BlobSlot{Path: path, Ref: ref})
		}
	})
	return out
}

// eachRoot calls fn, in a fixed order, with the path and value of every
// place of ctx a blob reference may sit: event, steps.<name>.input and
// .output, variables.<key>.
func eachRoot(ctx map[string]any, fn func(path []string, v any)) {
	if ev, ok := ctx["event"]; ok && ev != nil {
		fn([]string{"event"}, ev)
	}
	if steps, ok := ctx["steps"].(map[string]any); ok {
		for _, name := range keysSorted(steps) {
			m, _ := steps[name].(map[string]any)
			for _, f := range []string{"input", "output"} {
				if v, ok := m[f]; ok && v != nil {
					fn([]string{"steps", name, f}, v)
				}
			}
		}
	}
	if vars, ok := ctx["variables"].(map[string]any); ok {
		for _, k := range keysSorted(vars) {
			if v := vars[k]; v != nil {
				fn([]string{"variables", k}, v)
			}
		}
	}
}

// neededSlots returns the blob references of ctx that the strings of
// values may read: the values at the places of eachRoot that are
// references and, inside the others but the event, the nested references
// (flagged nested). Only values the strings mention are searched, so the
// cost of the search is that of the values a template reads anyway. The test is
// textual and errs on the safe side: a false positive costs one local
// activity, never a wrong value.
func neededSlots(ctx map[string]any, values ...any) []BlobSlot {
	var texts []string
	for _, v := range values {
		collectStrings(v, &texts)
	}
	if len(texts) == 0 {
		return nil
	}
	var out []BlobSlot
	eachRoot(ctx, func(path []string, v any) {
		key := ""
		if len(path) > 1 {
			key = path[1]
		}
		_, isMap := v.(map[string]any)
		if _, isList := v.([]any); !isMap && !isList {
			return // a scalar holds no reference
		}
		mentioned := false
		for _, t := range texts {
			if mentions(t, path[0], key) {
				mentioned = true
				break
			}
		}
		if !mentioned {
			return
		}
		if ref, _, ok := BlobRefOf(v); ok {
			out = append(out, BlobSlot{Path: path, Ref: ref})
			return
		}
		if path[0] != "event" { // an alert event is stored whole or not at all
			nestedRefs(v, path, 0, &out)
		}
	})
	return out
}

// nestedRefs appends the references inside v (at path; v itself is not
// one), map keys in sorted order, array elements in index order.
func nestedRefs(v any, path []string, depth int, out *[]BlobSlot) {
	if depth >= maxRefDepth {
		return
	}
	visit := func(seg string, x any) {
		p := append(path[:len(path):len(path)], seg)
		if ref, _, ok := BlobRefOf(x); ok {
			*out = append(*out, BlobSlot{Path: p, Ref: ref, nested: true})
			return
		}
		nestedRefs(x, p, depth+1, out)
	}
	switch x := v.(type) {
	case map[string]any:
		for _, k := range keysSorted(x) {
			visit(k, x[k])
		}
	case []any:
		for i, e := range x {
			visit(strconv.Itoa(i), e)
		}
	}
}

// neededSlots is the package function neededSlots for this run: nested
// references are resolved only in runs recorded since changeNestedBlobs
// (asked only when the strings read one).
func (r *run) neededSlots(wctx workflow.Context, ctx map[string]any, values ...any) []BlobSlot {
	slots := neededSlots(ctx, values...)
	nested := false
	for _, s := range slots {
		nested = nested || s.nested
	}
	if !nested || workflow.GetVersion(wctx, changeNestedBlobs, workflow.DefaultVersion, 1) != workflow.DefaultVersion {
		return slots
	}
	kept := slots[:0]
	for _, s := range slots {
		if !s.nested {
			kept = append(kept, s)
		}
	}
	return kept
}

// collectStrings appends every string inside v (keys included).
func collectStrings(v any, out *[]string) {
	switch x := v.(type) {
	case string:
		*out = append(*out, x)
	case map[string]any:
		for _, k := range keysSorted(x) {
			*out = append(*out, k)
			collectStrings(x[k], out)
		}
	case []any:
		for _, e := range x {
			collectStrings(e, out)
		}
	}
}

// mentions reports whether text may read root (when key is "") or
// root.key: the word root followed by ".key" (also "key-…", which a
// template may parse as a subtraction), or by anything but "." (dynamic
// access such as steps['x'] or a filter on the whole root).
func mentions(text, root, key string) bool {
	for i := 0; i < len(text); {
		j := strings.Index(text[i:], root)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(root)
		i = end
		if (start > 0 && isIdentByte(text[start-1])) || (end < len(text) && isIdentByte(text[end])) {
			continue
		}
		if key == "" || end >= len(text) || text[end] != '.' {
			return true
		}
		k := end + 1
		for k < len(text) && (isIdentByte(text[k]) || text[k] == '-') {
			k++
		}
		if name := text[end+1 : k]; name == key || strings.HasPrefix(name, key+"-") || strings.HasPrefix(key, name) {
			return true
		}
	}
	return false
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// substitute returns a copy of ctx with the value at path replaced by v
// (maps and arrays along the path are copied, never modified). A path
// that does not lead anywhere leaves ctx as it is.
func substitute(ctx map[string]any, path []string, v any) map[string]any {
	out, _ := substituteIn(ctx, path, v).(map[string]any)
	return out
}

// substituteIn is substitute for any container: a map (key path[0]) or an
// array (index path[0]).
func substituteIn(c any, path []string, v any) any {
	if len(path) == 0 {
		return v
	}
	switch x := c.(type) {
	case map[string]any:
		out := make(map[string]any, len(x)+1)
		for k, e := range x {
			out[k] = e
		}
		out[path[0]] = substituteIn(x[path[0]], path[1:], v)
		return out
	case []any:
		i, err := strconv.Atoi(path[0])
		if err != nil || i < 0 || i >= len(x) {
			return c
		}
		out := append([]any(nil), x...)
		out[i] = substituteIn(x[i], path[1:], v)
		return out
	case nil:
		return substituteIn(map[string]any{}, path, v)
	}
	return c
}

// resolveNested returns v with the references nested inside it replaced
// by their values, themselves resolved (a value carried over a
// continue-as-new may hold the references of a parallel step's results).
func resolveNested(ctx context.Context, cache *blobCache, store blobstore.Store, v any, depth int) (any, error) {
	if depth >= maxRefDepth {
		return v, nil
	}
	var slots []BlobSlot
	if ref, _, ok := BlobRefOf(v); ok {
		slots = []BlobSlot{{Ref: ref}}
	} else {
		nestedRefs(v, nil, 0, &slots)
	}
	for _, s := range slots {
		x, err := cache.get(ctx, store, s.Ref)
		if err != nil {
			return nil, err
		}
		if x, err = resolveNested(ctx, cache, store, x, depth+1); err != nil {
			return nil, err
		}
		v = substituteIn(v, s.Path, x)
	}
	return v, nil
}

// NewFetchBlob returns the FetchBlobActivity local activity reading from
// store (nil: every call fails, saying no blob store is configured).
// Decoded values are cached by reference (they are immutable).
func NewFetchBlob(store blobstore.Store) func(ctx context.Context, req *BlobRequest) (*BlobResult, error) {
	cache := newBlobCache(16, 256<<20)
	return func(ctx context.Context, req *BlobRequest) (*BlobResult, error) {
		if store == nil {
			return nil, temporal.NewNonRetryableApplicationError("this worker has no blob store configured", ErrTypeBlob, nil)
		}
		env := req.Context
		for _, s := range req.Slots {
			v, err := cache.get(ctx, store, s.Ref)
			if err == nil {
				v, err = resolveNested(ctx, cache, store, v, 1)
			}
			if err != nil {
				if errors.Is(err, blobstore.ErrNotFound) || errors.Is(err, blobstore.ErrBadRef) {
					return nil, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeBlob, nil)
				}
				return nil, err
			}
			env = substitute(env, s.Path, v)
		}
		opts := req.Liquid
		now := req.Now
		opts.Now = func() time.Time { return now }
		tpl := template.New(opts)
		lim := limitedEngine{eng: tpl, step: req.Step}
		res := &BlobResult{}
		var err error
		switch req.Op {
		case blobOpRender:
			res.Value, err = lim.Render(req.Value, env)
		case blobOpString:
			s, _ := req.Value.(string)
			res.Value, err = lim.RenderString(s, env)
		case blobOpEvaluate:
			s, _ := req.Value.(string)
			res.Value, err = tpl.Evaluate(s, env)
		case blobOpCondition:
			res.Bool, err = conditionOf(tpl, now, req.Value, env, req.StepID)
		case blobOpData:
			res.Value, err = datastep.Run(datastep.Call{Type: req.Type, With: req.Value, Config: req.Config, Ctx: env, R: lim,
				Cond: func(cond string, ctx map[string]any) (bool, error) { return kqlEval(cond, ctx, now) }})
		default:
			return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("unknown operation %q", req.Op), ErrTypeBlob, nil)
		}
		if err != nil {
			return &BlobResult{Err: step.AsError(err)}, nil
		}
		if n := len(jsonMarshal(res.Value)); n > maxFetchResult {
			// Recording it would exceed Temporal's payload limit and stall
			// the run; fail the step instead.
			return &BlobResult{Err: &step.Error{Type: ErrTypeBlob, Message: fmt.Sprintf(
				"the value computed from the blob store is %d bytes, more than the %d a run can hold in its history; read fields of it instead",
				n, maxFetchResult), Details: map[string]any{"size": n, "limit": maxFetchResult}}}, nil
		}
		return res, nil
	}
}

// maxFetchResult bounds what FetchBlobActivity returns into history
// (Temporal rejects payloads over 2 MiB).
const maxFetchResult = 1536 << 10

// NewStoreBlob returns the StoreBlobActivity local activity: it stores the
// JSON encoding of a value and returns its reference object.
func NewStoreBlob(store blobstore.Store) func(ctx context.Context, req *StoreBlobRequest) (map[string]any, error) {
	return func(ctx context.Context, req *StoreBlobRequest) (map[string]any, error) {
		if store == nil {
			return nil, temporal.NewNonRetryableApplicationError("this worker has no blob store configured", ErrTypeBlob, nil)
		}
		b, err := json.Marshal(req.Value)
		if err != nil {
			return nil, temporal.NewNonRetryableApplicationError("encoding a value for the blob store: "+err.Error(), ErrTypeBlob, nil)
		}
		ref, err := store.Put(ctx, req.Key, b)
		if err != nil {
			return nil, fmt.Errorf("storing %s: %w", req.Key, err)
		}
		return NewBlobRef(ref, len(b)), nil
	}
}

// blobCache keeps recently decoded blobs (bounded by count and bytes).
type blobCache struct {
	mu       sync.Mutex
	max      int
	maxBytes int
	bytes    int
	order    []string
	vals     map[string]cached
}

type cached struct {
	v    any
	size int
}

func newBlobCache(max, maxBytes int) *blobCache {
	return &blobCache{max: max, maxBytes: maxBytes, vals: map[string]cached{}}
}

// get returns the decoded value of ref, reading it on a miss.
func (c *blobCache) get(ctx context.Context, store blobstore.Store, ref string) (any, error) {
	c.mu.Lock()
	if e, ok := c.vals[ref]; ok {
		c.mu.Unlock()
		return e.v, nil
	}
	c.mu.Unlock()
	b, err := store.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("decoding blob %s: %w", ref, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.vals[ref]; !ok && len(b) <= c.maxBytes {
		for len(c.order) > 0 && (len(c.order) >= c.max || c.bytes+len(b) > c.maxBytes) {
			old := c.order[0]
			c.order = c.order[1:]
			c.bytes -= c.vals[old].size
			delete(c.vals, old)
		}
		c.vals[ref] = cached{v: v, size: len(b)}
		c.order = append(c.order, ref)
		c.bytes += len(b)
	}
	return v, nil
}
