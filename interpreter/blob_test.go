package interpreter

import (
	"context"
	"testing"

	"github.com/secflow/secflow/internal/blobstore"
)

func TestMentions(t *testing.T) {
	for _, tc := range []struct {
		text, root, key string
		want            bool
	}{
		{"{{ steps.big.output.x }}", "steps", "big", true},
		{"{{ steps.bigger.output.x }}", "steps", "big", false},
		{"{{ steps.small.output }}", "steps", "big", false},
		{"{{ steps['big'].output }}", "steps", "big", true},
		{"{{ steps | json }}", "steps", "big", true},
		{"{% for s in steps %}{% endfor %}", "steps", "big", true},
		{"steps.big.output.count > 3", "steps", "big", true},
		{"{{ steps.big-one.output }}", "steps", "big", true},
		{"{{ mysteps.big }}", "steps", "big", false},
		{"{{ foreach.item.steps }}", "steps", "big", true},
		{"{{ event.alerts[0] }}", "event", "", true},
		{"{{ events }}", "event", "", false},
		{"an eventual thing", "event", "", false},
		{"{{ variables.list }}", "variables", "list", true},
		{"{{ variables.other }}", "variables", "list", false},
		{"no templates at all", "steps", "big", false},
	} {
		if got := mentions(tc.text, tc.root, tc.key); got != tc.want {
			t.Errorf("mentions(%q, %s, %s) = %v, want %v", tc.text, tc.root, tc.key, got, tc.want)
		}
	}
}

func TestNeededSlots(t *testing.T) {
	ref := NewBlobRef("sha256:aa", 10)
	ctx := map[string]any{
		"event": NewBlobRef("sha256:ev", 5),
		"steps": map[string]any{
			"big":   map[string]any{"output": ref},
			"small": map[string]any{"output": map[string]any{"x": 1.0}},
		},
		"variables": map[string]any{"v": NewBlobRef("sha256:vv", 3), "w": 1.0},
	}
	got := neededSlots(ctx, map[string]any{"a": "{{ steps.big.output.x }}", "b": []any{"{{ variables.v }}"}})
	if len(got) != 2 || got[0].Ref != "sha256:aa" || got[1].Ref != "sha256:vv" {
		t.Fatalf("slots = %+v", got)
	}
	if got := neededSlots(ctx, "{{ steps.small.output.x }} {{ variables.w }}"); len(got) != 0 {
		t.Fatalf("slots = %+v, want none", got)
	}
}

func TestFetchBlobEvaluates(t *testing.T) {
	store := blobstore.NewMemory()
	ref, _ := store.Put(context.Background(), "k", []byte(`{"hits":[{"id":"a"},{"id":"b"}]}`))
	fetch := NewFetchBlob(store)
	ctx := map[string]any{"steps": map[string]any{"s": map[string]any{"output": NewBlobRef(ref, 30)}}}
	slots := blobSlots(ctx)
	for _, tc := range []struct {
		req  BlobRequest
		want string
	}{
		{BlobRequest{Op: blobOpRender, Value: "{{ steps.s.output.hits[1].id }}"}, `{"value":"b"}`},
		{BlobRequest{Op: blobOpEvaluate, Value: "steps.s.output.hits | size"}, `{"value":2}`},
		{BlobRequest{Op: blobOpCondition, Value: "steps.s.output.hits.id: a"}, `{"bool":true}`},
		{BlobRequest{Op: blobOpRender, Value: "{{ steps.s.output | nosuchfilter }}"}, `{"error":`},
	} {
		req := tc.req
		req.Context, req.Slots = ctx, slots
		res, err := fetch(context.Background(), &req)
		if err != nil {
			t.Fatalf("%s: %v", req.Op, err)
		}
		if got := string(jsonMarshal(res)); len(got) < len(tc.want) || got[:len(tc.want)] != tc.want {
			t.Errorf("%s %v = %s, want %s…", req.Op, req.Value, got, tc.want)
		}
	}
	// The context handed in is not modified.
	if _, _, ok := BlobRefOf(ctx["steps"].(map[string]any)["s"].(map[string]any)["output"]); !ok {
		t.Error("the caller's context was modified")
	}
}
