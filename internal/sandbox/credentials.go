package sandbox

// Credentials the fakes accept. They are not secrets: the sandbox only
// listens on loopback and exists for tests and `secflow dev --sandbox`.
// connectors.ForSandbox configures the default connectors with them, and
// each fake rejects a request without them the way the real service does
// (401 for Elasticsearch, Kibana and OpenAI; the service's own error shape
// elsewhere).
const (
	// ElasticsearchAPIKey is the encoded API key ("Authorization: ApiKey <key>").
	ElasticsearchAPIKey = "c2FuZGJveC1lczpzYW5kYm94LWVzLXNlY3JldA=="
	// KibanaAPIKey is the encoded API key ("Authorization: ApiKey <key>").
	KibanaAPIKey = "c2FuZGJveC1rYm46c2FuZGJveC1rYm4tc2VjcmV0"
	// OpenAIAPIKey is the bearer token of the OpenAI-compatible endpoint.
	OpenAIAPIKey = "sk-sandbox-openai-key"
	// SlackToken is the bot token of the Slack Web API fake (.slack_api).
	SlackToken = "xoxb-sandbox-slack-token"
	// SlackWebhookPath is the path of the incoming-webhook URL (.slack).
	SlackWebhookPath = "/services/T00000000/B00000000/sandboxwebhooksecret"
	// PagerDutyRoutingKey is the Events API v2 integration (routing) key.
	PagerDutyRoutingKey = "sandboxpagerdutyroutingkey000000"
	// JiraEmail and JiraAPIToken are the basic-auth credentials of the Jira fake.
	JiraEmail    = "secflow@sandbox.local"
	JiraAPIToken = "sandbox-jira-api-token"
	// JiraProjectKey is the project the Jira fake knows.
	JiraProjectKey = "SEC"
	// SMTPUser and SMTPPassword are the AUTH credentials of the SMTP fake.
	SMTPUser     = "secflow"
	SMTPPassword = "sandbox-smtp-password"
)
