// Package all registers every integration's step types with the default
// step registry. Import it for its side effects: one line per integration
// package.
package all

import (
	_ "github.com/secflow/secflow/activities/ai"            // ai.agent, ai.prompt, ai.classify, ai.summarize
	_ "github.com/secflow/secflow/activities/cases"         // cases.*
	_ "github.com/secflow/secflow/activities/connector"     // generic connector fallback ("*")
	_ "github.com/secflow/secflow/activities/elasticsearch" // elasticsearch.*
	_ "github.com/secflow/secflow/activities/email"         // email
	_ "github.com/secflow/secflow/activities/http"          // http
	_ "github.com/secflow/secflow/activities/jira"          // jira, jira.*
	_ "github.com/secflow/secflow/activities/kibana"        // kibana.request, kibana.SetAlertsStatus, kibana.SetAlertTags
	_ "github.com/secflow/secflow/activities/pagerduty"     // pagerduty
	_ "github.com/secflow/secflow/activities/search"        // search.rerank
	_ "github.com/secflow/secflow/activities/slack"         // slack, slack_api, slack_api.*, slack2.*
)
