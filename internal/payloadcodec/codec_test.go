package payloadcodec

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

// testKey returns a deterministic 32-byte key distinct per seed.
func testKey(seed byte) []byte { return bytes.Repeat([]byte{seed}, KeySize) }

func mustCodec(t *testing.T, keys ...Key) *Codec {
	t.Helper()
	c, err := New(keys)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func jsonPayload(t *testing.T, v any) *commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const marker = "host-7f3a-user-alice-SECRET-MARKER"

func TestRoundTrip(t *testing.T) {
	c := mustCodec(t, Key{ID: "k1", Secret: testKey(1)})
	in := []*commonpb.Payload{
		jsonPayload(t, map[string]any{"host": marker, "n": 3.0}),
		jsonPayload(t, nil), // binary/null: empty data
		jsonPayload(t, []byte{0, 1, 2}),
		{}, // no metadata at all
	}
	enc, err := c.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(enc) != len(in) {
		t.Fatalf("Encode returned %d payloads, want %d", len(enc), len(in))
	}
	for i, p := range enc {
		if got := string(p.Metadata[MetadataEncoding]); got != EncodingEncrypted {
			t.Errorf("payload %d: encoding %q, want %q", i, got, EncodingEncrypted)
		}
		if got := string(p.Metadata[MetadataKeyID]); got != "k1" {
			t.Errorf("payload %d: key id %q, want k1", i, got)
		}
		if len(p.Metadata) != 2 {
			t.Errorf("payload %d: metadata %v, want only encoding and key id (the original encoding is hidden)", i, p.Metadata)
		}
		wire, _ := proto.Marshal(p)
		if bytes.Contains(wire, []byte(marker)) || bytes.Contains(wire, []byte("json/plain")) {
			t.Errorf("payload %d: plaintext visible in the encrypted payload", i)
		}
	}
	dec, err := c.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if !proto.Equal(dec[i], in[i]) {
			t.Errorf("payload %d: decoded %v, want %v", i, dec[i], in[i])
		}
	}
	// Same plaintext twice: different ciphertexts (random nonce).
	again, err := c.Encode(in[:1])
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(again[0].Data, enc[0].Data) {
		t.Error("encrypting the same payload twice gave the same bytes (nonce reuse)")
	}
}

func TestDataConverterRoundTrip(t *testing.T) {
	dc := mustCodec(t, Key{ID: "k1", Secret: testKey(1)}).DataConverter()
	p, err := dc.ToPayload(map[string]any{"summary": marker})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(p.String(), marker) {
		t.Fatal("data converter output holds the plaintext")
	}
	var got map[string]any
	if err := dc.FromPayload(p, &got); err != nil {
		t.Fatal(err)
	}
	if got["summary"] != marker {
		t.Errorf("round trip = %v", got)
	}
}

func TestKeyRotation(t *testing.T) {
	old := Key{ID: "2025-q4", Secret: testKey(1)}
	cur := Key{ID: "2026-q1", Secret: testKey(2)}
	before := mustCodec(t, old)
	after := mustCodec(t, cur, old) // new key first: it encrypts; the old one still decrypts

	oldEnc, err := before.Encode([]*commonpb.Payload{jsonPayload(t, marker)})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := after.Decode(oldEnc)
	if err != nil {
		t.Fatalf("rotated codec cannot decrypt an old payload: %v", err)
	}
	var s string
	if err := converter.GetDefaultDataConverter().FromPayload(dec[0], &s); err != nil || s != marker {
		t.Fatalf("decoded %q, %v", s, err)
	}

	newEnc, err := after.Encode([]*commonpb.Payload{jsonPayload(t, marker)})
	if err != nil {
		t.Fatal(err)
	}
	if id := string(newEnc[0].Metadata[MetadataKeyID]); id != "2026-q1" {
		t.Errorf("new payload encrypted with %q, want the first key 2026-q1", id)
	}
	if after.CurrentKeyID() != "2026-q1" || fmt.Sprint(after.KeyIDs()) != "[2026-q1 2025-q4]" {
		t.Errorf("CurrentKeyID %q, KeyIDs %v", after.CurrentKeyID(), after.KeyIDs())
	}
	// A codec that dropped the old key: a clear error naming the id.
	dropped := mustCodec(t, cur)
	if _, err := dropped.Decode(oldEnc); err == nil || !strings.Contains(err.Error(), `unknown key id "2025-q4"`) {
		t.Errorf("decoding with the old key removed: err = %v, want unknown key id", err)
	}
}

func TestTamperDetection(t *testing.T) {
	k1 := Key{ID: "k1", Secret: testKey(1)}
	c := mustCodec(t, k1, Key{ID: "k2", Secret: testKey(2)})
	enc, err := c.Encode([]*commonpb.Payload{jsonPayload(t, marker)})
	if err != nil {
		t.Fatal(err)
	}
	clone := func() *commonpb.Payload { return proto.Clone(enc[0]).(*commonpb.Payload) }
	tests := []struct {
		name   string
		mutate func(p *commonpb.Payload)
		codec  *Codec
		want   string
	}{
		{"flipped ciphertext bit", func(p *commonpb.Payload) { p.Data[len(p.Data)-20] ^= 1 }, c, "authentication failed"},
		{"flipped tag bit", func(p *commonpb.Payload) { p.Data[len(p.Data)-1] ^= 0x80 }, c, "authentication failed"},
		{"flipped nonce bit", func(p *commonpb.Payload) { p.Data[0] ^= 1 }, c, "authentication failed"},
		{"key id swapped to another configured key", func(p *commonpb.Payload) { p.Metadata[MetadataKeyID] = []byte("k2") }, c, "authentication failed"},
		{"same id, different key", func(p *commonpb.Payload) {}, mustCodec(t, Key{ID: "k1", Secret: testKey(9)}), "authentication failed"},
		{"truncated", func(p *commonpb.Payload) { p.Data = p.Data[:10] }, c, "too short"},
		{"no key id", func(p *commonpb.Payload) { delete(p.Metadata, MetadataKeyID) }, c, `unknown key id ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := clone()
			tt.mutate(p)
			out, err := tt.codec.Decode([]*commonpb.Payload{p})
			if err == nil {
				t.Fatalf("Decode accepted a tampered payload: %v", out)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), marker) {
				t.Error("error holds plaintext")
			}
		})
	}
}

func TestDecodePassesPlainPayloadsThrough(t *testing.T) {
	c := mustCodec(t, Key{ID: "k1", Secret: testKey(1)})
	plain := []*commonpb.Payload{
		jsonPayload(t, map[string]any{"a": marker}),
		{Metadata: map[string][]byte{MetadataEncoding: []byte("binary/zlib")}, Data: []byte("x")},
		{},
	}
	enc, err := c.Encode([]*commonpb.Payload{jsonPayload(t, "mixed")})
	if err != nil {
		t.Fatal(err)
	}
	in := append(append([]*commonpb.Payload{}, plain...), enc[0])
	out, err := c.Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range plain {
		if out[i] != plain[i] {
			t.Errorf("plain payload %d was changed: %v", i, out[i])
		}
	}
	var s string
	if err := converter.GetDefaultDataConverter().FromPayload(out[3], &s); err != nil || s != "mixed" {
		t.Errorf("encrypted payload in a mixed batch: %q, %v", s, err)
	}
}

func TestNewRejectsBadKeyRings(t *testing.T) {
	tests := []struct {
		name string
		keys []Key
		want string
	}{
		{"none", nil, "no key"},
		{"short key", []Key{{ID: "k", Secret: testKey(1)[:16]}}, "16 bytes, want 32"},
		{"duplicate id", []Key{{ID: "k", Secret: testKey(1)}, {ID: "k", Secret: testKey(2)}}, "given twice"},
		{"empty id", []Key{{ID: "", Secret: testKey(1)}}, "empty key id"},
		{"bad id", []Key{{ID: "a b", Secret: testKey(1)}}, "only letters"},
		{"long id", []Key{{ID: strings.Repeat("a", 33), Secret: testKey(1)}}, "longer than 32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.keys)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestSourceLoad(t *testing.T) {
	k1 := base64.StdEncoding.EncodeToString(testKey(1))
	k2 := base64.RawURLEncoding.EncodeToString(testKey(2))
	short := base64.StdEncoding.EncodeToString(testKey(3)[:31])
	dir := t.TempDir()
	file := filepath.Join(dir, "keys")
	if err := os.WriteFile(file, []byte("# rotated 2026-01\nnew:"+k2+"\nold:"+k1+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		src     Source
		wantIDs string // "" with wantErr
		wantErr string
	}{
		{"not configured", Source{}, "<nil>", ""},
		{"inline", Source{Keys: "a:" + k1 + ", b:" + k2}, "[a b]", ""},
		{"file", Source{File: file}, "[new old]", ""},
		{"both", Source{Keys: "a:" + k1, File: file}, "", "only one of"},
		{"missing file", Source{File: filepath.Join(dir, "nope")}, "", "reading key file"},
		{"directory", Source{File: dir}, "", "regular file"},
		{"no colon", Source{Keys: k1}, "", "entry 1 is not id:base64key"},
		{"not base64", Source{Keys: "a:" + k1 + ",b:%%%" + k1[3:]}, "", `key "b" is not valid base64`},
		{"31 bytes", Source{Keys: "a:" + short}, "", `key "a" is 31 bytes`},
		{"only separators", Source{Keys: " , "}, "", "no key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.src.Load()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				for _, k := range []string{k1, k2, short, k1[3:]} {
					if strings.Contains(err.Error(), k) {
						t.Errorf("error %q holds key material", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := "<nil>"
			if c != nil {
				got = fmt.Sprint(c.KeyIDs())
			}
			if got != tt.wantIDs {
				t.Errorf("key ids %s, want %s", got, tt.wantIDs)
			}
		})
	}
}

func TestSourceFromEnvAndString(t *testing.T) {
	env := map[string]string{EnvKeys: " a:c2VjcmV0 ", EnvKeysFile: ""}
	s := SourceFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if s.Keys != "a:c2VjcmV0" || s.File != "" || !s.Configured() {
		t.Errorf("SourceFromEnv = %+v", s)
	}
	if str := s.String() + fmt.Sprintf("%v", Key{ID: "a", Secret: []byte("c2VjcmV0-bytes")}) + fmt.Sprintf("%#v", Key{ID: "a", Secret: []byte("c2VjcmV0-bytes")}); strings.Contains(str, "c2VjcmV0") {
		t.Errorf("String/GoString print key material: %s", str)
	}
	if (Source{}).Configured() {
		t.Error("empty source is configured")
	}
}
