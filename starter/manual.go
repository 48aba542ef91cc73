package starter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/secflow/secflow/internal/searchattr"
	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/interpreter/schema"
)

// ManualRequest checks inputs against the definition's input schema and
// builds the start request of a manual run. Defaults are applied for
// validation only: the run receives inputs as given and applies the same
// defaults itself. problems lists every validation problem ("<path>: <msg>");
// when it is non-empty the request must not be started.
//
// The workflow ID is "<definition id>/manual/<idempotency key>" (the key
// hashed when it is not a short plain token), so repeating a request with
// the same key finds the first run; without a key it is
// "<definition id>/manual/<random uuid>".
func ManualRequest(def *interpreter.Definition, inputs map[string]any, idempotencyKey string) (StartRequest, []string) {
	if inputs == nil {
		inputs = map[string]any{}
	}
	if def.Inputs != nil {
		if problems := schema.Validate(def.Inputs, schema.ApplyDefaults(def.Inputs, inputs)); len(problems) > 0 {
			return StartRequest{}, problems
		}
	}
	key := idempotencyKey
	if key == "" {
		key = newRequestID()
	}
	summary := def.Name
	if summary == "" {
		summary = def.ID
	}
	return StartRequest{
		WorkflowID: def.ID + "/manual/" + idPart(key),
		Definition: def,
		Input: interpreter.RunInput{
			Definition:  def,
			Inputs:      inputs,
			TriggeredBy: interpreter.TriggeredByManual,
			SpaceID:     defaultSpace,
		},
		SearchAttributes: map[string]string{
			searchattr.WorkflowName.GetName(): def.ID,
			searchattr.TriggerType.GetName():  interpreter.TriggeredByManual,
		},
		Summary: summary + " (manual)",
	}, nil
}

// manualBody is the body of POST /api/v1/workflows/{id}/run.
type manualBody struct {
	Inputs map[string]any `json:"inputs"`
	// Event is the event the run handles: for definitions with an alert
	// trigger the alert (any format /api/v1/alerts accepts, normalised the
	// same way), like Kibana's "run workflow" on an alert; for definitions
	// with event triggers only, the event payload (normalised like
	// /api/v1/events/{type}).
	Event json.RawMessage `json:"event"`
}

// alertOnly reports whether every trigger of def is an alert trigger: such
// a definition reads `event`, so a manual run needs one.
func alertOnly(def *interpreter.Definition) bool {
	for _, t := range def.Triggers {
		if t.Type != "alert" {
			return false
		}
	}
	return len(def.Triggers) > 0
}

// hasAlertTrigger reports whether def has an alert trigger.
func hasAlertTrigger(def *interpreter.Definition) bool {
	for _, t := range def.Triggers {
		if t.Type == "alert" {
			return true
		}
	}
	return false
}

// EventTriggerType returns the type of def's first custom (event) trigger
// — a trigger id such as cases.caseCreated — or "" when it has none.
func EventTriggerType(def *interpreter.Definition) string {
	for _, t := range def.Triggers {
		if ValidEventType(t.Type) {
			return t.Type
		}
	}
	return ""
}

// ManualEvent is ManualEventAt at the current time.
func ManualEvent(def *interpreter.Definition, raw []byte, lim Limits) (*Event, error) {
	return ManualEventAt(def, raw, lim, time.Now())
}

// ManualEventAt normalises the event a manual run of def handles; nil when
// raw is empty. For a definition with an alert trigger raw is an alert (any
// format /api/v1/alerts accepts, one rule's alerts); a definition with only
// alert triggers needs one. For a definition with event triggers and no
// alert trigger raw is the payload of an event (one JSON object), which
// gets `timestamp` (received when the payload has none) and `spaceId` as
// POST /api/v1/events/{type} adds them (NewTriggerEvent); such a
// definition may also run without one. A definition with neither refuses
// an event. Errors are *RejectError (reasons event_required,
// unexpected_event, invalid_event).
func ManualEventAt(def *interpreter.Definition, raw []byte, lim Limits, received time.Time) (*Event, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		if alertOnly(def) {
			return nil, reject("event_required",
				`definition %q has only alert triggers: pass the alert it should handle (HTTP: {"event": {...}}; secflow run: --event-file alert.json), as an alert event, an alert document or an array of them`, def.ID)
		}
		return nil, nil
	}
	if !hasAlertTrigger(def) {
		if typ := EventTriggerType(def); typ != "" {
			return manualTriggerEvent(typ, raw, lim, received)
		}
		return nil, reject("unexpected_event", "definition %q has no alert or event trigger: it does not read an event", def.ID)
	}
	events, _, err := Normalize(raw, lim)
	if err != nil {
		return nil, reject("invalid_event", "event: %v", err)
	}
	if len(events) != 1 {
		return nil, reject("invalid_event", "event: the alerts belong to %d rules; a manual run handles one rule's alerts", len(events))
	}
	return events[0], nil
}

// manualTriggerEvent normalises the event payload of a manual run of a
// definition with an event trigger of type typ.
func manualTriggerEvent(typ string, raw []byte, lim Limits, received time.Time) (*Event, error) {
	lim = lim.withDefaults()
	if err := checkDepth(raw, lim.MaxDepth); err != nil {
		return nil, reject("invalid_event", "event: %v", err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, reject("invalid_event", "event: malformed JSON: %v", err)
	}
	payload, ok := v.(map[string]any)
	if !ok {
		return nil, reject("invalid_event", "event: the payload of a %s event must be a JSON object, got %s", typ, jsonKind(v))
	}
	ev, err := NewTriggerEvent(typ, payload, "", "", received)
	if err != nil {
		return nil, reject("invalid_event", "event: %v", err)
	}
	return &Event{Body: ev.Body, SpaceID: ev.SpaceID}, nil
}

// WithEvent makes req (from ManualRequest) handle ev (from ManualEventAt):
// the run gets it as `event` and its space; for an alert also the alert's
// search attributes. TriggerType and execution.triggeredBy stay manual.
func WithEvent(req StartRequest, def *interpreter.Definition, ev *Event) StartRequest {
	if ev == nil {
		return req
	}
	req.Input.Event = ev.Body
	req.Input.SpaceID = ev.SpaceID
	if !hasAlertTrigger(def) {
		return req // an event trigger's payload: no alert attributes
	}
	for k, v := range AlertAttributes(def, ev) {
		if k != searchattr.TriggerType.GetName() && v != "" {
			req.SearchAttributes[k] = v
		}
	}
	return req
}

// manualResponse answers a manual run.
type manualResponse struct {
	StartResult
	// WorkflowExecutionID mirrors Kibana's run API answer.
	WorkflowExecutionID string  `json:"workflowExecutionId"`
	ElapsedMs           float64 `json:"elapsedMs"`
}

func (s *Server) handleManualRun(req *request) (int, any, *apiError) {
	id := req.r.PathValue("id")
	def, ok := s.cfg.Definitions.Get(id)
	if !ok || def == nil {
		return 0, nil, errorf(http.StatusNotFound, "unknown_definition", "no definition %q", id)
	}
	if !def.Enabled {
		return 0, nil, errorf(http.StatusConflict, "definition_disabled", "definition %q is disabled (enabled: false)", id)
	}
	var body manualBody
	if len(bytes.TrimSpace(req.body)) > 0 {
		if err := checkDepth(req.body, s.cfg.Limits.MaxDepth); err != nil {
			return 0, nil, errorf(http.StatusBadRequest, "too_deep", "%v", err)
		}
		dec := json.NewDecoder(bytes.NewReader(req.body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil {
			return 0, nil, errorf(http.StatusBadRequest, "malformed", `body must be {"inputs": {...}, "event": {...}}: %v`, err)
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return 0, nil, errorf(http.StatusBadRequest, "malformed", "body must hold one JSON object")
		}
	}
	key := strings.TrimSpace(req.r.Header.Get("Idempotency-Key"))
	if len(key) > 255 {
		return 0, nil, errorf(http.StatusBadRequest, "bad_idempotency_key", "Idempotency-Key longer than 255 characters")
	}
	if key == "" && req.signature != "" {
		// A signed request without a key is keyed by its signature, so a
		// replay of it (within the timestamp window, to any starter
		// replica) names the same workflow and starts nothing new.
		key = signatureKey(req.signature)
	}
	ev, err := ManualEventAt(def, body.Event, s.cfg.Limits, req.received)
	if err != nil {
		var re *RejectError
		errors.As(err, &re)
		return 0, nil, errorf(http.StatusBadRequest, re.Reason, "%s", re.Msg)
	}
	sreq, problems := ManualRequest(def, body.Inputs, key)
	if len(problems) > 0 {
		e := errorf(http.StatusBadRequest, "invalid_inputs", "%s", inputError(problems))
		e.extra = map[string]any{"problems": problems}
		return 0, nil, e
	}
	sreq = WithEvent(sreq, def, ev)
	r, err := s.start(req.r.Context(), sreq, interpreter.TriggeredByManual)
	if err != nil {
		req.log.Error("manual run start failed", "definition", id, "workflowId", sreq.WorkflowID, "error", err)
		switch {
		case errors.Is(err, ErrUnavailable):
			e := errorf(http.StatusServiceUnavailable, "temporal_unavailable", "Temporal is unavailable; retry later")
			e.retryAfter = 5 * time.Second
			return 0, nil, e
		case errors.Is(err, ErrTooLarge):
			return 0, nil, errorf(http.StatusRequestEntityTooLarge, "input_too_large", "%v", err)
		}
		return 0, nil, errorf(http.StatusInternalServerError, "start_failed", "starting the run failed: %v", err)
	}
	req.log.Info("manual run "+r.Status, "definition", id, "workflowId", r.WorkflowID, "runId", r.RunID)
	code := http.StatusOK
	if r.Status == StatusStarted {
		code = http.StatusCreated
	}
	return code, manualResponse{StartResult: r, WorkflowExecutionID: r.WorkflowID,
		ElapsedMs: float64(s.cfg.Now().Sub(req.received).Microseconds()) / 1000}, nil
}

// inputError is Kibana's message for invalid inputs.
func inputError(problems []string) string {
	if msg := schema.InputError(problems); msg != "" {
		return msg
	}
	return fmt.Sprintf("Workflow input validation failed: %s", strings.Join(problems, "; "))
}

// signatureKey is the idempotency key of a signed manual-run request sent
// without an Idempotency-Key header: "sig-" and the first 128 bits of its
// HMAC signature (hex). The signature covers the timestamp and the body,
// so a deliberate second request (new timestamp) gets a new key.
func signatureKey(signatureHex string) string {
	if len(signatureHex) > 32 {
		signatureHex = signatureHex[:32]
	}
	return "sig-" + signatureHex
}
