package interpreter

import (
	"github.com/secflow/secflow/interpreter/datastep"
)

// step_data.go: the pure data.* steps other than data.set (§6.3), run in
// workflow code by interpreter/datastep with the step's context. KQL
// conditions (data.filter, data.find) use the run's clock.

func runDataStep(c *call) (any, error) {
	now := c.r.now()
	return runData(datastep.Call{
		Type:   c.s.Type,
		With:   c.s.With,
		Config: c.s.Config,
		Ctx:    c.context(),
		R:      c.r.tpl,
		Cond: func(cond string, ctx map[string]any) (bool, error) {
			return kqlEval(cond, ctx, now)
		},
	})
}
