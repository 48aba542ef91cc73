package interpreter

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/secflow/secflow/interpreter/duration"
	"github.com/secflow/secflow/interpreter/schema"
	"github.com/secflow/secflow/interpreter/step"
	"github.com/secflow/secflow/interpreter/template"
)

// Names of the workflow's activities and handlers.
const (
	// LoadDefinitionActivity is the local activity that loads the current
	// revision of a definition when the run input carries none; its result
	// in history pins the run to that revision.
	LoadDefinitionActivity = "secflow.loadDefinition"
	// QueryState is the query returning State.
	QueryState = "state"
	// QuerySteps is the query returning Results: the latest execution of
	// every step as templates see it, plus variables and output (for
	// `secflow test` assertions and debugging; not bounded).
	QuerySteps = "steps"
	// StepControl is the update (and signal) taking a ControlRequest
	// (Resume, for HITL steps, is declared in step_wait_for_input.go).
	StepControl = "step-control"
	// MemoRevision is the memo key holding the definition revision.
	MemoRevision = "revision"
)

// Error types of run failures raised by the workflow itself.
const (
	ErrTypeInputValidation    = "InputValidationError"
	ErrTypeDefinitionNotFound = "DefinitionNotFound"
	ErrTypeWorkflowTimedOut   = "WorkflowTimedOut"
)

// Options configures the interpreter workflow of one worker.
type Options struct {
	// Registry resolves activity step types; nil means step.Default().
	Registry *step.Registry
	// UIBaseURL is the Temporal UI base URL used for execution.url
	// (e.g. "http://127.0.0.1:8233"); it is recorded in each run's history.
	UIBaseURL string
	// KibanaURL is exposed to templates as kibanaUrl.
	KibanaURL string
	// SearchAttributes says the custom search attributes of
	// internal/searchattr are registered, so the run keeps StepStatus,
	// CurrentStep and CaseId up to date. Recorded in each run's history.
	SearchAttributes bool
	// BlobThreshold is the JSON size in bytes above which values are kept
	// in the blob store instead of history: activity step outputs (by the
	// worker's activity wrapper, package worker) and values carried over a
	// continue-as-new. 0 means DefaultBlobThreshold; < 0 disables it.
	BlobThreshold int
	// ContinueAsNewAfterEvents, when > 0, continues the run as new at the
	// next top-level step boundary once its history holds that many
	// events, in addition to when Temporal suggests it (tests, tuning).
	ContinueAsNewAfterEvents int
	// BlobStore says the worker has a blob store (worker.Config.Blobs), so
	// large values carried over a continue-as-new can be stored there.
	BlobStore bool
}

// runEnv is the worker configuration a run depends on, recorded once with
// a side effect so that replays see the values the run started with.
type runEnv struct {
	UIBaseURL        string `json:"uiBaseUrl,omitempty"`
	KibanaURL        string `json:"kibanaUrl,omitempty"`
	SearchAttributes bool   `json:"searchAttributes,omitempty"`
	// ContinueAfterEvents, BlobStore and BlobThreshold steer
	// continue-as-new (continue.go); histories recorded before they
	// existed replay with zero values, i.e. without continuing.
	ContinueAfterEvents int  `json:"continueAfterEvents,omitempty"`
	BlobStore           bool `json:"blobStore,omitempty"`
	BlobThreshold       int  `json:"blobThreshold,omitempty"`
}

// WorkflowFunc is the signature of the dynamic interpreter workflow.
type WorkflowFunc func(ctx workflow.Context, args converter.EncodedValues) (*RunResult, error)

// Workflow returns the interpreter workflow, to be registered with
// worker.RegisterDynamicWorkflow: the workflow type is the definition id.
//
// A run that completes returns a RunResult with status completed (or
// cancelled, from workflow.output). A run that fails or times out ends as
// a failed Temporal execution whose ApplicationError carries the RunResult
// as details (see ResultFromError), so Temporal's own status and queries
// agree with the run status. A run cancelled through Temporal ends
// cancelled.
func Workflow(opts Options) WorkflowFunc {
	if opts.Registry == nil {
		opts.Registry = step.Default()
	}
	return func(ctx workflow.Context, args converter.EncodedValues) (*RunResult, error) {
		return execute(ctx, args, opts)
	}
}

// ResultFromError extracts the RunResult carried by the error of a failed
// or timed-out run (as returned by a client's Get or a child workflow).
func ResultFromError(err error) (*RunResult, bool) {
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || !ae.HasDetails() {
		return nil, false
	}
	var res RunResult
	if ae.Details(&res) != nil || res.Status == "" {
		return nil, false
	}
	return &res, true
}

func execute(ctx workflow.Context, args converter.EncodedValues, opts Options) (*RunResult, error) {
	var in RunInput
	if args != nil && args.HasValues() {
		if err := args.Get(&in); err != nil {
			return nil, temporal.NewNonRetryableApplicationError("decoding the run input: "+err.Error(), "InvalidInput", err)
		}
	}
	info := workflow.GetInfo(ctx)

	threshold := opts.BlobThreshold
	if threshold == 0 {
		threshold = DefaultBlobThreshold
	}
	var env runEnv
	if err := workflow.SideEffect(ctx, func(workflow.Context) any {
		return runEnv{UIBaseURL: opts.UIBaseURL, KibanaURL: opts.KibanaURL, SearchAttributes: opts.SearchAttributes,
			ContinueAfterEvents: opts.ContinueAsNewAfterEvents, BlobStore: opts.BlobStore, BlobThreshold: threshold}
	}).Get(&env); err != nil {
		return nil, err
	}

	r := &run{
		ctx:       ctx,
		reg:       opts.Registry,
		wfID:      info.WorkflowExecution.ID,
		runID:     info.WorkflowExecution.RunID,
		variables: map[string]any{},
		aliases:   map[string]*Step{},
		parked:    map[string]*parkedStep{},
		inputs:    map[string]*inputWait{},
		status:    StatusRunning,
		sa:        &saState{enabled: env.SearchAttributes},
		env:       env,
	}
	if err := r.registerHandlers(); err != nil {
		return nil, err
	}

	def := in.Definition
	if def == nil {
		lao := workflow.LocalActivityOptions{
			StartToCloseTimeout: 30 * time.Second,
			RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3},
		}
		lctx := workflow.WithLocalActivityOptions(ctx, lao)
		if err := workflow.ExecuteLocalActivity(lctx, LoadDefinitionActivity, info.WorkflowType.Name).Get(lctx, &def); err != nil || def == nil {
			msg := fmt.Sprintf("definition %q could not be loaded", info.WorkflowType.Name)
			if err != nil {
				msg += ": " + fromActivityError(err, "").Message
			}
			return r.finishRun(&step.Error{Type: ErrTypeDefinitionNotFound, Message: msg}, StatusFailed)
		}
	}
	r.def = def
	r.layout = newLayout(def)
	if info.Memo == nil || info.Memo.GetFields()[MemoRevision] == nil {
		if err := workflow.UpsertMemo(ctx, map[string]any{MemoRevision: def.Revision}); err != nil {
			workflow.GetLogger(ctx).Warn("upserting the revision memo failed", "error", err)
		}
	}
	r.configure(in, env)
	r.sa.stepStatus = currentKeyword(ctx, "StepStatus")
	r.setStatus(StatusRunning, "")

	if e := r.preflight(); e != nil {
		return r.finishRun(e, StatusFailed)
	}
	inputs := in.Inputs
	if inputs == nil {
		inputs = map[string]any{}
	}
	if in.Resume != nil {
		inputs = in.Resume.Inputs // validated by the first run
		if inputs == nil {
			inputs = map[string]any{}
		}
	} else if def.Inputs != nil {
		inputs = applyDefaults(def.Inputs, inputs)
		if problems := validateInputs(def.Inputs, inputs); len(problems) > 0 {
			return r.finishRun(&step.Error{Type: ErrTypeInputValidation, Message: schema.InputError(problems)}, StatusFailed)
		}
	}
	r.base["inputs"] = inputs

	// settings.timeout: a workflow timer cancels the walk and the run ends
	// timed_out (not Temporal's execution timeout, which allows no cleanup).
	mainCtx, cancelMain := workflow.WithCancel(ctx)
	root := &scope{store: newStore(nil)}
	r.root = root.store
	from := 0
	if in.Resume != nil {
		r.restore(in.Resume)
		from = in.Resume.Next
		if from < 0 || from > len(def.Steps) {
			return r.finishRun(errResumeCursor(from, len(def.Steps)), StatusFailed)
		}
	}
	if def.Settings.Timeout != "" {
		d, err := duration.Parse(def.Settings.Timeout)
		if err != nil {
			return r.finishRun(step.AsError(err), StatusFailed)
		}
		if in.Resume != nil {
			// The timeout counts from the first run's start.
			if d = r.remaining(d); d <= 0 {
				cancelMain()
				return r.finishRun(nil, StatusTimedOut)
			}
		}
		r.wfZone = &zone{run: true, err: workflowTimeoutError()}
		root.zone = r.wfZone
		workflow.Go(ctx, func(gctx workflow.Context) {
			if workflow.NewTimer(gctx, d).Get(gctx, nil) == nil {
				r.wfZone.fired = true
				cancelMain()
			}
		})
	}

	iteration := 0
	if in.Resume != nil {
		iteration = in.Resume.Iteration
	}
	err := r.runTop(mainCtx, root, from, iteration)
	for {
		c, ok := err.(*continueAsNew)
		if !ok {
			break
		}
		done, cerr := r.continueRun(in, c)
		if done {
			cancelMain()
			return nil, cerr
		}
		err = r.runTop(mainCtx, root, c.next, c.iteration)
	}
	cancelMain()
	switch e := err.(type) {
	case nil:
		return r.finishRun(nil, StatusCompleted)
	case *loopSignal:
		return r.finishRun(nil, StatusCompleted)
	case *terminate:
		return r.finishRun(e.err, e.status)
	case *failure:
		return r.finishRun(e.E, StatusFailed)
	case *abort:
		if e.zone == r.wfZone && r.wfZone != nil {
			return r.finishRun(nil, StatusTimedOut)
		}
		if ctx.Err() != nil {
			return r.finishRun(nil, StatusCancelled)
		}
		return r.finishRun(e.E, StatusFailed)
	default:
		return r.finishRun(step.AsError(err), StatusFailed)
	}
}

// configure builds the fixed part of the template context (§4.6).
func (r *run) configure(in RunInput, env runEnv) {
	def := r.def
	r.transientRetry = in.Engine == nil || in.Engine.TransientRetry == nil || *in.Engine.TransientRetry
	r.operator = in.Engine == nil || in.Engine.OperatorRecovery == nil || *in.Engine.OperatorRecovery
	r.operatorWait = DefaultOperatorTimeout
	r.outputBudget, r.maxChildOutput = DefaultOutputBudget, DefaultMaxChildOutputSize
	if e := in.Engine; e != nil {
		if e.OutputBudget > 0 {
			r.outputBudget = e.OutputBudget
		}
		if e.MaxChildOutputSize > 0 {
			r.maxChildOutput = e.MaxChildOutputSize
		}
	}
	if def.Settings.OperatorTimeout != "" {
		if d, err := duration.Parse(def.Settings.OperatorTimeout); err == nil {
			r.operatorWait = d
		} else if def.Settings.OperatorTimeout == "0" {
			r.operatorWait = 0
		}
	}
	opts := template.Options{Now: r.now}
	if l := def.Settings.Liquid; l != nil {
		opts.ParseLimit = l.ParseLimit
		opts.MemoryLimit = l.MemoryLimit
		opts.RenderLimit = time.Duration(l.RenderLimit) * time.Millisecond
	}
	r.tplOpts = opts
	r.tplOpts.Now = nil
	r.tpl = newEngine(opts)

	spaceID := in.SpaceID
	if spaceID == "" {
		spaceID = "default"
	}
	triggeredBy := in.TriggeredBy
	if triggeredBy == "" {
		triggeredBy = TriggeredByManual
	}
	info := workflow.GetInfo(r.ctx)
	execURL := ""
	if env.UIBaseURL != "" {
		execURL = fmt.Sprintf("%s/namespaces/%s/workflows/%s/%s/history", env.UIBaseURL,
			url.PathEscape(info.Namespace), url.PathEscape(r.wfID), url.PathEscape(r.runID))
	}
	consts := def.Consts
	if consts == nil {
		consts = map[string]any{}
	}
	r.base = map[string]any{
		"consts": consts,
		"execution": map[string]any{
			"id":          r.wfID,
			"isTestRun":   false,
			"startedAt":   r.now(),
			"url":         execURL,
			"executedBy":  "unknown",
			"triggeredBy": triggeredBy,
		},
		"workflow": map[string]any{
			"id":      def.ID,
			"name":    def.Name,
			"enabled": def.Enabled,
			"spaceId": spaceID,
		},
		"kibanaUrl": env.KibanaURL,
	}
	switch {
	case in.Event != nil:
		r.base["event"] = in.Event
	case in.EventRef != "":
		// Resolved by the fetch local activity where a template reads it.
		r.base["event"] = NewBlobRef(in.EventRef, 0)
	}
	if in.Parent != nil {
		r.base["parent"] = map[string]any{
			"workflowId":  in.Parent.WorkflowID,
			"executionId": in.Parent.ExecutionID,
			"depth":       in.Parent.Depth,
		}
	}
}

// preflight fails the run before any step when a step type is unknown
// (normally caught earlier by validation).
func (r *run) preflight() *step.Error {
	var unknown []string
	check := func(s *Step) {
		if _, ok := executors[s.Type]; ok || isDataStep(s.Type) {
			return
		}
		spec, ok := r.reg.Lookup(s.Type)
		switch {
		case !ok:
			unknown = append(unknown, fmt.Sprintf("%s (unknown type %s)", s.Name, s.Type))
		case spec.Kind != step.KindActivity:
			unknown = append(unknown, fmt.Sprintf("%s (type %s is not implemented by this engine yet)", s.Name, s.Type))
		}
	}
	EachStep(r.def.Steps, check)
	if r.def.Settings.OnFailure != nil {
		EachStep(r.def.Settings.OnFailure.Fallback, check)
	}
	if len(unknown) > 0 {
		return &step.Error{Type: "ValidationError", Message: fmt.Sprintf("cannot run these steps: %s", strings.Join(unknown, "; "))}
	}
	return nil
}

// finishRun sets the final status and builds the workflow's return value.
func (r *run) finishRun(e *step.Error, status string) (*RunResult, error) {
	r.runErr = e
	r.currentStep = ""
	r.setStatus(status, "")
	res := &RunResult{Status: status, Output: r.output, Error: e, LastStepOutput: r.lastStepOutput()}
	// Let in-flight update handlers answer before the run closes.
	_ = workflow.Await(r.ctx, func() bool { return workflow.AllHandlersFinished(r.ctx) })
	switch status {
	case StatusCompleted:
		return res, nil
	case StatusCancelled:
		if r.ctx.Err() != nil {
			return res, r.ctx.Err()
		}
		return res, nil
	case StatusTimedOut:
		return nil, temporal.NewApplicationErrorWithOptions("Failed due to workflow timeout", ErrTypeWorkflowTimedOut,
			temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{res}})
	default:
		typ, msg := "Error", "workflow failed"
		if e != nil {
			typ, msg = e.Type, e.Message
		}
		return nil, temporal.NewApplicationErrorWithOptions(msg, typ,
			temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{res}})
	}
}

// registerHandlers installs the state query and the step-control update
// and signal.
func (r *run) registerHandlers() error {
	ctx := r.ctx
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (State, error) {
		st := State{
			Status:       r.status,
			CurrentStep:  r.runningStep(),
			Steps:        r.records.snapshot(),
			DroppedSteps: r.records.dropped,
			WaitingFor:   r.waiting,
			Output:       r.output,
			Error:        r.runErr,
		}
		if r.def != nil {
			st.Definition, st.Revision = r.def.ID, r.def.Revision
		}
		return st, nil
	}); err != nil {
		return err
	}
	if err := workflow.SetQueryHandler(ctx, QuerySteps, func() (Results, error) {
		res := Results{Steps: map[string]any{}, Variables: r.variables, Output: r.output}
		if r.root != nil {
			for _, name := range r.root.names() {
				res.Steps[name] = r.root.get(name).value()
			}
		}
		return res, nil
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, StepControl,
		func(ctx workflow.Context, req ControlRequest) (ControlResponse, error) {
			if err := r.validateControl(req); err != nil {
				return ControlResponse{}, err
			}
			r.applyControl(req)
			return ControlResponse{Step: req.Step, Action: req.Action}, nil
		},
		workflow.UpdateHandlerOptions{
			Validator: func(ctx workflow.Context, req ControlRequest) error {
				return r.validateControl(req)
			},
			Description: "Steer a step parked for an operator: {step, action: retry|skip|fail, output}",
		}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, Resume,
		func(ctx workflow.Context, req ResumeRequest) (ResumeResponse, error) {
			w, err := r.validateResume(req)
			if err != nil {
				return ResumeResponse{}, err
			}
			rq := req
			w.req = &rq
			return ResumeResponse{Step: w.path}, nil
		},
		workflow.UpdateHandlerOptions{
			Validator: func(ctx workflow.Context, req ResumeRequest) error {
				_, err := r.validateResume(req)
				return err
			},
			Description: "Resume a waitForInput ({step, input}) or answer a waitForApproval ({step, approved, comment})",
		}); err != nil {
		return err
	}
	resumeCh := workflow.GetSignalChannel(ctx, Resume)
	workflow.Go(ctx, func(gctx workflow.Context) {
		for {
			var req ResumeRequest
			if !resumeCh.Receive(gctx, &req) {
				return
			}
			w, err := r.validateResume(req)
			if err != nil {
				workflow.GetLogger(gctx).Warn("resume signal ignored", "error", err)
				continue
			}
			rq := req
			w.req = &rq
		}
	})
	ch := workflow.GetSignalChannel(ctx, StepControl)
	workflow.Go(ctx, func(gctx workflow.Context) {
		for {
			var req ControlRequest
			if !ch.Receive(gctx, &req) {
				return
			}
			if err := r.validateControl(req); err != nil {
				workflow.GetLogger(gctx).Warn("step-control signal ignored", "error", err)
				continue
			}
			r.applyControl(req)
		}
	})
	return nil
}

// currentKeyword reads a Keyword search attribute the run started with.
func currentKeyword(ctx workflow.Context, name string) string {
	v, _ := workflow.GetTypedSearchAttributes(ctx).GetKeyword(temporal.NewSearchAttributeKeyKeyword(name))
	return v
}
