package jira

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/secflow/secflow/activities/activitykit/activitytest"
	"github.com/secflow/secflow/internal/connectors"
	"github.com/secflow/secflow/internal/sandbox"
	"github.com/secflow/secflow/interpreter/step"
)

type env struct {
	fake *sandbox.Jira
	srv  *activitytest.Recorder
	rt   step.Runtime
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{fake: sandbox.NewJira()}
	e.srv = activitytest.Record(t, e.fake.Handler())
	e.rt = activitytest.Runtime("jira", e.srv.URL)
	return e
}

// requests returns the captured requests with the given method whose path
// ends with suffix.
func (e *env) requests(method, suffix string) []activitytest.Request {
	return e.srv.Requests(method, suffix)
}

var secrets = []string{sandbox.JiraAPIToken, base64.StdEncoding.EncodeToString([]byte(sandbox.JiraEmail + ":" + sandbox.JiraAPIToken))}

var bg = context.Background()

func input(typ string, with map[string]any) step.Input {
	return step.Input{Type: typ, Name: "ticket", Path: "ticket", IdempotencyKey: "wf-1/ticket", ConnectorID: "jira", With: with}
}

func pushInput() step.Input {
	return input("jira.pushToService", map[string]any{
		"incident": map[string]any{"summary": "Malware on host-1\nsecond line", "description": "Case c-1", "labels": []any{"secflow"}, "priority": "High"},
		"comments": []any{map[string]any{"comment": "triage: isolate host", "commentId": "c1"}},
	})
}

func TestPushCreatesIssueWithLabelAndComment(t *testing.T) {
	e := newEnv(t)
	out, err := Run(bg, e.rt, pushInput())
	if err != nil {
		t.Fatal(err)
	}
	// Request: search by label, issue types, create, get, comments, add comment.
	searches := e.requests("GET", "/rest/api/2/search/jql")
	if len(searches) != 1 || !strings.Contains(searches[0].Query, "jql=labels+%3D+%22"+Label("wf-1/ticket")+"%22") {
		t.Fatalf("search requests = %+v", searches)
	}
	creates := e.requests("POST", "/rest/api/2/issue")
	if len(creates) != 1 || creates[0].ContentType != "application/json" || !strings.HasPrefix(creates[0].Auth, "Basic ") {
		t.Fatalf("create requests = %+v", creates)
	}
	fields := creates[0].JSON()["fields"].(map[string]any)
	want := `{"description":"Case c-1","issuetype":{"id":"10001"},"labels":["secflow","` + Label("wf-1/ticket") +
		`"],"priority":{"name":"High"},"project":{"key":"SEC"},"summary":"Malware on host-1, second line"}`
	if got, _ := json.Marshal(fields); string(got) != want {
		t.Fatalf("fields = %s\nwant     %s", got, want)
	}
	cm := e.requests("POST", "/comment")
	if len(cm) != 1 || cm[0].JSON()["body"] != "triage: isolate host" {
		t.Fatalf("comment requests = %+v", cm)
	}
	props, _ := cm[0].JSON()["properties"].([]any)
	if len(props) != 1 || props[0].(map[string]any)["key"] != CommentProperty {
		t.Fatalf("comment properties = %v", cm[0].JSON())
	}
	// Output: Kibana's pushToService shape.
	m := out.(map[string]any)
	if m["id"] != "10001" || m["title"] != "SEC-1" || m["url"] != e.srv.URL+"/browse/SEC-1" || !strings.HasSuffix(m["pushedDate"].(string), "Z") {
		t.Fatalf("output = %v", out)
	}
	if c := m["comments"].([]any); len(c) != 1 || c[0].(map[string]any)["commentId"] != "c1" {
		t.Fatalf("output comments = %v", m["comments"])
	}
	activitytest.NoSecrets(t, out, secrets...)
}

func TestPushRetryCreatesNothingTwice(t *testing.T) {
	e := newEnv(t)
	// The create is served but its answer is lost: the worker "crashed".
	e.fake.LoseAnswer("/rest/api/2/issue")
	_, err := Run(bg, e.rt, pushInput())
	if se := activitytest.StepError(t, err); !se.Retryable {
		t.Fatalf("lost answer must be retryable: %+v", se)
	}
	if n := len(e.fake.Issues()); n != 1 {
		t.Fatalf("first attempt created %d issues", n)
	}
	out1, err := Run(bg, e.rt, pushInput())
	if err != nil {
		t.Fatal(err)
	}
	// A run whose comment answer is lost must not duplicate the comment either.
	in := pushInput()
	in.IdempotencyKey = "wf-3/ticket"
	if _, err := Run(bg, e.rt, in); err != nil {
		t.Fatal(err)
	}
	e.fake.LoseAnswer("POST /comment")
	in.With["comments"] = append(in.With["comments"].([]any), map[string]any{"comment": "second", "commentId": "c2"})
	if _, err := Run(bg, e.rt, in); err == nil || !activitytest.StepError(t, err).Retryable {
		t.Fatalf("lost comment answer: %v", err)
	}
	out3, err := Run(bg, e.rt, in)
	if err != nil {
		t.Fatal(err)
	}
	if c := out3.(map[string]any)["comments"].([]any); len(c) != 2 {
		t.Fatalf("comments output = %v", c)
	}
	if is := e.fake.Issues(); len(is) != 2 || len(is[1].Comments) != 2 {
		t.Fatalf("issue wf-3: %+v", is)
	}
	out2, err := Run(bg, e.rt, pushInput())
	if err != nil {
		t.Fatal(err)
	}
	issues := e.fake.Issues()
	if len(issues[0].Comments) != 1 {
		t.Fatalf("comments = %d; want 1", len(issues[0].Comments))
	}
	if out1.(map[string]any)["title"] != "SEC-1" || out2.(map[string]any)["id"] != out1.(map[string]any)["id"] {
		t.Fatalf("outputs differ: %v vs %v", out1, out2)
	}
	if n := len(e.requests("POST", "/rest/api/2/issue")); n != 2 {
		t.Fatalf("create sent %d times, want 2 (one per key)", n)
	}
}

func TestUpdateCommentTransitionAndReads(t *testing.T) {
	e := newEnv(t)
	if _, err := Run(bg, e.rt, pushInput()); err != nil {
		t.Fatal(err)
	}
	out, err := Run(bg, e.rt, input("jira", map[string]any{"subAction": "pushToService", "subActionParams": map[string]any{
		"incident": map[string]any{"externalId": "SEC-1", "summary": "Updated", "description": nil}}}))
	if err != nil {
		t.Fatal(err)
	}
	if puts := e.requests("PUT", "/rest/api/2/issue/SEC-1"); len(puts) != 1 || puts[0].JSON()["fields"].(map[string]any)["summary"] != "Updated" {
		t.Fatalf("update requests = %+v", puts)
	}
	if out.(map[string]any)["title"] != "SEC-1" {
		t.Fatalf("update output = %v", out)
	}

	add := input("jira.addComment", map[string]any{"externalId": "SEC-1", "comment": "closing"})
	add.IdempotencyKey = "wf-1/comment"
	for i := 0; i < 2; i++ {
		if _, err := Run(bg, e.rt, add); err != nil {
			t.Fatal(err)
		}
	}
	if c := e.fake.Issues()[0].Comments; len(c) != 2 {
		t.Fatalf("comments = %d, want 2 (one from push, one from addComment)", len(c))
	}

	for i := 0; i < 2; i++ {
		out, err = Run(bg, e.rt, input("jira.transition", map[string]any{"externalId": "SEC-1", "status": "Done"}))
		if err != nil {
			t.Fatalf("transition attempt %d: %v", i+1, err)
		}
	}
	if out.(map[string]any)["status"] != "Done" || e.fake.Issues()[0].Status != "Done" {
		t.Fatalf("transition output %v, status %s", out, e.fake.Issues()[0].Status)
	}
	if n := len(e.requests("POST", "/transitions")); n != 1 {
		t.Fatalf("transition POSTed %d times", n)
	}

	inc, err := Run(bg, e.rt, input("jira.getIncident", map[string]any{"externalId": "SEC-1"}))
	if err != nil {
		t.Fatal(err)
	}
	if m := inc.(map[string]any); m["key"] != "SEC-1" || m["summary"] != "Updated" || m["created"] == nil {
		t.Fatalf("getIncident = %v", inc)
	}
	list, err := Run(bg, e.rt, input("jira.issues", map[string]any{"title": "updat"}))
	if err != nil {
		t.Fatal(err)
	}
	if l := list.([]any); len(l) != 1 || l[0].(map[string]any)["key"] != "SEC-1" {
		t.Fatalf("issues = %v", list)
	}
	types, err := Run(bg, e.rt, input("jira.issueTypes", nil))
	if err != nil || len(types.([]any)) != 3 {
		t.Fatalf("issueTypes = %v, %v", types, err)
	}
	fields, err := Run(bg, e.rt, input("jira.getFields", nil))
	if err != nil || fields.(map[string]any)["summary"] == nil {
		t.Fatalf("getFields = %v, %v", fields, err)
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name      string
		setup     func(e *env)
		in        step.Input
		typ, msg  string
		retryable bool
		wait      time.Duration
	}{
		{"rate limited", func(e *env) { e.fake.Inject("/rest/api/2/search", 429, "4", "", 1) }, pushInput(),
			"ConnectorExecutionError", "[Action][Jira]: Unable to create incident. Error: Request failed with status code 429. Reason: Too Many Requests", true, 4 * time.Second},
		{"server error", func(e *env) { e.fake.Inject("/rest/api/2/issue", 500, "", "", 1) }, pushInput(),
			"ConnectorExecutionError", "", true, 0},
		{"validation", nil, input("jira.pushToService", map[string]any{"incident": map[string]any{"summary": "x", "issueType": "999"}}),
			"ConnectorExecutionError", "[Action][Jira]: Unable to create incident. Error: Request failed with status code 400. Reason: The issue type selected is invalid.", false, 0},
		{"not found", nil, input("jira.getIncident", map[string]any{"externalId": "SEC-404"}),
			"ConnectorExecutionError", "[Action][Jira]: Unable to get incident with id SEC-404. Error: Request failed with status code 404. Reason: Issue does not exist or you do not have permission to see it.", false, 0},
		{"label with space", nil, input("jira.pushToService", map[string]any{"incident": map[string]any{"summary": "x", "labels": []any{"a b"}}}),
			"InputValidationError", "The label a b cannot contain spaces", false, 0},
		{"unknown sub-action", nil, input("jira.deleteProject", nil), "InputValidationError", "", false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			if c.setup != nil {
				c.setup(e)
			}
			_, err := Run(bg, e.rt, c.in)
			se := activitytest.StepError(t, err)
			if se.Type != c.typ || (c.msg != "" && se.Message != c.msg) || se.Retryable != c.retryable || se.RetryAfter != c.wait {
				t.Fatalf("error = %+v retryable=%v after=%v", se, se.Retryable, se.RetryAfter)
			}
			activitytest.NoSecrets(t, err, secrets...)
			if len(e.fake.Issues()) != 0 {
				t.Fatal("no issue expected")
			}
		})
	}
}

func TestBadCredentialsAndRefused(t *testing.T) {
	e := newEnv(t)
	t.Setenv("JIRA_TEST_TOKEN", "wrong-token-value")
	t.Setenv("JIRA_TEST_EMAIL", sandbox.JiraEmail)
	store, err := connectors.NewStore(connectors.Def{ID: "j2", Type: ".jira", Config: map[string]any{"apiUrl": e.srv.URL, "projectKey": "SEC"},
		Secrets: map[string]string{"email": "${env:JIRA_TEST_EMAIL}", "apiToken": "${env:JIRA_TEST_TOKEN}"}})
	if err != nil {
		t.Fatal(err)
	}
	in := pushInput()
	in.ConnectorID = "j2"
	_, err = Run(bg, connectors.NewRuntime(store, nil, nil), in)
	se := activitytest.StepError(t, err)
	if se.Retryable || !strings.Contains(se.Message, "status code 401") || strings.Contains(se.Message, "wrong-token-value") {
		t.Fatalf("error = %+v", se)
	}
	e.srv.Close()
	_, err = Run(bg, e.rt, pushInput())
	if se := activitytest.StepError(t, err); se.Type != "ConnectionRefused" || !se.Retryable {
		t.Fatalf("refused: %+v", se)
	}
	activitytest.NoSecrets(t, err, secrets...)
}
