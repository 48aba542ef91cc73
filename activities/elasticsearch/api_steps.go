package elasticsearch

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// api is one row of the named-API table: the request contract of an
// Elasticsearch API as Kibana's generated step definitions describe it
// (methods, URL patterns, path/query/body parameters).
type api struct {
	typ        string
	summary    string
	methods    []string
	patterns   []string
	urlParams  []string
	bodyParams []string
	// docBody names the `with` key that becomes the whole body (index: document).
	docBody string
	// ndjson names the `with` key sent as NDJSON (bulk: operations).
	ndjson  string
	example string
}

// Common query parameters.
var (
	writeParams  = []string{"refresh", "routing", "timeout", "wait_for_active_shards", "require_alias", "pipeline"}
	searchParams = []string{"allow_no_indices", "expand_wildcards", "ignore_unavailable", "routing", "preference",
		"search_type", "request_cache", "scroll", "typed_keys", "rest_total_hits_as_int", "q", "df", "analyzer",
		"default_operator", "lenient", "allow_partial_search_results", "batched_reduce_size", "ccs_minimize_roundtrips",
		"max_concurrent_shard_requests", "pre_filter_shard_size", "_source_excludes", "_source_includes"}
	indexTarget = []string{"allow_no_indices", "expand_wildcards", "ignore_unavailable", "master_timeout", "timeout"}
)

// apis is the named-API table. Patterns are tried most-specific first.
var apis = []api{
	{typ: "elasticsearch.search", summary: "Search documents (_search); output is the search response.",
		methods: []string{"GET", "POST"}, patterns: []string{"/{index}/_search", "/_search"}, urlParams: searchParams,
		bodyParams: []string{"query", "size", "from", "sort", "aggs", "aggregations", "_source", "fields", "track_total_hits",
			"highlight", "post_filter", "search_after", "pit", "runtime_mappings", "knn", "collapse", "min_score",
			"terminate_after", "stored_fields", "docvalue_fields", "script_fields", "suggest", "rescore", "explain",
			"version", "seq_no_primary_term", "retriever", "rank", "track_scores", "indices_boost", "profile", "stats"},
		example: `{"took": 3, "timed_out": false, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
			"hits": {"total": {"value": 1, "relation": "eq"}, "max_score": 1.0,
			"hits": [{"_index": "logs", "_id": "1", "_score": 1.0, "_source": {"host": {"name": "web-1"}}}]}}`},
	{typ: "elasticsearch.count", summary: "Count documents matching a query (_count).",
		methods: []string{"POST", "GET"}, patterns: []string{"/{index}/_count", "/_count"}, urlParams: searchParams,
		bodyParams: []string{"query"},
		example:    `{"count": 42, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0}}`},
	{typ: "elasticsearch.get", summary: "Get a document by id.",
		methods: []string{"GET"}, patterns: []string{"/{index}/_doc/{id}"},
		urlParams: []string{"_source", "_source_excludes", "_source_includes", "preference", "realtime", "refresh", "routing", "stored_fields", "version", "version_type"},
		example:   `{"_index": "logs", "_id": "1", "_version": 1, "_seq_no": 0, "_primary_term": 1, "found": true, "_source": {"message": "hello"}}`},
	{typ: "elasticsearch.index", summary: "Index a document (document becomes the body).",
		methods: []string{"POST", "PUT"}, patterns: []string{"/{index}/_doc/{id}", "/{index}/_doc"}, docBody: "document",
		urlParams: append([]string{"op_type", "version", "version_type", "if_seq_no", "if_primary_term"}, writeParams...),
		example: `{"_index": "logs", "_id": "1", "_version": 1, "result": "created",
			"_shards": {"total": 2, "successful": 1, "failed": 0}, "_seq_no": 0, "_primary_term": 1}`},
	{typ: "elasticsearch.create", summary: "Create a document with an id; fails if it exists.",
		methods: []string{"PUT", "POST"}, patterns: []string{"/{index}/_create/{id}"}, docBody: "document",
		urlParams: append([]string{"version", "version_type"}, writeParams...),
		example: `{"_index": "logs", "_id": "1", "_version": 1, "result": "created",
			"_shards": {"total": 2, "successful": 1, "failed": 0}, "_seq_no": 0, "_primary_term": 1}`},
	{typ: "elasticsearch.update", summary: "Partially update a document (_update).",
		methods: []string{"POST"}, patterns: []string{"/{index}/_update/{id}"},
		urlParams:  append([]string{"retry_on_conflict", "if_seq_no", "if_primary_term", "lang", "_source_excludes", "_source_includes"}, writeParams...),
		bodyParams: []string{"doc", "upsert", "doc_as_upsert", "script", "scripted_upsert", "detect_noop", "_source"},
		example: `{"_index": "logs", "_id": "1", "_version": 2, "result": "updated",
			"_shards": {"total": 2, "successful": 1, "failed": 0}, "_seq_no": 1, "_primary_term": 1}`},
	{typ: "elasticsearch.delete", summary: "Delete a document by id.",
		methods: []string{"DELETE"}, patterns: []string{"/{index}/_doc/{id}"},
		urlParams: append([]string{"if_seq_no", "if_primary_term", "version", "version_type"}, writeParams...),
		example: `{"_index": "logs", "_id": "1", "_version": 2, "result": "deleted",
			"_shards": {"total": 2, "successful": 1, "failed": 0}, "_seq_no": 2, "_primary_term": 1}`},
	{typ: "elasticsearch.bulk", summary: "Bulk index/create/update/delete (operations sent as NDJSON).",
		methods: []string{"POST", "PUT"}, patterns: []string{"/{index}/_bulk", "/_bulk"}, ndjson: "operations",
		urlParams: append([]string{"_source", "_source_excludes", "_source_includes", "list_executed_pipelines"}, writeParams...),
		example: `{"took": 5, "errors": false, "items": [{"index": {"_index": "logs", "_id": "1", "_version": 1,
			"result": "created", "status": 201, "_seq_no": 0, "_primary_term": 1,
			"_shards": {"total": 2, "successful": 1, "failed": 0}}}]}`},
	{typ: "elasticsearch.esql.query", summary: "Run an ES|QL query (POST /_query).",
		methods: []string{"POST"}, patterns: []string{"/_query"},
		urlParams:  []string{"format", "delimiter", "drop_null_columns", "allow_partial_results"},
		bodyParams: []string{"query", "params", "columnar", "filter", "locale", "profile", "tables", "include_ccs_metadata"},
		example: `{"took": 4, "is_partial": false, "columns": [{"name": "host.name", "type": "keyword"}, {"name": "count", "type": "long"}],
			"values": [["web-1", 12]]}`},
	{typ: "elasticsearch.indices.create", summary: "Create an index.",
		methods: []string{"PUT"}, patterns: []string{"/{index}"},
		urlParams:  []string{"master_timeout", "timeout", "wait_for_active_shards"},
		bodyParams: []string{"aliases", "mappings", "settings"},
		example:    `{"acknowledged": true, "shards_acknowledged": true, "index": "logs"}`},
	{typ: "elasticsearch.indices.exists", summary: "Check whether an index exists (output true or false).",
		methods: []string{"HEAD"}, patterns: []string{"/{index}"},
		urlParams: []string{"allow_no_indices", "expand_wildcards", "flat_settings", "ignore_unavailable", "include_defaults", "local"},
		example:   `true`},
	{typ: "elasticsearch.indices.delete", summary: "Delete an index.",
		methods: []string{"DELETE"}, patterns: []string{"/{index}"}, urlParams: indexTarget,
		example: `{"acknowledged": true}`},
	{typ: "elasticsearch.indices.get", summary: "Get index information.",
		methods: []string{"GET"}, patterns: []string{"/{index}"},
		urlParams: []string{"allow_no_indices", "expand_wildcards", "flat_settings", "ignore_unavailable", "include_defaults", "local", "master_timeout", "features"},
		example:   `{"logs": {"aliases": {}, "mappings": {}, "settings": {"index": {"number_of_shards": "1"}}}}`},
	{typ: "elasticsearch.indices.refresh", summary: "Refresh an index.",
		methods: []string{"POST", "GET"}, patterns: []string{"/{index}/_refresh", "/_refresh"},
		urlParams: []string{"allow_no_indices", "expand_wildcards", "ignore_unavailable"},
		example:   `{"_shards": {"total": 2, "successful": 1, "failed": 0}}`},
	{typ: "elasticsearch.indices.put_mapping", summary: "Update index mappings.",
		methods: []string{"PUT", "POST"}, patterns: []string{"/{index}/_mapping"}, urlParams: append([]string{"write_index_only"}, indexTarget...),
		bodyParams: []string{"properties", "dynamic", "runtime", "_meta", "_source", "date_detection", "dynamic_templates", "numeric_detection", "_routing"},
		example:    `{"acknowledged": true}`},
	{typ: "elasticsearch.update_by_query", summary: "Update documents matching a query.",
		methods: []string{"POST"}, patterns: []string{"/{index}/_update_by_query"},
		urlParams:  append([]string{"conflicts", "max_docs", "refresh", "slices", "wait_for_completion", "scroll_size"}, searchParams...),
		bodyParams: []string{"query", "script", "max_docs", "slice", "conflicts"},
		example:    `{"took": 10, "timed_out": false, "total": 1, "updated": 1, "deleted": 0, "batches": 1, "version_conflicts": 0, "noops": 0, "failures": []}`},
	{typ: "elasticsearch.delete_by_query", summary: "Delete documents matching a query.",
		methods: []string{"POST"}, patterns: []string{"/{index}/_delete_by_query"},
		urlParams:  append([]string{"conflicts", "max_docs", "refresh", "slices", "wait_for_completion", "scroll_size"}, searchParams...),
		bodyParams: []string{"query", "max_docs", "slice"},
		example:    `{"took": 10, "timed_out": false, "total": 1, "deleted": 1, "batches": 1, "version_conflicts": 0, "noops": 0, "failures": []}`},
}

var paramRe = regexp.MustCompile(`\{(\w+)\}`)

// pathParams lists the {params} of a URL pattern.
func pathParams(pattern string) []string {
	var out []string
	for _, m := range paramRe.FindAllStringSubmatch(pattern, -1) {
		out = append(out, m[1])
	}
	return out
}

func init() {
	for i := range apis {
		a := &apis[i]
		step.Register(a.spec())
	}
}

// spec builds the step.Spec of a table row.
func (a *api) spec() *step.Spec {
	seen := map[string]bool{}
	var fields []step.Field
	add := func(f step.Field) {
		if !seen[f.Name] {
			seen[f.Name] = true
			fields = append(fields, f)
		}
	}
	for _, pat := range a.patterns {
		for _, p := range pathParams(pat) {
			add(step.Field{Name: p, Type: step.String, Required: allHave(a.patterns, p), Doc: "Path parameter {" + p + "}."})
		}
	}
	if a.docBody != "" {
		add(step.Field{Name: a.docBody, Type: step.Object, Required: true, Doc: "The document; sent as the whole request body."})
	}
	if a.ndjson != "" {
		add(step.Field{Name: a.ndjson, Type: step.List, Required: true,
			Doc: "Bulk lines. Plain documents are each prefixed with {\"index\":{}}; explicit action lines pass through."})
	}
	for _, p := range a.bodyParams {
		typ := step.Any
		if p == "query" && a.typ == "elasticsearch.esql.query" {
			typ = step.String
		}
		add(step.Field{Name: p, Type: typ, Required: p == "query" && a.typ == "elasticsearch.esql.query", Doc: "Body parameter."})
	}
	for _, p := range a.urlParams {
		add(step.Field{Name: p, Type: step.Any, Doc: "Query-string parameter (arrays are joined with ',')."})
	}
	add(step.Field{Name: "body", Type: step.Object, Doc: "Extra body fields, merged into the body."})
	add(step.Field{Name: "method", Type: step.String, Default: a.methods[0], Doc: "Overrides the HTTP method."})
	add(step.Field{Name: "request", Type: step.Object, Doc: "Raw form {method, path, body, headers}; when set, every other key is ignored."})
	return &step.Spec{
		Type:     a.typ,
		Kind:     step.KindActivity,
		Category: "elasticsearch",
		Status:   step.StatusCore,
		Summary:  a.summary,
		Doc: fmt.Sprintf("Calls `%s %s` on the default `.elasticsearch` connector (or `connector-id`). "+
			"Keys under `with` map to the request as Kibana's generated contracts do: path parameters fill the URL, "+
			"query-string parameters go to the URL, everything else goes to the body. The output is the raw response body; "+
			"an Elasticsearch error fails the step with `ResponseError` and the error's type and reason.",
			a.methods[0], strings.Join(a.patterns, " | ")),
		With:      fields,
		OpenWith:  true, // unknown keys go to the body, as in Kibana
		Output:    step.Output{Doc: "The raw Elasticsearch response body.", Example: a.example},
		Activity:  a.run,
		Timeout:   5 * time.Minute,
		Heartbeat: true,
		Source:    "activities/elasticsearch/api_steps.go",
	}
}

func contains(list []string, v string) bool {
	for _, e := range list {
		if e == v {
			return true
		}
	}
	return false
}

func allHave(patterns []string, p string) bool {
	for _, pat := range patterns {
		if !contains(pathParams(pat), p) {
			return false
		}
	}
	return true
}

// run is the activity of a named API step.
func (a *api) run(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	req, err := a.build(in.With)
	if err != nil {
		return nil, err
	}
	c, err := newClient(ctx, rt, in)
	if err != nil {
		return nil, err
	}
	return c.do(ctx, req)
}

// build maps `with` onto a request (§6.5, C37).
func (a *api) build(with map[string]any) (rawRequest, error) {
	if r, ok := with["request"].(map[string]any); ok {
		return rawFrom(r, with)
	}
	pattern, missing := a.pickPattern(with)
	if len(missing) > 0 {
		return rawRequest{}, step.Errorf("InputValidationError", "%s: missing required parameter(s): %s", a.typ, strings.Join(missing, ", "))
	}
	used := map[string]bool{"method": true, "request": true}
	path := paramRe.ReplaceAllStringFunc(pattern, func(m string) string {
		name := m[1 : len(m)-1]
		used[name] = true
		return pathEscape(with[name])
	})
	method := a.methods[0]
	if m, ok := with["method"].(string); ok && m != "" {
		method = strings.ToUpper(m)
	}
	q := url.Values{}
	body := map[string]any{}
	var rawBody []byte
	contentType := ""
	keys := make([]string, 0, len(with))
	for k := range with {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := with[k]
		switch {
		case used[k]:
		case k == a.docBody:
			enc, err := activitykit.EncodeJSON(v)
			if err != nil {
				return rawRequest{}, step.Errorf("InputValidationError", "%s: %s is not JSON: %v", a.typ, k, err)
			}
			rawBody = enc
		case k == a.ndjson:
			nd, err := ndjson(v)
			if err != nil {
				return rawRequest{}, step.Errorf("InputValidationError", "%s: %v", a.typ, err)
			}
			rawBody, contentType = nd, "application/x-ndjson"
		case contains(a.urlParams, k) && !contains(a.bodyParams, k):
			q.Set(k, queryValue(v))
		case k == "body":
			if m, ok := v.(map[string]any); ok {
				for bk, bv := range m {
					body[bk] = bv
				}
			}
		default:
			body[k] = v
		}
	}
	r := rawRequest{Method: method, Path: path, Query: q, ContentType: contentType}
	switch {
	case rawBody != nil:
		r.Body = rawBody
	case len(body) > 0:
		enc, err := activitykit.EncodeJSON(body)
		if err != nil {
			return rawRequest{}, step.Errorf("InputValidationError", "%s: body is not JSON: %v", a.typ, err)
		}
		r.Body = enc
	}
	return r, nil
}

// pickPattern chooses the URL pattern whose {params} are all present,
// preferring the one with most params; without one it returns the best
// partial match and the params it lacks.
func (a *api) pickPattern(with map[string]any) (string, []string) {
	best, bestN := "", -1
	for _, p := range a.patterns {
		params := pathParams(p)
		ok := true
		for _, name := range params {
			if !present(with[name]) {
				ok = false
				break
			}
		}
		if ok && len(params) > bestN {
			best, bestN = p, len(params)
		}
	}
	if best != "" {
		return best, nil
	}
	var missing []string
	for _, name := range pathParams(a.patterns[0]) {
		if !present(with[name]) {
			missing = append(missing, name)
		}
	}
	return a.patterns[0], missing
}

func present(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	}
	return true
}

// pathEscape renders a path parameter (arrays joined with ',').
func pathEscape(v any) string {
	if list, ok := v.([]any); ok {
		parts := make([]string, len(list))
		for i, e := range list {
			parts[i] = url.PathEscape(activitykit.Stringify(e))
		}
		return strings.Join(parts, ",")
	}
	return url.PathEscape(activitykit.Stringify(v))
}

// queryValue renders a query-string parameter (arrays joined with ',').
func queryValue(v any) string {
	if list, ok := v.([]any); ok {
		parts := make([]string, len(list))
		for i, e := range list {
			parts[i] = activitykit.Stringify(e)
		}
		return strings.Join(parts, ",")
	}
	return activitykit.Stringify(v)
}

// bulkActions are the action names of a bulk action line.
var bulkActions = map[string]bool{"index": true, "create": true, "update": true, "delete": true}

// isActionLine reports whether v is a bulk action line: an object with one
// key, a bulk action, whose value is an object.
func isActionLine(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false
	}
	for k, val := range m {
		_, isObj := val.(map[string]any)
		return bulkActions[k] && isObj
	}
	return false
}

// ndjson renders bulk operations; when every element is a plain document
// each is prefixed with {"index":{}}.
func ndjson(v any) ([]byte, error) {
	var ops []any
	switch x := v.(type) {
	case []any:
		ops = x
	case string:
		s := strings.TrimRight(x, "\n")
		return []byte(s + "\n"), nil
	default:
		return nil, fmt.Errorf("operations must be a list")
	}
	wrap := true
	for _, op := range ops {
		if isActionLine(op) {
			wrap = false
			break
		}
	}
	var buf bytes.Buffer
	for _, op := range ops {
		if wrap {
			buf.WriteString(`{"index":{}}` + "\n")
		}
		enc, err := activitykit.EncodeJSON(op)
		if err != nil {
			return nil, fmt.Errorf("operations: %w", err)
		}
		buf.Write(enc)
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}

// methodOK reports whether m is an HTTP method Elasticsearch accepts.
func methodOK(m string) bool {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodHead, http.MethodPatch:
		return true
	}
	return false
}
