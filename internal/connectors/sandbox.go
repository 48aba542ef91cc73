package connectors

import (
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/secflow/secflow/internal/sandbox"
)

// ForSandbox returns a store whose default connectors point at the sandbox
// fakes, keyed by service name as sandbox.URL returns them
// ("elasticsearch", "kibana", "openai", "slack", "pagerduty", "jira",
// "smtp"); services missing from urls get no connector. Credentials are the
// sandbox's fixed ones (sandbox/credentials.go), held in memory.
//
// Connector ids (each also the default of its type); the Slack webhook and
// PagerDuty connectors are named "soc-slack" and "pagerduty-oncall", the
// names the bundled demo definition uses:
//
//	elasticsearch  .elasticsearch  config.url
//	kibana         .kibana         config.url, space "default"
//	openai         .gen-ai         config.apiProvider OpenAI, apiUrl …/v1/chat/completions, defaultModel
//	slack          .slack          secrets.webhookUrl
//	slack-api      .slack_api      config.apiUrl …/api/, secrets.token
//	pagerduty      .pagerduty      config.apiUrl …/v2/enqueue, secrets.routingKey
//	jira           .jira           config.apiUrl, projectKey; secrets.email, apiToken
//	email          .email          config.host, port, from, secure false; secrets.user, password
func ForSandbox(urls map[string]string) *Store {
	s, _ := NewStore()
	add := func(d Def, literal map[string]string) {
		d.Default = true
		d.literal = literal
		_ = s.Add(d) // ids are unique and there are no references
	}
	if u := trim(urls["elasticsearch"]); u != "" {
		add(Def{ID: "elasticsearch", Name: "Elasticsearch (sandbox)", Type: TypeElasticsearch,
			Config: map[string]any{"url": u}}, map[string]string{"apiKey": sandbox.ElasticsearchAPIKey})
	}
	if u := trim(urls["kibana"]); u != "" {
		add(Def{ID: "kibana", Name: "Kibana (sandbox)", Type: TypeKibana,
			Config: map[string]any{"url": u, "space": "default"}}, map[string]string{"apiKey": sandbox.KibanaAPIKey})
	}
	if u := trim(urls["openai"]); u != "" {
		add(Def{ID: "openai", Name: "OpenAI (sandbox)", Type: TypeGenAI,
			Config: map[string]any{"apiProvider": "OpenAI", "apiUrl": u + "/v1/chat/completions", "defaultModel": "gpt-4o-mini"}},
			map[string]string{"apiKey": sandbox.OpenAIAPIKey})
	}
	if u := trim(urls["slack"]); u != "" {
		add(Def{ID: "slack", Name: "soc-slack", Type: TypeSlack, Config: map[string]any{}},
			map[string]string{"webhookUrl": u + sandbox.SlackWebhookPath})
		add(Def{ID: "slack-api", Name: "Slack (sandbox)", Type: TypeSlackAPI,
			Config: map[string]any{"apiUrl": u + "/api/"}}, map[string]string{"token": sandbox.SlackToken})
	}
	if u := trim(urls["pagerduty"]); u != "" {
		add(Def{ID: "pagerduty", Name: "pagerduty-oncall", Type: TypePagerDuty,
			Config: map[string]any{"apiUrl": u + "/v2/enqueue"}}, map[string]string{"routingKey": sandbox.PagerDutyRoutingKey})
	}
	if u := trim(urls["jira"]); u != "" {
		add(Def{ID: "jira", Name: "Jira (sandbox)", Type: TypeJira,
			Config: map[string]any{"apiUrl": u, "projectKey": sandbox.JiraProjectKey}},
			map[string]string{"email": sandbox.JiraEmail, "apiToken": sandbox.JiraAPIToken})
	}
	if u := trim(urls["smtp"]); u != "" {
		host, port := hostPort(u)
		add(Def{ID: "email", Name: "Email (sandbox)", Type: TypeEmail,
			Config: map[string]any{"host": host, "port": float64(port), "from": "secflow@sandbox.local", "secure": false, "hasAuth": true}},
			map[string]string{"user": sandbox.SMTPUser, "password": sandbox.SMTPPassword})
	}
	return s
}

func trim(u string) string { return strings.TrimRight(u, "/") }

// hostPort splits "smtp://host:port", "http://host:port" or "host:port".
func hostPort(raw string) (string, int) {
	hp := raw
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		hp = u.Host
	}
	h, p, err := net.SplitHostPort(hp)
	if err != nil {
		return hp, 25
	}
	n, _ := strconv.Atoi(p)
	return h, n
}

// SandboxServices are the fake names ForSandbox knows.
var SandboxServices = []string{"elasticsearch", "kibana", "openai", "slack", "pagerduty", "jira", "smtp"}

// URLer is what FromSandbox needs of a running sandbox (*sandbox.Sandbox).
type URLer interface{ URL(name string) string }

// FromSandbox is ForSandbox with the URLs of a running sandbox.
func FromSandbox(sb URLer) *Store {
	urls := map[string]string{}
	for _, n := range SandboxServices {
		if u := sb.URL(n); u != "" {
			urls[n] = u
		}
	}
	return ForSandbox(urls)
}
