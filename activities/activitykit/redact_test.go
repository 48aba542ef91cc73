package activitykit

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/secflow/secflow/interpreter/step"
)

// TestSecretValuesCoverEncodedForms: a secret echoed back URL-escaped or as
// a Basic Authorization value is redacted too.
func TestSecretValuesCoverEncodedForms(t *testing.T) {
	c := &step.Connector{Secrets: map[string]string{"user": "svc", "password": "p@ss/w rd+1", "token": "tok-abc"}}
	secrets := SecretValues(c)
	basic := base64.StdEncoding.EncodeToString([]byte("svc:p@ss/w rd+1"))
	tests := []string{
		"Authorization: Basic " + basic,
		"https://x/?password=p%40ss%2Fw+rd%2B1",
		"https://x/p@ss%2Fw%20rd+1/",
		"token tok-abc",
	}
	for _, in := range tests {
		got := Redact(in, secrets...)
		if !strings.Contains(got, Redacted) || strings.Contains(got, "tok-abc") || strings.Contains(got, basic) ||
			strings.Contains(got, "rd%2B1") || strings.Contains(got, "rd+1") {
			t.Errorf("Redact(%q) = %q", in, got)
		}
	}
}
