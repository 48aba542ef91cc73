package interpreter

// step_data_set.go: `type: data.set` (§6.3.1). The rendered `with` must be
// an object; it is the step output and is merged into `variables` (later
// executions win, shallow per key).

func init() { define("data.set", false, runDataSet) }

func runDataSet(c *call) (any, error) {
	with, err := c.renderWith()
	if err != nil {
		return nil, err
	}
	c.input = with
	c.r.setVariables(with)
	return with, nil
}
