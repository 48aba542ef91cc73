package cases

import (
	"context"
	"net/http"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// Field names of cases.createCaseFromTemplate.
const (
	fTemplateID = "case_template_id"
	fOverwrites = "overwrites"
)

var createCaseFromTemplateSpec = &step.Spec{

	Status:   step.StatusNewer,
	Type:     "cases.createCaseFromTemplate",
	Kind:     step.KindActivity,
	Category: "cases",
	Summary:  "Create a case from a case template, with optional overwrites; output {case}.",
	Doc: "Looks the template up by key in the case configurations of the run's space " +
		"(`GET /api/cases/configure`; error `Case template not found: <key>`), creates a case from its " +
		"`caseFields` (owner: the configuration's owner) with `overwrites` applied on top (any field " +
		"cases.updateCase accepts), then sets `status` when an overwrite asks for one (a new case is open). " +
		"Idempotent like cases.createCase: the case is tagged `secflow-idem:<hash>` and a retry finds it.",
	Config: []step.Field{pushField},
	With: []step.Field{
		{Name: fTemplateID, Type: step.String, Required: true, Doc: "Template key.", Example: "triage_template"},
		{Name: fOverwrites, Type: step.Object, Doc: "Case fields replacing the template's: title, description, tags, severity, status, assignees, category, customFields, settings, connector.",
			Example: map[string]any{"title": "Template based case title", "severity": "high"}},
	},
	Output: step.Output{Doc: "The created case.", Example: caseExample},
	Examples: []step.Example{{Title: "Triage case from a template", YAML: `- name: create_case_from_template
  type: cases.createCaseFromTemplate
  with:
    case_template_id: triage_template
    overwrites:
      title: "Triage: {{ event.rule.name }}"
      severity: high`}},
	Activity:  createCaseFromTemplate,
	Timeout:   defaultTimeout,
	Heartbeat: true,
	Source:    "activities/cases/create_case_from_template.go",
}

func init() { step.Register(createCaseFromTemplateSpec) }

func createCaseFromTemplate(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	key, err := required(in, fTemplateID)
	if err != nil {
		return nil, err
	}
	overwrites := in.Map(fOverwrites)
	for k := range overwrites {
		if !updatableFields[k] {
			return nil, step.Errorf("InputValidationError", "cases.createCaseFromTemplate: overwrites.%s is not a case field", k)
		}
	}
	a, err := newAPI(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	owner, fields, err := a.template(ctx, key)
	if err != nil {
		return nil, err
	}
	body := map[string]any{fOwner: owner, fTitle: "", fDescription: "", fTags: []any{},
		fSettings:   map[string]any{"syncAlerts": true},
		"connector": map[string]any{"id": "none", "name": "none", "type": ".none", "fields": nil}}
	for k, v := range fields {
		if v != nil {
			body[k] = v
		}
	}
	status := ""
	for k, v := range overwrites {
		if k == fStatus {
			status = activitykit.Stringify(v)
			continue
		}
		body[k] = v
	}
	if activitykit.Stringify(body[fTitle]) == "" {
		return nil, step.Errorf("InputValidationError", "cases.createCaseFromTemplate: template %s has no title; give overwrites.title", key)
	}
	c, _, err := a.createOnce(ctx, in, owner, body)
	if err != nil {
		return nil, err
	}
	if status != "" && status != c[fStatus] {
		id, _ := c["id"].(string)
		v, _ := c[fVersion].(string)
		if c, err = a.patch(ctx, id, v, func(map[string]any) (map[string]any, error) {
			return map[string]any{fStatus: status}, nil
		}); err != nil {
			return nil, err
		}
	}
	if c, err = a.push(ctx, in, c); err != nil {
		return nil, err
	}
	return caseOutput(c), nil
}

// template returns the owner and caseFields of the case template key from
// the case configurations of the space.
func (a *api) template(ctx context.Context, key string) (string, map[string]any, error) {
	out, err := a.call(ctx, http.MethodGet, "/api/cases/configure", nil, nil)
	if err != nil {
		return "", nil, err
	}
	for _, raw := range asList(out) {
		cfg, _ := raw.(map[string]any)
		for _, t := range asList(cfg["templates"]) {
			tm, _ := t.(map[string]any)
			if tm["key"] == key {
				owner, _ := cfg["owner"].(string)
				fields, _ := tm["caseFields"].(map[string]any)
				return owner, fields, nil
			}
		}
	}
	return "", nil, step.Errorf("Error", "Case template not found: %s", key)
}
