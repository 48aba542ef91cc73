package sandbox

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

func init() { register("kibana", func() Service { return NewKibana() }) }

// Kibana is an in-memory fake of the Kibana HTTP APIs secflow calls: the
// public Cases API (/api/cases …), detection-engine alert status and tags
// (/api/detection_engine/signals/status|tags), connector execution
// (/api/actions/connector/{id}/_execute), Agent Builder converse and
// conversations (/api/agent_builder/…) and /api/status. Paths may carry a
// /s/<space> prefix. Like Kibana it answers 401 without the sandbox API key
// and 400 to a state-changing request without kbn-xsrf.
type Kibana struct {
	Faults
	mu            sync.Mutex
	seq           int
	cases         []*kbCase
	alerts        map[string]*AlertState
	connectors    map[string]ConnectorResult
	executions    []ConnectorExecution
	conversations map[string]*Conversation
	convOrder     []string
	templates     map[string][]any
	imports       []Import
}

// AlertState is what the fake knows about one detection alert.
type AlertState struct {
	Status string   `json:"status"`
	Tags   []string `json:"tags"`
}

// ConnectorResult is the Actions result the fake returns for a connector's
// _execute. Status "ok" returns Data; any other status an error result.
type ConnectorResult struct {
	Status         string `json:"status"`
	Data           any    `json:"data,omitempty"`
	Message        string `json:"message,omitempty"`
	ServiceMessage string `json:"service_message,omitempty"`
}

// ConnectorExecution is one _execute call received.
type ConnectorExecution struct {
	ConnectorID string         `json:"connector_id"`
	Space       string         `json:"space"`
	Params      map[string]any `json:"params"`
	At          time.Time      `json:"at"`
}

// Conversation is one Agent Builder conversation held by the fake.
type Conversation struct {
	ID        string  `json:"id"`
	AgentID   string  `json:"agent_id"`
	Title     string  `json:"title"`
	Rounds    []Round `json:"rounds"`
	CreatedAt string  `json:"created_at"`
	UpdatedAt string  `json:"updated_at"`
}

// Round is one converse exchange.
type Round struct {
	ID       string         `json:"id"`
	Input    map[string]any `json:"input"`
	Steps    []any          `json:"steps"`
	Response map[string]any `json:"response"`
}

// Case is a snapshot of one case, as the sandbox page shows it.
type Case struct {
	ID          string    `json:"id"`
	Space       string    `json:"space"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Owner       string    `json:"owner"`
	Status      string    `json:"status"`
	Severity    string    `json:"severity"`
	Tags        []string  `json:"tags"`
	Assignees   []string  `json:"assignees"`
	Comments    []Comment `json:"comments"`
	CreatedAt   string    `json:"created_at"`
	Version     string    `json:"version"`
	// Updates counts the PATCH /api/cases updates applied to the case.
	Updates int `json:"updates"`
}

// Comment is one case attachment: a user comment or an alert.
type Comment struct {
	ID        string `json:"id"`
	Type      string `json:"type"` // "user" or "alert"
	Comment   string `json:"comment,omitempty"`
	AlertID   string `json:"alertId,omitempty"`
	Index     string `json:"index,omitempty"`
	RuleID    string `json:"ruleId,omitempty"`
	RuleName  string `json:"ruleName,omitempty"`
	CreatedAt string `json:"created_at"`
}

type kbCase struct {
	Case
	seq          int
	category     any
	customFields []any
	settings     map[string]any
	connector    map[string]any
	assignees    []any
	comments     []map[string]any
	closedAt     any
	updatedAt    any
	external     map[string]any
	incremental  int
	observables  []any
}

// NewKibana returns an empty fake Kibana.
func NewKibana() *Kibana {
	return &Kibana{alerts: map[string]*AlertState{}, connectors: map[string]ConnectorResult{},
		conversations: map[string]*Conversation{}}
}

// Name implements Service.
func (*Kibana) Name() string { return "kibana" }

// Handler implements Service.
func (k *Kibana) Handler() http.Handler {
	return k.Faults.Wrap(http.HandlerFunc(k.serve), nil, func(status int) string {
		return kbErrorBody(status, fmt.Sprintf("injected fault %d", status))
	})
}

// Cases returns a snapshot of every case, oldest first, with comments.
func (k *Kibana) Cases() []Case {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]Case, 0, len(k.cases))
	for _, c := range k.cases {
		cp := c.Case
		cp.Tags = append([]string(nil), c.Tags...)
		cp.Comments = append([]Comment(nil), c.Comments...)
		out = append(out, cp)
	}
	return out
}

// Alert returns the status and tags the fake recorded for an alert id.
func (k *Kibana) Alert(id string) (AlertState, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	a, ok := k.alerts[id]
	if !ok {
		return AlertState{}, false
	}
	return AlertState{Status: a.Status, Tags: append([]string(nil), a.Tags...)}, true
}

// SetConnectorResult configures what _execute returns for connector id.
// Without one, _execute echoes {status: ok, data: {connector_id, params}}.
func (k *Kibana) SetConnectorResult(id string, res ConnectorResult) {
	k.mu.Lock()
	k.connectors[id] = res
	k.mu.Unlock()
}

// Executions returns every _execute call received, in order.
func (k *Kibana) Executions() []ConnectorExecution {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]ConnectorExecution(nil), k.executions...)
}

// Conversations returns the Agent Builder conversations, oldest first.
func (k *Kibana) Conversations() []Conversation {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]Conversation, 0, len(k.convOrder))
	for _, id := range k.convOrder {
		c := *k.conversations[id]
		c.Rounds = append([]Round(nil), c.Rounds...)
		out = append(out, c)
	}
	return out
}

func kbErrorBody(status int, msg string) string {
	b, _ := json.Marshal(map[string]any{"statusCode": status, "error": http.StatusText(status), "message": msg})
	return string(b)
}

func kbError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(kbErrorBody(status, msg)))
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func nowISO() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000Z") }

func (k *Kibana) serve(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	if !apiKeyAuth(auth, KibanaAPIKey) {
		w.Header().Set("WWW-Authenticate", `Basic realm="sandbox", ApiKey`)
		kbError(w, http.StatusUnauthorized, "Unauthorized")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Header.Get("kbn-xsrf") == "" {
		kbError(w, http.StatusBadRequest, "Request must contain a kbn-xsrf header.")
		return
	}
	p := r.URL.Path
	space := "default"
	if strings.HasPrefix(p, "/s/") {
		rest := strings.TrimPrefix(p, "/s/")
		sp, tail, _ := strings.Cut(rest, "/")
		space, p = sp, "/"+tail
	}
	var body map[string]any
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		k.serveMultipart(w, r, space, p)
		return
	}
	if r.Body != nil && r.Method != http.MethodGet {
		b, _ := readAll(r)
		if len(strings.TrimSpace(string(b))) > 0 {
			if err := json.Unmarshal(b, &body); err != nil {
				kbError(w, http.StatusBadRequest, "[request body]: expected a plain object value, but found invalid JSON")
				return
			}
		}
	}
	parts := splitPath(p)
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case p == "/api/status":
		writeJSON(w, 200, map[string]any{"name": "sandbox", "version": map[string]any{"number": "9.2.0"},
			"status": map[string]any{"overall": map[string]any{"level": "available"}}})
	case p == "/api/cases" && r.Method == http.MethodPost:
		k.createCase(w, space, body)
	case p == "/api/cases" && r.Method == http.MethodPatch:
		k.patchCases(w, space, body)
	case p == "/api/cases" && r.Method == http.MethodDelete:
		k.deleteCases(w, space, r.URL.Query())
	case p == "/api/cases/configure" && r.Method == http.MethodGet:
		k.getConfigure(w, space, r.URL.Query())
	case len(parts) == 4 && parts[1] == "cases" && parts[3] == "observables" && r.Method == http.MethodPost:
		k.addObservable(w, space, parts[2], body)
	case len(parts) == 5 && parts[1] == "cases" && parts[3] == "observables" && (r.Method == http.MethodPatch || r.Method == http.MethodDelete):
		k.changeObservable(w, r.Method, space, parts[2], parts[4], body)
	case len(parts) == 4 && parts[0] == "internal" && parts[1] == "cases" && parts[3] == "_similar" && r.Method == http.MethodPost:
		k.similarCases(w, space, parts[2], body)
	case p == "/api/cases/_find" && r.Method == http.MethodGet:
		k.findCases(w, space, r.URL.Query())
	case len(parts) == 4 && parts[1] == "cases" && parts[2] == "alerts" && r.Method == http.MethodGet:
		k.casesByAlert(w, space, parts[3], r.URL.Query())
	case len(parts) == 3 && parts[1] == "cases" && r.Method == http.MethodGet:
		c := k.find(space, parts[2])
		if c == nil {
			kbError(w, 404, fmt.Sprintf("Saved object [cases/%s] not found", parts[2]))
			return
		}
		writeJSON(w, 200, k.render(c, r.URL.Query().Get("includeComments") != "false"))
	case len(parts) == 4 && parts[1] == "cases" && parts[3] == "comments" && r.Method == http.MethodPost:
		k.addComment(w, space, parts[2], body)
	case len(parts) == 5 && parts[1] == "cases" && parts[3] == "comments" && parts[4] == "_find" && r.Method == http.MethodGet:
		c := k.find(space, parts[2])
		if c == nil {
			kbError(w, 404, fmt.Sprintf("Saved object [cases/%s] not found", parts[2]))
			return
		}
		writeJSON(w, 200, map[string]any{"comments": k.commentsOf(c), "page": 1, "per_page": 20, "total": len(c.comments)})
	case len(parts) == 6 && parts[1] == "cases" && parts[3] == "connector" && parts[5] == "_push" && r.Method == http.MethodPost:
		c := k.find(space, parts[2])
		if c == nil {
			kbError(w, 404, fmt.Sprintf("Saved object [cases/%s] not found", parts[2]))
			return
		}
		if c.connector == nil || c.connector["id"] != parts[4] {
			kbError(w, 400, fmt.Sprintf("The case connector %s does not match the requested connector %s", c.connector["id"], parts[4]))
			return
		}
		c.external = map[string]any{"connector_id": parts[4], "connector_name": c.connector["name"],
			"external_id": fmt.Sprintf("SEC-%d", c.incremental), "external_title": fmt.Sprintf("SEC-%d", c.incremental),
			"external_url": "https://sandbox.invalid/browse/SEC-" + strconv.Itoa(c.incremental), "pushed_at": nowISO(), "pushed_by": sandboxUser}
		k.bump(c)
		writeJSON(w, 200, k.render(c, true))
	case p == "/api/detection_engine/signals/status" && r.Method == http.MethodPost:
		k.setAlertStatus(w, body)
	case p == "/api/detection_engine/signals/tags" && r.Method == http.MethodPost:
		k.setAlertTags(w, body)
	case len(parts) == 5 && parts[1] == "actions" && parts[2] == "connector" && parts[4] == "_execute" && r.Method == http.MethodPost:
		k.execute(w, space, parts[3], body)
	case p == "/api/agent_builder/converse" && r.Method == http.MethodPost:
		k.converse(w, body)
	case len(parts) == 4 && parts[1] == "agent_builder" && parts[2] == "conversations" && r.Method == http.MethodGet:
		c := k.conversations[parts[3]]
		if c == nil {
			kbError(w, 404, "Conversation not found: "+parts[3])
			return
		}
		writeJSON(w, 200, c)
	default:
		kbError(w, 404, "Not Found")
	}
}

var validSeverity = map[string]bool{"low": true, "medium": true, "high": true, "critical": true}
var validStatus = map[string]bool{"open": true, "in-progress": true, "closed": true}
var validOwner = map[string]bool{"securitySolution": true, "observability": true, "cases": true}

func strList(v any) []string {
	var out []string
	for _, e := range asList(v) {
		out = append(out, fmt.Sprint(e))
	}
	return out
}

func (k *Kibana) createCase(w http.ResponseWriter, space string, b map[string]any) {
	title, _ := b["title"].(string)
	desc, _ := b["description"].(string)
	owner, _ := b["owner"].(string)
	switch {
	case title == "":
		kbError(w, 400, "[request body.title]: expected value of type [string] but got [undefined]")
		return
	case len(title) > 160:
		kbError(w, 400, "The length of the title is too long. The maximum length is 160.")
		return
	case b["description"] == nil:
		kbError(w, 400, "[request body.description]: expected value of type [string] but got [undefined]")
		return
	case !validOwner[owner]:
		kbError(w, 400, fmt.Sprintf("Invalid value \"%s\" supplied to \"owner\"", owner))
		return
	case b["connector"] == nil:
		kbError(w, 400, "Invalid value \"undefined\" supplied to \"connector\"")
		return
	case b["settings"] == nil:
		kbError(w, 400, "Invalid value \"undefined\" supplied to \"settings\"")
		return
	}
	sev, _ := b["severity"].(string)
	if sev == "" {
		sev = "low"
	}
	if !validSeverity[sev] {
		kbError(w, 400, fmt.Sprintf("Invalid value \"%s\" supplied to \"severity\"", sev))
		return
	}
	k.seq++
	c := &kbCase{Case: Case{ID: newID(), Space: space, Title: title, Description: desc, Owner: owner, Status: "open",
		Severity: sev, Tags: strList(b["tags"]), CreatedAt: nowISO()}, incremental: len(k.cases) + 1}
	if c.Tags == nil {
		c.Tags = []string{}
	}
	c.settings, _ = b["settings"].(map[string]any)
	c.connector, _ = b["connector"].(map[string]any)
	c.category = b["category"]
	c.customFields, _ = b["customFields"].([]any)
	c.assignees, _ = b["assignees"].([]any)
	c.syncAssignees()
	k.bump(c)
	k.cases = append(k.cases, c)
	writeJSON(w, 200, k.render(c, true))
}

func (c *kbCase) syncAssignees() {
	c.Assignees = nil
	for _, a := range c.assignees {
		if m, ok := a.(map[string]any); ok {
			c.Assignees = append(c.Assignees, fmt.Sprint(m["uid"]))
		}
	}
}

// bump gives c a new version.
func (k *Kibana) bump(c *kbCase) {
	k.seq++
	c.seq = k.seq
	c.Version = base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("[%d,1]", k.seq)))
}

func (k *Kibana) find(space, id string) *kbCase {
	for _, c := range k.cases {
		if c.ID == id && c.Space == space {
			return c
		}
	}
	return nil
}

var sandboxUser = map[string]any{"username": "sandbox", "full_name": "Sandbox User", "email": "sandbox@secflow.local", "profile_uid": "u_sandbox"}

func (k *Kibana) commentsOf(c *kbCase) []any {
	out := make([]any, 0, len(c.comments))
	for _, cm := range c.comments {
		out = append(out, cm)
	}
	return out
}

func (k *Kibana) render(c *kbCase, withComments bool) map[string]any {
	alerts, users := 0, 0
	for _, cm := range c.Comments {
		switch cm.Type {
		case "alert":
			alerts++
		case "user":
			users++
		}
	}
	comments := []any{}
	if withComments {
		comments = k.commentsOf(c)
	}
	assignees := c.assignees
	if assignees == nil {
		assignees = []any{}
	}
	customFields := c.customFields
	if customFields == nil {
		customFields = []any{}
	}
	connector := c.connector
	if connector == nil {
		connector = map[string]any{"id": "none", "name": "none", "type": ".none", "fields": nil}
	}
	tags := c.Tags
	if tags == nil {
		tags = []string{}
	}
	var closedBy any
	if c.Status == "closed" {
		closedBy = sandboxUser
	}
	return map[string]any{
		"id": c.ID, "version": c.Version, "incremental_id": c.incremental, "title": c.Title, "description": c.Description,
		"owner": c.Owner, "status": c.Status, "severity": c.Severity, "tags": tags, "assignees": assignees,
		"category": c.category, "customFields": customFields, "settings": c.settings, "connector": connector,
		"comments": comments, "totalComment": users, "totalAlerts": alerts,
		"created_at": c.CreatedAt, "created_by": sandboxUser, "updated_at": c.updatedAt, "updated_by": nil,
		"closed_at": c.closedAt, "closed_by": closedBy, "external_service": external(c), "duration": nil,
		"observables": observablesOf(c), "total_observables": len(c.observables),
	}
}

// external renders external_service (null until pushed).
func external(c *kbCase) any {
	if c.external == nil {
		return nil
	}
	return c.external
}

// patchCases answers PATCH /api/cases as Kibana's bulk update does: the
// request is validated first (400), then every case must exist (404) and
// carry its current version (409); each case keeps only the fields that
// differ from its current value (Kibana's getCaseToUpdate: lists compared
// as sets, objects deeply, other values strictly), and when no case has
// one left the answer is 406 "All update fields are identical to current
// version.". Cases with changes get a new version and are returned.
func (k *Kibana) patchCases(w http.ResponseWriter, space string, b map[string]any) {
	items, _ := b["cases"].([]any)
	if len(items) == 0 {
		kbError(w, 400, "[request body.cases]: array must have at least 1 element")
		return
	}
	reqs := make([]map[string]any, len(items))
	for i, it := range items {
		m, _ := it.(map[string]any)
		if msg := invalidPatch(m); msg != "" {
			kbError(w, 400, msg)
			return
		}
		reqs[i] = m
	}
	type change struct {
		c      *kbCase
		fields map[string]any
	}
	var changes []change
	for _, m := range reqs {
		id, _ := m["id"].(string)
		version, _ := m["version"].(string)
		c := k.find(space, id)
		if c == nil {
			kbError(w, 404, fmt.Sprintf("These cases %s do not exist. Please check you have the correct ids.", id))
			return
		}
		if version == "" || version != c.Version {
			kbError(w, 409, fmt.Sprintf("These cases %s has been updated. Please refresh before saving additional updates.", id))
			return
		}
		cur, _ := cloneJSON(k.render(c, false)).(map[string]any)
		diff := map[string]any{}
		for f, v := range m {
			if f == "id" || f == "version" {
				continue
			}
			if old, ok := cur[f]; patchChanges(old, ok, cloneJSON(v)) {
				diff[f] = v
			}
		}
		if len(diff) > 0 {
			changes = append(changes, change{c, diff})
		}
	}
	if len(changes) == 0 {
		kbError(w, 406, "All update fields are identical to current version.")
		return
	}
	out := make([]any, len(changes))
	for i, ch := range changes {
		for f, v := range ch.fields {
			ch.c.set(f, v)
		}
		ch.c.updatedAt = nowISO()
		ch.c.Updates++
		k.bump(ch.c)
		out[i] = k.render(ch.c, false)
	}
	writeJSON(w, 200, out)
}

// invalidPatch returns the 400 message for a malformed case update ("" when
// it is valid), checking keys in sorted order.
func invalidPatch(m map[string]any) string {
	for _, f := range slices.Sorted(maps.Keys(m)) {
		v := m[f]
		switch f {
		case "id", "version", "title", "description", "tags", "assignees", "category", "customFields", "settings", "connector":
		case "severity":
			if s := fmt.Sprint(v); !validSeverity[s] {
				return fmt.Sprintf("Invalid value \"%s\" supplied to \"severity\"", s)
			}
		case "status":
			if s := fmt.Sprint(v); !validStatus[s] {
				return fmt.Sprintf("Invalid value \"%s\" supplied to \"status\"", s)
			}
		default:
			return fmt.Sprintf("invalid keys \"%s\"", f)
		}
	}
	return ""
}

// patchChanges reports whether the requested value v changes a case field
// whose current value is old (present tells whether the case has the
// field), as Kibana's getCaseToUpdate decides: two lists differ when one
// has an element the other lacks (order and duplicates do not count), an
// object differs when the field is absent or not deeply equal, and any
// other value differs when the field is present and not strictly equal.
func patchChanges(old any, present bool, v any) bool {
	ol, oldList := old.([]any)
	vl, newList := v.([]any)
	switch _, newObj := v.(map[string]any); {
	case oldList && newList:
		return !subset(vl, ol) || !subset(ol, vl)
	case newObj:
		return !present || !jsonEqual(old, v)
	case !present:
		return false
	}
	switch v.(type) {
	case nil, bool, string, float64:
		return !jsonEqual(old, v)
	}
	return true // a list or object is never strictly equal to another value
}

// subset reports whether every element of a deeply equals one of b.
func subset(a, b []any) bool {
	for _, x := range a {
		found := false
		for _, y := range b {
			if jsonEqual(x, y) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// set stores one validated update field.
func (c *kbCase) set(f string, v any) {
	switch f {
	case "title":
		c.Title = fmt.Sprint(v)
	case "description":
		c.Description = fmt.Sprint(v)
	case "tags":
		c.Tags = strList(v)
	case "severity":
		c.Severity = fmt.Sprint(v)
	case "status":
		c.Status = fmt.Sprint(v)
		if c.Status == "closed" {
			c.closedAt = nowISO()
		} else {
			c.closedAt = nil
		}
	case "assignees":
		c.assignees, _ = v.([]any)
		c.syncAssignees()
	case "category":
		c.category = v
	case "customFields":
		c.customFields, _ = v.([]any)
	case "settings":
		c.settings, _ = v.(map[string]any)
	case "connector":
		c.connector, _ = v.(map[string]any)
	}
}

func (k *Kibana) deleteCases(w http.ResponseWriter, space string, q url.Values) {
	var ids []string
	for _, v := range q["ids"] {
		var list []string
		if json.Unmarshal([]byte(v), &list) == nil {
			ids = append(ids, list...)
		} else {
			ids = append(ids, v)
		}
	}
	for _, id := range ids {
		for i, c := range k.cases {
			if c.ID == id && c.Space == space {
				k.cases = append(k.cases[:i], k.cases[i+1:]...)
				break
			}
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (k *Kibana) addComment(w http.ResponseWriter, space, id string, b map[string]any) {
	c := k.find(space, id)
	if c == nil {
		kbError(w, 404, fmt.Sprintf("Saved object [cases/%s] not found", id))
		return
	}
	typ, _ := b["type"].(string)
	owner, _ := b["owner"].(string)
	if owner != c.Owner {
		kbError(w, 400, fmt.Sprintf("The owner field of the comment must match the case owner \"%s\"", c.Owner))
		return
	}
	cm := map[string]any{"id": newID(), "type": typ, "owner": owner, "created_at": nowISO(), "created_by": sandboxUser,
		"pushed_at": nil, "pushed_by": nil, "updated_at": nil, "updated_by": nil}
	rec := Comment{ID: cm["id"].(string), Type: typ, CreatedAt: cm["created_at"].(string)}
	switch typ {
	case "user":
		text, _ := b["comment"].(string)
		if strings.TrimSpace(text) == "" {
			kbError(w, 400, "The comment field cannot be an empty string.")
			return
		}
		cm["comment"] = text
		rec.Comment = text
	case "event":
		if b["eventId"] == nil || b["index"] == nil {
			kbError(w, 400, "Invalid value \"undefined\" supplied to \"eventId\"")
			return
		}
		cm["eventId"], cm["index"] = b["eventId"], b["index"]
		rec.AlertID = strings.Join(strList(b["eventId"]), ",")
		rec.Index = strings.Join(strList(b["index"]), ",")
	case "alert":
		rule, _ := b["rule"].(map[string]any)
		if b["alertId"] == nil || b["index"] == nil {
			kbError(w, 400, "Invalid value \"undefined\" supplied to \"alertId\"")
			return
		}
		cm["alertId"], cm["index"], cm["rule"] = b["alertId"], b["index"], rule
		rec.AlertID = strings.Join(strList(b["alertId"]), ",")
		rec.Index = strings.Join(strList(b["index"]), ",")
		if rule != nil {
			rec.RuleID, _ = rule["id"].(string)
			rec.RuleName, _ = rule["name"].(string)
		}
	default:
		kbError(w, 400, fmt.Sprintf("Invalid value \"%s\" supplied to \"type\"", typ))
		return
	}
	k.bump(c)
	cm["version"] = c.Version
	c.comments = append(c.comments, cm)
	c.Comments = append(c.Comments, rec)
	writeJSON(w, 200, k.render(c, true))
}

func (k *Kibana) findCases(w http.ResponseWriter, space string, q url.Values) {
	tags := multi(q, "tags")
	owners := multi(q, "owner")
	statuses := multi(q, "status")
	severities := multi(q, "severity")
	search := strings.ToLower(q.Get("search"))
	page, perPage := atoiDefault(q.Get("page"), 1), atoiDefault(q.Get("perPage"), 20)
	var matched []*kbCase
	counts := map[string]int{}
	for _, c := range k.cases {
		if c.Space != space || !anyIn(owners, c.Owner) || !anyIn(severities, c.Severity) {
			continue
		}
		if len(tags) > 0 && !intersects(tags, c.Tags) {
			continue
		}
		if search != "" && !strings.Contains(strings.ToLower(c.Title+" "+c.Description), search) && c.ID != search {
			continue
		}
		counts[c.Status]++
		if !anyIn(statuses, c.Status) {
			continue
		}
		matched = append(matched, c)
	}
	if q.Get("sortOrder") == "desc" {
		sort.SliceStable(matched, func(i, j int) bool { return matched[i].seq > matched[j].seq })
	}
	from := (page - 1) * perPage
	out := []any{}
	for i := from; i < len(matched) && i < from+perPage; i++ {
		out = append(out, k.render(matched[i], false))
	}
	writeJSON(w, 200, map[string]any{"cases": out, "page": page, "per_page": perPage, "total": len(matched),
		"count_open_cases": counts["open"], "count_in_progress_cases": counts["in-progress"], "count_closed_cases": counts["closed"]})
}

func multi(q url.Values, key string) []string {
	var out []string
	for _, v := range append(q[key], q[key+"[]"]...) {
		for _, p := range strings.Split(v, ",") {
			if p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func anyIn(list []string, v string) bool {
	if len(list) == 0 {
		return true
	}
	for _, e := range list {
		if e == v {
			return true
		}
	}
	return false
}

func intersects(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

func atoiDefault(s string, d int) int {
	if n, err := strconv.Atoi(s); err == nil && n > 0 {
		return n
	}
	return d
}

func (k *Kibana) casesByAlert(w http.ResponseWriter, space, alertID string, q url.Values) {
	owners := multi(q, "owner")
	out := []any{}
	for _, c := range k.cases {
		if c.Space != space || !anyIn(owners, c.Owner) {
			continue
		}
		alerts, users, hit := 0, 0, false
		for _, cm := range c.Comments {
			if cm.Type == "alert" {
				alerts++
				for _, id := range strings.Split(cm.AlertID, ",") {
					if id == alertID {
						hit = true
					}
				}
			} else {
				users++
			}
		}
		if hit {
			out = append(out, map[string]any{"id": c.ID, "title": c.Title, "description": c.Description, "status": c.Status,
				"createdAt": c.CreatedAt, "totals": map[string]any{"alerts": alerts, "userComments": users}})
		}
	}
	writeJSON(w, 200, out)
}

func updateByQueryResult(n int) map[string]any {
	return map[string]any{"took": 1, "timed_out": false, "total": n, "updated": n, "deleted": 0, "batches": 1,
		"version_conflicts": 0, "noops": 0, "retries": map[string]any{"bulk": 0, "search": 0}, "throttled_millis": 0,
		"requests_per_second": -1, "throttled_until_millis": 0, "failures": []any{}}
}

var validAlertStatus = map[string]bool{"open": true, "closed": true, "acknowledged": true, "in-progress": true}

func (k *Kibana) alert(id string) *AlertState {
	a := k.alerts[id]
	if a == nil {
		a = &AlertState{Status: "open", Tags: []string{}}
		k.alerts[id] = a
	}
	return a
}

func (k *Kibana) setAlertStatus(w http.ResponseWriter, b map[string]any) {
	status, _ := b["status"].(string)
	if !validAlertStatus[status] {
		kbError(w, 400, fmt.Sprintf("[request body]: status: Invalid enum value. Expected 'open' | 'closed' | 'acknowledged' | 'in-progress', received '%s'", status))
		return
	}
	ids := strList(b["signal_ids"])
	if len(ids) == 0 && b["query"] == nil {
		kbError(w, 400, "[request body]: Invalid input: signal_ids or query is required")
		return
	}
	for _, id := range ids {
		k.alert(id).Status = status
	}
	writeJSON(w, 200, updateByQueryResult(len(ids)))
}

func (k *Kibana) setAlertTags(w http.ResponseWriter, b map[string]any) {
	ids := strList(b["ids"])
	tags, _ := b["tags"].(map[string]any)
	if len(ids) == 0 || tags == nil {
		kbError(w, 400, "[request body]: ids and tags are required")
		return
	}
	add, remove := strList(tags["tags_to_add"]), strList(tags["tags_to_remove"])
	if intersects(add, remove) {
		kbError(w, 400, "Duplicate tags were found in the tags_to_add and tags_to_remove parameters.")
		return
	}
	for _, id := range ids {
		a := k.alert(id)
		kept := []string{}
		for _, t := range a.Tags {
			if !anyIn(remove, t) || len(remove) == 0 {
				kept = append(kept, t)
			}
		}
		for _, t := range add {
			if !intersects([]string{t}, kept) {
				kept = append(kept, t)
			}
		}
		a.Tags = kept
	}
	writeJSON(w, 200, updateByQueryResult(len(ids)))
}

func (k *Kibana) execute(w http.ResponseWriter, space, id string, b map[string]any) {
	params, ok := b["params"].(map[string]any)
	if !ok {
		kbError(w, 400, "[request body.params]: expected value of type [object] but got [undefined]")
		return
	}
	k.executions = append(k.executions, ConnectorExecution{ConnectorID: id, Space: space, Params: params, At: time.Now().UTC()})
	res, ok := k.connectors[id]
	if !ok {
		writeJSON(w, 200, map[string]any{"status": "ok", "connector_id": id, "data": map[string]any{"connector_id": id, "params": params}})
		return
	}
	out := map[string]any{"status": res.Status, "connector_id": id}
	if res.Status == "ok" {
		out["data"] = res.Data
	} else {
		out["message"] = res.Message
		if res.ServiceMessage != "" {
			out["service_message"] = res.ServiceMessage
		}
		out["retry"] = false
	}
	writeJSON(w, 200, out)
}

func (k *Kibana) converse(w http.ResponseWriter, b map[string]any) {
	input, _ := b["input"].(string)
	if strings.TrimSpace(input) == "" {
		kbError(w, 400, "[request body.input]: expected value of type [string] but got [undefined]")
		return
	}
	agent, _ := b["agent_id"].(string)
	if agent == "" {
		agent = "elastic-ai-agent"
	}
	convID, _ := b["conversation_id"].(string)
	var conv *Conversation
	if convID != "" {
		conv = k.conversations[convID]
		if conv == nil {
			kbError(w, 404, "Conversation not found: "+convID)
			return
		}
	} else {
		conv = &Conversation{ID: newID(), AgentID: agent, Title: truncate(input, 60), CreatedAt: nowISO()}
		k.conversations[conv.ID] = conv
		k.convOrder = append(k.convOrder, conv.ID)
	}
	conv.UpdatedAt = nowISO()
	msg := fmt.Sprintf("Sandbox agent %s triage summary. You asked: %q. Assessment: the activity is consistent with the alert; review the host and user context before closing.",
		agent, truncate(input, 200))
	response := map[string]any{"message": msg}
	if schema, ok := b["output_schema"].(map[string]any); ok {
		so := exampleFor(schema, input)
		response["structured_output"] = so
		enc, _ := json.Marshal(so)
		response["message"] = string(enc)
	}
	roundID := newID()
	steps := []any{map[string]any{"type": "reasoning", "reasoning": "Sandbox agent read the input (" + strconv.Itoa(len(strings.Fields(input))) + " words)."}}
	conv.Rounds = append(conv.Rounds, Round{ID: roundID, Input: map[string]any{"message": input}, Steps: steps, Response: response})
	in, out := len(strings.Fields(input)), len(strings.Fields(fmt.Sprint(response["message"])))
	connector, _ := b["connector_id"].(string)
	if connector == "" {
		connector = "sandbox-llm"
	}
	writeJSON(w, 200, map[string]any{"conversation_id": conv.ID, "round_id": roundID, "trace_id": "sandbox-" + roundID[:8],
		"steps": steps, "response": response, "started_at": nowISO(), "time_to_first_token": 5, "time_to_last_token": 10,
		"model_usage": map[string]any{"connector_id": connector, "llm_calls": 1, "input_tokens": in, "output_tokens": out}})
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// exampleFor builds a deterministic value satisfying a JSON schema: enum
// values mentioned in hint win over the first one; strings mention the hint.
func exampleFor(schema map[string]any, hint string) any {
	if enum, ok := schema["enum"].([]any); ok && len(enum) > 0 {
		lh := strings.ToLower(hint)
		for _, e := range enum {
			if s, ok := e.(string); ok && strings.Contains(lh, strings.ToLower(s)) {
				return e
			}
		}
		return enum[0]
	}
	if c, ok := schema["const"]; ok {
		return c
	}
	typ, _ := schema["type"].(string)
	if list, ok := schema["type"].([]any); ok && len(list) > 0 {
		typ, _ = list[0].(string)
	}
	if typ == "" && schema["properties"] != nil {
		typ = "object"
	}
	switch typ {
	case "object":
		props, _ := schema["properties"].(map[string]any)
		out := map[string]any{}
		for name, ps := range props {
			pm, _ := ps.(map[string]any)
			out[name] = exampleFor(pm, hint)
		}
		return out
	case "array":
		items, _ := schema["items"].(map[string]any)
		n := 1
		if v, ok := num(schema["minItems"]); ok && v > 1 {
			n = int(v)
		}
		out := make([]any, n)
		for i := range out {
			out[i] = exampleFor(items, hint)
		}
		return out
	case "number":
		return 0.5
	case "integer":
		return 1.0
	case "boolean":
		return false
	case "null":
		return nil
	}
	return "sandbox: " + truncate(hint, 80)
}

// SetTemplates sets the case templates GET /api/cases/configure returns for
// owner: [{key, name, description, tags, caseFields: {title, description,
// tags, severity, category, customFields, connector, settings, assignees}}].
func (k *Kibana) SetTemplates(owner string, templates []any) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.templates == nil {
		k.templates = map[string][]any{}
	}
	k.templates[owner] = templates
}

// getConfigure answers GET /api/cases/configure: one configuration per owner
// that has templates (owner query filters).
func (k *Kibana) getConfigure(w http.ResponseWriter, space string, q url.Values) {
	owners := multi(q, "owner")
	names := make([]string, 0, len(k.templates))
	for o := range k.templates {
		names = append(names, o)
	}
	sort.Strings(names)
	out := []any{}
	for _, o := range names {
		if !anyIn(owners, o) {
			continue
		}
		out = append(out, map[string]any{"id": "config-" + o, "owner": o, "templates": k.templates[o],
			"customFields": []any{}, "closure_type": "close-by-user", "version": "WzEsMV0=",
			"connector":  map[string]any{"id": "none", "name": "none", "type": ".none", "fields": nil},
			"created_at": nowISO(), "created_by": sandboxUser, "updated_at": nil, "updated_by": nil,
			"error": nil, "mappings": []any{}})
	}
	writeJSON(w, 200, out)
}

// observablesOf returns the observables of c (never nil).
func observablesOf(c *kbCase) []any {
	if c.observables == nil {
		return []any{}
	}
	return c.observables
}

// addObservable answers POST /api/cases/{id}/observables with body
// {observable: {typeKey, value, description}}; a duplicate (same typeKey and
// value) is a 400 as in Kibana.
func (k *Kibana) addObservable(w http.ResponseWriter, space, id string, b map[string]any) {
	c := k.find(space, id)
	if c == nil {
		kbError(w, 404, fmt.Sprintf("Saved object [cases/%s] not found", id))
		return
	}
	o, _ := b["observable"].(map[string]any)
	typeKey, _ := o["typeKey"].(string)
	value, _ := o["value"].(string)
	if typeKey == "" || value == "" {
		kbError(w, 400, "[request body.observable]: typeKey and value are required")
		return
	}
	for _, raw := range c.observables {
		if m := raw.(map[string]any); m["typeKey"] == typeKey && m["value"] == value {
			kbError(w, 400, "Observable of this type and value already exists")
			return
		}
	}
	now := nowISO()
	c.observables = append(c.observables, map[string]any{"id": newID(), "typeKey": typeKey, "value": value,
		"description": o["description"], "createdAt": now, "updatedAt": now})
	c.updatedAt = now
	k.bump(c)
	writeJSON(w, 200, k.render(c, true))
}

// changeObservable answers PATCH (body {observable: {value, description}};
// returns the case) and DELETE (204) of /api/cases/{id}/observables/{oid}.
func (k *Kibana) changeObservable(w http.ResponseWriter, method, space, id, oid string, b map[string]any) {
	c := k.find(space, id)
	if c == nil {
		kbError(w, 404, fmt.Sprintf("Saved object [cases/%s] not found", id))
		return
	}
	idx := -1
	for i, raw := range c.observables {
		if raw.(map[string]any)["id"] == oid {
			idx = i
		}
	}
	if idx < 0 {
		kbError(w, 404, fmt.Sprintf("Failed to find observable with id: %s", oid))
		return
	}
	now := nowISO()
	c.updatedAt = now
	if method == http.MethodDelete {
		c.observables = append(c.observables[:idx], c.observables[idx+1:]...)
		k.bump(c)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	o, _ := b["observable"].(map[string]any)
	value, _ := o["value"].(string)
	if value == "" {
		kbError(w, 400, "[request body.observable.value]: value is required")
		return
	}
	m := c.observables[idx].(map[string]any)
	m["value"], m["description"], m["updatedAt"] = value, o["description"], now
	k.bump(c)
	writeJSON(w, 200, k.render(c, true))
}

// similarCases answers POST /internal/cases/{id}/_similar ({page, perPage}):
// the other cases of the space sharing at least one observable (typeKey and
// value) with the case, each with similarities.observables.
func (k *Kibana) similarCases(w http.ResponseWriter, space, id string, b map[string]any) {
	c := k.find(space, id)
	if c == nil {
		kbError(w, 404, fmt.Sprintf("Saved object [cases/%s] not found", id))
		return
	}
	page, perPage := 1, 20
	if n, ok := b["page"].(float64); ok && n > 0 {
		page = int(n)
	}
	if n, ok := b["perPage"].(float64); ok && n > 0 {
		perPage = int(n)
	}
	key := func(raw any) string {
		m := raw.(map[string]any)
		return fmt.Sprint(m["typeKey"]) + "\x00" + fmt.Sprint(m["value"])
	}
	mine := map[string]bool{}
	for _, o := range c.observables {
		mine[key(o)] = true
	}
	var matched []any
	for _, other := range k.cases {
		if other == c || other.Space != space || other.Owner != c.Owner {
			continue
		}
		sims := []any{}
		for _, o := range other.observables {
			if mine[key(o)] {
				m := o.(map[string]any)
				sims = append(sims, map[string]any{"typeKey": m["typeKey"], "typeLabel": m["typeKey"], "value": m["value"]})
			}
		}
		if len(sims) > 0 {
			r := k.render(other, false)
			r["similarities"] = map[string]any{"observables": sims}
			matched = append(matched, r)
		}
	}
	out := []any{}
	for i := (page - 1) * perPage; i >= 0 && i < len(matched) && i < page*perPage; i++ {
		out = append(out, matched[i])
	}
	writeJSON(w, 200, map[string]any{"cases": out, "page": page, "per_page": perPage, "total": len(matched)})
}

// serveMultipart answers the multipart/form-data endpoints:
// POST /api/saved_objects/_import, whose `file` part holds NDJSON saved
// objects ({type, id, attributes} a line). The response is Kibana's import
// result; a missing file part is a 400 as in Kibana.
func (k *Kibana) serveMultipart(w http.ResponseWriter, r *http.Request, space, p string) {
	if p != "/api/saved_objects/_import" || r.Method != http.MethodPost {
		kbError(w, 415, "Unsupported Media Type")
		return
	}
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		kbError(w, 400, "[request body]: "+err.Error())
		return
	}
	f, _, err := r.FormFile("file")
	if err != nil {
		kbError(w, 400, "[request body.file]: expected value of type [Stream] but got [undefined]")
		return
	}
	defer f.Close()
	var buf strings.Builder
	if _, err := io.Copy(&buf, f); err != nil {
		kbError(w, 400, "[request body.file]: "+err.Error())
		return
	}
	results, errs := []any{}, []any{}
	for _, line := range strings.Split(buf.String(), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var obj map[string]any
		if json.Unmarshal([]byte(line), &obj) != nil || obj["type"] == nil || obj["id"] == nil {
			errs = append(errs, map[string]any{"error": map[string]any{"type": "unsupported_type"}, "id": obj["id"], "type": obj["type"]})
			continue
		}
		results = append(results, map[string]any{"type": obj["type"], "id": obj["id"], "meta": map[string]any{"title": obj["id"]}})
	}
	k.mu.Lock()
	k.imports = append(k.imports, Import{Space: space, Overwrite: r.URL.Query().Get("overwrite") == "true", Fields: r.MultipartForm.Value, Objects: len(results)})
	k.mu.Unlock()
	writeJSON(w, 200, map[string]any{"success": len(errs) == 0, "successCount": len(results), "successResults": results, "errors": errs})
}

// Import is one saved-objects import the fake received.
type Import struct {
	Space     string              `json:"space"`
	Overwrite bool                `json:"overwrite"`
	Fields    map[string][]string `json:"fields"`
	Objects   int                 `json:"objects"`
}

// Imports returns the saved-objects imports received, in order.
func (k *Kibana) Imports() []Import {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]Import(nil), k.imports...)
}
