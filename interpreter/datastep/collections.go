package datastep

import (
	"math"
	"sort"
	"strings"

	"github.com/secflow/secflow/interpreter/jsvalue"
	"github.com/secflow/secflow/interpreter/template"
)

// maxMapDepth bounds nested $map recursion (Kibana: 10 levels).
const maxMapDepth = 10

// runMap implements data.map (§6.3.2, C40).
func runMap(c Call) (any, error) {
	items, err := c.config("items")
	if err != nil {
		return nil, err
	}
	if items == nil {
		return nil, fail("Items cannot be null or undefined. Please provide an array or object to map.")
	}
	arr, isArr := items.([]any)
	obj, isObj := items.(map[string]any)
	if !isArr && !isObj {
		return nil, fail("Expected items to be an array or object, but received %s. Please provide an array or object to map.", jsvalue.TypeOf(items))
	}
	if isObj {
		arr = []any{obj}
	}
	if len(arr) == 0 {
		return []any{}, nil
	}
	raw := c.rawWith()
	fields, _ := raw["fields"].(map[string]any)
	var pick any
	if t, ok := raw["transform"].(map[string]any); ok && t["pick"] != nil {
		if pick, err = c.render(t["pick"]); err != nil {
			return nil, err
		}
	}
	out := make([]any, len(arr))
	for i, item := range arr {
		var mapped any = item
		if len(fields) > 0 {
			ctx := withVars(c.Ctx, map[string]any{"item": item, "index": float64(i)})
			m, err := c.mapFields(fields, ctx, 0)
			if err != nil {
				return nil, err
			}
			mapped = m
		}
		if pick != nil {
			p, err := applyPick(mapped, pick)
			if err != nil {
				return nil, err
			}
			mapped = p
		}
		out[i] = mapped
	}
	if isObj {
		return out[0], nil
	}
	return out, nil
}

// mapFields renders a field specification for one item. A nested object
// with a `$map: {items, item?, index?}` key maps a nested array; other nested
// objects are rendered as literal objects.
func (c Call) mapFields(fields map[string]any, ctx map[string]any, depth int) (map[string]any, error) {
	out := make(map[string]any, len(fields))
	for _, k := range sortedKeys(fields) {
		v, err := c.mapValue(fields[k], ctx, depth)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

func (c Call) mapValue(v any, ctx map[string]any, depth int) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if spec, ok := x["$map"]; ok {
			return c.nestedMap(x, spec, ctx, depth+1)
		}
		return c.mapFields(x, ctx, depth)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := c.mapValue(e, ctx, depth)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	r, err := c.R.Render(v, ctx)
	if err != nil {
		return nil, asStepError(err)
	}
	return r, nil
}

func (c Call) nestedMap(fields map[string]any, spec any, ctx map[string]any, depth int) (any, error) {
	if depth > maxMapDepth {
		return nil, fail("Maximum $map nesting depth of %d exceeded", maxMapDepth)
	}
	s, ok := spec.(map[string]any)
	if !ok {
		return nil, fail("$map must be an object with an items key")
	}
	itemName, indexName := "item", "index"
	if n, ok := s["item"].(string); ok && n != "" {
		itemName = n
	}
	if n, ok := s["index"].(string); ok && n != "" {
		indexName = n
	}
	items, err := c.R.Render(s["items"], ctx)
	if err != nil {
		return nil, asStepError(err)
	}
	arr, ok := items.([]any)
	if !ok {
		return []any{}, nil
	}
	rest := make(map[string]any, len(fields))
	for k, v := range fields {
		if k != "$map" {
			rest[k] = v
		}
	}
	out := make([]any, len(arr))
	for i, item := range arr {
		child := withVars(ctx, map[string]any{itemName: item, indexName: float64(i)})
		m, err := c.mapFields(rest, child, depth)
		if err != nil {
			return nil, err
		}
		out[i] = m
	}
	return out, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ---------------------------------------------------------------------------
// transform.pick (Kibana step_transform_utils).

const maxPickDepth = 15

func applyPick(v any, pick any) (any, error) {
	return pickRecursive(v, normalizePick(pick), 1)
}

func pickRecursive(v any, paths []string, depth int) (any, error) {
	if depth > maxPickDepth {
		return nil, fail("Maximum recursion depth %d has been exceeded", maxPickDepth)
	}
	if len(paths) == 0 {
		return v, nil
	}
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := pickRecursive(e, paths, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		out := map[string]any{}
		for _, p := range paths {
			if val, ok := getAtPath(x, pathParts(p)); ok {
				setAtPath(out, pathParts(p), val)
			}
		}
		return out, nil
	}
	return v, nil
}

func pathParts(p string) []string {
	var out []string
	for _, s := range strings.Split(p, ".") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func getAtPath(obj map[string]any, keys []string) (any, bool) {
	var cur any = obj
	for i, k := range keys {
		switch x := cur.(type) {
		case map[string]any:
			v, ok := x[k]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			out := make([]any, len(x))
			for j, e := range x {
				if m, ok := e.(map[string]any); ok {
					if v, ok := getAtPath(m, keys[i:]); ok {
						out[j] = v
					}
				}
			}
			return out, true
		default:
			return nil, false
		}
	}
	return cur, true
}

func setAtPath(obj map[string]any, keys []string, v any) {
	if len(keys) == 0 {
		return
	}
	k, rest := keys[0], keys[1:]
	if arr, ok := v.([]any); ok && len(rest) > 0 {
		dst, ok := obj[k].([]any)
		if !ok {
			dst = make([]any, len(arr))
			for i := range dst {
				dst[i] = map[string]any{}
			}
			obj[k] = dst
		}
		for i, e := range arr {
			if i >= len(dst) {
				break
			}
			m, ok := dst[i].(map[string]any)
			if !ok {
				m = map[string]any{}
				dst[i] = m
			}
			setAtPath(m, rest, e)
		}
		return
	}
	if len(rest) == 0 {
		obj[k] = v
		return
	}
	child, ok := obj[k].(map[string]any)
	if !ok {
		child = map[string]any{}
		obj[k] = child
	}
	setAtPath(child, rest, v)
}

func normalizePick(raw any) []string {
	switch x := raw.(type) {
	case map[string]any:
		return specToPaths(x, "")
	case []any:
		return flattenPick(x, "")
	}
	return nil
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func specToPaths(spec map[string]any, prefix string) []string {
	var paths []string
	for _, k := range sortedKeys(spec) {
		if child, ok := spec[k].(map[string]any); ok && len(child) > 0 {
			paths = append(paths, specToPaths(child, join(prefix, k))...)
		} else {
			paths = append(paths, join(prefix, k))
		}
	}
	return paths
}

func flattenPick(elems []any, prefix string) []string {
	var paths []string
	for _, e := range elems {
		switch x := e.(type) {
		case string:
			paths = append(paths, join(prefix, x))
		case map[string]any:
			for _, k := range sortedKeys(x) {
				if child, ok := x[k].([]any); ok {
					paths = append(paths, flattenPick(child, join(prefix, k))...)
				} else {
					paths = append(paths, join(prefix, k))
				}
			}
		}
	}
	return paths
}

// ---------------------------------------------------------------------------
// data.filter / data.find

func (c Call) itemsArray(verb string) ([]any, error) {
	items, err := c.config("items")
	if err != nil {
		return nil, err
	}
	arr, ok := items.([]any)
	if !ok {
		return nil, fail("Expected items to be an array, but received %s. Please provide an array to %s.", jsvalue.TypeOf(items), verb)
	}
	return arr, nil
}

func (c Call) evalCondition(cond string, item any, index int) (bool, error) {
	if c.Cond == nil {
		return false, fail("Invalid KQL condition: no condition evaluator configured")
	}
	return c.Cond(cond, map[string]any{"item": item, "index": float64(index)})
}

func runFilter(c Call) (any, error) {
	arr, err := c.itemsArray("filter")
	if err != nil {
		return nil, err
	}
	in, err := c.input()
	if err != nil {
		return nil, err
	}
	cond, _ := asString(in["condition"])
	if trimmedEmpty(cond) {
		return arr, nil
	}
	limit := 0
	if f, ok := jsvalue.Number(in["limit"]); ok && f > 0 {
		limit = int(math.Ceil(f))
	}
	out := []any{}
	for i, item := range arr {
		switch item.(type) {
		case map[string]any, []any:
		default:
			// Non-object items cannot satisfy `item.<field>` conditions.
			continue
		}
		ok, err := c.evalCondition(cond, item, i)
		if err != nil {
			return nil, fail("Invalid KQL condition: %s", err.Error())
		}
		if ok {
			out = append(out, item)
			if limit > 0 && len(out) >= limit {
				break
			}
		}
	}
	return out, nil
}

func runFind(c Call) (any, error) {
	arr, err := c.itemsArray("search")
	if err != nil {
		return nil, err
	}
	in, err := c.input()
	if err != nil {
		return nil, err
	}
	cond, _ := asString(in["condition"])
	errorIfEmpty := jsvalue.Truthy(in["errorIfEmpty"])
	if trimmedEmpty(cond) {
		if len(arr) == 0 || arr[0] == nil {
			if errorIfEmpty {
				return nil, fail("No items found in the collection")
			}
			return map[string]any{"item": nil, "index": nil}, nil
		}
		return map[string]any{"item": arr[0], "index": float64(0)}, nil
	}
	for i, item := range arr {
		ok, err := c.evalCondition(cond, item, i)
		if err != nil {
			return nil, fail("Invalid KQL condition: %s", err.Error())
		}
		if ok {
			return map[string]any{"item": item, "index": float64(i)}, nil
		}
	}
	if errorIfEmpty {
		return nil, fail("No item matching the condition was found")
	}
	return map[string]any{"item": nil, "index": nil}, nil
}

// ---------------------------------------------------------------------------
// data.dedupe

// stableJSON is JSON.stringify with sorted keys; "undefined" for missing.
func stableJSON(v any, present bool) string {
	if !present {
		return "undefined"
	}
	s, ok, err := template.JSONStringify(v, "")
	if err != nil || !ok {
		return "undefined"
	}
	return s
}

func runDedupe(c Call) (any, error) {
	items, err := c.config("items")
	if err != nil {
		return nil, err
	}
	strategy := "keep_first"
	if s, err := c.config("strategy"); err != nil {
		return nil, err
	} else if str, ok := s.(string); ok && str != "" {
		strategy = str
	}
	arr, ok := items.([]any)
	if !ok {
		return nil, fail("Expected items to be an array, but received %s. Please provide an array of items to deduplicate.", jsvalue.TypeOf(items))
	}
	if len(arr) == 0 {
		return []any{}, nil
	}
	in, err := c.input()
	if err != nil {
		return nil, err
	}
	rawKeys, ok := in["keys"].([]any)
	if !ok || len(rawKeys) == 0 {
		return nil, fail("Keys must be a non-empty array of field names")
	}
	keys := make([]string, len(rawKeys))
	for i, k := range rawKeys {
		keys[i] = jsString(k)
	}
	index := map[string]int{}
	var order []string
	values := map[string]any{}
	for _, item := range arr {
		var key string
		switch x := item.(type) {
		case map[string]any:
			parts := make([]string, len(keys))
			for i, k := range keys {
				v, present := x[k]
				parts[i] = stableJSON(v, present)
			}
			key = strings.Join(parts, "::")
		case []any:
			// JavaScript reads the named keys of an array: all undefined.
			parts := make([]string, len(keys))
			for i := range keys {
				parts[i] = stableJSON(nil, false)
			}
			key = strings.Join(parts, "::")
		default:
			key = stableJSON(item, true)
		}
		if _, seen := index[key]; !seen {
			index[key] = len(order)
			order = append(order, key)
			values[key] = item
		} else if strategy != "keep_first" {
			values[key] = item
		}
	}
	out := make([]any, len(order))
	for i, k := range order {
		out[i] = values[k]
	}
	return out, nil
}

// jsString formats a scalar like JavaScript's String(); other values as
// template.Stringify does.
func jsString(v any) string {
	if s, ok := jsvalue.ScalarString(v); ok {
		return s
	}
	return template.Stringify(v)
}

// ---------------------------------------------------------------------------
// data.concat

const (
	maxConcatItems  = 100000
	maxConcatArrays = 50
)

func runConcat(c Call) (any, error) {
	raw, ok := c.Config["arrays"].([]any)
	if !ok || len(raw) == 0 {
		return nil, fail(`"arrays" must be a non-empty array of arrays`)
	}
	if len(raw) > maxConcatArrays {
		return nil, fail(`"arrays" must contain at most %d arrays`, maxConcatArrays)
	}
	in, err := c.input()
	if err != nil {
		return nil, err
	}
	dedupe := jsvalue.Truthy(in["dedupe"])
	depth := 0
	switch f := in["flatten"].(type) {
	case bool:
		if f {
			depth = 1
		}
	default:
		if n, ok := jsvalue.Number(f); ok && n >= 1 {
			depth = int(n)
		}
	}
	seen := map[string]bool{}
	out := []any{}
	total := 0
	var push func(item any, depth int) error
	push = func(item any, d int) error {
		if sub, ok := item.([]any); ok && d > 0 {
			for _, e := range sub {
				if err := push(e, d-1); err != nil {
					return err
				}
			}
			return nil
		}
		total++
		if total > maxConcatItems {
			return fail("Result exceeds the maximum of %d items.", maxConcatItems)
		}
		if dedupe {
			k := stableJSON(item, true)
			if seen[k] {
				return nil
			}
			seen[k] = true
		}
		out = append(out, item)
		return nil
	}
	for i, r := range raw {
		v, err := c.render(r)
		if err != nil {
			return nil, err
		}
		if v == nil {
			continue
		}
		arr, ok := v.([]any)
		if !ok {
			return nil, fail(`Input at index %d is not an array (got %s). Each entry in "arrays" must resolve to an array.`, i, jsvalue.TypeOf(v))
		}
		for _, item := range arr {
			if err := push(item, depth); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
