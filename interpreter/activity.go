package interpreter

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/secflow/secflow/interpreter/duration"
	"github.com/secflow/secflow/interpreter/step"
)

// DefaultActivityTimeout is the StartToClose timeout of an activity step
// whose YAML and spec give none.
const DefaultActivityTimeout = 5 * time.Minute

// heartbeatTimeout applies to activity types whose spec says they heartbeat.
const heartbeatTimeout = 15 * time.Second

// TransientRetryPolicy is the engine default for activity steps without
// on-failure: 3 attempts with backoff. Only retryable errors (network
// errors, 5xx, 429) are retried, because the worker marks every other step
// error NonRetryable. It is the one deliberate difference from Kibana,
// which does not retry them; EngineOptions.TransientRetry turns it off.
var TransientRetryPolicy = temporal.RetryPolicy{
	InitialInterval:    time.Second,
	BackoffCoefficient: 2,
	MaximumInterval:    30 * time.Second,
	MaximumAttempts:    3,
}

// runActivity runs an activity-kind step: renders `with`, config and
// connector-id, then executes the activity named after the step type with
// ActivityID = the step path and an idempotency key that is stable across
// retries, worker crashes and resets.
func (c *call) runActivity(spec *step.Spec) (any, error) {
	ctx := c.context()
	with, err := c.renderWithIn(ctx)
	if err != nil {
		return nil, err
	}
	c.input = with
	var config map[string]any
	if len(c.s.Config) > 0 {
		v, err := c.r.renderValue(c.ctx, c.s, c.s.Config, ctx)
		if err != nil {
			return nil, err
		}
		config, _ = v.(map[string]any)
	}
	connectorID := c.s.ConnectorID
	if connectorID != "" {
		if connectorID, err = c.r.renderString(c.ctx, c.s, connectorID, ctx); err != nil {
			return nil, err
		}
	}
	in := step.Input{
		Type:           c.s.Type,
		Name:           c.s.Name,
		Path:           c.path,
		IdempotencyKey: c.r.wfID + "/" + c.path,
		ConnectorID:    connectorID,
		With:           with,
		Config:         config,
		SpaceID:        c.r.spaceID(),
	}
	ao, err := c.activityOptions(spec)
	if err != nil {
		return nil, err
	}
	var out any
	err = workflow.ExecuteActivity(workflow.WithActivityOptions(c.ctx, ao), c.s.Type, in).Get(c.ctx, &out)
	return out, err
}

// activityOptions maps the step's timeout and on-failure onto Temporal
// activity options (temporal-notes §1.3.5).
func (c *call) activityOptions(spec *step.Spec) (workflow.ActivityOptions, error) {
	ao := workflow.ActivityOptions{
		ActivityID:          c.path,
		Summary:             c.s.Name + " (" + c.s.Type + ")",
		StartToCloseTimeout: DefaultActivityTimeout,
	}
	if spec.Timeout > 0 {
		ao.StartToCloseTimeout = spec.Timeout
	}
	var stepTimeout time.Duration
	if c.s.Timeout != "" {
		d, err := duration.Parse(c.s.Timeout)
		if err != nil {
			return ao, err
		}
		stepTimeout = d
		ao.StartToCloseTimeout = d
	}
	if spec.Heartbeat {
		ao.HeartbeatTimeout = min(heartbeatTimeout, ao.StartToCloseTimeout)
	}
	switch {
	case !c.at.policy && c.r.transientRetry:
		p := TransientRetryPolicy
		ao.RetryPolicy = &p
		if stepTimeout > 0 {
			// The step timeout bounds the step, not each transient attempt.
			ao.ScheduleToCloseTimeout = stepTimeout
		}
	default:
		ao.RetryPolicy = &temporal.RetryPolicy{MaximumAttempts: 1}
	}
	return ao, nil
}

// spaceID is the Kibana space of the run.
func (r *run) spaceID() string {
	if w, ok := r.base["workflow"].(map[string]any); ok {
		if s, ok := w["spaceId"].(string); ok && s != "" {
			return s
		}
	}
	return "default"
}
