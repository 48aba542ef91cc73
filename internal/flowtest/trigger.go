package flowtest

import (
	"fmt"
	"strings"
	"time"

	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/starter"
)

// triggerStart is how the starter would start the run of a case with a
// trigger: the event exactly as POST /api/v1/events/{type} builds it, and
// whether the trigger's `on.condition` lets it start a run at all.
type triggerStart struct {
	// in holds Event, TriggeredBy and SpaceID of the run (from
	// starter.EventRequest); nil when no run starts.
	in *interpreter.RunInput
	// failures are reasons the case fails before running.
	failures []Failure
}

// routeTrigger builds the event of case c (its `event`, or {} without one)
// with starter.NewTriggerEvent at received, and routes it to def with
// starter.RouteTriggerEvent: the first trigger of type c.Trigger whose
// `on.condition` matches starts the run. The definition's `enabled` is not
// considered (a test may exercise a disabled definition), nor
// `on.workflowEvents` (a test event is not caused by a workflow).
func routeTrigger(def *interpreter.Definition, c *Case, received time.Time) triggerStart {
	payload := c.Event
	if payload == nil {
		payload = map[string]any{}
	}
	ev, err := starter.NewTriggerEvent(c.Trigger, payload, "", "", received)
	if err != nil {
		return triggerStart{failures: []Failure{{Field: "event", Msg: fmt.Sprintf("the starter refuses this %s event: %v", c.Trigger, err), Pos: c.Pos}}}
	}
	enabled := *def
	enabled.Enabled = true
	plans, _, errs := starter.RouteTriggerEvent([]*interpreter.Definition{&enabled}, ev, received)
	want := c.Expect.Triggered == nil || *c.Expect.Triggered
	pos := c.Expect.TriggeredPos
	if pos.Line == 0 {
		pos = c.TriggerPos
	}
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return triggerStart{failures: []Failure{{Field: "triggered", Msg: "the trigger condition could not be evaluated (the starter treats it as not matching): " + strings.Join(msgs, "; "), Pos: pos}}}
	}
	conds := conditions(def, c.Trigger)
	switch {
	case len(plans) == 0 && want:
		return triggerStart{failures: []Failure{{Field: "triggered",
			Msg: fmt.Sprintf("expected the %s event to start a run, but on.condition %s does not match it: the starter starts no run", c.Trigger, conds), Pos: pos}}}
	case len(plans) == 0:
		return triggerStart{} // expected: no run
	case !want:
		return triggerStart{failures: []Failure{{Field: "triggered",
			Msg: fmt.Sprintf("expected the %s event to start no run, but on.condition %s matches it", c.Trigger, conds), Pos: pos}}}
	}
	in := starter.EventRequest(plans[0]).Input
	return triggerStart{in: &in}
}

// conditions quotes the `on.condition` of def's triggers of type typ
// ("(none)" for a trigger without one).
func conditions(def *interpreter.Definition, typ string) string {
	var out []string
	for _, t := range def.Triggers {
		if t.Type != typ {
			continue
		}
		if strings.TrimSpace(t.Condition) == "" {
			out = append(out, "(none)")
		} else {
			out = append(out, fmt.Sprintf("%q", t.Condition))
		}
	}
	return strings.Join(out, " / ")
}
