package sandbox

import (
	"bytes"
	"io"
	"net/http"
	"strings"
)

// readAndRestore reads r.Body fully and puts an identical reader back.
func readAndRestore(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return b, nil
}

// maskSecret keeps the scheme of an auth header and hides the credential.
func maskSecret(v string) string {
	if i := strings.IndexByte(v, ' '); i > 0 {
		return v[:i] + " ****"
	}
	return "****"
}
