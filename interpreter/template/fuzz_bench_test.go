package template

import (
	"testing"
	"time"
)

// alertContext is a realistic alert-triggered workflow context (§4.6, §8.1).
func alertContext() map[string]any {
	alerts := make([]any, 0, 5)
	for i, host := range []string{"web-01", "web-02", "db-01", "web-01", "cache-01"} {
		alerts = append(alerts, map[string]any{
			"_id":        "alert-" + string(rune('a'+i)),
			"_index":     ".internal.alerts-security.alerts-default-000001",
			"@timestamp": "2026-01-01T09:59:0" + string(rune('0'+i)) + ".000Z",
			"host":       map[string]any{"name": host, "ip": []any{"10.0.0." + string(rune('1'+i))}},
			"user":       map[string]any{"name": "svc-" + host},
			"kibana": map[string]any{"alert": map[string]any{
				"severity":   []string{"low", "medium", "high", "critical", "high"}[i],
				"risk_score": float64(21 + 15*i),
				"rule":       map[string]any{"name": "Suspicious process", "uuid": "rule-1"},
				"status":     "active",
			}},
		})
	}
	return map[string]any{
		"event": map[string]any{
			"alerts":  alerts,
			"rule":    map[string]any{"id": "rule-1", "name": "Suspicious process", "tags": []any{"windows", "edr"}},
			"spaceId": "default",
		},
		"inputs":    map[string]any{"severity_threshold": 50.0, "channel": "#soc", "dry_run": false},
		"consts":    map[string]any{"index": "logs-*", "owner": "soc-team"},
		"execution": map[string]any{"id": "exec-1", "isTestRun": false, "startedAt": fixedNow, "url": "https://kibana/app/workflows/wf-1?executionId=exec-1"},
		"workflow":  map[string]any{"id": "wf-1", "name": "Triage", "enabled": true, "spaceId": "default"},
		"steps": map[string]any{
			"enrich": map[string]any{"output": map[string]any{"hits": map[string]any{"total": map[string]any{"value": 42.0}, "hits": []any{
				map[string]any{"_source": map[string]any{"process": map[string]any{"name": "powershell.exe"}}},
			}}}},
		},
		"variables": map[string]any{"case_id": "case-9"},
	}
}

// typicalWith is a step `with` block of the shape found in the corpus.
func typicalWith() map[string]any {
	return map[string]any{
		"index": "{{ consts.index }}",
		"query": map[string]any{
			"bool": map[string]any{"filter": []any{
				map[string]any{"terms": map[string]any{"host.name": "${{ event.alerts | map: 'host.name' | uniq }}"}},
				map[string]any{"range": map[string]any{"@timestamp": map[string]any{"gte": "{{ execution.startedAt | date: '%Y-%m-%dT%H:%M:%S' }}"}}},
			}},
		},
		"size":     100.0,
		"title":    "[{{ event.alerts[0].kibana.alert.severity | upcase }}] {{ event.rule.name }} on {{ event.alerts | size }} hosts",
		"message":  "{% for a in event.alerts %}{% if a.kibana.alert.risk_score >= inputs.severity_threshold %}- {{ a.host.name }} ({{ a.kibana.alert.risk_score }})\n{% endif %}{% endfor %}",
		"tags":     "${{ event.rule.tags | push: 'triaged' }}",
		"critical": "${{ event.alerts | where_exp: 'a', \"a.kibana.alert.severity == 'critical'\" | size }}",
		"owner":    "{{ consts.owner | default: 'unassigned' }}",
		"payload":  "{{ steps.enrich.output.hits.hits | map: '_source' | json }}",
	}
}

func BenchmarkRenderWith(b *testing.B) {
	e := New(Options{Now: func() time.Time { return fixedNow }})
	ctx := alertContext()
	with := typicalWith()
	if _, err := e.Render(with, ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Render(with, ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEvaluate(b *testing.B) {
	e := New(Options{Now: func() time.Time { return fixedNow }})
	ctx := alertContext()
	exprs := []string{
		"${{ event.alerts | map: 'host.name' | uniq }}",
		"${{ steps.enrich.output.hits.total.value > 10 and inputs.dry_run == false }}",
		"${{ event.alerts | where: 'kibana.alert.severity', 'high' | size }}",
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Evaluate(exprs[i%len(exprs)], ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzRender checks that no template input makes the engine panic, whether
// rendered, evaluated as an expression or statically checked.
func FuzzRender(f *testing.F) {
	seeds := []string{
		"Hello {{ inputs.name }}",
		"${{ event.alerts | map: 'host.name' | uniq }}",
		"${{ a }} ${{ b }}",
		"{% for a in event.alerts limit:2 offset:continue reversed %}{{ forloop.index }}{{ a.host.name | upcase }}{% else %}x{% endfor %}",
		"{% if a and b or not c %}{% elsif x contains 'y' %}{% else %}{% endif %}",
		"{% case x %}{% when 1, 2 or 3 %}a{% else %}b{% endcase %}",
		"{% capture c %}{% cycle 'g': 1, 2 %}{% endcapture %}{{ c }}",
		"{% liquid\nassign x = 1 | plus: 2\necho x\n%}",
		"{% raw %}{{ x }}{% endraw %}{% comment %}{% endcomment %}{% # note %}",
		"{{ (1..5) | join: ',' }}{{ a[-1] }}{{ a['b'][0].c }}{{ s.size }}",
		"{{ x | where_exp: 'i', 'i.a > 1' | group_by_exp: 'i', 'i.b' | json: 2 }}",
		"{{ 'x' | date: '%Y %-m %_d %^B %:z %N %10N' }}",
		"{{- x -}}{%- if y -%}{%- endif -%}",
		"{% include 'x' %}", "{{", "{%", "{{ a", "{% if %}", "{{ | }}", "{{ a | }}", "{{ a b c }}",
		"{{ \"unterminated }}", "{% for %}", "{% endfor %}", "((((", "{{ ((1..2)..3) }}",
		"{{ a[[[[ }}", "{{ '\\u12' }}", "{% increment %}{% decrement x %}", "{% cycle %}",
		"{{ 1 | divided_by: 0 | round: 400 }}", "{{ s | truncate: -5 }}{{ s | slice: -100, -3 }}",
		"{{ 'a' | pick: 'b.c', 'd' | entries | json_parse | sample: 3 }}",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	e := New(Options{Now: func() time.Time { return fixedNow }, RenderLimit: 10 * time.Millisecond, MemoryLimit: 100000})
	ctx := alertContext()
	ctx["a"] = []any{1.0, "two", map[string]any{"c": nil}}
	ctx["s"] = "hello world"
	ctx["x"] = []any{map[string]any{"a": 2.0, "b": "k"}, map[string]any{"a": 0.0}}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = e.Render(s, ctx)
		_, _ = e.Render(map[string]any{"k": []any{s}}, ctx)
		_, _ = e.Evaluate(s, ctx)
		_, _ = e.Evaluate("${{ "+s+" }}", ctx)
		_ = e.Check(s)
		_ = Stringify(s)
	})
}
