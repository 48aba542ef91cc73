package starter

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/interpreter/kql"
)

// Plan is one run an event asks for: the definition, the event it receives
// (the whole event in summary mode, one alert in per-alert mode) and the
// workflow ID that makes the start exactly-once.
type Plan struct {
	Definition *interpreter.Definition
	// Trigger is the index of the alert trigger that matched.
	Trigger int
	Event   *Event
	// WorkflowID is "<definition id>/<hash of rule id + sorted alert ids>",
	// or "<definition id>/<alert id>" in per-alert mode.
	WorkflowID string
	// PerAlert tells which mode produced the plan.
	PerAlert bool
	// EventType, when set, makes the plan an event-trigger run of that
	// custom trigger type (events.go); Event then holds only Body, SpaceID
	// and Ref, and WorkflowID is EventWorkflowID.
	EventType string
}

// RouteError reports a trigger condition that could not be evaluated; the
// trigger is then treated as not matching.
type RouteError struct {
	Definition string
	Trigger    int
	Err        error
}

func (e *RouteError) Error() string {
	return fmt.Sprintf("definition %s trigger %d: on.condition: %v", e.Definition, e.Trigger, e.Err)
}

func (e *RouteError) Unwrap() error { return e.Err }

// Route returns the runs ev starts: for each enabled definition, the first
// `type: alert` trigger whose filters all match decides. Filters:
//
//   - with.rule_id (string or list): one of them equals rule.id, or a
//     kibana.alert.rule.uuid or kibana.alert.rule.rule_id of the alerts;
//   - with.rule_name (string or list): one of them equals rule.name;
//   - on.condition: a KQL query over {event: <the event>}.
//
// In per-alert mode (with.per-alert: true, or with.summaryMode: false) every
// alert is its own event, filtered and started separately. Definitions are
// visited in id order so the result is deterministic. now resolves KQL date
// math. Conditions that fail to evaluate are reported in errs and do not
// match.
func Route(defs []*interpreter.Definition, ev *Event, now time.Time) (plans []Plan, errs []error) {
	sorted := append([]*interpreter.Definition(nil), defs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	for _, def := range sorted {
		if def == nil || !def.Enabled {
			continue
		}
		for ti, tr := range def.Triggers {
			if tr.Type != interpreter.TriggeredByAlert || !ruleFiltersMatch(tr, ev) {
				continue
			}
			var matched []Plan
			if PerAlert(tr) {
				for i := range ev.AlertIDs {
					one := ev.single(i)
					ok, err := conditionMatches(tr, one, now)
					if err != nil {
						errs = append(errs, &RouteError{Definition: def.ID, Trigger: ti, Err: err})
						break
					}
					if ok {
						matched = append(matched, Plan{Definition: def, Trigger: ti, Event: one,
							WorkflowID: PerAlertWorkflowID(def.ID, one.AlertIDs[0]), PerAlert: true})
					}
				}
			} else {
				ok, err := conditionMatches(tr, ev, now)
				if err != nil {
					errs = append(errs, &RouteError{Definition: def.ID, Trigger: ti, Err: err})
				} else if ok {
					matched = append(matched, Plan{Definition: def, Trigger: ti, Event: ev,
						WorkflowID: SummaryWorkflowID(def.ID, ev.RuleID, ev.AlertIDs)})
				}
			}
			if len(matched) > 0 {
				plans = append(plans, matched...)
				break // one trigger per definition decides
			}
		}
	}
	return plans, errs
}

// PerAlert reports whether an alert trigger asks for one run per alert:
// `with: {per-alert: true}` (secflow) or `with: {summaryMode: false}` (the
// Kibana `.workflows` action parameter).
func PerAlert(tr interpreter.Trigger) bool {
	if truthy(tr.With["per-alert"]) {
		return true
	}
	if v, ok := tr.With["summaryMode"]; ok && isFalse(v) {
		return true
	}
	return false
}

func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return strings.EqualFold(x, "true")
	}
	return false
}

func isFalse(v any) bool {
	switch x := v.(type) {
	case bool:
		return !x
	case string:
		return strings.EqualFold(x, "false")
	}
	return false
}

func ruleFiltersMatch(tr interpreter.Trigger, ev *Event) bool {
	if want := stringList(tr.With["rule_id"]); len(want) > 0 && !anyEqual(want, ev.RuleIDs) {
		return false
	}
	if want := stringList(tr.With["rule_name"]); len(want) > 0 && !anyEqual(want, []string{ev.RuleName}) {
		return false
	}
	return true
}

func conditionMatches(tr interpreter.Trigger, ev *Event, now time.Time) (bool, error) {
	if strings.TrimSpace(tr.Condition) == "" {
		return true, nil
	}
	return kql.Eval(tr.Condition, map[string]any{"event": ev.Body}, now)
}

// stringList reads a string or a list of strings/numbers.
func stringList(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		var out []string
		for _, e := range x {
			if s := scalarString(e); s != "" {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return x
	}
	if s := scalarString(v); s != "" {
		return []string{s}
	}
	return nil
}

func anyEqual(want, have []string) bool {
	for _, w := range want {
		for _, h := range have {
			if h != "" && w == h {
				return true
			}
		}
	}
	return false
}

// SummaryWorkflowID is the workflow ID of a summary-mode run:
// "<definition id>/<first 32 hex of sha256(rule id, sorted alert ids)>". The
// same alerts of the same rule always give the same ID, whatever their order.
func SummaryWorkflowID(defID, ruleID string, alertIDs []string) string {
	ids := append([]string(nil), alertIDs...)
	sort.Strings(ids)
	h := sha256.New()
	// Length-prefixed, so no choice of ids can collide with another split.
	fmt.Fprintf(h, "%d:%s", len(ruleID), ruleID)
	for _, id := range ids {
		fmt.Fprintf(h, "|%d:%s", len(id), id)
	}
	return defID + "/" + hex.EncodeToString(h.Sum(nil))[:32]
}

var safeIDPart = regexp.MustCompile(`^[A-Za-z0-9._:@=+-]{1,128}$`)

// PerAlertWorkflowID is the workflow ID of a per-alert run:
// "<definition id>/<alert id>", the alert id hashed when it is longer than
// 128 characters or holds characters other than [A-Za-z0-9._:@=+-].
func PerAlertWorkflowID(defID, alertID string) string {
	return defID + "/" + idPart(alertID)
}

func idPart(s string) string {
	if safeIDPart.MatchString(s) {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return "h-" + hex.EncodeToString(sum[:16])
}
