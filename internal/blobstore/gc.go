package blobstore

// gc.go: garbage collection of the disk store.
//
// The rule: a payload whose file has not been written (Put) or read (Get)
// for longer than an age is removed, with the temporary files of
// interrupted writes. Content addressing makes "used" the only safe notion
// of liveness: the same bytes stored again by a later run share the file,
// so Put of existing content refreshes the file's modification time.
//
// Concurrent use. GC never unlinks a payload in place: it renames it aside
// (".gc-<digest>-<random>", in the same directory, atomic), then looks at
// the modification time again and removes the moved file only if it is
// still older than the cutoff; otherwise it renames it back. Together with
// Put (refresh, then check the file is still in place, else write it anew)
// and Get (a payload found moved aside is read from there and written back;
// a payload moved away just after being read is written back) this gives:
//
//   - a Put that returned a reference leaves the payload at its path with a
//     modification time no older than the call;
//   - a Get that returned a payload leaves it at its path, unless its last
//     use before that read was more than the age ago and GC moved it away in
//     the instant between the read and the refresh, and writing it back failed.
//
// While GC is deciding about a payload (two system calls), a Get of it reads
// the moved-aside copy. Several GCs at once are safe (each move is atomic
// and a GC finishes what an interrupted one left aside), they only count
// some files twice.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// MinGCAge is the smallest age GC accepts. It is Temporal's minimum
// namespace retention (1 day), and far above the granularity at which Get
// refreshes a payload's modification time (an hour).
const MinGCAge = 24 * time.Hour

// File name prefixes of the disk store besides payloads.
const (
	// tempPrefix starts the temporary file of a write in progress.
	tempPrefix = ".tmp-"
	// trashPrefix starts a payload GC moved aside: ".gc-<digest>-<random>".
	trashPrefix = ".gc-"
)

// GCOptions says what Disk.GC removes.
type GCOptions struct {
	// OlderThan is the age: payloads and temporary files whose
	// modification time (last write or read) is before now − OlderThan are
	// removed. It must be at least MinGCAge.
	OlderThan time.Duration
	// DryRun reports what would be removed and removes nothing.
	DryRun bool
	// OnRemove, when set, is called for each file removed (or, with
	// DryRun, that would be).
	OnRemove func(Removed)
}

// Removed describes one file GC removed.
type Removed struct {
	// Ref is the payload's reference; "" for a temporary file.
	Ref string
	// Path is the file's path.
	Path string
	// Size is the file's size in bytes.
	Size int64
	// LastUsed is the file's modification time.
	LastUsed time.Time
}

// GCReport sums up a collection.
type GCReport struct {
	// Cutoff is now − OlderThan: files last used before it are removed.
	Cutoff time.Time
	// Removed and RemovedBytes count the payloads removed.
	Removed, RemovedBytes int64
	// Temps and TempBytes count the temporary files removed (writes that
	// were interrupted).
	Temps, TempBytes int64
	// Kept and KeptBytes count the payloads kept.
	Kept, KeptBytes int64
}

// GC removes the payloads and temporary files not used for opts.OlderThan
// (see the file comment for the guarantees under concurrent Put and Get).
// Files that cannot be removed are skipped and reported in the error, after
// the walk; the report counts what was done.
func (d *Disk) GC(ctx context.Context, opts GCOptions) (GCReport, error) {
	if opts.OlderThan < MinGCAge {
		return GCReport{}, fmt.Errorf("blob GC: age %s is under the minimum of %s", opts.OlderThan, MinGCAge)
	}
	rep := GCReport{Cutoff: d.now().Add(-opts.OlderThan)}
	var failed []error
	report := func(r Removed) {
		if opts.OnRemove != nil {
			opts.OnRemove(r)
		}
	}
	err := d.walk(ctx, func(f file) {
		old := f.info.ModTime().Before(rep.Cutoff)
		switch f.kind {
		case kindPayload:
			if !old {
				rep.Kept++
				rep.KeptBytes += f.info.Size()
				return
			}
			r := Removed{Ref: refPrefix + f.digest, Path: f.path, Size: f.info.Size(), LastUsed: f.info.ModTime()}
			if opts.DryRun {
				rep.Removed++
				rep.RemovedBytes += r.Size
				report(r)
				return
			}
			removed, err := d.collect(f, rep.Cutoff)
			switch {
			case err != nil:
				failed = append(failed, err)
			case removed:
				rep.Removed++
				rep.RemovedBytes += r.Size
				report(r)
			default: // used meanwhile
				rep.Kept++
				rep.KeptBytes += r.Size
			}
		case kindTrash: // left aside by an interrupted GC
			if opts.DryRun {
				return
			}
			removed, size, err := d.settle(f.path, d.path(f.digest), rep.Cutoff)
			if err != nil {
				failed = append(failed, err)
			} else if removed {
				rep.Removed++
				rep.RemovedBytes += size
				report(Removed{Ref: refPrefix + f.digest, Path: f.path, Size: size, LastUsed: f.info.ModTime()})
			}
		case kindTemp:
			if !old {
				return
			}
			r := Removed{Path: f.path, Size: f.info.Size(), LastUsed: f.info.ModTime()}
			if !opts.DryRun {
				if err := os.Remove(f.path); err != nil {
					if !errors.Is(err, fs.ErrNotExist) {
						failed = append(failed, fmt.Errorf("removing %s: %w", f.path, err))
					}
					return
				}
			}
			rep.Temps++
			rep.TempBytes += r.Size
			report(r)
		}
	})
	if err != nil {
		return rep, fmt.Errorf("blob GC of %s: %w", d.dir, err)
	}
	if len(failed) > 0 {
		return rep, fmt.Errorf("blob GC of %s: %d files not removed: %w", d.dir, len(failed), errors.Join(failed...))
	}
	return rep, nil
}

// collect moves an old payload aside and settles it (see settle).
func (d *Disk) collect(f file, cutoff time.Time) (bool, error) {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	trash := filepath.Join(filepath.Dir(f.path), trashPrefix+f.digest+"-"+hex.EncodeToString(rnd[:]))
	if err := os.Rename(f.path, trash); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil // another GC took it
		}
		return false, fmt.Errorf("moving %s aside: %w", f.path, err)
	}
	removed, _, err := d.settle(trash, f.path, cutoff)
	return removed, err
}

// settle decides about a payload moved aside to trash from its path p: it
// is removed when it is still older than cutoff and p was not written
// again; put back when it was used since; dropped as a duplicate when p
// exists again. It reports whether a payload was removed, and its size.
func (d *Disk) settle(trash, p string, cutoff time.Time) (bool, int64, error) {
	fi, err := os.Lstat(trash)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, 0, nil // settled by another GC
		}
		return false, 0, fmt.Errorf("checking %s: %w", trash, err)
	}
	if _, err := os.Lstat(p); err == nil {
		// Written again (Put) or put back (Get) meanwhile.
		if err := os.Remove(trash); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, 0, fmt.Errorf("removing %s: %w", trash, err)
		}
		return false, 0, nil
	}
	if !fi.ModTime().Before(cutoff) {
		// Refreshed by a Put or Get between our look and the move.
		if err := os.Rename(trash, p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, 0, fmt.Errorf("putting %s back: %w", p, err)
		}
		return false, 0, nil
	}
	if err := os.Remove(trash); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, 0, nil
		}
		return false, 0, fmt.Errorf("removing %s: %w", trash, err)
	}
	return true, fi.Size(), nil
}

// AgeBucket counts payloads last used within an age.
type AgeBucket struct {
	// UpTo is the bucket's upper bound (exclusive of the previous bucket's);
	// 0 means no bound.
	UpTo time.Duration
	// Blobs and Bytes count the payloads in the bucket.
	Blobs, Bytes int64
}

// statsBuckets are the upper bounds of Stats.Ages.
var statsBuckets = []time.Duration{24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour, 90 * 24 * time.Hour, 0}

// Stats describes the content of a disk store.
type Stats struct {
	// Blobs and Bytes count the payloads.
	Blobs, Bytes int64
	// Temps and TempBytes count temporary files: writes in progress or
	// interrupted, payloads an interrupted GC left aside.
	Temps, TempBytes int64
	// Oldest and Newest are the earliest and latest last use of a payload
	// (zero without payloads).
	Oldest, Newest time.Time
	// Ages counts payloads by time since last use: up to 1 day, 7 days,
	// 30 days, 90 days, and beyond.
	Ages []AgeBucket
}

// Stats walks the store and counts its payloads.
func (d *Disk) Stats(ctx context.Context) (Stats, error) {
	now := d.now()
	st := Stats{Ages: make([]AgeBucket, len(statsBuckets))}
	for i, b := range statsBuckets {
		st.Ages[i].UpTo = b
	}
	err := d.walk(ctx, func(f file) {
		size, mt := f.info.Size(), f.info.ModTime()
		if f.kind != kindPayload {
			st.Temps++
			st.TempBytes += size
			return
		}
		st.Blobs++
		st.Bytes += size
		if st.Oldest.IsZero() || mt.Before(st.Oldest) {
			st.Oldest = mt
		}
		if mt.After(st.Newest) {
			st.Newest = mt
		}
		age := now.Sub(mt)
		for i, b := range statsBuckets {
			if b == 0 || age <= b {
				st.Ages[i].Blobs++
				st.Ages[i].Bytes += size
				break
			}
		}
	})
	if err != nil {
		return st, fmt.Errorf("blob stats of %s: %w", d.dir, err)
	}
	return st, nil
}

// fileKind is what a file of the store is.
type fileKind int

const (
	kindPayload fileKind = iota // <digest>
	kindTemp                    // .tmp-…
	kindTrash                   // .gc-<digest>-…
)

// file is one file of the store met by walk.
type file struct {
	kind   fileKind
	path   string
	digest string // kindPayload, kindTrash
	info   fs.FileInfo
}

// walk calls fn for every regular file of the store it recognises, in
// directory order; anything else (other names, directories, symbolic
// links) is left alone. Files that vanish during the walk are skipped.
func (d *Disk) walk(ctx context.Context, fn func(file)) error {
	root := filepath.Join(d.dir, "sha256")
	shards, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // nothing stored yet
	}
	if err != nil {
		return err
	}
	for _, sh := range shards {
		if !sh.IsDir() || len(sh.Name()) != 2 || !isHex(sh.Name()) {
			continue
		}
		dir := filepath.Join(root, sh.Name())
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return err
			}
			f := file{path: filepath.Join(dir, e.Name())}
			name := e.Name()
			switch {
			case len(name) == 64 && isHex(name) && name[:2] == sh.Name():
				f.kind, f.digest = kindPayload, name
			case strings.HasPrefix(name, tempPrefix):
				f.kind = kindTemp
			case strings.HasPrefix(name, trashPrefix):
				dg, _, ok := strings.Cut(strings.TrimPrefix(name, trashPrefix), "-")
				if len(dg) != 64 || !isHex(dg) || dg[:2] != sh.Name() || !ok {
					continue
				}
				f.kind, f.digest = kindTrash, dg
			default:
				continue
			}
			info, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return err
			}
			if !info.Mode().IsRegular() {
				continue
			}
			f.info = info
			fn(f)
		}
	}
	return nil
}

// isHex reports whether s is lowercase hexadecimal.
func isHex(s string) bool {
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
