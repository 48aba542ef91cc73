package defstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func def(name string) string {
	return "name: " + name + "\ntriggers: [{type: manual}]\nsteps:\n  - name: hello\n    type: console\n    with: { message: hi }\n"
}

const broken = "name: broken\ntriggers: [{type: manual}]\nsteps:\n  - name: a\n    type: wait\n    with: { duration: soon }\n  - name: a\n    type: console\n"

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func ids(s *Store) string {
	var out []string
	for _, d := range s.All() {
		out = append(out, d.ID)
	}
	return strings.Join(out, ",")
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "zeta.yaml", def("Zeta"))
	write(t, dir, "sub/alpha.yml", def("Alpha"))
	write(t, dir, "sub/alpha.test.yaml", "not a definition: [")
	write(t, dir, ".git/x.yaml", "ignored: [")
	write(t, dir, "README.md", "ignored")
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(s); got != "alpha,zeta" {
		t.Errorf("All() = %s, want alpha,zeta (sorted by ID)", got)
	}
	d, ok := s.Get("zeta")
	if !ok || d.Name != "Zeta" || d.Revision == "" {
		t.Errorf("Get(zeta) = %+v, %v", d, ok)
	}
	if _, ok := s.Get("missing"); ok {
		t.Error("Get(missing) found something")
	}
}

func TestOpenReportsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "ok.yaml", def("ok"))
	write(t, dir, "broken.yaml", broken)
	write(t, dir, "b/ok.yaml", def("dup"))
	_, err := Open(dir, nil)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Open error = %v, want *Error", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"broken.yaml:6:23: with.duration: Invalid duration format: soon.",
		`broken.yaml:7:11: duplicate step name "a"`,
		`ok.yaml: definition id "ok" is already used by`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if !strings.HasPrefix(msg, "invalid workflow definitions (3 errors):") {
		t.Errorf("error header: %s", msg)
	}
}

func TestReloadKeepsOldSetOnError(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.yaml", def("A"))
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if changed, err := s.Reload(); changed || err != nil {
		t.Errorf("unchanged reload: %v %v", changed, err)
	}
	write(t, dir, "b.yaml", broken)
	if changed, err := s.Reload(); changed || err == nil {
		t.Errorf("broken reload: changed=%v err=%v", changed, err)
	}
	if got := ids(s); got != "a" || s.LastError() == nil {
		t.Errorf("after failed reload: %s, last error %v", got, s.LastError())
	}
	write(t, dir, "b.yaml", def("B"))
	if changed, err := s.Reload(); !changed || err != nil {
		t.Errorf("fixed reload: %v %v", changed, err)
	}
	old, _ := s.Get("a")
	write(t, dir, "a.yaml", def("A2"))
	if changed, _ := s.Reload(); !changed {
		t.Error("content change not detected")
	}
	if d, _ := s.Get("a"); d.Name != "A2" || d.Revision == old.Revision {
		t.Errorf("a not updated: %+v", d)
	}
	if err := os.Remove(filepath.Join(dir, "b.yaml")); err != nil {
		t.Fatal(err)
	}
	if changed, _ := s.Reload(); !changed || ids(s) != "a" {
		t.Errorf("removal not detected: %s", ids(s))
	}
}

func TestWatch(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.yaml", def("A"))
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	changes := make(chan struct{}, 10)
	done := make(chan struct{})
	go func() {
		s.Watch(ctx, 10*time.Millisecond, func() { changes <- struct{}{} })
		close(done)
	}()
	write(t, dir, "b.yaml", def("B"))
	select {
	case <-changes:
	case <-time.After(5 * time.Second):
		t.Fatal("no change notification")
	}
	if _, ok := s.Get("b"); !ok {
		t.Error("b not loaded")
	}
	// A broken edit keeps the old set and notifies nobody.
	write(t, dir, "b.yaml", broken)
	deadline := time.Now().Add(5 * time.Second)
	for s.LastError() == nil && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if s.LastError() == nil {
		t.Fatal("broken edit not noticed")
	}
	if d, ok := s.Get("b"); !ok || d.Name != "B" {
		t.Errorf("old b lost: %+v", d)
	}
	select {
	case <-changes:
		t.Error("notified for a failed reload")
	default:
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not return after cancel")
	}
}

func TestConcurrentUse(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.yaml", def("A"))
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				if _, err := s.Reload(); err != nil {
					t.Error(err)
				}
			}
		}()
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				if _, ok := s.Get("a"); !ok {
					t.Error("a missing")
				}
				_ = s.All()
			}
		}()
	}
	wg.Wait()
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "x.yaml", "")
	write(t, dir, "y.yml", "")
	write(t, dir, "y.test.yml", "")
	write(t, dir, "d/z.yaml", "")
	got, err := Files(dir, filepath.Join(dir, "x.yaml"), filepath.Join(dir, "y.test.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var rel []string
	for _, f := range got {
		r, _ := filepath.Rel(dir, f)
		rel = append(rel, r)
	}
	// An explicit file is taken even when it is a test file; duplicates go.
	if strings.Join(rel, ",") != "d/z.yaml,x.yaml,y.test.yml,y.yml" {
		t.Errorf("Files = %v", rel)
	}
	if _, err := Files(filepath.Join(dir, "nope")); err == nil {
		t.Error("missing path accepted")
	}
}
