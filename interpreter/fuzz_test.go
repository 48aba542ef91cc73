package interpreter

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzLoad feeds arbitrary bytes to the loader and validator: they must
// never panic, must report problems with positions inside the input, and a
// definition without errors must survive a JSON round-trip (it is pinned
// into a run's history).
func FuzzLoad(f *testing.F) {
	for _, pattern := range []string{"testdata/valid/*.yaml", "testdata/invalid/*.yaml", "../internal/cli/testdata/corpus/examples/*/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte("name: x\ntriggers: [{type: manual}]\nsteps: [{name: a, type: console, with: {message: '{{ a | b }}'}}]\n"))
	f.Add([]byte("a: &a [*a]"))
	f.Add([]byte("<<: {a: 1}\n"))
	f.Add([]byte("steps: [{name: a, type: foreach, foreach: x, steps: [{name: b, type: loop.break}]}]\n"))
	reg := testRegistry()
	f.Fuzz(func(t *testing.T, data []byte) {
		var def *Definition
		var probs Problems
		done := make(chan struct{})
		go func() {
			defer close(done)
			def, probs = LoadBytes("fuzz.yaml", data, LoadOptions{Registry: reg})
		}()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			t.Fatalf("LoadBytes took more than 3s on %d bytes:\n%q", len(data), data)
		}
		// YAML line breaks are \n, \r\n and a lone \r.
		lines := 1
		for i, c := range data {
			if c == '\n' || c == '\r' && (i+1 == len(data) || data[i+1] != '\n') {
				lines++
			}
		}
		for _, p := range probs {
			if p.Line < 0 || p.Line > lines+1 || p.Col < 0 {
				t.Fatalf("position out of range (%d lines): %v", lines, p)
			}
			if p.Msg == "" || (p.Severity != SeverityError && p.Severity != SeverityWarning) {
				t.Fatalf("malformed problem %+v", p)
			}
		}
		if def != nil && probs.Err() == nil {
			if _, err := json.Marshal(def); err != nil {
				t.Fatalf("valid definition does not marshal: %v", err)
			}
		}
	})
}
