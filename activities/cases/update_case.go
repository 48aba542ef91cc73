package cases

import (
	"context"

	"github.com/secflow/secflow/interpreter/step"
)

const fUpdates = "updates"

// updatableFields are the case fields PATCH /api/cases accepts.
var updatableFields = map[string]bool{
	"title": true, "description": true, "tags": true, "severity": true, "status": true, "assignees": true,
	"category": true, "customFields": true, "settings": true, "connector": true,
}

var updateCaseSpec = &step.Spec{

	Status:   step.StatusNewer,
	Type:     "cases.updateCase",
	Kind:     step.KindActivity,
	Category: "cases",
	Summary:  "Update case fields (PATCH /api/cases); output {case}.",
	Doc: "Applies `updates` (at least one of title, description, tags, severity, status, assignees, category, " +
		"customFields, settings, connector) to the case. The current version is fetched automatically unless " +
		"`version` is given." + idemUpdateDoc,
	Config: []step.Field{pushField},
	With: []step.Field{
		caseIDField,
		{Name: fUpdates, Type: step.Object, Required: true, Doc: "Fields to change.", Example: map[string]any{"status": "in-progress"}},
		{Name: fVersion, Type: step.String, Doc: "Case version for optimistic concurrency (fetched when absent)."},
	},
	Output:    step.Output{Doc: "The updated case.", Example: caseExample},
	Activity:  updateCase,
	Timeout:   defaultTimeout,
	Heartbeat: true,
	Source:    "activities/cases/update_case.go",
}

func init() { step.Register(updateCaseSpec) }

func updateCase(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	id, err := required(in, fCaseID)
	if err != nil {
		return nil, err
	}
	updates := in.Map(fUpdates)
	if len(updates) == 0 {
		return nil, step.Errorf("InputValidationError", "cases.updateCase: with.updates must hold at least one field")
	}
	for k := range updates {
		if !updatableFields[k] {
			return nil, step.Errorf("InputValidationError", "cases.updateCase: %s cannot be updated", k)
		}
	}
	return patchOutput(ctx, rt, in, id, func(map[string]any) (map[string]any, error) { return updates, nil })
}

// patchOutput patches a case and returns the {case} output, pushing when
// push-case is set.
func patchOutput(ctx context.Context, rt step.Runtime, in step.Input, id string, fields func(cur map[string]any) (map[string]any, error)) (any, error) {
	a, err := newAPI(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	c, err := a.patch(ctx, id, in.String(fVersion), fields)
	if err != nil {
		return nil, err
	}
	if c, err = a.push(ctx, in, c); err != nil {
		return nil, err
	}
	return caseOutput(c), nil
}
