package interpreter

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/secflow/secflow/interpreter/duration"
)

// step_wait.go: `type: wait` (§6.1.7), a durable timer. Waits longer than
// five seconds report the run as `waiting` (state query and StepStatus).

// longWait is the threshold above which Kibana persists the wait.
const longWait = 5 * time.Second

func init() { define("wait", true, runWait) }

func runWait(c *call) (any, error) {
	with, err := c.renderWith()
	if err != nil {
		return nil, err
	}
	c.input = with
	ds, _ := with["duration"].(string)
	d, err := duration.Parse(ds)
	if err != nil {
		return nil, err
	}
	long := d > longWait
	if long {
		since := c.r.now()
		until := since.Add(d)
		c.r.setWaiting(&Waiting{Kind: "timer", Step: c.path, Since: since, Until: &until})
		c.r.setStatus(StatusWaiting, c.path)
	}
	timer := workflow.NewTimerWithOptions(c.ctx, d, workflow.TimerOptions{Summary: fmt.Sprintf("%s (wait %s)", c.s.Name, ds)})
	err = timer.Get(c.ctx, nil)
	if long {
		c.r.setWaiting(nil)
		c.r.setStatus(StatusRunning, "")
	}
	return nil, err
}
