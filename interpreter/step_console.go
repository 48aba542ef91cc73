package interpreter

import "go.temporal.io/sdk/workflow"

// step_console.go: `type: console` (§6.2). The output is the rendered
// message (an object when the message is a ${{ }} expression); it is logged
// through the workflow logger (not logged again on replay).

func init() { define("console", false, runConsole) }

func runConsole(c *call) (any, error) {
	with, err := c.renderWith()
	if err != nil {
		return nil, err
	}
	c.input = with
	msg := with["message"]
	workflow.GetLogger(c.ctx).Info("console", "step", c.path, "message", msg)
	return msg, nil
}
