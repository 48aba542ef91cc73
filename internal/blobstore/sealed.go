package blobstore

// sealed.go: encryption at rest of the disk store's payload files.
//
// A sealed file is sealMagic, one byte n, n bytes of key id, then what the
// Sealer returned (for payloadcodec: nonce || AES-256-GCM ciphertext, the
// key id authenticated). A file without sealMagic is a plain payload (as
// written before encryption was turned on) and reads as is. Either way the
// file's name and the reference are the SHA-256 of the plaintext, and Get
// checks the plaintext against it, so a reference stays valid whether its
// payload is sealed, plain, or sealed again with another key.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// Sealer encrypts and decrypts payload files of a disk store
// (payloadcodec.Codec implements it with its key ring).
type Sealer interface {
	// SealBlob encrypts plain with the current key and returns the key's
	// id (1 to 255 bytes, not secret: it is stored in the file header)
	// and the ciphertext.
	SealBlob(plain []byte) (keyID string, sealed []byte, err error)
	// OpenBlob decrypts a ciphertext SealBlob returned with key keyID. Its
	// errors must not contain key material.
	OpenBlob(keyID string, sealed []byte) ([]byte, error)
}

// ErrSealed is wrapped by Get when a payload file is sealed and cannot be
// opened: the store has no Sealer, the key id is not in its key ring, or
// authentication fails (tampered file, wrong key).
var ErrSealed = errors.New("sealed blob cannot be opened")

// sealMagic starts every sealed payload file. Payloads are JSON, which
// never starts with a NUL byte.
const sealMagic = "\x00SFBLOB1"

// IsSealed reports whether the content of a payload file is sealed (starts
// with the sealed-file header) rather than plain.
func IsSealed(stored []byte) bool { return bytes.HasPrefix(stored, []byte(sealMagic)) }

// WithSealer returns a store on the same directory as d whose Put seals
// payload files with s, and whose Get opens sealed files with s and reads
// plain ones as they are; nil turns sealing off (Get then fails with
// ErrSealed on sealed files). GC and Stats do not read contents and work
// alike on sealed and plain files.
func (d *Disk) WithSealer(s Sealer) *Disk {
	c := *d
	c.sealer = s
	return &c
}

// seal returns the sealed file content of plain.
func seal(s Sealer, plain []byte) ([]byte, error) {
	id, ct, err := s.SealBlob(plain)
	if err != nil {
		return nil, err
	}
	if id == "" || len(id) > 255 {
		return nil, fmt.Errorf("sealing: key id of %d bytes (want 1 to 255)", len(id))
	}
	out := make([]byte, 0, len(sealMagic)+1+len(id)+len(ct))
	out = append(out, sealMagic...)
	out = append(out, byte(len(id)))
	out = append(out, id...)
	return append(out, ct...), nil
}

// encode returns what Put writes for data: sealed when d has a Sealer.
func (d *Disk) encode(data []byte) ([]byte, error) {
	if d.sealer == nil {
		return data, nil
	}
	return seal(d.sealer, data)
}

// decode returns the plaintext of the stored content of ref's file,
// checked against ref.
func (d *Disk) decode(ref string, stored []byte) ([]byte, error) {
	plain := stored
	if IsSealed(stored) {
		rest := stored[len(sealMagic):]
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) || rest[0] == 0 {
			return nil, fmt.Errorf("%w: blob %s: truncated header", ErrSealed, ref)
		}
		id, ct := string(rest[1:1+int(rest[0])]), rest[1+int(rest[0]):]
		if d.sealer == nil {
			return nil, fmt.Errorf("%w: blob %s is encrypted with key id %q and no payload key ring is configured", ErrSealed, ref, id)
		}
		var err error
		if plain, err = d.sealer.OpenBlob(id, ct); err != nil {
			return nil, fmt.Errorf("%w: blob %s: %w", ErrSealed, ref, err)
		}
	}
	if err := verify(ref, plain); err != nil {
		return nil, err
	}
	return plain, nil
}

// storedPlain reports whether the file at p is a plain payload, for Put to
// seal it anew when d seals: content stored again after encryption was
// turned on ends up sealed.
func (d *Disk) storedPlain(p string) bool {
	if d.sealer == nil {
		return false
	}
	f, err := os.Open(p)
	if err != nil {
		return false // gone: Put's refresh check handles it
	}
	defer f.Close()
	head := make([]byte, len(sealMagic))
	n, _ := io.ReadFull(f, head)
	return !IsSealed(head[:n])
}
