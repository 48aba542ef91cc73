package activitykit

import (
	"strings"

	"github.com/secflow/secflow/interpreter/step"
)

// SubAction splits a connector step into its sub-action and params: for
// "<family>.<sub>" the params are the whole `with`; for the bare family,
// `with` is Kibana's {subAction, subActionParams} (params {} when absent).
func SubAction(in step.Input, family string) (string, map[string]any) {
	if sub, ok := strings.CutPrefix(in.Type, family+"."); ok {
		return sub, in.With
	}
	params, _ := in.With["subActionParams"].(map[string]any)
	if params == nil {
		params = map[string]any{}
	}
	return in.String("subAction"), params
}
