package schema

import (
	"sort"
	"strings"

	"github.com/secflow/secflow/interpreter/jsvalue"
)

// maxRefDepth bounds $ref chains and nesting (a self-referencing schema
// would otherwise recurse forever).
const maxRefDepth = 32

// ApplyDefaults returns a copy of inputs with defaults applied, as Kibana's
// applyInputDefaults does:
//   - a missing top-level property gets its default; a missing object
//     property without a default is synthesised from its children's defaults
//     (and required children); a missing array property without a default
//     becomes [];
//   - a provided object (or null) for an object property gets its missing
//     children's defaults, recursively;
//   - "$ref" to local definitions ("#/definitions/X", "#/$defs/X") is
//     resolved.
//
// Default values are copied, never shared with the schema. A nil schema
// returns a copy of inputs.
func ApplyDefaults(s *Schema, inputs map[string]any) map[string]any {
	result := make(map[string]any, len(inputs))
	for k, v := range inputs {
		result[k] = v
	}
	if s == nil || len(s.Properties) == 0 {
		return result
	}
	d := defaulter{root: s.root(), active: map[string]int{}}
	for _, name := range s.order() {
		prop := s.Properties[name]
		cur, present := result[name]
		switch {
		case !present:
			if v, ok := d.apply(prop, nil, false, 0); ok {
				result[name] = v
			}
		case prop["type"] == "object" && jsvalue.Truthy(prop["properties"]) && isObjectOrNull(cur):
			if v, ok := d.apply(prop, cur, true, 0); ok {
				result[name] = v
			}
		case isRef(prop):
			if v, ok := d.apply(prop, cur, true, 0); ok {
				result[name] = v
			}
		}
	}
	return result
}

type defaulter struct {
	root map[string]any
	// active counts the $refs being expanded on the current path: a
	// recursive schema stops expanding (Kibana would overflow its stack).
	active map[string]int
}

func isRef(schema map[string]any) bool {
	r, _ := schema["$ref"].(string)
	return r != ""
}

// isObjectOrNull is JavaScript's `typeof v === 'object' && !Array.isArray(v)`.
func isObjectOrNull(v any) bool {
	if v == nil {
		return true
	}
	_, ok := normalize(v).(map[string]any)
	return ok
}

// resolveRef resolves a local "#/a/b" reference against root; ok is false
// when the reference is external or does not resolve to a truthy value.
func resolveRef(ref string, root map[string]any) (map[string]any, bool) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, false
	}
	var cur any = root
	for _, seg := range strings.Split(ref[2:], "/") {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[seg]
		case map[string]map[string]any:
			cur = c[seg]
		case []any:
			i, ok := arrayIndex(seg, len(c))
			if !ok {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	if !jsvalue.Truthy(cur) {
		return nil, false
	}
	if m, ok := normalize(cur).(map[string]any); ok {
		return m, true
	}
	return map[string]any{}, true // a truthy non-object: an empty schema
}

func arrayIndex(seg string, n int) (int, bool) {
	if seg == "" || len(seg) > 9 {
		return 0, false
	}
	i := 0
	for _, c := range seg {
		if c < '0' || c > '9' {
			return 0, false
		}
		i = i*10 + int(c-'0')
	}
	return i, i < n
}

// propsOf returns a schema's "properties" as schemas, with sorted names;
// non-object property schemas are empty schemas.
func propsOf(schema map[string]any) ([]string, map[string]map[string]any) {
	raw, _ := normalize(schema["properties"]).(map[string]any)
	if raw == nil {
		if typed, ok := schema["properties"].(map[string]map[string]any); ok {
			raw = make(map[string]any, len(typed))
			for k, v := range typed {
				raw[k] = v
			}
		}
	}
	names := make([]string, 0, len(raw))
	props := make(map[string]map[string]any, len(raw))
	for k, v := range raw {
		names = append(names, k)
		m, _ := v.(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		props[k] = m
	}
	sort.Strings(names)
	return names, props
}

func requiredOf(schema map[string]any, name string) bool {
	req, _ := normalize(schema["required"]).([]any)
	for _, r := range req {
		if r == name {
			return true
		}
	}
	return false
}

// apply is applyDefaultFromSchema; (value, present) is the current value
// (absent = JavaScript undefined); ok is false when the result is undefined.
func (d *defaulter) apply(schema map[string]any, value any, present bool, depth int) (any, bool) {
	if depth > maxRefDepth {
		return value, present
	}
	if ref, _ := schema["$ref"].(string); ref != "" {
		if resolved, ok := resolveRef(ref, d.root); ok {
			if d.active[ref] > 0 && (!present || value == nil) {
				return nil, false
			}
			d.active[ref]++
			defer func() { d.active[ref]-- }()
			return d.apply(resolved, value, present, depth+1)
		}
	}
	if present && value != nil {
		if m, ok := normalize(value).(map[string]any); ok && schema["type"] == "object" && jsvalue.Truthy(schema["properties"]) {
			return d.applyToProperties(schema, m, depth), true
		}
		return value, true
	}
	if def, ok := schema["default"]; ok {
		return normalize(def), true
	}
	if schema["type"] == "object" && jsvalue.Truthy(schema["properties"]) {
		return d.objectWithDefaults(schema, depth)
	}
	if schema["type"] == "array" {
		return []any{}, true
	}
	return nil, false
}

// applyToProperties is applyDefaultsToObjectProperties.
func (d *defaulter) applyToProperties(schema map[string]any, value map[string]any, depth int) map[string]any {
	result := make(map[string]any, len(value))
	for k, v := range value {
		result[k] = v
	}
	names, props := propsOf(schema)
	for _, key := range names {
		prop := props[key]
		cur, present := result[key]
		if v, ok := d.applyToProperty(prop, cur, present, depth+1); ok {
			result[key] = v
		}
	}
	return result
}

// applyToProperty is applyDefaultToObjectProperty (note: unlike the top
// level, a missing nested array stays missing and a nested $ref is not
// resolved for a missing value, as in Kibana).
func (d *defaulter) applyToProperty(prop map[string]any, cur any, present bool, depth int) (any, bool) {
	isObj := prop["type"] == "object" && jsvalue.Truthy(prop["properties"])
	if !present {
		if def, ok := prop["default"]; ok {
			return normalize(def), true
		}
		if isObj {
			return d.apply(prop, nil, false, depth)
		}
		return nil, false
	}
	if isObj && isObjectOrNull(cur) {
		return d.apply(prop, cur, true, depth)
	}
	return cur, true
}

// hasDefaults is hasDefaultsRecursive.
func (d *defaulter) hasDefaults(schema map[string]any, depth int) bool {
	if depth > maxRefDepth {
		return false
	}
	if ref, _ := schema["$ref"].(string); ref != "" {
		if resolved, ok := resolveRef(ref, d.root); ok {
			if d.active[ref] > 0 {
				return false
			}
			d.active[ref]++
			defer func() { d.active[ref]-- }()
			return d.hasDefaults(resolved, depth+1)
		}
	}
	if _, ok := schema["default"]; ok {
		return true
	}
	if schema["type"] == "object" && jsvalue.Truthy(schema["properties"]) {
		names, props := propsOf(schema)
		for _, k := range names {
			if d.hasDefaults(props[k], depth+1) {
				return true
			}
		}
	}
	if schema["type"] == "array" && jsvalue.Truthy(schema["items"]) {
		items, _ := normalize(schema["items"]).(map[string]any)
		if items == nil {
			items = map[string]any{}
		}
		return d.hasDefaults(items, depth+1)
	}
	return false
}

// objectWithDefaults is createObjectWithDefaults: required children and
// children with (nested) defaults; undefined when none.
func (d *defaulter) objectWithDefaults(schema map[string]any, depth int) (any, bool) {
	result := map[string]any{}
	names, props := propsOf(schema)
	for _, key := range names {
		prop := props[key]
		if requiredOf(schema, key) || d.hasDefaults(prop, depth+1) {
			if v, ok := d.apply(prop, nil, false, depth+1); ok {
				result[key] = v
			}
		}
	}
	if len(result) == 0 {
		return nil, false
	}
	return result, true
}
