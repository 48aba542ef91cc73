package kql

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// fakeNow is the clock of Kibana's eval_kql tests.
var fakeNow = time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC)

type evalCase struct {
	kql  string
	ctx  map[string]any
	want bool
}

func runEvalCases(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, c := range cases {
		got, err := Eval(c.kql, c.ctx, fakeNow)
		if err != nil {
			t.Errorf("Eval(%q, %v): unexpected error %v", c.kql, c.ctx, err)
			continue
		}
		if got != c.want {
			t.Errorf("Eval(%q, %v) = %v, want %v", c.kql, c.ctx, got, c.want)
		}
	}
}

func obj(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// TestTruthTable is §5.3 of the semantics spec (Kibana's eval_kql tests),
// [newer] column.
func TestTruthTable(t *testing.T) {
	user := func(name string) map[string]any { return obj("user", obj("name", name)) }
	runEvalCases(t, []evalCase{
		{`status: active`, obj("status", "active"), true},
		{`status: active`, obj("status", "inactive"), false},
		{`user.info.name: "Joe Doe"`, obj("user", obj("info", obj("name", "Joe Doe"))), true},
		{`user.info.name: "Joe Doe"`, obj("user", obj("info", obj("name", "Jane Doe"))), false},
		{`isActive: true`, obj("isActive", true), true},
		{`isActive: true`, obj("isActive", false), false},
		{`matchesCount: 2339`, obj("matchesCount", 2339.0), true},
		{`matchesCount: 2339`, obj("matchesCount", 0.0), false},
		{`user: "John Doe"`, obj("user", obj("name", "Jane Doe")), false},
		{`matchesCount >= 1000 and matchesCount <= 5000`, obj("matchesCount", 2339.0), true},
		{`matchesCount >= 1000 and matchesCount <= 5000`, obj("matchesCount", 999.0), false},
		{`matchesCount >= 1000 and matchesCount <= 5000`, obj("matchesCount", 5001.0), false},
		{`matchesCount <= 1000`, obj("matchesCount", 1000.0), true},
		{`matchesCount <= 1000`, obj("matchesCount", 999.0), true},
		{`matchesCount <= 1000`, obj("matchesCount", 1001.0), false},
		{`matchesCount > 1000`, obj("matchesCount", 1001.0), true},
		{`matchesCount > 1000`, obj("matchesCount", 1000.0), false},
		{`matchesCount < 1000`, obj("matchesCount", 999.0), true},
		{`matchesCount < 1000`, obj("matchesCount", 1000.0), false},
		{`user < 90`, obj("user", obj("name", "Jane Doe")), false},
		{`matchesCount:*`, obj("matchesCount", 2339.0), true},
		{`matchesCount:*`, obj("matchesCount", obj("someObject", "foo")), true},
		{`matchesCount:*`, obj("matchesCount", nil), false},
		{`matchesCount:*`, obj("nothing", 0.0), false},
		// Unquoted wildcards.
		{`user.name: John*`, user("John Doe"), true},
		{`user.name: John*`, user("Jane Doe"), false},
		{`user.name: *Doe`, user("John Doe"), true},
		{`user.name: *Doe`, user("John Smith"), false},
		{`txt: *psu*`, obj("txt", "Lorem ipsum dolor"), true},
		{`txt: *psu*`, obj("txt", "Lorem ipsm dolor"), false},
		{`user.name: J*n Doe`, user("John Doe"), true},
		{`user.name: J*n Doe`, user("Jane Doe"), false},
		{`user.name: J*n D*`, user("John Doe"), true},
		{`user.name: J*n D*`, user("Jane Doe"), false},
		{`user.info: *John*`, obj("user", obj("info", "Lorem ipsum John Doe")), true},
		{`user.info: *John*`, obj("user", obj("info", "Lorem ipsum Jane Doe")), false},
		// Quoted values: `*` is a wildcard (semantics §5.3, C14), a
		// backslash stays a backslash.
		{`user.name: "John*"`, user("John Doe"), true},
		{`user.name: "John*"`, user("Jane Doe"), false},
		{`user.name:"John*"`, user("John*"), true},
		{`txt: "*psu*"`, obj("txt", "Lorem ipsum dolor"), true},
		{`txt: "*psu*"`, obj("txt", "Lorem ipsm dolor"), false},
		{`inputs.name: "John D*"`, obj("inputs", obj("name", "John Doe")), true},
		{`inputs.name: "J??n D*"`, obj("inputs", obj("name", "John Doe")), false},
		{`user.name:"John\*"`, user("John*"), false},
		{`user.name:"John\*"`, user("John Doe"), false},
		{`user.name:"John\*"`, user(`John\*`), true},
		{`user.name: "exact value"`, user("exact value"), true},
		{`user.name: John\*`, user("John*"), true},
		{`user.name: John\*`, user("John Doe"), false},
		// [newer] `?` is an ordinary character.
		{`user.name: "J??n Doe"`, user("John Doe"), false},
		{`user.name: "J??n Doe"`, user("Jane Doe"), false},
		{`user.name: J??n*`, user("John Doe"), false},
		{`user.name: J??n*`, user("J??n Doe"), true},
		// Logic.
		{`status: active or status: inactive`, obj("status", "inactive"), true},
		{`status: active or status: inactive`, obj("status", "pending"), false},
		{`not status: inactive`, obj("status", "active"), true},
		{`not status: inactive`, obj("status", "inactive"), false},
		{`status: active and (isActive: true or isActive: false)`, obj("status", "active", "isActive", true), true},
		{`status: active and (isActive: true or isActive: false)`, obj("status", "active", "isActive", false), true},
		{`status: active and (isActive: true or isActive: false)`, obj("status", "inactive", "isActive", true), false},
		{`status: active and isActive: true`, obj("status", "active", "isActive", true), true},
		{`status: active and isActive: true`, obj("status", "inactive", "isActive", true), false},
		{`data.host.name: "admin-console.prod.001"`, obj("data", obj("host", obj("name", "admin-console.prod.001"))), true},
		{`data.host.name: "admin-console.prod.001"`, obj("data", obj("host", obj("name", "other-host"))), false},
	})
}

func TestSyntaxErrors(t *testing.T) {
	// Messages are Kibana's (kuery_syntax_error.test.ts).
	cases := []struct{ kql, msg string }{
		{`response:`, `Expected "(", "{", value, whitespace but end of input found.` + "\nresponse:\n---------^"},
		{`response:200 or `, `Expected "(", NOT, field name, value but end of input found.` + "\nresponse:200 or \n----------------^"},
		{`response:(200 or )`, `Expected "(", NOT, value but ")" found.` + "\nresponse:(200 or )\n-----------------^"},
		{`response:200 and not `, `Expected "(", field name, value but end of input found.` + "\nresponse:200 and not \n---------------------^"},
		{`response:(200 and not )`, `Expected "(", value but ")" found.` + "\nresponse:(200 and not )\n----------------------^"},
		{`foo:"ba `, `Expected "(", "{", value, whitespace but """ found.` + "\nfoo:\"ba \n----^"},
		{`foo:"ba "r"`, `Expected AND, OR, end of input but "r" found.` + "\nfoo:\"ba \"r\"\n---------^"},
		{`foo:ba:r`, `Expected AND, OR, end of input but ":" found.` + "\nfoo:ba:r\n------^"},
		{`foo > `, `Expected literal, whitespace but end of input found.` + "\nfoo > \n------^"},
		{`< 1000`, `Expected "(", NOT, end of input, field name, value, whitespace but "<" found.` + "\n< 1000\n^"},
	}
	for _, c := range cases {
		_, err := Parse(c.kql)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) error = %v, want *SyntaxError", c.kql, err)
			continue
		}
		if se.Error() != c.msg {
			t.Errorf("Parse(%q) error =\n%s\nwant\n%s", c.kql, se.Error(), c.msg)
		}
		if se.Query != c.kql {
			t.Errorf("Parse(%q) SyntaxError.Query = %q", c.kql, se.Query)
		}
	}
	for _, bad := range []string{`invalid "kql`, `invalid ::::`, `a <> 5`, `(a: b`, `a: (b or c`, `message: cannot find`, `a:b)`, `\x: 1`, `a: not x`} {
		if _, err := Eval(bad, nil, fakeNow); err == nil {
			t.Errorf("Eval(%q) = nil error, want syntax error", bad)
		} else if _, ok := err.(*SyntaxError); !ok {
			t.Errorf("Eval(%q) error %T, want *SyntaxError", bad, err)
		}
	}
}

// TestNotKQLIsFalse: free text, `==`/`!=`/`=` and nested queries are
// false, never an error (§5.2, §5.4, C17).
func TestNotKQLIsFalse(t *testing.T) {
	ctx := obj("inputs", obj("n", 5.0), "a", 5.0, "items", []any{obj("x", 1.0)})
	runEvalCases(t, []evalCase{
		{`inputs.n == 5`, ctx, false},
		{`inputs.n != 5`, ctx, false},
		{`inputs.n = 5`, ctx, false},
		{`hello world`, ctx, false},
		{`items:{ x: 1 }`, ctx, false},
		{``, ctx, false},
		{`   `, ctx, false},
		// Free text reads the context key "null", as Kibana does.
		{`hello`, obj("null", "hello"), true},
		{`not inputs.n == 5`, ctx, true},
	})
}

// TestConditionCases covers C12–C15, C17 and C19 against an `inputs`/`steps`
// context.
func TestConditionCases(t *testing.T) {
	in := func(kv ...any) map[string]any { return obj("inputs", obj(kv...), "steps", obj()) }
	runEvalCases(t, []evalCase{
		// C12
		{`inputs.status: active`, in("status", "active"), true},
		{`inputs.status: active`, in("status", "inactive"), false},
		// C13
		{`inputs.count >= 1000 and inputs.count <= 5000`, in("count", 2339.0), true},
		{`inputs.count >= 1000 and inputs.count <= 5000`, in("count", 999.0), false},
		{`inputs.count >= 1000 and inputs.count <= 5000`, in("count", 5001.0), false},
		// C14: quoted `*` is a wildcard, `?` is not
		{`inputs.name: John D*`, in("name", "John Doe"), true},
		{`inputs.name: John D*`, in("name", "Jane Doe"), false},
		{`inputs.name: "John D*"`, in("name", "John Doe"), true},
		{`inputs.name: "J??n D*"`, in("name", "John Doe"), false},
		{`inputs.name: J??n D*`, in("name", "John Doe"), false},
		{`inputs.name: John\*`, in("name", "John*"), true},
		{`inputs.name: John\*`, in("name", "John Doe"), false},
		{`inputs.name: "John\*"`, in("name", "John*"), false},
		{`inputs.name: "John\*"`, in("name", "John Doe"), false},
		{`inputs.count:*`, in("count", 0.0), true},
		{`inputs.count:*`, in("other", 0.0), false},
		// C15
		{`steps.nothing.output.x: 1`, in(), false},
		// C17
		{`inputs.n == 5`, in("n", 5.0), false},
		// C19
		{`inputs.tags: prod`, in("tags", []any{"dev", "prod"}), true},
		{`inputs.tags: prod`, in("tags", []any{"dev", "staging"}), false},
		{`inputs.items.status: open`, in("items", []any{obj("status", "closed"), obj("status", "open")}), true},
		{`inputs.items.status: pending`, in("items", []any{obj("status", "closed"), obj("status", "open")}), false},
	})
}

func TestPaths(t *testing.T) {
	users := obj("users", []any{obj("name", "Alice"), obj("name", "Bob")})
	items := obj("event", obj("items", []any{
		obj("status", "open", "labels", []any{"urgent", "billing"}),
		obj("status", "closed", "labels", []any{"archived"}),
	}))
	runEvalCases(t, []evalCase{
		{`users[0].name: "Alice"`, users, true},
		{`users[1].name: "Alice"`, users, false},
		{`users.0.name: "Alice"`, users, true},
		{`users.1.name: Bob`, users, true},
		{`users['1'].name: Bob`, users, true},
		{`users.name: Bob`, users, true},
		{`users.5.name: Bob`, users, false}, // out of range index fans out to key "5"
		{`"a[\"x-y\"]": 1`, obj("a", obj("x-y", 1.0)), true},
		{`a['x-y']: 1`, obj("a", obj("x-y", 1.0)), true},
		{`a[\"x-y\"]: 1`, obj("a", obj("x-y", 1.0)), true},
		{`event.items.status: "open"`, items, true},
		{`event.items.status: "closed"`, items, true},
		{`event.items.status: "pending"`, items, false},
		{`event.items.labels: "urgent"`, items, true},
		{`event.items.labels: "archived"`, items, true},
		{`event.items.status: "open" AND NOT event.items.labels: "spam"`, items, true},
		{`event.items.status: "open" AND NOT event.items.labels: "spam"`,
			obj("event", obj("items", []any{obj("status", "open", "labels", []any{"spam"})})), false},
		{`event.record.type: "widget" AND event.record.tags: "featured"`,
			obj("event", obj("record", obj("type", "widget", "tags", []any{"featured", "homepage"}))), true},
		{`event.record.type: "widget" AND event.record.tags: "featured"`,
			obj("event", obj("record", obj("type", "widget", "tags", []any{"homepage"}))), false},
		// Stepping into scalars or null is "missing", never an error.
		{`output.value: true`, obj("output", "hello"), false},
		{`output.value: true`, obj("output", 42.0), false},
		{`output.value: true`, obj("output", true), false},
		{`steps.x.output.field: "y"`, obj("steps", obj("x", obj())), false},
		{`steps.x.output.field: "y"`, obj("steps", obj("x", obj("output", nil))), false},
		{`output.value.deeper > 5`, obj("output", "hello"), false},
		{`not output.value.deeper > 5`, obj("output", "hello"), true},
		// Arrays of arrays are flattened across a fan-out.
		{`a.b: 3`, obj("a", []any{obj("b", []any{1.0, 2.0}), obj("b", []any{3.0})}), true},
		{`a.b >= 3`, obj("a", []any{obj("b", []any{1.0, 2.0}), obj("b", []any{3.0})}), true},
		// Other Go container types are read too.
		{`tags: b`, obj("tags", []string{"a", "b"}), true},
		{`m.k: v`, obj("m", map[string]string{"k": "v"}), true},
		{`rows.id: 2`, obj("rows", []map[string]any{{"id": 1}, {"id": 2}}), true},
	})
}

// TestLength is the project decision: a final `length` segment on an array
// or string is its length, before any fan-out.
func TestLength(t *testing.T) {
	rows := obj("steps", obj("q", obj("output", obj("values", []any{[]any{"a", 1.0}, []any{"b", 2.0}}))))
	runEvalCases(t, []evalCase{
		{`steps.q.output.values.length > 0`, rows, true},
		{`steps.q.output.values.length: 2`, rows, true},
		{`steps.q.output.values.length > 2`, rows, false},
		{`steps.q.output.values.length > 0`, obj("steps", obj("q", obj("output", obj("values", []any{})))), false},
		{`steps.q.output.values.length: 0`, obj("steps", obj("q", obj("output", obj("values", []any{})))), true},
		{`name.length: 5`, obj("name", "hello"), true},
		{`name.length: 2`, obj("name", "😀"), true}, // UTF-16 code units, as JavaScript
		{`o.length: 7`, obj("o", obj("length", 7.0)), true},
		{`o.length: *`, obj("o", obj()), false},
		{`items.name.length >= 5`, obj("items", []any{obj("name", "abc"), obj("name", "abcde")}), true},
		{`items.name.length >= 6`, obj("items", []any{obj("name", "abc"), obj("name", "abcde")}), false},
	})
}

func TestCoercion(t *testing.T) {
	runEvalCases(t, []evalCase{
		{`n: 2339`, obj("n", 2339), true},        // Go int
		{`n: 2339`, obj("n", int64(2339)), true}, // int64
		{`n: 2339`, obj("n", json.Number("2339")), true},
		{`n: 2339.0`, obj("n", 2339.0), true},
		{`n: 2339abc`, obj("n", 2339.0), true}, // parseFloat prefix
		{`n: abc`, obj("n", 0.0), false},       // NaN
		{`n: "5"`, obj("n", 5.0), true},
		{`s: 5`, obj("s", "5"), true},
		{`s: 5.0`, obj("s", "5"), false}, // strings compare as strings
		{`b: "true"`, obj("b", true), true},
		{`b: yes`, obj("b", true), false},
		{`b: yes`, obj("b", false), true}, // "yes" == "true" is false
		{`x: null`, obj("x", "null"), true},
		{`x: null`, obj("x", nil), false},
		{`x: *`, obj("x", ""), true},
		{`x: *`, obj("x", nil), false},
		{`x: *`, obj("x", []any{}), false},
		{`x: *`, obj("x", []any{nil}), false},
		{`tags: *`, obj("tags", []any{"production", "critical"}), true},
		{`tags: "production"`, obj("tags", []any{}), false},
		{`tags: prod*`, obj("tags", []any{"production", "critical"}), true},
		{`n: 23*`, obj("n", 2339.0), true},
		{`n: foo*`, obj("n", 5.0), false},
		{`n: tr*`, obj("n", true), true},
		{`n: foo*`, obj("n", true), false},
		{`n: 1e*`, obj("n", 1e21), true}, // String(1e21) is "1e+21"
		{`scores >= 10`, obj("scores", []any{1.0, 5.0, 12.0}), true},
		{`scores >= 10`, obj("scores", []any{1.0, 5.0, 7.0}), false},
		{`scores >= 10`, obj("scores", []any{}), false},
		{`name > m`, obj("name", "n"), true},
		{`name > m`, obj("name", "M"), false}, // lexicographic
		{`b > false`, obj("b", true), true},
		{`b >= true`, obj("b", false), false},
		{`x > 1`, obj("x", nil), false},
		{`x: "John Doe"`, obj("x", obj("name", "John Doe")), false},
		// Case-insensitive keywords, escaped keywords and unicode escapes.
		{`a: 1 AND b: 2`, obj("a", 1.0, "b", 2.0), true},
		{`a: 3 Or b: 2`, obj("a", 1.0, "b", 2.0), true},
		{`NOT a: 3`, obj("a", 1.0), true},
		{`a: (1 or 3)`, obj("a", 3.0), true},
		{`a: (1 or 3)`, obj("a", 2.0), false},
		{`a: (x and y)`, obj("a", []any{"x", "y"}), true},
		{`a: (x and not y)`, obj("a", []any{"x", "y"}), false},
		{`a: (not x)`, obj("a", "y"), true},
		{`a: foo \or bar`, obj("a", "foo or bar"), true},
		{`a: \u0041`, obj("a", "A"), true},
		{`a: tab\there`, obj("a", "tab\there"), true},
		{`a: "q\"uote"`, obj("a", `q"uote`), true},
		{`a: colon\:value`, obj("a", "colon:value"), true},
		{`message: foo bar`, obj("message", "foo bar"), true},
	})
}

func TestDateMath(t *testing.T) {
	runEvalCases(t, []evalCase{
		{`timestamp: now`, obj("timestamp", "2025-01-15T12:00:00.000Z"), true},
		{`timestamp: now-1d`, obj("timestamp", "2025-01-14T12:00:00.000Z"), true},
		{`timestamp: now-1d`, obj("timestamp", "2020-01-01T00:00:00.000Z"), false},
		{`timestamp: "2025-01-01T00:00:00.000Z||+1d"`, obj("timestamp", "2025-01-02T00:00:00.000Z"), true},
		{`timestamp: "2025-01-01T00:00:00.000Z||+1d"`, obj("timestamp", "2025-01-01T00:00:00.000Z"), false},
		{`timestamp: now+1h`, obj("timestamp", "2025-01-15T13:00:00.000Z"), true},
		{`timestamp: now/d`, obj("timestamp", "2025-01-15T00:00:00.000Z"), true},
		{`timestamps: now-1d`, obj("timestamps", []any{"2020-01-01T00:00:00.000Z", "2025-01-14T12:00:00.000Z"}), true},
		{`timestamp >= now-7d`, obj("timestamp", "2025-01-10T00:00:00.000Z"), true},
		{`timestamp >= now-7d`, obj("timestamp", "2025-01-01T00:00:00.000Z"), false},
		{`now-7d >= timestamp`, obj("timestamp", "2025-01-01T00:00:00.000Z"), false},
		{`timestamp < now`, obj("timestamp", "2025-01-14T00:00:00.000Z"), true},
		{`timestamp < now`, obj("timestamp", "2025-01-16T00:00:00.000Z"), false},
		{`timestamp >= now-7d and timestamp <= now`, obj("timestamp", "2025-01-10T00:00:00.000Z"), true},
		{`timestamp >= now-7d and timestamp <= now`, obj("timestamp", "2025-01-16T00:00:00.000Z"), false},
		{`timestamp >= now/d`, obj("timestamp", "2025-01-20T00:00:00.000Z"), true},
		{`timestamp >= now-7d/d`, obj("timestamp", "2025-01-10T00:00:00.000Z"), true},
		{`timestamp > now-7d`, obj("timestamp", "2025-01-08T12:00:00.000Z"), false},
		{`timestamp <= now`, obj("timestamp", "2025-01-15T12:00:00.000Z"), true},
		{`@timestamp >= now-1h`, obj("@timestamp", "2025-01-15T11:30:00.000Z"), true},
		{`@timestamp >= now-1h`, obj("@timestamp", "2025-01-15T10:30:00.000Z"), false},
		{`label: now-invalidunit`, obj("label", "now-invalidunit"), true},
		{`label: nowhere`, obj("label", "nowhere"), true},
		{`date: "2025-01-15T12:00:00.000Z"`, obj("date", "2025-01-15T12:00:00.000Z"), true},
		// Date math applies only to strings; numbers parse the literal.
		{`n: now`, obj("n", 1.0), false},
	})
	resolved := []struct{ expr, want string }{
		{"now", "2025-01-15T12:00:00.000Z"},
		{"now-1h", "2025-01-15T11:00:00.000Z"},
		{"now-1d/d", "2025-01-14T00:00:00.000Z"},
		{"now/w", "2025-01-12T00:00:00.000Z"}, // Sunday
		{"now/M", "2025-01-01T00:00:00.000Z"},
		{"now/y", "2025-01-01T00:00:00.000Z"},
		{"now+1M", "2025-02-15T12:00:00.000Z"},
		{"now-1y", "2024-01-15T12:00:00.000Z"},
		{"now-90m", "2025-01-15T10:30:00.000Z"},
		{"now-30s", "2025-01-15T11:59:30.000Z"},
		{"now+500ms", "2025-01-15T12:00:00.500Z"},
		{"now-1w", "2025-01-08T12:00:00.000Z"},
		{"now-d", "2025-01-14T12:00:00.000Z"},
		{"2024-01-31||+1M", "2024-02-29T00:00:00.000Z"},
		{"2024-02-29||+1y", "2025-02-28T00:00:00.000Z"},
		{"2025-01-01T10:00:00+02:00||/h", "2025-01-01T08:00:00.000Z"},
		{"2025-01-01||", "2025-01-01T00:00:00.000Z"},
	}
	for _, r := range resolved {
		got, ok := parseDateMath(r.expr, fakeNow)
		if !ok || isoString(got) != r.want {
			t.Errorf("parseDateMath(%q) = %s, %v; want %s", r.expr, isoString(got), ok, r.want)
		}
	}
	for _, bad := range []string{"now-1", "now/2d", "now-1x", "now-", "now+", "now1d", "2025-13-01||+1d", "garbage||+1d", "now-1d-"} {
		if got, ok := parseDateMath(bad, fakeNow); ok {
			t.Errorf("parseDateMath(%q) = %s, want invalid", bad, isoString(got))
		}
	}
}

func TestEqualityOperators(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{`inputs.n == 5`, []string{"=="}},
		{`a != 1 and b = 2`, []string{"!=", "="}},
		{`a: "x == y"`, nil},
		{`a >= 1 and b <= 2`, nil},
		{`${{ inputs.n == 5 }}`, nil},
		{`{{ a != b }}: x and c == 1`, []string{"=="}},
		{`a: x\=y`, nil},
		{`a === 1`, []string{"=="}},
		{`status: active`, nil},
	}
	for _, c := range cases {
		got := EqualityOperators(c.in)
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("EqualityOperators(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestJSNumbers(t *testing.T) {
	cases := map[float64]string{
		5: "5", 3.14: "3.14", 1e21: "1e+21", -2: "-2",
		1e-7: "1e-7", 0.000001: "0.000001", 123456789012: "123456789012", 1.5e300: "1.5e+300",
	}
	point1, point2 := 0.1, 0.2
	cases[point1+point2] = "0.30000000000000004"
	for f, want := range cases {
		if got := jsNumberString(f); got != want {
			t.Errorf("jsNumberString(%v) = %q, want %q", f, got, want)
		}
	}
	floats := map[string]float64{"12abc": 12, "  3": 3, "1e3": 1000, ".5": 0.5, "-1.5e-1x": -0.15, "Infinity": math.Inf(1), "1e999": math.Inf(1)}
	for s, want := range floats {
		if got := jsParseFloat(s); got != want {
			t.Errorf("jsParseFloat(%q) = %v, want %v", s, got, want)
		}
	}
	for _, s := range []string{"", "abc", ".", "-", "e5"} {
		if got := jsParseFloat(s); got == got {
			t.Errorf("jsParseFloat(%q) = %v, want NaN", s, got)
		}
	}
}

// TestQueryReuse: a parsed query evaluates many contexts, concurrently.
func TestQueryReuse(t *testing.T) {
	q, err := Parse(`a: (x or y) and b > 2`)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan bool)
	for i := 0; i < 4; i++ {
		go func() {
			ok := true
			for j := 0; j < 200; j++ {
				ok = ok && q.Eval(obj("a", "y", "b", 3.0), fakeNow) && !q.Eval(obj("a", "z", "b", 3.0), fakeNow)
			}
			done <- ok
		}()
	}
	for i := 0; i < 4; i++ {
		if !<-done {
			t.Error("concurrent evaluation gave a wrong answer")
		}
	}
	if q.String() != `a: (x or y) and b > 2` {
		t.Errorf("String() = %q", q.String())
	}
}

// TestConditionAlgorithmKQLSide documents what reaches KQL in C16/C18: the
// "true"/"false" short-circuit lives in the caller (§5.1); given to KQL
// they are free text and false, and a rendered `{{ x }}: completed` looks up
// a key named after the rendered value.
func TestConditionAlgorithmKQLSide(t *testing.T) {
	runEvalCases(t, []evalCase{
		{`true`, obj("inputs", obj()), false},
		{`false`, obj("inputs", obj()), false},
		{`ok: completed`, obj("steps", obj("a", obj("output", obj("status", "ok")))), false},
		{`ok: completed`, obj("ok", "completed"), true},
		{`steps.a.output.status: completed`, obj("steps", obj("a", obj("output", obj("status", "completed")))), true},
		{`not steps.x.error:*`, obj("steps", obj("x", obj("output", 1.0))), true},
		{`not steps.x.error:*`, obj("steps", obj("x", obj("error", obj("message", "boom")))), false},
	})
	_, err := Eval(`invalid ::::`, nil, fakeNow)
	var se *SyntaxError
	if !errors.As(err, &se) || se.Pos != 9 {
		t.Errorf("Eval(invalid ::::) error = %v, want *SyntaxError at 9", err)
	}
}
