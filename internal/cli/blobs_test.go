package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secflow/secflow/internal/blobstore"
)

// blobFixture is a blob store with an old payload (40 days unused), a fresh
// one (2 days), an old temporary file of an interrupted write (40 days) and
// a young one (in progress).
type blobFixture struct {
	dir, oldRef, freshRef, oldPath, freshPath, oldTemp, youngTemp string
}

func newBlobFixture(t *testing.T) blobFixture {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "blobs")
	d, err := blobstore.NewDisk(dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	f := blobFixture{dir: dir}
	age := func(p string, a time.Duration) {
		if err := os.Chtimes(p, now.Add(-a), now.Add(-a)); err != nil {
			t.Fatal(err)
		}
	}
	put := func(data string, a time.Duration) (string, string) {
		ref, err := d.Put(context.Background(), "k", []byte(data))
		if err != nil {
			t.Fatal(err)
		}
		digest := strings.TrimPrefix(ref, "sha256:")
		p := filepath.Join(dir, "sha256", digest[:2], digest)
		age(p, a)
		return ref, p
	}
	f.oldRef, f.oldPath = put(`{"old":"`+strings.Repeat("x", 2000)+`"}`, 40*24*time.Hour)
	f.freshRef, f.freshPath = put(`{"fresh":true}`, 2*24*time.Hour)
	f.oldTemp = filepath.Join(filepath.Dir(f.oldPath), ".tmp-0123abcd-42")
	f.youngTemp = filepath.Join(filepath.Dir(f.oldPath), ".tmp-0123abcd-43")
	for _, p := range []string{f.oldTemp, f.youngTemp} {
		if err := os.WriteFile(p, []byte("partial"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	age(f.oldTemp, 40*24*time.Hour)
	return f
}

func TestBlobsCommand(t *testing.T) {
	tests := []struct {
		name string
		args func(f blobFixture) []string
		env  bool // pass the directory as SECFLOW_BLOB_DIR instead of --dir
		code int
		// stdout/stderr must contain these
		out, errOut []string
		// files left afterwards (of old, fresh, oldTemp, youngTemp)
		left string
	}{
		{name: "stats", args: func(f blobFixture) []string { return []string{"blobs", "stats", "--dir", f.dir} },
			out:  []string{": 2 blobs, 2.0 KiB", "1d to 7d          1 blobs", "30d to 90d        1 blobs", "temporary files: 2"},
			left: "old fresh oldTemp youngTemp"},
		{name: "gc dry run", args: func(f blobFixture) []string { return []string{"blobs", "gc", "--dir", f.dir, "--dry-run", "-v"} },
			out:  []string{"would remove 1 blobs (2.0 KiB) and 1 temporary files (7 B)", "(--older-than 30d)", "kept 1 blobs (14 B)", "would remove sha256:"},
			left: "old fresh oldTemp youngTemp"},
		{name: "gc default age", args: func(f blobFixture) []string { return []string{"blobs", "gc", "--dir", f.dir} },
			out:  []string{"removed 1 blobs (2.0 KiB) and 1 temporary files (7 B)", "kept 1 blobs (14 B)"},
			left: "fresh youngTemp"},
		{name: "gc from SECFLOW_BLOB_DIR, verbose", env: true, args: func(f blobFixture) []string { return []string{"blobs", "gc", "-v", "--older-than", "1d"} },
			out:  []string{"removed 2 blobs", "removed " + "sha256:", "removed temporary file "},
			left: "youngTemp"},
		{name: "gc keeps what is younger", args: func(f blobFixture) []string { return []string{"blobs", "gc", "--dir", f.dir, "--older-than", "6w"} },
			out:  []string{"removed 0 blobs (0 B) and 0 temporary files (0 B)", "kept 2 blobs"},
			left: "old fresh oldTemp youngTemp"},
		{name: "gc age under the minimum", args: func(f blobFixture) []string { return []string{"blobs", "gc", "--dir", f.dir, "--older-than", "23h"} },
			code: 2, errOut: []string{"under the minimum of 1d"}, left: "old fresh oldTemp youngTemp"},
		{name: "gc bad age", args: func(f blobFixture) []string {
			return []string{"blobs", "gc", "--dir", f.dir, "--older-than", "a month"}
		},
			code: 2, errOut: []string{"--older-than: Invalid duration format"}, left: "old fresh oldTemp youngTemp"},
		{name: "missing directory is not created", args: func(f blobFixture) []string { return []string{"blobs", "gc", "--dir", f.dir + "-typo"} },
			code: 1, errOut: []string{"opening blob directory"}, left: "old fresh oldTemp youngTemp"},
		{name: "unknown subcommand", args: func(blobFixture) []string { return []string{"blobs", "purge"} },
			code: 2, errOut: []string{`unknown subcommand "purge"`}, left: "old fresh oldTemp youngTemp"},
		{name: "no subcommand", args: func(blobFixture) []string { return []string{"blobs"} },
			code: 2, errOut: []string{"Usage: secflow blobs stats"}, left: "old fresh oldTemp youngTemp"},
		{name: "extra argument", args: func(f blobFixture) []string { return []string{"blobs", "stats", "--dir", f.dir, "x"} },
			code: 2, errOut: []string{"unexpected arguments"}, left: "old fresh oldTemp youngTemp"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newBlobFixture(t)
			t.Setenv("SECFLOW_BLOB_DIR", filepath.Join(t.TempDir(), "unused"))
			if tc.env {
				t.Setenv("SECFLOW_BLOB_DIR", f.dir)
			}
			code, out, errOut := runCLI(tc.args(f)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
			for _, s := range tc.out {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tc.errOut {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut)
				}
			}
			var left []string
			for _, p := range []struct{ name, path string }{{"old", f.oldPath}, {"fresh", f.freshPath}, {"oldTemp", f.oldTemp}, {"youngTemp", f.youngTemp}} {
				if _, err := os.Stat(p.path); err == nil {
					left = append(left, p.name)
				}
			}
			if got := strings.Join(left, " "); got != tc.left {
				t.Errorf("files left: %q, want %q", got, tc.left)
			}
			if _, err := os.Stat(f.dir + "-typo"); err == nil {
				t.Error("a blobs command created a mistyped directory")
			}
		})
	}
}

func TestBlobsHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536 << 10: "1.5 MiB", 3 << 30: "3.0 GiB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
