package worker

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	_ "github.com/secflow/secflow/activities/all"
	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/interpreter/step"
)

// recorder is a Registry that records what gets registered.
type recorder struct {
	workflows int
	names     map[string]bool
	dynamic   int
}

func (r *recorder) RegisterDynamicWorkflow(any, workflow.DynamicRegisterOptions) { r.workflows++ }
func (r *recorder) RegisterActivityWithOptions(_ any, o activity.RegisterOptions) {
	r.names[o.Name] = true
}
func (r *recorder) RegisterDynamicActivity(any, activity.DynamicRegisterOptions) { r.dynamic++ }

// TestEveryActivitySpecRegistered checks that every activity step type of
// the default registry (all integrations linked in) gets an activity: by
// its own name, or through the dynamic activity for families and "*".
func TestEveryActivitySpecRegistered(t *testing.T) {
	rec := &recorder{names: map[string]bool{}}
	no := false
	if err := Register(rec, Config{SearchAttributes: &no}); err != nil {
		t.Fatal(err)
	}
	if rec.workflows != 1 || !rec.names[interpreter.LoadDefinitionActivity] {
		t.Fatalf("workflow/local activity not registered: %+v", rec)
	}
	n := 0
	for _, spec := range step.Default().All() {
		if spec.Kind != step.KindActivity {
			continue
		}
		n++
		switch {
		case spec.Type == "*" || spec.IsFamily():
			if rec.dynamic != 1 {
				t.Errorf("%s: no dynamic activity", spec.Type)
			}
		case !rec.names[spec.Type]:
			t.Errorf("%s: not registered", spec.Type)
		}
	}
	if n < 5 {
		t.Errorf("only %d activity specs in the default registry", n)
	}
}

func TestToApplicationError(t *testing.T) {
	for _, tc := range []struct {
		name         string
		err          error
		typ, msg     string
		nonRetryable bool
		delay        time.Duration
	}{
		{"permanent", &step.Error{Type: "HttpRequestError", Message: "Request failed with status code 404", Details: map[string]any{"status": 404}},
			"HttpRequestError", "Request failed with status code 404", true, 0},
		{"transient", step.Transient("ConnectionRefused", "Connection refused to http://x"), "ConnectionRefused", "Connection refused to http://x", false, 0},
		{"retry-after", step.RetryAfter(step.Errorf("HttpRequestError", "429"), 7*time.Second), "HttpRequestError", "429", false, 7 * time.Second},
		{"plain go error", errors.New("boom"), "Error", "boom", true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ae *temporal.ApplicationError
			if !errors.As(toApplicationError(tc.err), &ae) {
				t.Fatal("not an ApplicationError")
			}
			if ae.Type() != tc.typ || ae.Message() != tc.msg || ae.NonRetryable() != tc.nonRetryable || ae.NextRetryDelay() != tc.delay {
				t.Errorf("got type %q msg %q nonRetryable %v delay %v", ae.Type(), ae.Message(), ae.NonRetryable(), ae.NextRetryDelay())
			}
			if ae.Unwrap() != nil {
				t.Errorf("the original error must not travel as the cause: %v", ae.Unwrap())
			}
			var se *step.Error
			if errors.As(tc.err, &se) && se.Details != nil {
				var d map[string]any
				if err := ae.Details(&d); err != nil || fmt.Sprint(d["status"]) != "404" {
					t.Errorf("details %v (%v)", d, err)
				}
			}
		})
	}
}

// TestDispatchFamily runs a family type ("fam.*") through the dynamic
// activity and checks the step input and error classification.
func TestDispatchFamily(t *testing.T) {
	reg := step.NewRegistry()
	var got step.Input
	reg.MustAdd(&step.Spec{Type: "fam.*", Kind: step.KindActivity, OpenWith: true,
		Activity: func(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
			got = in
			if in.String("fail") != "" {
				return nil, step.Errorf("ConnectorExecutionError", "nope")
			}
			return map[string]any{"ok": true}, nil
		}})
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterDynamicActivity(dispatch(reg, nil, offloader{}), activity.DynamicRegisterOptions{})
	v, err := env.ExecuteActivity("fam.doThing", step.Input{Type: "fam.doThing", Path: "p", With: map[string]any{"a": "b"}})
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := v.Get(&out); err != nil || out["ok"] != true || got.Type != "fam.doThing" || got.With["a"] != "b" {
		t.Errorf("out %v err %v input %+v", out, err, got)
	}
	_, err = env.ExecuteActivity("fam.doThing", step.Input{Type: "fam.doThing", With: map[string]any{"fail": "y"}})
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != "ConnectorExecutionError" || !ae.NonRetryable() {
		t.Errorf("error %v", err)
	}
}

func TestLoadDefinition(t *testing.T) {
	def := &interpreter.Definition{ID: "x", Revision: "abc"}
	load := loadDefinition(mapStore{"x": def})
	if got, err := load(context.Background(), "x"); err != nil || got != def {
		t.Errorf("got %v, %v", got, err)
	}
	_, err := load(context.Background(), "y")
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != interpreter.ErrTypeDefinitionNotFound || !ae.NonRetryable() {
		t.Errorf("missing: %v", err)
	}
}

type mapStore map[string]*interpreter.Definition

func (m mapStore) Get(id string) (*interpreter.Definition, bool) { d, ok := m[id]; return d, ok }
