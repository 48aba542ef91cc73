package cases

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// Field names of the observable steps.
const (
	fObservables  = "observables"
	fObservableID = "observable_id"
	fValue        = "value"
	fTypeKey      = "typeKey"
)

// observableTypes are Kibana's built-in observable type keys.
var observableTypes = []string{"observable-type-ipv4", "observable-type-ipv6", "observable-type-url",
	"observable-type-hostname", "observable-type-file-hash", "observable-type-file-path",
	"observable-type-email", "observable-type-domain", "observable-type-agent-id"}

var observableIDField = step.Field{Name: fObservableID, Type: step.String, Required: true, Doc: "Observable id.",
	Example: "{{ steps.add_observables.output.case.observables[0].id }}"}

var addObservablesSpec = &step.Spec{

	Status:   step.StatusNewer,
	Type:     "cases.addObservables",
	Kind:     step.KindActivity,
	Category: "cases",
	Summary:  "Add observables (IPs, hashes, URLs, ...) to a case; output {case}.",
	Doc: "Adds each observable `{typeKey, value, description?}` with `POST /api/cases/{id}/observables`. " +
		"`typeKey` is a Kibana observable type key (built in: " + joinTicks(observableTypes) + "; newer Kibana " +
		"versions add more, which secflow passes through: the Cases API validates the key). " +
		"Observables the case already has (same typeKey and value) are skipped, so a retry adds nothing twice " +
		"(Kibana itself rejects such a duplicate).",
	Config: []step.Field{pushField},
	With: []step.Field{
		caseIDField,
		{Name: fObservables, Type: step.List, Required: true, Doc: "Observables: [{typeKey, value, description}] (1 to 50).",
			Example: []any{map[string]any{"typeKey": "observable-type-ipv4", "value": "10.0.0.8", "description": "Source IP"}}},
	},
	Output: step.Output{Doc: "The case with its observables (case.observables[].id, typeKey, value, description).", Example: caseExample},
	Examples: []step.Example{{Title: "Record the source IP of an alert", YAML: `- name: add_observables
  type: cases.addObservables
  with:
    case_id: "{{ steps.create_case.output.case.id }}"
    observables:
      - typeKey: observable-type-ipv4
        value: "{{ event.alerts[0].source.ip }}"
        description: Source IP`}},
	Activity:  addObservables,
	Timeout:   defaultTimeout,
	Heartbeat: true,
	Source:    "activities/cases/observables.go",
}

var updateObservableSpec = &step.Spec{

	Status:   step.StatusNewer,
	Type:     "cases.updateObservable",
	Kind:     step.KindActivity,
	Category: "cases",
	Summary:  "Change an observable's value and description; output {case}.",
	Doc: "Sends `PATCH /api/cases/{id}/observables/{observable_id}` with `{observable: {value, description}}`. " +
		"A description left out or null clears it, as in Kibana.",
	With: []step.Field{
		caseIDField,
		observableIDField,
		{Name: fValue, Type: step.String, Required: true, Doc: "New value."},
		{Name: fDescription, Type: step.String, Doc: "New description (null clears it)."},
	},
	Output:    step.Output{Doc: "The case after the change.", Example: caseExample},
	Activity:  updateObservable,
	Timeout:   defaultTimeout,
	Heartbeat: true,
	Source:    "activities/cases/observables.go",
}

var deleteObservableSpec = &step.Spec{

	Status:   step.StatusNewer,
	Type:     "cases.deleteObservable",
	Kind:     step.KindActivity,
	Category: "cases",
	Summary:  "Remove an observable from a case; output {case_id, observable_id}.",
	Doc: "Sends `DELETE /api/cases/{id}/observables/{observable_id}`. When the case exists but no longer has " +
		"the observable, the step succeeds: a retry after a lost response must not fail (a secflow leniency; " +
		"Kibana answers 404 to a second delete).",
	With:      []step.Field{caseIDField, observableIDField},
	Output:    step.Output{Doc: "The ids the step was given.", Example: `{"case_id": "6f3c1d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f", "observable_id": "obs-789"}`},
	Activity:  deleteObservable,
	Timeout:   defaultTimeout,
	Heartbeat: true,
	Source:    "activities/cases/observables.go",
}

func init() {
	step.Register(addObservablesSpec)
	step.Register(updateObservableSpec)
	step.Register(deleteObservableSpec)
}

func addObservables(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	id, err := required(in, fCaseID)
	if err != nil {
		return nil, err
	}
	list, _ := in.With[fObservables].([]any)
	if len(list) == 0 || len(list) > 50 {
		return nil, step.Errorf("InputValidationError", "cases.addObservables: with.observables must hold 1 to 50 observables")
	}
	obs := make([]map[string]any, len(list))
	for i, raw := range list {
		o, _ := raw.(map[string]any)
		typ, val := activitykit.Stringify(o[fTypeKey]), activitykit.Stringify(o[fValue])
		if !strings.HasPrefix(typ, "observable-type-") {
			return nil, step.Errorf("InputValidationError", "cases.addObservables: observables[%d].typeKey must be an observable type key (%s, ...), got %q", i, strings.Join(observableTypes[:3], ", "), typ)
		}
		if val == "" {
			return nil, step.Errorf("InputValidationError", "cases.addObservables: observables[%d].value is required", i)
		}
		obs[i] = map[string]any{fTypeKey: typ, fValue: val, fDescription: o[fDescription]}
	}
	a, err := newAPI(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	cur, err := a.get(ctx, id, true)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, raw := range asList(cur["observables"]) {
		o, _ := raw.(map[string]any)
		have[obsKey(o)] = true
	}
	result := cur
	for _, o := range obs {
		body := map[string]any{"observable": o}
		if result, err = a.postOnce(ctx, "/api/cases/"+url.PathEscape(id)+"/observables", have, obsKey(o), body, result); err != nil {
			return nil, err
		}
	}
	if result, err = a.push(ctx, in, result); err != nil {
		return nil, err
	}
	return caseOutput(result), nil
}

func obsKey(o map[string]any) string {
	return activitykit.Stringify(o[fTypeKey]) + "\x00" + activitykit.Stringify(o[fValue])
}

func updateObservable(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	id, err := required(in, fCaseID)
	if err != nil {
		return nil, err
	}
	oid, err := required(in, fObservableID)
	if err != nil {
		return nil, err
	}
	val, err := required(in, fValue)
	if err != nil {
		return nil, err
	}
	a, err := newAPI(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	body := map[string]any{"observable": map[string]any{fValue: val, fDescription: in.With[fDescription]}}
	out, err := a.call(ctx, http.MethodPatch, "/api/cases/"+url.PathEscape(id)+"/observables/"+url.PathEscape(oid), nil, body)
	if err != nil {
		return nil, err
	}
	c, ok := out.(map[string]any)
	if !ok {
		return nil, step.Errorf("Error", "unexpected Cases API response updating observable %s", oid)
	}
	return caseOutput(c), nil
}

func deleteObservable(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	id, err := required(in, fCaseID)
	if err != nil {
		return nil, err
	}
	oid, err := required(in, fObservableID)
	if err != nil {
		return nil, err
	}
	a, err := newAPI(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	_, err = a.call(ctx, http.MethodDelete, "/api/cases/"+url.PathEscape(id)+"/observables/"+url.PathEscape(oid), nil, nil)
	if err != nil {
		if !isStatus(step.AsError(err), http.StatusNotFound) {
			return nil, err
		}
		// Gone already? Only when the case itself exists (else its 404 stands).
		cur, gerr := a.get(ctx, id, false)
		if gerr != nil {
			return nil, gerr
		}
		for _, raw := range asList(cur["observables"]) {
			if o, _ := raw.(map[string]any); o["id"] == oid {
				return nil, err
			}
		}
	}
	return map[string]any{fCaseID: id, fObservableID: oid}, nil
}

// asList returns v as a list (nil when it is not one).
func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// joinTicks renders names as "`a`, `b`".
func joinTicks(names []string) string {
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += "`" + n + "`"
	}
	return s
}
