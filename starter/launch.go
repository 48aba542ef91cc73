package starter

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"time"
	"unicode/utf8"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/secflow/secflow/internal/searchattr"
	"github.com/secflow/secflow/interpreter"
)

// Start outcomes.
const (
	StatusStarted   = "started"   // this request created the run
	StatusDuplicate = "duplicate" // a run with this workflow ID already existed
)

// Launcher starts interpreter runs on Temporal. It calls the
// StartWorkflowExecution RPC itself rather than client.ExecuteWorkflow: the
// SDK (v1.50.0) does not say whether USE_EXISTING found a running execution,
// while the RPC answers `started` exactly, which is what makes the
// started/duplicate answer correct under concurrent duplicate deliveries.
type Launcher struct {
	// Client is the Temporal client (its connection, namespace header and
	// credentials are reused).
	Client client.Client
	// Namespace is the namespace runs start in (default "default").
	Namespace string
	// TaskQueue is the worker's task queue (default interpreter.DefaultTaskQueue).
	TaskQueue string
	// DataConverter encodes the input, memo and summary; it must match the
	// worker's (default converter.GetDefaultDataConverter()).
	DataConverter converter.DataConverter
	// Identity is recorded as the starter of runs (default "secflow-starter@<host>").
	Identity string
	// Timeout bounds one start including retries of transient errors (default 10s).
	Timeout time.Duration
	// MaxInputBytes caps the encoded run input (default 1.9 MiB, under
	// Temporal's 2 MiB payload limit).
	MaxInputBytes int
}

// StartRequest is one run to start.
type StartRequest struct {
	// WorkflowID is the run's workflow ID (the exactly-once key).
	WorkflowID string
	// Input is the interpreter input; Input.Definition names the workflow type.
	Input interpreter.RunInput
	// Definition is the definition run (Input.Definition may be nil for
	// runs that load the current revision on the worker).
	Definition *interpreter.Definition
	// SearchAttributes are Keyword search attributes (empty values are left out).
	SearchAttributes map[string]string
	// Summary is the run's StaticSummary shown by the UI.
	Summary string
}

// StartResult is the outcome of one start, as the API reports it.
type StartResult struct {
	Definition string   `json:"definition"`
	WorkflowID string   `json:"workflowId"`
	RunID      string   `json:"runId"`
	Status     string   `json:"status"` // started | duplicate
	AlertIDs   []string `json:"alertIds,omitempty"`
	URL        string   `json:"url,omitempty"`
}

// ErrUnavailable marks a start that failed because Temporal could not be
// reached or was overloaded: the caller may retry (HTTP 503).
var ErrUnavailable = errors.New("temporal unavailable")

// ErrTooLarge marks a run input over the payload limit (HTTP 413).
var ErrTooLarge = errors.New("run input too large")

func (l *Launcher) namespace() string {
	if l.Namespace == "" {
		return "default"
	}
	return l.Namespace
}

func (l *Launcher) taskQueue() string {
	if l.TaskQueue == "" {
		return interpreter.DefaultTaskQueue
	}
	return l.TaskQueue
}

func (l *Launcher) dc() converter.DataConverter {
	if l.DataConverter == nil {
		return converter.GetDefaultDataConverter()
	}
	return l.DataConverter
}

func (l *Launcher) identity() string {
	if l.Identity != "" {
		return l.Identity
	}
	host, _ := os.Hostname()
	return "secflow-starter@" + host
}

// Start starts the run unless its workflow ID is already in use: a running
// execution is returned as is (conflict policy USE_EXISTING); a closed one
// within the namespace retention is not restarted (reuse policy
// REJECT_DUPLICATE). Transient errors are retried with the same request ID
// until Timeout; when they persist the error wraps ErrUnavailable.
func (l *Launcher) Start(ctx context.Context, req StartRequest) (StartResult, error) {
	def := req.Definition
	if def == nil {
		def = req.Input.Definition
	}
	if def == nil {
		return StartResult{}, errors.New("start request without a definition")
	}
	res := StartResult{Definition: def.ID, WorkflowID: req.WorkflowID}
	rpc, err := l.request(def, req)
	if err != nil {
		return res, err
	}
	timeout := l.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	backoff := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		resp, err := l.Client.WorkflowService().StartWorkflowExecution(ctx, rpc)
		if err == nil {
			res.RunID = resp.GetRunId()
			res.Status = StatusDuplicate
			if resp.GetStarted() {
				res.Status = StatusStarted
			}
			return res, nil
		}
		var already *serviceerror.WorkflowExecutionAlreadyStarted
		if errors.As(err, &already) {
			res.RunID, res.Status = already.RunId, StatusDuplicate
			return res, nil
		}
		if !transient(err) {
			return res, fmt.Errorf("starting %s: %w", req.WorkflowID, err)
		}
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("starting %s: %w: %v (after %d attempts)", req.WorkflowID, ErrUnavailable, err, attempt)
		case <-time.After(backoff):
		}
		if backoff < time.Second {
			backoff *= 2
		}
	}
}

// transient reports errors worth retrying (and answering 503 for).
func transient(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var (
		unavailable *serviceerror.Unavailable
		exhausted   *serviceerror.ResourceExhausted
		deadline    *serviceerror.DeadlineExceeded
	)
	if errors.As(err, &unavailable) || errors.As(err, &exhausted) || errors.As(err, &deadline) {
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.ResourceExhausted, codes.DeadlineExceeded, codes.Aborted:
		return true
	}
	return false
}

func (l *Launcher) request(def *interpreter.Definition, req StartRequest) (*workflowservice.StartWorkflowExecutionRequest, error) {
	dc := l.dc()
	input, err := dc.ToPayloads(req.Input)
	if err != nil {
		return nil, fmt.Errorf("encoding run input: %w", err)
	}
	limit := l.MaxInputBytes
	if limit <= 0 {
		limit = 1900 << 10
	}
	if n := input.Size(); n > limit {
		return nil, fmt.Errorf("%w: %d bytes encoded (limit %d)", ErrTooLarge, n, limit)
	}
	memo := &commonpb.Memo{Fields: map[string]*commonpb.Payload{}}
	if def.Revision != "" {
		p, err := dc.ToPayload(def.Revision)
		if err != nil {
			return nil, fmt.Errorf("encoding memo: %w", err)
		}
		memo.Fields["revision"] = p
	}
	sa, err := keywordAttributes(req.SearchAttributes)
	if err != nil {
		return nil, err
	}
	var meta *sdkpb.UserMetadata
	if req.Summary != "" {
		p, err := dc.ToPayload(clip(req.Summary, maxSummaryBytes))
		if err != nil {
			return nil, fmt.Errorf("encoding summary: %w", err)
		}
		meta = &sdkpb.UserMetadata{Summary: p}
	}
	return &workflowservice.StartWorkflowExecutionRequest{
		Namespace:                l.namespace(),
		WorkflowId:               req.WorkflowID,
		WorkflowType:             &commonpb.WorkflowType{Name: def.ID},
		TaskQueue:                &taskqueuepb.TaskQueue{Name: l.taskQueue(), Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
		Input:                    input,
		WorkflowTaskTimeout:      durationpb.New(10 * time.Second),
		Identity:                 l.identity(),
		RequestId:                newRequestID(),
		WorkflowIdReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIdConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		Memo:                     memo,
		SearchAttributes:         sa,
		UserMetadata:             meta,
	}, nil
}

// keywordAttributes encodes Keyword search attributes the way the SDK's
// typed search attributes do (JSON payload with metadata type=Keyword).
func keywordAttributes(attrs map[string]string) (*commonpb.SearchAttributes, error) {
	fields := map[string]*commonpb.Payload{}
	for name, v := range attrs {
		if v == "" {
			continue
		}
		// Keyword values are capped by the server (limit.searchAttributeSizeOfValue, 2 KiB by default).
		p, err := converter.GetDefaultDataConverter().ToPayload(clip(v, 1024))
		if err != nil {
			return nil, fmt.Errorf("encoding search attribute %s: %w", name, err)
		}
		p.Metadata["type"] = []byte(enumspb.INDEXED_VALUE_TYPE_KEYWORD.String())
		fields[name] = p
	}
	if len(fields) == 0 {
		return nil, nil
	}
	return &commonpb.SearchAttributes{IndexedFields: fields}, nil
}

// newRequestID returns a random UUIDv4 string.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// AlertAttributes are the search attributes of an alert-triggered run.
func AlertAttributes(def *interpreter.Definition, ev *Event) map[string]string {
	first := ""
	if len(ev.AlertIDs) > 0 {
		first = ev.AlertIDs[0]
	}
	return map[string]string{
		searchattr.WorkflowName.GetName():  def.ID,
		searchattr.TriggerType.GetName():   interpreter.TriggeredByAlert,
		searchattr.RuleID.GetName():        ev.RuleID,
		searchattr.RuleName.GetName():      ev.RuleName,
		searchattr.AlertID.GetName():       first,
		searchattr.AlertSeverity.GetName(): ev.Severity(),
		searchattr.HostName.GetName():      ev.HostName(),
	}
}

// AlertRequest builds the start request of an alert plan. An event kept in
// the blob store (Event.Ref) is passed as RunInput.EventRef.
func AlertRequest(p Plan) StartRequest {
	return planRequest(p, interpreter.TriggeredByAlert, AlertAttributes(p.Definition, p.Event), p.Event.Summary())
}

// planRequest builds the start request of a plan: the run gets the event as
// `event` (or RunInput.EventRef when it was offloaded to the blob store),
// triggeredBy as execution.triggeredBy, and the given search attributes and
// StaticSummary.
func planRequest(p Plan, triggeredBy string, attrs map[string]string, summary string) StartRequest {
	in := interpreter.RunInput{
		Definition:  p.Definition,
		Event:       p.Event.Body,
		TriggeredBy: triggeredBy,
		SpaceID:     p.Event.SpaceID,
	}
	if p.Event.Ref != "" {
		in.Event, in.EventRef = nil, p.Event.Ref
	}
	return StartRequest{
		WorkflowID:       p.WorkflowID,
		Definition:       p.Definition,
		Input:            in,
		SearchAttributes: attrs,
		Summary:          summary,
	}
}

// maxSummaryBytes keeps StaticSummary well under the server's default
// limit.userMetadataSummarySize (400 bytes for the whole payload).
const maxSummaryBytes = 200

// clip shortens s to at most n bytes at a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
