package cases

import (
	"context"
	"net/http"
	"net/url"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// Field names of cases.findSimilarCases.
const (
	fPage    = "page"
	fPerPage = "perPage"
)

var findSimilarCasesSpec = &step.Spec{

	Status:   step.StatusNewer,
	Type:     "cases.findSimilarCases",
	Kind:     step.KindActivity,
	Category: "cases",
	Summary:  "Find cases sharing observables with a case; output {cases, page, per_page, total}.",
	Doc: "Calls Kibana's `POST /internal/cases/{id}/_similar` with `{page, perPage}` (the endpoint the Cases " +
		"UI uses; there is no public one). Each case found carries `similarities.observables` " +
		"`[{typeKey, typeLabel, value}]`, the observables it shares with the case.",
	With: []step.Field{
		caseIDField,
		{Name: fPage, Type: step.Number, Default: 1, Doc: "Page number (from 1)."},
		{Name: fPerPage, Type: step.Number, Default: 20, Doc: "Cases per page (1 to 100)."},
	},
	Output: step.Output{Doc: "A page of similar cases.",
		Example: `{"cases": [{"id": "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0", "title": "Beaconing from web-2", "status": "open",
	"similarities": {"observables": [{"typeKey": "observable-type-ipv4", "typeLabel": "IPv4", "value": "10.0.0.8"}]}}],
	"page": 1, "per_page": 20, "total": 1}`},
	Activity:  findSimilarCases,
	Timeout:   defaultTimeout,
	Heartbeat: true,
	Source:    "activities/cases/find_similar_cases.go",
}

func init() { step.Register(findSimilarCasesSpec) }

func findSimilarCases(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	id, err := required(in, fCaseID)
	if err != nil {
		return nil, err
	}
	page, perPage := int64(1), int64(20)
	if v, ok := in.With[fPage]; ok && v != nil {
		if page, ok = activitykit.Int(v); !ok || page < 1 {
			return nil, step.Errorf("InputValidationError", "cases.findSimilarCases: with.page must be a positive integer")
		}
	}
	if v, ok := in.With[fPerPage]; ok && v != nil {
		if perPage, ok = activitykit.Int(v); !ok || perPage < 1 || perPage > 100 {
			return nil, step.Errorf("InputValidationError", "cases.findSimilarCases: with.perPage must be an integer from 1 to 100")
		}
	}
	a, err := newAPI(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	out, err := a.call(ctx, http.MethodPost, "/internal/cases/"+url.PathEscape(id)+"/_similar", nil,
		map[string]any{"page": float64(page), "perPage": float64(perPage)})
	if err != nil {
		return nil, err
	}
	m, ok := out.(map[string]any)
	if !ok {
		return nil, step.Errorf("Error", "unexpected Cases API response finding cases similar to %s", id)
	}
	return m, nil
}
