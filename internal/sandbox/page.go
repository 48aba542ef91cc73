package sandbox

import (
	"encoding/json"
	"html/template"
	"net/http"
)

// Snapshot is what the sandbox page shows: the state each fake built from
// the requests it received.
type Snapshot struct {
	Cases         []Case            `json:"cases"`
	SlackMessages []SlackMessage    `json:"slackMessages"`
	PagerDuty     []PagerDutyEvent  `json:"pagerDutyEvents"`
	JiraIssues    []JiraIssue       `json:"jiraIssues"`
	Emails        []SMTPMessage     `json:"emails"`
	Conversations []Conversation    `json:"agentConversations"`
	Requests      []Request         `json:"requests"`
	ServiceURLs   map[string]string `json:"serviceUrls"`
}

// Snapshot collects the current state of every running fake.
func (s *Sandbox) Snapshot() Snapshot {
	snap := Snapshot{Requests: s.Received(), ServiceURLs: map[string]string{}}
	for name, u := range s.urls {
		snap.ServiceURLs[name] = u
	}
	if k, ok := s.Service("kibana").(*Kibana); ok {
		snap.Cases = k.Cases()
		snap.Conversations = k.Conversations()
	}
	if sl, ok := s.Service("slack").(*Slack); ok {
		snap.SlackMessages = sl.Messages()
	}
	if pd, ok := s.Service("pagerduty").(*PagerDuty); ok {
		snap.PagerDuty = pd.Events()
	}
	if j, ok := s.Service("jira").(*Jira); ok {
		snap.JiraIssues = j.Issues()
	}
	if m, ok := s.Service("smtp").(*SMTP); ok {
		snap.Emails = m.Messages()
	}
	return snap
}

// PageHandler serves the sandbox page: HTML for browsers, JSON when the
// request asks for it (Accept: application/json or ?format=json).
func (s *Sandbox) PageHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		snap := s.Snapshot()
		if r.URL.Query().Get("format") == "json" || r.Header.Get("Accept") == "application/json" {
			w.Header().Set("Content-Type", "application/json")
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			_ = enc.Encode(snap)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := pageTemplate.Execute(w, snap); err != nil {
			http.Error(w, "rendering the sandbox page: "+err.Error(), http.StatusInternalServerError)
		}
	})
}

var pageTemplate = template.Must(template.New("sandbox").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>secflow sandbox</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:72em;color:#222}
h1{font-size:1.4em} h2{font-size:1.1em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%;font-size:.9em} td,th{border:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}
pre{white-space:pre-wrap;margin:0} .muted{color:#777}
</style></head><body>
<h1>secflow sandbox</h1>
<p class="muted">What the fake outside systems received during this <code>secflow dev</code> session. JSON: <a href="?format=json">?format=json</a>.</p>

<h2>Kibana cases ({{len .Cases}})</h2>
{{range .Cases}}<table>
<tr><th>Case</th><td><b>{{.Title}}</b> <span class="muted">{{.ID}} · {{.Severity}} · {{.Status}} · owner {{.Owner}}</span></td></tr>
<tr><th>Description</th><td><pre>{{.Description}}</pre></td></tr>
<tr><th>Tags</th><td>{{range .Tags}}{{.}} {{end}}</td></tr>
{{range .Comments}}<tr><th>{{if eq .Type "alert"}}Alert{{else}}Comment{{end}}</th><td>{{if eq .Type "alert"}}{{.AlertID}} <span class="muted">{{.Index}} {{.RuleName}}</span>{{else}}<pre>{{.Comment}}</pre>{{end}}</td></tr>
{{end}}</table><br>{{else}}<p class="muted">none</p>{{end}}

<h2>Slack messages ({{len .SlackMessages}})</h2>
{{if .SlackMessages}}<table><tr><th>Channel</th><th>Text</th></tr>
{{range .SlackMessages}}<tr><td>{{if .ChannelName}}{{.ChannelName}}{{else}}{{.Channel}}{{end}}{{if .Webhook}} <span class="muted">(webhook)</span>{{end}}</td><td><pre>{{.Text}}</pre></td></tr>
{{end}}</table>{{else}}<p class="muted">none</p>{{end}}

<h2>PagerDuty events ({{len .PagerDuty}})</h2>
{{if .PagerDuty}}<table><tr><th>Action</th><th>Dedup key</th><th>Summary</th></tr>
{{range .PagerDuty}}<tr><td>{{.Action}}</td><td>{{.DedupKey}}</td><td>{{index .Payload "summary"}}</td></tr>
{{end}}</table>{{else}}<p class="muted">none</p>{{end}}

<h2>Jira issues ({{len .JiraIssues}})</h2>
{{if .JiraIssues}}<table><tr><th>Key</th><th>Summary</th><th>Status</th></tr>
{{range .JiraIssues}}<tr><td>{{.Key}}</td><td>{{index .Fields "summary"}}</td><td>{{.Status}}</td></tr>
{{end}}</table>{{else}}<p class="muted">none</p>{{end}}

<h2>Emails ({{len .Emails}})</h2>
{{if .Emails}}<table><tr><th>To</th><th>Subject</th></tr>
{{range .Emails}}<tr><td>{{range .To}}{{.}} {{end}}</td><td>{{.Subject}}</td></tr>
{{end}}</table>{{else}}<p class="muted">none</p>{{end}}

<h2>All requests ({{len .Requests}})</h2>
<table><tr><th>Service</th><th>Request</th></tr>
{{range .Requests}}<tr><td>{{.Service}}</td><td><code>{{.Method}} {{.Path}}{{if .Query}}?{{.Query}}{{end}}</code></td></tr>
{{end}}</table>
</body></html>
`))
