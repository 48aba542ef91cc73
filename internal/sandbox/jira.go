package sandbox

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

func init() { register("jira", func() Service { return NewJira() }) }

// JiraIssue is one issue the Jira fake holds.
type JiraIssue struct {
	ID       string         `json:"id"`
	Key      string         `json:"key"`
	Fields   map[string]any `json:"fields"`
	Status   string         `json:"status"`
	Comments []JiraComment  `json:"comments"`
	Created  time.Time      `json:"created"`
	Updated  time.Time      `json:"updated"`
}

// Labels returns the issue's labels.
func (i JiraIssue) Labels() []string {
	var out []string
	for _, l := range jiraList(i.Fields["labels"]) {
		if s, ok := l.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// JiraComment is one comment of a JiraIssue.
type JiraComment struct {
	ID         string           `json:"id"`
	Body       any              `json:"body"`
	Properties []map[string]any `json:"properties,omitempty"`
	Created    time.Time        `json:"created"`
}

type jiraStatus struct{ id, name, catID, catKey, catName, transitionID string }

var jiraStatuses = []jiraStatus{
	{"10000", "To Do", "2", "new", "To Do", "11"},
	{"3", "In Progress", "4", "indeterminate", "In Progress", "21"},
	{"10001", "Done", "3", "done", "Done", "31"},
}

var jiraIssueTypes = []struct{ id, name string }{{"10001", "Task"}, {"10002", "Bug"}, {"10003", "Story"}}

var jiraPriorities = []struct{ id, name string }{{"1", "Highest"}, {"2", "High"}, {"3", "Medium"}, {"4", "Low"}, {"5", "Lowest"}}

// Jira is a fake of the Jira Cloud REST API v2 and v3
// (https://developer.atlassian.com/cloud/jira/platform/rest/v2/): issues,
// comments (with entity properties), transitions, JQL search (a subset:
// `field = value`, `field != value`, `field ~ text`, joined by AND, for
// project, key, labels, summary, status and issuetype), create metadata and
// myself. Basic auth with JiraEmail/JiraAPIToken; one project, JiraProjectKey.
type Jira struct {
	mu     sync.Mutex
	issues []*JiraIssue
	nextID int
	cmtID  int
	// Faults injects error answers (429 with Retry-After, 5xx...).
	Faults
	lost lostAnswers
}

// NewJira returns an empty Jira fake.
func NewJira() *Jira { return &Jira{nextID: 10000, cmtID: 10000} }

// Name implements Service.
func (j *Jira) Name() string { return "jira" }

// LoseAnswer serves the next request whose path ends with suffix (or, as
// "POST /comment", whose method and path suffix match) and then drops the
// connection instead of answering (the crash window). Note that Go's HTTP
// client transparently retries an idempotent request (GET) whose answer is
// lost on a reused connection.
func (j *Jira) LoseAnswer(suffix string) { j.lost.lose(suffix) }

// Issues returns a copy of every issue, in creation order.
func (j *Jira) Issues() []JiraIssue {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]JiraIssue, len(j.issues))
	for i, is := range j.issues {
		out[i] = *is
		out[i].Fields = jiraCloneMap(is.Fields)
		out[i].Comments = append([]JiraComment(nil), is.Comments...)
	}
	return out
}

// Handler implements Service.
func (j *Jira) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /rest/api/{v}/issue", j.createIssue)
	mux.HandleFunc("GET /rest/api/{v}/issue/{key}", j.getIssue)
	mux.HandleFunc("PUT /rest/api/{v}/issue/{key}", j.updateIssue)
	mux.HandleFunc("GET /rest/api/{v}/issue/{key}/comment", j.listComments)
	mux.HandleFunc("POST /rest/api/{v}/issue/{key}/comment", j.addComment)
	mux.HandleFunc("GET /rest/api/{v}/issue/{key}/transitions", j.listTransitions)
	mux.HandleFunc("POST /rest/api/{v}/issue/{key}/transitions", j.doTransition)
	mux.HandleFunc("GET /rest/api/{v}/search", j.search)
	mux.HandleFunc("POST /rest/api/{v}/search", j.search)
	mux.HandleFunc("GET /rest/api/{v}/search/jql", j.search)
	mux.HandleFunc("POST /rest/api/{v}/search/jql", j.search)
	mux.HandleFunc("GET /rest/api/{v}/myself", j.myself)
	mux.HandleFunc("GET /rest/api/{v}/issue/createmeta/{project}/issuetypes", j.issueTypes)
	mux.HandleFunc("GET /rest/api/{v}/issue/createmeta/{project}/issuetypes/{id}", j.issueTypeFields)
	return j.Wrap(j.lost.wrap(j.auth(mux)), nil, func(status int) string {
		return `{"errorMessages":["` + http.StatusText(status) + `"],"errors":{}}`
	})
}

func jiraErr(w http.ResponseWriter, status int, messages []string, errs map[string]string) {
	if messages == nil {
		messages = []string{}
	}
	if errs == nil {
		errs = map[string]string{}
	}
	writeJSON(w, status, map[string]any{"errorMessages": messages, "errors": errs})
}

func (j *Jira) auth(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != JiraEmail || pass != JiraAPIToken {
			w.Header().Set("WWW-Authenticate", `Basic realm="protected-area"`)
			jiraErr(w, http.StatusUnauthorized, []string{"Client must be authenticated to access this resource."}, nil)
			return
		}
		if v := r.PathValue("v"); v != "" && v != "2" && v != "3" {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func jiraTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-0700") }

func jiraBase(r *http.Request) string { return "http://" + r.Host }

func (j *Jira) findLocked(ref string) *JiraIssue {
	for _, is := range j.issues {
		if is.ID == ref || strings.EqualFold(is.Key, ref) {
			return is
		}
	}
	return nil
}

func jiraNotFound(w http.ResponseWriter) {
	jiraErr(w, http.StatusNotFound, []string{"Issue does not exist or you do not have permission to see it."}, nil)
}

func jiraDecode(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func jiraList(v any) []any {
	l, _ := v.([]any)
	return l
}

func jiraCloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// jiraSettable lists the system fields the fake's create/edit screens hold.
var jiraSettable = map[string]bool{"summary": true, "description": true, "labels": true, "issuetype": true,
	"project": true, "priority": true, "parent": true, "assignee": true, "duedate": true, "components": true,
	"environment": true}

// jiraValidateFields checks fields the way Jira's create/edit screens do and
// normalises references (issuetype, priority, project) to full objects.
func jiraValidateFields(v string, fields map[string]any, create bool) map[string]string {
	errs := map[string]string{}
	for k := range fields {
		if !jiraSettable[k] && !strings.HasPrefix(k, "customfield_") {
			errs[k] = fmt.Sprintf("Field '%s' cannot be set. It is not on the appropriate screen, or unknown.", k)
		}
	}
	ref := func(k string) map[string]any { m, _ := fields[k].(map[string]any); return m }
	if create {
		p := ref("project")
		if p == nil || (p["key"] != JiraProjectKey && p["id"] != "10000") {
			errs["project"] = "valid project is required"
		}
		if ref("issuetype") == nil {
			errs["issuetype"] = "Specify an issue type"
		}
	}
	if _, present := fields["issuetype"]; present {
		it := ref("issuetype")
		found := false
		for _, t := range jiraIssueTypes {
			if it != nil && (it["id"] == t.id || it["name"] == t.name) {
				fields["issuetype"] = map[string]any{"id": t.id, "name": t.name, "subtask": false}
				found = true
			}
		}
		if !found {
			errs["issuetype"] = "The issue type selected is invalid."
		}
	}
	if _, present := fields["priority"]; present {
		pr := ref("priority")
		found := false
		for _, p := range jiraPriorities {
			if pr != nil && (pr["id"] == p.id || pr["name"] == p.name) {
				fields["priority"] = map[string]any{"id": p.id, "name": p.name}
				found = true
			}
		}
		if !found {
			errs["priority"] = "Specify the Priority (id or name) in the string format"
		}
	}
	if s, present := fields["summary"]; present || create {
		str, _ := s.(string)
		switch {
		case strings.TrimSpace(str) == "":
			errs["summary"] = "You must specify a summary of the issue."
		case len(str) > 255:
			errs["summary"] = "Summary must be less than 255 characters."
		case strings.ContainsAny(str, "\r\n"):
			errs["summary"] = "The summary is invalid because it contains newline characters."
		}
	}
	if d, present := fields["description"]; present && d != nil {
		if _, isStr := d.(string); v == "3" && isStr {
			errs["description"] = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
		} else if _, isObj := d.(map[string]any); v == "2" && isObj {
			errs["description"] = "Operation value must be a string"
		}
	}
	if l, present := fields["labels"]; present && l != nil {
		for _, e := range jiraList(l) {
			s, ok := e.(string)
			if !ok || strings.ContainsAny(s, " \t\r\n") {
				errs["labels"] = fmt.Sprintf("The label '%v' contains spaces which is invalid.", e)
			}
		}
		if _, ok := l.([]any); !ok {
			errs["labels"] = "data was not an array"
		}
	}
	return errs
}

func (j *Jira) createIssue(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Fields map[string]any `json:"fields"`
	}
	if err := jiraDecode(r, &body); err != nil {
		jiraErr(w, http.StatusBadRequest, []string{"Unexpected character in the request body: " + err.Error()}, nil)
		return
	}
	if body.Fields == nil {
		jiraErr(w, http.StatusBadRequest, nil, map[string]string{"project": "valid project is required",
			"summary": "You must specify a summary of the issue.", "issuetype": "Specify an issue type"})
		return
	}
	if errs := jiraValidateFields(r.PathValue("v"), body.Fields, true); len(errs) > 0 {
		jiraErr(w, http.StatusBadRequest, nil, errs)
		return
	}
	delete(body.Fields, "project")
	j.mu.Lock()
	j.nextID++
	now := time.Now()
	is := &JiraIssue{ID: strconv.Itoa(j.nextID), Key: fmt.Sprintf("%s-%d", JiraProjectKey, len(j.issues)+1),
		Fields: body.Fields, Status: "To Do", Created: now, Updated: now}
	j.issues = append(j.issues, is)
	j.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"id": is.ID, "key": is.Key,
		"self": jiraBase(r) + "/rest/api/" + r.PathValue("v") + "/issue/" + is.ID})
}

func jiraStatusJSON(name string) map[string]any {
	for _, s := range jiraStatuses {
		if s.name == name {
			return map[string]any{"id": s.id, "name": s.name, "statusCategory": map[string]any{
				"id": s.catID, "key": s.catKey, "name": s.catName}}
		}
	}
	return nil
}

func jiraCommentJSON(c JiraComment, self string, withProps bool) map[string]any {
	author := map[string]any{"accountId": "5b10ac8d82e05b22cc7d4ef5", "emailAddress": JiraEmail,
		"displayName": "secflow", "active": true}
	out := map[string]any{"id": c.ID, "self": self + "/comment/" + c.ID, "body": c.Body, "author": author,
		"updateAuthor": author, "created": jiraTime(c.Created), "updated": jiraTime(c.Created), "jsdPublic": true}
	if withProps {
		props := c.Properties
		if props == nil {
			props = []map[string]any{}
		}
		out["properties"] = props
	}
	return out
}

// jiraIssueJSON renders is; fields, when non-empty, limits the fields returned.
func jiraIssueJSON(r *http.Request, is *JiraIssue, fields []string) map[string]any {
	self := jiraBase(r) + "/rest/api/" + r.PathValue("v") + "/issue/" + is.ID
	f := jiraCloneMap(is.Fields)
	f["project"] = map[string]any{"id": "10000", "key": JiraProjectKey, "name": "Security"}
	f["status"] = jiraStatusJSON(is.Status)
	f["created"] = jiraTime(is.Created)
	f["updated"] = jiraTime(is.Updated)
	if _, ok := f["labels"]; !ok {
		f["labels"] = []any{}
	}
	comments := make([]any, len(is.Comments))
	for i, c := range is.Comments {
		comments[i] = jiraCommentJSON(c, self, false)
	}
	f["comment"] = map[string]any{"comments": comments, "maxResults": len(comments), "total": len(comments), "startAt": 0}
	if len(fields) > 0 && !(len(fields) == 1 && (fields[0] == "*all" || fields[0] == "*navigable")) {
		keep := map[string]any{}
		for _, k := range fields {
			if v, ok := f[k]; ok {
				keep[k] = v
			}
		}
		f = keep
	}
	return map[string]any{"expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
		"id": is.ID, "key": is.Key, "self": self, "fields": f}
}

func jiraSplitFields(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func (j *Jira) getIssue(w http.ResponseWriter, r *http.Request) {
	j.mu.Lock()
	defer j.mu.Unlock()
	is := j.findLocked(r.PathValue("key"))
	if is == nil {
		jiraNotFound(w)
		return
	}
	writeJSON(w, http.StatusOK, jiraIssueJSON(r, is, jiraSplitFields(r.URL.Query().Get("fields"))))
}

func (j *Jira) updateIssue(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Fields map[string]any              `json:"fields"`
		Update map[string][]map[string]any `json:"update"`
	}
	if err := jiraDecode(r, &body); err != nil {
		jiraErr(w, http.StatusBadRequest, []string{"Unexpected character in the request body: " + err.Error()}, nil)
		return
	}
	if body.Fields == nil {
		body.Fields = map[string]any{}
	}
	if errs := jiraValidateFields(r.PathValue("v"), body.Fields, false); len(errs) > 0 {
		jiraErr(w, http.StatusBadRequest, nil, errs)
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	is := j.findLocked(r.PathValue("key"))
	if is == nil {
		jiraNotFound(w)
		return
	}
	delete(body.Fields, "project")
	for k, v := range body.Fields {
		is.Fields[k] = v
	}
	for _, op := range body.Update["labels"] {
		labels := jiraList(is.Fields["labels"])
		if add, ok := op["add"].(string); ok && !jiraContains(labels, add) {
			labels = append(labels, add)
		}
		if rm, ok := op["remove"].(string); ok {
			var kept []any
			for _, l := range labels {
				if l != rm {
					kept = append(kept, l)
				}
			}
			labels = kept
		}
		is.Fields["labels"] = labels
	}
	is.Updated = time.Now()
	w.WriteHeader(http.StatusNoContent)
}

func jiraContains(list []any, v any) bool {
	for _, e := range list {
		if e == v {
			return true
		}
	}
	return false
}

func (j *Jira) listComments(w http.ResponseWriter, r *http.Request) {
	j.mu.Lock()
	defer j.mu.Unlock()
	is := j.findLocked(r.PathValue("key"))
	if is == nil {
		jiraNotFound(w)
		return
	}
	self := jiraBase(r) + "/rest/api/" + r.PathValue("v") + "/issue/" + is.ID
	withProps := strings.Contains(r.URL.Query().Get("expand"), "properties")
	out := make([]any, len(is.Comments))
	for i, c := range is.Comments {
		out[i] = jiraCommentJSON(c, self, withProps)
	}
	writeJSON(w, http.StatusOK, map[string]any{"startAt": 0, "maxResults": 5000, "total": len(out), "comments": out})
}

func (j *Jira) addComment(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Body       any              `json:"body"`
		Properties []map[string]any `json:"properties"`
	}
	if err := jiraDecode(r, &body); err != nil {
		jiraErr(w, http.StatusBadRequest, []string{"Unexpected character in the request body: " + err.Error()}, nil)
		return
	}
	switch b := body.Body.(type) {
	case string:
		if r.PathValue("v") == "3" {
			jiraErr(w, http.StatusBadRequest, nil, map[string]string{"comment": "Comment body is not valid!"})
			return
		}
		if strings.TrimSpace(b) == "" {
			jiraErr(w, http.StatusBadRequest, nil, map[string]string{"comment": "Comment body can not be empty!"})
			return
		}
	case map[string]any:
		if r.PathValue("v") == "2" {
			jiraErr(w, http.StatusBadRequest, nil, map[string]string{"comment": "Comment body is not valid!"})
			return
		}
	default:
		jiraErr(w, http.StatusBadRequest, nil, map[string]string{"comment": "Comment body can not be empty!"})
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	is := j.findLocked(r.PathValue("key"))
	if is == nil {
		jiraNotFound(w)
		return
	}
	j.cmtID++
	c := JiraComment{ID: strconv.Itoa(j.cmtID), Body: body.Body, Properties: body.Properties, Created: time.Now()}
	is.Comments = append(is.Comments, c)
	is.Updated = c.Created
	writeJSON(w, http.StatusCreated, jiraCommentJSON(c, jiraBase(r)+"/rest/api/"+r.PathValue("v")+"/issue/"+is.ID, false))
}

func jiraTransitionsFrom(current string) []map[string]any {
	var out []map[string]any
	for _, s := range jiraStatuses {
		if s.name == current {
			continue
		}
		out = append(out, map[string]any{"id": s.transitionID, "name": s.name, "to": jiraStatusJSON(s.name),
			"hasScreen": false, "isGlobal": true, "isInitial": false, "isAvailable": true, "isConditional": false})
	}
	return out
}

func (j *Jira) listTransitions(w http.ResponseWriter, r *http.Request) {
	j.mu.Lock()
	defer j.mu.Unlock()
	is := j.findLocked(r.PathValue("key"))
	if is == nil {
		jiraNotFound(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"expand": "transitions", "transitions": jiraTransitionsFrom(is.Status)})
}

func (j *Jira) doTransition(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Transition struct {
			ID any `json:"id"`
		} `json:"transition"`
		Fields map[string]any `json:"fields"`
	}
	if err := jiraDecode(r, &body); err != nil {
		jiraErr(w, http.StatusBadRequest, []string{"Unexpected character in the request body: " + err.Error()}, nil)
		return
	}
	id := fmt.Sprint(body.Transition.ID)
	j.mu.Lock()
	defer j.mu.Unlock()
	is := j.findLocked(r.PathValue("key"))
	if is == nil {
		jiraNotFound(w)
		return
	}
	for _, t := range jiraTransitionsFrom(is.Status) {
		if t["id"] == id {
			is.Status = t["name"].(string)
			is.Updated = time.Now()
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	jiraErr(w, http.StatusBadRequest, []string{fmt.Sprintf("Transition id '%s' is not valid for this issue.", id)}, nil)
}

func (j *Jira) myself(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"accountId": "5b10ac8d82e05b22cc7d4ef5", "emailAddress": JiraEmail,
		"displayName": "secflow", "active": true, "timeZone": "UTC", "accountType": "atlassian"})
}

func (j *Jira) issueTypes(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("project") != JiraProjectKey && r.PathValue("project") != "10000" {
		jiraErr(w, http.StatusNotFound, []string{fmt.Sprintf("No project could be found with key '%s'.", r.PathValue("project"))}, nil)
		return
	}
	var types []any
	for _, t := range jiraIssueTypes {
		types = append(types, map[string]any{"id": t.id, "name": t.name, "subtask": false, "description": "",
			"self": jiraBase(r) + "/rest/api/" + r.PathValue("v") + "/issuetype/" + t.id})
	}
	writeJSON(w, http.StatusOK, map[string]any{"maxResults": 50, "startAt": 0, "total": len(types), "issueTypes": types})
}

func (j *Jira) issueTypeFields(w http.ResponseWriter, r *http.Request) {
	fields := []any{
		map[string]any{"fieldId": "summary", "name": "Summary", "required": true, "schema": map[string]any{"type": "string", "system": "summary"}},
		map[string]any{"fieldId": "description", "name": "Description", "required": false, "schema": map[string]any{"type": "string", "system": "description"}},
		map[string]any{"fieldId": "labels", "name": "Labels", "required": false, "schema": map[string]any{"type": "array", "items": "string", "system": "labels"}},
	}
	var prios []any
	for _, p := range jiraPriorities {
		prios = append(prios, map[string]any{"id": p.id, "name": p.name})
	}
	fields = append(fields, map[string]any{"fieldId": "priority", "name": "Priority", "required": false,
		"schema": map[string]any{"type": "priority", "system": "priority"}, "allowedValues": prios,
		"defaultValue": map[string]any{"id": "3", "name": "Medium"}})
	writeJSON(w, http.StatusOK, map[string]any{"maxResults": 50, "startAt": 0, "total": len(fields), "fields": fields})
}

// jqlClause is one `field op value` condition.
type jqlClause struct{ field, op, value string }

// jiraParseJQL parses the supported JQL subset; ORDER BY is accepted and ignored.
func jiraParseJQL(q string) ([]jqlClause, error) {
	if i := strings.Index(strings.ToLower(q), "order by"); i >= 0 {
		q = q[:i]
	}
	var out []jqlClause
	rest := strings.TrimSpace(q)
	for rest != "" {
		// field
		i := strings.IndexAny(rest, " =!~")
		if i <= 0 {
			return nil, fmt.Errorf("Error in the JQL Query: Expecting operator but got '%s'.", rest)
		}
		field := strings.ToLower(rest[:i])
		rest = strings.TrimSpace(rest[i:])
		var op string
		switch {
		case strings.HasPrefix(rest, "!="):
			op = "!="
		case strings.HasPrefix(rest, "="):
			op = "="
		case strings.HasPrefix(rest, "~"):
			op = "~"
		default:
			return nil, fmt.Errorf("Error in the JQL Query: Expecting operator but got '%s'.", rest)
		}
		rest = strings.TrimSpace(rest[len(op):])
		var value string
		if strings.HasPrefix(rest, `"`) || strings.HasPrefix(rest, `'`) {
			quote := rest[0]
			var b strings.Builder
			k := 1
			for ; k < len(rest) && rest[k] != quote; k++ {
				if rest[k] == '\\' && k+1 < len(rest) {
					k++
				}
				b.WriteByte(rest[k])
			}
			if k >= len(rest) {
				return nil, fmt.Errorf("Error in the JQL Query: The quoted string '%s' has not been completed.", rest)
			}
			value, rest = b.String(), strings.TrimSpace(rest[k+1:])
		} else {
			k := strings.IndexByte(rest, ' ')
			if k < 0 {
				k = len(rest)
			}
			value, rest = rest[:k], strings.TrimSpace(rest[k:])
		}
		switch field {
		case "project", "key", "issuekey", "labels", "summary", "status", "issuetype", "text":
		default:
			return nil, fmt.Errorf("Field '%s' does not exist or you do not have permission to view it.", field)
		}
		if field == "project" && value != JiraProjectKey && value != "10000" {
			return nil, fmt.Errorf("The value '%s' does not exist for the field 'project'.", value)
		}
		out = append(out, jqlClause{field, op, value})
		if rest == "" {
			break
		}
		if len(rest) < 4 || !strings.EqualFold(rest[:4], "and ") {
			return nil, fmt.Errorf("Error in the JQL Query: Expecting either 'OR' or 'AND' but got '%s'.", rest)
		}
		rest = strings.TrimSpace(rest[4:])
	}
	return out, nil
}

func (c jqlClause) match(is *JiraIssue) bool {
	var hit bool
	switch c.field {
	case "project":
		hit = true
	case "key", "issuekey":
		hit = strings.EqualFold(is.Key, c.value) || is.ID == c.value
	case "labels":
		hit = jiraContains(jiraList(is.Fields["labels"]), c.value)
	case "status":
		hit = strings.EqualFold(is.Status, c.value)
	case "issuetype":
		it, _ := is.Fields["issuetype"].(map[string]any)
		hit = it != nil && (strings.EqualFold(fmt.Sprint(it["name"]), c.value) || it["id"] == c.value)
	case "summary", "text":
		s, _ := is.Fields["summary"].(string)
		if c.op == "~" {
			hit = strings.Contains(strings.ToLower(s), strings.ToLower(strings.Trim(c.value, "*")))
		} else {
			hit = s == c.value
		}
	}
	if c.op == "!=" {
		return !hit
	}
	return hit
}

func (j *Jira) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	jql, fields := q.Get("jql"), jiraSplitFields(q.Get("fields"))
	startAt, _ := strconv.Atoi(q.Get("startAt"))
	maxResults, _ := strconv.Atoi(q.Get("maxResults"))
	if r.Method == http.MethodPost {
		var body struct {
			JQL        string   `json:"jql"`
			StartAt    int      `json:"startAt"`
			MaxResults int      `json:"maxResults"`
			Fields     []string `json:"fields"`
		}
		if err := jiraDecode(r, &body); err != nil {
			jiraErr(w, http.StatusBadRequest, []string{"Unexpected character in the request body: " + err.Error()}, nil)
			return
		}
		jql, startAt, maxResults, fields = body.JQL, body.StartAt, body.MaxResults, body.Fields
	}
	if maxResults <= 0 {
		maxResults = 50
	}
	clauses, err := jiraParseJQL(jql)
	if err != nil {
		jiraErr(w, http.StatusBadRequest, []string{err.Error()}, nil)
		return
	}
	j.mu.Lock()
	var matched []*JiraIssue
	for _, is := range j.issues {
		ok := true
		for _, c := range clauses {
			ok = ok && c.match(is)
		}
		if ok {
			matched = append(matched, is)
		}
	}
	sort.SliceStable(matched, func(a, b int) bool { return matched[a].ID > matched[b].ID })
	total := len(matched)
	startAt = min(startAt, total)
	end := min(startAt+maxResults, total)
	issues := make([]any, 0, end-startAt)
	for _, is := range matched[startAt:end] {
		issues = append(issues, jiraIssueJSON(r, is, fields))
	}
	j.mu.Unlock()
	if strings.HasSuffix(r.URL.Path, "/jql") {
		writeJSON(w, http.StatusOK, map[string]any{"issues": issues, "isLast": end >= total})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"expand": "schema,names", "startAt": startAt,
		"maxResults": maxResults, "total": total, "issues": issues})
}
