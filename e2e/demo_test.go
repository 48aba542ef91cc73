package e2e

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/secflow/secflow/internal/sandbox"
	"github.com/secflow/secflow/internal/searchattr"
	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/starter"
)

// The bundled demo (issue 5's seed pattern) and its demo alert.
const (
	demoDir   = "../definitions"
	demoID    = "demo-alert-triage"
	demoAlert = "../definitions/demo-alert.json"
	demoHost  = "ws-042"
	demoUser  = "jdoe"
	demoRule  = "Suspicious PowerShell Download"
)

// seedContext indexes the host and user context the demo looks up:
// 3 events of the alert's host (one also of its user), 1 more of the
// user elsewhere, and 2 of unrelated hosts and users.
func seedContext(sb *sandbox.Sandbox) {
	es := sb.Service("elasticsearch").(*sandbox.Elasticsearch)
	doc := func(id, host, user string) map[string]any {
		return map[string]any{"_id": id, "@timestamp": "2026-11-26T09:59:00.000Z",
			"host": map[string]any{"name": host}, "user": map[string]any{"name": user},
			"event": map[string]any{"action": "process_started"}}
	}
	es.Seed("logs-endpoint.events.process-default",
		doc("e1", demoHost, demoUser), doc("e2", demoHost, "svc-backup"), doc("e3", demoHost, "system"),
		doc("e4", "ws-100", demoUser), doc("e5", "ws-200", "alice"))
	es.Seed("metrics-system-default", doc("m1", demoHost, demoUser)) // not logs-*: must not count
}

// demoRun is one finished run of the demo against the sandbox.
type demoRun struct {
	p     *product
	run   starter.StartResult
	res   interpreter.RunResult
	event map[string]any
	alert string // the alert's _id
}

// runDemo posts the demo alert with the given severity and waits for the run.
func runDemo(t *testing.T, p *product, severity string) demoRun {
	t.Helper()
	raw, ev := alertEvent(t, demoAlert, severity)
	run := p.startAlert(t, raw)
	if run.Definition != demoID {
		t.Fatalf("the alert started %q, want %q", run.Definition, demoID)
	}
	d := demoRun{p: p, run: run, event: ev, alert: get(ev["alerts"].([]any)[0], "_id").(string)}
	d.res = p.result(t, run.WorkflowID, run.RunID)
	return d
}

// TestDemoAlertTriage (issue 5): the bundled demo definition, loaded from
// definitions/ as `secflow dev` loads it, runs end to end on the real
// server against the sandbox fakes for a high and a critical alert. It
// asserts every request the fakes received, the final case, and the run.
func TestDemoAlertTriage(t *testing.T) {
	for _, tc := range []struct {
		severity string
		paged    bool // PagerDuty instead of Slack
	}{
		{severity: "high"},
		{severity: "critical", paged: true},
	} {
		t.Run(tc.severity, func(t *testing.T) {
			p := start(t, config{defsDir: demoDir})
			seedContext(p.sandbox)
			d := runDemo(t, p, tc.severity)
			if d.res.Status != interpreter.StatusCompleted || d.res.Error != nil {
				t.Fatalf("run result %+v, want completed", d.res)
			}
			checkSteps(t, d, tc.paged)
			caseID := checkKibana(t, d, tc.severity)
			checkElasticsearch(t, d)
			checkNotification(t, d, tc.severity, caseID, tc.paged)
			checkRequestSequence(t, d, tc.paged)
			p.replay(t, d.run.WorkflowID, d.run.RunID)
		})
	}
}

// checkSteps: every step ran and completed; the branch not taken and the
// AI fallback did not run.
func checkSteps(t *testing.T, d demoRun, paged bool) {
	t.Helper()
	st, err := d.p.state(d.run.WorkflowID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != interpreter.StatusCompleted || st.Definition != demoID {
		t.Errorf("state %s of %q, want completed of %q", st.Status, st.Definition, demoID)
	}
	notify := "route/notify_slack"
	if paged {
		notify = "route/page_oncall"
	}
	want := []string{"announce", "host_context", "user_context", "create_case", "alert_refs", "attach_alerts",
		"triage_summary", "add_summary", "route", notify}
	var got []string
	for _, s := range st.Steps {
		got = append(got, s.Path)
		if s.Status != interpreter.StatusCompleted || s.Error != nil {
			t.Errorf("step %s: %s %+v", s.Path, s.Status, s.Error)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("steps ran %q, want %q", got, want)
	}

	// Every side-effecting step is one activity in history, identified by
	// its path (nested too) and summarised by name and type for the UI;
	// console, data.map and if run in workflow code.
	wantActs := []string{
		"host_context elasticsearch.search [host_context (elasticsearch.search)]",
		"user_context elasticsearch.search [user_context (elasticsearch.search)]",
		"create_case cases.createCase [create_case (cases.createCase)]",
		"attach_alerts cases.addAlerts [attach_alerts (cases.addAlerts)]",
		"triage_summary ai.agent [triage_summary (ai.agent)]",
		"add_summary cases.addComment [add_summary (cases.addComment)]",
		"route/notify_slack slack [notify_slack (slack)]",
	}
	if paged {
		wantActs[len(wantActs)-1] = "route/page_oncall pagerduty [page_oncall (pagerduty)]"
	}
	if acts := scheduledActivities(t, d.p, d.run.WorkflowID, d.run.RunID); !slices.Equal(acts, wantActs) {
		t.Errorf("scheduled activities:\n  %s\nwant:\n  %s", strings.Join(acts, "\n  "), strings.Join(wantActs, "\n  "))
	}
}

// checkKibana: the case carries the alert's fields, the alert is attached,
// Agent Builder was asked about the alert, and its answer is the case
// comment. Returns the case id.
func checkKibana(t *testing.T, d demoRun, severity string) string {
	t.Helper()
	kb := d.p.sandbox.Service("kibana").(*sandbox.Kibana)
	cases := kb.Cases()
	if len(cases) != 1 {
		t.Fatalf("Kibana holds %d cases, want 1: %+v", len(cases), cases)
	}
	c := cases[0]
	if c.Title != demoRule+" on "+demoHost {
		t.Errorf("case title %q", c.Title)
	}
	for _, want := range []string{
		"Rule: " + demoRule + " (rule-7f3e)", "Severity: " + severity, "Host: " + demoHost + " / user: " + demoUser,
		"Reason: process event with process powershell.exe", "Related host events: 3",
	} {
		if !strings.Contains(c.Description, want) {
			t.Errorf("case description lacks %q:\n%s", want, c.Description)
		}
	}
	if c.Severity != severity || c.Owner != "securitySolution" || c.Status != "open" || c.Space != "default" {
		t.Errorf("case severity %q owner %q status %q space %q", c.Severity, c.Owner, c.Status, c.Space)
	}
	if !slices.Contains(c.Tags, "secflow") || !slices.Contains(c.Tags, "rule:rule-7f3e") {
		t.Errorf("case tags %q lack secflow and rule:rule-7f3e", c.Tags)
	}

	convs := kb.Conversations()
	if len(convs) != 1 || len(convs[0].Rounds) != 1 || convs[0].AgentID != "elastic-ai-agent" {
		t.Fatalf("Agent Builder conversations %+v, want one round with elastic-ai-agent", convs)
	}
	input, _ := convs[0].Rounds[0].Input["message"].(string)
	for _, want := range []string{"triage summary", `"_id":"` + d.alert + `"`, `"name":"` + demoHost + `"`, "powershell.exe", `"severity":"` + severity + `"`} {
		if !strings.Contains(input, want) {
			t.Errorf("converse input lacks %q (the alert as JSON):\n%s", want, input)
		}
	}
	answer, _ := convs[0].Rounds[0].Response["message"].(string)

	if len(c.Comments) != 2 {
		t.Fatalf("case comments %+v, want the alert and the AI summary", c.Comments)
	}
	if a := c.Comments[0]; a.Type != "alert" || a.AlertID != d.alert || a.Index != ".internal.alerts-security.alerts-default-000001" ||
		a.RuleID != "rule-7f3e" || a.RuleName != demoRule {
		t.Errorf("first attachment %+v, want the alert %s with its index and rule", a, d.alert)
	}
	if u := c.Comments[1]; u.Type != "user" || answer == "" || u.Comment != "AI triage: "+answer {
		t.Errorf("second attachment %+v, want the user comment \"AI triage: \" + the agent's answer %q", u, answer)
	}
	// The case id is recorded on the run (CaseId search attribute).
	if got := d.p.keyword(t, d.run.WorkflowID, searchattr.CaseID); got != c.ID {
		t.Errorf("CaseId search attribute %q, want %q", got, c.ID)
	}
	return c.ID
}

// checkElasticsearch: one search for the host and one for the user, both
// on the context index with the alert's values, authenticated.
func checkElasticsearch(t *testing.T, d demoRun) {
	t.Helper()
	reqs := d.p.sandbox.ReceivedBy("elasticsearch")
	var terms []string
	for _, r := range reqs {
		if r.Path != "/logs-*/_search" || (r.Method != http.MethodGet && r.Method != http.MethodPost) ||
			!strings.HasPrefix(strings.ToLower(r.Header["Authorization"]), "apikey ") {
			t.Errorf("unexpected Elasticsearch request %s %s (auth %q)", r.Method, r.Path, r.Header["Authorization"])
			continue
		}
		b := jsonBody(r)
		if get(b, "size") != 5.0 {
			t.Errorf("search size %v, want 5", get(b, "size"))
		}
		filter, _ := get(b, "query.bool.filter").([]any)
		if len(filter) == 1 {
			for field, v := range get(filter[0], "term").(map[string]any) {
				terms = append(terms, fmt.Sprintf("%s=%v", field, v))
			}
		}
	}
	if want := []string{"host.name=" + demoHost, "user.name=" + demoUser}; !slices.Equal(terms, want) {
		t.Errorf("Elasticsearch term filters %q, want %q (%d requests)", terms, want, len(reqs))
	}
	// The searches' answers reached the run (the case description counts
	// host events; here the raw outputs).
	steps := d.p.steps(t, d.run.WorkflowID).Steps
	if v := get(steps["host_context"], "output.hits.total.value"); v != 3.0 {
		t.Errorf("host_context hits %v, want 3", v)
	}
	if v := get(steps["user_context"], "output.hits.total.value"); v != 2.0 {
		t.Errorf("user_context hits %v, want 2", v)
	}
}

// checkNotification: Slack got the message for high, PagerDuty the
// trigger for critical, and the other service nothing at all.
func checkNotification(t *testing.T, d demoRun, severity, caseID string, paged bool) {
	t.Helper()
	slack := d.p.sandbox.Service("slack").(*sandbox.Slack)
	pd := d.p.sandbox.Service("pagerduty").(*sandbox.PagerDuty)
	slackReqs, pdReqs := d.p.sandbox.ReceivedBy("slack"), d.p.sandbox.ReceivedBy("pagerduty")
	if paged {
		if len(slackReqs) != 0 || len(slack.Messages()) != 0 {
			t.Errorf("a critical alert reached Slack: %+v", slackReqs)
		}
		events := pd.Events()
		if len(pdReqs) != 1 || len(events) != 1 {
			t.Fatalf("PagerDuty received %d requests / %d events, want 1 trigger", len(pdReqs), len(events))
		}
		e := events[0]
		wantSummary := fmt.Sprintf("CRITICAL %s on %s (case %s)", demoRule, demoHost, caseID)
		if e.Action != "trigger" || get(e.Payload, "summary") != wantSummary || get(e.Payload, "severity") != "critical" ||
			get(e.Payload, "source") != demoHost {
			t.Errorf("PagerDuty event %+v, want trigger %q critical from %s", e, wantSummary, demoHost)
		}
		// Idempotency: the dedup key is the step's key <workflowID>/<path>.
		if want := d.run.WorkflowID + "/route/page_oncall"; e.DedupKey != want {
			t.Errorf("dedup_key %q, want %q", e.DedupKey, want)
		}
		if pdReqs[0].Method != http.MethodPost || pdReqs[0].Path != "/v2/enqueue" {
			t.Errorf("PagerDuty request %s %s", pdReqs[0].Method, pdReqs[0].Path)
		}
		return
	}
	if len(pdReqs) != 0 || len(pd.Events()) != 0 {
		t.Errorf("a %s alert paged PagerDuty: %+v", severity, pdReqs)
	}
	msgs := slack.Messages()
	want := fmt.Sprintf("%s %s on %s - case %s", strings.ToUpper(severity), demoRule, demoHost, caseID)
	if len(slackReqs) != 1 || len(msgs) != 1 || !msgs[0].Webhook || msgs[0].Text != want {
		t.Fatalf("Slack received %d requests, messages %+v; want one webhook message %q", len(slackReqs), msgs, want)
	}
	if r := slackReqs[0]; r.Method != http.MethodPost || r.Path != sandbox.SlackWebhookPath {
		t.Errorf("Slack request %s %s, want POST to the webhook", r.Method, r.Path)
	}
}

// caseIDPath replaces case ids in request paths.
var caseIDPath = regexp.MustCompile(`^/api/cases/[0-9a-f-]{36}`)

// checkRequestSequence: the state-changing requests, in order, are exactly
// the demo's side effects; reads happen only on the APIs the steps use.
func checkRequestSequence(t *testing.T, d demoRun, paged bool) {
	t.Helper()
	var writes []string
	for _, r := range d.p.sandbox.Received() {
		path := caseIDPath.ReplaceAllString(r.Path, "/api/cases/{id}")
		line := r.Service + " " + r.Method + " " + path
		switch {
		case r.Service == "elasticsearch":
			// checked by checkElasticsearch
		case r.Method == http.MethodGet:
			if r.Service != "kibana" || !strings.HasPrefix(path, "/api/cases/") {
				t.Errorf("unexpected read %s", line)
			}
		default:
			if r.Service == "kibana" && r.Header["Kbn-Xsrf"] == "" {
				t.Errorf("%s without kbn-xsrf", line)
			}
			if r.Service == "kibana" && jsonBody(r)["type"] != nil {
				line += " " + fmt.Sprint(jsonBody(r)["type"])
			}
			writes = append(writes, line)
		}
	}
	want := []string{
		"kibana POST /api/cases",
		"kibana POST /api/cases/{id}/comments alert",
		"kibana POST /api/agent_builder/converse",
		"kibana POST /api/cases/{id}/comments user",
	}
	if paged {
		want = append(want, "pagerduty POST /v2/enqueue")
	} else {
		want = append(want, "slack POST "+sandbox.SlackWebhookPath)
	}
	if !slices.Equal(writes, want) {
		t.Errorf("state-changing requests:\n  %s\nwant:\n  %s", strings.Join(writes, "\n  "), strings.Join(want, "\n  "))
	}
}
