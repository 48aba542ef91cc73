package payloadcodec

import (
	"crypto/rand"
	"fmt"
)

// blobAADPrefix starts the additional authenticated data of a sealed blob
// (followed by the key id), so that a blob's ciphertext and an encrypted
// Temporal payload's are never taken for one another.
const blobAADPrefix = "secflow-blob/"

// SealBlob encrypts a blob-store payload with the current key. It returns
// the key's id and nonce || GCM-sealed bytes, with the key id bound as
// additional authenticated data; the blob store keeps the id in its file
// header (it implements blobstore.Sealer).
func (c *Codec) SealBlob(plain []byte) (keyID string, sealed []byte, err error) {
	aead := c.aeads[c.current]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", nil, fmt.Errorf("encrypting blob: nonce: %w", err)
	}
	return c.current, aead.Seal(nonce, nonce, plain, []byte(blobAADPrefix+c.current)), nil
}

// OpenBlob decrypts what SealBlob returned with the key named keyID. An
// unknown key id, or failed authentication (tampered bytes or key id, or
// another key under the same id), is an error naming the key id, never
// key material.
func (c *Codec) OpenBlob(keyID string, sealed []byte) ([]byte, error) {
	aead, ok := c.aeads[keyID]
	if !ok {
		return nil, fmt.Errorf("decrypting blob: unknown key id %q (configured: %v)", keyID, c.ids)
	}
	n := aead.NonceSize()
	if len(sealed) < n+aead.Overhead() {
		return nil, fmt.Errorf("decrypting blob (key id %q): ciphertext too short", keyID)
	}
	plain, err := aead.Open(nil, sealed[:n], sealed[n:], []byte(blobAADPrefix+keyID))
	if err != nil {
		return nil, fmt.Errorf("decrypting blob (key id %q): authentication failed (tampered data or wrong key)", keyID)
	}
	return plain, nil
}
