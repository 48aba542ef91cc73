package sandbox

import (
	"strings"
	"testing"
)

// TestKibanaPatchCasesLikeKibana checks PATCH /api/cases against Kibana's
// bulk update rules: 400 before 404/409, 409 before 406, identical fields
// dropped (lists as sets), 406 when nothing is left.
func TestKibanaPatchCasesLikeKibana(t *testing.T) {
	const create = `{"title":"T","description":"D","owner":"securitySolution","tags":["a","b"],
		"assignees":[{"uid":"u1"}],"customFields":[{"key":"k","type":"text","value":"x"}],
		"settings":{"syncAlerts":false},"connector":{"id":"none","name":"none","type":".none","fields":null}}`
	tests := []struct {
		name    string
		fields  string // JSON members after id and version
		stale   bool
		status  int
		message string
		check   func(c map[string]any) bool
	}{
		{name: "identical scalar", fields: `"title":"T"`, status: 406, message: "All update fields are identical to current version."},
		{name: "identical everything", fields: `"title":"T","description":"D","tags":["b","a"],"assignees":[{"uid":"u1"}],
			"customFields":[{"key":"k","type":"text","value":"x"}],"settings":{"syncAlerts":false},"category":null,
			"connector":{"id":"none","name":"none","type":".none","fields":null},"status":"open","severity":"low"`,
			status: 406, message: "All update fields are identical to current version."},
		{name: "tags as a set", fields: `"tags":["b","a","a"]`, status: 406, message: "All update fields are identical to current version."},
		{name: "stale version before identical", fields: `"title":"T"`, stale: true, status: 409,
			message: "has been updated. Please refresh before saving additional updates."},
		{name: "invalid key before anything", fields: `"title":"T","nope":1`, stale: true, status: 400, message: `invalid keys "nope"`},
		{name: "invalid severity", fields: `"severity":"extreme"`, status: 400, message: `Invalid value "extreme" supplied to "severity"`},
		{name: "identical and changed", fields: `"title":"T","severity":"high"`, status: 200,
			check: func(c map[string]any) bool { return c["title"] == "T" && c["severity"] == "high" }},
		{name: "tag removed", fields: `"tags":["a"]`, status: 200,
			check: func(c map[string]any) bool { tg := c["tags"].([]any); return len(tg) == 1 && tg[0] == "a" }},
		{name: "settings changed", fields: `"settings":{"syncAlerts":true}`, status: 200,
			check: func(c map[string]any) bool { return c["settings"].(map[string]any)["syncAlerts"] == true }},
		{name: "custom field value changed", fields: `"customFields":[{"key":"k","type":"text","value":"y"}]`, status: 200,
			check: func(c map[string]any) bool {
				return c["customFields"].([]any)[0].(map[string]any)["value"] == "y"
			}},
		{name: "category set", fields: `"category":"phishing"`, status: 200,
			check: func(c map[string]any) bool { return c["category"] == "phishing" }},
		{name: "status closed", fields: `"status":"closed"`, status: 200,
			check: func(c map[string]any) bool { return c["status"] == "closed" && c["closed_at"] != nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kb := NewKibana()
			h := kb.Handler()
			res, c := call(t, h, "POST", "/api/cases", create, kbAuth)
			if res.StatusCode != 200 {
				t.Fatalf("create: %d %v", res.StatusCode, c)
			}
			id, version := c["id"].(string), c["version"].(string)
			sent := version
			if tc.stale {
				sent = "WzAsMV0="
			}
			body := `{"cases":[{"id":"` + id + `","version":"` + sent + `",` + tc.fields + `}]}`
			res, got := call(t, h, "PATCH", "/api/cases", body, kbAuth)
			if res.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d: %v", res.StatusCode, tc.status, got)
			}
			snap := kb.Cases()[0]
			after := snap.Version
			if want := map[bool]int{true: 1}[tc.status == 200]; snap.Updates != want {
				t.Fatalf("updates applied = %d, want %d", snap.Updates, want)
			}
			if tc.status != 200 {
				msg, _ := got["message"].(string)
				if got["statusCode"] != float64(tc.status) || got["error"] == "" || !strings.Contains(msg, tc.message) {
					t.Fatalf("error body = %v", got)
				}
				if after != version {
					t.Fatalf("a rejected update changed the version: %s -> %s", version, after)
				}
				return
			}
			if after == version {
				t.Fatal("an applied update kept the version")
			}
			res, cur := call(t, h, "GET", "/api/cases/"+id, "", kbAuth)
			if res.StatusCode != 200 || cur["version"] != after || !tc.check(cur) {
				t.Fatalf("case after update = %v", cur)
			}
			again := strings.Replace(body, sent, after, 1)
			if res, got := call(t, h, "PATCH", "/api/cases", again, kbAuth); res.StatusCode != 406 {
				t.Fatalf("the same update again: %d %v", res.StatusCode, got)
			}
		})
	}
}
