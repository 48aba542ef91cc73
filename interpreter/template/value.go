package template

import (
	"encoding/json"
	"math"
	"reflect"
	"sort"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/secflow/secflow/interpreter/jsvalue"
)

// undefinedT is JavaScript's `undefined` inside the engine: the value of a
// missing variable or property. It never leaves the package: Evaluate turns
// it into nil and drops it from objects, like JSON serialisation in Kibana.
type undefinedT struct{}

var undef any = undefinedT{}

// Literal drops of LiquidJS: `nil`/`null`, `empty` and `blank`.
type nullDrop struct{}
type emptyDrop struct{}
type blankDrop struct{}

// forloopDrop is the `forloop` object inside {% for %}.
type forloopDrop struct {
	i      int
	length int
	name   string
}

func (f *forloopDrop) prop(key string) any {
	switch key {
	case "index":
		return float64(f.i + 1)
	case "index0", "i":
		return float64(f.i)
	case "first":
		return f.i == 0
	case "last":
		return f.i == f.length-1
	case "length":
		return float64(f.length)
	case "rindex":
		return float64(f.length - f.i)
	case "rindex0":
		return float64(f.length - f.i - 1)
	case "name":
		return f.name
	}
	return undef
}

// toValue mirrors LiquidJS toValue: drops expose their primitive value.
func toValue(v any) any {
	switch v.(type) {
	case nullDrop:
		return nil
	case emptyDrop, blankDrop:
		return ""
	}
	return v
}

func isNil(v any) bool {
	v = toValue(v)
	return v == nil || v == undef
}

// isFalsy implements Liquid truthiness: only false, nil and undefined are falsy.
func isFalsy(v any) bool {
	v = toValue(v)
	return v == nil || v == undef || v == false
}

func isTruthy(v any) bool { return !isFalsy(v) }

func isNumber(v any) bool {
	_, ok := jsvalue.Number(v)
	return ok
}

// norm converts Go values that are not part of the JSON-like value model
// ([]string, map[string]string, json.Number, ...) into it. Core values are
// returned unchanged without allocation.
func norm(v any) any {
	switch x := v.(type) {
	case nil, string, bool, float64, []any, map[string]any, time.Time, undefinedT,
		nullDrop, emptyDrop, blankDrop, *forloopDrop:
		return v
	case *time.Time:
		if x == nil {
			return nil
		}
		return *x
	case json.Number:
		f, _ := jsvalue.Number(x)
		return f
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, s := range x {
			out[k] = s
		}
		return out
	}
	if f, ok := jsvalue.Number(v); ok {
		return f
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil
		}
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = rv.Index(i).Interface()
		}
		return out
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return v
		}
		if rv.IsNil() {
			return nil
		}
		out := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			out[it.Key().String()] = it.Value().Interface()
		}
		return out
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil
		}
		return norm(rv.Elem().Interface())
	case reflect.String:
		return rv.String()
	case reflect.Bool:
		return rv.Bool()
	case reflect.Struct:
		// Best effort: structs become their JSON object form.
		b, err := json.Marshal(v)
		if err != nil {
			return v
		}
		var out any
		if json.Unmarshal(b, &out) != nil {
			return v
		}
		return out
	}
	return v
}

// sortedKeys returns the keys of m in ascending order. Go maps have no
// insertion order, so wherever JavaScript would use insertion order we sort.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ---------------------------------------------------------------------------
// Strings with JavaScript (UTF-16) length semantics.

func toUnits(s string) []uint16 { return utf16.Encode([]rune(s)) }

func fromUnits(u []uint16) string { return string(utf16.Decode(u)) }

// jsSubstr returns the UTF-16 code units [start,end) of s (bounds clamped).
func jsSubstr(s string, start, end int) string {
	if jsvalue.IsASCII(s) {
		n := len(s)
		start, end = clamp(start, 0, n), clamp(end, 0, n)
		if start >= end {
			return ""
		}
		return s[start:end]
	}
	u := toUnits(s)
	n := len(u)
	start, end = clamp(start, 0, n), clamp(end, 0, n)
	if start >= end {
		return ""
	}
	return fromUnits(u[start:end])
}

// jsCharAt returns the UTF-16 code unit at i as a string ("" when out of range).
func jsCharAt(s string, i int) string {
	return jsSubstr(s, i, i+1)
}

func clamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// ---------------------------------------------------------------------------
// Numbers.

// FormatNumber formats f like JavaScript's String(n); see jsvalue.FormatNumber.
func FormatNumber(f float64) string { return jsvalue.FormatNumber(f) }

// jsToNumber is JavaScript's Number(v).
func jsToNumber(v any) float64 {
	v = toValue(v)
	if f, ok := jsvalue.Number(v); ok {
		return f
	}
	switch x := v.(type) {
	case nil:
		return 0
	case undefinedT:
		return math.NaN()
	case bool:
		if x {
			return 1
		}
		return 0
	case string:
		return jsvalue.StringToNumber(x)
	case []any:
		return jsvalue.StringToNumber(jsString(x))
	case time.Time:
		return float64(x.UnixMilli())
	}
	return math.NaN()
}

// toNumber is LiquidJS toNumber: `+v || 0`.
func toNumber(v any) float64 {
	f := jsToNumber(v)
	if math.IsNaN(f) {
		return 0
	}
	return f
}

// toInteger is ECMAScript ToIntegerOrInfinity, saturated to int.
func toInteger(v any) int {
	f := jsToNumber(v)
	if math.IsNaN(f) {
		return 0
	}
	if f > 1<<53 {
		return 1 << 53
	}
	if f < -(1 << 53) {
		return -(1 << 53)
	}
	return int(f)
}

// ---------------------------------------------------------------------------
// Stringification.

// Stringify renders a value the way LiquidJS prints it in {{ }}: strings as
// is, nil/undefined as "", numbers like JS String(n), arrays as the
// concatenation of their stringified elements, objects as "[object Object]",
// dates like JS Date.prototype.toString in UTC.
func Stringify(v any) string {
	v = toValue(v)
	switch x := v.(type) {
	case string:
		return x
	case nil, undefinedT:
		return ""
	case []any:
		var b strings.Builder
		for _, e := range x {
			b.WriteString(Stringify(e))
		}
		return b.String()
	}
	v = norm(v)
	if arr, ok := v.([]any); ok {
		return Stringify(arr)
	}
	return jsString(v)
}

// jsString is JavaScript's String(v).
func jsString(v any) string {
	v = toValue(v)
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "null"
	case undefinedT:
		return "undefined"
	case bool:
		if x {
			return "true"
		}
		return "false"
	case []any:
		var b strings.Builder
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if !isNil(e) {
				b.WriteString(jsString(e))
			}
		}
		return b.String()
	case time.Time:
		return dateToString(x)
	case map[string]any, *forloopDrop:
		return "[object Object]"
	}
	if f, ok := jsvalue.Number(v); ok {
		return FormatNumber(f)
	}
	nv := norm(v)
	switch nv.(type) {
	case []any, map[string]any, string, bool:
		return jsString(nv)
	}
	return "[object Object]"
}

// dateToString is Date.prototype.toString for a UTC clock.
func dateToString(t time.Time) string {
	t = t.UTC()
	return t.Format("Mon Jan 02 2006 15:04:05") + " GMT+0000 (Coordinated Universal Time)"
}

// dateToJSON is Date.prototype.toJSON (toISOString).
func dateToJSON(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// ---------------------------------------------------------------------------
// Comparison.

func isComparableDrop(v any) bool {
	switch v.(type) {
	case nullDrop, emptyDrop, blankDrop:
		return true
	}
	return false
}

func dropEquals(d, other any) bool {
	other = toValue(other)
	switch d.(type) {
	case nullDrop:
		return other == nil || other == undef
	case blankDrop:
		if other == false || other == nil || other == undef {
			return true
		}
		if s, ok := other.(string); ok {
			return strings.TrimFunc(s, jsvalue.IsSpace) == ""
		}
		return emptyEquals(other)
	case emptyDrop:
		return emptyEquals(other)
	}
	return false
}

func emptyEquals(v any) bool {
	switch x := v.(type) {
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// equals is LiquidJS `==`: arrays compare element-wise, everything else
// with JavaScript strict equality (objects by identity).
func equals(a, b any) bool {
	if isComparableDrop(a) {
		return dropEquals(a, b)
	}
	if isComparableDrop(b) {
		return dropEquals(b, a)
	}
	a, b = norm(toValue(a)), norm(toValue(b))
	if aa, ok := a.([]any); ok {
		bb, ok := b.([]any)
		if !ok || len(aa) != len(bb) {
			return false
		}
		for i := range aa {
			if !equals(aa[i], bb[i]) {
				return false
			}
		}
		return true
	}
	return strictEquals(a, b)
}

// strictEquals is JavaScript ===.
func strictEquals(a, b any) bool {
	if fa, ok := jsvalue.Number(a); ok {
		fb, ok := jsvalue.Number(b)
		return ok && fa == fb
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case undefinedT:
		return b == undef
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case map[string]any:
		y, ok := b.(map[string]any)
		return ok && sameMap(x, y)
	case []any:
		y, ok := b.([]any)
		return ok && sameSlice(x, y)
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	case *forloopDrop:
		y, ok := b.(*forloopDrop)
		return ok && x == y
	}
	return false
}

func sameMap(a, b map[string]any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

func sameSlice(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 {
		return (a == nil) == (b == nil)
	}
	return &a[0] == &b[0]
}

// jsPrimitive is ToPrimitive with hint number (used by relational operators).
func jsPrimitive(v any) any {
	switch x := v.(type) {
	case []any, map[string]any, *forloopDrop:
		return jsString(x)
	case time.Time:
		return float64(x.UnixMilli())
	}
	return v
}

// jsCompare implements the abstract relational comparison. It returns
// (-1|0|1, true) or (0, false) when the operands are incomparable (NaN).
func jsCompare(a, b any) (int, bool) {
	a, b = jsPrimitive(norm(toValue(a))), jsPrimitive(norm(toValue(b)))
	as, aok := a.(string)
	bs, bok := b.(string)
	if aok && bok {
		return jsvalue.CompareUTF16(as, bs), true
	}
	fa, fb := jsToNumber(a), jsToNumber(b)
	if math.IsNaN(fa) || math.IsNaN(fb) {
		return 0, false
	}
	switch {
	case fa < fb:
		return -1, true
	case fa > fb:
		return 1, true
	}
	return 0, true
}

func jsLess(a, b any) bool {
	c, ok := jsCompare(a, b)
	return ok && c < 0
}

func jsGreater(a, b any) bool {
	c, ok := jsCompare(a, b)
	return ok && c > 0
}

func jsLessEq(a, b any) bool {
	c, ok := jsCompare(a, b)
	return ok && c <= 0
}

func jsGreaterEq(a, b any) bool {
	c, ok := jsCompare(a, b)
	return ok && c >= 0
}

// ---------------------------------------------------------------------------
// Collections.

// toArray is LiquidJS toArray: nil -> [], array -> itself, else [v].
func toArray(v any) []any {
	v = norm(toValue(v))
	switch x := v.(type) {
	case nil, undefinedT:
		return nil
	case []any:
		return x
	}
	return []any{v}
}

// toEnumerable is LiquidJS toEnumerable: arrays as is, non-empty strings as
// [s], objects as [[key, value], ...] (keys sorted), anything else [].
func toEnumerable(v any) []any {
	v = norm(toValue(v))
	switch x := v.(type) {
	case []any:
		return x
	case string:
		if x == "" {
			return nil
		}
		return []any{x}
	case map[string]any:
		out := make([]any, 0, len(x))
		for _, k := range sortedKeys(x) {
			out = append(out, []any{k, x[k]})
		}
		return out
	}
	return nil
}

// canonicalIndex parses a canonical array-index string ("0", "12").
func canonicalIndex(s string) (int, bool) {
	if s == "" || len(s) > 15 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// propertyKey converts an evaluated key into a JS property key string.
func propertyKey(k any) string {
	if s, ok := k.(string); ok {
		return s
	}
	return jsString(k)
}

// readProperty is LiquidJS Context.readProperty with ownPropertyOnly.
func readProperty(obj, key any) any {
	obj = norm(obj)
	key = toValue(key)
	switch o := obj.(type) {
	case nil:
		return nil
	case undefinedT:
		return undef
	case []any:
		if f, ok := jsvalue.Number(key); ok {
			return arrayElement(o, f)
		}
		k := propertyKey(key)
		switch k {
		case "length", "size":
			return float64(len(o))
		case "first":
			if len(o) == 0 {
				return undef
			}
			return norm(o[0])
		case "last":
			if len(o) == 0 {
				return undef
			}
			return norm(o[len(o)-1])
		}
		if i, ok := canonicalIndex(k); ok && i < len(o) {
			return norm(o[i])
		}
		return undef
	case map[string]any:
		k := propertyKey(key)
		if v, ok := o[k]; ok {
			return norm(v)
		}
		if k == "size" {
			return float64(len(o))
		}
		return undef
	case string:
		if f, ok := jsvalue.Number(key); ok {
			if f != math.Trunc(f) || f < 0 {
				return undef
			}
			if c := jsCharAt(o, int(f)); c != "" {
				return c
			}
			return undef
		}
		k := propertyKey(key)
		switch k {
		case "length", "size":
			return float64(jsvalue.UTF16Len(o))
		}
		if i, ok := canonicalIndex(k); ok {
			if c := jsCharAt(o, i); c != "" {
				return c
			}
		}
		return undef
	case *forloopDrop:
		return o.prop(propertyKey(key))
	case time.Time:
		if propertyKey(key) == "size" {
			return float64(0)
		}
		return undef
	}
	return undef
}

func arrayElement(arr []any, f float64) any {
	if f != math.Trunc(f) {
		return undef
	}
	i := int(f)
	if i < 0 {
		i += len(arr)
	}
	if i < 0 || i >= len(arr) {
		return undef
	}
	return norm(arr[i])
}

// exportValue converts an engine value into the public JSON-like value model:
// undefined becomes nil (and is dropped from objects), drops become their
// primitive values, NaN/Infinity become nil (as JSON.stringify does) and
// dates become their JSON (ISO 8601) form. Values without such members are
// returned as they are, without copying.
func exportValue(v any) any {
	if !needsExport(v, 0) {
		return v
	}
	return doExport(v, 0)
}

const maxExportDepth = 10000

func needsExport(v any, depth int) bool {
	if depth > maxExportDepth {
		return false
	}
	switch x := v.(type) {
	case nil, string, bool:
		return false
	case float64:
		return math.IsNaN(x) || math.IsInf(x, 0)
	case []any:
		for _, e := range x {
			if needsExport(e, depth+1) {
				return true
			}
		}
		return false
	case map[string]any:
		for _, e := range x {
			if needsExport(e, depth+1) {
				return true
			}
		}
		return false
	case undefinedT, nullDrop, emptyDrop, blankDrop, *forloopDrop, time.Time:
		return true
	}
	if f, ok := jsvalue.Number(v); ok {
		return math.IsNaN(f) || math.IsInf(f, 0)
	}
	return false
}

func doExport(v any, depth int) any {
	switch x := v.(type) {
	case undefinedT:
		return nil
	case nullDrop:
		return nil
	case emptyDrop, blankDrop:
		return ""
	case time.Time:
		return dateToJSON(x)
	case *forloopDrop:
		return map[string]any{"i": float64(x.i), "length": float64(x.length), "name": x.name}
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			if depth < maxExportDepth && needsExport(e, depth+1) {
				out[i] = doExport(e, depth+1)
			} else {
				out[i] = e
			}
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if e == undef {
				continue
			}
			if depth < maxExportDepth && needsExport(e, depth+1) {
				out[k] = doExport(e, depth+1)
			} else {
				out[k] = e
			}
		}
		return out
	}
	if f, ok := jsvalue.Number(v); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
		return nil
	}
	return v
}
