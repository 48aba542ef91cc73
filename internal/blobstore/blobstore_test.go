package blobstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func stores(t *testing.T) map[string]Store {
	d, err := NewDisk(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	return map[string]Store{"disk": d, "memory": NewMemory()}
}

func TestRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte(`{"k":"0123456789abcdef"},`), 64<<10) // 1.5 MiB
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			for _, data := range [][]byte{[]byte(`{"a":1}`), []byte(""), big} {
				ref, err := s.Put(ctx, "wf/step", data)
				if err != nil {
					t.Fatal(err)
				}
				if ref != RefOf(data) || !strings.HasPrefix(ref, "sha256:") || len(ref) != 7+64 {
					t.Fatalf("ref = %q, want %q", ref, RefOf(data))
				}
				again, err := s.Put(ctx, "other/key", data)
				if err != nil || again != ref {
					t.Fatalf("second Put = %q, %v; want the same ref", again, err)
				}
				got, err := s.Get(ctx, ref)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, data) {
					t.Fatalf("Get returned %d bytes, want %d", len(got), len(data))
				}
			}
		})
	}
}

func TestGetErrors(t *testing.T) {
	missing := RefOf([]byte("never stored"))
	for name, s := range stores(t) {
		for _, tc := range []struct {
			ref  string
			want error
		}{
			{missing, ErrNotFound},
			{"sha256:../../etc/passwd", ErrBadRef},
			{"sha256:" + strings.Repeat("A", 64), ErrBadRef},
			{"md5:" + strings.Repeat("a", 64), ErrBadRef},
			{"", ErrBadRef},
			{strings.TrimSuffix(missing, "0") + "/", ErrBadRef},
		} {
			t.Run(name+"/"+tc.ref, func(t *testing.T) {
				_, err := s.Get(context.Background(), tc.ref)
				if !errors.Is(err, tc.want) {
					t.Fatalf("Get(%q) = %v, want %v", tc.ref, err, tc.want)
				}
			})
		}
	}
}

func TestDiskLayoutAndCorruption(t *testing.T) {
	dir := t.TempDir()
	d, err := NewDisk(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ref, err := d.Put(ctx, "k", []byte(`{"x":true}`))
	if err != nil {
		t.Fatal(err)
	}
	digest := strings.TrimPrefix(ref, "sha256:")
	file := filepath.Join(dir, "sha256", digest[:2], digest)
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("payload not at %s: %v", file, err)
	}
	if err := os.WriteFile(file, []byte(`{"x":false}`), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Get(ctx, ref); err == nil || !strings.Contains(err.Error(), "corrupted") {
		t.Fatalf("Get of a tampered file = %v, want a corruption error", err)
	}
}

func TestDiskConcurrentPutsLeaveNoTempFiles(t *testing.T) {
	dir := t.TempDir()
	d, err := NewDisk(dir)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// 8 distinct payloads, each written by 8 goroutines at once.
			if _, err := d.Put(context.Background(), "k", []byte(fmt.Sprintf(`{"n":%d}`, i%8))); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var files, temps int
	err = filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		files++
		if strings.HasPrefix(e.Name(), ".tmp-") {
			temps++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files != 8 || temps != 0 {
		t.Fatalf("%d files (%d temporary), want 8 payloads and no temporary file", files, temps)
	}
}

func TestDiskDefaultDirAndCancelledContext(t *testing.T) {
	wd, _ := os.Getwd()
	tmp := t.TempDir()
	if err := os.Chdir(tmp); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = os.Chdir(wd) }()
	d, err := NewDisk("")
	if err != nil {
		t.Fatal(err)
	}
	if d.Dir() != DefaultDir {
		t.Fatalf("Dir = %q, want %q", d.Dir(), DefaultDir)
	}
	if _, err := os.Stat(filepath.Join(tmp, DefaultDir)); err != nil {
		t.Fatalf("default directory not created: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Put(ctx, "k", []byte("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a cancelled context = %v", err)
	}
}
