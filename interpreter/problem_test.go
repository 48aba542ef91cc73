package interpreter

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestProblems(t *testing.T) {
	ps := Problems{
		{Pos: Pos{File: "b.yaml", Line: 1, Col: 1}, Severity: SeverityError, Code: CodeType, Msg: "in b"},
		{Pos: Pos{File: "a.yaml", Line: 9, Col: 2}, Severity: SeverityWarning, Code: CodeReference, Msg: "late warning"},
		{Pos: Pos{File: "a.yaml", Line: 3, Col: 7}, Severity: SeverityError, Code: CodeType, Msg: "second"},
		{Pos: Pos{File: "a.yaml", Line: 3, Col: 2}, Severity: SeverityError, Code: CodeType, Msg: "first"},
		{Pos: Pos{File: "a.yaml", Line: 3, Col: 2}, Severity: SeverityError, Code: CodeType, Msg: "first"},
	}
	ps.Sort()
	want := "a.yaml:3:2: first\na.yaml:3:7: second\na.yaml:9:2: warning: late warning\nb.yaml:1:1: in b\n"
	if got := ps.String(); got != want {
		t.Errorf("sorted/deduplicated:\n%s\nwant\n%s", got, want)
	}
	if got := ps.Error(); got != "a.yaml:3:2: first (and 3 more)" {
		t.Errorf("Error() = %q", got)
	}
	if len(ps.Errors()) != 3 || len(ps.Warnings()) != 1 || !ps.HasErrors() {
		t.Errorf("Errors/Warnings split wrong: %v", ps)
	}
	err := ps.Err()
	if err == nil || strings.Contains(err.Error(), "warning") || !strings.HasSuffix(err.Error(), "(and 2 more)") {
		t.Errorf("Err() = %v", err)
	}
}

func TestProblemsErrIgnoresWarnings(t *testing.T) {
	ps := Problems{{Pos: Pos{File: "a.yaml", Line: 1, Col: 1}, Severity: SeverityWarning, Msg: "w"}}
	if ps.Err() != nil || ps.HasErrors() {
		t.Error("warnings must not count as errors")
	}
	if (Problems{}).Err() != nil {
		t.Error("empty problems must give a nil error")
	}
	one := Problems{{Pos: Pos{File: "a.yaml", Line: 2}, Severity: SeverityError, Msg: "only"}}
	if got := one.Error(); got != "a.yaml:2: only" {
		t.Errorf("single Error() = %q", got)
	}
}

func TestProblemPositions(t *testing.T) {
	cases := []struct {
		p    Pos
		want string
	}{
		{Pos{File: "f.yaml", Line: 3, Col: 4}, "f.yaml:3:4: m"},
		{Pos{File: "f.yaml", Line: 3}, "f.yaml:3: m"},
		{Pos{File: "f.yaml"}, "f.yaml: m"},
		{Pos{}, "m"},
		{Pos{Line: 2, Col: 1}, "2:1: m"},
	}
	for _, c := range cases {
		if got := (Problem{Pos: c.p, Severity: SeverityError, Msg: "m"}).String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.p, got, c.want)
		}
	}
}

func TestProblemsJSON(t *testing.T) {
	ps := Problems{{Pos: Pos{File: "a.yaml", Line: 3, Col: 2}, Path: "steps[0].with.title", Severity: SeverityError,
		Code: CodeUnknownKey, Msg: "unknown key"}}
	b, err := json.Marshal(ps)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"file":"a.yaml","line":3,"col":2,"path":"steps[0].with.title","severity":"error","code":"unknown-key","message":"unknown key"}]`
	if string(b) != want {
		t.Errorf("JSON = %s\nwant %s", b, want)
	}
	var none Problems
	if b, _ := json.Marshal(none); string(b) != "[]" {
		t.Errorf("nil problems JSON = %s", b)
	}
}
