package interpreter

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/secflow/secflow/interpreter/duration"
	"github.com/secflow/secflow/interpreter/schema"
	"github.com/secflow/secflow/interpreter/step"
)

// step_wait_for_input.go: waitForInput and waitForApproval (§6.1.8,
// §6.1.9), human-in-the-loop waits resumed by the Temporal update "resume"
// (validated: the step must be waiting, the input must match its schema,
// an approval must say approved true/false) or the same-named signal.
//
// waitForInput completes with {input, resumedAt, resumedBy} or, when its
// timeout elapses, with {timedOut: true}. waitForApproval completes with
// {approved: true, respondedBy, respondedAt, comment}; a rejection fails
// the step (ApprovalRejected) so the normal path stops and on-failure can
// catch it. An approval that times out fails the same way
// (ApprovalTimedOut): nobody approved, so destructive steps after it must
// not run (a deliberate choice; waitForInput's timeout completes).

// DefaultHITLTimeout is how long a waitForInput/waitForApproval waits when
// neither `with.timeout` nor the step's `timeout` says.
const DefaultHITLTimeout = 72 * time.Hour

// Resume is the update (and signal) that resumes a waiting HITL step.
const Resume = "resume"

// ResumeRequest is the argument of the resume update and signal.
type ResumeRequest struct {
	// Step is the path of the waiting step; it may be left out when only
	// one step waits.
	Step string `json:"step,omitempty"`
	// Input answers a waitForInput.
	Input map[string]any `json:"input,omitempty"`
	// Approved answers a waitForApproval.
	Approved *bool `json:"approved,omitempty"`
	// Comment goes with an approval answer.
	Comment string `json:"comment,omitempty"`
	// By names who answered (resumedBy / respondedBy).
	By string `json:"by,omitempty"`
}

// ResumeResponse is the result of the resume update.
type ResumeResponse struct {
	Step string `json:"step"`
}

// inputWait is a HITL step waiting for an answer.
type inputWait struct {
	path     string
	approval bool
	schema   *schema.Schema
	req      *ResumeRequest
}

func init() {
	define("waitForInput", true, func(c *call) (any, error) { return runHITL(c, false) })
	define("waitForApproval", true, func(c *call) (any, error) { return runHITL(c, true) })
	ownTimeout["waitForInput"] = true
	ownTimeout["waitForApproval"] = true
}

func runHITL(c *call, approval bool) (any, error) {
	with, err := c.renderWith()
	if err != nil {
		return nil, err
	}
	c.input = with
	timeout := DefaultHITLTimeout
	for _, t := range []string{c.s.Timeout, stringOf(with["timeout"])} {
		if t != "" {
			d, err := duration.Parse(t)
			if err != nil {
				return nil, err
			}
			timeout = d
		}
	}
	w := &inputWait{path: c.path, approval: approval}
	if sv, ok := with["schema"]; ok && sv != nil && !approval {
		s, err := schema.FromValue(sv)
		if err != nil {
			return nil, step.Errorf("Error", "invalid schema of step %s: %v", c.s.Name, err)
		}
		w.schema = s
	}
	r := c.r
	r.inputs[c.path] = w
	since := r.now()
	until := since.Add(timeout)
	msg := stringOf(with["message"])
	r.setWaiting(&Waiting{Kind: "input", Step: c.path, Since: since, Until: &until, Message: msg})
	r.setStatus(StatusWaitingForInput, c.path)
	workflow.SetCurrentDetails(r.ctx, fmt.Sprintf("**%s** waits for %s: %s\n\nSend the update or signal %q with {\"step\": %q, %s}.",
		c.path, map[bool]string{true: "an approval", false: "input"}[approval], msg, Resume, c.path,
		map[bool]string{true: `"approved": true|false, "comment": "..."`, false: `"input": {...}`}[approval]))

	ok, werr := workflow.AwaitWithTimeout(c.ctx, timeout, func() bool { return w.req != nil })
	delete(r.inputs, c.path)
	r.setWaiting(nil)
	workflow.SetCurrentDetails(r.ctx, "")
	r.setStatus(StatusRunning, "")
	if werr != nil {
		return nil, werr
	}
	if !ok {
		if approval {
			return nil, step.Errorf("ApprovalTimedOut", "No approval for step %s within %s.", c.s.Name, duration.Format(timeout))
		}
		return map[string]any{"timedOut": true}, nil
	}
	at := isoTime(r.now()) // new Date().toISOString()
	req := w.req
	if approval {
		if !*req.Approved {
			e := step.Errorf("ApprovalRejected", "Step %s was rejected", c.s.Name)
			if req.Comment != "" {
				e.Message += ": " + req.Comment
			}
			e.Details = map[string]any{"respondedBy": req.By, "respondedAt": at, "comment": req.Comment}
			return nil, e
		}
		out := map[string]any{"approved": true, "respondedAt": at}
		if req.By != "" {
			out["respondedBy"] = req.By
		}
		if req.Comment != "" {
			out["comment"] = req.Comment
		}
		return out, nil
	}
	input := req.Input
	if input == nil {
		input = map[string]any{}
	}
	if w.schema != nil {
		input = applyDefaults(w.schema, input)
	}
	out := map[string]any{"input": input, "resumedAt": at}
	if req.By != "" {
		out["resumedBy"] = req.By
	}
	return out, nil
}

// validateResume checks a resume request and returns the step it is for.
func (r *run) validateResume(req ResumeRequest) (*inputWait, error) {
	var w *inputWait
	if req.Step == "" {
		if len(r.inputs) != 1 {
			return nil, fmt.Errorf("%d steps wait for input (%s): name one with \"step\"", len(r.inputs), strings.Join(keysSorted(r.inputs), ", "))
		}
		w = r.inputs[keysSorted(r.inputs)[0]]
	} else if w = r.inputs[req.Step]; w == nil {
		return nil, fmt.Errorf("step %q is not waiting for input (waiting: %v)", req.Step, keysSorted(r.inputs))
	}
	if w.req != nil {
		return nil, fmt.Errorf("step %q was already resumed", w.path)
	}
	if w.approval {
		if req.Approved == nil {
			return nil, fmt.Errorf("step %q waits for an approval: send \"approved\": true or false", w.path)
		}
		return w, nil
	}
	if w.schema != nil {
		in := applyDefaults(w.schema, req.Input)
		if problems := validateInputs(w.schema, in); len(problems) > 0 {
			return nil, fmt.Errorf("invalid input for step %q: %s", w.path, strings.Join(problems, "; "))
		}
	}
	return w, nil
}

// stringOf returns v when it is a string, else "".
func stringOf(v any) string {
	s, _ := v.(string)
	return s
}
