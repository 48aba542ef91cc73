package cases

import (
	"context"
	"net/http"
	"net/url"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// findParams are the `with` keys of cases.findCases, all sent as query
// parameters of GET /api/cases/_find (lists repeat the key).
var findParams = []string{"owner", "status", "severity", "tags", "assignees", "reporters", "category", "search",
	"searchFields", "defaultSearchOperator", "from", "to", "sortField", "sortOrder", "page", "perPage"}

var findCasesSpec = &step.Spec{

	Status:   step.StatusNewer,
	Type:     "cases.findCases",
	Kind:     step.KindActivity,
	Category: "cases",
	Summary:  "Search cases (GET /api/cases/_find).",
	Doc:      "Finds cases of the run's space by owner, status, severity, tags, assignees, text, dates. The output is the Cases API find result.",
	Config:   []step.Field{pushField},
	With: func() []step.Field {
		var out []step.Field
		for _, p := range findParams {
			f := step.Field{Name: p, Type: step.Any, Doc: "Filter `" + p + "` of the Cases find API."}
			switch p {
			case "page":
				f.Type, f.Default = step.Int, 1
			case "perPage":
				f.Type, f.Default = step.Int, 20
			case "sortOrder":
				f.Type, f.Enum = step.String, []string{"asc", "desc"}
			}
			out = append(out, f)
		}
		return out
	}(),
	Output: step.Output{Doc: "The find result.", Example: `{"cases": [{"id": "6f3c1d2e", "title": "Suspicious login", "status": "open",
		"severity": "high", "tags": ["secflow"], "owner": "securitySolution", "totalComment": 0, "totalAlerts": 1}],
		"page": 1, "per_page": 20, "total": 1, "count_open_cases": 1, "count_in_progress_cases": 0, "count_closed_cases": 0}`},
	Activity:  findCases,
	Timeout:   defaultTimeout,
	Heartbeat: true,
	Source:    "activities/cases/find_cases.go",
}

func init() { step.Register(findCasesSpec) }

func findCases(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	q := url.Values{}
	for _, p := range findParams {
		for _, v := range activitykit.StringSlice(in.With[p]) {
			q.Add(p, v)
		}
	}
	a, err := newAPI(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	return a.call(ctx, http.MethodGet, "/api/cases/_find", q, nil)
}
