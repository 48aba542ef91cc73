package sandbox

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

func init() { register("elasticsearch", func() Service { return NewElasticsearch() }) }

// Elasticsearch is an in-memory fake of the Elasticsearch REST API subset
// secflow uses: index create/exists/delete, document index/get/update,
// _bulk, _search (match_all, term(s), match, ids, exists, range, bool),
// _count and ES|QL _query (FROM, WHERE field == value, KEEP, LIMIT). Every
// response carries X-Elastic-Product: Elasticsearch, as the Go client's
// product check requires; requests without the sandbox API key get the 401
// security_exception a secured cluster returns.
type Elasticsearch struct {
	Faults
	mu      sync.Mutex
	indices map[string]*esIndex
	seq     int
	// inference holds the inference endpoints (PUT /_inference/...).
	inference []InferenceEndpoint
}

type esIndex struct {
	name    string
	mapping map[string]any
	order   []string
	docs    map[string]*esDoc
	nextID  int
}

type esDoc struct {
	id      string
	version int
	seqNo   int
	source  map[string]any
}

// NewElasticsearch returns an empty fake cluster.
func NewElasticsearch() *Elasticsearch {
	return &Elasticsearch{indices: map[string]*esIndex{}}
}

// Name implements Service.
func (*Elasticsearch) Name() string { return "elasticsearch" }

// Handler implements Service.
func (e *Elasticsearch) Handler() http.Handler {
	return e.Faults.Wrap(http.HandlerFunc(e.serve), esDecorate, func(status int) string {
		return esErrorBody(status, "sandbox_injected_fault", fmt.Sprintf("injected fault %d", status))
	})
}

// Seed indexes documents (each with optional "_id") into index, creating it.
func (e *Elasticsearch) Seed(index string, docs ...map[string]any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ix := e.index(index, true)
	for _, d := range docs {
		src := map[string]any{}
		id := ""
		for k, v := range d {
			if k == "_id" {
				id = fmt.Sprint(v)
				continue
			}
			src[k] = v
		}
		e.put(ix, id, src)
	}
}

// Docs returns a copy of the sources stored in index, in insertion order.
func (e *Elasticsearch) Docs(index string) []map[string]any {
	e.mu.Lock()
	defer e.mu.Unlock()
	ix := e.indices[index]
	if ix == nil {
		return nil
	}
	out := make([]map[string]any, 0, len(ix.order))
	for _, id := range ix.order {
		out = append(out, cloneJSON(ix.docs[id].source).(map[string]any))
	}
	return out
}

// Indices returns the names of existing indices, sorted.
func (e *Elasticsearch) Indices() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]string, 0, len(e.indices))
	for n := range e.indices {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// apiKeyAuth reports whether an Authorization value is "ApiKey <key>"
// (the scheme is case-insensitive, as in Elasticsearch and Kibana).
func apiKeyAuth(auth, key string) bool {
	scheme, cred, ok := strings.Cut(auth, " ")
	return ok && strings.EqualFold(scheme, "ApiKey") && strings.TrimSpace(cred) == key
}

func esDecorate(h http.Header) { h.Set("X-Elastic-Product", "Elasticsearch") }

func esErrorBody(status int, typ, reason string) string {
	b, _ := json.Marshal(map[string]any{
		"error": map[string]any{
			"root_cause": []any{map[string]any{"type": typ, "reason": reason}},
			"type":       typ, "reason": reason,
		},
		"status": status,
	})
	return string(b)
}

func esError(w http.ResponseWriter, status int, typ, reason string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(esErrorBody(status, typ, reason)))
}

func (e *Elasticsearch) serve(w http.ResponseWriter, r *http.Request) {
	esDecorate(w.Header())
	auth := r.Header.Get("Authorization")
	if !apiKeyAuth(auth, ElasticsearchAPIKey) {
		w.Header().Set("WWW-Authenticate", `Basic realm="security" charset="UTF-8", ApiKey`)
		reason := "missing authentication credentials for REST request [" + r.URL.Path + "]"
		if auth != "" {
			reason = "unable to authenticate with provided credentials and anonymous access is not allowed for this request"
		}
		esError(w, http.StatusUnauthorized, "security_exception", reason)
		return
	}
	var body []byte
	if r.Body != nil {
		body, _ = readAll(r)
	}
	parts := splitPath(r.URL.Path)
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case len(parts) == 0 && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		writeJSON(w, 200, map[string]any{"name": "sandbox", "cluster_name": "secflow-sandbox",
			"version": map[string]any{"number": "8.19.0", "build_flavor": "default"}, "tagline": "You Know, for Search"})
	case len(parts) >= 2 && parts[0] == "_inference":
		e.inferenceAPI(w, r.Method, parts[1:], body)
	case len(parts) == 1 && parts[0] == "_query" && r.Method == http.MethodPost:
		e.esql(w, r, body)
	case len(parts) == 1 && parts[0] == "_bulk":
		e.bulk(w, "", body)
	case len(parts) == 1 && (parts[0] == "_search" || parts[0] == "_count"):
		e.search(w, r, "*", body, parts[0] == "_count")
	case len(parts) == 1 && !strings.HasPrefix(parts[0], "_"):
		e.indexOp(w, r, parts[0], body)
	case len(parts) == 2 && (parts[1] == "_search" || parts[1] == "_count"):
		e.search(w, r, parts[0], body, parts[1] == "_count")
	case len(parts) == 2 && parts[1] == "_bulk":
		e.bulk(w, parts[0], body)
	case len(parts) == 2 && parts[1] == "_refresh":
		writeJSON(w, 200, map[string]any{"_shards": map[string]any{"total": 1, "successful": 1, "failed": 0}})
	case len(parts) == 2 && parts[1] == "_mapping" && r.Method == http.MethodGet:
		ix := e.indices[parts[0]]
		if ix == nil {
			esError(w, 404, "index_not_found_exception", "no such index ["+parts[0]+"]")
			return
		}
		writeJSON(w, 200, map[string]any{ix.name: map[string]any{"mappings": ix.mapping}})
	case len(parts) >= 2 && parts[1] == "_doc" && (r.Method == http.MethodPost || r.Method == http.MethodPut):
		id := ""
		if len(parts) == 3 {
			id = parts[2]
		}
		e.indexDoc(w, parts[0], id, body, false)
	case len(parts) == 3 && parts[1] == "_create" && (r.Method == http.MethodPost || r.Method == http.MethodPut):
		e.indexDoc(w, parts[0], parts[2], body, true)
	case len(parts) == 3 && parts[1] == "_doc" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		e.getDoc(w, r, parts[0], parts[2])
	case len(parts) == 3 && parts[1] == "_doc" && r.Method == http.MethodDelete:
		e.deleteDoc(w, parts[0], parts[2])
	case len(parts) == 3 && parts[1] == "_update" && r.Method == http.MethodPost:
		e.update(w, parts[0], parts[2], body)
	default:
		esError(w, http.StatusBadRequest, "illegal_argument_exception",
			fmt.Sprintf("no handler found for uri [%s] and method [%s]", r.URL.Path, r.Method))
	}
}

func splitPath(p string) []string {
	var out []string
	for _, s := range strings.Split(strings.Trim(p, "/"), "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// index returns the named index, creating it when create is set.
func (e *Elasticsearch) index(name string, create bool) *esIndex {
	ix := e.indices[name]
	if ix == nil && create {
		ix = &esIndex{name: name, docs: map[string]*esDoc{}, mapping: map[string]any{}}
		e.indices[name] = ix
	}
	return ix
}

// put stores src under id (a generated id when empty) and reports whether
// the document was created.
func (e *Elasticsearch) put(ix *esIndex, id string, src map[string]any) (*esDoc, bool) {
	if id == "" {
		ix.nextID++
		id = fmt.Sprintf("sbx%06d%s", ix.nextID, strings.ReplaceAll(ix.name, "-", ""))
	}
	e.seq++
	if d, ok := ix.docs[id]; ok {
		d.version++
		d.seqNo = e.seq
		d.source = src
		return d, false
	}
	d := &esDoc{id: id, version: 1, seqNo: e.seq, source: src}
	ix.docs[id] = d
	ix.order = append(ix.order, id)
	return d, true
}

func writeResult(ix *esIndex, d *esDoc, result string) map[string]any {
	return map[string]any{"_index": ix.name, "_id": d.id, "_version": d.version, "result": result,
		"_shards": map[string]any{"total": 2, "successful": 1, "failed": 0}, "_seq_no": d.seqNo, "_primary_term": 1}
}

func (e *Elasticsearch) indexOp(w http.ResponseWriter, r *http.Request, name string, body []byte) {
	switch r.Method {
	case http.MethodPut:
		if e.indices[name] != nil {
			esError(w, 400, "resource_already_exists_exception", fmt.Sprintf("index [%s/sandbox] already exists", name))
			return
		}
		ix := e.index(name, true)
		var req map[string]any
		if len(bytes.TrimSpace(body)) > 0 {
			if err := json.Unmarshal(body, &req); err != nil {
				esError(w, 400, "parse_exception", "request body is required to be a JSON object")
				return
			}
			if m, ok := req["mappings"].(map[string]any); ok {
				ix.mapping = m
			}
		}
		writeJSON(w, 200, map[string]any{"acknowledged": true, "shards_acknowledged": true, "index": name})
	case http.MethodHead:
		if len(e.match(name)) == 0 {
			w.WriteHeader(404)
			return
		}
		w.WriteHeader(200)
	case http.MethodDelete:
		if e.indices[name] == nil {
			esError(w, 404, "index_not_found_exception", "no such index ["+name+"]")
			return
		}
		delete(e.indices, name)
		writeJSON(w, 200, map[string]any{"acknowledged": true})
	case http.MethodGet:
		ix := e.indices[name]
		if ix == nil {
			esError(w, 404, "index_not_found_exception", "no such index ["+name+"]")
			return
		}
		writeJSON(w, 200, map[string]any{name: map[string]any{"aliases": map[string]any{}, "mappings": ix.mapping,
			"settings": map[string]any{"index": map[string]any{"number_of_shards": "1", "number_of_replicas": "1"}}}})
	default:
		esError(w, 405, "method_not_allowed", fmt.Sprintf("Incorrect HTTP method for uri [/%s] and method [%s]", name, r.Method))
	}
}

func (e *Elasticsearch) indexDoc(w http.ResponseWriter, index, id string, body []byte, createOnly bool) {
	var src map[string]any
	if err := json.Unmarshal(body, &src); err != nil || src == nil {
		esError(w, 400, "mapper_parsing_exception", "failed to parse")
		return
	}
	ix := e.index(index, true)
	if createOnly {
		if _, ok := ix.docs[id]; ok {
			esError(w, 409, "version_conflict_engine_exception", fmt.Sprintf("[%s]: version conflict, document already exists (current version [%d])", id, ix.docs[id].version))
			return
		}
	}
	d, created := e.put(ix, id, src)
	if created {
		writeJSON(w, 201, writeResult(ix, d, "created"))
		return
	}
	writeJSON(w, 200, writeResult(ix, d, "updated"))
}

func (e *Elasticsearch) getDoc(w http.ResponseWriter, r *http.Request, index, id string) {
	ix := e.indices[index]
	if ix == nil {
		esError(w, 404, "index_not_found_exception", "no such index ["+index+"]")
		return
	}
	d := ix.docs[id]
	if d == nil {
		if r.Method == http.MethodHead {
			w.WriteHeader(404)
			return
		}
		writeJSON(w, 404, map[string]any{"_index": index, "_id": id, "found": false})
		return
	}
	writeJSON(w, 200, map[string]any{"_index": index, "_id": id, "_version": d.version, "_seq_no": d.seqNo,
		"_primary_term": 1, "found": true, "_source": d.source})
}

func (e *Elasticsearch) deleteDoc(w http.ResponseWriter, index, id string) {
	ix := e.indices[index]
	if ix == nil || ix.docs[id] == nil {
		writeJSON(w, 404, map[string]any{"_index": index, "_id": id, "result": "not_found"})
		return
	}
	d := ix.docs[id]
	delete(ix.docs, id)
	for i, o := range ix.order {
		if o == id {
			ix.order = append(ix.order[:i], ix.order[i+1:]...)
			break
		}
	}
	d.version++
	writeJSON(w, 200, writeResult(ix, d, "deleted"))
}

func (e *Elasticsearch) update(w http.ResponseWriter, index, id string, body []byte) {
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		esError(w, 400, "x_content_parse_exception", "request body is not valid JSON")
		return
	}
	doc, _ := req["doc"].(map[string]any)
	upsert, _ := req["upsert"].(map[string]any)
	asUpsert, _ := req["doc_as_upsert"].(bool)
	if doc == nil && upsert == nil {
		esError(w, 400, "action_request_validation_exception", "Validation Failed: 1: script or doc is missing;")
		return
	}
	ix := e.index(index, false)
	var cur *esDoc
	if ix != nil {
		cur = ix.docs[id]
	}
	if cur == nil {
		switch {
		case upsert != nil:
			d, _ := e.put(e.index(index, true), id, upsert)
			writeJSON(w, 201, writeResult(e.indices[index], d, "created"))
		case asUpsert:
			d, _ := e.put(e.index(index, true), id, doc)
			writeJSON(w, 201, writeResult(e.indices[index], d, "created"))
		default:
			esError(w, 404, "document_missing_exception", fmt.Sprintf("[%s]: document missing", id))
		}
		return
	}
	merged := cloneJSON(cur.source).(map[string]any)
	deepMerge(merged, doc)
	if jsonEqual(merged, cur.source) {
		writeJSON(w, 200, writeResult(ix, cur, "noop"))
		return
	}
	d, _ := e.put(ix, id, merged)
	writeJSON(w, 200, writeResult(ix, d, "updated"))
}

func (e *Elasticsearch) bulk(w http.ResponseWriter, defIndex string, body []byte) {
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var lines [][]byte
	for sc.Scan() {
		if l := bytes.TrimSpace(sc.Bytes()); len(l) > 0 {
			lines = append(lines, append([]byte(nil), l...))
		}
	}
	start := time.Now()
	var items []any
	errorsSeen := false
	for i := 0; i < len(lines); i++ {
		var action map[string]map[string]any
		if err := json.Unmarshal(lines[i], &action); err != nil || len(action) != 1 {
			esError(w, 400, "illegal_argument_exception", fmt.Sprintf("Malformed action/metadata line [%d], expected START_OBJECT or END_OBJECT but found [VALUE_STRING]", i+1))
			return
		}
		for op, meta := range action {
			index, _ := meta["_index"].(string)
			if index == "" {
				index = defIndex
			}
			id, _ := meta["_id"].(string)
			if index == "" {
				esError(w, 400, "action_request_validation_exception", "Validation Failed: 1: index is missing;")
				return
			}
			item := map[string]any{"_index": index, "_id": id}
			switch op {
			case "index", "create", "update":
				if i+1 >= len(lines) {
					esError(w, 400, "illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]")
					return
				}
				i++
				var src map[string]any
				if err := json.Unmarshal(lines[i], &src); err != nil {
					esError(w, 400, "illegal_argument_exception", "Malformed document line")
					return
				}
				ix := e.index(index, true)
				if op == "update" {
					cur := ix.docs[id]
					if cur == nil {
						errorsSeen = true
						item["status"] = 404
						item["error"] = map[string]any{"type": "document_missing_exception", "reason": fmt.Sprintf("[%s]: document missing", id)}
						break
					}
					doc, _ := src["doc"].(map[string]any)
					merged := cloneJSON(cur.source).(map[string]any)
					deepMerge(merged, doc)
					d, _ := e.put(ix, id, merged)
					for k, v := range writeResult(ix, d, "updated") {
						item[k] = v
					}
					item["status"] = 200
					break
				}
				if op == "create" && id != "" && ix.docs[id] != nil {
					errorsSeen = true
					item["status"] = 409
					item["error"] = map[string]any{"type": "version_conflict_engine_exception", "reason": fmt.Sprintf("[%s]: version conflict, document already exists", id)}
					break
				}
				d, created := e.put(ix, id, src)
				res := "updated"
				item["status"] = 200
				if created {
					res = "created"
					item["status"] = 201
				}
				for k, v := range writeResult(ix, d, res) {
					item[k] = v
				}
			case "delete":
				ix := e.indices[index]
				if ix == nil || ix.docs[id] == nil {
					item["result"] = "not_found"
					item["status"] = 404
					break
				}
				delete(ix.docs, id)
				for j, o := range ix.order {
					if o == id {
						ix.order = append(ix.order[:j], ix.order[j+1:]...)
						break
					}
				}
				item["result"] = "deleted"
				item["status"] = 200
			default:
				esError(w, 400, "illegal_argument_exception", "Malformed action/metadata line ["+strconv.Itoa(i+1)+"], expected one of [create, delete, index, update] but found ["+op+"]")
				return
			}
			items = append(items, map[string]any{op: item})
		}
	}
	writeJSON(w, 200, map[string]any{"took": time.Since(start).Milliseconds(), "errors": errorsSeen, "items": items})
}

// match returns the indices an expression names ("a,b", "logs-*", "*",
// "_all"), sorted.
func (e *Elasticsearch) match(expr string) []*esIndex {
	var out []*esIndex
	seen := map[string]bool{}
	for _, pat := range strings.Split(expr, ",") {
		pat = strings.TrimSpace(pat)
		if pat == "_all" {
			pat = "*"
		}
		for name, ix := range e.indices {
			if ok, _ := path.Match(pat, name); ok && !seen[name] {
				seen[name] = true
				out = append(out, ix)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// missingConcrete returns the first non-wildcard index in expr that does not exist.
func (e *Elasticsearch) missingConcrete(expr string) string {
	for _, pat := range strings.Split(expr, ",") {
		pat = strings.TrimSpace(pat)
		if pat != "_all" && !strings.ContainsAny(pat, "*?") && e.indices[pat] == nil {
			return pat
		}
	}
	return ""
}

func (e *Elasticsearch) search(w http.ResponseWriter, r *http.Request, expr string, body []byte, count bool) {
	if miss := e.missingConcrete(expr); miss != "" {
		esError(w, 404, "index_not_found_exception", "no such index ["+miss+"]")
		return
	}
	req := map[string]any{}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			esError(w, 400, "parsing_exception", "request body must be a JSON object")
			return
		}
	}
	size, from := 10, 0
	if v, ok := num(req["size"]); ok {
		size = int(v)
	}
	if v, ok := num(req["from"]); ok {
		from = int(v)
	}
	if s := r.URL.Query().Get("size"); s != "" {
		size, _ = strconv.Atoi(s)
	}
	q, _ := req["query"].(map[string]any)
	if qs := r.URL.Query().Get("q"); qs != "" && q == nil {
		if k, v, ok := strings.Cut(qs, ":"); ok {
			q = map[string]any{"match": map[string]any{k: v}}
		}
	}
	var hits []any
	total := 0
	for _, ix := range e.match(expr) {
		for _, id := range ix.order {
			d := ix.docs[id]
			ok, err := esMatches(q, d)
			if err != nil {
				esError(w, 400, "parsing_exception", err.Error())
				return
			}
			if !ok {
				continue
			}
			total++
			if total > from && len(hits) < size {
				hits = append(hits, map[string]any{"_index": ix.name, "_id": d.id, "_score": 1.0, "_source": d.source})
			}
		}
	}
	shards := map[string]any{"total": 1, "successful": 1, "skipped": 0, "failed": 0}
	if count {
		writeJSON(w, 200, map[string]any{"count": total, "_shards": shards})
		return
	}
	if hits == nil {
		hits = []any{}
	}
	var maxScore any
	if len(hits) > 0 {
		maxScore = 1.0
	}
	writeJSON(w, 200, map[string]any{"took": 1, "timed_out": false, "_shards": shards,
		"hits": map[string]any{"total": map[string]any{"value": total, "relation": "eq"}, "max_score": maxScore, "hits": hits}})
}

// esMatches evaluates the supported query DSL subset against d.
func esMatches(q map[string]any, d *esDoc) (bool, error) {
	if len(q) == 0 {
		return true, nil
	}
	for kind, spec := range q {
		m, _ := spec.(map[string]any)
		switch kind {
		case "match_all":
			return true, nil
		case "match_none":
			return false, nil
		case "ids":
			for _, v := range asList(m["values"]) {
				if fmt.Sprint(v) == d.id {
					return true, nil
				}
			}
			return false, nil
		case "exists":
			f, _ := m["field"].(string)
			_, ok := lookupField(d.source, f)
			return ok, nil
		case "term", "match", "match_phrase", "terms", "prefix", "wildcard":
			for field, want := range m {
				if wm, ok := want.(map[string]any); ok {
					if v, ok := wm["value"]; ok {
						want = v
					} else if v, ok := wm["query"]; ok {
						want = v
					}
				}
				got, ok := lookupField(d.source, strings.TrimSuffix(field, ".keyword"))
				if field == "_id" {
					got, ok = d.id, true
				}
				if !ok {
					return false, nil
				}
				if !valueMatches(kind, got, want) {
					return false, nil
				}
			}
			return true, nil
		case "range":
			for field, cond := range m {
				got, ok := lookupField(d.source, field)
				if !ok {
					return false, nil
				}
				cm, _ := cond.(map[string]any)
				for op, bound := range cm {
					c, ok := compare(got, bound)
					if !ok {
						continue
					}
					if (op == "gt" && c <= 0) || (op == "gte" && c < 0) || (op == "lt" && c >= 0) || (op == "lte" && c > 0) {
						return false, nil
					}
				}
			}
			return true, nil
		case "bool":
			for _, clause := range []string{"must", "filter"} {
				for _, sub := range asList(m[clause]) {
					sm, _ := sub.(map[string]any)
					ok, err := esMatches(sm, d)
					if err != nil || !ok {
						return false, err
					}
				}
			}
			for _, sub := range asList(m["must_not"]) {
				sm, _ := sub.(map[string]any)
				ok, err := esMatches(sm, d)
				if err != nil || ok {
					return false, err
				}
			}
			should := asList(m["should"])
			if len(should) > 0 {
				min := 1
				if v, ok := num(m["minimum_should_match"]); ok {
					min = int(v)
				} else if m["must"] != nil || m["filter"] != nil {
					min = 0
				}
				n := 0
				for _, sub := range should {
					sm, _ := sub.(map[string]any)
					if ok, _ := esMatches(sm, d); ok {
						n++
					}
				}
				if n < min {
					return false, nil
				}
			}
			return true, nil
		default:
			return false, fmt.Errorf("unknown query [%s]", kind)
		}
	}
	return true, nil
}

func valueMatches(kind string, got, want any) bool {
	gots := asList(got)
	if _, ok := got.([]any); !ok {
		gots = []any{got}
	}
	for _, g := range gots {
		gs := fmt.Sprint(g)
		switch kind {
		case "terms":
			for _, w := range asList(want) {
				if scalarEqual(g, w) {
					return true
				}
			}
		case "match", "match_phrase":
			ws := strings.ToLower(fmt.Sprint(want))
			if scalarEqual(g, want) || strings.Contains(strings.ToLower(gs), ws) {
				return true
			}
			for _, tok := range strings.Fields(ws) {
				if kind == "match" && strings.Contains(strings.ToLower(gs), tok) {
					return true
				}
			}
		case "prefix":
			if strings.HasPrefix(gs, fmt.Sprint(want)) {
				return true
			}
		case "wildcard":
			if ok, _ := path.Match(fmt.Sprint(want), gs); ok {
				return true
			}
		default:
			if scalarEqual(g, want) {
				return true
			}
		}
	}
	return false
}

func scalarEqual(a, b any) bool {
	if fa, ok := num(a); ok {
		if fb, ok := num(b); ok {
			return fa == fb
		}
	}
	return fmt.Sprint(a) == fmt.Sprint(b)
}

func compare(a, b any) (int, bool) {
	if fa, ok := num(a); ok {
		if fb, ok := num(b); ok {
			switch {
			case fa < fb:
				return -1, true
			case fa > fb:
				return 1, true
			}
			return 0, true
		}
	}
	sa, sb := fmt.Sprint(a), fmt.Sprint(b)
	if sb == "now" || strings.HasPrefix(sb, "now") {
		return 0, false
	}
	return strings.Compare(sa, sb), true
}

func num(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

func asList(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	}
	return []any{v}
}

// lookupField reads a dotted field from a source, accepting both nested
// objects and literal dotted keys.
func lookupField(src map[string]any, field string) (any, bool) {
	if v, ok := src[field]; ok {
		return v, true
	}
	head, rest, found := strings.Cut(field, ".")
	for found {
		if sub, ok := src[head].(map[string]any); ok {
			if v, ok := lookupField(sub, rest); ok {
				return v, true
			}
		}
		var h2 string
		h2, rest, found = strings.Cut(rest, ".")
		head = head + "." + h2
	}
	return nil, false
}

// flatten returns dotted leaf fields of src (arrays are kept as values).
func flatten(prefix string, src map[string]any, out map[string]any) {
	for k, v := range src {
		name := k
		if prefix != "" {
			name = prefix + "." + k
		}
		if m, ok := v.(map[string]any); ok {
			flatten(name, m, out)
			continue
		}
		out[name] = v
	}
}

// esql runs the supported ES|QL subset:
// FROM <indices> [METADATA _id] [| WHERE <field> ==|!= <literal>]* [| KEEP f1, f2] [| SORT f [ASC|DESC]] [| LIMIT n].
func (e *Elasticsearch) esql(w http.ResponseWriter, r *http.Request, body []byte) {
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		esError(w, 400, "x_content_parse_exception", "request body is not valid JSON")
		return
	}
	query, _ := req["query"].(string)
	if strings.TrimSpace(query) == "" {
		esError(w, 400, "parsing_exception", "[query] is required")
		return
	}
	cmds := strings.Split(query, "|")
	first := strings.Fields(strings.TrimSpace(cmds[0]))
	if len(first) < 2 || !strings.EqualFold(first[0], "FROM") {
		esError(w, 400, "parsing_exception", "line 1:1: mismatched input '"+firstWord(cmds[0])+"' expecting {'from', 'row', 'show'} (sandbox supports FROM queries only)")
		return
	}
	expr := strings.Join(first[1:], "")
	if i := strings.Index(strings.ToUpper(expr), "METADATA"); i > 0 {
		expr = expr[:i]
	}
	if miss := e.missingConcrete(expr); miss != "" {
		esError(w, 400, "verification_exception", "Found 1 problem\nline 1:6: Unknown index ["+miss+"]")
		return
	}
	type row struct {
		id   string
		flat map[string]any
	}
	var rows []row
	for _, ix := range e.match(expr) {
		for _, id := range ix.order {
			flat := map[string]any{}
			flatten("", ix.docs[id].source, flat)
			rows = append(rows, row{id: id, flat: flat})
		}
	}
	limit := 1000
	var keep []string
	for _, c := range cmds[1:] {
		c = strings.TrimSpace(c)
		word := strings.ToUpper(firstWord(c))
		arg := strings.TrimSpace(c[len(word):])
		switch word {
		case "LIMIT":
			n, err := strconv.Atoi(arg)
			if err != nil {
				esError(w, 400, "parsing_exception", "line 1: invalid LIMIT ["+arg+"]")
				return
			}
			limit = n
			if len(rows) > n {
				rows = rows[:n]
			}
		case "KEEP":
			keep = nil
			for _, f := range strings.Split(arg, ",") {
				keep = append(keep, strings.TrimSpace(f))
			}
		case "WHERE":
			field, lit, neg, ok := parseWhere(arg)
			if !ok {
				esError(w, 400, "parsing_exception", "line 1: sandbox ES|QL supports WHERE <field> == <literal> only, got ["+arg+"]")
				return
			}
			var kept []row
			for _, rw := range rows {
				if scalarEqual(rw.flat[field], lit) != neg {
					kept = append(kept, rw)
				}
			}
			rows = kept
		case "SORT":
			f := strings.Fields(arg)
			desc := len(f) > 1 && strings.EqualFold(f[1], "DESC")
			sort.SliceStable(rows, func(i, j int) bool {
				c, _ := compare(rows[i].flat[f[0]], rows[j].flat[f[0]])
				if desc {
					return c > 0
				}
				return c < 0
			})
		default:
			esError(w, 400, "parsing_exception", "line 1: sandbox ES|QL does not support ["+word+"]")
			return
		}
	}
	_ = limit
	cols := keep
	if cols == nil {
		set := map[string]bool{}
		for _, rw := range rows {
			for k := range rw.flat {
				set[k] = true
			}
		}
		for k := range set {
			cols = append(cols, k)
		}
		sort.Strings(cols)
	}
	columns := make([]any, len(cols))
	for i, c := range cols {
		typ := "keyword"
		for _, rw := range rows {
			if v, ok := rw.flat[c]; ok && v != nil {
				typ = esqlType(v)
				break
			}
		}
		columns[i] = map[string]any{"name": c, "type": typ}
	}
	values := make([]any, 0, len(rows))
	for _, rw := range rows {
		vals := make([]any, len(cols))
		for i, c := range cols {
			vals[i] = rw.flat[c]
		}
		values = append(values, vals)
	}
	if columnar, _ := req["columnar"].(bool); columnar {
		tv := make([]any, len(cols))
		for i := range cols {
			col := make([]any, len(rows))
			for j := range rows {
				col[j] = values[j].([]any)[i]
			}
			tv[i] = col
		}
		values = tv
	}
	writeJSON(w, 200, map[string]any{"took": 1, "is_partial": false, "documents_found": len(rows), "values_loaded": len(rows) * len(cols),
		"columns": columns, "values": values})
}

func firstWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

func parseWhere(arg string) (field string, lit any, neg bool, ok bool) {
	op := "=="
	if strings.Contains(arg, "!=") {
		op, neg = "!=", true
	}
	l, rgt, found := strings.Cut(arg, op)
	if !found {
		return "", nil, false, false
	}
	field = strings.TrimSpace(l)
	v := strings.TrimSpace(rgt)
	if unq, err := strconv.Unquote(v); err == nil {
		return field, unq, neg, true
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return field, f, neg, true
	}
	if v == "true" || v == "false" {
		return field, v == "true", neg, true
	}
	return "", nil, false, false
}

func esqlType(v any) string {
	switch x := v.(type) {
	case bool:
		return "boolean"
	case float64:
		if x == float64(int64(x)) {
			return "long"
		}
		return "double"
	case string:
		if _, err := time.Parse(time.RFC3339, x); err == nil {
			return "date"
		}
	}
	return "keyword"
}

func deepMerge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				deepMerge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

func cloneJSON(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func readAll(r *http.Request) ([]byte, error) {
	var buf bytes.Buffer
	_, err := buf.ReadFrom(r.Body)
	return buf.Bytes(), err
}

// InferenceEndpoint is one inference endpoint of the fake cluster.
type InferenceEndpoint struct {
	InferenceID string `json:"inference_id"`
	TaskType    string `json:"task_type"`
	Service     string `json:"service"`
}

// AddInferenceEndpoint adds an inference endpoint (as PUT
// /_inference/<task_type>/<id> does).
func (e *Elasticsearch) AddInferenceEndpoint(ep InferenceEndpoint) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.inference = append(e.inference, ep)
}

// inferenceAPI serves the inference API subset: PUT
// /_inference/<task>/<id> {service, service_settings}, GET
// /_inference/<task>/_all (or /_inference/_all) and POST
// /_inference/rerank/<id> {query, input[]}. The fake reranker scores each
// input by how many distinct query words (lower-cased) it contains, ties
// kept in input order, and answers {rerank: [{index, relevance_score}]}.
func (e *Elasticsearch) inferenceAPI(w http.ResponseWriter, method string, parts []string, body []byte) {
	task, id := "", parts[0]
	if len(parts) == 2 {
		task, id = parts[0], parts[1]
	}
	find := func() *InferenceEndpoint {
		for i := range e.inference {
			if ep := &e.inference[i]; ep.InferenceID == id && (task == "" || ep.TaskType == task) {
				return ep
			}
		}
		return nil
	}
	switch {
	case method == http.MethodGet && id == "_all":
		eps := []any{}
		for _, ep := range e.inference {
			if task == "" || ep.TaskType == task {
				eps = append(eps, map[string]any{"inference_id": ep.InferenceID, "task_type": ep.TaskType, "service": ep.Service,
					"service_settings": map[string]any{}, "task_settings": map[string]any{}})
			}
		}
		writeJSON(w, 200, map[string]any{"endpoints": eps})
	case method == http.MethodPut && task != "":
		var req map[string]any
		_ = json.Unmarshal(body, &req)
		service, _ := req["service"].(string)
		if service == "" {
			esError(w, 400, "parse_exception", "Required [service]")
			return
		}
		if find() != nil {
			esError(w, 400, "resource_already_exists_exception", fmt.Sprintf("Inference endpoint [%s] already exists", id))
			return
		}
		e.inference = append(e.inference, InferenceEndpoint{InferenceID: id, TaskType: task, Service: service})
		writeJSON(w, 200, map[string]any{"inference_id": id, "task_type": task, "service": service})
	case method == http.MethodPost:
		ep := find()
		if ep == nil {
			esError(w, 404, "resource_not_found_exception", fmt.Sprintf("Inference endpoint not found [%s]", id))
			return
		}
		if ep.TaskType != "rerank" {
			esError(w, 400, "status_exception", fmt.Sprintf("Incompatible task_type, the requested type [rerank] does not match the model type [%s]", ep.TaskType))
			return
		}
		var req struct {
			Query string   `json:"query"`
			Input []string `json:"input"`
		}
		if err := json.Unmarshal(body, &req); err != nil || req.Query == "" {
			esError(w, 400, "action_request_validation_exception", "Validation Failed: 1: Field [query] cannot be null for task type [rerank];")
			return
		}
		words := map[string]bool{}
		for _, wd := range strings.Fields(strings.ToLower(req.Query)) {
			words[strings.Trim(wd, "?.,!")] = true
		}
		type scored struct {
			i     int
			score float64
		}
		out := make([]scored, len(req.Input))
		for i, in := range req.Input {
			low, n := strings.ToLower(in), 0
			for wd := range words {
				if wd != "" && strings.Contains(low, wd) {
					n++
				}
			}
			out[i] = scored{i, float64(n) / float64(len(words)+1)}
		}
		sort.SliceStable(out, func(a, b int) bool { return out[a].score > out[b].score })
		list := make([]any, len(out))
		for k, sc := range out {
			list[k] = map[string]any{"index": sc.i, "relevance_score": sc.score}
		}
		writeJSON(w, 200, map[string]any{"rerank": list})
	default:
		esError(w, 405, "illegal_argument_exception", fmt.Sprintf("Incorrect HTTP method for uri [/_inference/%s] and method [%s]", strings.Join(parts, "/"), method))
	}
}
