package cases

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/secflow/secflow/activities/activitykit/activitytest"
	"github.com/secflow/secflow/internal/connectors"
	"github.com/secflow/secflow/internal/sandbox"
	"github.com/secflow/secflow/interpreter/step"
)

func setup(t *testing.T) (*sandbox.Sandbox, *sandbox.Kibana, step.Runtime) {
	t.Helper()
	sb, rt := activitytest.Sandbox(t)
	return sb, sb.Service("kibana").(*sandbox.Kibana), rt
}

func run(t *testing.T, rt step.Runtime, in step.Input) (map[string]any, error) {
	t.Helper()
	out, err := activitytest.Run(t, rt, in, sandbox.KibanaAPIKey)
	m, _ := out.(map[string]any)
	return m, err
}

func runCase(t *testing.T, rt step.Runtime, in step.Input) map[string]any {
	t.Helper()
	out, err := run(t, rt, in)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := out["case"].(map[string]any)
	if !ok {
		t.Fatalf("output has no case: %v", out)
	}
	return c
}

func createInput(key string) step.Input {
	return step.Input{Type: "cases.createCase", IdempotencyKey: key, With: map[string]any{
		"title": "Suspicious login on web-1", "description": "Alert triage", "owner": "securitySolution",
		"severity": "high", "tags": []any{"automated"}}}
}

func TestCreateCaseRequestAndOutput(t *testing.T) {
	sb, fake, rt := setup(t)
	c := runCase(t, rt, createInput("wf-1/create_case"))
	if c["title"] != "Suspicious login on web-1" || c["status"] != "open" || c["severity"] != "high" || c["id"] == "" {
		t.Fatalf("case = %v", c)
	}
	var post sandbox.Request
	for _, r := range sb.ReceivedBy("kibana") {
		if r.Method == "POST" && r.Path == "/api/cases" {
			post = r
		}
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(post.Body), &body); err != nil {
		t.Fatalf("POST /api/cases body %q: %v", post.Body, err)
	}
	if body["owner"] != "securitySolution" || body["connector"].(map[string]any)["type"] != ".none" ||
		body["settings"].(map[string]any)["syncAlerts"] != true || post.Header["Kbn-Xsrf"] != "true" {
		t.Fatalf("request = %+v", post)
	}
	tags := body["tags"].([]any)
	if len(tags) != 2 || tags[0] != "automated" || tags[1] != IdemTag("wf-1/create_case") {
		t.Fatalf("tags = %v", tags)
	}
	if got := fake.Cases(); len(got) != 1 || got[0].ID != c["id"] {
		t.Fatalf("fake cases = %+v", got)
	}
}

// crashAfterSend forwards a request and then loses the response, as a
// worker crash between "request sent" and "activity completed" would.
type crashAfterSend struct {
	next  http.RoundTripper
	match func(*http.Request) bool
}

func (c crashAfterSend) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := c.next.RoundTrip(r)
	if err == nil && c.match(r) {
		res.Body.Close()
		return nil, errors.New("worker crashed")
	}
	return res, err
}

func TestCreateCaseIdempotentOnRetry(t *testing.T) {
	sb, fake, _ := setup(t)
	store := connectors.FromSandbox(sb)
	crashing := connectors.NewRuntime(store, &http.Client{Transport: crashAfterSend{next: http.DefaultTransport,
		match: func(r *http.Request) bool { return r.Method == "POST" && r.URL.Path == "/api/cases" }}}, nil)
	_, err := run(t, crashing, createInput("wf-2/steps/create_case"))
	if err == nil {
		t.Fatal("first attempt should have failed")
	}
	if len(fake.Cases()) != 1 {
		t.Fatalf("the first attempt's case was not created: %d", len(fake.Cases()))
	}
	healthy := connectors.NewRuntime(store, nil, nil)
	c := runCase(t, healthy, createInput("wf-2/steps/create_case"))
	c2 := runCase(t, healthy, createInput("wf-2/steps/create_case"))
	cases := fake.Cases()
	if len(cases) != 1 || c["id"] != cases[0].ID || c2["id"] != cases[0].ID {
		t.Fatalf("retry created a duplicate: %d cases", len(cases))
	}
	runCase(t, healthy, createInput("wf-3/steps/create_case"))
	if len(fake.Cases()) != 2 {
		t.Fatalf("another key must create another case")
	}
}

// TestAddCommentIdempotentOnRetry: an attempt that posted the comment and
// crashed before completing is retried; the retry adds nothing, while a
// first attempt always posts (another run may add the same text).
func TestAddCommentIdempotentOnRetry(t *testing.T) {
	sb, fake, _ := setup(t)
	store := connectors.FromSandbox(sb)
	healthy := connectors.NewRuntime(store, nil, nil)
	c := runCase(t, healthy, createInput("wf-c/create"))
	id := c["id"].(string)
	in := step.Input{Type: "cases.addComment", IdempotencyKey: "wf-c/comment",
		With: map[string]any{"case_id": id, "comment": "AI triage: benign"}}

	crashing := connectors.NewRuntime(store, &http.Client{Transport: crashAfterSend{next: http.DefaultTransport,
		match: func(r *http.Request) bool { return r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/comments") }}}, nil)
	if _, err := run(t, crashing, in); err == nil {
		t.Fatal("first attempt should have failed")
	}
	old := isRetry
	isRetry = func(context.Context) bool { return true }
	defer func() { isRetry = old }()
	runCase(t, healthy, in)
	if got := len(fake.Cases()[0].Comments); got != 1 {
		t.Fatalf("retry posted the comment again: %d comments", got)
	}
	isRetry = func(context.Context) bool { return false }
	runCase(t, healthy, in)
	if got := len(fake.Cases()[0].Comments); got != 2 {
		t.Fatalf("a first attempt must post: %d comments", got)
	}
}

func TestCaseLifecycle(t *testing.T) {
	sb, fake, rt := setup(t)
	c := runCase(t, rt, createInput("wf/c"))
	id := c["id"].(string)
	in := func(typ string, with map[string]any) step.Input {
		with["case_id"] = id
		return step.Input{Type: typ, With: with}
	}
	c = runCase(t, rt, in("cases.addComment", map[string]any{"comment": "AI triage: benign"}))
	if c["totalComment"] != 1.0 {
		t.Fatalf("after comment: %v", c)
	}
	alerts := []any{map[string]any{"alertId": "al-1", "index": ".alerts-security", "rule": map[string]any{"id": "r1", "name": "Brute force"}}}
	runCase(t, rt, in("cases.addAlerts", map[string]any{"alerts": alerts}))
	c = runCase(t, rt, in("cases.addAlerts", map[string]any{"alerts": alerts})) // retry: nothing twice
	if c["totalAlerts"] != 1.0 {
		t.Fatalf("alerts attached twice: %v", c["totalAlerts"])
	}
	c = runCase(t, rt, in("cases.addAlerts", map[string]any{"alerts": []any{"al-2", "al-1"}})) // bare ids
	if c["totalAlerts"] != 2.0 {
		t.Fatalf("bare alert ids: %v", c["totalAlerts"])
	}
	c = runCase(t, rt, in("cases.getCase", map[string]any{"include_comments": true}))
	if len(c["comments"].([]any)) != 3 || c["comments"].([]any)[2].(map[string]any)["index"] != ".alerts-security.alerts-default" {
		t.Fatalf("comments = %v", c["comments"])
	}
	out, err := run(t, rt, step.Input{Type: "cases.getCasesByAlertId", With: map[string]any{"alert_id": "al-1", "owner": "securitySolution"}})
	if err != nil || len(out["cases"].([]any)) != 1 || out["cases"].([]any)[0].(map[string]any)["id"] != id {
		t.Fatalf("by alert = %v %v", out, err)
	}
	steps := []struct {
		typ   string
		with  map[string]any
		field string
		want  any
	}{
		{"cases.setSeverity", map[string]any{"severity": "critical"}, "severity", "critical"},
		{"cases.setStatus", map[string]any{"status": "in-progress"}, "status", "in-progress"},
		{"cases.setTitle", map[string]any{"title": "Renamed"}, "title", "Renamed"},
		{"cases.setDescription", map[string]any{"description": "New text"}, "description", "New text"},
		{"cases.updateCase", map[string]any{"updates": map[string]any{"category": "phishing"}}, "category", "phishing"},
		{"cases.addTags", map[string]any{"tags": []any{"tp", "automated"}}, "tags", "automated,secflow-idem,tp"},
		{"cases.removeTags", map[string]any{"tags": []any{"automated"}}, "tags", "secflow-idem,tp"},
		{"cases.assignCase", map[string]any{"assignees": []any{map[string]any{"uid": "u1"}, map[string]any{"uid": "u2"}}}, "assignees", "u1,u2"},
		{"cases.unassignCase", map[string]any{"assignees": []any{map[string]any{"uid": "u1"}}}, "assignees", "u2"},
		{"cases.closeCase", map[string]any{}, "status", "closed"},
	}
	for _, s := range steps {
		c := runCase(t, rt, in(s.typ, s.with))
		got := c[s.field]
		switch s.field {
		case "tags":
			var tags []string
			for _, tg := range got.([]any) {
				tag := tg.(string)
				if strings.HasPrefix(tag, IdemTagPrefix) {
					tag = "secflow-idem"
				}
				tags = append(tags, tag)
			}
			got = strings.Join(sorted(tags), ",")
		case "assignees":
			var u []string
			for _, a := range got.([]any) {
				u = append(u, a.(map[string]any)["uid"].(string))
			}
			got = strings.Join(u, ",")
		}
		if got != s.want {
			t.Errorf("%s: %s = %v, want %v", s.typ, s.field, got, s.want)
		}
	}
	var patches int
	for _, r := range sb.ReceivedBy("kibana") {
		if r.Method == "PATCH" && r.Path == "/api/cases" {
			patches++
			if !strings.Contains(r.Body, `"version":"`) {
				t.Fatalf("PATCH without version: %s", r.Body)
			}
		}
	}
	if patches != len(steps) {
		t.Fatalf("patches = %d", patches)
	}
	out, err = run(t, rt, step.Input{Type: "cases.findCases", With: map[string]any{"owner": "securitySolution", "status": "closed", "tags": []any{"tp"}}})
	if err != nil || out["total"] != 1.0 || out["count_closed_cases"] != 1.0 {
		t.Fatalf("find = %v %v", out, err)
	}
	snap := fake.Cases()[0]
	if snap.Status != "closed" || len(snap.Comments) != 3 || snap.Comments[0].Comment != "AI triage: benign" || snap.Comments[1].AlertID != "al-1" {
		t.Fatalf("snapshot = %+v", snap)
	}
}

func sorted(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}

func TestErrorsAndSpace(t *testing.T) {
	sb, fake, rt := setup(t)
	_, err := run(t, rt, step.Input{Type: "cases.getCase", With: map[string]any{"case_id": "missing"}})
	se := step.AsError(err)
	if se.Retryable || !strings.HasPrefix(se.Message, "HTTP 404:") {
		t.Fatalf("404: %+v", se)
	}
	fake.Inject("/api/cases/_find", 429, "4", "", 1)
	_, err = run(t, rt, createInput("k"))
	if se := step.AsError(err); !se.Retryable || se.RetryAfter != 4*time.Second {
		t.Fatalf("429: %+v", se)
	}
	in := createInput("space-key")
	in.SpaceID = "soc"
	runCase(t, rt, in)
	if got := fake.Cases(); len(got) != 1 || got[0].Space != "soc" {
		t.Fatalf("cases = %+v", got)
	}
	found := false
	for _, r := range sb.ReceivedBy("kibana") {
		if r.Method == "POST" && r.Path == "/s/soc/api/cases" {
			found = true
		}
	}
	if !found {
		t.Fatal("no POST /s/soc/api/cases")
	}
	bad := createInput("x")
	bad.ConnectorID = "nope"
	if _, err := run(t, rt, bad); err == nil || err.Error() != "Error: Connector configuration not found: nope" {
		t.Fatalf("connector: %v", err)
	}
	if _, err := run(t, rt, step.Input{Type: "cases.setSeverity", With: map[string]any{"case_id": "x", "severity": "extreme"}}); err == nil ||
		step.AsError(err).Type != "InputValidationError" {
		t.Fatalf("enum: %v", err)
	}
}

func TestCreateCaseWithConnectorAndPush(t *testing.T) {
	sb, _, _ := setup(t)
	rt := connectors.NewRuntime(connectors.FromSandbox(sb), nil, nil) // has the .jira connector "jira"
	in := createInput("push-key")
	in.ConnectorID = "Jira (sandbox)"
	in.Config = map[string]any{"push-case": true}
	c := runCase(t, rt, in)
	conn := c["connector"].(map[string]any)
	if conn["id"] != "jira" || conn["type"] != ".jira" {
		t.Fatalf("connector = %v", conn)
	}
	ext, ok := c["external_service"].(map[string]any)
	if !ok || ext["connector_id"] != "jira" {
		t.Fatalf("not pushed: %v", c["external_service"])
	}
	var pushed bool
	for _, r := range sb.ReceivedBy("kibana") {
		pushed = pushed || (r.Method == "POST" && strings.HasSuffix(r.Path, "/connector/jira/_push"))
	}
	if !pushed {
		t.Fatal("no _push request")
	}
}

func TestSpecsRegistered(t *testing.T) {
	for _, typ := range []string{"cases.createCase", "cases.getCase", "cases.updateCase", "cases.addComment", "cases.addAlerts",
		"cases.findCases", "cases.getCasesByAlertId", "cases.assignCase", "cases.unassignCase", "cases.closeCase",
		"cases.setStatus", "cases.setSeverity", "cases.setTitle", "cases.setDescription", "cases.setCategory",
		"cases.setCustomField", "cases.addTags", "cases.removeTags"} {
		s, ok := step.Default().Lookup(typ)
		if !ok || s.Type != typ {
			t.Errorf("%s not registered", typ)
			continue
		}
		var v any
		if err := json.Unmarshal([]byte(s.Output.Example), &v); err != nil {
			t.Errorf("%s output example: %v", typ, err)
		}
	}
}
