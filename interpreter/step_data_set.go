package interpreter

// step_data_set.go: `type: data.set` (§6.3.1). The rendered `with` must be
// an object; it is the step output and, once the step completed (its size
// checked), is merged into `variables` by the walker (later executions
// win, shallow per key).

func init() { define("data.set", false, runDataSet) }

func runDataSet(c *call) (any, error) {
	with, err := c.renderWith()
	if err != nil {
		return nil, err
	}
	c.input = with
	return with, nil
}
