// Package defstore holds the set of workflow definitions loaded from a
// directory tree, validated, and kept up to date by polling.
//
// A Store is all-or-nothing: it opens only when every definition is valid,
// and a reload that finds any invalid definition keeps the previous set.
package defstore

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/secflow/secflow/interpreter"
	"github.com/secflow/secflow/interpreter/step"
)

// Store is a validated set of definitions keyed by ID (the file slug). It
// is safe for concurrent use.
type Store struct {
	dir string
	reg *step.Registry

	mu      sync.RWMutex
	byID    map[string]*interpreter.Definition
	all     []*interpreter.Definition
	stamp   string // fingerprint (paths, sizes, mtimes) of the loaded files
	lastErr error
}

// Error reports the problems that made a load fail: every error of every
// definition, one "file:line:col: message" per line.
type Error struct {
	Problems interpreter.Problems
}

// Error lists every problem.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid workflow definitions (%d %s):", len(e.Problems), plural(len(e.Problems), "error"))
	for _, p := range e.Problems {
		b.WriteString("\n")
		b.WriteString(p.String())
	}
	return b.String()
}

func plural(n int, w string) string {
	if n == 1 {
		return w
	}
	return w + "s"
}

// Open loads and validates every definition under dir (see Files). reg
// resolves activity step types; nil means step.Default(). The error is an
// *Error listing every problem when any definition is invalid.
func Open(dir string, reg *step.Registry) (*Store, error) {
	if reg == nil {
		reg = step.Default()
	}
	s := &Store{dir: dir, reg: reg, byID: map[string]*interpreter.Definition{}}
	if _, err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Dir returns the directory the store loads from.
func (s *Store) Dir() string { return s.dir }

// Get returns the definition with the given ID.
func (s *Store) Get(id string) (*interpreter.Definition, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.byID[id]
	return d, ok
}

// All returns every definition, sorted by ID. The slice is the caller's.
func (s *Store) All() []*interpreter.Definition {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]*interpreter.Definition(nil), s.all...)
}

// LastError returns the error of the latest reload, nil if it succeeded.
func (s *Store) LastError() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.lastErr
}

// Reload loads the directory again. On error (an *Error, or an I/O error)
// the previous set is kept. changed reports whether the set of IDs or any
// revision differs from the previous set.
func (s *Store) Reload() (changed bool, err error) {
	defs, stamp, err := load(s.dir, s.reg)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastErr = err
	if err != nil {
		return false, err
	}
	byID := make(map[string]*interpreter.Definition, len(defs))
	for _, d := range defs {
		byID[d.ID] = d
	}
	changed = len(byID) != len(s.byID)
	for id, d := range byID {
		if old, ok := s.byID[id]; !ok || old.Revision != d.Revision {
			changed = true
		}
	}
	s.byID, s.all, s.stamp = byID, defs, stamp
	return changed, nil
}

// Watch polls the directory every interval (file names, sizes and
// modification times) and reloads when anything moved; onChange is called
// after each reload that changed the set. A failed reload keeps the old set
// (see LastError). Watch blocks until ctx is done; run it in a goroutine.
func (s *Store) Watch(ctx context.Context, every time.Duration, onChange func()) {
	if every <= 0 {
		every = 2 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		stamp, err := fingerprint(s.dir)
		s.mu.RLock()
		same := err == nil && stamp == s.stamp
		s.mu.RUnlock()
		if same {
			continue
		}
		changed, err := s.Reload()
		if err != nil {
			// Remember the stamp so that a broken file is not reloaded on
			// every tick; the next edit changes the stamp again.
			s.mu.Lock()
			s.stamp = stamp
			s.mu.Unlock()
			continue
		}
		if changed && onChange != nil {
			onChange()
		}
	}
}

// load reads every definition under dir.
func load(dir string, reg *step.Registry) ([]*interpreter.Definition, string, error) {
	files, err := Files(dir)
	if err != nil {
		return nil, "", err
	}
	stamp, err := fingerprint(dir)
	if err != nil {
		return nil, "", err
	}
	var probs interpreter.Problems
	var defs []*interpreter.Definition
	where := map[string]string{}
	for _, f := range files {
		d, ps := interpreter.LoadFile(f, interpreter.LoadOptions{Registry: reg})
		probs = append(probs, ps.Errors()...)
		if d == nil || ps.HasErrors() {
			continue
		}
		if prev, dup := where[d.ID]; dup {
			probs = append(probs, interpreter.Problem{Pos: interpreter.Pos{File: f}, Severity: interpreter.SeverityError,
				Code: interpreter.CodeDuplicate, Msg: fmt.Sprintf("definition id %q is already used by %s", d.ID, prev)})
			continue
		}
		where[d.ID] = f
		defs = append(defs, d)
	}
	if len(probs) > 0 {
		probs.Sort()
		return nil, "", &Error{Problems: probs}
	}
	sort.Slice(defs, func(i, j int) bool { return defs[i].ID < defs[j].ID })
	return defs, stamp, nil
}

// fingerprint summarises the definition files under dir (names, sizes,
// modification times) so that polling can skip unchanged trees cheaply.
func fingerprint(dir string) (string, error) {
	files, err := Files(dir)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, f := range files {
		info, err := os.Stat(f)
		if err != nil {
			return "", fmt.Errorf("stat %s: %w", f, err)
		}
		fmt.Fprintf(&b, "%s\x00%d\x00%d\n", f, info.Size(), info.ModTime().UnixNano())
	}
	return b.String(), nil
}

// Files expands paths into the definition files they name: a file is taken
// as given; a directory is walked recursively for *.yaml and *.yml files,
// skipping *.test.yaml / *.test.yml (flow tests) and hidden directories.
// The result is sorted and free of duplicates.
func Files(paths ...string) ([]string, error) {
	return FilesMatching(IsDefinitionFile, paths...)
}

// FilesMatching expands paths into files: a file is taken as given; a
// directory is walked recursively for files whose base name satisfies
// match, skipping hidden directories below it. The result is sorted and
// free of duplicates.
func FilesMatching(match func(name string) bool, paths ...string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, root := range paths {
		info, err := os.Stat(root)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", root, err)
		}
		if !info.IsDir() {
			if !seen[root] {
				seen[root] = true
				out = append(out, root)
			}
			continue
		}
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != root && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if match(d.Name()) && !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("walk %s: %w", root, err)
		}
	}
	sort.Strings(out)
	return out, nil
}

// IsDefinitionFile reports whether a file name is a workflow definition:
// *.yaml or *.yml, but not a *.test.yaml flow test.
func IsDefinitionFile(name string) bool {
	if strings.HasSuffix(name, ".test.yaml") || strings.HasSuffix(name, ".test.yml") {
		return false
	}
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}
