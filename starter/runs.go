package starter

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/secflow/secflow/internal/searchattr"
)

// RunInfo is one run as GET /api/v1/runs lists it.
type RunInfo struct {
	WorkflowID  string     `json:"workflowId"`
	RunID       string     `json:"runId"`
	Definition  string     `json:"definition"`
	Status      string     `json:"status"`
	StartTime   time.Time  `json:"startTime"`
	CloseTime   *time.Time `json:"closeTime,omitempty"`
	TriggerType string     `json:"triggerType,omitempty"`
	RuleID      string     `json:"ruleId,omitempty"`
	RuleName    string     `json:"ruleName,omitempty"`
	AlertID     string     `json:"alertId,omitempty"`
	Severity    string     `json:"severity,omitempty"`
	HostName    string     `json:"hostName,omitempty"`
	CaseID      string     `json:"caseId,omitempty"`
	StepStatus  string     `json:"stepStatus,omitempty"`
	CurrentStep string     `json:"currentStep,omitempty"`
	URL         string     `json:"url,omitempty"`
}

// statusNames maps the `status` query values to Temporal's ExecutionStatus.
var statusNames = map[string]string{
	"running":          "Running",
	"completed":        "Completed",
	"failed":           "Failed",
	"canceled":         "Canceled",
	"cancelled":        "Canceled",
	"terminated":       "Terminated",
	"timed_out":        "TimedOut",
	"timedout":         "TimedOut",
	"continued_as_new": "ContinuedAsNew",
}

// RunsQuery builds the visibility query of GET /api/v1/runs from its
// parameters (alertId, ruleId, workflow, status); it rejects unknown values.
func RunsQuery(params map[string]string) (string, error) {
	var clauses []string
	add := func(field, v string) {
		clauses = append(clauses, fmt.Sprintf("%s = %s", field, quoteQuery(v)))
	}
	if v := params["alertId"]; v != "" {
		add(searchattr.AlertID.GetName(), v)
	}
	if v := params["ruleId"]; v != "" {
		add(searchattr.RuleID.GetName(), v)
	}
	if v := params["workflow"]; v != "" {
		add("WorkflowType", v)
	}
	if v := params["status"]; v != "" {
		st, ok := statusNames[strings.ToLower(v)]
		if !ok {
			return "", fmt.Errorf("unknown status %q (running, completed, failed, canceled, terminated, timed_out, continued_as_new)", v)
		}
		add("ExecutionStatus", st)
	}
	return strings.Join(clauses, " AND "), nil
}

// quoteQuery quotes a value for a visibility query.
func quoteQuery(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(v) + `"`
}

func (s *Server) handleRuns(req *request) (int, any, *apiError) {
	q := req.r.URL.Query()
	params := map[string]string{}
	for _, k := range []string{"alertId", "ruleId", "workflow", "status"} {
		params[k] = q.Get(k)
	}
	query, err := RunsQuery(params)
	if err != nil {
		return 0, nil, errorf(http.StatusBadRequest, "bad_query", "%v", err)
	}
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return 0, nil, errorf(http.StatusBadRequest, "bad_query", "limit must be 1..1000")
		}
		limit = n
	}
	var token []byte
	if v := q.Get("next"); v != "" {
		token, err = base64.RawURLEncoding.DecodeString(v)
		if err != nil {
			return 0, nil, errorf(http.StatusBadRequest, "bad_query", "malformed next token")
		}
	}
	resp, err := s.cfg.Client.ListWorkflow(req.r.Context(), &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: s.cfg.Namespace, PageSize: int32(limit), NextPageToken: token, Query: query,
	})
	if err != nil {
		if transient(err) {
			e := errorf(http.StatusServiceUnavailable, "temporal_unavailable", "Temporal is unavailable: %v", err)
			e.retryAfter = 5 * time.Second
			return 0, nil, e
		}
		return 0, nil, errorf(http.StatusBadGateway, "visibility_error", "listing runs: %v", err)
	}
	runs := make([]RunInfo, 0, len(resp.GetExecutions()))
	for _, ex := range resp.GetExecutions() {
		info := RunInfo{
			WorkflowID: ex.GetExecution().GetWorkflowId(),
			RunID:      ex.GetExecution().GetRunId(),
			Definition: ex.GetType().GetName(),
			Status:     statusText(ex.GetStatus()),
			StartTime:  ex.GetStartTime().AsTime(),
		}
		if ex.GetCloseTime() != nil {
			t := ex.GetCloseTime().AsTime()
			info.CloseTime = &t
		}
		sa := ex.GetSearchAttributes()
		info.TriggerType = keyword(sa, searchattr.TriggerType.GetName())
		info.RuleID = keyword(sa, searchattr.RuleID.GetName())
		info.RuleName = keyword(sa, searchattr.RuleName.GetName())
		info.AlertID = keyword(sa, searchattr.AlertID.GetName())
		info.Severity = keyword(sa, searchattr.AlertSeverity.GetName())
		info.HostName = keyword(sa, searchattr.HostName.GetName())
		info.CaseID = keyword(sa, searchattr.CaseID.GetName())
		info.StepStatus = keyword(sa, searchattr.StepStatus.GetName())
		info.CurrentStep = keyword(sa, searchattr.CurrentStep.GetName())
		info.URL = s.runURL(info.WorkflowID, info.RunID)
		runs = append(runs, info)
	}
	out := map[string]any{"query": query, "runs": runs}
	if t := resp.GetNextPageToken(); len(t) > 0 {
		out["next"] = base64.RawURLEncoding.EncodeToString(t)
	}
	return http.StatusOK, out, nil
}

// statusText renders an execution status as the lower-case word the query
// parameter takes ("running", "timed_out", ...).
func statusText(st enumspb.WorkflowExecutionStatus) string {
	switch st {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		return "running"
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		return "completed"
	case enumspb.WORKFLOW_EXECUTION_STATUS_FAILED:
		return "failed"
	case enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:
		return "canceled"
	case enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED:
		return "terminated"
	case enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
		return "timed_out"
	case enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
		return "continued_as_new"
	}
	return strings.ToLower(st.String())
}

// keyword decodes a Keyword search attribute ("" when absent).
func keyword(sa *commonpb.SearchAttributes, name string) string {
	p := sa.GetIndexedFields()[name]
	if p == nil {
		return ""
	}
	var v any
	if err := converter.GetDefaultDataConverter().FromPayload(p, &v); err != nil {
		return ""
	}
	switch x := v.(type) {
	case string:
		return x
	case []any:
		if len(x) > 0 {
			s, _ := x[0].(string)
			return s
		}
	}
	return ""
}
