package cases

import (
	"context"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

const fIncludeComments = "include_comments"

var getCaseSpec = &step.Spec{

	Status:   step.StatusNewer,
	Type:     "cases.getCase",
	Kind:     step.KindActivity,
	Category: "cases",
	Summary:  "Get a case (GET /api/cases/{id}); output {case}.",
	Doc:      "Fetches one case of the run's space. Comments are included only with `include_comments: true`.",
	Config:   []step.Field{pushField},
	With: []step.Field{
		caseIDField,
		{Name: fIncludeComments, Type: step.Bool, Default: false, Doc: "Include the case's comments and alerts."},
	},
	Output:    step.Output{Doc: "The case.", Example: caseExample},
	Activity:  getCase,
	Timeout:   defaultTimeout,
	Heartbeat: true,
	Source:    "activities/cases/get_case.go",
}

func init() { step.Register(getCaseSpec) }

func getCase(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	id, err := required(in, fCaseID)
	if err != nil {
		return nil, err
	}
	a, err := newAPI(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	with, _ := activitykit.Bool(in.With[fIncludeComments])
	c, err := a.get(ctx, id, with)
	if err != nil {
		return nil, err
	}
	return caseOutput(c), nil
}
