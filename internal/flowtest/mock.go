package flowtest

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/secflow/secflow/interpreter/step"
)

// errTypeNoMock is the step error type of an unmocked side-effecting step.
const errTypeNoMock = "NoMock"

// registry returns a copy of the runner's registry in which every activity
// step type answers from the case's mocks. The worker's own registration
// (worker.Register) binds these functions, so mock errors become Temporal
// application errors exactly as real step errors do.
func (cr *caseRun) registry() *step.Registry {
	reg := step.NewRegistry()
	for _, s := range cr.r.reg.All() {
		if s.Kind != step.KindActivity || s.Activity == nil {
			reg.MustAdd(s)
			continue
		}
		cp := *s
		cp.Activity = cr.answer(s.Activity)
		reg.MustAdd(&cp)
	}
	return reg
}

// answer returns the activity function of a step type: the step's mock
// answers; without one the real step runs against the sandbox (--sandbox)
// or the case fails.
func (cr *caseRun) answer(real step.ActivityFunc) step.ActivityFunc {
	return func(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
		cr.mu.Lock()
		m := cr.mockFor(in.Name)
		var entry MockEntry
		var fail *step.Error
		if m != nil {
			entry, fail = cr.nextLocked(m, in.Name, in.Type)
		}
		cr.mu.Unlock()
		switch {
		case fail != nil:
			return nil, fail
		case m != nil && entry.Error != nil:
			return nil, entry.Error.stepError()
		case m != nil:
			return clone(entry.Output), nil
		case cr.r.opts.Sandbox:
			return real(ctx, rt, in)
		}
		cr.fail(Failure{Step: in.Name, Msg: fmt.Sprintf("(type %s) has no mock", in.Type)})
		return nil, &step.Error{Type: errTypeNoMock, Message: fmt.Sprintf("step %q (type %s) has no mock", in.Name, in.Type)}
	}
}

// mockFor returns the mock of a step name: by the exact name, or for a
// workflow-level fallback clone (workflow-level-on-failure_<step>_<name>)
// by the fallback step's own name. cr.mu must be held.
func (cr *caseRun) mockFor(name string) *Mock {
	if m, ok := cr.mocks[name]; ok {
		return m
	}
	if strings.HasPrefix(name, wfFallbackPrefix) {
		for _, k := range sortedKeys(cr.mocks) {
			if strings.HasSuffix(name, "_"+k) {
				return cr.mocks[k]
			}
		}
	}
	return nil
}

// nextLocked consumes the next entry of m. Running past the end of a list
// fails the case. cr.mu must be held.
func (cr *caseRun) nextLocked(m *Mock, name, typ string) (MockEntry, *step.Error) {
	n := cr.used[m.Step]
	cr.used[m.Step] = n + 1
	if m.Repeat {
		return m.Entries[0], nil
	}
	if n < len(m.Entries) {
		return m.Entries[n], nil
	}
	msg := fmt.Sprintf("step %q (type %s) ran %d times but its mock (%s) lists %d answer(s)", name, typ, n+1, m.Pos, len(m.Entries))
	cr.problems = append(cr.problems, Failure{Step: name, Field: "mocks", Msg: fmt.Sprintf("called %d times, but the mock at %s lists %d answer(s)", n+1, m.Pos, len(m.Entries))})
	return MockEntry{}, &step.Error{Type: errTypeNoMock, Message: msg}
}

// stepError converts a mock error into the step error an integration would
// return.
func (e *MockError) stepError() *step.Error {
	details, _ := clone(e.Details).(map[string]any)
	se := &step.Error{Type: e.Type, Message: e.Message, Details: details}
	if e.Retryable != nil {
		se.Retryable = *e.Retryable
	} else {
		se.Retryable = transient(e)
	}
	return se
}

// transientTypes are error types integrations use for network failures.
var transientTypes = []string{"ConnectionRefused", "ConnectionError", "NetworkError", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EAI_AGAIN"}

// statusInMessage finds the HTTP status of "Request failed with status code 503".
var statusInMessage = regexp.MustCompile(`status code (\d{3})`)

// transient infers whether a mock error is transient as the integrations
// classify real ones (activitykit.Classify): network error types, HTTP
// 5xx and 429 (from details.status or the message).
func transient(e *MockError) bool {
	if contains(transientTypes, e.Type) {
		return true
	}
	status := 0
	if f, ok := number(e.Details["status"]); ok {
		status = int(f)
	} else if m := statusInMessage.FindStringSubmatch(e.Message); m != nil {
		fmt.Sscan(m[1], &status)
	}
	return status >= 500 || status == 429
}
