package interpreter

import (
	"context"
	"testing"

	"github.com/secflow/secflow/internal/blobstore"
)

func TestNeededSlotsNested(t *testing.T) {
	ref := NewBlobRef("sha256:aa", 10)
	ctx := map[string]any{
		"steps": map[string]any{
			"fan":   map[string]any{"output": map[string]any{"results": []any{map[string]any{"output": ref}, map[string]any{"x": 1.0}}}},
			"other": map[string]any{"output": []any{ref}},
		},
		"variables": map[string]any{"v": map[string]any{"deep": []any{nil, ref}}},
	}
	for _, tc := range []struct {
		text string
		want string
	}{
		{"{{ steps.fan.output.results[0].output.x }}", `[{"path":["steps","fan","output","results","0","output"],"ref":"sha256:aa"}]`},
		{"{{ variables.v.deep[1] }}", `[{"path":["variables","v","deep","1"],"ref":"sha256:aa"}]`},
		{"{{ steps.nothere.output }} {{ variables.w }}", `null`},
		{"{{ steps.other.output }}", `[{"path":["steps","other","output","0"],"ref":"sha256:aa"}]`},
	} {
		got := neededSlots(ctx, tc.text)
		if s := string(jsonMarshal(got)); s != tc.want {
			t.Errorf("%s: slots %s, want %s", tc.text, s, tc.want)
		}
		for _, s := range got {
			if !s.nested {
				t.Errorf("%s: slot %v not flagged nested", tc.text, s.Path)
			}
		}
	}
}

func TestSubstituteThroughArrays(t *testing.T) {
	in := map[string]any{"steps": map[string]any{"s": map[string]any{"output": []any{1.0, map[string]any{"a": 2.0}}}}}
	before := string(jsonMarshal(in))
	for _, tc := range []struct {
		path []string
		want string
	}{
		{[]string{"steps", "s", "output", "1", "a"}, `{"steps":{"s":{"output":[1,{"a":"X"}]}}}`},
		{[]string{"steps", "s", "output", "0"}, `{"steps":{"s":{"output":["X",{"a":2}]}}}`},
		{[]string{"steps", "s", "output", "7"}, before},
		{[]string{"event"}, `{"event":"X","steps":{"s":{"output":[1,{"a":2}]}}}`},
	} {
		if got := string(jsonMarshal(substitute(in, tc.path, "X"))); got != tc.want {
			t.Errorf("substitute %v = %s, want %s", tc.path, got, tc.want)
		}
	}
	if string(jsonMarshal(in)) != before {
		t.Error("substitute modified its input")
	}
}

// TestFetchBlobResolvesStoredReferences: a stored value holding references
// (a parallel step's results carried over a continue-as-new) is resolved
// all the way down, and so are references nested in the context.
func TestFetchBlobResolvesStoredReferences(t *testing.T) {
	store := blobstore.NewMemory()
	bg := context.Background()
	leaf, _ := store.Put(bg, "leaf", []byte(`{"item":"b"}`))
	agg, _ := store.Put(bg, "agg", jsonMarshal(map[string]any{"results": []any{map[string]any{"output": NewBlobRef(leaf, 12)}}}))
	fetch := NewFetchBlob(store)
	ctx := map[string]any{"steps": map[string]any{
		"fan":  map[string]any{"output": NewBlobRef(agg, 40)},
		"kids": map[string]any{"output": []any{NewBlobRef(leaf, 12)}},
	}}
	req := &BlobRequest{Op: blobOpRender, Value: "{{ steps.fan.output.results[0].output.item }}{{ steps.kids.output[0].item }}", Context: ctx,
		Slots: neededSlots(ctx, "{{ steps.fan.output }}{{ steps.kids.output }}")}
	res, err := fetch(bg, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Err != nil || res.Value != "bb" {
		t.Fatalf("result %s, want bb", jsonMarshal(res))
	}
}
