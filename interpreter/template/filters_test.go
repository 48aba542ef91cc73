package template

import (
	"reflect"
	"testing"
)

func filterCtx() map[string]any {
	return map[string]any{
		"nums":  []any{3.0, 1.0, 2.0},
		"words": []any{"b", "a", "C"},
		"dups":  []any{1.0, 1.0, 2.0, "1", "a", "a"},
		"holes": []any{1.0, nil, 2.0},
		"users": []any{
			map[string]any{"name": "ann", "role": "admin", "age": 30.0, "active": true},
			map[string]any{"name": "bob", "role": "user", "age": 25.0, "active": false},
			map[string]any{"name": "cid", "role": "admin", "age": 41.0},
		},
		"obj":   map[string]any{"a": 1.0},
		"title": "Ground control to Major Tom.",
		"html":  `<p>Hi <b>there</b></p><script>alert(1)</script><!-- c -->`,
	}
}

func TestStringFilters(t *testing.T) {
	ctx := filterCtx()
	runRenderCases(t, []renderCase{
		{name: "upcase", tpl: "{{ 'hello' | upcase }}", want: "HELLO"},
		{name: "downcase", tpl: "{{ 'HeLLo' | downcase }}", want: "hello"},
		{name: "capitalize", tpl: "{{ 'hELLO wORLD' | capitalize }}", want: "Hello world"},
		{name: "strip", tpl: "[{{ '  a b  ' | strip }}]", want: "[a b]"},
		{name: "lstrip", tpl: "[{{ '  a b  ' | lstrip }}]", want: "[a b  ]"},
		{name: "rstrip", tpl: "[{{ '  a b  ' | rstrip }}]", want: "[  a b]"},
		{name: "strip chars", tpl: "{{ 'xxaxx' | strip: 'x' }}", want: "a"},
		{name: "strip_html", tpl: "{{ html | strip_html }}", ctx: ctx, want: "Hi there"},
		{name: "strip_newlines", tpl: "{{ s | strip_newlines }}", ctx: map[string]any{"s": "a\nb\r\nc"}, want: "abc"},
		{name: "newline_to_br", tpl: "{{ s | newline_to_br }}", ctx: map[string]any{"s": "a\nb"}, want: "a<br />\nb"},
		{name: "truncate", tpl: "{{ title | truncate: 20 }}", ctx: ctx, want: "Ground control to..."},
		{name: "truncate custom", tpl: `{{ title | truncate: 25, ", and so on" }}`, ctx: ctx, want: "Ground control, and so on"},
		{name: "truncate short", tpl: "{{ 'abc' | truncate: 5 }}", want: "abc"},
		{name: "truncatewords", tpl: "{{ title | truncatewords: 3 }}", ctx: ctx, want: "Ground control to..."},
		{name: "truncatewords exact adds ellipsis", tpl: "{{ 'a b c' | truncatewords: 3 }}", want: "a b c..."},
		{name: "replace", tpl: "{{ 'a-b-c' | replace: '-', '+' }}", want: "a+b+c"},
		{name: "replace_first", tpl: "{{ 'a-b-c' | replace_first: '-', '+' }}", want: "a+b-c"},
		{name: "replace_last", tpl: "{{ 'a-b-c' | replace_last: '-', '+' }}", want: "a-b+c"},
		{name: "remove", tpl: "{{ 'a-b-c' | remove: '-' }}", want: "abc"},
		{name: "remove_first", tpl: "{{ 'a-b-c' | remove_first: '-' }}", want: "ab-c"},
		{name: "remove_last", tpl: "{{ 'a-b-c' | remove_last: '-' }}", want: "a-bc"},
		{name: "append", tpl: "{{ 'a' | append: 'b' }}", want: "ab"},
		{name: "append number", tpl: "{{ 1 | append: 2 }}", want: "12"},
		{name: "prepend", tpl: "{{ 'a' | prepend: 'b' }}", want: "ba"},
		{name: "split drops trailing empties", tpl: "{{ 'a,b,,' | split: ',' | json }}", want: `["a","b"]`},
		{name: "split empty separator", tpl: "{{ 'abc' | split: '' | json }}", want: `["a","b","c"]`},
		{name: "slice string", tpl: "{{ 'hello' | slice: 1, 3 }}", want: "ell"},
		{name: "slice negative", tpl: "{{ 'hello' | slice: -3, 2 }}", want: "ll"},
		{name: "slice default length", tpl: "{{ 'hello' | slice: 0 }}", want: "h"},
		{name: "size string", tpl: "{{ 'hello' | size }}", want: "5"},
		{name: "size object is 0", tpl: "{{ obj | size }}", ctx: ctx, want: "0"},
		{name: "size utf16", tpl: "{{ s | size }}", ctx: map[string]any{"s": "h😀"}, want: "3"},
		{name: "escape", tpl: `{{ s | escape }}`, ctx: map[string]any{"s": `<a href="x">'&'</a>`}, want: "&lt;a href=&#34;x&#34;&gt;&#39;&amp;&#39;&lt;/a&gt;"},
		{name: "xml_escape", tpl: `{{ '<x>' | xml_escape }}`, want: "&lt;x&gt;"},
		{name: "escape_once", tpl: `{{ s | escape_once }}`, ctx: map[string]any{"s": "&lt; <"}, want: "&lt; &lt;"},
		{name: "url_encode", tpl: `{{ 'a b&c/é' | url_encode }}`, want: "a+b%26c%2F%C3%A9"},
		{name: "url_decode", tpl: `{{ 'a+b%26c%C3%A9' | url_decode }}`, want: "a b&cé"},
		{name: "url_decode malformed", tpl: `{{ '%E0%A4%A' | url_decode }}`, err: "URI malformed"},
		{name: "cgi_escape", tpl: `{{ s | cgi_escape }}`, ctx: map[string]any{"s": "a b!'()*"}, want: "a+b%21%27%28%29%2A"},
		{name: "uri_escape", tpl: `{{ 'http://x.com/a b?q=[1]' | uri_escape }}`, want: "http://x.com/a%20b?q=[1]"},
		{name: "base64_encode", tpl: `{{ 'hello' | base64_encode }}`, want: "aGVsbG8="},
		{name: "base64_decode", tpl: `{{ 'aGVsbG8=' | base64_decode }}`, want: "hello"},
		{name: "base64 roundtrip utf8", tpl: `{{ 'héllo' | base64_encode | base64_decode }}`, want: "héllo"},
		{name: "slugify", tpl: `{{ 'Hello World!' | slugify }}`, want: "hello-world"},
		{name: "slugify pretty", tpl: `{{ 'The _config.yml file' | slugify: 'pretty' }}`, want: "the-_config.yml-file"},
		{name: "slugify ascii", tpl: `{{ 'Café au lait' | slugify: 'ascii' }}`, want: "caf-au-lait"},
		{name: "slugify latin", tpl: `{{ 'Café au lait' | slugify: 'latin' }}`, want: "cafe-au-lait"},
		{name: "normalize_whitespace", tpl: "{{ s | normalize_whitespace }}", ctx: map[string]any{"s": "a  \n b"}, want: "a b"},
		{name: "number_of_words", tpl: "{{ 'Hello world, foo' | number_of_words }}", want: "3"},
		{name: "number_of_words cjk", tpl: "{{ '你好 hello' | number_of_words: 'cjk' }}", want: "3"},
		{name: "array_to_sentence_string", tpl: "{{ words | array_to_sentence_string }}", ctx: ctx, want: "b, a, and C"},
	})
}

func TestArrayFilters(t *testing.T) {
	ctx := filterCtx()
	runRenderCases(t, []renderCase{
		{name: "join default", tpl: "{{ nums | join }}", ctx: ctx, want: "3 1 2"},
		{name: "join sep", tpl: "{{ nums | join: ', ' }}", ctx: ctx, want: "3, 1, 2"},
		{name: "join nil elements", tpl: "{{ holes | join: '-' }}", ctx: ctx, want: "1--2"},
		{name: "first last", tpl: "{{ nums | first }}{{ nums | last }}", ctx: ctx, want: "32"},
		{name: "first of string", tpl: "{{ 'abc' | first }}{{ 'abc' | last }}", want: "ac"},
		{name: "reverse", tpl: "{{ nums | reverse | join }}", ctx: ctx, want: "2 1 3"},
		{name: "sort numbers", tpl: "{{ nums | sort | join }}", ctx: ctx, want: "1 2 3"},
		{name: "sort strings case-sensitive", tpl: "{{ words | sort | join }}", ctx: ctx, want: "C a b"},
		{name: "sort_natural", tpl: "{{ words | sort_natural | join }}", ctx: ctx, want: "a b C"},
		{name: "sort by property", tpl: "{{ users | sort: 'age' | map: 'name' | join }}", ctx: ctx, want: "bob ann cid"},
		{name: "sort nil last", tpl: "{{ users | sort: 'active' | map: 'name' | join }}", ctx: ctx, want: "bob ann cid"},
		{name: "uniq", tpl: "{{ dups | uniq | json }}", ctx: ctx, want: `[1,2,"1","a"]`},
		{name: "compact", tpl: "{{ holes | compact | json }}", ctx: ctx, want: `[1,2]`},
		{name: "concat", tpl: "{{ nums | concat: words | join }}", ctx: ctx, want: "3 1 2 b a C"},
		{name: "map", tpl: "{{ users | map: 'name' | join: ',' }}", ctx: ctx, want: "ann,bob,cid"},
		{name: "where truthy", tpl: "{{ users | where: 'active' | map: 'name' | join }}", ctx: ctx, want: "ann"},
		{name: "where value", tpl: "{{ users | where: 'role', 'admin' | map: 'name' | join }}", ctx: ctx, want: "ann cid"},
		{name: "reject value", tpl: "{{ users | reject: 'role', 'admin' | map: 'name' | join }}", ctx: ctx, want: "bob"},
		{name: "where_exp", tpl: "{{ users | where_exp: 'u', 'u.age > 28' | map: 'name' | join }}", ctx: ctx, want: "ann cid"},
		{name: "reject_exp", tpl: "{{ users | reject_exp: 'u', 'u.age > 28' | map: 'name' | join }}", ctx: ctx, want: "bob"},
		{name: "find", tpl: "{{ users | find: 'role', 'user' | map: 'name' }}", ctx: ctx, want: "bob"},
		{name: "find missing", tpl: "[{{ users | find: 'role', 'x' }}]", ctx: ctx, want: "[]"},
		{name: "find_exp", tpl: "{{ users | find_exp: 'u', \"u.name contains 'i'\" | map: 'name' }}", ctx: ctx, want: "cid"},
		{name: "find_index", tpl: "{{ users | find_index: 'name', 'cid' }}", ctx: ctx, want: "2"},
		{name: "find_index_exp", tpl: "{{ users | find_index_exp: 'u', 'u.age < 30' }}", ctx: ctx, want: "1"},
		{name: "has", tpl: "{{ users | has: 'role', 'user' }} {{ users | has: 'role', 'root' }}", ctx: ctx, want: "true false"},
		{name: "has_exp", tpl: "{{ users | has_exp: 'u', 'u.age > 40' }}", ctx: ctx, want: "true"},
		{name: "group_by", tpl: "{% assign g = users | group_by: 'role' %}{% for x in g %}{{ x.name }}:{{ x.items | map: 'name' | join: ',' }};{% endfor %}", ctx: ctx, want: "admin:ann,cid;user:bob;"},
		{name: "group_by_exp", tpl: "{% assign g = users | group_by_exp: 'u', 'u.age > 28' %}{% for x in g %}{{ x.name }}={{ x.items.size }};{% endfor %}", ctx: ctx, want: "true=2;false=1;"},
		{name: "sum", tpl: "{{ nums | sum }}", ctx: ctx, want: "6"},
		{name: "sum property", tpl: "{{ users | sum: 'age' }}", ctx: ctx, want: "96"},
		{name: "sum ignores NaN", tpl: "{{ words | sum }}", ctx: ctx, want: "0"},
		{name: "push", tpl: "{{ nums | push: 9 | join }}", ctx: ctx, want: "3 1 2 9"},
		{name: "pop", tpl: "{{ nums | pop | join }}", ctx: ctx, want: "3 1"},
		{name: "shift", tpl: "{{ nums | shift | join }}", ctx: ctx, want: "1 2"},
		{name: "unshift", tpl: "{{ nums | unshift: 0 | join }}", ctx: ctx, want: "0 3 1 2"},
		{name: "slice array", tpl: "{{ nums | slice: 1, 2 | join }}", ctx: ctx, want: "1 2"},
		{name: "slice array negative", tpl: "{{ nums | slice: -1 | join }}", ctx: ctx, want: "2"},
		{name: "size array", tpl: "{{ nums | size }}", ctx: ctx, want: "3"},
		{name: "sample is deterministic", tpl: "{{ nums | sample }} {{ nums | sample: 2 | join }}", ctx: ctx, want: "3 3 1"},
		{name: "push does not mutate", tpl: "{% assign x = nums | push: 4 %}{{ nums | size }}{{ x | size }}", ctx: ctx, want: "34"},
	})
}

func TestMathFilters(t *testing.T) {
	runRenderCases(t, []renderCase{
		{name: "plus", tpl: "{{ 4 | plus: 2 }}", want: "6"},
		{name: "plus strings", tpl: `{{ "4" | plus: "2" }}`, want: "6"},
		{name: "minus", tpl: "{{ 4 | minus: 6 }}", want: "-2"},
		{name: "times float", tpl: "{{ 3 | times: 0.1 }}", want: "0.30000000000000004"},
		{name: "divided_by float", tpl: "{{ 10 | divided_by: 4 }}", want: "2.5"},
		{name: "divided_by integer arithmetic", tpl: "{{ 10 | divided_by: 3, true }}", want: "3"},
		{name: "divided_by zero", tpl: "{{ 1 | divided_by: 0 }}", want: "Infinity"},
		{name: "modulo", tpl: "{{ 10 | modulo: 3 }} {{ -7 | modulo: 3 }}", want: "1 -1"},
		{name: "abs", tpl: "{{ -5 | abs }} {{ 'x' | abs }}", want: "5 0"},
		{name: "ceil floor", tpl: "{{ 1.2 | ceil }} {{ 1.8 | floor }}", want: "2 1"},
		{name: "round", tpl: "{{ 1.5 | round }} {{ 2.5 | round }} {{ -2.5 | round }} {{ 3.14159 | round: 2 }}", want: "2 3 -2 3.14"},
		{name: "at_least at_most", tpl: "{{ 5 | at_least: 10 }} {{ 5 | at_most: 3 }}", want: "10 3"},
		{name: "large numbers", tpl: "{{ 100000000000000000000 | times: 10 }}", want: "1e+21"},
		{name: "exponent is not a literal", tpl: "{{ 1e20 | times: 10 }}", want: "0"},
	})
}

func TestMiscFilters(t *testing.T) {
	ctx := map[string]any{"f": false, "z": 0.0, "e": "", "arr": []any{}, "o": map[string]any{"a": 1.0, "b": []any{1.0, "x"}}}
	runRenderCases(t, []renderCase{
		{name: "default nil", tpl: "{{ nope | default: 'd' }}", ctx: ctx, want: "d"},
		{name: "default empty string", tpl: "{{ e | default: 'd' }}", ctx: ctx, want: "d"},
		{name: "default empty array", tpl: "{{ arr | default: 'd' }}", ctx: ctx, want: "d"},
		{name: "default false", tpl: "{{ f | default: 'd' }}", ctx: ctx, want: "d"},
		{name: "default allow_false", tpl: "{{ f | default: 'd', allow_false: true }}", ctx: ctx, want: "false"},
		{name: "default zero kept", tpl: "{{ z | default: 'd' }}", ctx: ctx, want: "0"},
		{name: "json indent", tpl: "{{ o | json: 2 }}", ctx: ctx, want: "{\n  \"a\": 1,\n  \"b\": [\n    1,\n    \"x\"\n  ]\n}"},
		{name: "json string escapes", tpl: `{{ s | json }}`, ctx: map[string]any{"s": "a\"b\n<&>\u2028"}, want: "\"a\\\"b\\n<&>\u2028\""},
		{name: "json undefined renders empty", tpl: "[{{ nope | json }}]", ctx: ctx, want: "[]"},
		{name: "json null", tpl: "{{ n | json }}", ctx: map[string]any{"n": nil}, want: "null"},
		{name: "jsonify", tpl: "{{ arr | jsonify }}", ctx: ctx, want: "[]"},
		{name: "inspect", tpl: "{{ o | inspect }}", ctx: ctx, want: `{"a":1,"b":[1,"x"]}`},
		{name: "to_integer", tpl: "{{ '42' | to_integer | plus: 1 }}", want: "43"},
		{name: "raw filter", tpl: "{{ 'x' | raw }}", want: "x"},
	})
}

func TestDateFilters(t *testing.T) {
	ctx := map[string]any{"ts": "2024-01-15T10:30:05.123Z", "d": fixedNow}
	runRenderCases(t, []renderCase{
		{name: "date format", tpl: `{{ ts | date: "%Y-%m-%d %H:%M:%S" }}`, ctx: ctx, want: "2024-01-15 10:30:05"},
		{name: "date now", tpl: `{{ "now" | date: "%Y-%m-%dT%H:%M" }}`, want: "2026-01-01T10:00"},
		{name: "date today", tpl: `{{ "today" | date: "%Y" }}`, want: "2026"},
		{name: "now variable", tpl: `{{ now | date: "%s" }}`, want: "1767261600"},
		{name: "date epoch seconds", tpl: `{{ 0 | date: "%Y-%m-%d" }} {{ "86400" | date: "%Y-%m-%d" }}`, want: "1970-01-01 1970-01-02"},
		{name: "date of time.Time", tpl: `{{ d | date: "%a %b %e %l:%M %p" }}`, ctx: ctx, want: "Thu Jan  1 10:00 AM"},
		{name: "date default format", tpl: `{{ ts | date }}`, ctx: ctx, want: "Monday, January 15, 2024 at 10:30 am +0000"},
		{name: "date offsets", tpl: `{{ "2024-01-15T10:30:00+02:00" | date: "%H:%M %z %:z" }}`, want: "08:30 +0000 +00:00"},
		{name: "date timezone arg", tpl: `{{ ts | date: "%H:%M %z", "+08:00" }}`, ctx: ctx, want: "18:30 +0800"},
		{name: "date timezone minutes", tpl: `{{ ts | date: "%H:%M", -60 }}`, ctx: ctx, want: "11:30"},
		{name: "date invalid returns input", tpl: `{{ "not a date" | date: "%Y" }}`, want: "not a date"},
		{name: "date nil", tpl: `[{{ nope | date: "%Y" }}]`, want: "[]"},
		{name: "strftime misc", tpl: `{{ ts | date: "%j %I %P %y %L %u %w %^b %-m %% %q" }}`, ctx: ctx, want: "015 10 am 24 123 1 1 JAN 1 % th"},
		{name: "strftime unknown kept", tpl: `{{ ts | date: "%Q" }}`, ctx: ctx, want: "%Q"},
		{name: "date_to_xmlschema", tpl: `{{ ts | date_to_xmlschema }}`, ctx: ctx, want: "2024-01-15T10:30:05+00:00"},
		{name: "date_to_rfc822", tpl: `{{ ts | date_to_rfc822 }}`, ctx: ctx, want: "Mon, 15 Jan 2024 10:30:05 +0000"},
		{name: "date_to_string", tpl: `{{ ts | date_to_string }}`, ctx: ctx, want: "15 Jan 2024"},
		{name: "date_to_long_string", tpl: `{{ ts | date_to_long_string }}`, ctx: ctx, want: "15 January 2024"},
		{name: "date_to_long_string ordinal US", tpl: `{{ ts | date_to_long_string: "ordinal", "US" }}`, ctx: ctx, want: "January 15th, 2024"},
		{name: "date rfc1123 input", tpl: `{{ "Mon, 15 Jan 2024 10:30:00 GMT" | date: "%F" }}`, want: "%F"},
		{name: "date rfc1123 parsed", tpl: `{{ "Mon, 15 Jan 2024 10:30:00 GMT" | date: "%Y-%m-%d" }}`, want: "2024-01-15"},
	})
}

func TestFilterResultsKeepTypesInExpressions(t *testing.T) {
	e := newTestEngine()
	ctx := filterCtx()
	cases := []struct {
		expr string
		want any
	}{
		{"${{ users | where: 'role', 'admin' | map: 'name' }}", []any{"ann", "cid"}},
		{"${{ users | group_by: 'role' | size }}", 2.0},
		{"${{ nums | sort }}", []any{1.0, 2.0, 3.0}},
		{"${{ users | find: 'name', 'bob' }}", ctx["users"].([]any)[1]},
		{"${{ nums | sum | times: 2 }}", 12.0},
		{"${{ obj | entries }}", []any{map[string]any{"key": "a", "value": 1.0}}},
		{"${{ '{\"x\":[1,2]}' | json_parse }}", map[string]any{"x": []any{1.0, 2.0}}},
		{"${{ users | has: 'name', 'ann' }}", true},
		{"${{ nums | push: nope }}", []any{3.0, 1.0, 2.0, nil}},
	}
	for _, tc := range cases {
		got, err := e.Evaluate(tc.expr, ctx)
		if err != nil {
			t.Fatalf("Evaluate(%q): %v", tc.expr, err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Evaluate(%q) = %#v, want %#v", tc.expr, got, tc.want)
		}
	}
}
