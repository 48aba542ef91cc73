// Package blobstore stores and fetches large JSON payloads by reference, so
// that step outputs and alert events too large for Temporal history (2 MiB
// per payload, 50 MiB per run) travel as small references instead.
//
// A reference is content-addressed: "sha256:<64 hex digits>" of the
// payload's bytes. Storing the same bytes twice yields the same reference
// and one copy, which makes Put idempotent across activity retries, and
// makes a reference immutable, which is what lets a workflow replay read it
// again.
//
// The disk store can encrypt its files at rest (Disk.WithSealer, with the
// payload encryption key ring of internal/payloadcodec); references and
// file names stay the digest of the plaintext, and plain files written
// before encryption was turned on keep reading.
package blobstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// Store stores and fetches payloads by reference. Implementations are safe
// for concurrent use.
type Store interface {
	// Put stores data and returns its reference. key names the payload's
	// owner (e.g. "<workflow ID>/<step path>") for logs and for stores that
	// keep metadata; it does not change the reference.
	Put(ctx context.Context, key string, data []byte) (ref string, err error)
	// Get returns the bytes stored under ref, or an error wrapping
	// ErrNotFound.
	Get(ctx context.Context, ref string) ([]byte, error)
}

// ErrNotFound is wrapped by Get when no payload is stored under a reference.
var ErrNotFound = errors.New("blob not found")

// ErrBadRef is wrapped by Get when a reference is not of the form
// "sha256:<64 lowercase hex digits>".
var ErrBadRef = errors.New("malformed blob reference")

// refPrefix starts every reference.
const refPrefix = "sha256:"

// RefOf returns the reference of data.
func RefOf(data []byte) string {
	sum := sha256.Sum256(data)
	return refPrefix + hex.EncodeToString(sum[:])
}

// digestOf returns the hex digest of a well-formed reference.
func digestOf(ref string) (string, error) {
	d, ok := strings.CutPrefix(ref, refPrefix)
	if !ok || len(d) != sha256.Size*2 || !isHex(d) {
		return "", fmt.Errorf("%w: %q", ErrBadRef, ref)
	}
	return d, nil
}

// verify checks that data is what ref names (detects a corrupted file).
func verify(ref string, data []byte) error {
	if got := RefOf(data); got != ref {
		return fmt.Errorf("blob %s is corrupted (its content hashes to %s)", ref, got)
	}
	return nil
}

// Memory is an in-process Store for tests and single-process tools.
type Memory struct {
	mu    sync.RWMutex
	blobs map[string][]byte
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory { return &Memory{blobs: map[string][]byte{}} }

// Put stores a copy of data.
func (m *Memory) Put(_ context.Context, _ string, data []byte) (string, error) {
	ref := RefOf(data)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.blobs[ref]; !ok {
		m.blobs[ref] = append([]byte(nil), data...)
	}
	return ref, nil
}

// Get returns a copy of the payload stored under ref.
func (m *Memory) Get(_ context.Context, ref string) ([]byte, error) {
	if _, err := digestOf(ref); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	b, ok := m.blobs[ref]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, ref)
	}
	return append([]byte(nil), b...), nil
}

// Len returns the number of payloads stored.
func (m *Memory) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.blobs)
}
