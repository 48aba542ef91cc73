package step

import (
	"strings"
	"testing"
	"time"
)

// docRegistry is a small registry covering every rendering branch.
func docRegistry() *Registry {
	r := NewRegistry()
	r.MustAdd(&Spec{
		Type: "demo.create", Kind: KindActivity, Category: "cases", Status: StatusCore, Summary: "Create a demo thing.",
		Doc:    "Creates a *thing*.",
		Config: []Field{{Name: "agent-id", Type: String, Doc: "The agent.", Example: "a1"}},
		With: []Field{
			{Name: "title", Type: String, Required: true, Doc: "Title of the thing."},
			{Name: "severity", Type: String, Default: "low", Enum: []string{"low", "high"}, Doc: "Severity."},
			{Name: "token", Type: String, Secret: true, Doc: "API token."},
			{Name: "wait", Type: Duration, Example: "30s", Doc: "How long to wait."},
			{Name: "flag", Type: String, Default: "true", Doc: "A string that looks like a bool."},
		},
		NeedsConnector: true,
		Output:         Output{Doc: "The thing.", Example: `{"id":"t1","tags":["a"]}`},
		Examples:       []Example{{Title: "Make one", YAML: "- name: mk\n  type: demo.create\n"}},
		Activity:       noop, Timeout: 90 * time.Second, Heartbeat: true,
		Source: "activities/demo/create.go",
	})
	r.MustAdd(&Spec{Type: "demo.*", Kind: KindActivity, Category: "cases", Status: StatusNewer, Summary: "Any demo API.",
		With: []Field{{Name: "request", Type: Object, Required: true, Doc: "Raw request."}}, OpenWith: true,
		Activity: noop})
	r.MustAdd(&Spec{Type: "demo.sub.*", Kind: KindActivity, Category: "cases", Status: StatusLegacy, Summary: "Any demo.sub API.",
		With: []Field{{Name: "request", Type: Object, Required: true, Doc: "Raw request."}}, OpenWith: true,
		Activity: noop})
	r.MustAdd(&Spec{Type: "loopy", Kind: KindFlow, Category: "flow", Status: StatusPreview, Summary: "Loop.",
		Config: []Field{{Name: "steps", Type: Steps, Required: true, Doc: "Body."}}})
	r.MustAdd(&Spec{Type: "*", Kind: KindActivity, Category: "connector", Summary: "Any connector.",
		OpenWith: true, Activity: noop, Source: "activities/connector/connector.go"})
	return r
}

func pageByName(t *testing.T, pages []Page, name string) string {
	t.Helper()
	for _, p := range pages {
		if p.Name == name {
			return string(p.Body)
		}
	}
	t.Fatalf("no page %s", name)
	return ""
}

func TestMarkdownPages(t *testing.T) {
	pages := Markdown(docRegistry(), MarkdownOptions{SourceBase: "../../", VariablesLink: "../variables.md"})
	var names []string
	for _, p := range pages {
		names = append(names, p.Name)
	}
	if got, want := strings.Join(names, " "), "README.md demo-family.md demo.create.md generic-connector.md loopy.md"; got != want {
		t.Fatalf("pages = %s, want %s", got, want)
	}
	tests := []struct {
		page string
		want []string // substrings, in order
		not  []string
	}{
		{"demo.create.md", []string{
			GeneratedMarker,
			"# `demo.create`",
			"> Generated from [`activities/demo/create.go`](../../activities/demo/create.go) by `secflow docs` — do not edit.",
			"Create a demo thing.",
			"| Kind | activity — runs as the Temporal activity `demo.create` |",
			"| Default timeout | 1m30s |",
			"| Status | core — in Kibana since the early engine and still current |",
			"| Category | cases |",
			"| Connector | `connector-id` required |",
			"Creates a *thing*.",
			"```yaml\n- name: demo_create\n  type: demo.create\n  connector-id: <connector-id>  # (required)\n" +
				"  agent-id: a1  # example\n  with:\n    title: <string>  # (required)\n" +
				"    severity: low  # default\n    token: <string>  # secret\n    wait: 30s  # example\n" +
				"    flag: \"true\"  # default\n```",
			"## Step-level fields", "### `agent-id`",
			"## `with` fields", "### `title`", "- Required: yes",
			"### `severity`", "- Default: `low`", "- One of: `low`, `high`",
			"### `token`", "- Secret: yes",
			"## Output", "The thing.", "```json\n{\n  \"id\": \"t1\",\n  \"tags\": [\n    \"a\"\n  ]\n}\n```",
			"## Examples", "### Make one", "```yaml\n- name: mk\n  type: demo.create\n```",
		}, nil},
		{"demo-family.md", []string{
			"# `demo.*` families",
			"> Generated from package [`interpreter/step`](../../interpreter/step) by", // noop lives here
			"| `demo.*` | Any demo API. |", "| `demo.sub.*` | Any demo.sub API. |",
			"named after the step's own type",
			"  type: demo.<action>\n  with:\n    request: <object>  # (required)\n    # any other key is accepted\n",
			"Any other key is accepted under `with`",
			"## Output", "No output.",
		}, []string{"## Examples", "## Step-level fields"}},
		{"loopy.md", []string{
			"> Generated from package [`interpreter`](../../interpreter) by",
			"| Kind | flow",
			"| Status | preview — newer, and a technical preview in Kibana |",
			"  steps:  # (required)\n    - <step>\n",
		}, []string{"Default timeout", "with:"}},
		{"generic-connector.md", []string{
			"# Connector steps (`*`)", "type: <connector-type>.<subAction>", "    # any other key is accepted",
		}, []string{"| Status |"}},
		{"README.md", []string{
			GeneratedMarker, "# Step types", "5 step types",
			"[context variables](../variables.md)",
			"Status is the Kibana generation of a type", "`core` (in Kibana since the early engine", "`legacy` (an older name",
			"## Flow control", "| Type | Kind | Status | Summary |", "| [`loopy`](loopy.md) | flow | preview | Loop. |",
			"## Cases", "| [`demo.*` and 1 more patterns](demo-family.md) | activity | newer, legacy | Any demo API. |",
			"| [`demo.create`](demo.create.md) | activity | core | Create a demo thing. |",
			"## Connectors", "| [`*`](generic-connector.md) | activity | — | Any connector. |",
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.page, func(t *testing.T) {
			body := pageByName(t, pages, tc.page)
			rest := body
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("%q missing (or out of order) in:\n%s", w, body)
				}
				rest = rest[i+len(w):]
			}
			for _, n := range tc.not {
				if strings.Contains(body, n) {
					t.Errorf("%q unexpected in:\n%s", n, body)
				}
			}
			if !strings.HasSuffix(body, "\n") || strings.HasSuffix(body, "\n\n") {
				t.Errorf("page must end with exactly one newline")
			}
		})
	}
}

func TestMarkdownDeterministic(t *testing.T) {
	a := Markdown(docRegistry(), MarkdownOptions{})
	for i := 0; i < 5; i++ {
		b := Markdown(docRegistry(), MarkdownOptions{})
		for j := range a {
			if a[j].Name != b[j].Name || string(a[j].Body) != string(b[j].Body) {
				t.Fatalf("run %d: page %s differs", i, a[j].Name)
			}
		}
	}
}

func TestMarkdownFamilyContracts(t *testing.T) {
	r := NewRegistry()
	for _, typ := range []string{"fam.*", "fam.a.*", "fam.b.*", "fam.c.*", "fam.d.*"} {
		r.MustAdd(&Spec{Type: typ, Kind: KindActivity, Category: "x", Summary: typ + " summary", Activity: noop,
			With: []Field{{Name: "request", Type: Object, Doc: "Raw."}}})
	}
	r.MustAdd(&Spec{Type: "other.*", Kind: KindActivity, Category: "x", Summary: "o", Activity: noop,
		With: []Field{{Name: "x", Type: String, Doc: "X."}}})
	r.MustAdd(&Spec{Type: "other.sub.*", Kind: KindActivity, Category: "x", Summary: "os", Activity: noop,
		With: []Field{{Name: "y", Type: String, Doc: "Y."}}})
	r.MustAdd(&Spec{Type: "solo.*", Kind: KindActivity, Category: "x", Summary: "s", Activity: noop})
	pages := Markdown(r, MarkdownOptions{})
	solo := pageByName(t, pages, "solo-family.md")
	for _, w := range []string{"# `solo.*`\n", "Every `solo.<action>` type without a page of its own resolves to this spec."} {
		if !strings.Contains(solo, w) {
			t.Errorf("single family: %q missing:\n%s", w, solo)
		}
	}
	if strings.Contains(solo, "| Pattern |") {
		t.Errorf("single family: no pattern table wanted:\n%s", solo)
	}
	fam := pageByName(t, pages, "fam-family.md")
	if !strings.Contains(fam, "5 patterns, all with the contract below: `fam.*`, `fam.a.*`") {
		t.Errorf("one contract: want the compact pattern list:\n%s", fam)
	}
	if strings.Count(fam, "## YAML") != 1 {
		t.Errorf("one contract: want one YAML section:\n%s", fam)
	}
	other := pageByName(t, pages, "other-family.md")
	for _, w := range []string{"## `other.*`", "### YAML", "### `x`", "## `other.sub.*`", "### `y`"} {
		if !strings.Contains(other, w) {
			t.Errorf("two contracts: %q missing:\n%s", w, other)
		}
	}
}

func TestYAMLValue(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{"GET", "GET"},
		{"30s", "30s"},
		{"1h30m", "1h30m"},
		{"true", `"true"`},
		{"no", `"no"`},
		{"12", `"12"`},
		{"", `""`},
		{"{{ event.alerts }}", `"{{ event.alerts }}"`},
		{"a: b", `"a: b"`},
		{"<b>", "<b>"},
		{5.0, "5"},
		{true, "true"},
		{[]any{"a", 1.5}, `["a",1.5]`},
		{map[string]any{"b": 1, "a": "x<y"}, `{"a":"x<y","b":1}`},
	}
	for _, tc := range tests {
		if got := yamlValue(tc.in); got != tc.want {
			t.Errorf("yamlValue(%#v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestSourceOf(t *testing.T) {
	tests := []struct {
		spec    Spec
		want    string
		wantPkg bool
	}{
		{Spec{Source: "activities/x/y.go", Activity: noop}, "activities/x/y.go", false},
		{Spec{Kind: KindActivity, Activity: noop}, "interpreter/step", true},
		{Spec{Kind: KindFlow}, "interpreter", true},
	}
	for _, tc := range tests {
		got, pkg := SourceOf(&tc.spec)
		if got != tc.want || pkg != tc.wantPkg {
			t.Errorf("SourceOf(%+v) = %q, %v; want %q, %v", tc.spec.Type, got, pkg, tc.want, tc.wantPkg)
		}
	}
	for in, want := range map[string]string{
		moduleRoot + "/activities/cases.(*fieldStep).run-fm": "activities/cases",
		moduleRoot + "/activities/http.Run":                  "activities/http",
		"example.com/other/pkg.init.func1":                   "example.com/other/pkg",
	} {
		if got := funcPackage(in); got != want {
			t.Errorf("funcPackage(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPageName(t *testing.T) {
	for typ, want := range map[string]string{
		"cases.createCase":        "cases.createCase.md",
		"elasticsearch.*":         "elasticsearch-family.md",
		"elasticsearch.indices.*": "elasticsearch-family.md",
		"slack_api.*":             "slack_api-family.md",
		"*":                       "generic-connector.md",
		"odd type":                "odd_type.md",
	} {
		if got := PageName(&Spec{Type: typ}); got != want {
			t.Errorf("PageName(%q) = %q, want %q", typ, got, want)
		}
	}
}
