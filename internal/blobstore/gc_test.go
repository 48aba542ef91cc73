package blobstore

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// clockNow is the injected "now" of the GC tests.
var clockNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// testDisk returns a disk store in a temporary directory whose clock is
// clockNow.
func testDisk(t *testing.T) *Disk {
	t.Helper()
	d, err := NewDisk(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	d.now = func() time.Time { return clockNow }
	return d
}

// putAged stores data and sets its last use to age before clockNow.
func putAged(t *testing.T, d *Disk, data string, age time.Duration) (ref, path string) {
	t.Helper()
	ref, err := d.Put(context.Background(), "k", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	digest, _ := digestOf(ref)
	path = d.path(digest)
	setAge(t, path, age)
	return ref, path
}

// writeAged writes a file of the store by hand, age before clockNow.
func writeAged(t *testing.T, path, data string, age time.Duration) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o640); err != nil {
		t.Fatal(err)
	}
	setAge(t, path, age)
}

func setAge(t *testing.T, path string, age time.Duration) {
	t.Helper()
	mt := clockNow.Add(-age)
	if err := os.Chtimes(path, mt, mt); err != nil {
		t.Fatal(err)
	}
}

func mtime(t *testing.T, path string) time.Time {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.ModTime()
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// listFiles returns the store's files relative to its directory.
func listFiles(t *testing.T, d *Disk) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(d.Dir(), func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(d.Dir(), p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func TestBlobGC(t *testing.T) {
	type want struct {
		removed, removedBytes, temps, kept int64
		left                               []string // kinds of files left, see fixture
	}
	tests := []struct {
		name      string
		olderThan time.Duration
		dryRun    bool
		want      want
	}{
		{"30 days", 30 * day, false, want{removed: 3, removedBytes: 3 * 5, temps: 1, kept: 3,
			left: []string{"fresh", "edge", "recent-trash", "dup", "young-temp", "foreign"}}},
		{"dry run removes nothing", 30 * day, true, want{removed: 2, removedBytes: 2 * 5, temps: 1, kept: 3,
			left: []string{"old", "fresh", "edge", "old2", "old-temp", "young-temp", "old-trash-aside", "recent-trash-aside", "dup", "dup-trash", "foreign"}}},
		// The duplicate's leftover is dropped first (".gc-" sorts before
		// the digest), then the 3-day-old payload is collected.
		{"2 days", 2 * day, false, want{removed: 5, removedBytes: 5 * 5, temps: 2, kept: 1,
			left: []string{"fresh", "recent-trash", "foreign"}}},
		{"100 days keeps every payload", 100 * day, false, want{removed: 0, temps: 0, kept: 5,
			left: []string{"old", "fresh", "edge", "old2", "old-temp", "young-temp", "recent-trash", "old-trash", "dup", "foreign"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := testDisk(t)
			files := map[string]string{} // kind -> path
			_, files["old"] = putAged(t, d, `"old"`, 40*day)
			_, files["old2"] = putAged(t, d, `"ol2"`, 31*day)
			_, files["fresh"] = putAged(t, d, `"new"`, 1*day)
			_, files["edge"] = putAged(t, d, `"edg"`, 30*day) // exactly at the cutoff: kept
			_, files["dup"] = putAged(t, d, `"dup"`, 3*day)
			shard := filepath.Dir(files["old"])
			files["old-temp"] = filepath.Join(shard, tempPrefix+"deadbeef-1")
			writeAged(t, files["old-temp"], "partial", 31*day)
			files["young-temp"] = filepath.Join(shard, tempPrefix+"deadbeef-2")
			writeAged(t, files["young-temp"], "partial", 3*day)
			// Leftovers of an interrupted GC: an old payload (removed), one
			// refreshed since (put back), one whose payload exists again
			// (dropped).
			oldTrash := RefOf([]byte(`"ot1"`))[7:]
			files["old-trash-aside"] = filepath.Join(d.Dir(), "sha256", oldTrash[:2], trashPrefix+oldTrash+"-x")
			files["old-trash"] = d.path(oldTrash) // where it is put back
			writeAged(t, files["old-trash-aside"], `"ot1"`, 50*day)
			recent := RefOf([]byte(`"rt1"`))[7:]
			files["recent-trash-aside"] = filepath.Join(d.Dir(), "sha256", recent[:2], trashPrefix+recent+"-x")
			files["recent-trash"] = d.path(recent)
			writeAged(t, files["recent-trash-aside"], `"rt1"`, 1*day)
			dup := strings.TrimPrefix(RefOf([]byte(`"dup"`)), refPrefix)
			files["dup-trash"] = filepath.Join(filepath.Dir(files["dup"]), trashPrefix+dup+"-x")
			writeAged(t, files["dup-trash"], `"dup"`, 60*day)
			files["foreign"] = filepath.Join(shard, "notes.txt") // not ours: never touched
			writeAged(t, files["foreign"], "x", 400*day)

			var seen []Removed
			rep, err := d.GC(context.Background(), GCOptions{OlderThan: tc.olderThan, DryRun: tc.dryRun, OnRemove: func(r Removed) { seen = append(seen, r) }})
			if err != nil {
				t.Fatal(err)
			}
			got := want{removed: rep.Removed, removedBytes: rep.RemovedBytes, temps: rep.Temps, kept: rep.Kept}
			if want := clockNow.Add(-tc.olderThan); !rep.Cutoff.Equal(want) {
				t.Errorf("cutoff = %v, want %v", rep.Cutoff, want)
			}
			if int64(len(seen)) != rep.Removed+rep.Temps {
				t.Errorf("OnRemove called %d times, report says %d payloads + %d temporary files", len(seen), rep.Removed, rep.Temps)
			}
			for _, r := range seen {
				if !r.LastUsed.Before(rep.Cutoff) {
					t.Errorf("removed %s last used %v, not before the cutoff %v", r.Path, r.LastUsed, rep.Cutoff)
				}
			}
			// Which fixture files are left ("x-trash": the leftover put back
			// at its payload path, "x-trash-aside": still moved aside).
			for kind, p := range files {
				if exists(p) {
					got.left = append(got.left, kind)
				}
			}
			sort.Strings(got.left)
			sort.Strings(tc.want.left)
			if got.removed != tc.want.removed || got.removedBytes != tc.want.removedBytes || got.temps != tc.want.temps ||
				got.kept != tc.want.kept || strings.Join(got.left, ",") != strings.Join(tc.want.left, ",") {
				t.Errorf("got %+v\nwant %+v\nfiles %v", got, tc.want, listFiles(t, d))
			}
		})
	}
}

func TestBlobGCRefusesShortAges(t *testing.T) {
	d := testDisk(t)
	_, p := putAged(t, d, `"x"`, 400*day)
	for _, age := range []time.Duration{0, -day, time.Hour, MinGCAge - time.Second} {
		if _, err := d.GC(context.Background(), GCOptions{OlderThan: age}); err == nil || !strings.Contains(err.Error(), "minimum") {
			t.Errorf("GC(%s) = %v, want a minimum-age error", age, err)
		}
	}
	if !exists(p) {
		t.Fatal("a refused GC removed a payload")
	}
}

func TestBlobGCCancelled(t *testing.T) {
	d := testDisk(t)
	_, p := putAged(t, d, `"x"`, 400*day)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.GC(ctx, GCOptions{OlderThan: MinGCAge}); !errors.Is(err, context.Canceled) {
		t.Fatalf("GC with a cancelled context = %v", err)
	}
	if !exists(p) {
		t.Fatal("a cancelled GC removed a payload")
	}
}

// TestBlobUseRefreshes checks that Put of existing content and Get mark a
// payload used, so that a later run's payload first written by an older
// run is not collected.
func TestBlobUseRefreshes(t *testing.T) {
	tests := []struct {
		name    string
		age     time.Duration
		use     func(d *Disk, ref string, data []byte) error
		wantAge time.Duration // after the use
	}{
		{"Put again refreshes", 40 * day, func(d *Disk, _ string, b []byte) error {
			_, err := d.Put(context.Background(), "later-run", b)
			return err
		}, 0},
		{"Put again refreshes a recent one", 10 * time.Minute, func(d *Disk, _ string, b []byte) error { _, err := d.Put(context.Background(), "k", b); return err }, 0},
		{"Get refreshes", 40 * day, func(d *Disk, ref string, _ []byte) error { _, err := d.Get(context.Background(), ref); return err }, 0},
		{"Get within the hour leaves it", 30 * time.Minute, func(d *Disk, ref string, _ []byte) error { _, err := d.Get(context.Background(), ref); return err }, 30 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := testDisk(t)
			data := []byte(`{"event":1}`)
			ref, p := putAged(t, d, string(data), tc.age)
			if err := tc.use(d, ref, data); err != nil {
				t.Fatal(err)
			}
			if got := clockNow.Sub(mtime(t, p)); got != tc.wantAge {
				t.Fatalf("age after use = %s, want %s", got, tc.wantAge)
			}
			rep, err := d.GC(context.Background(), GCOptions{OlderThan: 30 * day})
			if err != nil || rep.Removed != 0 || !exists(p) {
				t.Fatalf("GC after use: %+v, %v; payload exists: %v", rep, err, exists(p))
			}
		})
	}
}

// TestBlobGCRace replays the interleavings of GC with Put and Get one
// system call at a time: GC has moved an old payload aside (collect's
// rename) and has not decided yet (settle).
func TestBlobGCRace(t *testing.T) {
	data := []byte(`{"big":"output"}`)
	tests := []struct {
		name string
		// between runs after the move, before settle.
		between     func(t *testing.T, d *Disk, ref, trash string)
		wantRemoved bool
	}{
		{"nobody uses it: removed", func(*testing.T, *Disk, string, string) {}, true},
		{"refreshed before the move: put back", func(t *testing.T, d *Disk, _, trash string) {
			// A Put's Chtimes landed between GC's look and its move.
			setAge(t, trash, 0)
		}, false},
		{"Put after the move writes it again", func(t *testing.T, d *Disk, _, _ string) {
			if _, err := d.Put(context.Background(), "k", data); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"Get after the move reads the moved copy and puts it back", func(t *testing.T, d *Disk, ref, _ string) {
			b, err := d.Get(context.Background(), ref)
			if err != nil || !bytes.Equal(b, data) {
				t.Fatalf("Get during GC = %q, %v", b, err)
			}
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := testDisk(t)
			ref, p := putAged(t, d, string(data), 40*day)
			cutoff := clockNow.Add(-30 * day)
			trash := filepath.Join(filepath.Dir(p), trashPrefix+ref[7:]+"-race")
			if err := os.Rename(p, trash); err != nil {
				t.Fatal(err)
			}
			tc.between(t, d, ref, trash)
			removed, size, err := d.settle(trash, p, cutoff)
			if err != nil {
				t.Fatal(err)
			}
			if removed != tc.wantRemoved || (removed && size != int64(len(data))) {
				t.Fatalf("settle removed = %v (%d bytes), want %v", removed, size, tc.wantRemoved)
			}
			if exists(trash) {
				t.Fatal("the moved-aside file is left behind")
			}
			_, err = d.Get(context.Background(), ref)
			if tc.wantRemoved != errors.Is(err, ErrNotFound) {
				t.Fatalf("Get after GC = %v (removed: %v)", err, tc.wantRemoved)
			}
		})
	}
}

// TestBlobGetPutsBackWhatGCMovesAfterTheRead covers a Get whose read came
// before GC's move and whose refresh comes after it.
func TestBlobGetPutsBackWhatGCMovesAfterTheRead(t *testing.T) {
	d := testDisk(t)
	data := []byte(`"v"`)
	ref, p := putAged(t, d, string(data), 40*day)
	trash := filepath.Join(filepath.Dir(p), trashPrefix+ref[7:]+"-race")
	moved := false
	d.now = func() time.Time {
		// Get reads the clock after reading the file and before the
		// refresh: GC moves the file away right then.
		if !moved && exists(p) {
			moved = true
			if err := os.Rename(p, trash); err != nil {
				t.Fatal(err)
			}
		}
		return clockNow
	}
	if _, err := d.Get(context.Background(), ref); err != nil || !moved {
		t.Fatalf("Get = %v (moved %v)", err, moved)
	}
	if removed, _, err := d.settle(trash, p, clockNow.Add(-30*day)); err != nil || removed {
		t.Fatalf("settle = %v, %v; want the payload kept", removed, err)
	}
	if got := mtime(t, p); !got.Equal(clockNow) {
		t.Fatalf("payload back with mtime %v, want %v", got, clockNow)
	}
}

func TestBlobStats(t *testing.T) {
	d := testDisk(t)
	empty, err := d.Stats(context.Background())
	if err != nil || empty.Blobs != 0 || !empty.Oldest.IsZero() {
		t.Fatalf("Stats of an empty store = %+v, %v", empty, err)
	}
	putAged(t, d, `"a"`, time.Hour)
	putAged(t, d, `"bb"`, 3*day)
	putAged(t, d, `"ccc"`, 20*day)
	putAged(t, d, `"dddd"`, 45*day)
	_, p := putAged(t, d, `"eeeee"`, 200*day)
	writeAged(t, filepath.Join(filepath.Dir(p), tempPrefix+"x"), "12345678", day)
	st, err := d.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Blobs != 5 || st.Bytes != 3+4+5+6+7 || st.Temps != 1 || st.TempBytes != 8 {
		t.Errorf("counts = %+v", st)
	}
	if !st.Oldest.Equal(clockNow.Add(-200*day)) || !st.Newest.Equal(clockNow.Add(-time.Hour)) {
		t.Errorf("oldest %v newest %v", st.Oldest, st.Newest)
	}
	wantAges := []AgeBucket{{day, 1, 3}, {7 * day, 1, 4}, {30 * day, 1, 5}, {90 * day, 1, 6}, {0, 1, 7}}
	for i, b := range wantAges {
		if i >= len(st.Ages) || st.Ages[i] != b {
			t.Errorf("Ages = %+v, want %+v", st.Ages, wantAges)
			break
		}
	}
}

func TestOpenDisk(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenDisk(filepath.Join(dir, "missing")); err == nil {
		t.Error("OpenDisk of a missing directory succeeded")
	}
	if exists(filepath.Join(dir, "missing")) {
		t.Error("OpenDisk created the directory")
	}
	f := filepath.Join(dir, "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenDisk(f); err == nil {
		t.Error("OpenDisk of a file succeeded")
	}
	d, err := OpenDisk(dir)
	if err != nil || d.Dir() != dir {
		t.Fatalf("OpenDisk = %v, %v", d, err)
	}
}
