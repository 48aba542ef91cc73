package schema

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// decode parses YAML into the JSON-like value convention.
func decode(t *testing.T, src string) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(src), &v); err != nil {
		t.Fatalf("yaml: %v", err)
	}
	return v
}

func mustSchema(t *testing.T, src string) *Schema {
	t.Helper()
	s, err := FromValue(decode(t, src))
	if err != nil {
		t.Fatalf("FromValue: %v", err)
	}
	if s == nil {
		t.Fatal("FromValue: nil schema")
	}
	return s
}

// asJSON compares JSON-like values independent of Go number types.
func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return string(b)
}

func TestFromLegacy(t *testing.T) {
	s := mustSchema(t, `
- { name: username, type: string, description: User name, required: true, default: john }
- { name: age, type: number, default: 25 }
- { name: status, type: choice, options: [active, inactive], required: true }
- { name: tags, type: array, minItems: 1, maxItems: 10 }
- null
- { type: string }
- { name: flag, type: boolean, description: "" }
`)
	want := map[string]map[string]any{
		"username": {"type": "string", "description": "User name", "default": "john"},
		"age":      {"type": "number", "default": 25},
		"status":   {"type": "string", "enum": []any{"active", "inactive"}},
		"tags": {"type": "array", "minItems": 1, "maxItems": 10, "items": map[string]any{"anyOf": []any{
			map[string]any{"type": "string"}, map[string]any{"type": "number"}, map[string]any{"type": "boolean"}}}},
		"flag": {"type": "boolean"},
	}
	if asJSON(t, s.Properties) != asJSON(t, want) {
		t.Errorf("Properties =\n%s\nwant\n%s", asJSON(t, s.Properties), asJSON(t, want))
	}
	if !reflect.DeepEqual(s.Required, []string{"username", "status"}) {
		t.Errorf("Required = %v", s.Required)
	}
	if !reflect.DeepEqual(s.Order, []string{"username", "age", "status", "tags", "flag"}) {
		t.Errorf("Order = %v", s.Order)
	}
	if s.AdditionalProperties == nil || *s.AdditionalProperties {
		t.Errorf("AdditionalProperties = %v, want false", s.AdditionalProperties)
	}

	empty, err := FromLegacy(nil)
	if err != nil || len(empty.Properties) != 0 || empty.Required != nil {
		t.Errorf("FromLegacy(nil) = %+v, %v", empty, err)
	}
	if _, err := FromLegacy([]any{map[string]any{"name": "x", "type": "date"}}); err == nil ||
		!strings.Contains(err.Error(), `unsupported type "date"`) {
		t.Errorf("unsupported type error = %v", err)
	}
}

func TestFromValue(t *testing.T) {
	s := mustSchema(t, `
properties:
  zeta: { type: string }
  ip: { type: string, description: IP to check }
  options:
    type: object
    properties:
      depth: { type: number, default: 2 }
  broken: null
required: [ip]
additionalProperties: false
definitions:
  X: { type: string, default: x }
`)
	if _, ok := s.Properties["broken"]; ok {
		t.Error("a non-object property schema must be skipped")
	}
	if !reflect.DeepEqual(s.Required, []string{"ip"}) || s.AdditionalProperties == nil || *s.AdditionalProperties {
		t.Errorf("Required/AdditionalProperties = %v/%v", s.Required, s.AdditionalProperties)
	}
	if s.Definitions["X"] == nil {
		t.Error("definitions lost")
	}
	if !reflect.DeepEqual(s.Order, []string{"ip", "options", "zeta"}) {
		t.Errorf("Order from a plain map = %v, want sorted", s.Order)
	}

	// A yaml.Node keeps declaration order.
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("properties:\n  zeta: {type: string}\n  alpha: {type: number}\n"), &doc); err != nil {
		t.Fatal(err)
	}
	ns, err := FromValue(&doc)
	if err != nil || !reflect.DeepEqual(ns.Order, []string{"zeta", "alpha"}) {
		t.Errorf("FromValue(node) order = %v, %v", ns.Order, err)
	}

	for _, none := range []any{nil, map[string]any{"foo": "bar"}, map[string]any{"required": []any{"x"}}} {
		if s, err := FromValue(none); s != nil || err != nil {
			t.Errorf("FromValue(%v) = %v, %v; want nil, nil", none, s, err)
		}
	}
	for _, bad := range []any{"properties", 123.0, true, map[string]any{"properties": nil}, map[string]any{"properties": []any{}}} {
		if _, err := FromValue(bad); err == nil {
			t.Errorf("FromValue(%v) = nil error", bad)
		}
	}
	legacy, err := FromValue([]map[string]any{{"name": "a", "type": "string"}})
	if err != nil || legacy.Properties["a"]["type"] != "string" {
		t.Errorf("FromValue([]map) = %+v, %v", legacy, err)
	}
}

func TestApplyDefaults(t *testing.T) {
	cases := []struct {
		name, schema string
		inputs       map[string]any
		want         string
	}{
		{"C39", `
- { name: ip, type: string, required: true }
- { name: sev, type: choice, options: [low, high], default: low }
- { name: hosts, type: array }`,
			map[string]any{"ip": "1.2.3.4"}, `{"hosts":[],"ip":"1.2.3.4","sev":"low"}`},
		{"provided values win", `
- { name: sev, type: choice, options: [low, high], default: low }
- { name: hosts, type: array }`,
			map[string]any{"sev": "high", "hosts": []any{"h"}}, `{"hosts":["h"],"sev":"high"}`},
		{"null stays for scalars", `
- { name: sev, type: string, default: low }`,
			map[string]any{"sev": nil}, `{"sev":null}`},
		{"defaults when inputs are nil", `
properties:
  name: { type: string, default: Default Name }
  age: { type: number, default: 25 }
required: [name]`,
			nil, `{"age":25,"name":"Default Name"}`},
		{"missing properties", `
properties:
  name: { type: string, default: Default Name }
  age: { type: number, default: 25 }`,
			map[string]any{"name": "Custom Name"}, `{"age":25,"name":"Custom Name"}`},
		{"nested objects", `
properties:
  analyst:
    type: object
    properties:
      email: { type: string, default: analyst@security.com }
      name: { type: string, default: Security Analyst }
      team: { type: string, default: SOC }
    required: [email, name, team]
required: [analyst]`,
			nil, `{"analyst":{"email":"analyst@security.com","name":"Security Analyst","team":"SOC"}}`},
		{"partial nested objects", `
properties:
  analyst:
    type: object
    properties:
      email: { type: string, default: analyst@security.com }
      name: { type: string, default: Security Analyst }`,
			map[string]any{"analyst": map[string]any{"email": "custom@example.com"}},
			`{"analyst":{"email":"custom@example.com","name":"Security Analyst"}}`},
		{"null object gets defaults", `
properties:
  opts:
    type: object
    properties:
      depth: { type: number, default: 2 }`,
			map[string]any{"opts": nil}, `{"opts":{"depth":2}}`},
		{"array default", `
properties:
  notifyTeams: { type: array, items: { type: string }, default: [SOC, Management] }`,
			nil, `{"notifyTeams":["SOC","Management"]}`},
		{"$ref to definitions", `
properties:
  user: { $ref: "#/definitions/UserSchema" }
required: [user]
definitions:
  UserSchema:
    type: object
    properties:
      name: { type: string, default: John Doe }
      email: { type: string, format: email, default: john.doe@example.com }
      age: { type: number, default: 30 }
    required: [name, email]`,
			nil, `{"user":{"age":30,"email":"john.doe@example.com","name":"John Doe"}}`},
		{"$ref with a provided partial object", `
properties:
  user: { $ref: "#/$defs/U" }
$defs:
  U:
    type: object
    properties:
      name: { type: string, default: John }
      age: { type: number, default: 30 }`,
			map[string]any{"user": map[string]any{"name": "Ann"}}, `{"user":{"age":30,"name":"Ann"}}`},
		{"nested missing array without default stays missing; object without defaults is not synthesised", `
properties:
  outer:
    type: object
    properties:
      list: { type: array }
      inner:
        type: object
        properties:
          x: { type: string }
  other:
    type: object
    properties:
      y: { type: string }`,
			map[string]any{"outer": map[string]any{}}, `{"outer":{}}`},
		{"required nested array becomes [] when the object is synthesised", `
properties:
  outer:
    type: object
    required: [list]
    properties:
      list: { type: array }
      flag: { type: boolean, default: true }`,
			nil, `{"outer":{"flag":true,"list":[]}}`},
		{"extra inputs are kept", `
- { name: a, type: string, default: x }`,
			map[string]any{"extra": 1.0}, `{"a":"x","extra":1}`},
		{"self-referencing $ref terminates", `
properties:
  node: { $ref: "#/definitions/N" }
definitions:
  N:
    type: object
    properties:
      child: { $ref: "#/definitions/N" }
      v: { type: number, default: 1 }`,
			nil, `{"node":{"v":1}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := mustSchema(t, c.schema)
			got := ApplyDefaults(s, c.inputs)
			if asJSON(t, got) != c.want {
				t.Errorf("ApplyDefaults = %s, want %s", asJSON(t, got), c.want)
			}
		})
	}
}

func TestApplyDefaultsCopies(t *testing.T) {
	s := mustSchema(t, `
properties:
  teams: { type: array, default: [SOC] }
  cfg: { type: object, default: { a: 1 } }`)
	in := map[string]any{"keep": "me"}
	first := ApplyDefaults(s, in)
	first["teams"].([]any)[0] = "changed"
	first["cfg"].(map[string]any)["a"] = 2
	second := ApplyDefaults(s, in)
	if asJSON(t, second) != `{"cfg":{"a":1},"keep":"me","teams":["SOC"]}` {
		t.Errorf("defaults are shared with the schema: %s", asJSON(t, second))
	}
	if len(in) != 1 {
		t.Errorf("ApplyDefaults modified its input: %v", in)
	}
	if got := ApplyDefaults(nil, in); asJSON(t, got) != `{"keep":"me"}` {
		t.Errorf("ApplyDefaults(nil) = %v", got)
	}
}

func TestValidate(t *testing.T) {
	legacy := `
- { name: ip, type: string, required: true }
- { name: sev, type: choice, options: [low, high], default: low }
- { name: count, type: number }
- { name: flag, type: boolean }
- { name: hosts, type: array, minItems: 1, maxItems: 2 }`
	modern := `
properties:
  name: { type: string, minLength: 2, maxLength: 5, pattern: "^[a-z]+$" }
  email: { type: string, format: email }
  n: { type: integer, minimum: 1, maximum: 10 }
  x: { type: number, exclusiveMinimum: 0, exclusiveMaximum: 1 }
  m: { type: number, multipleOf: 5 }
  one: { enum: [only] }
  obj:
    type: object
    required: [id]
    properties:
      id: { type: string }
      tags: { type: array, items: { type: string } }
  user: { $ref: "#/definitions/U" }
  any: {}
  nullable: { type: [string, "null"] }
required: [name]
definitions:
  U: { type: object, properties: { age: { type: number } } }`
	cases := []struct {
		name, schema string
		values       map[string]any
		want         []string
	}{
		{"valid legacy", legacy, map[string]any{"ip": "1.2.3.4", "sev": "low", "hosts": []any{"a", 1.0}}, nil},
		{"C39 missing required", legacy, map[string]any{"sev": "low", "hosts": []any{"a"}},
			[]string{"ip: Invalid input: expected string, received undefined"}},
		{"wrong types", legacy, map[string]any{"ip": 5.0, "sev": "mid", "count": "3", "flag": "yes", "hosts": "h"}, []string{
			"ip: Invalid input: expected string, received number",
			`sev: Invalid option: expected one of "low"|"high"`,
			"count: Invalid input: expected number, received string",
			"flag: Invalid input: expected boolean, received string",
			"hosts: Invalid input: expected array, received string",
		}},
		{"null is not undefined", legacy, map[string]any{"ip": nil, "hosts": []any{"a"}},
			[]string{"ip: Invalid input: expected string, received null"}},
		{"array bounds and items", legacy, map[string]any{"ip": "x", "hosts": []any{map[string]any{}, "b", "c"}}, []string{
			"hosts.0: Invalid input",
			"hosts: Too big: expected array to have <=2 items",
		}},
		{"array too small", legacy, map[string]any{"ip": "x", "hosts": []any{}},
			[]string{"hosts: Too small: expected array to have >=1 items"}},
		{"unknown keys with additionalProperties false", legacy, map[string]any{"ip": "x", "hosts": []any{"a"}, "zz": 1.0, "aa": 2.0},
			[]string{`: Unrecognized keys: "aa", "zz"`}},
		{"one unknown key", legacy, map[string]any{"ip": "x", "hosts": []any{"a"}, "zz": 1.0},
			[]string{`: Unrecognized key: "zz"`}},
		{"Go ints and json.Number are numbers", legacy, map[string]any{"ip": "x", "count": 3, "hosts": []any{json.Number("2")}}, nil},
		{"valid modern", modern, map[string]any{"name": "abc", "email": "a.b@example.com", "n": 3.0, "x": 0.5, "m": 10.0,
			"one": "only", "obj": map[string]any{"id": "1", "extra": true}, "user": map[string]any{"age": 3.0}, "any": []any{1.0},
			"nullable": nil, "other": 1.0}, nil},
		{"string checks", modern, map[string]any{"name": "ABCDEF1"}, []string{
			"name: Too big: expected string to have <=5 characters",
			"name: Invalid string: must match pattern /^[a-z]+$/",
		}},
		{"short string", modern, map[string]any{"name": "a"}, []string{"name: Too small: expected string to have >=2 characters"}},
		{"formats and numbers", modern, map[string]any{"name": "ab", "email": "nope", "n": 2.5, "x": 1.0, "m": 7.0}, []string{
			// A plain decoded map has no order: properties are checked sorted.
			"email: Invalid email address",
			"m: Invalid number: must be a multiple of 5",
			"n: Invalid input: expected int, received number",
			"x: Too big: expected number to be <1",
		}},
		{"integer bounds", modern, map[string]any{"name": "ab", "n": 0.0, "x": 0.0}, []string{
			"n: Too small: expected number to be >=1",
			"x: Too small: expected number to be >0",
		}},
		{"const, nested object and $ref", modern, map[string]any{"name": "ab", "one": "two",
			"obj": map[string]any{"tags": []any{"a", 2.0}}, "user": map[string]any{"age": "old"}, "nullable": 3.0}, []string{
			"nullable: Invalid input: expected string, received number",
			"obj.id: Invalid input: expected string, received undefined",
			"obj.tags.1: Invalid input: expected string, received number",
			`one: Invalid input: expected "only"`,
			"user.age: Invalid input: expected number, received string",
		}},
		{"required with default may be missing", `
properties:
  name: { type: string, default: x }
required: [name]`, map[string]any{}, nil},
		{"missing required enum", `
properties:
  sev: { type: string, enum: [low, high] }
required: [sev]`, map[string]any{}, []string{`sev: Invalid option: expected one of "low"|"high"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Validate(mustSchema(t, c.schema), c.values)
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("Validate =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(c.want, "\n  "))
			}
		})
	}
	if got := Validate(nil, map[string]any{"x": 1.0}); got != nil {
		t.Errorf("Validate(nil) = %v", got)
	}
}

// TestC39 is conformance case C39: defaults then validation, and the error
// text the run fails with.
func TestC39(t *testing.T) {
	s := mustSchema(t, `
- { name: ip, type: string, required: true }
- { name: sev, type: choice, options: [low, high], default: low }
- { name: hosts, type: array }`)
	ok := ApplyDefaults(s, map[string]any{"ip": "1.2.3.4"})
	if p := Validate(s, ok); p != nil {
		t.Errorf("valid inputs rejected: %v", p)
	}
	if asJSON(t, ok) != `{"hosts":[],"ip":"1.2.3.4","sev":"low"}` {
		t.Errorf("inputs = %s", asJSON(t, ok))
	}
	msg := InputError(Validate(s, ApplyDefaults(s, map[string]any{})))
	if msg != "Workflow input validation failed: ip: Invalid input: expected string, received undefined" {
		t.Errorf("InputError = %q", msg)
	}
	two := InputError([]string{"a: x", "b: y"})
	if two != "Workflow input validation failed: a: x; b: y" {
		t.Errorf("InputError(two) = %q", two)
	}
	if InputError(nil) != "" {
		t.Error("InputError(nil) must be empty")
	}
}

// TestValidateOutputs covers C38: `{{ inputs.n }}` is rewritten to
// `${{ inputs.n }}`, so n: 3 arrives as the number 3 (valid) and n: "abc"
// as a string (invalid).
func TestValidateOutputs(t *testing.T) {
	s := mustSchema(t, `
- { name: count, type: number, required: true }
- { name: verdict, type: choice, options: [benign, malicious] }
- { name: tags, type: array, maxItems: 1 }`)
	cases := []struct {
		values map[string]any
		want   string
	}{
		{map[string]any{"count": 3.0}, ""},
		{map[string]any{"count": 3}, ""},
		{map[string]any{"count": 3.0, "undeclared": "ok"}, ""},
		{map[string]any{"count": "abc"}, "Output validation failed: count: Invalid input: expected number, received string"},
		{map[string]any{"count": "3"}, "Output validation failed: count: Invalid input: expected number, received string"},
		{map[string]any{}, "Output validation failed: count: Invalid input: expected number, received undefined"},
		{map[string]any{"count": 1.0, "verdict": "meh", "tags": []any{"a", "b"}},
			`Output validation failed: verdict: Invalid option: expected one of "benign"|"malicious", tags: Too big: expected array to have <=1 items`},
		{map[string]any{"count": 1.0, "tags": []any{[]any{}}}, "Output validation failed: tags: Invalid input"},
	}
	for _, c := range cases {
		if got := ValidateOutputs(s, c.values); got != c.want {
			t.Errorf("ValidateOutputs(%v) =\n  %q\nwant\n  %q", c.values, got, c.want)
		}
	}
	if !strings.HasPrefix(ValidateOutputs(s, map[string]any{"count": "abc"}), "Output validation failed: count:") {
		t.Error("C38 prefix")
	}
	if got := ValidateOutputs(nil, map[string]any{"x": 1.0}); got != "" {
		t.Errorf("ValidateOutputs(nil) = %q", got)
	}
	if got := ValidateOutputs(&Schema{}, map[string]any{"x": 1.0}); got != "" {
		t.Errorf("ValidateOutputs(empty) = %q", got)
	}
}

func TestJSNumbers(t *testing.T) {
	for f, want := range map[float64]string{5: "5", 3.14: "3.14", 1e21: "1e+21", 1e-7: "1e-7", -0.5: "-0.5", 100: "100"} {
		if got := jsNumberString(f); got != want {
			t.Errorf("jsNumberString(%v) = %q, want %q", f, got, want)
		}
	}
}
