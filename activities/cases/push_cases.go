package cases

import (
	"context"
	"net/http"
	"net/url"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

var pushCaseSpec = &step.Spec{

	Status:   step.StatusNewer,
	Type:     "cases.pushCase",
	Kind:     step.KindActivity,
	Category: "cases",
	Summary:  "Push a case to its external connector (Jira, ServiceNow, ...); output {case}.",
	Doc: "Sends `POST /api/cases/{id}/connector/{connector id}/_push` with the case's own connector. A case " +
		"without a connector fails with `Case <id> has no connector to push to`. Pushing again updates the " +
		"external incident, so a retry is harmless.",
	With:      []step.Field{caseIDField},
	Output:    step.Output{Doc: "The case after the push (external_service set).", Example: caseExample},
	Activity:  pushCaseStep,
	Timeout:   defaultTimeout,
	Heartbeat: true,
	Source:    "activities/cases/push_cases.go",
}

var pushCasesSpec = &step.Spec{

	Status:   step.StatusNewer,
	Type:     "cases.pushCases",
	Kind:     step.KindActivity,
	Category: "cases",
	Summary:  "Push several cases to their external connectors; output {cases}.",
	Doc: "Pushes each case of `case_ids` (1 to 100) to its own connector, in order, as cases.pushCase does; " +
		"the first failure fails the step.",
	With:   []step.Field{caseIDsField},
	Output: step.Output{Doc: "The cases after the push.", Example: casesExample},
	Examples: []step.Example{{Title: "Push the cases of an alert", YAML: `- name: push_cases
  type: cases.pushCases
  with:
    case_ids:
      - "{{ steps.create_case.output.case.id }}"`}},
	Activity:  pushCasesStep,
	Timeout:   defaultTimeout,
	Heartbeat: true,
	Source:    "activities/cases/push_cases.go",
}

func init() {
	step.Register(pushCaseSpec)
	step.Register(pushCasesSpec)
}

func pushCaseStep(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	id, err := required(in, fCaseID)
	if err != nil {
		return nil, err
	}
	a, err := newAPI(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	c, err := a.pushOne(ctx, id)
	if err != nil {
		return nil, err
	}
	return caseOutput(c), nil
}

func pushCasesStep(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	ids, err := caseIDs(in, 100)
	if err != nil {
		return nil, err
	}
	a, err := newAPI(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(ids))
	for _, id := range ids {
		c, err := a.pushOne(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		activitykit.Heartbeat(ctx)
	}
	return map[string]any{"cases": out}, nil
}

// pushOne pushes case id to its own connector and returns the pushed case.
func (a *api) pushOne(ctx context.Context, id string) (map[string]any, error) {
	cur, err := a.get(ctx, id, false)
	if err != nil {
		return nil, err
	}
	conn, _ := cur["connector"].(map[string]any)
	cid, _ := conn["id"].(string)
	if cid == "" || cid == "none" {
		return nil, step.Errorf("Error", "Case %s has no connector to push to", id)
	}
	out, err := a.call(ctx, http.MethodPost, "/api/cases/"+url.PathEscape(id)+"/connector/"+url.PathEscape(cid)+"/_push", nil, map[string]any{})
	if err != nil {
		return nil, err
	}
	c, ok := out.(map[string]any)
	if !ok {
		return nil, step.Errorf("Error", "unexpected Cases API response pushing case %s", id)
	}
	return c, nil
}
