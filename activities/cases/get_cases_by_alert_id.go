package cases

import (
	"context"
	"net/http"
	"net/url"

	"github.com/secflow/secflow/interpreter/step"
)

const (
	fAlertID = "alert_id"
	fOwnerQ  = "owner"
)

var getCasesByAlertIDSpec = &step.Spec{

	Status:   step.StatusNewer,
	Type:     "cases.getCasesByAlertId",
	Kind:     step.KindActivity,
	Category: "cases",
	Summary:  "List the cases an alert is attached to (GET /api/cases/alerts/{alert_id}); output {cases}.",
	Doc:      "Returns `{cases: [{id, title, description, status, createdAt, totals}]}` for the alert, optionally filtered by owner.",
	Config:   []step.Field{pushField},
	With: []step.Field{
		{Name: fAlertID, Type: step.String, Required: true, Doc: "Alert id."},
		{Name: fOwnerQ, Type: step.String, Enum: []string{"securitySolution", "observability", "cases"}, Doc: "Owner filter."},
	},
	Output: step.Output{Doc: "The cases holding the alert.", Example: `{"cases": [{"id": "6f3c1d2e", "title": "Suspicious login",
		"description": "Alert triage", "status": "open", "createdAt": "2025-01-01T00:00:00.000Z", "totals": {"alerts": 1, "userComments": 0}}]}`},
	Activity:  getCasesByAlertID,
	Timeout:   defaultTimeout,
	Heartbeat: true,
	Source:    "activities/cases/get_cases_by_alert_id.go",
}

func init() { step.Register(getCasesByAlertIDSpec) }

func getCasesByAlertID(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	id, err := required(in, fAlertID)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	if o := in.String(fOwnerQ); o != "" {
		q.Set("owner", o)
	}
	a, err := newAPI(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	out, err := a.call(ctx, http.MethodGet, "/api/cases/alerts/"+url.PathEscape(id), q, nil)
	if err != nil {
		return nil, err
	}
	list, ok := out.([]any)
	if !ok {
		list = []any{}
	}
	return map[string]any{"cases": list}, nil
}
