// Package jsvalue gives Go's JSON-like values (nil, bool, float64 and other
// numbers, string, []any, map[string]any) the semantics JavaScript gives
// them: typeof, String(n), Number coercion, parseFloat, strict equality, ...
//
// It imports only the standard library and is deterministic, so workflow
// code may call it.
package jsvalue

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Number reports whether v is a number of any Go kind (every int, uint and
// float type, or json.Number) and returns it as a float64. A malformed
// json.Number is a number: NaN.
func Number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return math.NaN(), true
		}
		return f, true
	}
	return 0, false
}

// FormatNumber is JavaScript's String(n) (Number.prototype.toString):
// 5 -> "5", 3.14 -> "3.14", 1e21 -> "1e+21", 1e-7 -> "1e-7".
func FormatNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	}
	sign := ""
	if f < 0 {
		sign = "-"
		f = -f
	}
	// Shortest round-trip digits and decimal exponent (ECMAScript
	// Number::toString): value = 0.digits × 10^n.
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddddde±XX
	mant, expStr, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	exp, _ := strconv.Atoi(expStr)
	k, n := len(digits), exp+1
	switch {
	case k <= n && n <= 21:
		return sign + digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		return sign + digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		return sign + "0." + strings.Repeat("0", -n) + digits
	}
	m := digits[:1]
	if k > 1 {
		m += "." + digits[1:]
	}
	if n-1 < 0 {
		return sign + m + "e-" + strconv.Itoa(1-n)
	}
	return sign + m + "e+" + strconv.Itoa(n-1)
}

// Truthy is JavaScript truthiness: nil, false, "", 0 and NaN are falsy;
// everything else (objects and arrays included, even empty ones) is truthy.
func Truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	}
	if f, ok := Number(v); ok {
		return f != 0 && f == f
	}
	return true
}

// TypeOf is JavaScript's typeof: nil is null, so "object"; numbers of any
// Go kind are "number"; anything that is not a string, boolean or number is
// "object".
func TypeOf(v any) string {
	switch v.(type) {
	case nil:
		return "object"
	case string:
		return "string"
	case bool:
		return "boolean"
	}
	if _, ok := Number(v); ok {
		return "number"
	}
	return "object"
}

// String is JavaScript's String(v) for JSON-like values: nil is "null",
// numbers print as FormatNumber does, arrays join their elements with ","
// (nil elements print as ""), and anything else is "[object Object]".
func String(v any) string {
	if s, ok := ScalarString(v); ok {
		return s
	}
	if x, ok := v.([]any); ok {
		parts := make([]string, len(x))
		for i, e := range x {
			if e != nil {
				parts[i] = String(e)
			}
		}
		return strings.Join(parts, ",")
	}
	return "[object Object]"
}

// ScalarString is JavaScript's String(v) for a primitive: nil is "null",
// booleans "true"/"false", strings themselves, and numbers of any Go kind
// as FormatNumber prints them. For any other value it returns false, and
// the caller picks the form it needs.
func ScalarString(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "null", true
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	}
	if f, ok := Number(v); ok {
		return FormatNumber(f), true
	}
	return "", false
}
