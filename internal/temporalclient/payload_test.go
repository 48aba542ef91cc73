package temporalclient

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secflow/secflow/internal/payloadcodec"
)

func TestPayloadKeysFromFlagsAndEnv(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{5}, 32))
	file := filepath.Join(t.TempDir(), "ring")
	if err := os.WriteFile(file, []byte("f1:"+key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		wantDC  bool
		wantErr string
	}{
		{name: "none", wantDC: false},
		{name: "inline env", env: map[string]string{payloadcodec.EnvKeys: "k1:" + key}, wantDC: true},
		{name: "file env", env: map[string]string{payloadcodec.EnvKeysFile: file}, wantDC: true},
		{name: "file flag", args: []string{"--payload-keys-file", file}, wantDC: true},
		{name: "bad ring", env: map[string]string{payloadcodec.EnvKeys: "k1:" + key[:12]}, wantErr: `key "k1"`},
		{name: "both", env: map[string]string{payloadcodec.EnvKeys: "k1:" + key}, args: []string{"--payload-keys-file", file}, wantErr: "only one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := parse(t, tt.env, tt.args...)
			dc, err := o.DataConverter()
			co, coErr := o.ClientOptions(nil)
			if tt.wantErr != "" {
				if err == nil || coErr == nil || !strings.Contains(coErr.Error(), tt.wantErr) {
					t.Fatalf("DataConverter err %v, ClientOptions err %v, want %q", err, coErr, tt.wantErr)
				}
				if strings.Contains(coErr.Error(), key[:12]) {
					t.Errorf("error holds key material: %v", coErr)
				}
				return
			}
			if err != nil || coErr != nil {
				t.Fatal(err, coErr)
			}
			if (dc != nil) != tt.wantDC || (co.DataConverter != nil) != tt.wantDC || (co.FailureConverter != nil) != tt.wantDC {
				t.Fatalf("data converter %v, client options DC %v FC %v, want set=%v", dc, co.DataConverter, co.FailureConverter, tt.wantDC)
			}
			if !tt.wantDC {
				return
			}
			p, err := co.DataConverter.ToPayload("alert data")
			if err != nil {
				t.Fatal(err)
			}
			if string(p.Metadata[payloadcodec.MetadataEncoding]) != payloadcodec.EncodingEncrypted {
				t.Errorf("client data converter does not encrypt: %v", p.Metadata)
			}
			if s := o.String(); !strings.Contains(s, "payload-encryption=on") || strings.Contains(s, key) {
				t.Errorf("String() = %q", s)
			}
		})
	}
}
