package cases

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// Field names of the multi-case steps.
const (
	fCaseIDs = "case_ids"
	fCases   = "cases"
)

// casesExample is the documented output of steps returning several cases.
const casesExample = `{"cases": [{"id": "6f3c1d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f", "version": "WzEsMV0=", "title": "Suspicious login on web-1",
	"owner": "securitySolution", "status": "in-progress", "severity": "high", "tags": ["secflow"], "comments": []}]}`

var caseIDsField = step.Field{Name: fCaseIDs, Type: step.List, Required: true, Doc: "Case ids.",
	Example: []any{"{{ steps.create_case.output.case.id }}"}}

var getCasesSpec = &step.Spec{

	Status:   step.StatusNewer,
	Type:     "cases.getCases",
	Kind:     step.KindActivity,
	Category: "cases",
	Summary:  "Get several cases at once; output {cases, errors}.",
	Doc: "Fetches each case of `case_ids` (1 to 1000) without comments. A case that cannot be read does not " +
		"fail the step: it lands in `errors` as `{error, message, status, caseId}`, as Kibana's bulk get reports " +
		"it. secflow reads each case with `GET /api/cases/{id}` (Kibana's bulk get has no public endpoint).",
	With: []step.Field{caseIDsField},
	Output: step.Output{Doc: "The cases found, in case_ids order, and the ids that failed.",
		Example: `{"cases": [{"id": "6f3c1d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f", "title": "Suspicious login on web-1", "status": "open"}],
	"errors": [{"error": "Not Found", "message": "Saved object [cases/nope] not found", "status": 404, "caseId": "nope"}]}`},
	Activity:  getCases,
	Timeout:   defaultTimeout,
	Heartbeat: true,
	Source:    "activities/cases/bulk_cases.go",
}

var updateCasesSpec = &step.Spec{

	Status:   step.StatusNewer,
	Type:     "cases.updateCases",
	Kind:     step.KindActivity,
	Category: "cases",
	Summary:  "Update several cases in one PATCH /api/cases; output {cases}.",
	Doc: "Each entry `{case_id, version?, updates}` changes the fields of `updates` (as in cases.updateCase). " +
		"Versions not given are fetched; a version conflict on fetched versions is retried with fresh ones. " +
		"All cases change in one request (Kibana validates them all first); cases that already hold their " +
		"updates are left out of it and returned as they are, so a retry after a lost response succeeds. With " +
		"`version`, a conflict (HTTP 409) fails the step unless the case already holds its updates.",
	Config: []step.Field{pushField},
	With: []step.Field{{Name: fCases, Type: step.List, Required: true, Doc: "Updates: [{case_id, version, updates}] (1 to 100).",
		Example: []any{map[string]any{"case_id": "{{ steps.create_case.output.case.id }}", "updates": map[string]any{"status": "closed"}}}}},
	Output:    step.Output{Doc: "The cases, in the order of `cases`.", Example: casesExample},
	Activity:  updateCases,
	Timeout:   defaultTimeout,
	Heartbeat: true,
	Source:    "activities/cases/bulk_cases.go",
}

var deleteCasesSpec = &step.Spec{

	Status:   step.StatusNewer,
	Type:     "cases.deleteCases",
	Kind:     step.KindActivity,
	Category: "cases",
	Summary:  "Delete cases (DELETE /api/cases); output {case_ids}.",
	Doc: "Deletes the cases of `case_ids` (1 to 100) with their comments. A retry after a lost response " +
		"succeeds for the cases the earlier attempt already deleted.",
	With:      []step.Field{caseIDsField},
	Output:    step.Output{Doc: "The ids given.", Example: `{"case_ids": ["6f3c1d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f"]}`},
	Activity:  deleteCases,
	Timeout:   defaultTimeout,
	Heartbeat: true,
	Source:    "activities/cases/bulk_cases.go",
}

func init() {
	step.Register(getCasesSpec)
	step.Register(updateCasesSpec)
	step.Register(deleteCasesSpec)
}

// caseIDs reads with.case_ids (1 to max non-empty strings).
func caseIDs(in step.Input, max int) ([]string, error) {
	raw, _ := in.With[fCaseIDs].([]any)
	if len(raw) == 0 || len(raw) > max {
		return nil, step.Errorf("InputValidationError", "%s: with.case_ids must hold 1 to %d case ids", in.Type, max)
	}
	ids := make([]string, len(raw))
	for i, v := range raw {
		if ids[i] = activitykit.Stringify(v); ids[i] == "" {
			return nil, step.Errorf("InputValidationError", "%s: case_ids[%d] is empty", in.Type, i)
		}
	}
	return ids, nil
}

func getCases(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	ids, err := caseIDs(in, 1000)
	if err != nil {
		return nil, err
	}
	a, err := newAPI(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	cases, errs := []any{}, []any{}
	for _, id := range ids {
		c, err := a.get(ctx, id, false)
		if se := step.AsError(err); se != nil && se.Details != nil && se.Details["status"] != nil && !activitykit.Retryable(statusOf(se)) {
			status := statusOf(se)
			msg := se.Message
			if body, ok := se.Details["body"].(map[string]any); ok && body["message"] != nil {
				msg = activitykit.Stringify(body["message"])
			}
			errs = append(errs, map[string]any{"error": http.StatusText(status), "message": msg, "status": float64(status), "caseId": id})
			continue
		} else if err != nil {
			return nil, err
		}
		cases = append(cases, c)
		activitykit.Heartbeat(ctx)
	}
	return map[string]any{"cases": cases, "errors": errs}, nil
}

func statusOf(e *step.Error) int {
	s, _ := activitykit.Int(e.Details["status"])
	return int(s)
}

func updateCases(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	list, _ := in.With[fCases].([]any)
	if len(list) == 0 || len(list) > 100 {
		return nil, step.Errorf("InputValidationError", "cases.updateCases: with.cases must hold 1 to 100 updates")
	}
	type upd struct {
		id, version string
		fields      map[string]any
	}
	upds := make([]upd, len(list))
	for i, raw := range list {
		m, _ := raw.(map[string]any)
		u := upd{id: activitykit.Stringify(m[fCaseID]), version: activitykit.Stringify(m[fVersion])}
		u.fields, _ = m[fUpdates].(map[string]any)
		if u.id == "" {
			return nil, step.Errorf("InputValidationError", "cases.updateCases: cases[%d].case_id is required", i)
		}
		if len(u.fields) == 0 {
			return nil, step.Errorf("InputValidationError", "cases.updateCases: cases[%d].updates must include at least one field", i)
		}
		for k := range u.fields {
			if !updatableFields[k] {
				return nil, step.Errorf("InputValidationError", "cases.updateCases: cases[%d]: %s cannot be updated", i, k)
			}
		}
		upds[i] = u
	}
	a, err := newAPI(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	var conflict error // set once a PATCH with a given version conflicted
	for attempt := 0; ; attempt++ {
		// Cases that already hold their updates are left out (as api.patch
		// does), so a retry after a lost response neither gets Kibana's
		// 406 nor conflicts with the versions its earlier attempt created.
		cur := make([]map[string]any, len(upds))
		var body []any
		given := false
		for i, u := range upds {
			if cur[i], err = a.get(ctx, u.id, false); err != nil {
				return nil, err
			}
			activitykit.Heartbeat(ctx)
			if holds(cur[i], u.fields) {
				continue
			}
			v := u.version
			if v == "" {
				v, _ = cur[i]["version"].(string)
			} else {
				given = true
			}
			item := map[string]any{"id": u.id, "version": v}
			for k, val := range u.fields {
				item[k] = val
			}
			body = append(body, item)
		}
		if len(body) == 0 {
			return a.pushAll(ctx, in, cur, nil)
		}
		if conflict != nil && given {
			return nil, conflict
		}
		out, err := a.call(ctx, http.MethodPatch, "/api/cases", nil, map[string]any{"cases": body})
		if err != nil {
			se := step.AsError(err)
			switch {
			case isStatus(se, http.StatusNotAcceptable):
				for i, u := range upds {
					if cur[i], err = a.get(ctx, u.id, false); err != nil {
						return nil, err
					}
				}
				return a.pushAll(ctx, in, cur, nil)
			case isStatus(se, http.StatusConflict) && given:
				conflict = err
				continue
			case isStatus(se, http.StatusConflict) && attempt < 2:
				continue
			}
			return nil, err
		}
		updated, ok := out.([]any)
		if !ok {
			return nil, step.Errorf("Error", "unexpected Cases API response updating %d cases", len(upds))
		}
		return a.pushAll(ctx, in, cur, updated)
	}
}

// pushAll returns the {cases} output of cases.updateCases in request order:
// each case as the PATCH answered it (updated), else as fetched (cur; Kibana
// leaves unchanged cases out of its answer), pushed when push-case is set.
func (a *api) pushAll(ctx context.Context, in step.Input, cur []map[string]any, updated []any) (any, error) {
	byID := map[string]map[string]any{}
	for _, raw := range updated {
		if c, ok := raw.(map[string]any); ok {
			id, _ := c["id"].(string)
			byID[id] = c
		}
	}
	cases := make([]any, len(cur))
	for i, c := range cur {
		id, _ := c["id"].(string)
		if u, ok := byID[id]; ok {
			c = u
		}
		c, err := a.push(ctx, in, c)
		if err != nil {
			return nil, err
		}
		cases[i] = c
	}
	return map[string]any{"cases": cases}, nil
}

func deleteCases(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	ids, err := caseIDs(in, 100)
	if err != nil {
		return nil, err
	}
	a, err := newAPI(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	todo := ids
	if isRetry(ctx) {
		// An earlier attempt may have deleted some: delete what is left.
		todo = nil
		for _, id := range ids {
			if _, err := a.get(ctx, id, false); err == nil {
				todo = append(todo, id)
			} else if !isStatus(step.AsError(err), http.StatusNotFound) {
				return nil, err
			}
		}
	}
	if len(todo) > 0 {
		list, _ := json.Marshal(todo)
		if _, err := a.call(ctx, http.MethodDelete, "/api/cases", url.Values{"ids": {string(list)}}, nil); err != nil {
			return nil, err
		}
	}
	return map[string]any{fCaseIDs: toAny(ids)}, nil
}
