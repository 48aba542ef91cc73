package interpreter

import (
	"math"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/secflow/secflow/interpreter/duration"
	"github.com/secflow/secflow/interpreter/step"
)

// attempt describes one run of a step under an on-failure policy.
type attempt struct {
	n int // 0 for the first run
	// policy says an on-failure policy (step or workflow level) wraps the
	// step, which turns off the engine's default transient retry.
	policy bool
}

// attemptFunc runs the guarded step once.
type attemptFunc func(ctx workflow.Context, sc *scope, at attempt) error

// withPolicy applies an on-failure policy in Kibana's order, innermost
// first: retry → fallback → continue (§7.4). wfLevel marks the
// workflow-level policy, whose fallback steps get prefixed names.
func (r *run) withPolicy(ctx workflow.Context, sc *scope, s *Step, path string, p *OnFailure, wfLevel bool, fn attemptFunc) error {
	isc := *sc
	isc.caught = true
	var err error
	if p.Retry != nil {
		err = r.retryLoop(ctx, &isc, s, path, p.Retry, fn)
	} else {
		err = fn(ctx, &isc, attempt{policy: true})
	}
	f, ok := err.(*failure)
	if !ok {
		return err
	}
	if len(p.Fallback) > 0 {
		fsc := sc.child(path + "/fallback")
		fsc.errVal = errorValue(f.E)
		fsc.inFallback = true
		fsc.caught = sc.caught || continues(p)
		fallback := p.Fallback
		if wfLevel {
			fsc.viewAs = s
			fallback = r.workflowLevelFallback(s, p.Fallback)
		}
		ferr := r.runSteps(ctx, fsc, fallback)
		if ferr != nil {
			ff, ok := ferr.(*failure)
			if !ok {
				return ferr
			}
			f, err = ff, ff
		}
	}
	if p.Continue != nil {
		var cont bool
		switch v := p.Continue.(type) {
		case bool:
			cont = v
		default:
			csc := *sc
			csc.errVal = errorValue(f.E)
			ok, cerr := r.evalCondition(ctx, v, r.templateContext(&csc, viewer{at: s, self: true}), s.Name)
			if cerr != nil {
				return &failure{E: step.AsError(cerr)}
			}
			cont = ok
		}
		if cont {
			return nil
		}
	}
	return err
}

// continues reports whether p may swallow errors (continue is not false).
func continues(p *OnFailure) bool {
	if p.Continue == nil {
		return false
	}
	if b, ok := p.Continue.(bool); ok {
		return b
	}
	return true
}

// workflowLevelFallback clones the workflow-level fallback steps for the
// failing step s, named workflow-level-on-failure_<step>_<name> as Kibana
// does, so each failing step gets its own results.
func (r *run) workflowLevelFallback(s *Step, fallback []*Step) []*Step {
	out := make([]*Step, 0, len(fallback))
	for _, f := range fallback {
		if f == nil {
			continue
		}
		c := *f
		c.Name = "workflow-level-on-failure_" + s.Name + "_" + f.Name
		r.aliases[c.Name] = s
		out = append(out, &c)
	}
	return out
}

// changeRetryWaiting is the GetVersion change ID of the waiting status
// during long retry delays (it adds search attribute updates).
const changeRetryWaiting = "retry-delay-waiting"

// retryLoop is the workflow-side retry of §7.4: attempt n+1 runs after a
// failure while the condition (with `error` in scope) holds and n <
// max-attempts, after the configured delay. It is used for activity steps
// too (with the activity's own RetryPolicy at one attempt), as §9
// recommends: the worker marks permanent step errors NonRetryable, so a
// Temporal RetryPolicy could not retry them as Kibana's retry does, and
// each attempt gets its own step record.
func (r *run) retryLoop(ctx workflow.Context, sc *scope, s *Step, path string, rt *Retry, fn attemptFunc) error {
	for n := 0; ; n++ {
		err := fn(ctx, sc, attempt{n: n, policy: true})
		f, ok := err.(*failure)
		if !ok {
			return err
		}
		if rt.Condition != nil {
			csc := *sc
			csc.errVal = errorValue(f.E)
			ok, cerr := r.evalCondition(ctx, rt.Condition, r.templateContext(&csc, viewer{at: s, self: true}), s.Name)
			if cerr != nil {
				return &failure{E: step.AsError(cerr)}
			}
			if !ok {
				return err
			}
		}
		if n >= rt.MaxAttempts {
			return err
		}
		if d := retryDelay(rt, n); d > 0 {
			since := r.now()
			until := since.Add(d)
			r.setWaiting(&Waiting{Kind: "retry", Step: path, Since: since, Until: &until, Error: f.E})
			// A delay Kibana persists reports the run as waiting (§7.1,
			// §7.4); runs started before this change keep running.
			long := d > longWait && workflow.GetVersion(ctx, changeRetryWaiting, workflow.DefaultVersion, 1) == 1
			if long {
				r.setStatus(StatusWaiting, path)
			}
			serr := workflow.Sleep(ctx, d)
			r.setWaiting(nil)
			if long {
				r.setStatus(StatusRunning, "")
			}
			if serr != nil {
				return r.abortFor(sc)
			}
		}
	}
}

// retryDelay is the delay before retry n+1: fixed = delay; exponential =
// delay × multiplier^n (multiplier default 2) capped by max-delay. Jitter
// is not applied (it would need a recorded random value).
func retryDelay(rt *Retry, n int) time.Duration {
	base, _ := parseDuration(rt.Delay)
	if base <= 0 {
		return 0
	}
	d := base
	if rt.Strategy == "exponential" {
		m := rt.Multiplier
		if m <= 0 {
			m = 2
		}
		d = time.Duration(float64(base) * math.Pow(m, float64(n)))
	}
	if maxD, _ := parseDuration(rt.MaxDelay); maxD > 0 && d > maxD {
		d = maxD
	}
	return d
}

// parseDuration parses an optional duration ("" gives 0).
func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	return duration.Parse(s)
}
