package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secflow/secflow/internal/blobstore"
	"github.com/secflow/secflow/internal/payloadcodec"
	"github.com/secflow/secflow/internal/temporalclient"
)

func TestOpenBlobStoreSealsWithTheKeyRing(t *testing.T) {
	secret := bytes.Repeat([]byte{3}, payloadcodec.KeySize)
	b64 := base64.StdEncoding.EncodeToString(secret)
	keyFile := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(keyFile, []byte("# ring\nfile-1:"+b64+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		topts   *temporalclient.Options
		sealed  bool
		wantErr string
	}{
		{"no options", nil, false, ""},
		{"no key ring", &temporalclient.Options{}, false, ""},
		{"inline keys", &temporalclient.Options{Payload: payloadcodec.Source{Keys: "env-1:" + b64}}, true, ""},
		{"key file", &temporalclient.Options{Payload: payloadcodec.Source{File: keyFile}}, true, ""},
		{"bad key", &temporalclient.Options{Payload: payloadcodec.Source{Keys: "short:" + b64[:20]}}, false, "blob store: payload encryption"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "blobs")
			blobs, err := openBlobStore(dir, tc.topts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), b64[:20]) {
					t.Fatalf("openBlobStore = %v, want an error %q without the key", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			data := []byte(`{"big":"output-marker"}`)
			ref, err := blobs.Put(context.Background(), "k", data)
			if err != nil || ref != blobstore.RefOf(data) {
				t.Fatalf("Put = %s, %v", ref, err)
			}
			stored, err := os.ReadFile(filepath.Join(dir, "sha256", ref[7:9], ref[7:]))
			if err != nil {
				t.Fatal(err)
			}
			if blobstore.IsSealed(stored) != tc.sealed || tc.sealed == bytes.Contains(stored, []byte("output-marker")) {
				t.Fatalf("file sealed = %v, want %v (%.24q)", blobstore.IsSealed(stored), tc.sealed, stored)
			}
			// A store opened without the ring (`secflow blobs`, a
			// misconfigured worker) cannot read a sealed file.
			plain, err := openBlobStore(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := plain.Get(context.Background(), ref); errors.Is(err, blobstore.ErrSealed) != tc.sealed {
				t.Fatalf("Get without the ring = %v", err)
			}
		})
	}
}
