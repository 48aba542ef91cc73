package starter

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/secflow/secflow/interpreter"
)

// alertsResponse is the answer of POST /api/v1/alerts.
type alertsResponse struct {
	// Events is the number of events the body normalised to (one per rule).
	Events int `json:"events"`
	// Alerts is the number of alert documents received.
	Alerts int `json:"alerts"`
	runTally
	// ElapsedMs is request received → every start acknowledged.
	ElapsedMs float64 `json:"elapsedMs"`
}

// runTally is the part of the alert and event answers that counts the runs
// a request asked for and what became of their starts.
type runTally struct {
	// Matched is the number of runs the request asked for.
	Matched int `json:"matched"`
	// Started and Duplicates count the outcomes of Runs.
	Started    int `json:"started"`
	Duplicates int `json:"duplicates"`
	// Runs lists, per started or found run, the definition, workflow and
	// run IDs, and the outcome.
	Runs []StartResult `json:"runs"`
}

type startError struct {
	Definition string `json:"definition"`
	WorkflowID string `json:"workflowId"`
	Error      string `json:"error"`
}

// maxParallelStarts bounds concurrent Temporal starts of one request.
const maxParallelStarts = 16

func (s *Server) handleAlerts(req *request) (int, any, *apiError) {
	events, format, err := Normalize(req.body, s.cfg.Limits)
	if err != nil {
		var re *RejectError
		if errors.As(err, &re) {
			code := http.StatusBadRequest
			if re.Reason == "too_many_alerts" {
				code = http.StatusRequestEntityTooLarge
			}
			return 0, nil, errorf(code, re.Reason, "%s", re.Msg)
		}
		return 0, nil, errorf(http.StatusBadRequest, "malformed", "%v", err)
	}
	resp := alertsResponse{Events: len(events)}
	defs := s.cfg.Definitions.All()
	now := s.cfg.Now()
	var plans []Plan
	for _, ev := range events {
		resp.Alerts += len(ev.AlertIDs)
		if n, limit := jsonSize(ev.Body), s.cfg.MaxEventBytes; n > limit && s.cfg.Blobs == nil {
			return 0, nil, errorf(http.StatusRequestEntityTooLarge, "event_too_large",
				"alert event of rule %q is %d bytes once normalised, over the %d-byte run input limit "+
					"(large events are not offloaded to a blob store yet); send fewer alerts per request",
				ev.RuleID, n, limit)
		}
		p, routeErrs := Route(defs, ev, now)
		for _, e := range routeErrs {
			req.log.Warn("trigger condition failed; treated as not matching", "error", e, "ruleId", ev.RuleID)
		}
		if len(p) == 0 {
			s.metrics.unmatched.Inc()
			req.log.Info("alert event matched no definition", "ruleId", ev.RuleID, "ruleName", ev.RuleName,
				"alertIds", ev.AlertIDs)
		}
		plans = append(plans, p...)
	}
	s.metrics.alertsNormalised.WithLabelValues(format).Add(float64(resp.Alerts))
	tally, apiErr := s.startPlans(req, plans, interpreter.TriggeredByAlert)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	resp.runTally = tally
	resp.ElapsedMs = s.elapsedMs(req)
	return http.StatusOK, resp, nil
}

// startPlans offloads the large events of plans, starts every plan and
// counts the outcomes. A store failure is answered before anything starts;
// failed starts are answered by failureAnswer.
func (s *Server) startPlans(req *request, plans []Plan, trigger string) (runTally, *apiError) {
	tally := runTally{Matched: len(plans), Runs: []StartResult{}}
	if apiErr := s.offloadEvents(req, plans); apiErr != nil {
		return tally, apiErr
	}
	results, failures := s.startAll(req.r.Context(), req.log, plans, trigger)
	tally.Runs = append(tally.Runs, results...)
	for _, r := range results {
		if r.Status == StatusStarted {
			tally.Started++
		} else {
			tally.Duplicates++
		}
	}
	if len(failures) > 0 {
		return tally, s.failureAnswer(failures, tally)
	}
	return tally, nil
}

// elapsedMs is the time since the request was received, in milliseconds.
func (s *Server) elapsedMs(req *request) float64 {
	return float64(s.cfg.Now().Sub(req.received).Microseconds()) / 1000
}

// offloadEvents stores the events of plans that are over the inline limit
// in the blob store (once per event) and marks them with their reference.
// A store failure is answered 503 before anything starts.
func (s *Server) offloadEvents(req *request, plans []Plan) *apiError {
	if s.cfg.Blobs == nil {
		return nil
	}
	for _, p := range plans {
		ev := p.Event
		if ev.Ref != "" {
			continue
		}
		b, err := json.Marshal(ev.Body)
		if err != nil || len(b) <= s.cfg.MaxEventBytes {
			continue
		}
		ref, err := s.cfg.Blobs.Put(req.r.Context(), "event/"+p.WorkflowID, b)
		if err != nil {
			req.log.Error("storing a large event failed", "ruleId", ev.RuleID, "eventType", p.EventType, "bytes", len(b), "error", err)
			e := errorf(http.StatusServiceUnavailable, "blob_store_unavailable",
				"the event (%d bytes) is too large to pass inline and could not be stored; nothing was started, retry later", len(b))
			e.retryAfter = 5 * time.Second
			return e
		}
		ev.Ref = ref
		req.log.Info("large event passed by reference", "ruleId", ev.RuleID, "eventType", p.EventType, "bytes", len(b), "ref", ref)
	}
	return nil
}

type failure struct {
	plan Plan
	err  error
}

// startAll starts every plan (bounded parallelism) and returns the results
// in plan order and the failures.
func (s *Server) startAll(ctx context.Context, log interface {
	Info(string, ...any)
	Error(string, ...any)
}, plans []Plan, trigger string) ([]StartResult, []failure) {
	results := make([]*StartResult, len(plans))
	errs := make([]error, len(plans))
	sem := make(chan struct{}, maxParallelStarts)
	var wg sync.WaitGroup
	for i, p := range plans {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			r, err := s.start(ctx, p.startRequest(), trigger)
			if err != nil {
				errs[i] = err
				log.Error("run start failed", "definition", p.Definition.ID, "workflowId", p.WorkflowID,
					"alertIds", p.Event.AlertIDs, "error", err)
				return
			}
			r.AlertIDs = p.Event.AlertIDs
			results[i] = &r
			log.Info("run "+r.Status, "definition", p.Definition.ID, "workflowId", r.WorkflowID, "runId", r.RunID,
				"ruleId", p.Event.RuleID, "alertIds", p.Event.AlertIDs, "eventType", p.EventType)
		}()
	}
	wg.Wait()
	var out []StartResult
	var fails []failure
	for i := range plans {
		if errs[i] != nil {
			fails = append(fails, failure{plans[i], errs[i]})
		} else {
			out = append(out, *results[i])
		}
	}
	return out, fails
}

// start runs one launch with metrics.
func (s *Server) start(ctx context.Context, req StartRequest, trigger string) (StartResult, error) {
	t0 := time.Now()
	r, err := s.launcher.Start(ctx, req)
	s.metrics.startLatency.Observe(time.Since(t0).Seconds())
	if err != nil {
		reason := "error"
		switch {
		case errors.Is(err, ErrUnavailable):
			reason = "unavailable"
		case errors.Is(err, ErrTooLarge):
			reason = "too_large"
		}
		s.metrics.startFailures.WithLabelValues(trigger, reason).Inc()
		return r, err
	}
	r.URL = s.runURL(r.WorkflowID, r.RunID)
	s.metrics.runs.WithLabelValues(trigger, r.Status).Inc()
	return r, nil
}

// failureAnswer turns failed starts into the error answer: 503 with
// Retry-After when Temporal was unavailable (redelivering is safe: runs that
// did start are found again as duplicates), 413 for oversized inputs, 500
// otherwise. Successful starts of the same request are listed.
func (s *Server) failureAnswer(fails []failure, tally runTally) *apiError {
	code, reason := http.StatusInternalServerError, "start_failed"
	var errs []startError
	for _, f := range fails {
		errs = append(errs, startError{Definition: f.plan.Definition.ID, WorkflowID: f.plan.WorkflowID, Error: f.err.Error()})
		switch {
		case errors.Is(f.err, ErrUnavailable):
			code, reason = http.StatusServiceUnavailable, "temporal_unavailable"
		case errors.Is(f.err, ErrTooLarge) && code != http.StatusServiceUnavailable:
			code, reason = http.StatusRequestEntityTooLarge, "input_too_large"
		}
	}
	msg := "starting runs failed (the runs listed did start); deliver again: started runs are deduplicated"
	if code == http.StatusServiceUnavailable {
		msg = "Temporal is unavailable; retry the delivery later (runs already started are deduplicated)"
	}
	e := errorf(code, reason, "%s", msg)
	if code == http.StatusServiceUnavailable {
		e.retryAfter = 5 * time.Second
	}
	e.extra = map[string]any{"runs": tally.Runs, "errors": errs, "matched": tally.Matched}
	return e
}

func jsonSize(v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return 0
	}
	return len(b)
}
