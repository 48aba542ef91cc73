// Package cases implements the cases.* step types (§6.7) over Kibana's
// public Cases HTTP API (/api/cases …) on the default .kibana connector.
// Every step that returns a case outputs {case: <Cases API case object>},
// so templates read steps.<name>.output.case.id as in Kibana.
//
// cases.createCase is idempotent per step: it tags the case with
// "secflow-idem:<hash of the idempotency key>" and looks that tag up before
// creating, so a retry after a crash returns the case created by the
// earlier attempt instead of creating a second one (so are
// cases.createCaseFromTemplate and the deprecated kibana.createCase).
// cases.addAlerts, cases.addEvents and cases.addObservables skip what the
// case already has; cases.deleteObservable and a retried cases.deleteCases
// accept what is already gone. cases.updateCase, cases.updateCases and the
// single-field steps (cases.set*, closeCase, addTags, removeTags,
// assignCase, unassignCase) send no PATCH for a case that already holds
// the change, so a retry after a lost response neither fails on Kibana's
// 406 nor conflicts with the version its own earlier attempt created (see
// api.patch).
//
// The deprecated kibana.createCase, kibana.getCase, kibana.updateCase and
// kibana.addCaseComment (and their *DefaultSpace aliases) live here too:
// they take Kibana's Cases API request shape and output the API response.
package cases

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"reflect"
	"time"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// Common field and config names.
const (
	fCaseID   = "case_id"
	fVersion  = "version"
	cPushCase = "push-case"
)

// IdemTagPrefix prefixes the tag that carries a step's idempotency key.
const IdemTagPrefix = "secflow-idem:"

// IdemTag returns the tag createCase puts on the case for key.
func IdemTag(key string) string {
	sum := sha256.Sum256([]byte(key))
	return IdemTagPrefix + hex.EncodeToString(sum[:])[:24]
}

// caseExample is the documented output of steps returning a case.
const caseExample = `{"case": {"id": "6f3c1d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f", "version": "WzEsMV0=", "incremental_id": 1,
	"title": "Suspicious login on web-1", "description": "Alert triage", "owner": "securitySolution",
	"status": "open", "severity": "high", "tags": ["secflow"], "assignees": [{"uid": "u_1"}],
	"category": null, "customFields": [], "settings": {"syncAlerts": true},
	"connector": {"id": "none", "name": "none", "type": ".none", "fields": null},
	"comments": [{"id": "c1", "type": "user", "comment": "Triage summary", "owner": "securitySolution"}],
	"totalComment": 1, "totalAlerts": 0, "created_at": "2025-01-01T00:00:00.000Z",
	"created_by": {"username": "elastic", "full_name": null, "email": null},
	"updated_at": null, "updated_by": null, "closed_at": null, "closed_by": null, "external_service": null}}`

// idemUpdateDoc ends the doc of the steps that update a case with api.patch.
const idemUpdateDoc = " Idempotent: when the case already holds the requested values the step returns it unchanged, " +
	"without a PATCH (Kibana would answer 406 \"All update fields are identical to current version.\"), so a retry " +
	"after a lost response succeeds, and so does a change someone else already made. With `version`, a conflict " +
	"(HTTP 409) fails the step unless the case already holds the requested values."

// pushField is the push-case config field every cases step accepts.
var pushField = step.Field{Name: cPushCase, Type: step.Bool, Default: false,
	Doc: "Push the case to its external connector (Jira, ServiceNow, ...) after the change."}

// caseIDField is the case_id field.
var caseIDField = step.Field{Name: fCaseID, Type: step.String, Required: true, Doc: "Case id.",
	Example: "{{ steps.create_case.output.case.id }}"}

// defaultTimeout is the activity timeout of cases steps.
const defaultTimeout = 2 * time.Minute

// api wraps the Kibana client with the Cases calls the steps share.
type api struct {
	kb    *activitykit.Kibana
	space string
}

func newAPI(ctx context.Context, rt step.Runtime, in step.Input) (*api, error) {
	kb, err := activitykit.KibanaFor(ctx, rt, "")
	if err != nil {
		return nil, err
	}
	return &api{kb: kb, space: kb.Space(in.SpaceID)}, nil
}

func (a *api) call(ctx context.Context, method, path string, q url.Values, body any) (any, error) {
	return a.kb.JSON(ctx, activitykit.KibanaRequest{Method: method, Path: path, Query: q, Body: body, Space: a.space})
}

// get fetches a case (with comments when withComments).
func (a *api) get(ctx context.Context, id string, withComments bool) (map[string]any, error) {
	q := url.Values{}
	if !withComments {
		q.Set("includeComments", "false")
	}
	out, err := a.call(ctx, http.MethodGet, "/api/cases/"+url.PathEscape(id), q, nil)
	if err != nil {
		return nil, err
	}
	m, ok := out.(map[string]any)
	if !ok {
		return nil, step.Errorf("Error", "unexpected Cases API response for case %s", id)
	}
	return m, nil
}

// patch applies fields to a case and returns the case. The version sent is
// the one given, else the current one (a conflict with a fetched version
// is retried with the fresh version, up to three times).
//
// patch is idempotent, so an engine retry after a lost response succeeds:
// when the current case already holds every requested field (by JSON value
// equality, lists ordered) it returns the case without a PATCH (no new
// version; Kibana would answer 406 "All update fields are identical to
// current version."). A 406 that still comes back (Kibana compares lists
// as sets) returns the re-fetched case. A conflict with a given version
// succeeds when the re-fetched case holds the requested fields (an earlier
// attempt of ours, or someone else, made the same change) and otherwise
// fails with Kibana's 409.
func (a *api) patch(ctx context.Context, id, version string, fields func(cur map[string]any) (map[string]any, error)) (map[string]any, error) {
	var conflict error // set once a given version conflicted
	for attempt := 0; ; attempt++ {
		cur, err := a.get(ctx, id, false)
		if err != nil {
			return nil, err
		}
		upd, err := fields(cur)
		if err != nil {
			return nil, err
		}
		if holds(cur, upd) {
			return cur, nil
		}
		if conflict != nil {
			return nil, conflict
		}
		v := version
		if v == "" {
			v, _ = cur["version"].(string)
		}
		body := map[string]any{"id": id, "version": v}
		for k, val := range upd {
			body[k] = val
		}
		out, err := a.call(ctx, http.MethodPatch, "/api/cases", nil, map[string]any{"cases": []any{body}})
		if err != nil {
			se := step.AsError(err)
			switch {
			case isStatus(se, http.StatusNotAcceptable):
				return a.get(ctx, id, false)
			case isStatus(se, http.StatusConflict) && version != "":
				conflict = err
				continue
			case isStatus(se, http.StatusConflict) && attempt < 2:
				continue
			}
			return nil, err
		}
		list, ok := out.([]any)
		if !ok || len(list) == 0 {
			return nil, step.Errorf("Error", "unexpected Cases API response updating case %s", id)
		}
		c, _ := list[0].(map[string]any)
		return c, nil
	}
}

// holds reports whether case c already has every field of upd, comparing
// JSON-like values (numbers by value, lists in order, objects by keys); a
// field c lacks counts as null.
func holds(c, upd map[string]any) bool {
	for k, want := range upd {
		if !sameJSON(c[k], want) {
			return false
		}
	}
	return true
}

// sameJSON reports whether a and b are the same JSON value.
func sameJSON(a, b any) bool {
	x, errA := activitykit.JSONLike(a)
	y, errB := activitykit.JSONLike(b)
	return errA == nil && errB == nil && reflect.DeepEqual(x, y)
}

func isStatus(e *step.Error, status int) bool {
	if e == nil || e.Details == nil {
		return false
	}
	s, _ := activitykit.Int(e.Details["status"])
	return int(s) == status
}

// push pushes a case to its external connector when push-case is set and
// the case has one.
func (a *api) push(ctx context.Context, in step.Input, c map[string]any) (map[string]any, error) {
	if on, _ := activitykit.Bool(in.Config[cPushCase]); !on {
		return c, nil
	}
	conn, _ := c["connector"].(map[string]any)
	cid, _ := conn["id"].(string)
	if cid == "" || cid == "none" {
		return c, nil
	}
	id, _ := c["id"].(string)
	out, err := a.call(ctx, http.MethodPost, "/api/cases/"+url.PathEscape(id)+"/connector/"+url.PathEscape(cid)+"/_push", nil, map[string]any{})
	if err != nil {
		return nil, err
	}
	if m, ok := out.(map[string]any); ok {
		return m, nil
	}
	return c, nil
}

// caseOutput wraps a case as the step output.
func caseOutput(c map[string]any) map[string]any { return map[string]any{"case": c} }

// required returns the string `with` value key or an InputValidationError.
func required(in step.Input, key string) (string, error) {
	v := in.String(key)
	if v == "" {
		return "", step.Errorf("InputValidationError", "%s: with.%s is required", in.Type, key)
	}
	return v, nil
}

// toAny converts a string list to []any.
func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, e := range s {
		out[i] = e
	}
	return out
}
