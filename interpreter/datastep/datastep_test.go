package datastep

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/secflow/secflow/interpreter/step"
	"github.com/secflow/secflow/interpreter/template"
)

var engine = template.New(template.Options{Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }})

// fakeKQL understands "item.<path>: <value>", "index < N" and reports a
// syntax error for conditions containing "(".
func fakeKQL(cond string, ctx map[string]any) (bool, error) {
	if strings.Contains(cond, "(") {
		return false, errors.New("Expected \")\" but end of input found.")
	}
	if strings.HasPrefix(cond, "index < ") {
		var n float64
		fmt.Sscanf(strings.TrimPrefix(cond, "index < "), "%g", &n)
		return ctx["index"].(float64) < n, nil
	}
	path, want, ok := strings.Cut(cond, ":")
	if !ok {
		return false, errors.New("unsupported condition")
	}
	v, err := engine.Evaluate(strings.TrimSpace(path), ctx)
	if err != nil {
		return false, err
	}
	return template.Stringify(v) == strings.TrimSpace(want), nil
}

type dataCase struct {
	name   string
	typ    string
	config map[string]any
	with   any
	ctx    map[string]any
	want   any
	err    string
}

func runCases(t *testing.T, cases []dataCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Run(Call{Type: tc.typ, With: tc.with, Config: tc.config, Ctx: tc.ctx, R: engine, Cond: fakeKQL})
			if tc.err != "" {
				if err == nil {
					t.Fatalf("Run = %#v, want error containing %q", got, tc.err)
				}
				var se *step.Error
				if !errors.As(err, &se) {
					t.Fatalf("error %T is not a *step.Error", err)
				}
				if !strings.Contains(se.Message, tc.err) {
					t.Fatalf("error message %q does not contain %q", se.Message, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run error: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Run = %#v\nwant  %#v", got, tc.want)
			}
		})
	}
}

func obj(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func TestDataMap(t *testing.T) {
	c40fields := map[string]any{"fields": obj("userId", "${{ item.id }}", "n", "${{ index }}", "src", "api")}
	runCases(t, []dataCase{
		{name: "C40 array", typ: "data.map", config: obj("items", "${{ inputs.u }}"), with: c40fields,
			ctx:  obj("inputs", obj("u", []any{obj("id", 1.0), obj("id", 2.0)})),
			want: []any{obj("userId", 1.0, "n", 0.0, "src", "api"), obj("userId", 2.0, "n", 1.0, "src", "api")}},
		{name: "C40 object", typ: "data.map", config: obj("items", "${{ inputs.u }}"), with: c40fields,
			ctx: obj("inputs", obj("u", obj("id", 1.0))), want: obj("userId", 1.0, "n", 0.0, "src", "api")},
		{name: "C40 empty", typ: "data.map", config: obj("items", "${{ inputs.u }}"), with: c40fields,
			ctx: obj("inputs", obj("u", []any{})), want: []any{}},
		{name: "C40 string fails", typ: "data.map", config: obj("items", "${{ inputs.u }}"), with: c40fields,
			ctx: obj("inputs", obj("u", "str")), err: "Expected items to be an array or object, but received string. Please provide an array or object to map."},
		{name: "number fails", typ: "data.map", config: obj("items", "${{ inputs.u }}"), with: c40fields,
			ctx: obj("inputs", obj("u", 42.0)), err: "Expected items to be an array or object, but received number."},
		{name: "null items", typ: "data.map", config: obj("items", "${{ inputs.nope }}"), with: c40fields,
			ctx: obj("inputs", obj()), err: "Items cannot be null or undefined. Please provide an array or object to map."},
		{name: "{{ }} stringifies", typ: "data.map", config: obj("items", []any{obj("id", 7.0)}),
			with: map[string]any{"fields": obj("id", "{{ item.id }}", "pos", "{{ index }}")}, ctx: obj(),
			want: []any{obj("id", "7", "pos", "0")}},
		{name: "no fields returns items", typ: "data.map", config: obj("items", []any{1.0, 2.0}), ctx: obj(),
			want: []any{1.0, 2.0}},
		{name: "parent context visible", typ: "data.map", config: obj("items", []any{"a"}),
			with: map[string]any{"fields": obj("v", "{{ item }}-{{ consts.suffix }}")}, ctx: obj("consts", obj("suffix", "x")),
			want: []any{obj("v", "a-x")}},
		{name: "nested $map with names", typ: "data.map",
			config: obj("items", []any{obj("name", "n1", "labels", []any{obj("name", "bug"), obj("name", "p1")})}),
			with: map[string]any{"fields": obj(
				"title", "${{ item.name }}",
				"labels", obj("$map", obj("items", "${{ item.labels }}", "item", "label", "index", "i"),
					"name", "${{ label.name }}", "pos", "${{ i }}", "owner", "${{ item.name }}",
					"meta", obj("upper", "{{ label.name | upcase }}")),
			)},
			ctx: obj(),
			want: []any{obj("title", "n1", "labels", []any{
				obj("name", "bug", "pos", 0.0, "owner", "n1", "meta", obj("upper", "BUG")),
				obj("name", "p1", "pos", 1.0, "owner", "n1", "meta", obj("upper", "P1")),
			})}},
		{name: "nested $map default names", typ: "data.map",
			config: obj("items", []any{obj("tags", []any{obj("label", "x")})}),
			with: map[string]any{"fields": obj("tags", obj("$map", obj("items", "${{ item.tags }}"),
				"label", "${{ item.label }}", "position", "${{ index }}"))},
			ctx: obj(), want: []any{obj("tags", []any{obj("label", "x", "position", 0.0)})}},
		{name: "nested $map on non-array gives []", typ: "data.map",
			config: obj("items", []any{obj("tags", nil)}),
			with:   map[string]any{"fields": obj("tags", obj("$map", obj("items", "${{ item.tags }}"), "x", "1"))},
			ctx:    obj(), want: []any{obj("tags", []any{})}},
		{name: "transform.pick", typ: "data.map",
			config: obj("items", []any{obj("a", 1.0, "b", obj("c", 2.0, "d", 3.0))}),
			with:   map[string]any{"fields": obj("a", "${{ item.a }}", "b", "${{ item.b }}"), "transform": obj("pick", []any{"a", "b.c"})},
			ctx:    obj(), want: []any{obj("a", 1.0, "b", obj("c", 2.0))}},
		{name: "template error propagates", typ: "data.map", config: obj("items", []any{1.0}),
			with: map[string]any{"fields": obj("x", "{{ item | nope }}")}, ctx: obj(), err: "undefined filter: nope"},
	})
}

func TestDataMapDepthLimit(t *testing.T) {
	var inner any
	inner = obj("v", "x")
	for i := 0; i < 11; i++ {
		inner = obj("$map", obj("items", "${{ list }}"), "child", inner)
	}
	_, err := Run(Call{Type: "data.map", Config: obj("items", []any{1.0}), With: map[string]any{"fields": obj("root", inner)},
		Ctx: obj("list", []any{1.0}), R: engine})
	if err == nil || !strings.Contains(err.Error(), "Maximum $map nesting depth of 10 exceeded") {
		t.Fatalf("depth 11: got %v", err)
	}
	inner = obj("v", "x")
	for i := 0; i < 10; i++ {
		inner = obj("$map", obj("items", "${{ list }}"), "child", inner)
	}
	if _, err = Run(Call{Type: "data.map", Config: obj("items", []any{1.0}), With: map[string]any{"fields": obj("root", inner)},
		Ctx: obj("list", []any{1.0}), R: engine}); err != nil {
		t.Fatalf("depth 10 should work: %v", err)
	}
}

func TestDataFilterFind(t *testing.T) {
	items := []any{obj("state", "active", "n", 1.0), obj("state", "closed", "n", 2.0), "scalar", obj("state", "active", "n", 3.0)}
	ctx := obj("xs", items)
	runCases(t, []dataCase{
		{name: "filter", typ: "data.filter", config: obj("items", "${{ xs }}"), with: obj("condition", "item.state: active"), ctx: ctx,
			want: []any{items[0], items[3]}},
		{name: "filter limit", typ: "data.filter", config: obj("items", "${{ xs }}"), with: obj("condition", "item.state: active", "limit", 1.0), ctx: ctx,
			want: []any{items[0]}},
		{name: "filter blank condition returns all", typ: "data.filter", config: obj("items", "${{ xs }}"), with: obj("condition", "  "), ctx: ctx,
			want: items},
		{name: "filter index", typ: "data.filter", config: obj("items", "${{ xs }}"), with: obj("condition", "index < 2"), ctx: ctx,
			want: []any{items[0], items[1]}},
		{name: "filter invalid KQL", typ: "data.filter", config: obj("items", "${{ xs }}"), with: obj("condition", "item.state: (a"), ctx: ctx,
			err: "Invalid KQL condition: "},
		{name: "filter non-array", typ: "data.filter", config: obj("items", "x"), with: obj("condition", "a: b"), ctx: ctx,
			err: "Expected items to be an array, but received string. Please provide an array to filter."},
		{name: "find", typ: "data.find", config: obj("items", "${{ xs }}"), with: obj("condition", "item.n: 2"), ctx: ctx,
			want: obj("item", items[1], "index", 1.0)},
		{name: "find none", typ: "data.find", config: obj("items", "${{ xs }}"), with: obj("condition", "item.n: 9"), ctx: ctx,
			want: obj("item", nil, "index", nil)},
		{name: "find none errorIfEmpty", typ: "data.find", config: obj("items", "${{ xs }}"), with: obj("condition", "item.n: 9", "errorIfEmpty", true), ctx: ctx,
			err: "No item matching the condition was found"},
		{name: "find empty condition", typ: "data.find", config: obj("items", "${{ xs }}"), with: obj("condition", ""), ctx: ctx,
			want: obj("item", items[0], "index", 0.0)},
		{name: "find empty collection errorIfEmpty", typ: "data.find", config: obj("items", []any{}), with: obj("condition", "", "errorIfEmpty", true), ctx: ctx,
			err: "No items found in the collection"},
		{name: "find non-array", typ: "data.find", config: obj("items", 5.0), with: obj("condition", "a: b"), ctx: ctx,
			err: "Expected items to be an array, but received number. Please provide an array to search."},
	})
}

func TestDataDedupeConcat(t *testing.T) {
	users := []any{
		obj("id", 1.0, "email", "a@x", "v", "first"),
		obj("id", 2.0, "email", "b@x"),
		obj("id", 3.0, "email", "a@x", "v", "last"),
	}
	ctx := obj("users", users, "a", []any{1.0, 2.0}, "b", []any{2.0, []any{3.0, []any{4.0}}}, "o", obj("k", 1.0))
	runCases(t, []dataCase{
		{name: "dedupe keep_first", typ: "data.dedupe", config: obj("items", "${{ users }}"), with: obj("keys", []any{"email"}), ctx: ctx,
			want: []any{users[0], users[1]}},
		{name: "dedupe keep_last", typ: "data.dedupe", config: obj("items", "${{ users }}", "strategy", "keep_last"), with: obj("keys", []any{"email"}), ctx: ctx,
			want: []any{users[2], users[1]}},
		{name: "dedupe missing keys", typ: "data.dedupe", config: obj("items", "${{ users }}"), with: obj("keys", []any{}), ctx: ctx,
			err: "Keys must be a non-empty array of field names"},
		{name: "dedupe non-array", typ: "data.dedupe", config: obj("items", "${{ o }}"), with: obj("keys", []any{"k"}), ctx: ctx,
			err: "Expected items to be an array, but received object. Please provide an array of items to deduplicate."},
		{name: "dedupe scalars", typ: "data.dedupe", config: obj("items", []any{1.0, "1", 1.0}), with: obj("keys", []any{"x"}), ctx: ctx,
			want: []any{1.0, "1"}},
		{name: "dedupe arrays collapse like JavaScript", typ: "data.dedupe", config: obj("items", []any{[]any{1.0}, []any{2.0}}), with: obj("keys", []any{"x"}), ctx: ctx,
			want: []any{[]any{1.0}}},
		{name: "concat", typ: "data.concat", config: obj("arrays", []any{"${{ a }}", []any{"x"}, "${{ nope }}"}), ctx: ctx,
			want: []any{1.0, 2.0, "x"}},
		{name: "concat dedupe", typ: "data.concat", config: obj("arrays", []any{"${{ a }}", "${{ a }}", []any{obj("k", 1.0), obj("k", 1.0)}}), with: obj("dedupe", true), ctx: ctx,
			want: []any{1.0, 2.0, obj("k", 1.0)}},
		{name: "concat flatten true", typ: "data.concat", config: obj("arrays", []any{"${{ b }}"}), with: obj("flatten", true), ctx: ctx,
			want: []any{2.0, 3.0, []any{4.0}}},
		{name: "concat flatten 2", typ: "data.concat", config: obj("arrays", []any{"${{ b }}"}), with: obj("flatten", 2.0), ctx: ctx,
			want: []any{2.0, 3.0, 4.0}},
		{name: "concat non-array entry", typ: "data.concat", config: obj("arrays", []any{"${{ a }}", "${{ o }}"}), ctx: ctx,
			err: `Input at index 1 is not an array (got object). Each entry in "arrays" must resolve to an array.`},
		{name: "concat empty arrays", typ: "data.concat", config: obj("arrays", []any{}), ctx: ctx,
			err: `"arrays" must be a non-empty array of arrays`},
	})
}

func TestDataAggregate(t *testing.T) {
	items := []any{
		obj("status", "open", "age", 5.0, "sev", 1.0),
		obj("status", "open", "age", 3.0, "sev", 2.0),
		obj("status", "closed", "age", 10.0, "sev", 3.0),
		obj("age", 7.0, "sev", "x"),
	}
	ctx := obj("items", items)
	runCases(t, []dataCase{
		{name: "record metrics (older form)", typ: "data.aggregate", config: obj("items", "${{ items }}"),
			with: obj("group_by", "status", "metrics", obj(
				"count", obj("type", "count", "field", ""),
				"avg_age", obj("type", "avg", "field", "age"),
				"max_sev", obj("type", "max", "field", "sev"))),
			ctx: ctx,
			want: []any{
				obj("status", "open", "count", 2.0, "avg_age", 4.0, "max_sev", 2.0),
				obj("status", "closed", "count", 1.0, "avg_age", 10.0, "max_sev", 3.0),
				obj("status", nil, "count", 1.0, "avg_age", 7.0, "max_sev", nil),
			}},
		{name: "array metrics, order, limit", typ: "data.aggregate", config: obj("items", "${{ items }}"),
			with: obj("group_by", []any{"status"}, "metrics", []any{obj("name", "total", "operation", "sum", "field", "age")},
				"order_by", "total", "order", "desc", "limit", 2.0),
			ctx:  ctx,
			want: []any{obj("status", "closed", "total", 10.0), obj("status", "open", "total", 8.0)}},
		{name: "sort_by asc", typ: "data.aggregate", config: obj("items", "${{ items }}"),
			with: obj("group_by", "status", "metrics", obj("n", obj("type", "count")), "sort_by", "status", "sort_order", "asc"),
			ctx:  ctx,
			want: []any{obj("status", "closed", "n", 1.0), obj("status", "open", "n", 2.0), obj("status", nil, "n", 1.0)}},
		{name: "buckets", typ: "data.aggregate", config: obj("items", "${{ items }}"),
			with: obj("group_by", []any{"status"}, "metrics", []any{obj("name", "n", "operation", "count")},
				"buckets", obj("field", "age", "ranges", []any{obj("to", 5.0), obj("from", 5.0, "label", "old")})),
			ctx: ctx,
			want: []any{
				obj("status", "open", "_bucket", "old", "n", 1.0),
				obj("status", "open", "_bucket", "<5", "n", 1.0),
				obj("status", "closed", "_bucket", "old", "n", 1.0),
				obj("status", nil, "_bucket", "old", "n", 1.0),
			}},
		{name: "empty group_by", typ: "data.aggregate", config: obj("items", "${{ items }}"),
			with: obj("group_by", []any{}, "metrics", obj("n", obj("type", "count"))), ctx: ctx, err: "group_by must be a non-empty"},
		{name: "empty metrics", typ: "data.aggregate", config: obj("items", "${{ items }}"),
			with: obj("group_by", "status", "metrics", obj()), ctx: ctx, err: "metrics must be a non-empty object"},
		{name: "metric without field", typ: "data.aggregate", config: obj("items", "${{ items }}"),
			with: obj("group_by", "status", "metrics", []any{obj("name", "s", "operation", "sum")}), ctx: ctx,
			err: `Metric "s" uses operation "sum" but no field was provided. Only "count" does not require a field.`},
		{name: "non-array", typ: "data.aggregate", config: obj("items", "x"), with: obj(), ctx: ctx,
			err: "Expected items to be an array, but received string."},
		{name: "empty items", typ: "data.aggregate", config: obj("items", []any{}), with: obj(), ctx: ctx, want: []any{}},
	})
}

func TestDataRegex(t *testing.T) {
	ctx := obj("line", "2024-01-15 ERROR Connection failed", "lines", []any{"[INFO] Started", "nope", 5.0, "[ERROR] Failed"},
		"ver", "v1.2.3", "phone", "5551234567", "text", "Error occurred. Another error found.")
	runCases(t, []dataCase{
		{name: "extract named", typ: "data.regexExtract", config: obj("source", "${{ line }}"),
			with: obj("pattern", `^(?<timestamp>\d{4}-\d{2}-\d{2}) (?<level>\w+) (?<msg>.*)$`, "fields", obj("timestamp", "timestamp", "level", "level", "msg", "msg", "x", "missing")),
			ctx:  ctx, want: obj("timestamp", "2024-01-15", "level", "ERROR", "msg", "Connection failed", "x", nil)},
		{name: "extract numbered", typ: "data.regexExtract", config: obj("source", "${{ ver }}"),
			with: obj("pattern", `(\d+)\.(\d+)\.(\d+)`, "fields", obj("major", "$1", "minor", "$2", "patch", "$3", "bad", "$x", "none", "$9")),
			ctx:  ctx, want: obj("major", "1", "minor", "2", "patch", "3", "bad", nil, "none", nil)},
		{name: "extract array", typ: "data.regex_extract", config: obj("source", "${{ lines }}"),
			with: obj("pattern", `\[(?<level>\w+)\] (?<message>.*)`, "fields", obj("level", "level")),
			ctx:  ctx, want: []any{obj("level", "INFO"), nil, nil, obj("level", "ERROR")}},
		{name: "extract global flag carries lastIndex across items", typ: "data.regexExtract", config: obj("source", []any{"a1 b2", "c3", "d4"}),
			with: obj("pattern", `\d`, "fields", obj("n", "$0"), "flags", "g"), ctx: ctx, want: []any{obj("n", "1"), nil, obj("n", "4")}},
		{name: "extract no match null", typ: "data.regexExtract", config: obj("source", "abc"),
			with: obj("pattern", `\d+`, "fields", obj("n", "$0")), ctx: ctx, want: nil},
		{name: "extract errorIfNoMatch", typ: "data.regexExtract", config: obj("source", "abc", "errorIfNoMatch", true),
			with: obj("pattern", `\d+`, "fields", obj("n", "$0")), ctx: ctx,
			err: `Pattern "\d+" did not match the source text. Set errorIfNoMatch to false to return null instead.`},
		{name: "extract case-insensitive", typ: "data.regexExtract", config: obj("source", "ERROR: disk"),
			with: obj("pattern", `error: (.*)`, "fields", obj("error", "$1"), "flags", "i"), ctx: ctx, want: obj("error", "disk")},
		{name: "extract null source", typ: "data.regexExtract", config: obj("source", "${{ nope }}"),
			with: obj("pattern", "a", "fields", obj()), ctx: ctx, err: "Source cannot be null or undefined."},
		{name: "extract wrong source type", typ: "data.regexExtract", config: obj("source", 5.0),
			with: obj("pattern", "a", "fields", obj()), ctx: ctx, err: "Expected source to be a string or array, but received number."},
		{name: "invalid flags", typ: "data.regexExtract", config: obj("source", "a"),
			with: obj("pattern", "a", "fields", obj(), "flags", "x"), ctx: ctx, err: "Invalid regex pattern: a. Invalid flags supplied to RegExp constructor 'x'"},
		{name: "invalid pattern", typ: "data.regexExtract", config: obj("source", "a"),
			with: obj("pattern", "a(", "fields", obj()), ctx: ctx, err: "Invalid regex pattern: a(."},
		{name: "redos rejected", typ: "data.regexReplace", config: obj("source", "a"),
			with: obj("pattern", "(a+)+$", "replacement", "b"), ctx: ctx, err: "nested quantifiers like (a+)+"},
		{name: "pattern too long", typ: "data.regexReplace", config: obj("source", "a"),
			with: obj("pattern", strings.Repeat("a", 10001), "replacement", "b"), ctx: ctx, err: "Pattern exceeds maximum allowed length of 10000 characters."},
		{name: "replace backrefs", typ: "data.regexReplace", config: obj("source", "${{ phone }}"),
			with: obj("pattern", `(\d{3})(\d{3})(\d{4})`, "replacement", "($1) $2-$3"), ctx: ctx, want: "(555) 123-4567"},
		{name: "replace named", typ: "data.regexReplace", config: obj("source", "2024-01-15"),
			with: obj("pattern", `(?<year>\d{4})-(?<month>\d{2})-(?<day>\d{2})`, "replacement", "$<month>/$<day>/$<year>"), ctx: ctx, want: "01/15/2024"},
		{name: "replace first only", typ: "data.regexReplace", config: obj("source", "foo foo"),
			with: obj("pattern", "foo", "replacement", "bar"), ctx: ctx, want: "bar foo"},
		{name: "replace global", typ: "data.regexReplace", config: obj("source", "foo foo"),
			with: obj("pattern", "foo", "replacement", "[$&]$$", "flags", "g"), ctx: ctx, want: "[foo]$ [foo]$"},
		{name: "replace detailed", typ: "data.regex_replace", config: obj("source", "${{ text }}", "detailed", true),
			with: obj("pattern", "error", "replacement", "warning", "flags", "gi"), ctx: ctx,
			want: obj("original", "Error occurred. Another error found.", "replaced", "warning occurred. Another warning found.", "matchCount", 2.0)},
		{name: "replace array with non-strings", typ: "data.regexReplace", config: obj("source", []any{"a1", 5.0, nil}),
			with: obj("pattern", `\d`, "replacement", "#"), ctx: ctx, want: []any{"a#", "5", "null"}},
		{name: "replace empty array", typ: "data.regexReplace", config: obj("source", []any{}),
			with: obj("pattern", `\d`, "replacement", "#"), ctx: ctx, want: []any{}},
	})
}

func TestDataJSON(t *testing.T) {
	ctx := obj("s", `{"a":[1,2],"b":null}`, "o", obj("b", 1.0, "a", []any{"x"}), "bad", `{"a": 1,}`)
	runCases(t, []dataCase{
		{name: "parse string", typ: "data.parseJson", config: obj("source", "${{ s }}"), ctx: ctx,
			want: obj("a", []any{1.0, 2.0}, "b", nil)},
		{name: "parse structured passthrough", typ: "data.parseJson", config: obj("source", "${{ o }}"), ctx: ctx, want: ctx["o"]},
		{name: "parse liquid-built JSON", typ: "data.parseJson", config: obj("source", "[{% for i in (1..3) %}{{ i }}{% unless forloop.last %},{% endunless %}{% endfor %}]"), ctx: ctx,
			want: []any{1.0, 2.0, 3.0}},
		{name: "parse invalid", typ: "data.parseJson", config: obj("source", "${{ bad }}"), ctx: ctx,
			err: "Invalid JSON: Unexpected token '}' in JSON at position 8"},
		{name: "parse truncated", typ: "data.parseJson", config: obj("source", `{"a":`), ctx: ctx,
			err: "Invalid JSON: Unexpected end of JSON input"},
		{name: "parse trailing garbage", typ: "data.parseJson", config: obj("source", `1 2`), ctx: ctx,
			err: "Invalid JSON: Unexpected token '2' in JSON at position 2"},
		{name: "parse null source", typ: "data.parseJson", config: obj("source", "${{ nope }}"), ctx: ctx,
			err: "Source is null or undefined"},
		{name: "stringify", typ: "data.stringifyJson", config: obj("source", "${{ o }}"), ctx: ctx, want: `{"a":["x"],"b":1}`},
		{name: "stringify pretty", typ: "data.stringifyJson", config: obj("source", "${{ o }}"), with: obj("pretty", true), ctx: ctx,
			want: "{\n  \"a\": [\n    \"x\"\n  ],\n  \"b\": 1\n}"},
		{name: "stringify string", typ: "data.stringifyJson", config: obj("source", "a\"b"), ctx: ctx, want: `"a\"b"`},
		{name: "stringify missing source", typ: "data.stringifyJson", config: obj(), ctx: ctx,
			err: "Source cannot be serialized to JSON (e.g., functions)"},
	})
}

func TestRunDispatch(t *testing.T) {
	if _, err := Run(Call{Type: "data.nope", R: engine}); err == nil || !strings.Contains(err.Error(), `unknown data step type "data.nope"`) {
		t.Fatalf("unknown type: %v", err)
	}
	if _, err := Run(Call{Type: "data.map"}); err == nil {
		t.Fatal("missing renderer should fail")
	}
	want := []string{"data.aggregate", "data.concat", "data.dedupe", "data.filter", "data.find", "data.map", "data.parseJson",
		"data.regexExtract", "data.regexReplace", "data.regex_extract", "data.regex_replace", "data.stringifyJson"}
	if got := Types(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Types() = %v", got)
	}
	for _, typ := range Types() {
		if typ == "data.set" {
			t.Fatal("data.set must not be handled here")
		}
	}
}
