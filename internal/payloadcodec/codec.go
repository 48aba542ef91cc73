// Package payloadcodec encrypts Temporal payloads at rest with AES-256-GCM.
// It is a converter.PayloadCodec (wired into every secflow client by
// internal/temporalclient) and the handler of the codec server protocol
// (POST /encode, /decode) that lets the Temporal CLI and Web UI show the
// decrypted payloads.
//
// An encrypted payload has metadata encoding=binary/encrypted and
// encryption-key-id=<id>; its data is nonce || GCM-sealed bytes of the
// whole original payload (metadata and data), with the key id as
// additional authenticated data. Several keys can be configured for
// rotation: the first encrypts, any decrypts by id. Payloads without the
// encrypted encoding pass through Decode unchanged, so histories written
// before encryption was turned on still replay and display.
package payloadcodec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

// Metadata of an encrypted payload.
const (
	// MetadataEncoding is the payload metadata key naming the encoding.
	MetadataEncoding = converter.MetadataEncoding
	// EncodingEncrypted is the encoding of a payload this codec encrypted.
	EncodingEncrypted = "binary/encrypted"
	// MetadataKeyID is the metadata key naming the key that encrypted the payload.
	MetadataKeyID = "encryption-key-id"
)

// KeySize is the length of an AES-256 key in bytes.
const KeySize = 32

// Key is one named AES-256 key. Its bytes are never printed.
type Key struct {
	// ID names the key in encrypted payloads' metadata (not secret).
	ID string
	// Secret is the 32-byte AES-256 key.
	Secret []byte
}

// String shows the id only.
func (k Key) String() string { return "key " + k.ID }

// GoString keeps %#v from printing the key bytes.
func (k Key) GoString() string { return `payloadcodec.Key{ID:"` + k.ID + `"}` }

// Codec is an AES-256-GCM converter.PayloadCodec with a key ring.
type Codec struct {
	current string
	aeads   map[string]cipher.AEAD
	ids     []string
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New returns a codec that encrypts with keys[0] and decrypts with any of
// keys (selected by the payload's key id).
func New(keys []Key) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("payload encryption: no key configured")
	}
	c := &Codec{current: keys[0].ID, aeads: map[string]cipher.AEAD{}}
	for _, k := range keys {
		if err := checkID(k.ID); err != nil {
			return nil, err
		}
		if _, dup := c.aeads[k.ID]; dup {
			return nil, fmt.Errorf("payload encryption: key id %q given twice", k.ID)
		}
		if len(k.Secret) != KeySize {
			return nil, fmt.Errorf("payload encryption: key %q is %d bytes, want %d (AES-256)", k.ID, len(k.Secret), KeySize)
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("payload encryption: key %q: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("payload encryption: key %q: %w", k.ID, err)
		}
		c.aeads[k.ID] = aead
		c.ids = append(c.ids, k.ID)
	}
	return c, nil
}

// checkID accepts ids of letters, digits and ._- (they go into metadata,
// logs and error messages).
func checkID(id string) error {
	if id == "" {
		return errors.New("payload encryption: empty key id")
	}
	if len(id) > 32 {
		return fmt.Errorf("payload encryption: key id %.16q... longer than 32 characters", id)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("payload encryption: key id %q: only letters, digits, '.', '_' and '-' are allowed", id)
		}
	}
	return nil
}

// CurrentKeyID is the id of the key new payloads are encrypted with.
func (c *Codec) CurrentKeyID() string { return c.current }

// KeyIDs lists the configured key ids, the current one first.
func (c *Codec) KeyIDs() []string { return append([]string(nil), c.ids...) }

// Encode encrypts every payload with the current key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.aeads[c.current]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encrypting payload: serialising: %w", err)
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("encrypting payload: nonce: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				MetadataEncoding: []byte(EncodingEncrypted),
				MetadataKeyID:    []byte(c.current),
			},
			Data: aead.Seal(nonce, nonce, plain, []byte(c.current)),
		}
	}
	return out, nil
}

// Decode decrypts encrypted payloads and returns the others unchanged. A
// payload whose key id is unknown, or whose authentication fails (tampered
// data, metadata or key id, or the wrong key), is an error.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[MetadataEncoding]) != EncodingEncrypted {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		aead, ok := c.aeads[id]
		if !ok {
			return nil, fmt.Errorf("decrypting payload: unknown key id %q (configured: %v)", id, c.ids)
		}
		data := p.GetData()
		if len(data) < aead.NonceSize()+aead.Overhead() {
			return nil, fmt.Errorf("decrypting payload (key id %q): ciphertext too short", id)
		}
		n := aead.NonceSize()
		plain, err := aead.Open(nil, data[:n], data[n:], []byte(id))
		if err != nil {
			return nil, fmt.Errorf("decrypting payload (key id %q): authentication failed (tampered data or wrong key)", id)
		}
		var dec commonpb.Payload
		if err := proto.Unmarshal(plain, &dec); err != nil {
			return nil, fmt.Errorf("decrypting payload (key id %q): decrypted bytes are not a payload: %w", id, err)
		}
		out[i] = &dec
	}
	return out, nil
}

// DataConverter returns the SDK default data converter with c applied to
// every payload it produces and reads.
func (c *Codec) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}
