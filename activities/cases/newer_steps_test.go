package cases

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/secflow/secflow/internal/connectors"
	"github.com/secflow/secflow/internal/sandbox"
	"github.com/secflow/secflow/interpreter/step"
)

// requests returns the kibana requests with method whose path ends with suffix.
func requests(sb *sandbox.Sandbox, method, suffix string) []sandbox.Request {
	var out []sandbox.Request
	for _, r := range sb.ReceivedBy("kibana") {
		if r.Method == method && strings.HasSuffix(r.Path, suffix) {
			out = append(out, r)
		}
	}
	return out
}

func newCase(t *testing.T, rt step.Runtime, key string) string {
	t.Helper()
	return runCase(t, rt, createInput(key))["id"].(string)
}

func asRetry(t *testing.T) {
	old := isRetry
	isRetry = func(context.Context) bool { return true }
	t.Cleanup(func() { isRetry = old })
}

func TestAddObservablesRequestOutputAndRetry(t *testing.T) {
	sb, _, rt := setup(t)
	id := newCase(t, rt, "obs")
	in := step.Input{Type: "cases.addObservables", With: map[string]any{"case_id": id, "observables": []any{
		map[string]any{"typeKey": "observable-type-ipv4", "value": "10.0.0.8", "description": "Source IP"},
		map[string]any{"typeKey": "observable-type-hostname", "value": "web-1"},
	}}}
	c := runCase(t, rt, in)
	obs := c["observables"].([]any)
	if len(obs) != 2 || c["total_observables"] != 2.0 {
		t.Fatalf("observables = %v", obs)
	}
	first := obs[0].(map[string]any)
	if first["typeKey"] != "observable-type-ipv4" || first["value"] != "10.0.0.8" || first["description"] != "Source IP" || first["id"] == "" {
		t.Fatalf("observable = %v", first)
	}
	posts := requests(sb, "POST", "/api/cases/"+id+"/observables")
	var body map[string]any
	if len(posts) != 2 || json.Unmarshal([]byte(posts[0].Body), &body) != nil || body["observable"].(map[string]any)["typeKey"] != "observable-type-ipv4" {
		t.Fatalf("requests = %+v", posts)
	}
	// A retry (or a re-run) adds what is missing only.
	in.With["observables"] = append(in.With["observables"].([]any), map[string]any{"typeKey": "observable-type-url", "value": "http://x.test"})
	c = runCase(t, rt, in)
	if n := len(c["observables"].([]any)); n != 3 || len(requests(sb, "POST", "/observables")) != 3 {
		t.Fatalf("retry: %d observables, %d posts", n, len(requests(sb, "POST", "/observables")))
	}
	// update then delete
	oid := first["id"].(string)
	c = runCase(t, rt, step.Input{Type: "cases.updateObservable", With: map[string]any{"case_id": id, "observable_id": oid, "value": "10.0.0.42"}})
	upd := c["observables"].([]any)[0].(map[string]any)
	if upd["value"] != "10.0.0.42" || upd["description"] != nil {
		t.Fatalf("updated = %v", upd)
	}
	if p := requests(sb, "PATCH", "/observables/"+oid); len(p) != 1 || !strings.Contains(p[0].Body, `"description":null`) {
		t.Fatalf("PATCH = %+v", p)
	}
	del := step.Input{Type: "cases.deleteObservable", With: map[string]any{"case_id": id, "observable_id": oid}}
	for i := 0; i < 2; i++ { // the second run finds it gone and succeeds
		out, err := run(t, rt, del)
		if err != nil || out["case_id"] != id || out["observable_id"] != oid {
			t.Fatalf("delete %d = %v %v", i, out, err)
		}
	}
	if n := len(requests(sb, "DELETE", "/observables/"+oid)); n != 2 {
		t.Fatalf("DELETE requests = %d", n)
	}
	if _, err := run(t, rt, step.Input{Type: "cases.deleteObservable", With: map[string]any{"case_id": "missing", "observable_id": oid}}); err == nil ||
		!strings.HasPrefix(err.Error(), "Error: HTTP 404") {
		t.Fatalf("missing case: %v", err)
	}
}

func TestAddObservablesValidation(t *testing.T) {
	_, _, rt := setup(t)
	for name, obs := range map[string]any{
		"empty":    []any{},
		"bad type": []any{map[string]any{"typeKey": "ip", "value": "1.2.3.4"}},
		"no value": []any{map[string]any{"typeKey": "observable-type-ipv4"}},
	} {
		_, err := run(t, rt, step.Input{Type: "cases.addObservables", With: map[string]any{"case_id": "x", "observables": obs}})
		if step.AsError(err) == nil || step.AsError(err).Type != "InputValidationError" {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestAddEventsAndAttachments(t *testing.T) {
	sb, fake, rt := setup(t)
	id := newCase(t, rt, "ev")
	in := step.Input{Type: "cases.addEvents", With: map[string]any{"case_id": id,
		"events": []any{map[string]any{"eventId": "e1", "index": "logs-a"}, map[string]any{"eventId": "e2", "index": "logs-b"}}}}
	runCase(t, rt, in)
	runCase(t, rt, in) // retry: nothing twice
	posts := requests(sb, "POST", "/api/cases/"+id+"/comments")
	if len(posts) != 2 || !strings.Contains(posts[0].Body, `"type":"event"`) || !strings.Contains(posts[0].Body, `"owner":"securitySolution"`) {
		t.Fatalf("posts = %+v", posts)
	}
	if n := len(fake.Cases()[0].Comments); n != 2 {
		t.Fatalf("comments = %d", n)
	}
	runCase(t, rt, step.Input{Type: "cases.addComment", With: map[string]any{"case_id": id, "comment": "note"}})
	out, err := run(t, rt, step.Input{Type: "cases.getAllAttachments", With: map[string]any{"case_id": id}})
	if err != nil {
		t.Fatal(err)
	}
	att := out["attachments"].([]any)
	if len(att) != 3 || att[0].(map[string]any)["eventId"] != "e1" || att[2].(map[string]any)["comment"] != "note" {
		t.Fatalf("attachments = %v", att)
	}
	if g := requests(sb, "GET", "/api/cases/"+id+"/comments/_find"); len(g) != 1 || !strings.Contains(g[0].Query, "perPage=100") {
		t.Fatalf("_find = %+v", g)
	}
}

func TestGetUpdateDeleteCases(t *testing.T) {
	sb, fake, rt := setup(t)
	a, b := newCase(t, rt, "a"), newCase(t, rt, "b")
	out, err := run(t, rt, step.Input{Type: "cases.getCases", With: map[string]any{"case_ids": []any{a, "nope", b}}})
	if err != nil {
		t.Fatal(err)
	}
	cs, errs := out["cases"].([]any), out["errors"].([]any)
	if len(cs) != 2 || cs[0].(map[string]any)["id"] != a || len(errs) != 1 {
		t.Fatalf("getCases = %v", out)
	}
	e := errs[0].(map[string]any)
	if e["caseId"] != "nope" || e["status"] != 404.0 || e["error"] != "Not Found" || !strings.Contains(e["message"].(string), "nope") {
		t.Fatalf("error entry = %v", e)
	}

	out, err = run(t, rt, step.Input{Type: "cases.updateCases", With: map[string]any{"cases": []any{
		map[string]any{"case_id": a, "updates": map[string]any{"status": "closed"}},
		map[string]any{"case_id": b, "updates": map[string]any{"severity": "critical", "title": "B"}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if cs := out["cases"].([]any); len(cs) != 2 || cs[0].(map[string]any)["status"] != "closed" || cs[1].(map[string]any)["title"] != "B" {
		t.Fatalf("updateCases = %v", out)
	}
	if p := requests(sb, "PATCH", "/api/cases"); len(p) != 1 || strings.Count(p[0].Body, `"version"`) != 2 {
		t.Fatalf("one PATCH with both versions expected: %+v", p)
	}
	if _, err := run(t, rt, step.Input{Type: "cases.updateCases", With: map[string]any{"cases": []any{
		map[string]any{"case_id": a, "updates": map[string]any{"owner": "x"}}}}}); step.AsError(err).Type != "InputValidationError" {
		t.Fatalf("bad field: %v", err)
	}

	del := step.Input{Type: "cases.deleteCases", With: map[string]any{"case_ids": []any{a, b}}}
	out, err = run(t, rt, del)
	if err != nil || len(out["case_ids"].([]any)) != 2 || len(fake.Cases()) != 0 {
		t.Fatalf("deleteCases = %v %v (%d left)", out, err, len(fake.Cases()))
	}
	if d := requests(sb, "DELETE", "/api/cases"); len(d) != 1 || !strings.Contains(d[0].Query, "ids=") {
		t.Fatalf("DELETE = %+v", d)
	}
	asRetry(t)
	if _, err := run(t, rt, del); err != nil {
		t.Fatalf("retry after delete: %v", err)
	}
	if d := requests(sb, "DELETE", "/api/cases"); len(d) != 1 {
		t.Fatalf("the retry deleted again: %d", len(d))
	}
}

func TestFindSimilarCases(t *testing.T) {
	sb, _, rt := setup(t)
	ids := []string{newCase(t, rt, "s1"), newCase(t, rt, "s2"), newCase(t, rt, "s3")}
	ip := map[string]any{"typeKey": "observable-type-ipv4", "value": "10.0.0.8"}
	for _, id := range ids[:2] {
		runCase(t, rt, step.Input{Type: "cases.addObservables", With: map[string]any{"case_id": id, "observables": []any{ip}}})
	}
	out, err := run(t, rt, step.Input{Type: "cases.findSimilarCases", With: map[string]any{"case_id": ids[0], "perPage": 5}})
	if err != nil {
		t.Fatal(err)
	}
	cs := out["cases"].([]any)
	if out["total"] != 1.0 || out["per_page"] != 5.0 || len(cs) != 1 || cs[0].(map[string]any)["id"] != ids[1] {
		t.Fatalf("similar = %v", out)
	}
	sims := cs[0].(map[string]any)["similarities"].(map[string]any)["observables"].([]any)
	if len(sims) != 1 || sims[0].(map[string]any)["value"] != "10.0.0.8" {
		t.Fatalf("similarities = %v", sims)
	}
	p := requests(sb, "POST", "/internal/cases/"+ids[0]+"/_similar")
	if len(p) != 1 || !strings.Contains(p[0].Body, `"perPage":5`) {
		t.Fatalf("request = %+v", p)
	}
	if _, err := run(t, rt, step.Input{Type: "cases.findSimilarCases", With: map[string]any{"case_id": ids[0], "perPage": 500}}); step.AsError(err).Type != "InputValidationError" {
		t.Fatalf("perPage 500: %v", err)
	}
}

func TestCreateCaseFromTemplate(t *testing.T) {
	sb, fake, rt := setup(t)
	fake.SetTemplates("securitySolution", []any{map[string]any{"key": "triage_template", "name": "Triage",
		"caseFields": map[string]any{"title": "Triage", "description": "From template", "severity": "medium", "tags": []any{"tpl"}}}})
	in := step.Input{Type: "cases.createCaseFromTemplate", IdempotencyKey: "wf/tpl", With: map[string]any{
		"case_template_id": "triage_template", "overwrites": map[string]any{"title": "Override", "status": "in-progress"}}}
	c := runCase(t, rt, in)
	if c["title"] != "Override" || c["description"] != "From template" || c["severity"] != "medium" || c["status"] != "in-progress" || c["owner"] != "securitySolution" {
		t.Fatalf("case = %v", c)
	}
	c2 := runCase(t, rt, in) // retry: the same case
	if c2["id"] != c["id"] || len(fake.Cases()) != 1 || len(requests(sb, "POST", "/api/cases")) != 1 {
		t.Fatalf("retry created another case: %d", len(fake.Cases()))
	}
	_, err := run(t, rt, step.Input{Type: "cases.createCaseFromTemplate", With: map[string]any{"case_template_id": "nope"}})
	if err == nil || err.Error() != "Error: Case template not found: nope" {
		t.Fatalf("unknown template: %v", err)
	}
}

func TestPushCases(t *testing.T) {
	sb, _, _ := setup(t)
	rt := connectors.NewRuntime(connectors.FromSandbox(sb), nil, nil)
	in := createInput("p1")
	in.ConnectorID = "jira"
	withConn := runCase(t, rt, in)["id"].(string)
	plain := newCase(t, rt, "p2")
	c := runCase(t, rt, step.Input{Type: "cases.pushCase", With: map[string]any{"case_id": withConn}})
	if ext, _ := c["external_service"].(map[string]any); ext["connector_id"] != "jira" {
		t.Fatalf("pushCase = %v", c["external_service"])
	}
	out, err := run(t, rt, step.Input{Type: "cases.pushCases", With: map[string]any{"case_ids": []any{withConn}}})
	if err != nil || len(out["cases"].([]any)) != 1 || len(requests(sb, "POST", "/connector/jira/_push")) != 2 {
		t.Fatalf("pushCases = %v %v", out, err)
	}
	_, err = run(t, rt, step.Input{Type: "cases.pushCases", With: map[string]any{"case_ids": []any{withConn, plain}}})
	if err == nil || err.Error() != "Error: Case "+plain+" has no connector to push to" {
		t.Fatalf("no connector: %v", err)
	}
}
