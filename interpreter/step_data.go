package interpreter

import (
	"github.com/secflow/secflow/interpreter/datastep"
	"github.com/secflow/secflow/interpreter/template"
)

// step_data.go: the pure data.* steps other than data.set (§6.3), run in
// workflow code by interpreter/datastep with the step's context. KQL
// conditions (data.filter, data.find) use the run's clock; every template
// output is limited to the step's max-step-size (limits.go). A data step
// whose `with` reads a value kept in the blob store runs in the fetch local
// activity (blob.go), which records only its output.

func runDataStep(c *call) (any, error) {
	now := c.r.now()
	ctx := c.context()
	slots := c.r.neededSlots(c.ctx, ctx, c.s.With, c.s.Config)
	return withTemplateLimit(c.r, c.ctx, c.s, func(limit int) (any, error) {
		if len(slots) > 0 {
			res, err := c.r.viaBlobs(c.ctx, &BlobRequest{Op: blobOpData, Type: c.s.Type, Value: c.s.With, Config: c.s.Config,
				Step: c.s.Name, Liquid: template.Options{OutputLimit: limit}}, ctx, slots)
			if err != nil {
				return nil, err
			}
			return res.Value, nil
		}
		return runData(datastep.Call{
			Type:   c.s.Type,
			With:   c.s.With,
			Config: c.s.Config,
			Ctx:    ctx,
			R:      c.r.engineFor(c.s, limit),
			Cond: func(cond string, ctx map[string]any) (bool, error) {
				return kqlEval(cond, ctx, now)
			},
		})
	})
}
