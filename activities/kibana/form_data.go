package kibana

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"sort"
	"strings"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// multipartBody encodes kibana.request's form_data as a multipart/form-data
// body and returns it with its Content-Type (boundary included). Keys go in
// sorted order; a {content, filename?, content_type?} object is a file part,
// a list repeats the field, any other value is a text field (objects as
// JSON, numbers as in JavaScript).
func multipartBody(fields map[string]any) ([]byte, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		values, ok := fields[k].([]any)
		if !ok {
			values = []any{fields[k]}
		}
		for _, v := range values {
			if err := writePart(w, k, v); err != nil {
				return nil, "", step.Errorf("InputValidationError", "kibana.request: form_data.%s: %v", k, err)
			}
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", fmt.Errorf("closing multipart body: %w", err)
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// writePart writes one form field or file.
func writePart(w *multipart.Writer, name string, v any) error {
	file, ok := v.(map[string]any)
	if !ok || file["content"] == nil {
		text := activitykit.Stringify(v)
		if ok {
			enc, err := activitykit.EncodeJSON(v)
			if err != nil {
				return err
			}
			text = string(enc)
		}
		return w.WriteField(name, text)
	}
	filename := activitykit.Stringify(file["filename"])
	if filename == "" {
		filename = name
	}
	ct := activitykit.Stringify(file["content_type"])
	if ct == "" {
		ct = "application/octet-stream"
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, escapeQuotes(name), escapeQuotes(filename)))
	h.Set("Content-Type", ct)
	part, err := w.CreatePart(h)
	if err != nil {
		return err
	}
	content, isString := file["content"].(string)
	if !isString {
		enc, err := activitykit.EncodeJSON(file["content"])
		if err != nil {
			return err
		}
		content = string(enc)
	}
	_, err = part.Write([]byte(content))
	return err
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"")

func escapeQuotes(s string) string { return quoteEscaper.Replace(s) }
