package blobstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// DefaultDir is where a Disk store keeps payloads when no directory is
// configured (relative to the working directory).
const DefaultDir = ".secflow/blobs"

// Disk is a Store keeping each payload in one file under a directory:
// <dir>/sha256/<first 2 hex digits>/<digest>. Writes are atomic (a
// temporary file in the same directory, synced, then renamed), so a reader
// never sees a partial payload, and Get verifies the content hash. It is
// meant for development and single-node installs: the worker and the
// starter must share the directory.
type Disk struct {
	dir string
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
	return &Disk{dir: dir}, nil
}

// Dir returns the store's directory.
func (d *Disk) Dir() string { return d.dir }

// path returns the file of a digest.
func (d *Disk) path(digest string) string {
	return filepath.Join(d.dir, "sha256", digest[:2], digest)
}

// Put stores data unless a payload with the same content exists already.
func (d *Disk) Put(ctx context.Context, key string, data []byte) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	ref := RefOf(data)
	digest, _ := digestOf(ref)
	dst := d.path(digest)
	if _, err := os.Stat(dst); err == nil {
		return ref, nil
	}
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("storing blob for %s: %w", key, err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-"+digest[:8]+"-*")
	if err != nil {
		return "", fmt.Errorf("storing blob for %s: %w", key, err)
	}
	cleanup := func() { _ = os.Remove(tmp.Name()) }
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		cleanup()
		return "", fmt.Errorf("storing blob for %s: %w", key, err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		cleanup()
		return "", fmt.Errorf("storing blob for %s: syncing: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		cleanup()
		return "", fmt.Errorf("storing blob for %s: %w", key, err)
	}
	if err := os.Chmod(tmp.Name(), 0o640); err != nil {
		cleanup()
		return "", fmt.Errorf("storing blob for %s: %w", key, err)
	}
	// Renaming over an existing file of the same content is harmless: a
	// concurrent Put of the same bytes wrote the same payload.
	if err := os.Rename(tmp.Name(), dst); err != nil {
		cleanup()
		return "", fmt.Errorf("storing blob for %s: %w", key, err)
	}
	return ref, nil
}

// Get reads the payload stored under ref and checks its hash.
func (d *Disk) Get(ctx context.Context, ref string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	digest, err := digestOf(ref)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(d.path(digest))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s (in %s)", ErrNotFound, ref, d.dir)
	}
	if err != nil {
		return nil, fmt.Errorf("reading blob %s: %w", ref, err)
	}
	if err := verify(ref, b); err != nil {
		return nil, err
	}
	return b, nil
}
