package kql

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that parsing and evaluating arbitrary text never panics,
// that syntax errors are *SyntaxError with a position inside the query, and
// that a parsed query evaluates deterministically.
func FuzzParse(f *testing.F) {
	seeds := []string{
		``, `status: active`, `user.info.name: "Joe Doe"`, `matchesCount >= 1000 and matchesCount <= 5000`,
		`user.name: J*n D*`, `user.name:"John\*"`, `user.name: John\*`, `not status: inactive`,
		`status: active and (isActive: true or isActive: false)`, `invalid "kql`, `invalid ::::`,
		`a == 5`, `a: (x or y and not z)`, `items:{ x: 1 }`, `timestamp >= now-7d/d`,
		`t: "2025-01-01T00:00:00.000Z||+1d"`, `a[0].b: 1`, `a["x-y"]: 1`, `a.length > 0`,
		`\u0041: \t\n\*`, `a: \or \and \not`, `((a:1))`, `NOT NOT a:1`, `a:*`, `*:*`, `a < "z"`,
		"a:\u00a0b", `a: "unterminated`, `a: (b`, `a > now-1`, `a: now/2d`, `"": *`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	ctx := map[string]any{
		"a":      []any{map[string]any{"b": 1.0, "x-y": "v"}, "s", 2.0, true, nil, []any{"n"}},
		"status": "active", "t": "2025-01-02T00:00:00.000Z", "null": "free",
		"o": map[string]any{"length": 3.0, "k": map[string]any{}},
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			se, ok := err.(*SyntaxError)
			if !ok {
				t.Fatalf("Parse(%q) error %T, want *SyntaxError", s, err)
			}
			if se.Pos < 0 || se.Pos > len(s) || se.Error() == "" {
				t.Fatalf("Parse(%q) bad SyntaxError %+v", s, se)
			}
			if utf8.ValidString(s) && !strings.HasPrefix(se.Msg, "Expected ") {
				t.Fatalf("Parse(%q) message %q", s, se.Msg)
			}
		} else {
			first := q.Eval(ctx, fakeNow)
			if again := q.Eval(ctx, fakeNow); again != first {
				t.Fatalf("Eval(%q) not deterministic", s)
			}
			q.Eval(nil, fakeNow)
		}
		EqualityOperators(s)
	})
}

// alertContext is a realistic condition context: an alert-trigger event
// with three alerts, inputs, consts and a few step outputs.
func alertContext() map[string]any {
	alerts := make([]any, 0, 3)
	for i, sev := range []string{"low", "high", "critical"} {
		alerts = append(alerts, map[string]any{
			"_id":        fmt.Sprintf("9b8f%02d", i),
			"_index":     ".internal.alerts-security.alerts-default-000001",
			"@timestamp": "2026-03-01T10:00:00.000Z",
			"kibana": map[string]any{"alert": map[string]any{
				"uuid": fmt.Sprintf("9b8f%02d", i), "status": "active", "workflow_status": "open",
				"severity": sev, "risk_score": 47.0 + float64(i)*13,
				"rule":          map[string]any{"uuid": "r-1", "name": "Suspicious process", "rule_id": "rid-1"},
				"original_time": "2026-03-01T09:59:58.000Z", "reason": "process event with process.name bad.exe",
			}},
			"host":        map[string]any{"name": fmt.Sprintf("prod-web-%02d", i), "id": "h-1", "os": map[string]any{"family": "linux"}},
			"user":        map[string]any{"name": "alice"},
			"source":      map[string]any{"ip": "10.0.0.5"},
			"destination": map[string]any{"ip": "203.0.113.9"},
			"process":     map[string]any{"entity_id": "p-1", "name": "bad.exe", "args": []any{"-x", "--quiet"}},
			"file":        map[string]any{"hash": map[string]any{"sha256": "e3b0c44298fc1c149afbf4c8996fb924"}},
		})
	}
	return map[string]any{
		"event": map[string]any{
			"alerts":  alerts,
			"rule":    map[string]any{"id": "rule-1", "name": "Suspicious process", "tags": []any{"t1", "prod"}, "consumer": "siem"},
			"spaceId": "default",
		},
		"inputs": map[string]any{"severity": "high", "threshold": 50.0},
		"consts": map[string]any{"index": "logs-*"},
		"steps": map[string]any{
			"search": map[string]any{"output": map[string]any{"hits": map[string]any{"total": map[string]any{"value": 3.0}}}},
		},
	}
}

const benchCondition = `event.alerts.kibana.alert.severity: (high or critical) and not event.alerts.host.name: test-* and event.alerts.kibana.alert.risk_score >= 50`

func TestBenchConditionIsTrue(t *testing.T) {
	ok, err := Eval(benchCondition, alertContext(), fakeNow)
	if err != nil || !ok {
		t.Fatalf("benchmark condition = %v, %v; want true", ok, err)
	}
}

// BenchmarkEval measures evaluation of a parsed typical condition.
func BenchmarkEval(b *testing.B) {
	q, err := Parse(benchCondition)
	if err != nil {
		b.Fatal(err)
	}
	ctx := alertContext()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !q.Eval(ctx, fakeNow) {
			b.Fatal("want true")
		}
	}
}

// BenchmarkParseEval measures Parse + Eval, as a caller that does not
// cache parsed conditions pays.
func BenchmarkParseEval(b *testing.B) {
	ctx := alertContext()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if ok, err := Eval(benchCondition, ctx, fakeNow); err != nil || !ok {
			b.Fatal("want true")
		}
	}
}
