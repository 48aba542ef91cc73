package cases

import (
	"context"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

var assignCaseSpec = &step.Spec{

	Status:   step.StatusNewer,
	Type:     "cases.assignCase",
	Kind:     step.KindActivity,
	Category: "cases",
	Summary:  "Add assignees to a case (PATCH /api/cases); output {case}.",
	Doc:      "Adds `assignees` ([{uid}]) to the case's assignees (existing ones are kept, duplicates dropped)." + idemUpdateDoc,
	Config:   []step.Field{pushField},
	With: []step.Field{
		caseIDField,
		{Name: fAssignees, Type: step.List, Required: true, Doc: "Users to assign: [{uid}]."},
		{Name: fVersion, Type: step.String, Doc: "Case version (fetched when absent)."},
	},
	Output: step.Output{Doc: "The updated case.", Example: caseExample},
	Activity: func(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
		return assign(ctx, rt, in, true)
	},
	Timeout:   defaultTimeout,
	Heartbeat: true,
	Source:    "activities/cases/assign_case.go",
}

var unassignCaseSpec = &step.Spec{

	Status:   step.StatusNewer,
	Type:     "cases.unassignCase",
	Kind:     step.KindActivity,
	Category: "cases",
	Summary:  "Remove assignees from a case (PATCH /api/cases); output {case}.",
	Doc:      "Removes `assignees` ([{uid}]) from the case; without `assignees` every assignee is removed." + idemUpdateDoc,
	Config:   []step.Field{pushField},
	With: []step.Field{
		caseIDField,
		{Name: fAssignees, Type: step.List, Doc: "Users to unassign: [{uid}] (all when absent)."},
		{Name: fVersion, Type: step.String, Doc: "Case version (fetched when absent)."},
	},
	Output: step.Output{Doc: "The updated case.", Example: caseExample},
	Activity: func(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
		return assign(ctx, rt, in, false)
	},
	Timeout:   defaultTimeout,
	Heartbeat: true,
	Source:    "activities/cases/assign_case.go",
}

func init() {
	step.Register(assignCaseSpec)
	step.Register(unassignCaseSpec)
}

// uids reads [{uid}] (or plain strings) into uids.
func uids(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, e := range list {
		switch x := e.(type) {
		case map[string]any:
			if s := activitykit.Stringify(x["uid"]); s != "" {
				out = append(out, s)
			}
		case string:
			if x != "" {
				out = append(out, x)
			}
		}
	}
	return out
}

func assign(ctx context.Context, rt step.Runtime, in step.Input, add bool) (any, error) {
	id, err := required(in, fCaseID)
	if err != nil {
		return nil, err
	}
	given := uids(in.With[fAssignees])
	if add && len(given) == 0 {
		return nil, step.Errorf("InputValidationError", "cases.assignCase: with.assignees must hold at least one {uid}")
	}
	return patchOutput(ctx, rt, in, id, func(cur map[string]any) (map[string]any, error) {
		existing := uids(cur["assignees"])
		var next []string
		if add {
			next = union(existing, given)
		} else if len(given) > 0 {
			next = minus(existing, given)
		}
		list := make([]any, len(next))
		for i, u := range next {
			list[i] = map[string]any{"uid": u}
		}
		return map[string]any{"assignees": list}, nil
	})
}

func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string(nil), a...), b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func minus(a, b []string) []string {
	drop := map[string]bool{}
	for _, s := range b {
		drop[s] = true
	}
	out := []string{}
	for _, s := range a {
		if !drop[s] {
			out = append(out, s)
		}
	}
	return out
}
