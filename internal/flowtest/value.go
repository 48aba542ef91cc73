package flowtest

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/secflow/secflow/interpreter/jsvalue"
	"gopkg.in/yaml.v3"
)

// decodeValue decodes a YAML node into a JSON-like value (nil, bool,
// string, float64, []any, map[string]any), as the interpreter's runtime
// data: integers become float64, timestamps RFC 3339 strings, and mapping
// keys strings.
func decodeValue(n *yaml.Node) (any, error) {
	if n == nil {
		return nil, nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	return normalize(v)
}

// normalize converts a decoded YAML value into the JSON-like conventions.
func normalize(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, string, float64:
		return x, nil
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case float32:
		return float64(x), nil
	case json.Number:
		return x.Float64()
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano), nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[fmt.Sprint(k)] = n
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported value %T", v)
}

// number returns v as a float64 when it is a number of any Go kind; a
// malformed json.Number is not a number.
func number(v any) (float64, bool) {
	if x, ok := v.(json.Number); ok {
		f, err := x.Float64()
		return f, err == nil
	}
	return jsvalue.Number(v)
}

// text is the string form a `matches` matcher tests: strings as they are,
// numbers as JavaScript prints them, other values as JSON.
func text(v any) string {
	if s, ok := jsvalue.ScalarString(v); ok {
		return s
	}
	return show(v)
}

// maxShown bounds a value printed in a diff.
const maxShown = 300

// show renders v compactly for messages: JSON with sorted keys, numbers as
// JavaScript prints them, truncated to maxShown characters.
func show(v any) string {
	s := showFull(v)
	if len(s) > maxShown {
		// Head and tail: the end of a long message often holds the branch.
		head, tail := cut(s, maxShown/2, false), cut(s, maxShown/2, true)
		s = fmt.Sprintf("%s…(%d bytes)…%s", head, len(s)-len(head)-len(tail), tail)
	}
	return s
}

// cut returns the first (or last) n bytes of s, on a UTF-8 boundary.
func cut(s string, n int, last bool) string {
	if last {
		i := len(s) - n
		for i < len(s) && !utf8.RuneStart(s[i]) {
			i++
		}
		return s[i:]
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func showFull(v any) string {
	if f, ok := number(v); ok {
		return jsvalue.FormatNumber(f)
	}
	if m, ok := v.(*matcher); ok {
		return m.String()
	}
	switch x := v.(type) {
	case []any:
		b := []byte("[")
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, showFull(e)...)
		}
		return string(append(b, ']'))
	case map[string]any:
		b := []byte("{")
		for i, k := range sortedKeys(x) {
			if i > 0 {
				b = append(b, ',')
			}
			kb, _ := json.Marshal(k)
			b = append(b, kb...)
			b = append(b, ':')
			b = append(b, showFull(x[k])...)
		}
		return string(append(b, '}'))
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}

// clone deep-copies a JSON-like value.
func clone(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = clone(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = clone(e)
		}
		return out
	}
	return v
}

// mergeDeep returns base with over merged in: maps merge key by key,
// anything else in over replaces the value in base.
func mergeDeep(base, over map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(over))
	for k, v := range base {
		out[k] = clone(v)
	}
	for k, v := range over {
		bm, ok1 := out[k].(map[string]any)
		om, ok2 := v.(map[string]any)
		if ok1 && ok2 {
			out[k] = mergeDeep(bm, om)
			continue
		}
		out[k] = clone(v)
	}
	return out
}
