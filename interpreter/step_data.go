package interpreter

import (
	"github.com/secflow/secflow/interpreter/datastep"
)

// step_data.go: the pure data.* steps other than data.set (§6.3), run in
// workflow code by interpreter/datastep with the step's context. KQL
// conditions (data.filter, data.find) use the run's clock. A data step
// whose `with` reads a value kept in the blob store runs in the fetch local
// activity (blob.go), which records only its output.

func runDataStep(c *call) (any, error) {
	now := c.r.now()
	ctx := c.context()
	if slots := neededSlots(ctx, c.s.With, c.s.Config); len(slots) > 0 {
		res, err := c.r.viaBlobs(c.ctx, &BlobRequest{Op: blobOpData, Type: c.s.Type, Value: c.s.With, Config: c.s.Config}, ctx, slots)
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
		R:      c.r.tpl,
		Cond: func(cond string, ctx map[string]any) (bool, error) {
			return kqlEval(cond, ctx, now)
		},
	})
}
