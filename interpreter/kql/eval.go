package kql

import (
	"reflect"
	"time"

	"github.com/secflow/secflow/interpreter/jsvalue"
)

// evaluator evaluates parsed nodes against a context, following Kibana's
// kbn-eval-kql (newest version).
type evaluator struct {
	now time.Time
}

func (e *evaluator) eval(n *node, ctx map[string]any) bool {
	switch n.kind {
	case nodeAnd:
		for _, k := range n.kids {
			if !e.eval(k, ctx) {
				return false
			}
		}
		return true
	case nodeOr:
		for _, k := range n.kids {
			if e.eval(k, ctx) {
				return true
			}
		}
		return false
	case nodeNot:
		return !e.eval(n.kids[0], ctx)
	case nodeIs:
		v, ok := resolve(ctx, n.path)
		if !ok {
			return false
		}
		if n.value.kind == litWildcard {
			return wildcardIsMatch(v, n.value)
		}
		r := rhs{lit: n.value, now: e.now}
		return r.exactIsMatch(v)
	case nodeRange:
		v, ok := resolve(ctx, n.path)
		if !ok {
			return false
		}
		r := rhs{lit: n.value, now: e.now}
		if arr, ok := asSlice(v); ok {
			for _, el := range arr {
				if r.compare(el, n.op) {
					return true
				}
			}
			return false
		}
		return r.compare(v, n.op)
	default:
		// nested queries and anything else: false, never an error.
		return false
	}
}

// rhs is the right-hand literal of an is/range node, converted lazily to the
// type of the field value (Kibana's convertLiteralToValue).
type rhs struct {
	lit     *literal
	now     time.Time
	strDone bool
	str     string
}

// asString is String(node.value), with date math resolved to an ISO string.
func (r *rhs) asString() string {
	if !r.strDone {
		r.strDone = true
		r.str = r.lit.str
		if r.lit.dateMath {
			if t, ok := parseDateMath(r.lit.str, r.now); ok {
				r.str = isoString(t)
			}
		}
	}
	return r.str
}

// exactIsMatch is strict equality after coercion; arrays match if any
// element does.
func (r *rhs) exactIsMatch(v any) bool {
	if arr, ok := asSlice(v); ok {
		for _, el := range arr {
			if r.exactIsMatch(el) {
				return true
			}
		}
		return false
	}
	switch x := v.(type) {
	case string:
		return x == r.asString()
	case bool:
		return x == (r.lit.str == "true")
	}
	if f, ok := jsvalue.Number(v); ok {
		return f == r.lit.num // NaN never equals
	}
	return false
}

// compare applies a range operator to a scalar field value.
func (r *rhs) compare(v any, op rangeOp) bool {
	switch x := v.(type) {
	case string:
		c := jsvalue.CompareUTF16(x, r.asString())
		switch op {
		case opGT:
			return c > 0
		case opGTE:
			return c >= 0
		case opLT:
			return c < 0
		default:
			return c <= 0
		}
	case bool:
		return compareNumbers(boolNum(x), boolNum(r.lit.str == "true"), op)
	}
	if f, ok := jsvalue.Number(v); ok {
		return compareNumbers(f, r.lit.num, op)
	}
	return false
}

func boolNum(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func compareNumbers(a, b float64, op rangeOp) bool {
	switch op {
	case opGT:
		return a > b
	case opGTE:
		return a >= b
	case opLT:
		return a < b
	default:
		return a <= b
	}
}

// wildcardIsMatch matches strings (and stringified numbers and booleans)
// against the pattern; arrays match if any element does; objects match
// only as "value present".
func wildcardIsMatch(v any, l *literal) bool {
	switch x := v.(type) {
	case string:
		return globMatch(l.parts, x)
	case bool:
		if x {
			return globMatch(l.parts, "true")
		}
		return globMatch(l.parts, "false")
	case nil:
		return false
	}
	if arr, ok := asSlice(v); ok {
		for _, el := range arr {
			if wildcardIsMatch(el, l) {
				return true
			}
		}
		return false
	}
	if f, ok := jsvalue.Number(v); ok {
		return globMatch(l.parts, jsvalue.FormatNumber(f))
	}
	return true
}

// globMatch reports whether s is fully matched by the literal parts joined
// with "any run of characters".
func globMatch(parts []string, s string) bool {
	if len(parts) == 1 {
		return s == parts[0]
	}
	first, last := parts[0], parts[len(parts)-1]
	if len(s) < len(first)+len(last) || s[:len(first)] != first || s[len(s)-len(last):] != last {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, mid := range parts[1 : len(parts)-1] {
		i := indexOf(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return true
}

func indexOf(s, sub string) int {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		if s[i:i+n] == sub {
			return i
		}
	}
	return -1
}

// asSlice returns v as a slice of values when it is an array.
func asSlice(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case nil, string, bool, float64, map[string]any:
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, false
	}
	if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
		return nil, false // []byte is not a JSON array
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}

// lookup reads key from an object value; ok is false for missing keys and
// for values that are not objects.
func lookup(v any, key string) (any, bool) {
	switch x := v.(type) {
	case map[string]any:
		val, ok := x[key]
		return val, ok
	case nil, string, bool, float64, []any:
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil, false
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return nil, false
	}
	val := rv.MapIndex(reflect.ValueOf(key).Convert(rv.Type().Key()))
	if !val.IsValid() {
		return nil, false
	}
	return val.Interface(), true
}

// resolve reads a property path from value (Kibana's resolvePathSegments):
// missing segments or stepping into scalars give ok=false; crossing an array
// with a non-index segment applies the rest of the path to every element and
// merges the matches. A final `length` segment on an array or a string gives
// its length (secflow project decision).
func resolve(value any, segs []string) (any, bool) {
	for len(segs) > 0 {
		if value == nil {
			return nil, false
		}
		if len(segs) == 1 && segs[0] == "length" {
			if s, ok := value.(string); ok {
				return float64(jsvalue.UTF16Len(s)), true
			}
			if arr, ok := asSlice(value); ok {
				return float64(len(arr)), true
			}
		}
		if arr, ok := asSlice(value); ok {
			if idx, ok := arrayIndex(segs[0], len(arr)); ok {
				value, segs = arr[idx], segs[1:]
				continue
			}
			var collected []any
			nested := false
			for _, el := range arr {
				if v, ok := resolve(el, segs); ok {
					if collected == nil {
						collected = make([]any, 0, len(arr))
					}
					if _, isArr := asSlice(v); isArr {
						nested = true
					}
					collected = append(collected, v)
				}
			}
			switch {
			case len(collected) == 0:
				return nil, false
			case len(collected) == 1:
				return collected[0], true
			case !nested:
				return collected, true
			}
			flat := make([]any, 0, len(collected))
			for _, c := range collected {
				if inner, ok := asSlice(c); ok {
					flat = append(flat, inner...)
				} else {
					flat = append(flat, c)
				}
			}
			return flat, true
		}
		v, ok := lookup(value, segs[0])
		if !ok {
			return nil, false
		}
		value, segs = v, segs[1:]
	}
	return value, true
}

// arrayIndex reports whether seg is all digits and a valid index.
func arrayIndex(seg string, n int) (int, bool) {
	if seg == "" {
		return 0, false
	}
	idx := 0
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if idx <= n { // stop growing once out of range (avoids overflow)
			idx = idx*10 + int(c-'0')
		}
	}
	return idx, idx < n
}

// fieldPath splits a field literal with JavaScript property-access rules
// (Kibana's parseJsPropertyAccess): `a.b`, `a[0].b`, `a['x'].b`, `a["x"]`.
func fieldPath(l *literal) []string {
	return parseJsPropertyAccess(l.str)
}

func parseJsPropertyAccess(path string) []string {
	var parts []string
	cur := make([]byte, 0, len(path))
	inBracket := false
	for i := 0; i < len(path); i++ {
		c := path[i]
		switch {
		case c == '.' && !inBracket:
			if len(cur) > 0 {
				parts = append(parts, string(cur))
				cur = cur[:0]
			}
		case c == '[':
			inBracket = true
			if len(cur) > 0 {
				parts = append(parts, string(cur))
				cur = cur[:0]
			}
		case c == ']':
			inBracket = false
			if len(cur) > 0 {
				s := string(cur)
				if len(s) >= 2 && (s[0] == '\'' && s[len(s)-1] == '\'' || s[0] == '"' && s[len(s)-1] == '"') {
					s = s[1 : len(s)-1]
				}
				parts = append(parts, s)
				cur = cur[:0]
			}
		default:
			cur = append(cur, c)
		}
	}
	if len(cur) > 0 {
		parts = append(parts, string(cur))
	}
	return parts
}
