package jira

import (
	"context"
	"strings"
	"time"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// Sub-actions.
const (
	subPush              = "pushToService"
	subGetIncident       = "getIncident"
	subIssue             = "issue"
	subIssues            = "issues"
	subIssueTypes        = "issueTypes"
	subFieldsByIssueType = "fieldsByIssueType"
	subGetFields         = "getFields"
	subHandshake         = "handshake"
	subAddComment        = "addComment"
	subTransition        = "transition"
)

var subActions = []string{subPush, subGetIncident, subIssue, subIssues, subIssueTypes, subFieldsByIssueType,
	subGetFields, subHandshake, subAddComment, subTransition}

// Param names.
const (
	pIncident     = "incident"
	pComments     = "comments"
	pComment      = "comment"
	pCommentID    = "commentId"
	pExternalID   = "externalId"
	pID           = "id"
	pTitle        = "title"
	pTransitionID = "transitionId"
	pStatus       = "status"
)

const doc = "Runs a sub-action of Kibana's `.jira` connector against the Jira REST API v2 with the connector's " +
	"credentials (`config.apiUrl`, `config.projectKey`, `secrets.email`, `secrets.apiToken`; basic auth):\n\n" +
	"- `pushToService` {incident: {summary, description?, externalId?, issueType?, priority?, labels?, parent?, " +
	"otherFields?}, comments?: [{comment, commentId}]} creates the issue (or updates issue `externalId`) and adds the " +
	"comments → `{id, title, pushedDate, url, comments?: [{commentId, pushedDate}]}` (`title` is the issue key).\n" +
	"- `getIncident` {externalId} → `{id, key, created, updated, ...fields}`\n" +
	"- `issue` {id} → `{id, key, title}`; `issues` {title} → `[{id, key, title}]` (summary search)\n" +
	"- `issueTypes` → `[{id, name}]`; `fieldsByIssueType` {id} and `getFields` → field descriptions; `handshake` → `{}`\n" +
	"- secflow extensions: `addComment` {externalId, comment} → `{commentId, pushedDate}`; `transition` " +
	"{externalId, transitionId | status} → `{id, key, status}`.\n\n" +
	"A retried step creates nothing twice: created issues carry the label `secflow-<hash of the idempotency key>` " +
	"and a retry finds them with JQL `labels = \"<label>\"`; comments carry the key in the entity property " +
	"`secflow.idempotency`; a transition to the status the issue already has is skipped. Jira errors fail with " +
	"`ConnectorExecutionError` (\"[Action][Jira]: Unable to create incident. Error: Request failed with status code " +
	"400. Reason: ...\"); 429 and 5xx are retryable and honour `Retry-After`."

var output = step.Output{
	Doc:     "Depends on the sub-action; pushToService returns the pushed issue.",
	Example: `{"id": "10001", "title": "SEC-1", "pushedDate": "2024-05-01T10:00:00.000Z", "url": "https://acme.atlassian.net/browse/SEC-1", "comments": [{"commentId": "c1", "pushedDate": "2024-05-01T10:00:01.000Z"}]}`,
}

var bareSpec = &step.Spec{
	Type:     "jira",
	Kind:     step.KindActivity,
	Category: "notify",
	Status:   step.StatusCore,
	Summary:  "Run a .jira connector sub-action given as {subAction, subActionParams}.",
	Doc:      doc,
	With: []step.Field{
		{Name: "subAction", Type: step.String, Required: true, Enum: subActions, Doc: "The sub-action."},
		{Name: "subActionParams", Type: step.Object, Required: true, Doc: "The sub-action's params (see jira.*)."},
	},
	NeedsConnector: true,
	Output:         output,
	Examples: []step.Example{{
		Title: "Open a ticket",
		YAML: `- name: ticket
  type: jira
  connector-id: soc-jira
  with:
    subAction: pushToService
    subActionParams:
      incident:
        summary: "{{ event.alerts[0].kibana.alert.rule.name }}"
        description: "Case {{ steps.open_case.output.case.id }}"
        labels: [secflow]`,
	}},
	Activity:  Run,
	Timeout:   2 * time.Minute,
	Heartbeat: true,
	Source:    "activities/jira/jira.go",
}

var familySpec = &step.Spec{
	Type:     "jira.*",
	Kind:     step.KindActivity,
	Category: "notify",
	Status:   step.StatusCore,
	Summary:  "Run a .jira connector sub-action: jira.pushToService, jira.getIncident, jira.issues, jira.addComment, jira.transition, ...",
	Doc:      doc,
	OpenWith: true,
	With: []step.Field{
		{Name: pIncident, Type: step.Object, Doc: "pushToService: the issue (summary, description, externalId, issueType, priority, labels, parent, otherFields)."},
		{Name: pComments, Type: step.List, Doc: "pushToService: comments [{comment, commentId}] to add."},
		{Name: pExternalID, Type: step.String, Doc: "getIncident, addComment, transition: the issue id or key.", Example: "SEC-1"},
		{Name: pID, Type: step.String, Doc: "issue: the issue id or key; fieldsByIssueType: the issue type id."},
		{Name: pTitle, Type: step.String, Doc: "issues: text to search in summaries."},
		{Name: pComment, Type: step.String, Doc: "addComment: the comment text."},
		{Name: pTransitionID, Type: step.String, Doc: "transition: the transition id."},
		{Name: pStatus, Type: step.String, Doc: "transition: the target status name (instead of transitionId).", Example: "Done"},
	},
	NeedsConnector: true,
	Output:         output,
	Examples: []step.Example{{
		Title: "Comment on and close a ticket",
		YAML: `- name: comment
  type: jira.addComment
  connector-id: soc-jira
  with:
    externalId: "{{ steps.ticket.output.title }}"
    comment: "{{ steps.triage.output.message }}"
- name: close
  type: jira.transition
  connector-id: soc-jira
  with:
    externalId: "{{ steps.ticket.output.title }}"
    status: Done`,
	}},
	Activity:  Run,
	Timeout:   2 * time.Minute,
	Heartbeat: true,
	Source:    "activities/jira/jira.go",
}

func init() {
	step.Register(bareSpec)
	step.Register(familySpec)
}

// Run performs `jira` and `jira.<subAction>`.
func Run(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	sub, params := activitykit.SubAction(in, "jira")
	known := false
	for _, s := range subActions {
		known = known || s == sub
	}
	if !known {
		return nil, step.Errorf("InputValidationError", "jira: unknown sub-action %q (%s)", sub, strings.Join(subActions, ", "))
	}
	stop := activitykit.KeepAlive(ctx, 0)
	defer stop()
	c, err := newClient(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	switch sub {
	case subPush:
		return c.push(ctx, params, in.IdempotencyKey)
	case subGetIncident:
		return c.getIncident(ctx, str(params, pExternalID))
	case subIssue:
		return c.issue(ctx, str(params, pID))
	case subIssues:
		return c.issues(ctx, str(params, pTitle))
	case subIssueTypes:
		return c.issueTypes(ctx)
	case subFieldsByIssueType:
		return c.fieldsByIssueType(ctx, str(params, pID))
	case subGetFields:
		return c.getFields(ctx)
	case subHandshake:
		return map[string]any{}, nil
	case subAddComment:
		return c.addCommentStep(ctx, params, in.IdempotencyKey)
	default:
		return c.transition(ctx, params)
	}
}

// str reads a param as a string (numbers rendered as JavaScript does).
func str(params map[string]any, key string) string {
	if params[key] == nil {
		return ""
	}
	return activitykit.Stringify(params[key])
}
