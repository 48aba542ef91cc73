package blobstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// DefaultDir is where a Disk store keeps payloads when no directory is
// configured (relative to the working directory).
const DefaultDir = ".secflow/blobs"

// Disk is a Store keeping each payload in one file under a directory:
// <dir>/sha256/<first 2 hex digits>/<digest>. Writes are atomic (a
// temporary file in the same directory, synced, then renamed), so a reader
// never sees a partial payload, and Get verifies the content hash (of the
// plaintext: files may be sealed, see WithSealer and sealed.go). It is
// meant for development and single-node installs: the worker and the
// starter must share the directory.
//
// A payload file's modification time is the last time it was used: Put of
// content already stored sets it to now, and Get refreshes it when it is
// more than an hour old. GC removes payloads unused for longer than a given
// age (see gc.go for the rule and the guarantees against concurrent use).
type Disk struct {
	dir string
	// now is the store's clock (time.Now; tests inject one).
	now func() time.Time
	// sealer, when set, encrypts payload files (see WithSealer).
	sealer Sealer
}

// NewDisk opens (creating it if needed) a disk store in dir; "" means
// DefaultDir.
func NewDisk(dir string) (*Disk, error) {
	if dir == "" {
		dir = DefaultDir
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("creating blob directory %s: %w", dir, err)
	}
	return &Disk{dir: dir, now: time.Now}, nil
}

// OpenDisk opens the disk store in an existing directory ("" means
// DefaultDir) without creating it, so that a maintenance command given a
// mistyped directory fails instead of reporting an empty store.
func OpenDisk(dir string) (*Disk, error) {
	if dir == "" {
		dir = DefaultDir
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("opening blob directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("opening blob directory: %s is not a directory", dir)
	}
	return &Disk{dir: dir, now: time.Now}, nil
}

// Dir returns the store's directory.
func (d *Disk) Dir() string { return d.dir }

// path returns the file of a digest.
func (d *Disk) path(digest string) string {
	return filepath.Join(d.dir, "sha256", digest[:2], digest)
}

// Put stores data unless a payload with the same content exists already;
// then it marks that payload as used now (its modification time), so that a
// payload first written long ago by another run is not collected while the
// run storing it again may still read it.
//
// When Put returns, the payload is at its path with a modification time no
// older than the call, even when GC collected it concurrently: the refresh
// is checked after it is made, and anything else writes the payload anew.
func (d *Disk) Put(ctx context.Context, key string, data []byte) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	ref := RefOf(data)
	digest, _ := digestOf(ref)
	if p := d.path(digest); d.refresh(p) && !d.storedPlain(p) {
		return ref, nil
	}
	stored, err := d.encode(data)
	if err != nil {
		return "", fmt.Errorf("storing blob for %s: %w", key, err)
	}
	if err := d.write(digest, stored); err != nil {
		return "", fmt.Errorf("storing blob for %s: %w", key, err)
	}
	return ref, nil
}

// refresh sets the modification time of an existing payload file to now
// and reports whether the file is still at its path afterwards. GC moves a
// file away before its final check of the modification time, so a file
// still in place after a successful refresh is either one GC will keep
// (the check sees the new time) or a fresh copy written by someone else.
func (d *Disk) refresh(p string) bool {
	if _, err := os.Stat(p); err != nil {
		return false
	}
	now := d.now()
	if err := os.Chtimes(p, now, now); err != nil {
		return false // gone meanwhile, or not ours to touch: write it again
	}
	_, err := os.Stat(p)
	return err == nil
}

// write stores data as the payload of digest: a temporary file in the
// payload's directory, synced, stamped with the store's clock, then renamed
// into place.
func (d *Disk) write(digest string, data []byte) error {
	dst := d.path(digest)
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, tempPrefix+digest[:8]+"-*")
	if err != nil {
		return err
	}
	cleanup := func() { _ = os.Remove(tmp.Name()) }
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		cleanup()
		return err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		cleanup()
		return fmt.Errorf("syncing: %w", err)
	}
	if err := tmp.Close(); err != nil {
		cleanup()
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o640); err != nil {
		cleanup()
		return err
	}
	now := d.now()
	if err := os.Chtimes(tmp.Name(), now, now); err != nil {
		cleanup()
		return err
	}
	// Renaming over an existing file of the same content is harmless: a
	// concurrent Put of the same bytes wrote the same payload.
	if err := os.Rename(tmp.Name(), dst); err != nil {
		cleanup()
		return err
	}
	return nil
}

// getRefreshAfter is how old a payload's modification time must be for Get
// to refresh it (one metadata write per payload and hour at most). GC
// refuses ages under MinGCAge, far above it.
const getRefreshAfter = time.Hour

// Get reads the payload stored under ref, opens it when it is sealed (see
// WithSealer), checks its hash and marks it as used (see Disk). A payload
// GC is collecting at that moment is put back.
func (d *Disk) Get(ctx context.Context, ref string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	digest, err := digestOf(ref)
	if err != nil {
		return nil, err
	}
	p := d.path(digest)
	stored, mtime, err := readFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		if b, ok := d.rescue(digest); ok {
			return b, nil
		}
		return nil, fmt.Errorf("%w: %s (in %s)", ErrNotFound, ref, d.dir)
	}
	if err != nil {
		return nil, fmt.Errorf("reading blob %s: %w", ref, err)
	}
	b, err := d.decode(ref, stored)
	if err != nil {
		return nil, err
	}
	if now := d.now(); now.Sub(mtime) > getRefreshAfter {
		if err := os.Chtimes(p, now, now); errors.Is(err, fs.ErrNotExist) {
			// GC moved it away after we read it: put it back as it was
			// (best effort: the bytes read are returned either way).
			_ = d.write(digest, stored)
		}
	}
	return b, nil
}

// readFile returns the content and modification time of a file.
func readFile(p string) ([]byte, time.Time, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, time.Time{}, err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, time.Time{}, err
	}
	return b, fi.ModTime(), nil
}

// rescue returns the payload of digest from a file GC moved aside (and is
// deciding about), writing it back to its path: a payload read is in use.
func (d *Disk) rescue(digest string) ([]byte, bool) {
	p := d.path(digest)
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(p), trashPrefix+digest+"-*"))
	for _, m := range matches {
		stored, err := os.ReadFile(m)
		if err != nil {
			continue
		}
		b, err := d.decode(refPrefix+digest, stored)
		if err != nil {
			continue
		}
		_ = d.write(digest, stored) // best effort: the bytes read are returned either way
		return b, true
	}
	return nil, false
}
