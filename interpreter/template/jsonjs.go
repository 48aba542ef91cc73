package template

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/secflow/secflow/interpreter/jsvalue"
)

var errJSONTooDeep = errors.New("Maximum call stack size exceeded")

// jsonStringify implements JSON.stringify(value, undefined, indent) for the
// engine's value model. ok is false when JavaScript would return undefined
// (top-level undefined). Object keys are emitted in sorted order.
func jsonStringify(v any, indent string) (string, bool, error) {
	var b strings.Builder
	ok, err := writeJSON(&b, v, indent, "", 0)
	if err != nil {
		return "", false, err
	}
	return b.String(), ok, nil
}

// jsonIndent converts the `space` argument of JSON.stringify.
func jsonIndent(space any) string {
	space = toValue(space)
	if s, ok := space.(string); ok {
		if jsvalue.UTF16Len(s) > 10 {
			return jsSubstr(s, 0, 10)
		}
		return s
	}
	if f, ok := jsvalue.Number(space); ok {
		n := int(math.Min(10, math.Max(0, math.Trunc(f))))
		return strings.Repeat(" ", n)
	}
	return ""
}

func writeJSON(b *strings.Builder, v any, indent, cur string, depth int) (bool, error) {
	if depth > 5000 {
		return false, errJSONTooDeep
	}
	v = norm(v)
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
		return true, nil
	case undefinedT:
		return false, nil
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
		return true, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			b.WriteString("null")
		} else {
			b.WriteString(FormatNumber(x))
		}
		return true, nil
	case string:
		writeJSONString(b, x)
		return true, nil
	case time.Time:
		writeJSONString(b, dateToJSON(x))
		return true, nil
	case nullDrop, emptyDrop, blankDrop:
		b.WriteString("{}")
		return true, nil
	case *forloopDrop:
		return writeJSON(b, map[string]any{"i": float64(x.i), "length": float64(x.length), "name": x.name}, indent, cur, depth)
	case []any:
		if len(x) == 0 {
			b.WriteString("[]")
			return true, nil
		}
		inner := cur + indent
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if indent != "" {
				b.WriteByte('\n')
				b.WriteString(inner)
			}
			ok, err := writeJSON(b, e, indent, inner, depth+1)
			if err != nil {
				return false, err
			}
			if !ok {
				b.WriteString("null")
			}
		}
		if indent != "" {
			b.WriteByte('\n')
			b.WriteString(cur)
		}
		b.WriteByte(']')
		return true, nil
	case map[string]any:
		inner := cur + indent
		b.WriteByte('{')
		n := 0
		for _, k := range sortedKeys(x) {
			e := norm(x[k])
			if e == undef {
				continue
			}
			if n > 0 {
				b.WriteByte(',')
			}
			if indent != "" {
				b.WriteByte('\n')
				b.WriteString(inner)
			}
			writeJSONString(b, k)
			b.WriteByte(':')
			if indent != "" {
				b.WriteByte(' ')
			}
			if _, err := writeJSON(b, e, indent, inner, depth+1); err != nil {
				return false, err
			}
			n++
		}
		if n > 0 && indent != "" {
			b.WriteByte('\n')
			b.WriteString(cur)
		}
		b.WriteByte('}')
		return true, nil
	}
	if f, ok := jsvalue.Number(v); ok {
		return writeJSON(b, f, indent, cur, depth)
	}
	b.WriteString("{}")
	return true, nil
}

const hexDigits = "0123456789abcdef"

// writeJSONString quotes s like JSON.stringify (no HTML escaping, U+2028/9 kept).
func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b.WriteString(s[start:i])
				b.WriteString(`\ufffd`)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		b.WriteString(s[start:i])
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			b.WriteString(`\u00`)
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0xf])
		}
		i++
		start = i
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}

// jsonParse is JSON.parse for the engine value model (numbers as float64).
func jsonParse(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("Unexpected non-whitespace character after JSON")
	}
	// json.Decoder accepts trailing whitespace only; check nothing else follows.
	rest := strings.TrimLeft(s[dec.InputOffset():], " \t\r\n")
	if rest != "" {
		return nil, errors.New("Unexpected non-whitespace character after JSON at position " + strconv.FormatInt(dec.InputOffset(), 10))
	}
	return v, nil
}

// JSONStringify is JavaScript's JSON.stringify(v, null, indent) for the
// JSON-like value model, with object keys sorted. ok is false when
// JavaScript would return undefined (nothing serialisable at the top level).
func JSONStringify(v any, indent string) (s string, ok bool, err error) {
	return jsonStringify(v, indent)
}
