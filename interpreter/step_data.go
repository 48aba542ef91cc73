package interpreter

import (
	"github.com/secflow/secflow/interpreter/datastep"
	"github.com/secflow/secflow/interpreter/kql"
)

// step_data.go: the pure data.* steps other than data.set (§6.3), run in
// workflow code by interpreter/datastep with the step's context. KQL
// conditions (data.filter, data.find) use the run's clock.

func runDataStep(c *call) (any, error) {
	now := c.r.now()
	return datastep.Run(datastep.Call{
		Type:   c.s.Type,
		With:   c.s.With,
		Config: c.s.Config,
		Ctx:    c.context(),
		R:      c.r.tpl,
		Cond: func(cond string, ctx map[string]any) (bool, error) {
			return kql.Eval(cond, ctx, now)
		},
	})
}
