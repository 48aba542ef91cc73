package payloadcodec

import (
	"bytes"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
)

func TestBlobSealOpen(t *testing.T) {
	old := Key{ID: "old", Secret: testKey(1)}
	cur := Key{ID: "cur", Secret: testKey(2)}
	before, after := mustCodec(t, old), mustCodec(t, cur, old)
	plain := []byte(`{"alert":"blob-secret-marker"}`)

	id, sealed, err := before.SealBlob(plain)
	if err != nil || id != "old" || bytes.Contains(sealed, []byte("blob-secret-marker")) {
		t.Fatalf("SealBlob = %q, %d bytes, %v", id, len(sealed), err)
	}
	if got, err := after.OpenBlob(id, sealed); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("OpenBlob after rotation = %q, %v", got, err)
	}
	if id, _, _ := after.SealBlob(plain); id != "cur" {
		t.Fatalf("rotated codec seals with %q, want cur", id)
	}

	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1
	// An encrypted Temporal payload's data is not a blob ciphertext (the
	// additional data differ), even under the same key.
	enc, err := before.Encode([]*commonpb.Payload{jsonPayload(t, "x")})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, id string
		sealed   []byte
		want     string
	}{
		{"tampered", "old", flipped, "authentication failed"},
		{"other key id", "cur", sealed, "authentication failed"},
		{"unknown key id", "gone", sealed, `unknown key id "gone"`},
		{"too short", "old", sealed[:8], "too short"},
		{"temporal payload", "old", enc[0].GetData(), "authentication failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := after.OpenBlob(tc.id, tc.sealed)
			if err == nil || got != nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("OpenBlob = %q, %v; want an error saying %q", got, err, tc.want)
			}
			for _, k := range []Key{old, cur} {
				if strings.Contains(err.Error(), string(k.Secret)) {
					t.Fatalf("error shows key bytes: %v", err)
				}
			}
		})
	}
}
