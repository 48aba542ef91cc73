package cases

import (
	"context"
	"net/http"
	"net/url"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// The deprecated kibana.* case steps (semantics §6.0) are Kibana's
// OpenAPI-generated Cases API steps: `with` is the API request (path
// parameter caseId, query and body fields side by side) and the output is
// the API response as is (a case, not {case}). Kibana names them
// kibana.createCase or kibana.createCaseDefaultSpace (the older name, kept
// as an alias), and so on; both run in the run's space here.

// Field names of the deprecated steps.
const (
	fKbCaseID          = "caseId"
	fKbIncludeComments = "includeComments"
)

// rawCaseExample is the output of the deprecated steps returning a case.
const rawCaseExample = `{"id": "6f3c1d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f", "version": "WzEsMV0=", "title": "Suspicious login on web-1",
	"description": "Alert triage", "owner": "securitySolution", "status": "open", "severity": "high", "tags": ["automated"],
	"connector": {"id": "none", "name": "none", "type": ".none", "fields": null}, "settings": {"syncAlerts": true},
	"comments": [], "totalComment": 0, "totalAlerts": 0, "created_at": "2025-01-01T00:00:00.000Z"}`

var kbCaseIDField = step.Field{Name: fKbCaseID, Type: step.String, Required: true, Doc: "Case id (path parameter).",
	Example: "{{ steps.create_case.output.id }}"}

// deprecatedSteps are the deprecated case steps, each registered under its
// name and its *DefaultSpace alias.
var deprecatedSteps = []struct {
	name, replacement, summary, doc string
	with                            []step.Field
	output                          step.Output
	run                             step.ActivityFunc
	example                         string
}{
	{name: "createCase", replacement: "cases.createCase", summary: "Create a case (POST /api/cases); output the case.",
		doc: "`with` is the Create case API body. Kibana's API wants `connector` and `settings`; when absent secflow " +
			"sends no connector (`.none`) and `{syncAlerts: true}` (a leniency). Idempotent like cases.createCase " +
			"(tag `secflow-idem:<hash>`).",
		with: []step.Field{
			{Name: fTitle, Type: step.String, Required: true, Doc: "Case title (≤ 160 characters)."},
			{Name: fDescription, Type: step.String, Required: true, Doc: "Case description (Markdown)."},
			{Name: fOwner, Type: step.String, Required: true, Enum: []string{"securitySolution", "observability", "cases"}, Doc: "Owning application."},
			{Name: fTags, Type: step.List, Doc: "Tags."},
			{Name: fSeverity, Type: step.String, Enum: []string{"low", "medium", "high", "critical"}, Doc: "Severity (Kibana's default: low)."},
			{Name: "connector", Type: step.Object, Doc: "Case connector {id, name, type, fields}.", Example: map[string]any{"id": "none", "name": "none", "type": ".none", "fields": nil}},
			{Name: fSettings, Type: step.Object, Doc: "Settings: {syncAlerts}."},
			{Name: fAssignees, Type: step.List, Doc: "Assignees: [{uid}]."},
			{Name: fCategory, Type: step.String, Doc: "Category."},
			{Name: fCustomFields, Type: step.List, Doc: "Custom fields: [{key, type, value}]."},
		},
		output: step.Output{Doc: "The created case (Cases API response).", Example: rawCaseExample},
		run:    kbCreateCase,
		example: `- name: create_case
  type: kibana.createCaseDefaultSpace
  with:
    owner: securitySolution
    title: "Alert: {{ event.rule.name }}"
    description: Automated case for investigation
    severity: high
    tags: [automated]`},
	{name: "getCase", replacement: "cases.getCase", summary: "Get a case (GET /api/cases/{caseId}); output the case.",
		doc: "Fetches the case; comments are included unless `includeComments: false` (the API's default).",
		with: []step.Field{kbCaseIDField,
			{Name: fKbIncludeComments, Type: step.Bool, Default: true, Doc: "Include comments (deprecated in the API)."}},
		output: step.Output{Doc: "The case (Cases API response).", Example: rawCaseExample},
		run:    kbGetCase},
	{name: "updateCase", replacement: "cases.updateCase", summary: "Update cases (PATCH /api/cases); output the updated cases.",
		doc: "`with.cases` is the Update cases API body: `[{id, version, <fields>}]`. A missing version is fetched " +
			"(a leniency; Kibana requires it).",
		with: []step.Field{{Name: fCases, Type: step.List, Required: true, Doc: "Cases to update: [{id, version, title, status, ...}].",
			Example: []any{map[string]any{"id": "{{ steps.create_case.output.id }}", "version": "{{ steps.create_case.output.version }}", "status": "in-progress"}}}},
		output: step.Output{Doc: "The updated cases (Cases API response: a list).", Example: "[" + rawCaseExample + "]"},
		run:    kbUpdateCase},
	{name: "addCaseComment", replacement: "cases.addComment", summary: "Add a comment or alert to a case (POST /api/cases/{caseId}/comments); output the case.",
		doc: "`with` is caseId plus the Add case comment API body: `{type: user, comment, owner}` or " +
			"`{type: alert, alertId, index, rule: {id, name}, owner}`. Alerts already attached are not attached " +
			"again, and a retried attempt does not post a user comment the case already has.",
		with: []step.Field{kbCaseIDField,
			{Name: "type", Type: step.String, Required: true, Enum: []string{"user", "alert"}, Doc: "Attachment type."},
			{Name: fOwner, Type: step.String, Required: true, Doc: "Owner (the case's owner)."},
			{Name: fComment, Type: step.String, Doc: "Comment text (type user)."},
			{Name: "alertId", Type: step.Any, Doc: "Alert id or ids (type alert)."},
			{Name: "index", Type: step.Any, Doc: "Alert index or indices (type alert)."},
			{Name: "rule", Type: step.Object, Doc: "Rule {id, name} (type alert)."},
		},
		output: step.Output{Doc: "The case after the comment was added (Cases API response).", Example: rawCaseExample},
		run:    kbAddCaseComment},
}

func init() {
	for _, d := range deprecatedSteps {
		for _, typ := range []string{"kibana." + d.name, "kibana." + d.name + "DefaultSpace"} {
			s := &step.Spec{
				Status: step.StatusLegacy,
				Type:   typ, Kind: step.KindActivity, Category: "kibana",
				Summary: "Deprecated (→ " + d.replacement + "). " + d.summary,
				Doc: "Deprecated in Kibana in favour of `" + d.replacement + "`; kept for existing workflows. " + d.doc +
					" `kibana." + d.name + "` and `kibana." + d.name + "DefaultSpace` are the same step.",
				With: d.with, Output: d.output, Activity: d.run, Timeout: defaultTimeout, Heartbeat: true,
				Source: "activities/cases/deprecated_kibana.go",
			}
			if d.example != "" && typ == "kibana."+d.name+"DefaultSpace" {
				s.Examples = []step.Example{{Title: "Create a case (pre-9.4 workflows)", YAML: d.example}}
			}
			step.Register(s)
		}
	}
}

func kbCreateCase(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	if _, err := required(in, fTitle); err != nil {
		return nil, err
	}
	owner, err := required(in, fOwner)
	if err != nil {
		return nil, err
	}
	if _, ok := in.With[fDescription]; !ok {
		return nil, step.Errorf("InputValidationError", "%s: with.description is required", in.Type)
	}
	body := map[string]any{"connector": map[string]any{"id": "none", "name": "none", "type": ".none", "fields": nil},
		fSettings: map[string]any{"syncAlerts": true}}
	for _, k := range []string{fTitle, fDescription, fOwner, fTags, fSeverity, "connector", fSettings, fAssignees, fCategory, fCustomFields} {
		if v, ok := in.With[k]; ok && v != nil {
			body[k] = v
		}
	}
	a, err := newAPI(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	c, _, err := a.createOnce(ctx, in, owner, body)
	return c, err
}

func kbGetCase(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	id, err := required(in, fKbCaseID)
	if err != nil {
		return nil, err
	}
	with := true
	if v, ok := in.With[fKbIncludeComments]; ok && v != nil {
		with, _ = activitykit.Bool(v)
	}
	a, err := newAPI(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	return a.get(ctx, id, with)
}

func kbUpdateCase(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	list, _ := in.With[fCases].([]any)
	if len(list) == 0 {
		return nil, step.Errorf("InputValidationError", "%s: with.cases must hold at least one case", in.Type)
	}
	a, err := newAPI(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	body := make([]any, len(list))
	for i, raw := range list {
		m, _ := raw.(map[string]any)
		id := activitykit.Stringify(m["id"])
		if id == "" {
			return nil, step.Errorf("InputValidationError", "%s: cases[%d].id is required", in.Type, i)
		}
		item := make(map[string]any, len(m)+1)
		for k, v := range m {
			item[k] = v
		}
		if activitykit.Stringify(m[fVersion]) == "" {
			cur, err := a.get(ctx, id, false)
			if err != nil {
				return nil, err
			}
			item[fVersion] = cur[fVersion]
		}
		body[i] = item
	}
	return a.call(ctx, http.MethodPatch, "/api/cases", nil, map[string]any{"cases": body})
}

func kbAddCaseComment(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	id, err := required(in, fKbCaseID)
	if err != nil {
		return nil, err
	}
	typ := in.String("type")
	body := map[string]any{}
	for k, v := range in.With {
		if k != fKbCaseID {
			body[k] = v
		}
	}
	a, err := newAPI(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "alert":
		cur, err := a.get(ctx, id, true)
		if err != nil {
			return nil, err
		}
		attached := attachedAlerts(cur)
		ids := activitykit.StringSlice(in.With["alertId"])
		all := len(ids) > 0
		for _, aid := range ids {
			all = all && attached[aid]
		}
		if all {
			return cur, nil
		}
	case "user":
		if isRetry(ctx) {
			cur, err := a.get(ctx, id, true)
			if err != nil {
				return nil, err
			}
			if hasUserComment(cur, in.String(fComment)) {
				return cur, nil
			}
		}
	}
	return a.call(ctx, http.MethodPost, "/api/cases/"+url.PathEscape(id)+"/comments", nil, body)
}
