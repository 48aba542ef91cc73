package jira

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// createFields builds the `fields` of a create/edit request from a Kibana
// incident, as Kibana's createFields does.
func (c *client) createFields(inc map[string]any, extraLabel string) (map[string]any, error) {
	fields := map[string]any{"project": map[string]any{"key": c.projectKey}}
	if s, ok := inc["summary"].(string); ok {
		fields["summary"] = trimAndRemoveNewlines(s)
	}
	if v := str(inc, "issueType"); v != "" {
		fields["issuetype"] = map[string]any{"id": v}
	}
	if v := str(inc, "description"); v != "" {
		fields["description"] = v
	}
	var labels []any
	if l, ok := inc["labels"].([]any); ok {
		for _, e := range l {
			s := activitykit.Stringify(e)
			if strings.ContainsAny(s, " \t\r\n") {
				return nil, step.Errorf("InputValidationError", "The label %s cannot contain spaces", s)
			}
			labels = append(labels, s)
		}
	}
	if extraLabel != "" {
		labels = append(labels, extraLabel)
	}
	if labels != nil {
		fields["labels"] = labels
	}
	if v := str(inc, "priority"); v != "" {
		fields["priority"] = map[string]any{"name": v}
	}
	if v := str(inc, "parent"); v != "" {
		fields["parent"] = map[string]any{"key": v}
	}
	if other, ok := inc["otherFields"].(map[string]any); ok {
		for k, v := range other {
			fields[k] = v
		}
	}
	return fields, nil
}

// trimAndRemoveNewlines joins the non-empty trimmed lines of s with ", ".
func trimAndRemoveNewlines(s string) string {
	var parts []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, ", ")
}

// push is Kibana's pushToService with label-based de-duplication.
func (c *client) push(ctx context.Context, params map[string]any, key string) (any, error) {
	inc, _ := params[pIncident].(map[string]any)
	if inc == nil {
		return nil, step.Errorf("InputValidationError", "jira.pushToService: incident is required")
	}
	externalID := str(inc, pExternalID)
	var res map[string]any
	var issueID string
	if externalID == "" {
		if strings.TrimSpace(str(inc, "summary")) == "" {
			return nil, step.Errorf("InputValidationError", "jira.pushToService: incident.summary is required")
		}
		label := Label(key)
		found, err := c.search(ctx, fmt.Sprintf(`labels = "%s"`, escapeJQL(label)), []string{"summary", "created"}, 1)
		if err != nil {
			return nil, c.fail(ctx, "Unable to create incident", err)
		}
		if len(found) > 0 {
			issueID = found[0].ID // an earlier attempt created it
		} else {
			if issueID, err = c.create(ctx, inc, label); err != nil {
				return nil, err
			}
		}
		got, err := c.get(ctx, issueID)
		if err != nil {
			return nil, c.fail(ctx, "Unable to create incident", err)
		}
		res = map[string]any{"id": got.ID, "title": got.Key, "pushedDate": jiraTime(got.Fields["created"]), "url": c.baseURL + "/browse/" + got.Key}
		issueID = got.ID
	} else {
		what := "Unable to update incident with id " + externalID
		sub := map[string]any{}
		for k, v := range inc {
			if v != nil && k != pExternalID {
				sub[k] = v
			}
		}
		fields, err := c.createFields(sub, "")
		if err != nil {
			return nil, err
		}
		if err := c.do(ctx, http.MethodPut, "rest/api/2/issue/"+url.PathEscape(externalID), map[string]any{"fields": fields}, nil); err != nil {
			return nil, c.fail(ctx, what, err)
		}
		got, err := c.get(ctx, externalID)
		if err != nil {
			return nil, c.fail(ctx, what, err)
		}
		res = map[string]any{"id": got.ID, "title": got.Key, "pushedDate": jiraTime(got.Fields["updated"]), "url": c.baseURL + "/browse/" + got.Key}
		issueID = got.ID
	}
	comments, _ := params[pComments].([]any)
	if len(comments) == 0 {
		return res, nil
	}
	var existing []commentDoc
	loaded := false
	pushed := []any{}
	for i, e := range comments {
		cm, _ := e.(map[string]any)
		text := str(cm, pComment)
		if text == "" {
			continue
		}
		if !loaded {
			var err error
			if existing, err = c.comments(ctx, issueID); err != nil {
				return nil, c.fail(ctx, "Unable to create comment at incident with id "+issueID, err)
			}
			loaded = true
		}
		id := str(cm, pCommentID)
		marker := key + "#comment:" + id
		if id == "" {
			marker = key + "#comment:" + strconv.Itoa(i)
		}
		created, err := c.addCommentOnce(ctx, issueID, text, marker, existing)
		if err != nil {
			return nil, err
		}
		pushed = append(pushed, map[string]any{"commentId": id, "pushedDate": jiraTime(created.Created)})
	}
	res["comments"] = pushed
	return res, nil
}

// create creates an issue labelled with label and returns its id.
func (c *client) create(ctx context.Context, inc map[string]any, label string) (string, error) {
	const what = "Unable to create incident"
	if str(inc, "issueType") == "" {
		types, err := c.issueTypeList(ctx)
		if err != nil {
			return "", c.fail(ctx, "Unable to get issue types", err)
		}
		if len(types) > 0 {
			inc = cloneMap(inc)
			inc["issueType"] = types[0]["id"]
		}
	}
	fields, err := c.createFields(inc, label)
	if err != nil {
		return "", err
	}
	var created struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	if err := c.do(ctx, http.MethodPost, "rest/api/2/issue", map[string]any{"fields": fields}, &created); err != nil {
		return "", c.fail(ctx, what, err)
	}
	if created.ID == "" {
		return "", step.Errorf("ConnectorExecutionError", "[Action][Jira]: %s. Error: Response is missing the expected field: id", what)
	}
	return created.ID, nil
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// get reads one issue.
func (c *client) get(ctx context.Context, idOrKey string) (*issueDoc, error) {
	var d issueDoc
	if err := c.do(ctx, http.MethodGet, "rest/api/2/issue/"+url.PathEscape(idOrKey), nil, &d); err != nil {
		return nil, err
	}
	if d.ID == "" || d.Key == "" {
		return nil, step.Errorf("ConnectorExecutionError", "Response is missing at the expected fields: id, key")
	}
	return &d, nil
}

func (c *client) getIncident(ctx context.Context, id string) (any, error) {
	if id == "" {
		return nil, step.Errorf("InputValidationError", "jira.getIncident: externalId is required")
	}
	d, err := c.get(ctx, id)
	if err != nil {
		return nil, c.fail(ctx, "Unable to get incident with id "+id, err)
	}
	out := map[string]any{}
	for k, v := range d.Fields {
		out[k] = v
	}
	out["id"], out["key"], out["created"], out["updated"] = d.ID, d.Key, d.Fields["created"], d.Fields["updated"]
	return out, nil
}

func (c *client) issue(ctx context.Context, id string) (any, error) {
	if id == "" {
		return nil, step.Errorf("InputValidationError", "jira.issue: id is required")
	}
	d, err := c.get(ctx, id)
	if err != nil {
		return nil, c.fail(ctx, "Unable to get issue with id "+id, err)
	}
	return map[string]any{"id": d.ID, "key": d.Key, "title": d.Fields["summary"]}, nil
}

func (c *client) issues(ctx context.Context, title string) (any, error) {
	found, err := c.search(ctx, fmt.Sprintf(`project="%s" and summary ~"%s"`, escapeJQL(c.projectKey), escapeJQL(title)), []string{"summary", "key"}, 50)
	if err != nil {
		return nil, c.fail(ctx, "Unable to get issues", err)
	}
	out := make([]any, 0, len(found))
	for _, d := range found {
		out = append(out, map[string]any{"id": d.ID, "key": d.Key, "title": d.Fields["summary"]})
	}
	return out, nil
}

// issueTypeList reads the project's issue types (Cloud answers issueTypes,
// Data Center values).
func (c *client) issueTypeList(ctx context.Context) ([]map[string]any, error) {
	var doc struct {
		IssueTypes []map[string]any `json:"issueTypes"`
		Values     []map[string]any `json:"values"`
	}
	if err := c.do(ctx, http.MethodGet, "rest/api/2/issue/createmeta/"+url.PathEscape(c.projectKey)+"/issuetypes", nil, &doc); err != nil {
		return nil, err
	}
	list := doc.IssueTypes
	if list == nil {
		list = doc.Values
	}
	out := make([]map[string]any, 0, len(list))
	for _, t := range list {
		out = append(out, map[string]any{"id": t["id"], "name": t["name"]})
	}
	return out, nil
}

func (c *client) issueTypes(ctx context.Context) (any, error) {
	types, err := c.issueTypeList(ctx)
	if err != nil {
		return nil, c.fail(ctx, "Unable to get issue types", err)
	}
	out := make([]any, len(types))
	for i, t := range types {
		out[i] = t
	}
	return out, nil
}

// fieldsOf reads the create fields of one issue type, normalised as Kibana does.
func (c *client) fieldsOf(ctx context.Context, issueTypeID string) (map[string]any, error) {
	var doc struct {
		Fields []map[string]any `json:"fields"`
		Values []map[string]any `json:"values"`
	}
	path := "rest/api/2/issue/createmeta/" + url.PathEscape(c.projectKey) + "/issuetypes/" + url.PathEscape(issueTypeID)
	if err := c.do(ctx, http.MethodGet, path, nil, &doc); err != nil {
		return nil, err
	}
	list := doc.Fields
	if list == nil {
		list = doc.Values
	}
	out := map[string]any{}
	for _, f := range list {
		id, _ := f["fieldId"].(string)
		if id == "" {
			continue
		}
		allowed := f["allowedValues"]
		if allowed == nil {
			allowed = []any{}
		}
		def := f["defaultValue"]
		if def == nil {
			def = map[string]any{}
		}
		out[id] = map[string]any{"required": f["required"], "allowedValues": allowed, "defaultValue": def,
			"schema": f["schema"], "name": f["name"]}
	}
	return out, nil
}

func (c *client) fieldsByIssueType(ctx context.Context, id string) (any, error) {
	if id == "" {
		return nil, step.Errorf("InputValidationError", "jira.fieldsByIssueType: id is required")
	}
	f, err := c.fieldsOf(ctx, id)
	if err != nil {
		return nil, c.fail(ctx, "Unable to get fields", err)
	}
	return f, nil
}

// getFields returns the fields common to every issue type.
func (c *client) getFields(ctx context.Context) (any, error) {
	types, err := c.issueTypeList(ctx)
	if err != nil {
		return nil, c.fail(ctx, "Unable to get issue types", err)
	}
	var common map[string]any
	for _, t := range types {
		f, err := c.fieldsOf(ctx, activitykit.Stringify(t["id"]))
		if err != nil {
			return nil, c.fail(ctx, "Unable to get fields", err)
		}
		if common == nil {
			common = f
			continue
		}
		for k := range common {
			if _, ok := f[k]; !ok {
				delete(common, k)
			}
		}
	}
	if common == nil {
		common = map[string]any{}
	}
	return common, nil
}

// commentDoc is one comment with its entity properties.
type commentDoc struct {
	ID         string `json:"id"`
	Created    string `json:"created"`
	Properties []struct {
		Key   string         `json:"key"`
		Value map[string]any `json:"value"`
	} `json:"properties"`
}

// comments lists an issue's comments with their properties.
func (c *client) comments(ctx context.Context, issueID string) ([]commentDoc, error) {
	var all []commentDoc
	for start := 0; ; {
		var page struct {
			StartAt  int          `json:"startAt"`
			Total    int          `json:"total"`
			Comments []commentDoc `json:"comments"`
		}
		path := fmt.Sprintf("rest/api/2/issue/%s/comment?expand=properties&maxResults=1000&startAt=%d", url.PathEscape(issueID), start)
		if err := c.do(ctx, http.MethodGet, path, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Comments...)
		start += len(page.Comments)
		if len(page.Comments) == 0 || start >= page.Total {
			return all, nil
		}
	}
}

// addCommentOnce adds a comment marked with marker unless one of existing
// already carries it.
func (c *client) addCommentOnce(ctx context.Context, issueID, text, marker string, existing []commentDoc) (*commentDoc, error) {
	for i := range existing {
		for _, p := range existing[i].Properties {
			if p.Key == CommentProperty && p.Value["key"] == marker {
				return &existing[i], nil
			}
		}
	}
	body := map[string]any{"body": text, "properties": []any{
		map[string]any{"key": CommentProperty, "value": map[string]any{"key": marker}}}}
	var created commentDoc
	if err := c.do(ctx, http.MethodPost, "rest/api/2/issue/"+url.PathEscape(issueID)+"/comment", body, &created); err != nil {
		return nil, c.fail(ctx, "Unable to create comment at incident with id "+issueID, err)
	}
	if created.ID == "" || created.Created == "" {
		return nil, step.Errorf("ConnectorExecutionError", "Response is missing at the expected fields: id, created")
	}
	return &created, nil
}

// addCommentStep is the addComment extension.
func (c *client) addCommentStep(ctx context.Context, params map[string]any, key string) (any, error) {
	id, text := str(params, pExternalID), str(params, pComment)
	if id == "" || text == "" {
		return nil, step.Errorf("InputValidationError", "jira.addComment: externalId and comment are required")
	}
	existing, err := c.comments(ctx, id)
	if err != nil {
		return nil, c.fail(ctx, "Unable to create comment at incident with id "+id, err)
	}
	created, err := c.addCommentOnce(ctx, id, text, key+"#comment", existing)
	if err != nil {
		return nil, err
	}
	return map[string]any{"commentId": created.ID, "pushedDate": jiraTime(created.Created)}, nil
}

// transition is the transition extension: it moves the issue by
// transition id or target status name, and does nothing when the issue is
// already in the target status (a retried step).
func (c *client) transition(ctx context.Context, params map[string]any) (any, error) {
	id, tid, status := str(params, pExternalID), str(params, pTransitionID), str(params, pStatus)
	if id == "" || (tid == "" && status == "") {
		return nil, step.Errorf("InputValidationError", "jira.transition: externalId and transitionId or status are required")
	}
	what := "Unable to transition incident with id " + id
	d, err := c.get(ctx, id)
	if err != nil {
		return nil, c.fail(ctx, what, err)
	}
	current := statusName(d.Fields["status"])
	var doc struct {
		Transitions []struct {
			ID   string         `json:"id"`
			Name string         `json:"name"`
			To   map[string]any `json:"to"`
		} `json:"transitions"`
	}
	if err := c.do(ctx, http.MethodGet, "rest/api/2/issue/"+url.PathEscape(id)+"/transitions", nil, &doc); err != nil {
		return nil, c.fail(ctx, what, err)
	}
	target := status
	chosen := ""
	for _, t := range doc.Transitions {
		to := statusName(t.To)
		if (tid != "" && t.ID == tid) || (tid == "" && (strings.EqualFold(to, status) || strings.EqualFold(t.Name, status))) {
			chosen, target = t.ID, to
			break
		}
	}
	result := func(s string) any { return map[string]any{"id": d.ID, "key": d.Key, "status": s} }
	if chosen == "" {
		if status != "" && strings.EqualFold(current, status) {
			return result(current), nil // already there: an earlier attempt moved it
		}
		return nil, step.Errorf("ConnectorExecutionError", "[Action][Jira]: %s. Error: no transition %q from status %q", what, tid+status, current)
	}
	if strings.EqualFold(current, target) {
		return result(current), nil
	}
	body := map[string]any{"transition": map[string]any{"id": chosen}}
	if err := c.do(ctx, http.MethodPost, "rest/api/2/issue/"+url.PathEscape(id)+"/transitions", body, nil); err != nil {
		return nil, c.fail(ctx, what, err)
	}
	return result(target), nil
}

func statusName(v any) string {
	m, _ := v.(map[string]any)
	s, _ := m["name"].(string)
	return s
}
