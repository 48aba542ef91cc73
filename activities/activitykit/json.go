package activitykit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/secflow/secflow/interpreter/jsvalue"
)

// DecodeJSON parses b into a JSON-like value (nil, bool, string, float64,
// []any, map[string]any).
func DecodeJSON(b []byte) (any, error) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("decoding JSON: %w", err)
	}
	return v, nil
}

// EncodeJSON marshals v without HTML escaping (as JSON.stringify does) and
// without a trailing newline.
func EncodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encoding JSON: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// JSONLike converts any value (typed structs from client libraries
// included) into a JSON-like value by a JSON round trip.
func JSONLike(v any) (any, error) {
	b, err := EncodeJSON(v)
	if err != nil {
		return nil, err
	}
	return DecodeJSON(b)
}

// Float reads a number from a JSON-like value (any Go number kind, a
// json.Number or a numeric string); a malformed json.Number or string is
// not a number.
func Float(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(n, 64)
		return f, err == nil
	}
	return jsvalue.Number(v)
}

// Int reads an integral number from a JSON-like value.
func Int(v any) (int64, bool) {
	f, ok := Float(v)
	if !ok || f != math.Trunc(f) {
		return 0, false
	}
	return int64(f), true
}

// Bool reads a boolean (true/false or "true"/"false").
func Bool(v any) (bool, bool) {
	switch b := v.(type) {
	case bool:
		return b, true
	case string:
		p, err := strconv.ParseBool(b)
		return p, err == nil
	}
	return false, false
}

// Stringify renders a JSON-like scalar the way JavaScript's String() does
// (numbers like 5, 3.14, 1e+21); objects and arrays become JSON.
func Stringify(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return x.String()
	case map[string]any, []any:
		b, err := EncodeJSON(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
	if f, ok := Float(v); ok {
		return FormatNumber(f)
	}
	return fmt.Sprint(v)
}

// FormatNumber formats f like JavaScript's Number.prototype.toString; see
// jsvalue.FormatNumber.
func FormatNumber(f float64) string { return jsvalue.FormatNumber(f) }

// StringSlice reads a list of strings from a JSON-like value: a []any of
// scalars, a []string, or a single non-empty string.
func StringSlice(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case []string:
		return x
	case string:
		if x == "" {
			return nil
		}
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if e != nil {
				out = append(out, Stringify(e))
			}
		}
		return out
	}
	return []string{Stringify(v)}
}
