package cases

import (
	"context"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// fieldStep is one row of the single-field update steps: each reads one
// `with` key and turns it into a PATCH /api/cases change.
type fieldStep struct {
	typ, summary, doc string
	field             step.Field
	change            func(cur map[string]any, v any) (map[string]any, error)
}

const (
	fStatus      = "status"
	fCustomKey   = "key"
	fCustomValue = "value"
)

var fieldSteps = []fieldStep{
	{typ: "cases.closeCase", summary: "Close a case (status closed).", doc: "Sets the case status to `closed`.",
		change: func(map[string]any, any) (map[string]any, error) { return map[string]any{"status": "closed"}, nil }},
	{typ: "cases.setStatus", summary: "Set a case's status.", doc: "Sets `status` (open, in-progress, closed).",
		field: step.Field{Name: fStatus, Type: step.String, Required: true, Enum: []string{"open", "in-progress", "closed"}, Doc: "New status."},
		change: func(_ map[string]any, v any) (map[string]any, error) {
			return map[string]any{"status": v}, nil
		}},
	{typ: "cases.setSeverity", summary: "Set a case's severity.", doc: "Sets `severity` (low, medium, high, critical).",
		field: step.Field{Name: fSeverity, Type: step.String, Required: true, Enum: []string{"low", "medium", "high", "critical"}, Doc: "New severity."},
		change: func(_ map[string]any, v any) (map[string]any, error) {
			return map[string]any{"severity": v}, nil
		}},
	{typ: "cases.setTitle", summary: "Set a case's title.", doc: "Sets `title`.",
		field:  step.Field{Name: fTitle, Type: step.String, Required: true, Doc: "New title."},
		change: func(_ map[string]any, v any) (map[string]any, error) { return map[string]any{"title": v}, nil }},
	{typ: "cases.setDescription", summary: "Set a case's description.", doc: "Sets `description`.",
		field:  step.Field{Name: fDescription, Type: step.String, Required: true, Doc: "New description."},
		change: func(_ map[string]any, v any) (map[string]any, error) { return map[string]any{"description": v}, nil }},
	{typ: "cases.setCategory", summary: "Set a case's category.", doc: "Sets `category` (null clears it).",
		field:  step.Field{Name: fCategory, Type: step.String, Required: true, Doc: "New category."},
		change: func(_ map[string]any, v any) (map[string]any, error) { return map[string]any{"category": v}, nil }},
	{typ: "cases.addTags", summary: "Add tags to a case.", doc: "Adds `tags` to the case's tags (duplicates dropped).",
		field: step.Field{Name: fTags, Type: step.List, Required: true, Doc: "Tags to add."},
		change: func(cur map[string]any, v any) (map[string]any, error) {
			return map[string]any{"tags": toAny(union(activitykit.StringSlice(cur["tags"]), activitykit.StringSlice(v)))}, nil
		}},
	{typ: "cases.removeTags", summary: "Remove tags from a case.", doc: "Removes `tags` from the case's tags.",
		field: step.Field{Name: fTags, Type: step.List, Required: true, Doc: "Tags to remove."},
		change: func(cur map[string]any, v any) (map[string]any, error) {
			return map[string]any{"tags": toAny(minus(activitykit.StringSlice(cur["tags"]), activitykit.StringSlice(v)))}, nil
		}},
}

func init() {
	for i := range fieldSteps {
		step.Register(fieldSteps[i].spec())
	}
	step.Register(setCustomFieldSpec)
}

func (f *fieldStep) spec() *step.Spec {
	with := []step.Field{caseIDField}
	if f.field.Name != "" {
		with = append(with, f.field)
	}
	with = append(with, step.Field{Name: fVersion, Type: step.String, Doc: "Case version (fetched when absent)."})
	return &step.Spec{
		Status: step.StatusNewer,
		Type:   f.typ, Kind: step.KindActivity, Category: "cases", Summary: f.summary + " Output {case}.",
		Doc:    f.doc + " Uses `PATCH /api/cases` with the case's current version." + idemUpdateDoc,
		Config: []step.Field{pushField}, With: with,
		Output:   step.Output{Doc: "The updated case.", Example: caseExample},
		Activity: f.run, Timeout: defaultTimeout, Heartbeat: true, Source: "activities/cases/field_steps.go",
	}
}

func (f *fieldStep) run(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	id, err := required(in, fCaseID)
	if err != nil {
		return nil, err
	}
	var v any
	if f.field.Name != "" {
		var ok bool
		v, ok = in.With[f.field.Name]
		if !ok || (f.field.Required && v == nil && f.field.Name != fCategory) {
			return nil, step.Errorf("InputValidationError", "%s: with.%s is required", f.typ, f.field.Name)
		}
		if len(f.field.Enum) > 0 && !oneOf(activitykit.Stringify(v), f.field.Enum) {
			return nil, step.Errorf("InputValidationError", "%s: with.%s must be one of %v, got %q", f.typ, f.field.Name, f.field.Enum, activitykit.Stringify(v))
		}
	}
	return patchOutput(ctx, rt, in, id, func(cur map[string]any) (map[string]any, error) { return f.change(cur, v) })
}

func oneOf(v string, list []string) bool {
	for _, e := range list {
		if e == v {
			return true
		}
	}
	return false
}

var setCustomFieldSpec = &step.Spec{
	Status: step.StatusNewer,
	Type:   "cases.setCustomField", Kind: step.KindActivity, Category: "cases",
	Summary: "Set one custom field of a case. Output {case}.",
	Doc:     "Sets the custom field `key` to `value`, keeping the case's other custom fields. Uses `PATCH /api/cases`." + idemUpdateDoc,
	Config:  []step.Field{pushField},
	With: []step.Field{caseIDField,
		{Name: fCustomKey, Type: step.String, Required: true, Doc: "Custom field key."},
		{Name: fCustomValue, Type: step.Any, Required: true, Doc: "New value (null clears it)."},
		{Name: "type", Type: step.String, Enum: []string{"text", "toggle", "number"}, Doc: "Field type when the case does not have the field yet."},
		{Name: fVersion, Type: step.String, Doc: "Case version (fetched when absent)."},
	},
	Output:   step.Output{Doc: "The updated case.", Example: caseExample},
	Activity: setCustomField, Timeout: defaultTimeout, Heartbeat: true, Source: "activities/cases/field_steps.go",
}

func setCustomField(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	id, err := required(in, fCaseID)
	if err != nil {
		return nil, err
	}
	key, err := required(in, fCustomKey)
	if err != nil {
		return nil, err
	}
	return patchOutput(ctx, rt, in, id, func(cur map[string]any) (map[string]any, error) {
		fields, _ := cur["customFields"].([]any)
		out := make([]any, 0, len(fields)+1)
		found := false
		for _, raw := range fields {
			m, _ := raw.(map[string]any)
			if m != nil && m["key"] == key {
				cp := map[string]any{"key": key, "type": m["type"], "value": in.With[fCustomValue]}
				out = append(out, cp)
				found = true
				continue
			}
			out = append(out, raw)
		}
		if !found {
			typ := in.String("type")
			if typ == "" {
				return nil, step.Errorf("InputValidationError", "cases.setCustomField: the case has no custom field %q; give with.type to add it", key)
			}
			out = append(out, map[string]any{"key": key, "type": typ, "value": in.With[fCustomValue]})
		}
		return map[string]any{"customFields": out}, nil
	})
}
