package cases

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/secflow/secflow/internal/connectors"
	"github.com/secflow/secflow/internal/sandbox"
	"github.com/secflow/secflow/interpreter/step"
)

// raceDuplicate sends a copy of the first matching request ahead of it, as
// a concurrent identical update (or an earlier attempt whose answer was
// lost) would.
type raceDuplicate struct {
	next  http.RoundTripper
	match func(*http.Request) bool
	done  bool
}

func (d *raceDuplicate) RoundTrip(r *http.Request) (*http.Response, error) {
	if d.done || !d.match(r) {
		return d.next.RoundTrip(r)
	}
	d.done = true
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	dup := r.Clone(r.Context())
	dup.Body = io.NopCloser(bytes.NewReader(body))
	res, err := d.next.RoundTrip(dup)
	if err != nil {
		return nil, err
	}
	res.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	return d.next.RoundTrip(r)
}

func isCasesPatch(r *http.Request) bool {
	return r.Method == http.MethodPatch && r.URL.Path == "/api/cases"
}

// env is the sandbox and case one update scenario starts from.
type env struct {
	sb      *sandbox.Sandbox
	fake    *sandbox.Kibana
	rt      step.Runtime
	id      string
	version string // the case's version before the scenario
}

// withoutVersion returns with minus its version.
func withoutVersion(with map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range with {
		if k != fVersion {
			out[k] = v
		}
	}
	return out
}

// TestUpdateStepsIdempotent runs updateCase and field steps through normal
// updates, retries after a lost response, updates someone else already
// made, races and genuine version conflicts, and counts the PATCHes the
// fake Kibana applied (each applied PATCH gives the case a new version).
func TestUpdateStepsIdempotent(t *testing.T) {
	steps := []struct {
		typ  string
		with map[string]any
		has  func(c map[string]any) bool
	}{
		{"cases.updateCase", map[string]any{"updates": map[string]any{"severity": "critical", "tags": []any{"automated", "tp"},
			"settings": map[string]any{"syncAlerts": false}}},
			func(c map[string]any) bool {
				tags := c["tags"].([]any)
				return c["severity"] == "critical" && len(tags) == 2 && tags[1] == "tp" && c["settings"].(map[string]any)["syncAlerts"] == false
			}},
		{"cases.setStatus", map[string]any{"status": "in-progress"}, func(c map[string]any) bool { return c["status"] == "in-progress" }},
		{"cases.setSeverity", map[string]any{"severity": "low"}, func(c map[string]any) bool { return c["severity"] == "low" }},
		{"cases.addTags", map[string]any{"tags": []any{"tp"}}, func(c map[string]any) bool {
			tags := c["tags"].([]any)
			return len(tags) == 3 && tags[2] == "tp"
		}},
		{"cases.setCustomField", map[string]any{"key": "score", "type": "number", "value": 7},
			func(c map[string]any) bool {
				cf := c["customFields"].([]any)
				return len(cf) == 1 && cf[0].(map[string]any)["value"] == 7.0
			}},
	}
	transport := func(e env, rt http.RoundTripper) step.Runtime {
		return connectors.NewRuntime(connectors.FromSandbox(e.sb), &http.Client{Transport: rt}, nil)
	}
	scenarios := []struct {
		name        string
		userVersion bool // pass with.version (the version read before the scenario)
		before      func(t *testing.T, e env, in step.Input)
		rt          func(e env) step.Runtime
		conflict    bool // the step must fail with Kibana's 409
		sent        int  // PATCH requests the fake received (by the step and before)
		applied     int  // versions the case moved on by
	}{
		{name: "normal update", sent: 1, applied: 1},
		{name: "normal update with version", userVersion: true, sent: 1, applied: 1},
		{name: "retry after lost response", sent: 1, applied: 1, before: lostResponse},
		{name: "retry after lost response with version", userVersion: true, sent: 1, applied: 1, before: lostResponse},
		{name: "already changed by someone else", userVersion: true, sent: 1, applied: 1,
			before: func(t *testing.T, e env, in step.Input) {
				in.With = withoutVersion(in.With)
				runCase(t, e.rt, in)
			}},
		{name: "identical update races ahead", sent: 2, applied: 1,
			rt: func(e env) step.Runtime {
				return transport(e, &raceDuplicate{next: http.DefaultTransport, match: isCasesPatch})
			}},
		{name: "identical update races ahead of a given version", userVersion: true, sent: 2, applied: 1,
			rt: func(e env) step.Runtime {
				return transport(e, &raceDuplicate{next: http.DefaultTransport, match: isCasesPatch})
			}},
		{name: "genuine conflict", userVersion: true, conflict: true, sent: 2, applied: 1,
			before: func(t *testing.T, e env, _ step.Input) {
				runCase(t, e.rt, step.Input{Type: "cases.setTitle", With: map[string]any{"case_id": e.id, "title": "Changed elsewhere"}})
			}},
	}
	for _, s := range steps {
		for _, sc := range scenarios {
			t.Run(s.typ+"/"+sc.name, func(t *testing.T) {
				sb, fake, rt := setup(t)
				c := runCase(t, rt, createInput("wf/create"))
				e := env{sb: sb, fake: fake, rt: rt, id: c["id"].(string), version: c["version"].(string)}
				with := map[string]any{"case_id": e.id}
				for k, v := range s.with {
					with[k] = v
				}
				if sc.userVersion {
					with["version"] = e.version
				}
				in := step.Input{Type: s.typ, With: with}
				if sc.before != nil {
					sc.before(t, e, in)
				}
				stepRT := rt
				if sc.rt != nil {
					stepRT = sc.rt(e)
				}
				out, err := run(t, stepRT, in)
				snap := fake.Cases()[0]
				if n := len(requests(sb, "PATCH", "/api/cases")); n != sc.sent {
					t.Errorf("PATCH requests = %d, want %d", n, sc.sent)
				}
				if snap.Updates != sc.applied {
					t.Errorf("applied updates = %d, want %d", snap.Updates, sc.applied)
				}
				if sc.conflict {
					se := step.AsError(err)
					if se == nil || !isStatus(se, http.StatusConflict) || !strings.Contains(se.Message, "has been updated. Please refresh") {
						t.Fatalf("want Kibana's conflict, got %v (output %v)", err, out)
					}
					cur := runCase(t, rt, step.Input{Type: "cases.getCase", With: map[string]any{"case_id": e.id}})
					if s.has(cur) {
						t.Fatalf("a conflicting update was applied: %v", cur)
					}
					return
				}
				if err != nil {
					t.Fatalf("step failed: %v", err)
				}
				got, _ := out["case"].(map[string]any)
				if got["id"] != e.id || got["version"] != snap.Version || !s.has(got) {
					t.Fatalf("output case = %v, want the current case (version %s) with the change", got, snap.Version)
				}
			})
		}
	}
}

// lostResponse runs in once with the PATCH answer lost after Kibana
// applied it, as a worker crash or a dropped connection would.
func lostResponse(t *testing.T, e env, in step.Input) {
	t.Helper()
	crashing := connectors.NewRuntime(connectors.FromSandbox(e.sb), &http.Client{Transport: crashAfterSend{next: http.DefaultTransport,
		match: isCasesPatch}}, nil)
	if _, err := run(t, crashing, in); err == nil {
		t.Fatal("the first attempt should have lost its answer")
	}
}

// TestUpdateNoOps checks that updates that change nothing succeed with the
// case unchanged: skipped before sending when the case visibly holds them,
// or after Kibana's 406 when only Kibana sees them as identical (it
// compares lists as sets).
func TestUpdateNoOps(t *testing.T) {
	tests := []struct {
		name string
		in   func(id string, tags []any) step.Input
		sent int
	}{
		{"same status", func(id string, _ []any) step.Input {
			return step.Input{Type: "cases.setStatus", With: map[string]any{"case_id": id, "status": "open"}}
		}, 0},
		{"clear absent category", func(id string, _ []any) step.Input {
			return step.Input{Type: "cases.setCategory", With: map[string]any{"case_id": id, "category": nil}}
		}, 0},
		{"tags already present", func(id string, tags []any) step.Input {
			return step.Input{Type: "cases.addTags", With: map[string]any{"case_id": id, "tags": tags[:1]}}
		}, 0},
		{"same fields via updateCase", func(id string, tags []any) step.Input {
			return step.Input{Type: "cases.updateCase", With: map[string]any{"case_id": id, "updates": map[string]any{
				"title": "Suspicious login on web-1", "severity": "high", "tags": tags}}}
		}, 0},
		{"tags reordered (Kibana answers 406)", func(id string, tags []any) step.Input {
			return step.Input{Type: "cases.updateCase", With: map[string]any{"case_id": id, "updates": map[string]any{
				"tags": []any{tags[1], tags[0]}}}}
		}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sb, fake, rt := setup(t)
			c := runCase(t, rt, createInput("wf/create"))
			got := runCase(t, rt, tc.in(c["id"].(string), c["tags"].([]any)))
			snap := fake.Cases()[0]
			if n := len(requests(sb, "PATCH", "/api/cases")); n != tc.sent || snap.Updates != 0 {
				t.Fatalf("PATCH requests = %d (want %d), applied = %d (want 0)", n, tc.sent, snap.Updates)
			}
			if got["version"] != c["version"] || got["version"] != snap.Version || !sameJSON(got["tags"], c["tags"]) {
				t.Fatalf("case = %v, want it unchanged (version %v)", got, c["version"])
			}
		})
	}
}

// TestUpdateCasesIdempotent checks cases.updateCases on two cases: cases
// that already hold their updates are left out of the PATCH, a retry after
// a lost response succeeds without a second PATCH, and a genuine conflict
// with a given version still fails.
func TestUpdateCasesIdempotent(t *testing.T) {
	tests := []struct {
		name        string
		userVersion bool
		before      func(t *testing.T, e env, in step.Input, ids []string)
		conflict    bool
		sent        int    // PATCH requests the fake received
		items       int    // cases in the step's last PATCH body
		applied     [2]int // updates applied per case
	}{
		{name: "normal update", sent: 1, items: 2, applied: [2]int{1, 1}},
		{name: "retry after lost response", sent: 1, items: 2, applied: [2]int{1, 1},
			before: func(t *testing.T, e env, in step.Input, _ []string) { lostResponse(t, e, in) }},
		{name: "retry after lost response with versions", userVersion: true, sent: 1, items: 2, applied: [2]int{1, 1},
			before: func(t *testing.T, e env, in step.Input, _ []string) { lostResponse(t, e, in) }},
		{name: "one case already updated", userVersion: true, sent: 2, items: 1, applied: [2]int{1, 1},
			before: func(t *testing.T, e env, _ step.Input, ids []string) {
				runCase(t, e.rt, step.Input{Type: "cases.setStatus", With: map[string]any{"case_id": ids[0], "status": "closed"}})
			}},
		{name: "genuine conflict", userVersion: true, conflict: true, sent: 2, items: 2, applied: [2]int{1, 0},
			before: func(t *testing.T, e env, _ step.Input, ids []string) {
				runCase(t, e.rt, step.Input{Type: "cases.setTitle", With: map[string]any{"case_id": ids[0], "title": "Changed elsewhere"}})
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sb, fake, rt := setup(t)
			var ids, versions []string
			for _, key := range []string{"wf/a", "wf/b"} {
				c := runCase(t, rt, createInput(key))
				ids, versions = append(ids, c["id"].(string)), append(versions, c["version"].(string))
			}
			entries := []any{
				map[string]any{"case_id": ids[0], "updates": map[string]any{"status": "closed"}},
				map[string]any{"case_id": ids[1], "updates": map[string]any{"severity": "critical", "title": "B"}},
			}
			if tc.userVersion {
				for i, e := range entries {
					e.(map[string]any)["version"] = versions[i]
				}
			}
			in := step.Input{Type: "cases.updateCases", With: map[string]any{"cases": entries}}
			if tc.before != nil {
				tc.before(t, env{sb: sb, fake: fake, rt: rt}, in, ids)
			}
			out, err := run(t, rt, in)
			patches := requests(sb, "PATCH", "/api/cases")
			if len(patches) != tc.sent {
				t.Fatalf("PATCH requests = %d, want %d", len(patches), tc.sent)
			}
			if n := strings.Count(patches[len(patches)-1].Body, `"version"`); n != tc.items {
				t.Errorf("cases in the last PATCH = %d, want %d: %s", n, tc.items, patches[len(patches)-1].Body)
			}
			snap := fake.Cases()
			if got := [2]int{snap[0].Updates, snap[1].Updates}; got != tc.applied {
				t.Errorf("applied updates = %v, want %v", got, tc.applied)
			}
			if tc.conflict {
				if se := step.AsError(err); se == nil || !isStatus(se, http.StatusConflict) {
					t.Fatalf("want Kibana's conflict, got %v (output %v)", err, out)
				}
				return
			}
			if err != nil {
				t.Fatalf("step failed: %v", err)
			}
			cs, _ := out["cases"].([]any)
			if len(cs) != 2 {
				t.Fatalf("output = %v", out)
			}
			c0, c1 := cs[0].(map[string]any), cs[1].(map[string]any)
			if c0["id"] != ids[0] || c0["status"] != "closed" || c0["version"] != snap[0].Version ||
				c1["id"] != ids[1] || c1["severity"] != "critical" || c1["title"] != "B" || c1["version"] != snap[1].Version {
				t.Fatalf("output = %v, want both current cases in order", out)
			}
		})
	}
}
