package testenv

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"go.temporal.io/api/operatorservice/v1"
)

func TestMain(m *testing.M) { Main(m) }

func TestSharedStack(t *testing.T) {
	env := Start(t)
	if again := Start(t); again != env {
		t.Fatal("second Start returned a different Env: the stack is not shared")
	}
	if env.Namespace != "default" || env.HostPort == "" || env.UIURL == "" {
		t.Fatalf("env: %+v", env)
	}
	resp, err := env.Client.OperatorService().ListSearchAttributes(context.Background(),
		&operatorservice.ListSearchAttributesRequest{Namespace: env.Namespace})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := resp.GetCustomAttributes()["RuleName"]; !ok {
		t.Errorf("search attributes missing: %v", resp.GetCustomAttributes())
	}
	r, err := http.Get(env.UIURL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	_ = r.Body.Close()
	if r.StatusCode != http.StatusOK {
		t.Errorf("UI health: %s", r.Status)
	}
}

func TestTaskQueueUnique(t *testing.T) {
	env := Start(t)
	a, b := env.TaskQueue(t), env.TaskQueue(t)
	if a == b {
		t.Errorf("task queues not unique: %q", a)
	}
	t.Run("sub/test name", func(t *testing.T) {
		if q := env.TaskQueue(t); q == a || q == b || strings.ContainsAny(q, "/ ") {
			t.Errorf("task queue %q", q)
		}
	})
}
