// Package kibana implements the kibana.* step types (§6.6): the raw
// kibana.request and the detection-engine API steps kibana.SetAlertsStatus
// and kibana.SetAlertTags, over the default .kibana connector.
package kibana

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// Field names of kibana.request.
const (
	fMethod        = "method"
	fPath          = "path"
	fBody          = "body"
	fQuery         = "query"
	fHeaders       = "headers"
	fDebug         = "debug"
	fUseServerInfo = "use_server_info"
	fUseLocalhost  = "use_localhost"
	fFetcher       = "fetcher"
	fFormData      = "form_data"
)

var requestSpec = &step.Spec{
	Type:     "kibana.request",
	Kind:     step.KindActivity,
	Category: "kibana",
	Status:   step.StatusCore,
	Summary:  "Call any Kibana HTTP API; output is the parsed response body.",
	Doc: "Sends `method` `path` to the default `.kibana` connector with `query`, `headers` and `body`. " +
		"The path is used as written (add `/s/<space>` yourself for another space). Kibana's required headers " +
		"(`kbn-xsrf`, `x-elastic-internal-origin`) and the connector's credentials are always sent and cannot be " +
		"overridden. The output is the parsed body (JSON ⇒ object, text ⇒ string, 204/304 ⇒ `{}`); with `debug: true` " +
		"a `_debug: {method, fullUrl}` object is merged in. A non-2xx response fails with `HTTP <status>: <body>`. " +
		"`form_data` sends a `multipart/form-data` body instead of `body` (see the field).",
	With: []step.Field{
		{Name: fMethod, Type: step.String, Default: "GET", Enum: []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}, Doc: "HTTP method."},
		{Name: fPath, Type: step.String, Required: true, Doc: "API path, e.g. /api/cases/_find.", Example: "/api/workflows/abc/run"},
		{Name: fBody, Type: step.Any, Doc: "Request body (JSON)."},
		{Name: fQuery, Type: step.Object, Doc: "Query-string parameters."},
		{Name: fHeaders, Type: step.Object, Doc: "Extra headers."},
		{Name: fFormData, Type: step.Object, Doc: "Multipart form fields, sent as `multipart/form-data` instead of `body`: " +
			"a file is `{content, filename, content_type}` (content type default `application/octet-stream`), any other " +
			"value is a text field (a list repeats the field; objects are sent as JSON). Fields go in key order.",
			Example: map[string]any{"file": map[string]any{"content": "{{ steps.export.output }}", "filename": "rules.ndjson", "content_type": "application/ndjson"}}},
		{Name: fDebug, Type: step.Bool, Default: false, Doc: "Merge `_debug: {method, fullUrl}` into the output."},
		{Name: fUseServerInfo, Type: step.Bool, Doc: "Accepted for compatibility; secflow always uses the connector URL."},
		{Name: fUseLocalhost, Type: step.Bool, Doc: "Accepted for compatibility; secflow always uses the connector URL."},
		{Name: fFetcher, Type: step.Object, Doc: "Accepted for compatibility (max_content_length is honoured)."},
	},
	Output: step.Output{Doc: "The parsed response body.", Example: `{"id": "abc", "status": "ok"}`},
	Examples: []step.Example{{Title: "Run a child workflow", YAML: `- name: run_child
  type: kibana.request
  with:
    method: POST
    path: /api/workflows/{{ consts.child_id }}/run
    body: { inputs: {} }`}, {Title: "Import saved objects (multipart)", YAML: `- name: import_objects
  type: kibana.request
  with:
    method: POST
    path: /api/saved_objects/_import
    query: { overwrite: true }
    form_data:
      file:
        content: "{{ inputs.ndjson }}"
        filename: objects.ndjson
        content_type: application/ndjson`}},
	Activity:  runRequest,
	Timeout:   5 * time.Minute,
	Heartbeat: true,
	Source:    "activities/kibana/request.go",
}

func init() { step.Register(requestSpec) }

func runRequest(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	path := in.String(fPath)
	if path == "" {
		return nil, step.Errorf("InputValidationError", "kibana.request: with.path is required")
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	method := strings.ToUpper(in.String(fMethod))
	if method == "" {
		method = http.MethodGet
	}
	kb, err := activitykit.KibanaFor(ctx, rt, "")
	if err != nil {
		return nil, err
	}
	headers := map[string]string{}
	for k, v := range in.Map(fHeaders) {
		headers[k] = activitykit.Stringify(v)
	}
	var maxBytes int64
	if n, ok := activitykit.Int(in.Map(fFetcher)["max_content_length"]); ok && n > 0 {
		maxBytes = n
	}
	var query url.Values
	if q := in.Map(fQuery); len(q) > 0 {
		query = activitykit.Query(q)
	}
	body := in.With[fBody]
	if form, ok := in.With[fFormData]; ok && form != nil {
		if body != nil {
			return nil, step.Errorf("InputValidationError", "kibana.request: give with.body or with.form_data, not both")
		}
		fields, ok := form.(map[string]any)
		if !ok {
			return nil, step.Errorf("InputValidationError", "kibana.request: with.form_data must be an object")
		}
		b, contentType, err := multipartBody(fields)
		if err != nil {
			return nil, err
		}
		body = b
		headers["Content-Type"] = contentType
	}
	out, err := kb.JSON(ctx, activitykit.KibanaRequest{Method: method, Path: path, Query: query, Header: headers,
		Body: body, MaxBytes: maxBytes})
	if err != nil {
		return nil, err
	}
	if debug, _ := activitykit.Bool(in.With[fDebug]); debug {
		full := kb.BaseURL() + path
		if len(query) > 0 {
			full += "?" + query.Encode()
		}
		if m, ok := out.(map[string]any); ok {
			m["_debug"] = map[string]any{"method": method, "fullUrl": full}
		}
	}
	return out, nil
}
