package activitykit

import (
	"reflect"
	"testing"

	"github.com/secflow/secflow/interpreter/step"
)

func TestSubAction(t *testing.T) {
	for _, tt := range []struct {
		name       string
		in         step.Input
		sub        string
		wantParams map[string]any
	}{
		{"dotted type", step.Input{Type: "jira.getIncident", With: map[string]any{"externalId": "SEC-1"}}, "getIncident", map[string]any{"externalId": "SEC-1"}},
		{"bare family", step.Input{Type: "jira", With: map[string]any{"subAction": "getIncident", "subActionParams": map[string]any{"externalId": "SEC-1"}}},
			"getIncident", map[string]any{"externalId": "SEC-1"}},
		{"bare family without params", step.Input{Type: "jira", With: map[string]any{"subAction": "issueTypes"}}, "issueTypes", map[string]any{}},
		{"other family", step.Input{Type: "slack_api.postMessage", With: map[string]any{}}, "", map[string]any{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sub, params := SubAction(tt.in, "jira")
			if sub != tt.sub || !reflect.DeepEqual(params, tt.wantParams) {
				t.Fatalf("SubAction = %q, %v; want %q, %v", sub, params, tt.sub, tt.wantParams)
			}
		})
	}
}
