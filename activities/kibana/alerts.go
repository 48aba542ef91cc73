package kibana

import (
	"context"
	"net/http"
	"time"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// Field names of the detection-engine steps.
const (
	fStatus    = "status"
	fSignalIDs = "signal_ids"
	fAlertQ    = "query"
	fReason    = "reason"
	fConflicts = "conflicts"
	fIDs       = "ids"
	fTags      = "tags"
)

// updateByQueryExample is the response of both detection-engine APIs.
const updateByQueryExample = `{"took": 12, "timed_out": false, "total": 1, "updated": 1, "deleted": 0, "batches": 1,
	"version_conflicts": 0, "noops": 0, "retries": {"bulk": 0, "search": 0}, "throttled_millis": 0,
	"requests_per_second": -1, "throttled_until_millis": 0, "failures": []}`

var setStatusSpec = &step.Spec{
	Type:     "kibana.SetAlertsStatus",
	Kind:     step.KindActivity,
	Category: "kibana",
	Status:   step.StatusCore,
	Summary:  "Set the workflow status of detection alerts (POST /api/detection_engine/signals/status).",
	Doc: "Sets `status` on the alerts named by `signal_ids` (or matched by `query`). Runs in the run's space " +
		"(`/s/<space>` prefix outside the default space). The output is the update-by-query summary.",
	With: []step.Field{
		{Name: fStatus, Type: step.String, Required: true, Enum: []string{"open", "acknowledged", "in-progress", "closed"}, Doc: "New status."},
		{Name: fSignalIDs, Type: step.List, Doc: "Alert ids (required unless query is given).", Example: []any{"a1b2c3"}},
		{Name: fAlertQ, Type: step.Object, Doc: "Elasticsearch query selecting alerts."},
		{Name: fReason, Type: step.String, Doc: "Closing reason, e.g. false_positive, duplicate, benign_positive."},
		{Name: fConflicts, Type: step.String, Enum: []string{"abort", "proceed"}, Doc: "Version conflict handling."},
	},
	Output:    step.Output{Doc: "The update-by-query summary.", Example: updateByQueryExample},
	Activity:  runSetStatus,
	Timeout:   2 * time.Minute,
	Heartbeat: true,
	Source:    "activities/kibana/alerts.go",
}

var setTagsSpec = &step.Spec{
	Type:     "kibana.SetAlertTags",
	Kind:     step.KindActivity,
	Category: "kibana",
	Status:   step.StatusCore,
	Summary:  "Add or remove tags on detection alerts (POST /api/detection_engine/signals/tags).",
	Doc:      "Adds `tags.tags_to_add` and removes `tags.tags_to_remove` on the alerts `ids`. Runs in the run's space.",
	With: []step.Field{
		{Name: fIDs, Type: step.List, Required: true, Doc: "Alert ids.", Example: []any{"a1b2c3"}},
		{Name: fTags, Type: step.Object, Required: true, Doc: "{tags_to_add: [...], tags_to_remove: [...]}."},
	},
	Output:    step.Output{Doc: "The update-by-query summary.", Example: updateByQueryExample},
	Activity:  runSetTags,
	Timeout:   2 * time.Minute,
	Heartbeat: true,
	Source:    "activities/kibana/alerts.go",
}

func init() {
	step.Register(setStatusSpec)
	step.Register(setTagsSpec)
}

func runSetStatus(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	status := in.String(fStatus)
	if status == "" {
		return nil, step.Errorf("InputValidationError", "kibana.SetAlertsStatus: with.status is required")
	}
	body := map[string]any{fStatus: status}
	ids := activitykit.StringSlice(in.With[fSignalIDs])
	switch {
	case len(ids) > 0:
		list := make([]any, len(ids))
		for i, id := range ids {
			list[i] = id
		}
		body[fSignalIDs] = list
	case in.With[fAlertQ] != nil:
		body[fAlertQ] = in.With[fAlertQ]
	default:
		return nil, step.Errorf("InputValidationError", "kibana.SetAlertsStatus: signal_ids or query is required")
	}
	for _, k := range []string{fReason, fConflicts} {
		if v := in.String(k); v != "" {
			body[k] = v
		}
	}
	return post(ctx, rt, in, "/api/detection_engine/signals/status", body)
}

func runSetTags(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	ids := activitykit.StringSlice(in.With[fIDs])
	tags := in.Map(fTags)
	if len(ids) == 0 || tags == nil {
		return nil, step.Errorf("InputValidationError", "kibana.SetAlertTags: with.ids and with.tags are required")
	}
	list := make([]any, len(ids))
	for i, id := range ids {
		list[i] = id
	}
	norm := map[string]any{"tags_to_add": listOf(tags["tags_to_add"]), "tags_to_remove": listOf(tags["tags_to_remove"])}
	return post(ctx, rt, in, "/api/detection_engine/signals/tags", map[string]any{fIDs: list, fTags: norm})
}

func listOf(v any) []any {
	s := activitykit.StringSlice(v)
	out := make([]any, len(s))
	for i, e := range s {
		out[i] = e
	}
	return out
}

func post(ctx context.Context, rt step.Runtime, in step.Input, path string, body map[string]any) (any, error) {
	kb, err := activitykit.KibanaFor(ctx, rt, "")
	if err != nil {
		return nil, err
	}
	return kb.JSON(ctx, activitykit.KibanaRequest{Method: http.MethodPost, Path: path, Body: body, Space: kb.Space(in.SpaceID)})
}
