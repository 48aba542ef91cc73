package starter

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/secflow/secflow/internal/searchattr"
	"github.com/secflow/secflow/interpreter"
)

// This file is the intake of custom / event-driven triggers (semantics
// §1.3.4): POST /api/v1/events/{type} delivers one event of a trigger type
// such as cases.caseCreated to every enabled definition with a trigger of
// that type whose `on.condition` matches.

// OriginHeader names the definitions whose runs caused an event, comma
// separated; a workflow step that calls POST /api/v1/events/{type} should
// send `X-Secflow-Origin-Workflow: {{ workflow.id }}`. It drives the
// `on.workflowEvents` loop protection (see EventTriggerAccepts).
const OriginHeader = "X-Secflow-Origin-Workflow"

// Values of a custom trigger's `on.workflowEvents`.
const (
	WorkflowEventsIgnore    = "ignore"     // events caused by any workflow do not start this trigger
	WorkflowEventsAvoidLoop = "avoid-loop" // (default) events caused by this definition do not start it
	WorkflowEventsAllowAll  = "allow-all"  // every event starts it
)

// eventTypeSyntax is a trigger id: dot-separated words, at least two (the
// loader treats a type with a dot as a custom trigger).
var eventTypeSyntax = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$`)

// spaceIDSyntax is a Kibana space id.
var spaceIDSyntax = regexp.MustCompile(`^[a-z0-9_-]{1,255}$`)

// ValidEventType reports whether typ is a custom trigger id
// (e.g. cases.caseCreated), at most 128 characters.
func ValidEventType(typ string) bool {
	return len(typ) <= 128 && eventTypeSyntax.MatchString(typ)
}

// TriggerEvent is one delivered custom-trigger event.
type TriggerEvent struct {
	// Type is the trigger id (e.g. cases.caseCreated).
	Type string
	// Body is what a run gets as `event`: the payload plus `timestamp` and
	// `spaceId`.
	Body map[string]any
	// SpaceID is Body's spaceId.
	SpaceID string
	// Key names the event in workflow IDs: the Idempotency-Key (made safe),
	// else "h-" and 32 hex digits of sha256(type, space, canonical payload).
	Key string
	// Origins are the definitions whose runs caused the event (OriginHeader).
	Origins []string
}

// NewTriggerEvent builds the event of a delivery: payload is the JSON object
// received, querySpace the spaceId query parameter, key the Idempotency-Key
// header and received the server's receive time. The space is the payload's
// `spaceId`, else querySpace, else "default" (both given and different: an
// error). A payload `timestamp` is kept when it is an ISO-8601 (RFC 3339)
// string; without one the receive time is used (UTC, milliseconds). Errors
// are *RejectError.
func NewTriggerEvent(typ string, payload map[string]any, querySpace, key string, received time.Time) (*TriggerEvent, error) {
	if !ValidEventType(typ) {
		return nil, reject("invalid_event_type",
			"event type %q is not a trigger id such as cases.caseCreated (dot-separated words of [A-Za-z0-9_-], at most 128 characters); alerts go to POST /api/v1/alerts", typ)
	}
	space := querySpace
	if v, ok := payload["spaceId"]; ok {
		s, isStr := v.(string)
		if !isStr || s == "" {
			return nil, reject("invalid_space", "spaceId must be a non-empty string")
		}
		if querySpace != "" && querySpace != s {
			return nil, reject("invalid_space", "spaceId %q of the payload differs from the spaceId query parameter %q", s, querySpace)
		}
		space = s
	}
	if space == "" {
		space = defaultSpace
	}
	if !spaceIDSyntax.MatchString(space) {
		return nil, reject("invalid_space", "spaceId %q is not a Kibana space id ([a-z0-9_-])", space)
	}
	timestamp := received.UTC().Format("2006-01-02T15:04:05.000Z")
	if v, ok := payload["timestamp"]; ok {
		s, isStr := v.(string)
		if !isStr {
			return nil, reject("invalid_timestamp", "timestamp must be an ISO-8601 string, got %s", jsonKind(v))
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return nil, reject("invalid_timestamp", "timestamp %q is not an ISO-8601 date-time (e.g. 2026-03-01T10:00:00.000Z)", s)
		}
		timestamp = s
	}
	if key != "" {
		key = idPart(key)
	} else {
		canonical, err := json.Marshal(payload) // map keys sorted: canonical
		if err != nil {
			return nil, reject("malformed", "payload: %v", err)
		}
		h := sha256.New()
		fmt.Fprintf(h, "%d:%s|%d:%s|", len(typ), typ, len(space), space)
		h.Write(canonical)
		key = "h-" + hex.EncodeToString(h.Sum(nil))[:32]
	}
	body := make(map[string]any, len(payload)+2)
	for k, v := range payload {
		body[k] = v
	}
	body["timestamp"] = timestamp
	body["spaceId"] = space
	return &TriggerEvent{Type: typ, Body: body, SpaceID: space, Key: key}, nil
}

// EventWorkflowID is the workflow ID of an event-triggered run:
// "<definition id>/event/<key>".
func EventWorkflowID(defID, key string) string {
	return defID + "/event/" + key
}

// EventTriggerAccepts applies a custom trigger's `on.workflowEvents` to an
// event caused by the runs of origins (empty: not caused by a workflow, so
// always accepted): `ignore` refuses it, `avoid-loop` (the default) refuses
// it when defID is one of origins, `allow-all` accepts it.
func EventTriggerAccepts(tr interpreter.Trigger, defID string, origins []string) bool {
	if len(origins) == 0 {
		return true
	}
	mode, _ := tr.With["workflowEvents"].(string)
	switch mode {
	case WorkflowEventsAllowAll:
		return true
	case WorkflowEventsIgnore:
		return false
	}
	for _, o := range origins {
		if o == defID {
			return false
		}
	}
	return true
}

// RouteTriggerEvent returns the runs ev starts: for each enabled definition
// (in id order), the first trigger of type ev.Type that accepts ev's
// origins (EventTriggerAccepts) and whose `on.condition` — KQL over
// {event: <ev.Body>} — matches. loopSkipped lists the definitions that had
// a trigger of the type but refused the event by `on.workflowEvents`.
// Conditions that fail to evaluate are reported in errs and do not match.
func RouteTriggerEvent(defs []*interpreter.Definition, ev *TriggerEvent, now time.Time) (plans []Plan, loopSkipped []string, errs []error) {
	sorted := append([]*interpreter.Definition(nil), defs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	wrapped := &Event{Body: ev.Body, SpaceID: ev.SpaceID}
	for _, def := range sorted {
		if def == nil || !def.Enabled {
			continue
		}
		refused := false
		for ti, tr := range def.Triggers {
			if tr.Type != ev.Type {
				continue
			}
			if !EventTriggerAccepts(tr, def.ID, ev.Origins) {
				refused = true
				continue
			}
			ok, err := conditionMatches(tr, wrapped, now)
			if err != nil {
				errs = append(errs, &RouteError{Definition: def.ID, Trigger: ti, Err: err})
				continue
			}
			if ok {
				plans = append(plans, Plan{Definition: def, Trigger: ti, Event: wrapped,
					WorkflowID: EventWorkflowID(def.ID, ev.Key), EventType: ev.Type})
				refused = false
				break // one trigger per definition decides
			}
		}
		if refused {
			loopSkipped = append(loopSkipped, def.ID)
		}
	}
	return plans, loopSkipped, errs
}

// EventSummary is the StaticSummary of an event-triggered run:
// "<type> event", with " in space <id>" outside the default space.
func EventSummary(typ, space string) string {
	s := typ + " event"
	if space != "" && space != defaultSpace {
		s += " in space " + space
	}
	return s
}

// EventRequest builds the start request of an event plan: the run gets the
// event as `event` (or RunInput.EventRef when it was offloaded), the
// trigger id as execution.triggeredBy and TriggerType.
func EventRequest(p Plan) StartRequest {
	return planRequest(p, p.EventType, map[string]string{
		searchattr.WorkflowName.GetName(): p.Definition.ID,
		searchattr.TriggerType.GetName():  p.EventType,
	}, EventSummary(p.EventType, p.Event.SpaceID))
}

// startRequest builds the start request of any plan.
func (p Plan) startRequest() StartRequest {
	if p.EventType != "" {
		return EventRequest(p)
	}
	return AlertRequest(p)
}

// eventsResponse is the answer of POST /api/v1/events/{type}.
type eventsResponse struct {
	Type      string `json:"type"`
	SpaceID   string `json:"spaceId"`
	Timestamp string `json:"timestamp"`
	runTally
	// LoopSkipped lists definitions whose trigger refused the event by
	// `on.workflowEvents`.
	LoopSkipped []string `json:"loopSkipped,omitempty"`
	ElapsedMs   float64  `json:"elapsedMs"`
}

// eventMetricLabel is the `trigger` label of the run metrics for every
// event-triggered run (the event type is client-chosen: not a label).
const eventMetricLabel = "event"

func (s *Server) handleEvent(req *request) (int, any, *apiError) {
	typ := req.r.PathValue("type")
	if !ValidEventType(typ) {
		_, err := NewTriggerEvent(typ, nil, "", "", req.received)
		return 0, nil, rejection(err)
	}
	payload, apiErr := s.eventPayload(req.body)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	key := strings.TrimSpace(req.r.Header.Get("Idempotency-Key"))
	if len(key) > 255 {
		return 0, nil, errorf(http.StatusBadRequest, "bad_idempotency_key", "Idempotency-Key longer than 255 characters")
	}
	ev, err := NewTriggerEvent(typ, payload, req.r.URL.Query().Get("spaceId"), key, req.received)
	if err != nil {
		return 0, nil, rejection(err)
	}
	ev.Origins = origins(req.r.Header.Values(OriginHeader))
	if n, limit := jsonSize(ev.Body), s.cfg.MaxEventBytes; n > limit && s.cfg.Blobs == nil {
		return 0, nil, errorf(http.StatusRequestEntityTooLarge, "event_too_large",
			"event %s is %d bytes, over the %d-byte run input limit (no blob store is configured for large events)",
			typ, n, limit)
	}
	plans, loopSkipped, routeErrs := RouteTriggerEvent(s.cfg.Definitions.All(), ev, s.cfg.Now())
	for _, e := range routeErrs {
		req.log.Warn("trigger condition failed; treated as not matching", "error", e, "eventType", typ)
	}
	resp := eventsResponse{Type: typ, SpaceID: ev.SpaceID, Timestamp: ev.Body["timestamp"].(string),
		LoopSkipped: loopSkipped}
	if len(loopSkipped) > 0 {
		req.log.Info("event refused by on.workflowEvents loop protection", "eventType", typ,
			"origins", ev.Origins, "definitions", loopSkipped)
	}
	if len(plans) == 0 {
		s.metrics.unmatched.Inc()
		req.log.Info("event matched no definition", "eventType", typ, "spaceId", ev.SpaceID)
	}
	tally, apiErr := s.startPlans(req, plans, eventMetricLabel)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	resp.runTally = tally
	resp.ElapsedMs = s.elapsedMs(req)
	return http.StatusOK, resp, nil
}

// eventPayload parses the body of an event delivery: one JSON object.
func (s *Server) eventPayload(body []byte) (map[string]any, *apiError) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, errorf(http.StatusBadRequest, "empty", "empty body: expected the event payload as a JSON object ({} for none)")
	}
	if err := checkDepth(body, s.cfg.Limits.MaxDepth); err != nil {
		return nil, rejection(err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errorf(http.StatusBadRequest, "malformed", "malformed JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errorf(http.StatusBadRequest, "malformed", "body must hold one JSON object")
	}
	payload, ok := v.(map[string]any)
	if !ok {
		return nil, errorf(http.StatusBadRequest, "unrecognised", "the event payload must be a JSON object, got %s", jsonKind(v))
	}
	return payload, nil
}

// rejection turns a *RejectError into a 400 answer.
func rejection(err error) *apiError {
	var re *RejectError
	if errors.As(err, &re) {
		return errorf(http.StatusBadRequest, re.Reason, "%s", re.Msg)
	}
	return errorf(http.StatusBadRequest, "malformed", "%v", err)
}

// origins splits OriginHeader values (comma separated, repeatable).
func origins(values []string) []string {
	var out []string
	for _, v := range values {
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSpace(o); o != "" {
				out = append(out, o)
			}
		}
	}
	return out
}
