package step_test

// Catalogue invariants (architecture §7.9): every registered step type is
// documented, its examples validate, the Kibana §6.0 inventory resolves and
// activity types can run. The test lives in the external package so that it
// sees the registry as the secflow binary fills it.

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	_ "github.com/secflow/secflow/activities/all" // every integration, as in the secflow binary
	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/interpreter/step"
)

// TestCatalogDocumented reports every documentation gap at once: a spec
// without Summary, Category or Source, a field without Doc or Type, an
// output example that is not JSON.
func TestCatalogDocumented(t *testing.T) {
	var gaps []string
	for _, s := range step.Default().All() {
		if strings.TrimSpace(s.Summary) == "" {
			gaps = append(gaps, s.Type+": no Summary")
		}
		if strings.Contains(s.Summary, "\n") {
			gaps = append(gaps, s.Type+": Summary spans several lines")
		}
		if s.Category == "" {
			gaps = append(gaps, s.Type+": no Category")
		}
		if s.Source == "" {
			gaps = append(gaps, s.Type+": no Source")
		}
		if s.Output.Example != "" && !json.Valid([]byte(s.Output.Example)) {
			gaps = append(gaps, s.Type+": Output.Example is not JSON")
		}
		for _, group := range []struct {
			where  string
			fields []step.Field
		}{{"config", s.Config}, {"with", s.With}} {
			seen := map[string]bool{}
			for _, f := range group.fields {
				id := fmt.Sprintf("%s: %s field %q", s.Type, group.where, f.Name)
				if f.Name == "" {
					gaps = append(gaps, id+": no Name")
				}
				if strings.TrimSpace(f.Doc) == "" {
					gaps = append(gaps, id+": no Doc")
				}
				if f.Type == "" {
					gaps = append(gaps, id+": no Type")
				}
				if seen[f.Name] {
					gaps = append(gaps, id+": declared twice")
				}
				seen[f.Name] = true
			}
		}
	}
	if len(gaps) > 0 {
		t.Errorf("%d documentation gaps in step.Default():\n  %s", len(gaps), strings.Join(gaps, "\n  "))
	}
}

// TestCatalogExamples loads every spec example, wrapped into a minimal
// definition when it is a step or a list of steps, and wants no problem at
// all (errors nor warnings).
func TestCatalogExamples(t *testing.T) {
	n := 0
	for _, s := range step.Default().All() {
		for i, ex := range s.Examples {
			n++
			name := fmt.Sprintf("%s/%d", s.Type, i)
			t.Run(name, func(t *testing.T) {
				file := strings.NewReplacer("*", "any", "/", "_").Replace(name) + ".yaml"
				doc, err := wrapExample(ex.YAML, nil)
				if err != nil {
					t.Fatalf("example %q: %v", ex.Title, err)
				}
				_, probs := interpreter.LoadBytes(file, []byte(doc), interpreter.LoadOptions{})
				// An example may read steps that a real workflow would run
				// before it: stub those and load again.
				if stubs := missingSteps(probs); len(stubs) > 0 {
					if doc, err = wrapExample(ex.YAML, stubs); err != nil {
						t.Fatalf("example %q: %v", ex.Title, err)
					}
					_, probs = interpreter.LoadBytes(file, []byte(doc), interpreter.LoadOptions{})
				}
				if len(probs) > 0 {
					t.Errorf("example %q (%s) has problems:\n%s\n--- as loaded:\n%s", ex.Title, s.Source, probs, doc)
				}
			})
		}
	}
	if n == 0 {
		t.Fatal("no spec has an example")
	}
}

// missingRE matches the validator's warning about a reference to a step
// that the definition lacks.
var missingRE = regexp.MustCompile(`^steps\.([A-Za-z0-9_-]+) refers to no step of this workflow`)

// missingSteps returns the step names that problems say are referenced but
// not defined, sorted and de-duplicated.
func missingSteps(probs interpreter.Problems) []string {
	set := map[string]bool{}
	for _, p := range probs {
		if m := missingRE.FindStringSubmatch(p.Msg); m != nil {
			set[m[1]] = true
		}
	}
	out := make([]string, 0, len(set))
	for name := range set {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// wrapExample turns a spec example into a whole definition: a definition
// (a mapping with `steps`) stays as it is, a step mapping or a list of
// steps goes under `steps:` of a definition with manual and alert triggers
// (examples may read inputs.* and event.*), after one console step per
// name in stubs.
func wrapExample(src string, stubs []string) (string, error) {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		return "", fmt.Errorf("not YAML: %w", err)
	}
	if n.Kind != yaml.DocumentNode || len(n.Content) != 1 {
		return "", fmt.Errorf("empty example")
	}
	root := n.Content[0]
	steps := root
	switch root.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == "steps" {
				return src, nil
			}
		}
		steps = &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{root}}
	case yaml.SequenceNode:
	default:
		return "", fmt.Errorf("example is neither a definition, a step nor a list of steps")
	}
	var b strings.Builder
	b.WriteString("name: example\ntriggers:\n  - type: manual\n  - type: alert\nsteps:\n")
	for _, name := range stubs {
		fmt.Fprintf(&b, "  - name: %s\n    type: console\n    with:\n      message: stub\n", name)
	}
	out, err := yaml.Marshal(steps)
	if err != nil {
		return "", fmt.Errorf("re-encoding the steps: %w", err)
	}
	for _, line := range strings.SplitAfter(string(out), "\n") {
		if line != "" {
			b.WriteString("  " + line)
		}
	}
	return b.String(), nil
}

// inventory is the step catalogue of semantics §6.0 (Kibana 9.x), with the
// spec each type must resolve to through step.Default().Lookup. A gap is a
// type secflow deliberately does not resolve; the test fails if it starts to
// resolve, so that the entry moves to the table proper.
var inventory = []struct {
	typ  string // YAML type
	want string // spec Type it resolves to
	gap  string // why it does not resolve (then want is empty)
}{
	// flow control (§6.1)
	{typ: "if", want: "if"},
	{typ: "foreach", want: "foreach"},
	{typ: "while", want: "while"},
	{typ: "switch", want: "switch"},
	{typ: "parallel", want: "parallel"},
	{typ: "loop.break", want: "loop.break"},
	{typ: "loop.continue", want: "loop.continue"},
	{typ: "wait", want: "wait"},
	{typ: "waitForInput", want: "waitForInput"},
	{typ: "waitForApproval", want: "waitForApproval"},
	{typ: "workflow.execute", want: "workflow.execute"},
	{typ: "workflow.executeAsync", want: "workflow.executeAsync"},
	{typ: "workflow.output", want: "workflow.output"},
	{typ: "workflow.fail", want: "workflow.fail"},
	// console and data (§6.2, §6.3)
	{typ: "console", want: "console"},
	{typ: "data.set", want: "data.set"},
	{typ: "data.map", want: "data.map"},
	{typ: "data.parseJson", want: "data.parseJson"},
	{typ: "data.stringifyJson", want: "data.stringifyJson"},
	{typ: "data.filter", want: "data.filter"},
	{typ: "data.find", want: "data.find"},
	{typ: "data.dedupe", want: "data.dedupe"},
	{typ: "data.aggregate", want: "data.aggregate"},
	{typ: "data.concat", want: "data.concat"},
	{typ: "data.regexExtract", want: "data.regexExtract"},
	{typ: "data.regexReplace", want: "data.regexReplace"},
	{typ: "data.regex_extract", want: "data.regex_extract"},
	{typ: "data.regex_replace", want: "data.regex_replace"},
	// http (§6.4)
	{typ: "http", want: "http"},
	// Elasticsearch (§6.5)
	{typ: "elasticsearch.request", want: "elasticsearch.request"},
	{typ: "elasticsearch.search", want: "elasticsearch.search"},
	{typ: "elasticsearch.esql.query", want: "elasticsearch.esql.query"},
	{typ: "elasticsearch.index", want: "elasticsearch.index"},
	{typ: "elasticsearch.update", want: "elasticsearch.update"},
	{typ: "elasticsearch.bulk", want: "elasticsearch.bulk"},
	{typ: "elasticsearch.indices.create", want: "elasticsearch.indices.create"},
	{typ: "elasticsearch.indices.exists", want: "elasticsearch.indices.exists"},
	{typ: "elasticsearch.indices.delete", want: "elasticsearch.indices.delete"},
	{typ: "elasticsearch.cat.indices", want: "elasticsearch.cat.*"},        // one of the ~570 generated API steps
	{typ: "elasticsearch.cluster.health", want: "elasticsearch.cluster.*"}, // idem
	{typ: "elasticsearch.info", want: "elasticsearch.*"},                   // idem, no namespace
	// Kibana (§6.6)
	{typ: "kibana.request", want: "kibana.request"},
	{typ: "kibana.SetAlertsStatus", want: "kibana.SetAlertsStatus"},
	{typ: "kibana.SetAlertTags", want: "kibana.SetAlertTags"},
	{typ: "kibana.createCase", want: "kibana.createCase"}, // deprecated → cases.createCase, Kibana's input shape
	{typ: "kibana.getCase", want: "kibana.getCase"},
	{typ: "kibana.updateCase", want: "kibana.updateCase"},
	{typ: "kibana.addCaseComment", want: "kibana.addCaseComment"},
	{typ: "kibana.createCaseDefaultSpace", want: "kibana.createCaseDefaultSpace"},
	{typ: "kibana.getCaseDefaultSpace", want: "kibana.getCaseDefaultSpace"},
	{typ: "kibana.updateCaseDefaultSpace", want: "kibana.updateCaseDefaultSpace"},
	{typ: "kibana.addCaseCommentDefaultSpace", want: "kibana.addCaseCommentDefaultSpace"},
	// Cases (§6.7)
	{typ: "cases.createCase", want: "cases.createCase"},
	{typ: "cases.getCase", want: "cases.getCase"},
	{typ: "cases.updateCase", want: "cases.updateCase"},
	{typ: "cases.addComment", want: "cases.addComment"},
	{typ: "cases.addAlerts", want: "cases.addAlerts"},
	{typ: "cases.findCases", want: "cases.findCases"},
	{typ: "cases.getCasesByAlertId", want: "cases.getCasesByAlertId"},
	{typ: "cases.assignCase", want: "cases.assignCase"},
	{typ: "cases.unassignCase", want: "cases.unassignCase"},
	{typ: "cases.closeCase", want: "cases.closeCase"},
	{typ: "cases.setStatus", want: "cases.setStatus"},
	{typ: "cases.setSeverity", want: "cases.setSeverity"},
	{typ: "cases.setTitle", want: "cases.setTitle"},
	{typ: "cases.setDescription", want: "cases.setDescription"},
	{typ: "cases.setCategory", want: "cases.setCategory"},
	{typ: "cases.setCustomField", want: "cases.setCustomField"},
	{typ: "cases.addTags", want: "cases.addTags"},
	{typ: "cases.removeTags", want: "cases.removeTags"},
	{typ: "cases.addEvents", want: "cases.addEvents"},
	{typ: "cases.addObservables", want: "cases.addObservables"},
	{typ: "cases.updateObservable", want: "cases.updateObservable"},
	{typ: "cases.deleteObservable", want: "cases.deleteObservable"},
	{typ: "cases.getAllAttachments", want: "cases.getAllAttachments"},
	{typ: "cases.getCases", want: "cases.getCases"},
	{typ: "cases.updateCases", want: "cases.updateCases"},
	{typ: "cases.deleteCases", want: "cases.deleteCases"},
	{typ: "cases.findSimilarCases", want: "cases.findSimilarCases"},
	{typ: "cases.createCaseFromTemplate", want: "cases.createCaseFromTemplate"},
	{typ: "cases.pushCase", want: "cases.pushCase"},
	{typ: "cases.pushCases", want: "cases.pushCases"},
	// AI (§6.8)
	{typ: "ai.prompt", want: "ai.prompt"},
	{typ: "ai.classify", want: "ai.classify"},
	{typ: "ai.summarize", want: "ai.summarize"},
	{typ: "ai.agent", want: "ai.agent"},
	// connector steps (§6.9)
	{typ: "slack", want: "slack"},
	{typ: "email", want: "email"},
	{typ: "pagerduty", want: "pagerduty"},
	{typ: "jira", want: "jira"},
	{typ: "slack2.postMessage", want: "slack2.*"},
	{typ: "slack_api", want: "slack_api"},
	{typ: "slack_api.postMessage", want: "slack_api.*"},
	{typ: "jira-cloud.createIssue", want: "*"},
	{typ: "pagerduty_mcp.listIncidents", want: "*"},
	{typ: "virustotal.getIpReport", want: "*"},
	{typ: "github.createIssue", want: "*"},
	{typ: "google_drive.search", want: "*"},
	{typ: "sharepoint-online.search", want: "*"},
	{typ: "zoom.createMeeting", want: "*"},
	{typ: "abuseipdb.checkIp", want: "*"},
	{typ: "inference.completion", want: "*"}, // deprecated → ai.prompt, still a connector step
	{typ: "gen-ai.run", want: "*"},
	{typ: "bedrock.invokeAI", want: "*"},
	{typ: "gemini.invokeAI", want: "*"},
	{typ: "search.rerank", want: "search.rerank"},
	{typ: "security.setAlertStatus", want: "*"}, // Kibana registry step; runs as a connector-shaped step here
}

// TestCatalogInventory checks that every §6.0 step type resolves to the
// expected spec, and lists the known gaps in the log.
func TestCatalogInventory(t *testing.T) {
	reg := step.Default()
	seen := map[string]bool{}
	var gaps []string
	for _, tc := range inventory {
		if seen[tc.typ] {
			t.Errorf("%s listed twice in the inventory table", tc.typ)
		}
		seen[tc.typ] = true
		spec, ok := reg.Lookup(tc.typ)
		if tc.gap != "" {
			if ok {
				t.Errorf("%s now resolves to %s: move it from the gaps to the inventory proper", tc.typ, spec.Type)
			}
			gaps = append(gaps, tc.typ+": "+tc.gap)
			continue
		}
		switch {
		case !ok:
			t.Errorf("%s does not resolve through step.Default().Lookup (want %s)", tc.typ, tc.want)
		case spec.Type != tc.want:
			t.Errorf("%s resolves to %s, want %s", tc.typ, spec.Type, tc.want)
		}
	}
	// merge is schema-only in Kibana (no runtime): Lookup finds the generic
	// connector spec, but validation must reject it.
	src := "name: m\ntriggers: [{type: manual}]\nsteps:\n  - name: m\n    type: merge\n    sources: [a]\n    steps: []\n"
	if _, probs := interpreter.LoadBytes("merge.yaml", []byte(src), interpreter.LoadOptions{}); !probs.HasErrors() {
		t.Errorf("type merge validates; want it rejected as unsupported")
	}
	sort.Strings(gaps)
	t.Logf("%d known gaps:\n  %s", len(gaps), strings.Join(gaps, "\n  "))
}

// TestCatalogUniqueTypes checks type names are unique (also case-folded:
// Kibana's generated steps differ from hand-written ones only by case, and
// case-insensitive file systems would merge their docs pages).
func TestCatalogUniqueTypes(t *testing.T) {
	folded := map[string]string{}
	for _, typ := range step.Default().Types() {
		k := strings.ToLower(typ)
		if other, dup := folded[k]; dup {
			t.Errorf("types %q and %q differ only by case", other, typ)
		}
		folded[k] = typ
	}
	if len(folded) < 50 {
		t.Errorf("only %d step types registered; is activities/all imported?", len(folded))
	}
}

// TestCatalogActivities checks that activity specs can run and that only
// activity specs carry an activity function.
func TestCatalogActivities(t *testing.T) {
	for _, s := range step.Default().All() {
		switch {
		case s.Kind == step.KindActivity && s.Activity == nil:
			t.Errorf("%s: KindActivity without an Activity func", s.Type)
		case s.Kind != step.KindActivity && s.Activity != nil:
			t.Errorf("%s: kind %s with an Activity func (never called)", s.Type, s.Kind)
		case s.Kind == step.KindActivity && s.Timeout < 0:
			t.Errorf("%s: negative default timeout %s", s.Type, s.Timeout)
		}
	}
}

// statusPending lists the packages (by the spec's Source directory) whose
// specs may still lack a Status, with the reason. Every other registered
// spec must declare one. An entry whose package has declared them all
// fails the test, so the list only shrinks.
var statusPending = map[string]string{}

// TestCatalogStatus checks that every registered spec declares a valid
// Status (semantics §0.2), except those of the packages in statusPending.
func TestCatalogStatus(t *testing.T) {
	missing := map[string][]string{} // pending package -> types without status
	declared := map[string]int{}     // pending package -> types with status
	for _, s := range step.Default().All() {
		dir, _ := step.SourceOf(s)
		if i := strings.LastIndex(dir, "/"); strings.HasSuffix(dir, ".go") && i >= 0 {
			dir = dir[:i]
		}
		_, pending := statusPending[dir]
		switch {
		case s.Status == "" && pending:
			missing[dir] = append(missing[dir], s.Type)
		case s.Status == "":
			t.Errorf("%s (%s): no Status; set one of %v from the semantics markers", s.Type, dir, step.Statuses())
		case !s.Status.Valid():
			t.Errorf("%s: invalid Status %q", s.Type, s.Status)
		case pending:
			declared[dir]++
		}
	}
	for dir, why := range statusPending {
		if len(missing[dir]) == 0 {
			t.Errorf("%s: every spec declares a Status now; remove it from statusPending", dir)
			continue
		}
		sort.Strings(missing[dir])
		t.Logf("%s: %d specs without Status (%d with), pending: %s", dir, len(missing[dir]), declared[dir], why)
	}
}

// wantStatus pins the Status of representative types to the semantics
// markers (§6.0 inventory, section headings), so a careless copy of a spec
// literal cannot silently change a type's generation.
var wantStatus = map[string]step.Status{
	"if": step.StatusCore, "foreach": step.StatusCore, "wait": step.StatusCore,
	"console": step.StatusCore, "data.set": step.StatusCore,
	"while": step.StatusNewer, "switch": step.StatusNewer, "data.map": step.StatusNewer,
	"waitForInput": step.StatusNewer, "workflow.output": step.StatusNewer,
	"parallel": step.StatusPreview, "workflow.execute": step.StatusPreview, "workflow.executeAsync": step.StatusPreview,
	"data.regex_extract": step.StatusLegacy, "data.regex_replace": step.StatusLegacy,
	"elasticsearch.search": step.StatusCore, "elasticsearch.esql.query": step.StatusCore, "elasticsearch.*": step.StatusCore,
	"kibana.request": step.StatusCore, "kibana.SetAlertsStatus": step.StatusCore,
	"ai.prompt": step.StatusNewer, "ai.agent": step.StatusNewer, "search.rerank": step.StatusNewer,
	"slack": step.StatusCore, "email": step.StatusCore, "*": step.StatusCore,
}

// TestCatalogStatusMarkers checks the statuses pinned in wantStatus.
func TestCatalogStatusMarkers(t *testing.T) {
	byType := map[string]*step.Spec{}
	for _, s := range step.Default().All() {
		byType[s.Type] = s
	}
	for typ, want := range wantStatus {
		s, ok := byType[typ]
		if !ok {
			t.Errorf("%s: not registered", typ)
			continue
		}
		if s.Status != want {
			t.Errorf("%s: Status %q, want %q (semantics §6.0)", typ, s.Status, want)
		}
	}
}
