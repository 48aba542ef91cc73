package starter

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/secflow/secflow/internal/blobstore"
)

// bigAlertBody is an alert event whose normalised form is over 4 KiB.
func bigAlertBody(ruleID, alertID string) []byte {
	var m map[string]any
	_ = json.Unmarshal(alertBody(ruleID, "Big rule", alertID), &m)
	alert := m["alerts"].([]any)[0].(map[string]any)
	alert["process"] = map[string]any{"command_line": strings.Repeat("powershell -enc AAAA ", 400)}
	b, _ := json.Marshal(m)
	return b
}

// TestIntegrationLargeEventByReference: an event over the inline limit is
// stored in the blob store and the run gets RunInput.EventRef; without a
// blob store the same request is answered 413 and nothing starts.
func TestIntegrationLargeEventByReference(t *testing.T) {
	d := def(uniq(t, "bigev"), true, alertTrigger(nil))
	blobs := blobstore.NewMemory()
	h := newHarness(t, newMemDefs(d), func(c *Config) { c.MaxEventBytes = 4 << 10; c.Blobs = blobs })
	rule, alert := uniq(t, "rule"), uniq(t, "alert")
	a := h.post(t, "/api/v1/alerts", bigAlertBody(rule, alert), nil)
	rs := runs(t, a)
	if a.code != 200 || len(rs) != 1 || rs[0]["status"] != StatusStarted {
		t.Fatalf("answer %d %s", a.code, a.raw)
	}
	wid := rs[0]["workflowId"].(string)
	in, payloads := startedRun(t, h, wid, "")
	if in.Event != nil || in.EventRef == "" || payloads.Size() > 8<<10 {
		t.Fatalf("run input: event inline=%v ref=%q, %d bytes", in.Event != nil, in.EventRef, payloads.Size())
	}
	stored, err := blobs.Get(context.Background(), in.EventRef)
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(stored, &ev); err != nil || ev["rule"].(map[string]any)["id"] != rule || len(stored) <= 4<<10 {
		t.Fatalf("stored event (%d bytes): %v %.200s", len(stored), err, stored)
	}

	// The same kind of event without a blob store: 413, nothing started.
	h2 := newHarness(t, newMemDefs(d), func(c *Config) { c.MaxEventBytes = 4 << 10 })
	rule2, alert2 := uniq(t, "rule2"), uniq(t, "alert2")
	a = h2.post(t, "/api/v1/alerts", bigAlertBody(rule2, alert2), nil)
	if a.code != 413 || a.body["reason"] != "event_too_large" {
		t.Fatalf("without a blob store: %d %s", a.code, a.raw)
	}
	notStarted(t, h2.env, SummaryWorkflowID(d.ID, rule2, []string{alert2}))
}
