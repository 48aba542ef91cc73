package cases

import (
	"context"
	"net/http"
	"net/url"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// Field names of cases.createCase.
const (
	fTitle        = "title"
	fDescription  = "description"
	fOwner        = "owner"
	fTags         = "tags"
	fSeverity     = "severity"
	fAssignees    = "assignees"
	fSettings     = "settings"
	fCategory     = "category"
	fCustomFields = "customFields"
)

// caseConnectorTypes are the connector types a case can be pushed to.
var caseConnectorTypes = []string{".jira", ".servicenow", ".servicenow-sir", ".resilient", ".swimlane", ".cases-webhook", ".theHive"}

var createCaseSpec = &step.Spec{

	Status:   step.StatusNewer,
	Type:     "cases.createCase",
	Kind:     step.KindActivity,
	Category: "cases",
	Summary:  "Create a case (POST /api/cases); output {case}.",
	Doc: "Creates a case in the run's space. `connector-id` attaches an external case connector (Jira, " +
		"ServiceNow, ...) from connectors.yaml (error `Connector configuration not found: <id>` if unknown); " +
		"without it the case has no connector. The step is idempotent: the " +
		"case is tagged `secflow-idem:<hash of the step's idempotency key>` and a retry finds it instead of " +
		"creating another case.",
	Config: []step.Field{pushField},
	With: []step.Field{
		{Name: fTitle, Type: step.String, Required: true, Doc: "Case title (≤ 160 characters)."},
		{Name: fDescription, Type: step.String, Required: true, Doc: "Case description (Markdown)."},
		{Name: fOwner, Type: step.String, Required: true, Enum: []string{"securitySolution", "observability", "cases"}, Doc: "Owning application."},
		{Name: fTags, Type: step.List, Doc: "Tags."},
		{Name: fSeverity, Type: step.String, Default: "low", Enum: []string{"low", "medium", "high", "critical"}, Doc: "Severity."},
		{Name: fAssignees, Type: step.List, Doc: "Assignees: [{uid}]."},
		{Name: fSettings, Type: step.Object, Default: map[string]any{"syncAlerts": true}, Doc: "Settings: {syncAlerts}."},
		{Name: fCategory, Type: step.String, Doc: "Category."},
		{Name: fCustomFields, Type: step.List, Doc: "Custom fields: [{key, type, value}]."},
	},
	Output: step.Output{Doc: "The created case.", Example: caseExample},
	Examples: []step.Example{{Title: "Open a case for an alert", YAML: `- name: create_case
  type: cases.createCase
  with:
    title: "Investigation: {{ event.rule.name }}"
    description: "Auto-generated case"
    owner: securitySolution
    severity: high
    tags: [automated]`}},
	Activity:  createCase,
	Timeout:   defaultTimeout,
	Heartbeat: true,
	Source:    "activities/cases/create_case.go",
}

func init() { step.Register(createCaseSpec) }

func createCase(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	title, err := required(in, fTitle)
	if err != nil {
		return nil, err
	}
	owner, err := required(in, fOwner)
	if err != nil {
		return nil, err
	}
	if _, ok := in.With[fDescription]; !ok {
		return nil, step.Errorf("InputValidationError", "cases.createCase: with.description is required")
	}
	connector := map[string]any{"id": "none", "name": "none", "type": ".none", "fields": nil}
	if ref := in.ConnectorID; ref != "" {
		c, err := rt.Connector(ctx, ref, caseConnectorTypes...)
		if err != nil {
			return nil, step.Errorf("Error", "Connector configuration not found: %s", ref)
		}
		connector = map[string]any{"id": c.ID, "name": c.Name, "type": c.Type, "fields": connectorFields(c.Type)}
	}
	a, err := newAPI(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	settings := in.Map(fSettings)
	if settings == nil {
		settings = map[string]any{"syncAlerts": true}
	}
	body := map[string]any{
		fTitle: title, fDescription: in.String(fDescription), fOwner: owner, fTags: in.With[fTags],
		fSettings: settings, "connector": connector,
	}
	if s := in.String(fSeverity); s != "" {
		body[fSeverity] = s
	}
	for _, k := range []string{fAssignees, fCategory, fCustomFields} {
		if v, ok := in.With[k]; ok && v != nil {
			body[k] = v
		}
	}
	c, created, err := a.createOnce(ctx, in, owner, body)
	if err != nil {
		return nil, err
	}
	if !created {
		return caseOutput(c), nil
	}
	if c, err = a.push(ctx, in, c); err != nil {
		return nil, err
	}
	return caseOutput(c), nil
}

// createOnce creates the case body unless an earlier attempt of the step
// did (found by its idempotency tag, which it adds to the tags); created is
// false when it returns that earlier case.
func (a *api) createOnce(ctx context.Context, in step.Input, owner string, body map[string]any) (c map[string]any, created bool, err error) {
	tags := activitykit.StringSlice(body[fTags])
	if in.IdempotencyKey != "" {
		idem := IdemTag(in.IdempotencyKey)
		existing, err := a.findByTag(ctx, idem, owner)
		if err != nil || existing != nil {
			return existing, false, err
		}
		tags = append(tags, idem)
	}
	body[fTags] = toAny(tags)
	out, err := a.call(ctx, http.MethodPost, "/api/cases", nil, body)
	if err != nil {
		return nil, false, err
	}
	c, ok := out.(map[string]any)
	if !ok {
		return nil, false, step.Errorf("Error", "unexpected Cases API response creating a case")
	}
	return c, true, nil
}

// findByTag returns the first case carrying tag (with comments), or nil.
func (a *api) findByTag(ctx context.Context, tag, owner string) (map[string]any, error) {
	q := url.Values{"tags": {tag}, "perPage": {"1"}, "page": {"1"}}
	if owner != "" {
		q.Set("owner", owner)
	}
	out, err := a.call(ctx, http.MethodGet, "/api/cases/_find", q, nil)
	if err != nil {
		return nil, err
	}
	m, _ := out.(map[string]any)
	list, _ := m["cases"].([]any)
	if len(list) == 0 {
		return nil, nil
	}
	first, _ := list[0].(map[string]any)
	id, _ := first["id"].(string)
	if id == "" {
		return nil, nil
	}
	return a.get(ctx, id, true)
}

// connectorFields is the empty "fields" object Kibana expects per case
// connector type.
func connectorFields(typ string) any {
	switch typ {
	case ".jira":
		return map[string]any{"issueType": nil, "priority": nil, "parent": nil}
	case ".servicenow":
		return map[string]any{"impact": nil, "severity": nil, "urgency": nil, "category": nil, "subcategory": nil}
	case ".servicenow-sir":
		return map[string]any{"category": nil, "destIp": nil, "malwareHash": nil, "malwareUrl": nil, "priority": nil, "sourceIp": nil, "subcategory": nil}
	case ".resilient":
		return map[string]any{"incidentTypes": nil, "severityCode": nil}
	case ".swimlane":
		return map[string]any{"caseId": nil}
	}
	return nil
}
