// Package searchattr declares the custom search attributes secflow sets on
// runs (all Keyword: SQLite visibility has exactly ten Keyword slots) and
// registers them on a namespace.
package searchattr

import (
	"context"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// The custom search attributes, as typed keys for the SDK.
var (
	WorkflowName  = temporal.NewSearchAttributeKeyKeyword("WorkflowName")
	RuleName      = temporal.NewSearchAttributeKeyKeyword("RuleName")
	RuleID        = temporal.NewSearchAttributeKeyKeyword("RuleId")
	AlertID       = temporal.NewSearchAttributeKeyKeyword("AlertId")
	AlertSeverity = temporal.NewSearchAttributeKeyKeyword("AlertSeverity")
	HostName      = temporal.NewSearchAttributeKeyKeyword("HostName")
	StepStatus    = temporal.NewSearchAttributeKeyKeyword("StepStatus")
	CurrentStep   = temporal.NewSearchAttributeKeyKeyword("CurrentStep")
	CaseID        = temporal.NewSearchAttributeKeyKeyword("CaseId")
	TriggerType   = temporal.NewSearchAttributeKeyKeyword("TriggerType")
)

// All lists every custom search attribute key.
var All = []temporal.SearchAttributeKeyKeyword{
	WorkflowName, RuleName, RuleID, AlertID, AlertSeverity,
	HostName, StepStatus, CurrentStep, CaseID, TriggerType,
}

// Types returns the attributes as a name → type map, the form the server's
// namespace configuration and the operator API take.
func Types() map[string]enumspb.IndexedValueType {
	m := make(map[string]enumspb.IndexedValueType, len(All))
	for _, k := range All {
		m[k.GetName()] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
	}
	return m
}

// Ensure registers every attribute that the namespace does not have yet. It
// is safe to call on every start (an existing database keeps its attributes).
func Ensure(ctx context.Context, c client.Client, namespace string) error {
	svc := c.OperatorService()
	have, err := svc.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("listing search attributes of %q: %w", namespace, err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range Types() {
		if _, ok := have.GetCustomAttributes()[name]; !ok {
			missing[name] = typ
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if _, err := svc.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace, SearchAttributes: missing,
	}); err != nil {
		return fmt.Errorf("adding search attributes to %q: %w", namespace, err)
	}
	return nil
}
