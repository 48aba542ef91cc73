package cases

import (
	"context"
	"net/http"
	"net/url"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

const fAlerts = "alerts"

var addAlertsSpec = &step.Spec{

	Status:   step.StatusNewer,
	Type:     "cases.addAlerts",
	Kind:     step.KindActivity,
	Category: "cases",
	Summary:  "Attach alerts to a case; output {case}.",
	Doc: "Attaches each alert `{alertId, index, rule?: {id, name}}` with `POST /api/cases/{id}/comments` " +
		"(`type: alert`). Alerts already attached to the case are skipped, so a retry attaches nothing twice. " +
		"A bare alert id string is accepted too and taken as a detection alert of the run's space " +
		"(index `.alerts-security.alerts-<space>`; a secflow leniency).",
	Config: []step.Field{pushField},
	With: []step.Field{
		caseIDField,
		{Name: fAlerts, Type: step.List, Required: true, Doc: "Alerts: [{alertId, index, rule: {id, name}}].",
			Example: []any{map[string]any{"alertId": "{{ event.alerts[0]._id }}", "index": "{{ event.alerts[0]._index }}"}}},
	},
	Output:    step.Output{Doc: "The case after the alerts were attached.", Example: caseExample},
	Activity:  addAlerts,
	Timeout:   defaultTimeout,
	Heartbeat: true,
	Source:    "activities/cases/add_alerts.go",
}

func init() { step.Register(addAlertsSpec) }

func addAlerts(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	id, err := required(in, fCaseID)
	if err != nil {
		return nil, err
	}
	alerts, _ := in.With[fAlerts].([]any)
	if len(alerts) == 0 {
		return nil, step.Errorf("InputValidationError", "cases.addAlerts: with.alerts must hold at least one alert")
	}
	a, err := newAPI(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	cur, err := a.get(ctx, id, true)
	if err != nil {
		return nil, err
	}
	owner, _ := cur["owner"].(string)
	attached := attachedAlerts(cur)
	result := cur
	for i, raw := range alerts {
		al, _ := raw.(map[string]any)
		if id, ok := raw.(string); ok {
			// Lenient: a bare alert id means a detection alert of the space.
			al = map[string]any{"alertId": id, "index": defaultAlertsIndex(a.space)}
		}
		alertID := activitykit.Stringify(al["alertId"])
		index := activitykit.Stringify(al["index"])
		if alertID == "" || index == "" {
			return nil, step.Errorf("InputValidationError", "cases.addAlerts: alerts[%d] needs alertId and index", i)
		}
		if attached[alertID] {
			continue
		}
		body := map[string]any{"type": "alert", "alertId": alertID, "index": index, "owner": owner,
			"rule": map[string]any{"id": nil, "name": nil}}
		if rule, ok := al["rule"].(map[string]any); ok {
			body["rule"] = map[string]any{"id": rule["id"], "name": rule["name"]}
		}
		if result, err = a.attach(ctx, id, attached, alertID, body, result); err != nil {
			return nil, err
		}
	}
	if result, err = a.push(ctx, in, result); err != nil {
		return nil, err
	}
	return caseOutput(result), nil
}

// defaultAlertsIndex is the detection-alerts index alias of a space.
func defaultAlertsIndex(space string) string {
	if space == "" {
		space = "default"
	}
	return ".alerts-security.alerts-" + space
}

// attachedAlerts returns the alert ids already attached to a case.
func attachedAlerts(c map[string]any) map[string]bool { return attachedIDs(c, "alert", "alertId") }

// attachedIDs returns the ids (comment field idField) of the attachments of
// type typ a case fetched with its comments already has.
func attachedIDs(c map[string]any, typ, idField string) map[string]bool {
	out := map[string]bool{}
	comments, _ := c["comments"].([]any)
	for _, raw := range comments {
		cm, _ := raw.(map[string]any)
		if cm["type"] != typ {
			continue
		}
		for _, id := range activitykit.StringSlice(cm[idField]) {
			out[id] = true
		}
	}
	return out
}

// attach posts one attachment comment to a case unless key is already in
// attached (an earlier attempt attached it); see postOnce.
func (a *api) attach(ctx context.Context, caseID string, attached map[string]bool, key string, body, cur map[string]any) (map[string]any, error) {
	return a.postOnce(ctx, "/api/cases/"+url.PathEscape(caseID)+"/comments", attached, key, body, cur)
}

// postOnce posts body to path unless key is already in done (an earlier
// attempt posted it), marks it done and returns the case the API answered
// (cur when nothing was posted or the answer is not a case).
func (a *api) postOnce(ctx context.Context, path string, done map[string]bool, key string, body, cur map[string]any) (map[string]any, error) {
	if done[key] {
		return cur, nil
	}
	out, err := a.call(ctx, http.MethodPost, path, nil, body)
	if err != nil {
		return nil, err
	}
	done[key] = true
	activitykit.Heartbeat(ctx)
	if c, ok := out.(map[string]any); ok {
		return c, nil
	}
	return cur, nil
}
