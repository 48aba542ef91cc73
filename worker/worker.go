// Package worker runs the secflow Temporal worker: the interpreter workflow
// (registered dynamically, so the workflow type is the definition id), the
// local activities that load a definition and read or write the blob
// store, and one activity per side-effecting step type of the registry.
//
// The activity wrapper keeps large outputs out of history: an output whose
// JSON encoding is over the blob threshold is written to the blob store
// and the activity returns {"$blobRef": "<ref>", "size": <bytes>} instead
// (see interpreter/blob.go for how the workflow reads it).
package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/secflow/secflow/internal/blobstore"
	"github.com/secflow/secflow/internal/searchattr"
	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/interpreter/step"
)

// Definitions is what the worker needs from the definition store
// (internal/defstore.Store satisfies it).
type Definitions interface {
	Get(id string) (*interpreter.Definition, bool)
}

// Config configures a worker.
type Config struct {
	// Client is the Temporal client the worker polls with.
	Client client.Client
	// TaskQueue defaults to interpreter.DefaultTaskQueue.
	TaskQueue string
	// Namespace is the client's namespace, used to check which search
	// attributes are registered (default "default").
	Namespace string
	// Definitions resolves definitions for runs started without one
	// (e.g. `temporal workflow start --type <id>`).
	Definitions Definitions
	// Registry holds the step specs; nil means step.Default().
	Registry *step.Registry
	// Runtime is handed to every activity (connectors, HTTP client, logger).
	Runtime step.Runtime
	// Logger logs the worker's own messages; nil means slog.Default().
	Logger *slog.Logger
	// UIBaseURL is the Temporal UI base URL used for execution.url.
	UIBaseURL string
	// KibanaURL is exposed to templates as kibanaUrl.
	KibanaURL string
	// SearchAttributes overrides the detection of the custom search
	// attributes (nil: ask the server whether StepStatus is registered).
	SearchAttributes *bool
	// Blobs keeps step outputs over BlobThreshold out of history (and
	// serves EventRef events and continue-as-new state). nil: outputs stay
	// inline (Temporal rejects payloads over 2 MiB) and runs that refer to
	// blobs fail to read them.
	Blobs blobstore.Store
	// BlobThreshold is interpreter.Options.BlobThreshold (0: 128 KiB; < 0:
	// never offload).
	BlobThreshold int
	// ContinueAsNewAfterEvents is interpreter.Options.ContinueAsNewAfterEvents.
	ContinueAsNewAfterEvents int
	// BlobGC turns on the periodic garbage collection of Blobs (see
	// BlobGC; off by default).
	BlobGC BlobGC
	// Deployment turns on Worker Versioning (see Deployment; zero: off,
	// the worker is unversioned).
	Deployment Deployment
	// Options are extra Temporal worker options.
	Options sdkworker.Options
}

// New creates a worker with every registration done; the caller starts it.
func New(cfg Config) (sdkworker.Worker, error) {
	if cfg.Client == nil {
		return nil, errors.New("worker: no Temporal client")
	}
	if cfg.TaskQueue == "" {
		cfg.TaskQueue = interpreter.DefaultTaskQueue
	}
	if err := cfg.Deployment.apply(&cfg.Options); err != nil {
		return nil, err
	}
	w := sdkworker.New(cfg.Client, cfg.TaskQueue, cfg.Options)
	if err := Register(w, cfg); err != nil {
		return nil, err
	}
	return w, nil
}

// Registry is the part of a Temporal worker (or replayer) that
// registrations need.
type Registry interface {
	RegisterDynamicWorkflow(w any, options workflow.DynamicRegisterOptions)
	RegisterActivityWithOptions(a any, options activity.RegisterOptions)
	RegisterDynamicActivity(a any, options activity.DynamicRegisterOptions)
}

// Register registers the interpreter workflow, the definition-loading local
// activity and every activity step type of cfg.Registry on w.
func Register(w Registry, cfg Config) error {
	reg := cfg.Registry
	if reg == nil {
		reg = step.Default()
	}
	sa := false
	if cfg.SearchAttributes != nil {
		sa = *cfg.SearchAttributes
	} else if cfg.Client != nil {
		sa = searchAttributesRegistered(cfg.Client, cfg.Namespace, cfg.Logger)
	}
	w.RegisterDynamicWorkflow(interpreter.Workflow(interpreter.Options{
		Registry:                 reg,
		UIBaseURL:                cfg.UIBaseURL,
		KibanaURL:                cfg.KibanaURL,
		SearchAttributes:         sa,
		BlobThreshold:            cfg.BlobThreshold,
		ContinueAsNewAfterEvents: cfg.ContinueAsNewAfterEvents,
		BlobStore:                cfg.Blobs != nil,
	}), cfg.Deployment.workflowOptions())
	w.RegisterActivityWithOptions(loadDefinition(cfg.Definitions), activity.RegisterOptions{Name: interpreter.LoadDefinitionActivity})
	w.RegisterActivityWithOptions(interpreter.NewFetchBlob(cfg.Blobs), activity.RegisterOptions{Name: interpreter.FetchBlobActivity})
	w.RegisterActivityWithOptions(interpreter.NewStoreBlob(cfg.Blobs), activity.RegisterOptions{Name: interpreter.StoreBlobActivity})
	off := offloader{store: cfg.Blobs, threshold: cfg.BlobThreshold}
	if off.threshold == 0 {
		off.threshold = interpreter.DefaultBlobThreshold
	}

	dynamic := false
	for _, spec := range reg.All() {
		if spec.Kind != step.KindActivity || spec.Activity == nil {
			continue
		}
		if spec.Type == "*" || spec.IsFamily() {
			dynamic = true
			continue
		}
		w.RegisterActivityWithOptions(bind(spec, cfg.Runtime, off), activity.RegisterOptions{Name: spec.Type})
	}
	if dynamic {
		w.RegisterDynamicActivity(dispatch(reg, cfg.Runtime, off), activity.DynamicRegisterOptions{})
	}
	return nil
}

// Run creates and runs a worker until ctx is done.
func Run(ctx context.Context, cfg Config) error {
	w, err := New(cfg)
	if err != nil {
		return err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	startGC, err := prepareBlobGC(ctx, cfg, log)
	if err != nil {
		return err
	}
	if err := w.Start(); err != nil {
		return fmt.Errorf("starting the worker on %q: %w", cfg.TaskQueue, err)
	}
	if startGC != nil {
		startGC()
	}
	<-ctx.Done()
	w.Stop()
	return nil
}

// loadDefinition returns the local activity that loads the current
// revision of a definition by id.
func loadDefinition(defs Definitions) func(ctx context.Context, id string) (*interpreter.Definition, error) {
	return func(ctx context.Context, id string) (*interpreter.Definition, error) {
		if defs == nil {
			return nil, temporal.NewNonRetryableApplicationError("this worker has no definition store", interpreter.ErrTypeDefinitionNotFound, nil)
		}
		def, ok := defs.Get(id)
		if !ok {
			return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("no definition with id %q", id), interpreter.ErrTypeDefinitionNotFound, nil)
		}
		return def, nil
	}
}

// bind adapts a spec's ActivityFunc to a Temporal activity, classifies its
// errors once for every step type (see toApplicationError) and keeps
// outputs over the blob threshold out of history (see offloader).
func bind(spec *step.Spec, rt step.Runtime, off offloader) func(ctx context.Context, in step.Input) (any, error) {
	return func(ctx context.Context, in step.Input) (any, error) {
		out, err := spec.Activity(ctx, rt, in)
		if err != nil {
			return nil, toApplicationError(err)
		}
		return off.offload(ctx, in.IdempotencyKey, out)
	}
}

// offloader stores activity outputs over threshold bytes of JSON in the
// blob store.
type offloader struct {
	store     blobstore.Store
	threshold int
}

// offload returns out itself, or the reference object of out once stored
// under key. A store failure is a transient step error (the activity is
// retried; the reference is content-addressed, so a retry that stores the
// same output again yields the same reference).
func (o offloader) offload(ctx context.Context, key string, out any) (any, error) {
	if o.store == nil || o.threshold < 0 || out == nil {
		return out, nil
	}
	b, err := json.Marshal(out)
	if err != nil || len(b) <= o.threshold {
		return out, nil // an unencodable output fails in the SDK as before
	}
	ref, err := o.store.Put(ctx, key, b)
	if err != nil {
		return nil, toApplicationError(step.Transient(interpreter.ErrTypeBlob, "storing the step output in the blob store failed: %s", err.Error()))
	}
	return interpreter.NewBlobRef(ref, len(b)), nil
}

// dispatch is the dynamic activity serving family ("slack2.*") and generic
// connector ("*") specs: the activity type is the step type.
func dispatch(reg *step.Registry, rt step.Runtime, off offloader) func(ctx context.Context, args converter.EncodedValues) (any, error) {
	return func(ctx context.Context, args converter.EncodedValues) (any, error) {
		typ := activity.GetInfo(ctx).ActivityType.Name
		spec, ok := reg.Lookup(typ)
		if !ok || spec.Kind != step.KindActivity || spec.Activity == nil {
			return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("no activity for step type %q", typ), "UnknownStepType", nil)
		}
		var in step.Input
		if err := args.Get(&in); err != nil {
			return nil, temporal.NewNonRetryableApplicationError("decoding the step input: "+err.Error(), "Error", nil)
		}
		return bind(spec, rt, off)(ctx, in)
	}
}

// toApplicationError converts a step failure into the Temporal error the
// interpreter decodes: Type = the step error type, Details = the step
// error details, NonRetryable unless the step said the failure is
// transient, NextRetryDelay = Retry-After. The original error is not
// attached as the cause, so nothing but the step error's own message (which
// integrations keep free of secrets) reaches history.
func toApplicationError(err error) error {
	se := step.AsError(err)
	opts := temporal.ApplicationErrorOptions{NonRetryable: !se.Retryable, NextRetryDelay: se.RetryAfter}
	if len(se.Details) > 0 {
		opts.Details = []any{se.Details}
	}
	typ := se.Type
	if typ == "" {
		typ = "Error"
	}
	return temporal.NewApplicationErrorWithOptions(se.Message, typ, opts)
}

// searchAttributesRegistered asks the server whether secflow's custom
// search attributes exist on the client's namespace.
func searchAttributesRegistered(c client.Client, ns string, log *slog.Logger) bool {
	if ns == "" {
		ns = client.DefaultNamespace
	}
	resp, err := c.OperatorService().ListSearchAttributes(context.Background(), &operatorservice.ListSearchAttributesRequest{Namespace: ns})
	if err != nil {
		if log != nil {
			log.Warn("cannot list search attributes; StepStatus/CurrentStep/CaseId will not be set", "error", err)
		}
		return false
	}
	for _, k := range []temporal.SearchAttributeKeyKeyword{searchattr.StepStatus, searchattr.CurrentStep, searchattr.CaseID} {
		if resp.GetCustomAttributes()[k.GetName()] != enumspb.INDEXED_VALUE_TYPE_KEYWORD {
			if log != nil {
				log.Warn("search attribute not registered; StepStatus/CurrentStep/CaseId will not be set", "attribute", k.GetName())
			}
			return false
		}
	}
	return true
}
