package schema

import "github.com/secflow/secflow/interpreter/jsvalue"

// typeName is Zod's name for the type of a received value.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	if f, ok := jsvalue.Number(v); ok {
		if f != f {
			return "NaN"
		}
		return "number"
	}
	switch normalize(v).(type) {
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "object"
}

// jsNumberString is JavaScript's String(n); see jsvalue.FormatNumber.
func jsNumberString(f float64) string { return jsvalue.FormatNumber(f) }
