package sandbox

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func jiraDo(t *testing.T, srv *httptest.Server, method, path, body string, authed bool) (int, map[string]any) {
	t.Helper()
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	} else {
		rd = strings.NewReader("")
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if authed {
		req.SetBasicAuth(JiraEmail, JiraAPIToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestJiraAuth(t *testing.T) {
	srv := httptest.NewServer(NewJira().Handler())
	defer srv.Close()
	if st, out := jiraDo(t, srv, "GET", "/rest/api/2/myself", "", false); st != 401 || out["errorMessages"] == nil {
		t.Fatalf("anonymous: %d %v", st, out)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/rest/api/2/myself", nil)
	req.SetBasicAuth(JiraEmail, "wrong")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("bad token: %d", resp.StatusCode)
	}
	if st, out := jiraDo(t, srv, "GET", "/rest/api/3/myself", "", true); st != 200 || out["emailAddress"] != JiraEmail {
		t.Fatalf("myself: %d %v", st, out)
	}
}

func TestJiraIssueLifecycle(t *testing.T) {
	fake := NewJira()
	srv := httptest.NewServer(fake.Handler())
	defer srv.Close()

	bad := []struct {
		body  string
		field string
	}{
		{`{"fields":{"project":{"key":"NOPE"},"summary":"x","issuetype":{"name":"Task"}}}`, "project"},
		{`{"fields":{"project":{"key":"SEC"},"issuetype":{"name":"Task"}}}`, "summary"},
		{`{"fields":{"project":{"key":"SEC"},"summary":"x"}}`, "issuetype"},
		{`{"fields":{"project":{"key":"SEC"},"summary":"x","issuetype":{"name":"Task"},"labels":["a b"]}}`, "labels"},
		{`{"fields":{"project":{"key":"SEC"},"summary":"x","issuetype":{"name":"Task"},"bogus":1}}`, "bogus"},
	}
	for _, b := range bad {
		st, out := jiraDo(t, srv, "POST", "/rest/api/2/issue", b.body, true)
		errs, _ := out["errors"].(map[string]any)
		if st != 400 || errs[b.field] == nil {
			t.Errorf("%s: %d %v, want error on %s", b.body, st, out, b.field)
		}
	}

	st, out := jiraDo(t, srv, "POST", "/rest/api/2/issue",
		`{"fields":{"project":{"key":"SEC"},"summary":"Malware on host-1","issuetype":{"id":"10002"},"labels":["secflow-abc"],"priority":{"name":"High"},"description":"d"}}`, true)
	if st != 201 || out["key"] != "SEC-1" || out["id"] == "" {
		t.Fatalf("create: %d %v", st, out)
	}
	id := out["id"].(string)

	st, out = jiraDo(t, srv, "GET", "/rest/api/2/search?"+url.Values{"jql": {`labels = "secflow-abc"`}}.Encode(), "", true)
	if st != 200 || out["total"] != float64(1) {
		t.Fatalf("search: %d %v", st, out)
	}
	st, out = jiraDo(t, srv, "GET", "/rest/api/2/search/jql?"+url.Values{"jql": {`project="SEC" and summary ~"malware"`}, "fields": {"summary,key"}}.Encode(), "", true)
	issues, _ := out["issues"].([]any)
	if st != 200 || len(issues) != 1 || out["isLast"] != true {
		t.Fatalf("search/jql: %d %v", st, out)
	}
	if f := issues[0].(map[string]any)["fields"].(map[string]any); len(f) != 1 || f["summary"] != "Malware on host-1" {
		t.Fatalf("fields filter: %v", f)
	}
	if st, out = jiraDo(t, srv, "GET", "/rest/api/2/search?"+url.Values{"jql": {`labels = "nope"`}}.Encode(), "", true); out["total"] != float64(0) {
		t.Fatalf("search no match: %d %v", st, out)
	}
	if st, _ = jiraDo(t, srv, "GET", "/rest/api/2/search?"+url.Values{"jql": {`foo = bar`}}.Encode(), "", true); st != 400 {
		t.Fatalf("bad jql: %d", st)
	}

	if st, _ = jiraDo(t, srv, "PUT", "/rest/api/2/issue/SEC-1", `{"fields":{"summary":"Updated"},"update":{"labels":[{"add":"triaged"}]}}`, true); st != 204 {
		t.Fatalf("update: %d", st)
	}
	st, out = jiraDo(t, srv, "POST", "/rest/api/2/issue/"+id+"/comment", `{"body":"first","properties":[{"key":"secflow","value":{"k":"1"}}]}`, true)
	if st != 201 || out["body"] != "first" || out["created"] == nil {
		t.Fatalf("comment: %d %v", st, out)
	}
	if st, _ = jiraDo(t, srv, "POST", "/rest/api/3/issue/"+id+"/comment", `{"body":"plain string on v3"}`, true); st != 400 {
		t.Fatalf("v3 string comment: %d", st)
	}
	_, out = jiraDo(t, srv, "GET", "/rest/api/2/issue/SEC-1/comment?expand=properties", "", true)
	c0 := out["comments"].([]any)[0].(map[string]any)
	if props, _ := c0["properties"].([]any); len(props) != 1 {
		t.Fatalf("comment properties: %v", c0)
	}

	_, out = jiraDo(t, srv, "GET", "/rest/api/2/issue/SEC-1/transitions", "", true)
	if tr, _ := out["transitions"].([]any); len(tr) != 2 {
		t.Fatalf("transitions: %v", out)
	}
	if st, _ = jiraDo(t, srv, "POST", "/rest/api/2/issue/SEC-1/transitions", `{"transition":{"id":"31"}}`, true); st != 204 {
		t.Fatalf("transition: %d", st)
	}
	if st, _ = jiraDo(t, srv, "POST", "/rest/api/2/issue/SEC-1/transitions", `{"transition":{"id":"31"}}`, true); st != 400 {
		t.Fatalf("transition to current status: %d", st)
	}
	st, out = jiraDo(t, srv, "GET", "/rest/api/2/issue/SEC-1", "", true)
	f := out["fields"].(map[string]any)
	if st != 200 || f["summary"] != "Updated" || f["status"].(map[string]any)["name"] != "Done" ||
		len(f["labels"].([]any)) != 2 || f["priority"].(map[string]any)["id"] != "2" {
		t.Fatalf("get: %d %v", st, out)
	}
	if st, _ = jiraDo(t, srv, "GET", "/rest/api/2/issue/SEC-99", "", true); st != 404 {
		t.Fatalf("missing issue: %d", st)
	}
	if st, out = jiraDo(t, srv, "GET", "/rest/api/2/issue/createmeta/SEC/issuetypes", "", true); st != 200 || len(out["issueTypes"].([]any)) != 3 {
		t.Fatalf("createmeta: %d %v", st, out)
	}
	if is := fake.Issues(); len(is) != 1 || len(is[0].Comments) != 1 {
		t.Fatalf("Issues() = %+v", is)
	}
}
