package template

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

var fixedNow = time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)

func newTestEngine() *Engine {
	return New(Options{Now: func() time.Time { return fixedNow }})
}

type renderCase struct {
	name string
	tpl  string
	ctx  map[string]any
	want string
	err  string // substring of the expected error; empty means success
}

func runRenderCases(t *testing.T, cases []renderCase) {
	t.Helper()
	e := newTestEngine()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.RenderString(tc.tpl, tc.ctx)
			if tc.err != "" {
				if err == nil {
					t.Fatalf("RenderString(%q) = %q, want error containing %q", tc.tpl, got, tc.err)
				}
				if !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("RenderString(%q) error = %q, want it to contain %q", tc.tpl, err, tc.err)
				}
				if strings.Contains(err.Error(), "line:") {
					t.Fatalf("error %q carries a line/col suffix", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("RenderString(%q) error: %v", tc.tpl, err)
			}
			if got != tc.want {
				t.Fatalf("RenderString(%q) = %q, want %q", tc.tpl, got, tc.want)
			}
		})
	}
}

// TestConformanceTemplating covers conformance cases C01–C11 of §10.
func TestConformanceTemplating(t *testing.T) {
	e := newTestEngine()
	type renderValueCase struct {
		name string
		with any
		ctx  map[string]any
		want any
		err  string
	}
	cases := []renderValueCase{
		{
			name: "C01 plain interpolation and missing variables",
			with: "Hello {{ inputs.name }}, your status is {{ inputs.status }}.",
			ctx:  map[string]any{"inputs": map[string]any{"name": "John"}},
			want: "Hello John, your status is .",
		},
		{
			name: "C02 {{ }} stringifies, ${{ }} preserves type",
			with: map[string]any{
				"as_str":    "{{ inputs.n }}",
				"as_num":    "${{ inputs.n }}",
				"tags_str":  "{{ inputs.tags }}",
				"tags_arr":  "${{ inputs.tags }}",
				"tags_json": "{{ inputs.tags | json }}",
				"mixed":     "Total: {{ inputs.n }}",
			},
			ctx: map[string]any{"inputs": map[string]any{"n": 5.0, "tags": []any{"admin", "user"}}},
			want: map[string]any{
				"as_str": "5", "as_num": 5.0, "tags_str": "adminuser", "tags_arr": []any{"admin", "user"},
				"tags_json": `["admin","user"]`, "mixed": "Total: 5",
			},
		},
		{
			name: "C03 object in {{ }}",
			with: []any{"{{ inputs.obj }}", "{{ inputs.obj | json }}"},
			ctx:  map[string]any{"inputs": map[string]any{"obj": map[string]any{"a": 1.0}}},
			want: []any{"[object Object]", `{"a":1}`},
		},
		{
			name: "C04 ${{ }} with filters and split",
			with: map[string]any{
				"items": "${{ inputs.items | slice: 0, 2 }}",
				"split": "${{ inputs.s | split: ',' }}",
				"msg":   "{{ inputs.s | split: ',' }}",
			},
			ctx: map[string]any{"inputs": map[string]any{"items": []any{"a", "b", "c", "d"}, "s": "foo,bar,dak"}},
			want: map[string]any{
				"items": []any{"a", "b"}, "split": []any{"foo", "bar", "dak"}, "msg": "foobardak",
			},
		},
		{
			name: "C05 non-string values untouched",
			with: map[string]any{"n": 42.0, "b": true, "nil": nil, "arr": []any{1.0, 2.0, 3.0}, "nested": map[string]any{"v": 3.14}},
			ctx:  map[string]any{},
			want: map[string]any{"n": 42.0, "b": true, "nil": nil, "arr": []any{1.0, 2.0, 3.0}, "nested": map[string]any{"v": 3.14}},
		},
		{
			name: "C06 unknown filter fails",
			with: map[string]any{"message": "{{ inputs.name | nope }}"},
			ctx:  map[string]any{"inputs": map[string]any{"name": "x"}},
			err:  "undefined filter: nope",
		},
		{
			name: "C07 include is unsupported",
			with: "{% include 'x' %}",
			err:  "Template contains unsupported tags.",
		},
		{
			name: "C07 tablerow is not found",
			with: "{% tablerow i in inputs.a %}{{i}}{% endtablerow %}",
			err:  "not found",
		},
		{
			name: "C07 assign works",
			with: `{% assign g = "hello" %}{{ g }}`,
			want: "hello",
		},
		{
			name: "C08 ownPropertyOnly",
			with: []any{"{{ inputs.obj.constructor }}", "{{ inputs.obj.name }}", "{{ inputs.obj.__proto__ }}", "{{ inputs.obj.toString }}"},
			ctx:  map[string]any{"inputs": map[string]any{"obj": map[string]any{"name": "test"}}},
			want: []any{"", "test", "", ""},
		},
		{
			name: "C10 malformed ${{ }}",
			with: "${{ inputs.a }} ${{ inputs.b }}",
			ctx:  map[string]any{"inputs": map[string]any{"a": 1.0, "b": 2.0}},
			err:  "The provided expression is invalid. Got: {{ inputs.a }} ${{ inputs.b }}.",
		},
		{
			name: "C11 parse length limit",
			with: strings.Repeat("x", 200000),
			err:  "parse length limit exceeded",
		},
		{
			name: "C11 memory limit",
			with: "{% for i in (1..20000000) %}{{ i }}{% endfor %}",
			err:  "memory alloc limit exceeded",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.Render(tc.with, tc.ctx)
			if tc.err != "" {
				if err == nil {
					t.Fatalf("Render = %#v, want error %q", got, tc.err)
				}
				if !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Render error = %q, want it to contain %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "line:") || strings.Contains(err.Error(), "col:") {
					t.Fatalf("error %q has a position suffix", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Render error: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Render = %#v, want %#v", got, tc.want)
			}
		})
	}
}

// TestConformanceCustomFilters covers C09.
func TestConformanceCustomFilters(t *testing.T) {
	runRenderCases(t, []renderCase{
		{name: "json_parse object", tpl: `{{ s | json_parse | json }}`, ctx: map[string]any{"s": `{"a":1}`}, want: `{"a":1}`},
		{name: "json_parse invalid", tpl: `{{ s | json_parse }}`, ctx: map[string]any{"s": "not-json"}, want: "not-json"},
		{name: "json_parse malformed", tpl: `{{ s | json_parse }}`, ctx: map[string]any{"s": `{"name": "John", "age":}`}, want: `{"name": "John", "age":}`},
		{name: "json_parse incomplete", tpl: `{{ s | json_parse }}`, ctx: map[string]any{"s": `{"name": "John"`}, want: `{"name": "John"`},
		{name: "json_parse number", tpl: `{{ n | json_parse }}`, ctx: map[string]any{"n": 42.0}, want: "42"},
		{name: "json_parse empty", tpl: `{{ s | json_parse }}`, ctx: map[string]any{"s": ""}, want: ""},
		{name: "json_parse null", tpl: `{{ s | json_parse }}`, ctx: map[string]any{"s": nil}, want: ""},
		{name: "json_parse string", tpl: `{{ s | json_parse }}`, ctx: map[string]any{"s": `"hello"`}, want: "hello"},
		{name: "json then json_parse", tpl: `{{ d | json | json_parse | json }}`, ctx: map[string]any{"d": map[string]any{"name": "John"}}, want: `{"name":"John"}`},
		{name: "entries", tpl: `{% assign p = o | entries %}{% for e in p %}{{e.key}}={{e.value}} {% endfor %}`, ctx: map[string]any{"o": map[string]any{"x": 1.0, "y": 2.0}}, want: "x=1 y=2 "},
		{name: "entries array passthrough", tpl: `{{ a | entries | json }}`, ctx: map[string]any{"a": []any{1.0, 2.0, 3.0}}, want: "[1,2,3]"},
		{name: "entries null", tpl: `{{ a | entries }}`, ctx: map[string]any{"a": nil}, want: ""},
		{name: "pick paths", tpl: `{{ o | pick: "a", "b.c" | json }}`, ctx: map[string]any{"o": map[string]any{"a": 1.0, "b": map[string]any{"c": 2.0, "d": 99.0}, "z": 42.0}}, want: `{"a":1,"b":{"c":2}}`},
		{name: "pick array arg", tpl: `{% assign paths = "a,b" | split: "," %}{{ o | pick: paths | json }}`, ctx: map[string]any{"o": map[string]any{"a": 1.0, "b": 2.0, "c": 3.0}}, want: `{"a":1,"b":2}`},
		{name: "json omits undefined members", tpl: `{{ d | json }}`, ctx: map[string]any{"d": map[string]any{"name": "John", "value": nil, "missing": undef}}, want: `{"name":"John","value":null}`},
	})
}

func TestEngineConfiguration(t *testing.T) {
	runRenderCases(t, []renderCase{
		// strictFilters
		{name: "unknown filter message", tpl: "{{ name | unknownFilter }}", ctx: map[string]any{"name": "John"}, err: "undefined filter: unknownFilter"},
		{name: "unknown filter in chain", tpl: "{{ d | json | unknownFilter | json_parse }}", err: "undefined filter: unknownFilter"},
		{name: "uppercase does not exist", tpl: "{{ 'a' | uppercase }}", err: "undefined filter: uppercase"},
		{name: "urlencode does not exist", tpl: "{{ 'a' | urlencode }}", err: "undefined filter: urlencode"},
		// lax variables
		{name: "missing nested path", tpl: "[{{ a.b.c.d }}]", want: "[]"},
		{name: "missing with filter", tpl: "[{{ a.b | upcase }}]", want: "[]"},
		// tag allow-list
		{name: "tablerow not found", tpl: "{% tablerow x in y %}{% endtablerow %}", err: `tag "tablerow" not found`},
		{name: "block not found", tpl: "{% block x %}{% endblock %}", err: `tag "block" not found`},
		{name: "render unsupported", tpl: "{% render 'x' %}", err: "Template contains unsupported tags."},
		{name: "layout unsupported", tpl: "{%- layout 'x' %}", err: "Template contains unsupported tags."},
		{name: "include case-insensitive", tpl: "{% INCLUDE 'x' %}", err: "Template contains unsupported tags."},
		{name: "stray endif", tpl: "{% endif %}", err: `tag "endif" not found`},
		{name: "unclosed if", tpl: "{% if a %}x", err: "tag {% if a %} not closed"},
		{name: "unclosed output", tpl: "{{ a ", err: "not closed"},
		{name: "empty output", tpl: "{{ }}", err: "invalid value expression"},
		{name: "echo", tpl: "{% echo 'a' | upcase %}", want: "A"},
		{name: "liquid tag", tpl: "{% liquid\nassign x = 2\nif x == 2\necho 'two'\nendif\n%}", want: "two"},
		{name: "inline comment", tpl: "a{% # a comment %}b", want: "ab"},
		{name: "comment", tpl: "a{% comment %}{{ x }}{% endcomment %}b", want: "ab"},
		{name: "raw", tpl: "{% raw %}{{ x }}{% endraw %}", want: "{{ x }}"},
		{name: "capture", tpl: "{% capture c %}x{{ 1 | plus: 1 }}{% endcapture %}[{{ c }}]", want: "[x2]"},
		{name: "increment", tpl: "{% increment n %}{% increment n %}{% increment n %}", want: "012"},
		{name: "decrement", tpl: "{% decrement n %}{% decrement n %}", want: "-1-2"},
		{name: "increment does not touch assign", tpl: "{% assign n = 10 %}{% increment n %}{{ n }}", want: "010"},
		{name: "cycle", tpl: "{% for i in (1..4) %}{% cycle 'a', 'b', 'c' %}{% endfor %}", want: "abca"},
		{name: "case", tpl: "{% case x %}{% when 1, 2 %}low{% when 3 or 4 %}mid{% else %}high{% endcase %}", ctx: map[string]any{"x": 4.0}, want: "mid"},
		{name: "case else", tpl: "{% case x %}{% when 'a' %}A{% else %}other{% endcase %}", ctx: map[string]any{"x": "b"}, want: "other"},
		{name: "unless", tpl: "{% unless a %}no{% else %}yes{% endunless %}", want: "no"},
		{name: "elsif", tpl: "{% if a == 1 %}one{% elsif a == 2 %}two{% else %}many{% endif %}", ctx: map[string]any{"a": 2.0}, want: "two"},
	})
}

func TestTruthinessAndOperators(t *testing.T) {
	ctx := map[string]any{
		"zero": 0.0, "emptyStr": "", "emptyArr": []any{}, "f": false, "n": nil, "t": true,
		"arr": []any{"a", "b"}, "s": "hello world", "num": 10.0, "str10": "10", "obj": map[string]any{"a": 1.0},
	}
	runRenderCases(t, []renderCase{
		{name: "0 is truthy", tpl: "{% if zero %}T{% else %}F{% endif %}", ctx: ctx, want: "T"},
		{name: "empty string is truthy", tpl: "{% if emptyStr %}T{% else %}F{% endif %}", ctx: ctx, want: "T"},
		{name: "empty array is truthy", tpl: "{% if emptyArr %}T{% else %}F{% endif %}", ctx: ctx, want: "T"},
		{name: "false is falsy", tpl: "{% if f %}T{% else %}F{% endif %}", ctx: ctx, want: "F"},
		{name: "nil is falsy", tpl: "{% if n %}T{% else %}F{% endif %}", ctx: ctx, want: "F"},
		{name: "missing is falsy", tpl: "{% if nope %}T{% else %}F{% endif %}", ctx: ctx, want: "F"},
		{name: "== empty", tpl: "{% if emptyArr == empty %}T{% endif %}{% if emptyStr == empty %}T{% endif %}", ctx: ctx, want: "TT"},
		{name: "== blank", tpl: "{% if n == blank %}T{% endif %}{% if f == blank %}T{% endif %}", ctx: ctx, want: "TT"},
		{name: "== nil for missing", tpl: "{% if nope == nil %}T{% endif %}", ctx: ctx, want: "T"},
		{name: "array equality by value", tpl: "{% assign x = 'a,b' | split: ',' %}{% if x == arr %}T{% endif %}", ctx: ctx, want: "T"},
		{name: "contains string", tpl: "{% if s contains 'world' %}T{% endif %}", ctx: ctx, want: "T"},
		{name: "contains array", tpl: "{% if arr contains 'b' %}T{% endif %}{% if arr contains 'z' %}X{% endif %}", ctx: ctx, want: "T"},
		{name: "and/or right to left", tpl: "{% if t or f and f %}T{% else %}F{% endif %}", ctx: ctx, want: "T"},
		{name: "and binds as right-assoc", tpl: "{% if f and f or t %}T{% else %}F{% endif %}", ctx: ctx, want: "F"},
		{name: "comparison output", tpl: "{{ num > 5 }} {{ num < 5 }} {{ num >= 10 }} {{ num != 10 }}", ctx: ctx, want: "true false true false"},
		{name: "string vs number compare", tpl: "{{ str10 > 9 }}", ctx: ctx, want: "true"},
		{name: "string compare lexicographic", tpl: "{{ 'b' > 'a' }} {{ '10' > '9' }}", ctx: ctx, want: "true false"},
		{name: "not operator", tpl: "{% if not f %}T{% endif %}", ctx: ctx, want: "T"},
		{name: "object identity", tpl: "{% if obj == obj %}T{% endif %}", ctx: ctx, want: "T"},
	})
}

func TestPropertyAccess(t *testing.T) {
	ctx := map[string]any{
		"a":   []any{"x", "y", "z"},
		"s":   "hello",
		"o":   map[string]any{"k1": 1.0, "k2": 2.0, "first": "F"},
		"idx": 1.0,
		"steps": map[string]any{"q": map[string]any{"output": map[string]any{
			"values": []any{map[string]any{"v": 1.0}, map[string]any{"v": 2.0}},
		}}},
		"dash": map[string]any{"my-key": "dashed"},
	}
	runRenderCases(t, []renderCase{
		{name: "array length", tpl: "{{ a.length }}", ctx: ctx, want: "3"},
		{name: "array size", tpl: "{{ a.size }}", ctx: ctx, want: "3"},
		{name: "array first/last", tpl: "{{ a.first }}{{ a.last }}", ctx: ctx, want: "xz"},
		{name: "index", tpl: "{{ a[1] }}", ctx: ctx, want: "y"},
		{name: "negative index", tpl: "{{ a[-1] }}{{ a[-3] }}[{{ a[-4] }}]", ctx: ctx, want: "zx[]"},
		{name: "variable index", tpl: "{{ a[idx] }}", ctx: ctx, want: "y"},
		{name: "dotted numeric index", tpl: "{{ a.0 }}", ctx: ctx, want: "x"},
		{name: "string length and size", tpl: "{{ s.length }} {{ s.size }}", ctx: ctx, want: "5 5"},
		{name: "object size", tpl: "{{ o.size }}", ctx: ctx, want: "3"},
		{name: "object own first", tpl: "{{ o.first }}", ctx: ctx, want: "F"},
		{name: "bracket string key", tpl: `{{ o["k2"] }} {{ dash["my-key"] }} {{ dash.my-key }}`, ctx: ctx, want: "2 dashed dashed"},
		{name: "nested length", tpl: "{{ steps.q.output.values.length }}", ctx: ctx, want: "2"},
		{name: "nested index path", tpl: "{{ steps.q.output.values[1].v }}", ctx: ctx, want: "2"},
		{name: "constructor on array", tpl: "[{{ a.constructor }}]", ctx: ctx, want: "[]"},
		{name: "missing index", tpl: "[{{ a[10] }}]", ctx: ctx, want: "[]"},
	})
}

func TestForloop(t *testing.T) {
	ctx := map[string]any{"items": []any{"a", "b", "c"}, "obj": map[string]any{"b": 2.0, "a": 1.0}}
	runRenderCases(t, []renderCase{
		{name: "forloop vars", tpl: "{% for i in items %}{{ forloop.index }}{{ forloop.index0 }}{{ forloop.first }}{{ forloop.last }}{{ forloop.length }}{{ forloop.rindex }}{{ forloop.rindex0 }};{% endfor %}", ctx: ctx,
			want: "10truefalse332;21falsefalse321;32falsetrue310;"},
		{name: "limit offset", tpl: "{% for i in items limit:2 offset:1 %}{{ i }}{% endfor %}", ctx: ctx, want: "bc"},
		{name: "reversed", tpl: "{% for i in items reversed %}{{ i }}{% endfor %}", ctx: ctx, want: "cba"},
		{name: "range", tpl: "{% for i in (1..3) %}{{ i }}{% endfor %}", ctx: ctx, want: "123"},
		{name: "range from vars", tpl: "{% assign n = 3 %}{% for i in (1..n) %}{{ i }}{% endfor %}", ctx: ctx, want: "123"},
		{name: "else on empty", tpl: "{% for i in nope %}x{% else %}empty{% endfor %}", ctx: ctx, want: "empty"},
		{name: "break", tpl: "{% for i in items %}{% if i == 'b' %}{% break %}{% endif %}{{ i }}{% endfor %}", ctx: ctx, want: "a"},
		{name: "continue", tpl: "{% for i in items %}{% if i == 'b' %}{% continue %}{% endif %}{{ i }}{% endfor %}", ctx: ctx, want: "ac"},
		{name: "object pairs sorted", tpl: "{% for p in obj %}{{ p[0] }}={{ p[1] }};{% endfor %}", ctx: ctx, want: "a=1;b=2;"},
		{name: "nested loops", tpl: "{% for i in (1..2) %}{% for j in (1..2) %}{{ i }}{{ j }} {% endfor %}{% endfor %}", ctx: ctx, want: "11 12 21 22 "},
		{name: "assign in loop visible after", tpl: "{% for i in items %}{% assign last = i %}{% endfor %}{{ last }}", ctx: ctx, want: "c"},
		{name: "offset continue", tpl: "{% for i in items limit:1 %}{{ i }}{% endfor %}{% for i in items offset:continue %}{{ i }}{% endfor %}", ctx: ctx, want: "abc"},
	})
}

func TestWhitespaceControl(t *testing.T) {
	runRenderCases(t, []renderCase{
		{name: "output trim", tpl: "a  {{- 'b' -}}  c", want: "abc"},
		{name: "tag trim newlines", tpl: "a\n  {%- if true -%}\n  b\n  {%- endif -%}\n c", want: "abc"},
		{name: "no trim", tpl: "a {{ 'b' }} c", want: "a b c"},
		{name: "left only", tpl: "a \n{{- 'b' }} c", want: "ab c"},
	})
}

var point1, point2 = 0.1, 0.2

func TestStringify(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{"s", "s"},
		{nil, ""},
		{undef, ""},
		{30.0, "30"},
		{3.14, "3.14"},
		{point1 + point2, "0.30000000000000004"},
		{1e21, "1e+21"},
		{1e20, "100000000000000000000"},
		{1.5e-7, "1.5e-7"},
		{0.000001, "0.000001"},
		{-2.0, "-2"},
		{5, "5"},
		{int64(7), "7"},
		{true, "true"},
		{false, "false"},
		{[]any{"foo", "bar", "dak"}, "foobardak"},
		{[]any{1.0, []any{2.0, "x"}, nil}, "12x"},
		{map[string]any{"a": 1.0}, "[object Object]"},
		{fixedNow, "Thu Jan 01 2026 10:00:00 GMT+0000 (Coordinated Universal Time)"},
		{[]string{"a", "b"}, "ab"},
	}
	for _, tc := range cases {
		if got := Stringify(tc.in); got != tc.want {
			t.Errorf("Stringify(%#v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEvaluate(t *testing.T) {
	e := newTestEngine()
	ctx := map[string]any{
		"inputs": map[string]any{
			"tags":     []any{"tag1", "tag2", "tag3"},
			"metadata": map[string]any{"version": "1.0.0"},
			"isActive": true,
			"items":    []any{},
			"n":        5.0,
		},
		"x": "a", "y": true, "my_string": "foo|bar|dak", "separator": "|",
		"my_array": []any{"foo", "bar", "dak"},
	}
	cases := []struct {
		name string
		expr string
		want any
		err  string
	}{
		{name: "array", expr: "${{ inputs.tags }}", want: []any{"tag1", "tag2", "tag3"}},
		{name: "object", expr: "${{ inputs.metadata }}", want: map[string]any{"version": "1.0.0"}},
		{name: "bool", expr: "${{ inputs.isActive }}", want: true},
		{name: "empty array", expr: "${{ inputs.items }}", want: []any{}},
		{name: "undefined is nil", expr: "${{ inputs.nope }}", want: nil},
		{name: "number", expr: "${{ inputs.n | plus: 1 }}", want: 6.0},
		{name: "comparison and", expr: "${{ x == 'a' and y }}", want: true},
		{name: "split with var sep", expr: "{{ my_string | split: separator }}", want: []any{"foo", "bar", "dak"}},
		{name: "join", expr: `{{ my_array | join: "," }}`, want: "foo,bar,dak"},
		{name: "bare expression", expr: "inputs.n", want: 5.0},
		{name: "literal string", expr: `{{ "foo,bar,dak" | split: "," }}`, want: []any{"foo", "bar", "dak"}},
		{name: "map with missing yields null", expr: "${{ inputs.tags | map: 'nope' }}", want: []any{nil, nil, nil}},
		{name: "NaN becomes nil", expr: "${{ 1 | modulo: 0 }}", want: nil},
		{name: "date value exported as ISO", expr: "${{ now }}", want: "2026-01-01T10:00:00.000Z"},
		{name: "non-output template", expr: "{% if true %}foo{% endif %}", err: "The provided expression is invalid. Got: {% if true %}foo{% endif %}."},
		{name: "multi-node template", expr: `{{ "foo" }} {{ "bar" }}`, err: `The provided expression is invalid. Got: {{ "foo" }} {{ "bar" }}.`},
		{name: "two expressions", expr: "${{ a }} ${{ b }}", err: "The provided expression is invalid. Got: {{ a }} ${{ b }}."},
		{name: "unknown filter", expr: "${{ a | nope }}", err: "The provided expression is invalid. Got: {{ a | nope }}."},
		{name: "unsupported tag", expr: "${{ a }}{% render 'x' %}}}", err: "Template contains unsupported tags."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.Evaluate(tc.expr, ctx)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("Evaluate(%q) = %#v, %v; want error %q", tc.expr, got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Evaluate(%q): %v", tc.expr, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Evaluate(%q) = %#v, want %#v", tc.expr, got, tc.want)
			}
		})
	}
}

func TestRenderRecursion(t *testing.T) {
	e := newTestEngine()
	ctx := map[string]any{"user": map[string]any{"name": "Alice", "age": 30.0, "tag1": "admin", "tag2": "editor",
		"address": map[string]any{"street": "123 Main St", "city": "Wonderland"}}}
	in := map[string]any{
		"message": "Hello, {{user.name}}!",
		"details": map[string]any{"age": "{{user.age}}", "address": "{{user.address.street}}, {{user.address.city}}"},
		"tags":    []any{"{{user.tag1}}", "{{user.tag2}}"},
		"{{key}}": "static",
		"typed":   "${{ user.age }}",
		"dollar":  "Total: ${{ user.age }}",
	}
	got, err := e.Render(in, ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"message": "Hello, Alice!",
		"details": map[string]any{"age": "30", "address": "123 Main St, Wonderland"},
		"tags":    []any{"admin", "editor"},
		"{{key}}": "static",
		"typed":   30.0,
		"dollar":  "Total: $30",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Render = %#v\nwant %#v", got, want)
	}
	if v, _ := e.Render(nil, ctx); v != nil {
		t.Fatalf("Render(nil) = %#v", v)
	}
	if v, _ := e.Render([]string{"{{ user.name }}"}, ctx); !reflect.DeepEqual(v, []any{"Alice"}) {
		t.Fatalf("Render([]string) = %#v", v)
	}
}

func TestIsExpressionAndContainsTemplate(t *testing.T) {
	for s, want := range map[string]bool{
		"${{ a }}": true, " ${{ a }}": false, "${{ a }} ": false, "{{ a }}": false, "${{a}}x": false,
	} {
		if IsExpression(s) != want {
			t.Errorf("IsExpression(%q) != %v", s, want)
		}
	}
	for s, want := range map[string]bool{"{{ a }}": true, "{% if %}": true, "plain": false, "{ {": false} {
		if ContainsTemplate(s) != want {
			t.Errorf("ContainsTemplate(%q) != %v", s, want)
		}
	}
}

func TestCheck(t *testing.T) {
	e := newTestEngine()
	cases := []struct {
		in  string
		err string
	}{
		{"plain text", ""},
		{"{{ a | upcase }}", ""},
		{"${{ a | split: ',' }}", ""},
		{"{{ a | nope }}", "undefined filter: nope"},
		{"${{ a | nope }}", "The provided expression is invalid"},
		{"${{ a }} ${{ b }}", "The provided expression is invalid. Got: {{ a }} ${{ b }}."},
		{"{% include 'x' %}", "Template contains unsupported tags."},
		{"{% tablerow x in y %}{% endtablerow %}", `tag "tablerow" not found`},
		{"{% if a %}", "not closed"},
	}
	for _, tc := range cases {
		err := e.Check(tc.in)
		if tc.err == "" {
			if err != nil {
				t.Errorf("Check(%q) = %v, want nil", tc.in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("Check(%q) = %v, want %q", tc.in, err, tc.err)
		}
	}
}

func TestLimits(t *testing.T) {
	e := New(Options{Now: func() time.Time { return fixedNow }, MemoryLimit: 100, RenderLimit: time.Millisecond})
	arr := make([]any, 1000)
	for i := range arr {
		arr[i] = 0.0
	}
	ctx := map[string]any{"array": arr}
	cases := []struct {
		tpl, want, err string
	}{
		{tpl: "{{ array | slice: 0, 3 | join }}", want: "0 0 0"},
		{tpl: "{{ array | slice: 0, 300 | join }}", err: "memory alloc limit exceeded"},
		{tpl: "{{ array | pop | size }}", err: "memory alloc limit exceeded"},
		{tpl: "{%- for i in (1..50) -%}{%- endfor -%}", want: ""},
		{tpl: "{% for i in (1..90) %}{% for j in (1..90) %}{{ j }}{% endfor %}{% endfor %}", err: "memory alloc limit exceeded"},
	}
	for _, tc := range cases {
		got, err := e.RenderString(tc.tpl, ctx)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("RenderString(%q) = %q, %v; want error %q", tc.tpl, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("RenderString(%q) = %q, %v; want %q", tc.tpl, got, err, tc.want)
		}
	}
	// Render limit: work is counted, so a loop with no allocation still stops.
	big := New(Options{Now: func() time.Time { return fixedNow }, MemoryLimit: 1e9, RenderLimit: time.Millisecond})
	if _, err := big.RenderString("{%- for i in (1..5000000) -%}{{ i }}{%- endfor -%}", nil); err == nil || err.Error() != "template render limit exceeded" {
		t.Errorf("render limit: got %v", err)
	}
	// Default engine: parse limit counts characters.
	def := newTestEngine()
	if _, err := def.RenderString(strings.Repeat("x", 150000), nil); err != nil {
		t.Errorf("150000 chars should parse: %v", err)
	}
	if _, err := def.RenderString(strings.Repeat("x", 150001), nil); err == nil || err.Error() != "parse length limit exceeded" {
		t.Errorf("150001 chars: %v", err)
	}
}

func TestMapIterationIsDeterministic(t *testing.T) {
	e := newTestEngine()
	obj := map[string]any{}
	for _, k := range []string{"z", "m", "a", "q", "c", "x", "b"} {
		obj[k] = k
	}
	ctx := map[string]any{"o": obj}
	for i := 0; i < 20; i++ {
		got, err := e.RenderString("{% for p in o %}{{ p[0] }}{% endfor %}|{{ o | json }}|{% assign e = o | entries %}{% for x in e %}{{ x.key }}{% endfor %}", ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := `abcmqxz|{"a":"a","b":"b","c":"c","m":"m","q":"q","x":"x","z":"z"}|abcmqxz`
		if got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

func TestOutputLimit(t *testing.T) {
	e := New(Options{Now: func() time.Time { return fixedNow }, OutputLimit: 100, RenderLimit: time.Millisecond})
	ctx := map[string]any{"long": strings.Repeat("s", 200), "short": "ok"}
	cases := []struct {
		name  string
		value any
		want  any
		over  bool
	}{
		{name: "exactly at the limit", value: "{% for i in (1..10) %}AAAAAAAAAA{% endfor %}", want: strings.Repeat("A", 100)},
		{name: "one byte over", value: "{% for i in (1..10) %}AAAAAAAAAA{% endfor %}!", over: true},
		{name: "stops early instead of hitting the render limit", value: "{% for i in (1..1000000) %}A{% endfor %}", over: true},
		{name: "one output over", value: "{{ long }}", over: true},
		{name: "text with a tag over", value: strings.Repeat("t", 101) + "{{ short }}", over: true},
		{name: "text without tags is not rendered", value: strings.Repeat("t", 101), want: strings.Repeat("t", 101)},
		{name: "raw text over", value: "{% raw %}" + strings.Repeat("t", 101) + "{% endraw %}", over: true},
		{name: "capture over", value: "{% capture x %}{{ long }}{% endcapture %}{{ short }}", over: true},
		{name: "bytes, not characters", value: "{{ short }}" + strings.Repeat("é", 50), over: true},
		{name: "typed expression is not text", value: "${{ long }}", want: strings.Repeat("s", 200)},
		{name: "each string of an object on its own", value: map[string]any{"a": "{{ short }}", "b": []any{"{{ long }}"}}, over: true},
		{name: "object under the limit per string", value: map[string]any{"a": strings.Repeat("a", 90), "b": strings.Repeat("b", 90)},
			want: map[string]any{"a": strings.Repeat("a", 90), "b": strings.Repeat("b", 90)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.Render(tc.value, ctx)
			if tc.over {
				var le *OutputLimitError
				if !errors.As(err, &le) || le.Limit != 100 {
					t.Fatalf("Render = %v, %v; want *OutputLimitError{100}", got, err)
				}
				if strings.Contains(err.Error(), "AAA") || strings.Contains(err.Error(), "sss") {
					t.Errorf("error %q shows rendered content", err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Render = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	// Without OutputLimit the same loop runs into the render limit: the
	// output limit is what stopped it above.
	unl := New(Options{Now: func() time.Time { return fixedNow }, RenderLimit: time.Millisecond})
	if _, err := unl.RenderString("{% for i in (1..1000000) %}A{% endfor %}", nil); err == nil || err.Error() != msgRenderLimit {
		t.Errorf("no output limit: got %v, want the render limit", err)
	}
}
