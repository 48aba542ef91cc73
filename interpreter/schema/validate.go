package schema

import (
	"math"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/secflow/secflow/interpreter/jsvalue"
)

// issue is one validation problem, as a Zod issue: a path and a message.
type issue struct {
	path []string
	msg  string
}

// Validate checks values against s the way Kibana's Zod validator built by
// buildFieldsZodValidator does, and returns one "<path>: <msg>" per problem
// (path segments joined with "."; array indexes are segments), with Zod 4's
// English messages, e.g.
//
//	ip: Invalid input: expected string, received undefined
//	sev: Invalid option: expected one of "low"|"high"
//	hosts: Too small: expected array to have >=1 items
//	: Unrecognized key: "extra"
//
// A required property is satisfied by a default; with additionalProperties
// false (always so for the legacy form) unknown top-level keys are reported
// last. Call ApplyDefaults first, as Kibana does. A nil schema accepts
// everything.
func Validate(s *Schema, values map[string]any) []string {
	issues := validateProps(s, values, true)
	if len(issues) == 0 {
		return nil
	}
	out := make([]string, len(issues))
	for i, is := range issues {
		out[i] = strings.Join(is.path, ".") + ": " + is.msg
	}
	return out
}

// InputError formats problems as Kibana does for an InputValidationError:
// "Workflow input validation failed: <p1>; <p2>". It returns "" when there
// are no problems.
func InputError(problems []string) string {
	if len(problems) == 0 {
		return ""
	}
	return "Workflow input validation failed: " + strings.Join(problems, "; ")
}

// ValidateOutputs checks workflow.output values against the declared
// outputs as Kibana's workflow_output_step_impl.ts does, and returns
// "Output validation failed: <field>: <msg>, <field>: <msg>" (field = the
// top-level output name), or "" when the values are valid or s declares no
// outputs. Undeclared output keys are allowed.
func ValidateOutputs(s *Schema, values map[string]any) string {
	issues := validateProps(s, values, false)
	if len(issues) == 0 {
		return ""
	}
	parts := make([]string, len(issues))
	for i, is := range issues {
		field := ""
		if len(is.path) > 0 {
			field = is.path[0]
		}
		parts[i] = field + ": " + is.msg
	}
	return "Output validation failed: " + strings.Join(parts, ", ")
}

func validateProps(s *Schema, values map[string]any, strict bool) []issue {
	if s == nil || len(s.Properties) == 0 {
		return nil
	}
	v := &validator{root: s.root()}
	for _, name := range s.order() {
		prop := s.Properties[name]
		resolved := v.resolve(prop, 0)
		val, present := values[name]
		if !present {
			if _, hasDefault := resolved["default"]; hasDefault || !s.isRequired(name) {
				continue
			}
			v.missing(resolved, []string{name})
			continue
		}
		v.check(resolved, val, []string{name}, 0)
	}
	if strict && s.AdditionalProperties != nil && !*s.AdditionalProperties {
		var unknown []string
		for k := range values {
			if _, ok := s.Properties[k]; !ok {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			sort.Strings(unknown)
			quoted := make([]string, len(unknown))
			for i, k := range unknown {
				quoted[i] = strconv.Quote(k)
			}
			msg := "Unrecognized key: "
			if len(unknown) > 1 {
				msg = "Unrecognized keys: "
			}
			v.issues = append(v.issues, issue{path: nil, msg: msg + strings.Join(quoted, ", ")})
		}
	}
	return v.issues
}

type validator struct {
	root   map[string]any
	issues []issue
}

func (v *validator) add(path []string, msg string) {
	p := make([]string, len(path))
	copy(p, path)
	v.issues = append(v.issues, issue{path: p, msg: msg})
}

// resolve follows local $ref chains.
func (v *validator) resolve(schema map[string]any, depth int) map[string]any {
	for depth <= maxRefDepth {
		ref, _ := schema["$ref"].(string)
		if ref == "" {
			return schema
		}
		resolved, ok := resolveRef(ref, v.root)
		if !ok {
			return schema
		}
		schema = resolved
		depth++
	}
	return schema
}

// types returns the schema's declared types; a schema without "type"
// but with properties or items is an object or an array.
func types(schema map[string]any) []string {
	switch t := schema["type"].(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	if jsvalue.Truthy(schema["properties"]) {
		return []string{"object"}
	}
	if jsvalue.Truthy(schema["items"]) {
		return []string{"array"}
	}
	return nil
}

// missing reports a required value that is absent (Zod: undefined).
func (v *validator) missing(schema map[string]any, path []string) {
	if msg, ok := enumMessage(schema); ok {
		v.add(path, msg)
		return
	}
	if jsvalue.Truthy(schema["anyOf"]) || jsvalue.Truthy(schema["oneOf"]) {
		v.add(path, "Invalid input")
		return
	}
	ts := nonNull(types(schema))
	switch len(ts) {
	case 0:
		// z.any() accepts undefined.
	case 1:
		v.add(path, "Invalid input: expected "+zodType(ts[0])+", received undefined")
	default:
		v.add(path, "Invalid input")
	}
}

func nonNull(ts []string) []string {
	var out []string
	for _, t := range ts {
		if t != "null" {
			out = append(out, t)
		}
	}
	return out
}

// zodType is the "expected" name Zod uses for a JSON-schema type.
func zodType(t string) string {
	if t == "integer" {
		return "number"
	}
	return t
}

// enumMessage is the message for a value outside "enum" or "const".
func enumMessage(schema map[string]any) (string, bool) {
	if c, ok := schema["const"]; ok {
		return "Invalid input: expected " + stringifyPrimitive(c), true
	}
	enum, ok := normalize(schema["enum"]).([]any)
	if !ok {
		return "", false
	}
	if len(enum) == 1 {
		return "Invalid input: expected " + stringifyPrimitive(enum[0]), true
	}
	parts := make([]string, len(enum))
	for i, e := range enum {
		parts[i] = stringifyPrimitive(e)
	}
	return "Invalid option: expected one of " + strings.Join(parts, "|"), true
}

// stringifyPrimitive is Zod's util.stringifyPrimitive.
func stringifyPrimitive(v any) string {
	if s, ok := v.(string); ok {
		return `"` + s + `"`
	}
	if v == nil {
		return "null"
	}
	if _, ok := normalize(v).(map[string]any); ok {
		return "[object Object]"
	}
	return jsString(v)
}

// equalJS is JavaScript === for primitives (objects never equal).
func equalJS(a, b any) bool {
	if fa, ok := jsvalue.Number(a); ok {
		fb, ok := jsvalue.Number(b)
		return ok && fa == fb
	}
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case nil:
		return b == nil
	}
	return false
}

// check validates a present value (JSON null included) against schema.
func (v *validator) check(schema map[string]any, value any, path []string, depth int) {
	if depth > maxRefDepth {
		return
	}
	schema = v.resolve(schema, depth)
	value = normalize(value)
	if value == nil && schema["nullable"] == true {
		return
	}
	if msg, ok := enumMessage(schema); ok {
		allowed := false
		if c, isConst := schema["const"]; isConst {
			allowed = equalJS(value, normalize(c))
		} else {
			for _, e := range normalize(schema["enum"]).([]any) {
				if equalJS(value, e) {
					allowed = true
					break
				}
			}
		}
		if !allowed {
			v.add(path, msg)
		}
		return
	}
	for _, key := range []string{"anyOf", "oneOf"} {
		if alts, ok := normalize(schema[key]).([]any); ok && len(alts) > 0 {
			matched := false
			for _, alt := range alts {
				altSchema, _ := alt.(map[string]any)
				if altSchema == nil {
					altSchema = map[string]any{}
				}
				sub := &validator{root: v.root}
				sub.check(altSchema, value, path, depth+1)
				if len(sub.issues) == 0 {
					matched = true
					break
				}
			}
			if !matched {
				v.add(path, "Invalid input")
				return
			}
		}
	}
	if all, ok := normalize(schema["allOf"]).([]any); ok {
		for _, sub := range all {
			if m, ok := sub.(map[string]any); ok {
				v.check(m, value, path, depth+1)
			}
		}
	}
	ts := types(schema)
	if len(ts) == 0 {
		return
	}
	for _, t := range ts {
		if typeMatches(t, value) {
			v.checkType(t, schema, value, path, depth)
			return
		}
	}
	if len(ts) > 1 && len(nonNull(ts)) > 1 {
		v.add(path, "Invalid input")
		return
	}
	expected := nonNull(ts)
	if len(expected) == 0 {
		expected = ts
	}
	if expected[0] == "integer" {
		if f, ok := jsvalue.Number(value); ok && !math.IsNaN(f) && !math.IsInf(f, 0) {
			v.add(path, "Invalid input: expected int, received number")
			return
		}
	}
	v.add(path, "Invalid input: expected "+zodType(expected[0])+", received "+typeName(value))
}

func typeMatches(t string, value any) bool {
	switch t {
	case "string":
		_, ok := value.(string)
		return ok
	case "number":
		f, ok := jsvalue.Number(value)
		return ok && !math.IsNaN(f) && !math.IsInf(f, 0)
	case "integer":
		f, ok := jsvalue.Number(value)
		return ok && !math.IsInf(f, 0) && f == math.Trunc(f)
	case "boolean":
		_, ok := value.(bool)
		return ok
	case "null":
		return value == nil
	case "array":
		_, ok := value.([]any)
		return ok
	case "object":
		_, ok := value.(map[string]any)
		return ok
	}
	return true // unknown type keyword: no constraint
}

func num(schema map[string]any, key string) (float64, bool) {
	f, ok := jsvalue.Number(schema[key])
	return f, ok && !math.IsNaN(f)
}

func (v *validator) checkType(t string, schema map[string]any, value any, path []string, depth int) {
	switch t {
	case "string":
		v.checkString(schema, value.(string), path)
	case "number", "integer":
		v.checkNumber(schema, value, path)
	case "array":
		arr := value.([]any)
		switch items := normalize(schema["items"]).(type) {
		case map[string]any:
			for i, el := range arr {
				v.check(items, el, append(path, strconv.Itoa(i)), depth+1)
			}
		case []any:
			for i, it := range items {
				if m, ok := it.(map[string]any); ok && i < len(arr) {
					v.check(m, arr[i], append(path, strconv.Itoa(i)), depth+1)
				}
			}
		}
		if n, ok := num(schema, "minItems"); ok && float64(len(arr)) < n {
			v.add(path, "Too small: expected array to have >="+jsvalue.FormatNumber(n)+" items")
		}
		if n, ok := num(schema, "maxItems"); ok && float64(len(arr)) > n {
			v.add(path, "Too big: expected array to have <="+jsvalue.FormatNumber(n)+" items")
		}
	case "object":
		obj := value.(map[string]any)
		names, props := propsOf(schema)
		for _, name := range names {
			prop := v.resolve(props[name], depth+1)
			val, present := obj[name]
			if !present {
				if _, hasDefault := prop["default"]; hasDefault || !requiredOf(schema, name) {
					continue
				}
				v.missing(prop, append(path, name))
				continue
			}
			v.check(prop, val, append(path, name), depth+1)
		}
	}
}

func (v *validator) checkString(schema map[string]any, s string, path []string) {
	n := float64(utf16Len(s))
	if min, ok := num(schema, "minLength"); ok && n < min {
		v.add(path, "Too small: expected string to have >="+jsvalue.FormatNumber(min)+" characters")
	}
	if max, ok := num(schema, "maxLength"); ok && n > max {
		v.add(path, "Too big: expected string to have <="+jsvalue.FormatNumber(max)+" characters")
	}
	if p, ok := schema["pattern"].(string); ok {
		if re, err := regexp.Compile(p); err == nil && !re.MatchString(s) {
			v.add(path, "Invalid string: must match pattern /"+escapeSlashes(p)+"/")
		}
	}
	if f, ok := schema["format"].(string); ok {
		if noun, bad := checkFormat(f, s); bad {
			v.add(path, "Invalid "+noun)
		}
	}
}

func (v *validator) checkNumber(schema map[string]any, value any, path []string) {
	f, _ := jsvalue.Number(value)
	if min, ok := num(schema, "minimum"); ok && f < min {
		v.add(path, "Too small: expected number to be >="+jsvalue.FormatNumber(min))
	}
	if min, ok := num(schema, "exclusiveMinimum"); ok && f <= min {
		v.add(path, "Too small: expected number to be >"+jsvalue.FormatNumber(min))
	}
	if max, ok := num(schema, "maximum"); ok && f > max {
		v.add(path, "Too big: expected number to be <="+jsvalue.FormatNumber(max))
	}
	if max, ok := num(schema, "exclusiveMaximum"); ok && f >= max {
		v.add(path, "Too big: expected number to be <"+jsvalue.FormatNumber(max))
	}
	if m, ok := num(schema, "multipleOf"); ok && m != 0 {
		if q := f / m; q != math.Trunc(q) {
			v.add(path, "Invalid number: must be a multiple of "+jsvalue.FormatNumber(m))
		}
	}
}

// escapeSlashes writes a pattern as RegExp.prototype.toString does.
func escapeSlashes(p string) string {
	var b strings.Builder
	escaped := false
	for _, r := range p {
		if r == '/' && !escaped {
			b.WriteString(`\/`)
			continue
		}
		escaped = r == '\\' && !escaped
		b.WriteRune(r)
	}
	return b.String()
}

var (
	emailRe = regexp.MustCompile(`^[A-Za-z0-9_'+\-.]*[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$`)
	uuidRe  = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// checkFormat reports (noun, true) when s is not of a known format; unknown
// formats are not checked.
func checkFormat(format, s string) (string, bool) {
	switch format {
	case "email":
		ok := emailRe.MatchString(s) && !strings.HasPrefix(s, ".") && !strings.Contains(s, "..")
		return "email address", !ok
	case "uri", "url":
		u, err := url.Parse(s)
		return "URL", err != nil || u.Scheme == "" || u.Host == "" && u.Opaque == ""
	case "uuid":
		return "UUID", !uuidRe.MatchString(s)
	case "date-time":
		_, err := time.Parse(time.RFC3339Nano, s)
		return "ISO datetime", err != nil
	case "date":
		_, err := time.Parse("2006-01-02", s)
		return "ISO date", err != nil
	case "time":
		_, err := time.Parse("15:04:05", s)
		return "ISO time", err != nil
	case "ipv4":
		ip := net.ParseIP(s)
		return "IPv4 address", ip == nil || ip.To4() == nil || strings.Contains(s, ":")
	case "ipv6":
		ip := net.ParseIP(s)
		return "IPv6 address", ip == nil || !strings.Contains(s, ":")
	}
	return "", false
}

// utf16Len is a JavaScript string's length.
func utf16Len(s string) int {
	if !utf8.ValidString(s) {
		// Unlike jsvalue.UTF16Len, a string that is not valid UTF-8
		// counts runes (astral characters as one).
		return len([]rune(s))
	}
	return jsvalue.UTF16Len(s)
}
