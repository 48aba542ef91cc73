package cases

import (
	"context"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

const fEvents = "events"

var addEventsSpec = &step.Spec{

	Status:   step.StatusNewer,
	Type:     "cases.addEvents",
	Kind:     step.KindActivity,
	Category: "cases",
	Summary:  "Attach events (non-alert documents) to a case; output {case}.",
	Doc: "Attaches each event `{eventId, index}` with `POST /api/cases/{id}/comments` (`type: event`, owned by " +
		"the case's owner). Events already attached to the case are skipped, so a retry attaches nothing twice.",
	Config: []step.Field{pushField},
	With: []step.Field{
		caseIDField,
		{Name: fEvents, Type: step.List, Required: true, Doc: "Events: [{eventId, index}] (1 to 100).",
			Example: []any{map[string]any{"eventId": "event-1", "index": ".ds-logs-*"}}},
	},
	Output: step.Output{Doc: "The case after the events were attached.", Example: caseExample},
	Examples: []step.Example{{Title: "Attach a log event", YAML: `- name: add_events
  type: cases.addEvents
  with:
    case_id: "{{ steps.create_case.output.case.id }}"
    events:
      - eventId: "{{ inputs.event_id }}"
        index: logs-endpoint.events.process-default`}},
	Activity:  addEvents,
	Timeout:   defaultTimeout,
	Heartbeat: true,
	Source:    "activities/cases/add_events.go",
}

func init() { step.Register(addEventsSpec) }

func addEvents(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	id, err := required(in, fCaseID)
	if err != nil {
		return nil, err
	}
	events, _ := in.With[fEvents].([]any)
	if len(events) == 0 || len(events) > 100 {
		return nil, step.Errorf("InputValidationError", "cases.addEvents: with.events must hold 1 to 100 events")
	}
	for i, raw := range events {
		ev, _ := raw.(map[string]any)
		if activitykit.Stringify(ev["eventId"]) == "" || activitykit.Stringify(ev["index"]) == "" {
			return nil, step.Errorf("InputValidationError", "cases.addEvents: events[%d] needs eventId and index", i)
		}
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
	attached := attachedIDs(cur, "event", "eventId")
	result := cur
	for _, raw := range events {
		ev := raw.(map[string]any)
		eventID, index := activitykit.Stringify(ev["eventId"]), activitykit.Stringify(ev["index"])
		body := map[string]any{"type": "event", "eventId": eventID, "index": index, "owner": owner}
		if result, err = a.attach(ctx, id, attached, eventID, body, result); err != nil {
			return nil, err
		}
	}
	if result, err = a.push(ctx, in, result); err != nil {
		return nil, err
	}
	return caseOutput(result), nil
}
