package kibana

import (
	"io"
	"mime"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/secflow/secflow/interpreter/step"
)

func TestRequestFormData(t *testing.T) {
	sb, fake, rt := setup(t)
	ndjson := `{"type":"dashboard","id":"d1","attributes":{}}` + "\n" + `{"type":"index-pattern","id":"p1","attributes":{}}` + "\n"
	out, err := run(t, rt, step.Input{Type: "kibana.request", With: map[string]any{
		"method": "POST", "path": "/api/saved_objects/_import", "query": map[string]any{"overwrite": true},
		"form_data": map[string]any{
			"file":  map[string]any{"content": ndjson, "filename": "objects.ndjson", "content_type": "application/ndjson"},
			"note":  "from secflow",
			"count": 2.0,
			"tags":  []any{"a", "b"},
		}}})
	if err != nil {
		t.Fatal(err)
	}
	m := out.(map[string]any)
	if m["success"] != true || m["successCount"] != 2.0 {
		t.Fatalf("output = %v", m)
	}
	imp := fake.Imports()
	if len(imp) != 1 || !imp[0].Overwrite || imp[0].Objects != 2 || imp[0].Fields["note"][0] != "from secflow" ||
		imp[0].Fields["count"][0] != "2" || strings.Join(imp[0].Fields["tags"], ",") != "a,b" {
		t.Fatalf("imports = %+v", imp)
	}
	req := lastRequest(sb)
	mt, params, err := mime.ParseMediaType(req.Header["Content-Type"])
	if err != nil || mt != "multipart/form-data" || req.Header["Kbn-Xsrf"] != "true" {
		t.Fatalf("headers = %v (%v)", req.Header, err)
	}
	r := multipart.NewReader(strings.NewReader(req.Body), params["boundary"])
	var names []string
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, p.FormName())
		if p.FormName() == "file" {
			b, _ := io.ReadAll(p)
			if p.FileName() != "objects.ndjson" || p.Header.Get("Content-Type") != "application/ndjson" || string(b) != ndjson {
				t.Fatalf("file part %q %q %q", p.FileName(), p.Header.Get("Content-Type"), b)
			}
		}
	}
	if strings.Join(names, ",") != "count,file,note,tags,tags" {
		t.Fatalf("parts = %v", names)
	}
}

func TestRequestFormDataErrors(t *testing.T) {
	_, _, rt := setup(t)
	cases := []struct {
		name string
		with map[string]any
		want string
	}{
		{"body and form", map[string]any{"method": "POST", "path": "/api/saved_objects/_import", "body": map[string]any{},
			"form_data": map[string]any{"a": "b"}}, "InputValidationError"},
		{"not an object", map[string]any{"method": "POST", "path": "/api/saved_objects/_import", "form_data": "x"}, "InputValidationError"},
		{"no file part", map[string]any{"method": "POST", "path": "/api/saved_objects/_import", "form_data": map[string]any{"a": "b"}}, "HTTP 400"},
	}
	for _, tc := range cases {
		_, err := run(t, rt, step.Input{Type: "kibana.request", With: tc.with})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.want)
		}
	}
}
