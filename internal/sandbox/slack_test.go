package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// slackCall posts a Web API call to the fake and decodes the JSON answer.
func slackCall(t *testing.T, srv *httptest.Server, method string, header map[string]string, contentType, body string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/"+method, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %d", method, resp.StatusCode)
	}
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSlackAuth(t *testing.T) {
	srv := httptest.NewServer(NewSlack().Handler())
	defer srv.Close()
	form := "application/x-www-form-urlencoded"
	cases := []struct {
		name   string
		header map[string]string
		body   string
		ct     string
		want   string
	}{
		{"no token", nil, "", form, "not_authed"},
		{"bad bearer", map[string]string{"Authorization": "Bearer xoxb-wrong"}, "", form, "invalid_auth"},
		{"bad form token", nil, "token=xoxb-wrong", form, "invalid_auth"},
		{"token in JSON body is ignored", nil, `{"token":"` + SlackToken + `"}`, "application/json", "not_authed"},
		{"bearer", map[string]string{"Authorization": "Bearer " + SlackToken}, "", form, ""},
		{"form token", nil, "token=" + SlackToken, form, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := slackCall(t, srv, "auth.test", c.header, c.ct, c.body)
			if c.want == "" {
				if out["ok"] != true || out["user_id"] != SlackBotUserID {
					t.Fatalf("auth.test = %v", out)
				}
				return
			}
			if out["ok"] != false || out["error"] != c.want {
				t.Fatalf("got %v, want error %q", out, c.want)
			}
		})
	}
}

func TestSlackPostMessageAndHistoryMetadata(t *testing.T) {
	fake := NewSlack()
	srv := httptest.NewServer(fake.Handler())
	defer srv.Close()
	auth := map[string]string{"Authorization": "Bearer " + SlackToken}

	form := url.Values{"token": {SlackToken}, "channel": {"#secops"}, "text": {"hello"},
		"metadata": {`{"event_type":"secflow_step","event_payload":{"key":"wf/1"}}`}}
	out := slackCall(t, srv, "chat.postMessage", nil, "application/x-www-form-urlencoded", form.Encode())
	if out["ok"] != true || out["channel"] != "C0SECOPS" || out["ts"] == "" {
		t.Fatalf("postMessage = %v", out)
	}
	out = slackCall(t, srv, "chat.postMessage", auth, "application/json",
		`{"channel":"C0SECOPS","blocks":[{"type":"section","text":{"type":"mrkdwn","text":"*b*"}}]}`)
	if out["ok"] != true {
		t.Fatalf("postMessage blocks = %v", out)
	}
	for _, c := range []struct{ body, want string }{
		{`{"channel":"C0SECOPS"}`, "no_text"},
		{`{"channel":"C0NOPE","text":"x"}`, "channel_not_found"},
		{`{"channel":"C0SECOPS","text":"x","metadata":{"event_payload":{}}}`, "invalid_metadata_format"},
	} {
		if got := slackCall(t, srv, "chat.postMessage", auth, "application/json", c.body); got["error"] != c.want {
			t.Errorf("%s: got %v, want %s", c.body, got, c.want)
		}
	}

	hist := slackCall(t, srv, "conversations.history", nil, "application/x-www-form-urlencoded",
		url.Values{"token": {SlackToken}, "channel": {"C0SECOPS"}, "include_all_metadata": {"1"}}.Encode())
	msgs, _ := hist["messages"].([]any)
	if len(msgs) != 2 {
		t.Fatalf("history = %v", hist)
	}
	newest, oldest := msgs[0].(map[string]any), msgs[1].(map[string]any)
	if newest["blocks"] == nil || oldest["text"] != "hello" {
		t.Fatalf("history order/content wrong: %v", msgs)
	}
	meta, _ := oldest["metadata"].(map[string]any)
	if meta["event_type"] != "secflow_step" {
		t.Fatalf("metadata missing with include_all_metadata: %v", oldest)
	}
	hist = slackCall(t, srv, "conversations.history", auth, "application/x-www-form-urlencoded", "channel=C0SECOPS")
	if m := hist["messages"].([]any)[1].(map[string]any); m["metadata"] != nil {
		t.Fatalf("metadata returned without include_all_metadata: %v", m)
	}
	if got := slackCall(t, srv, "conversations.history", auth, "application/x-www-form-urlencoded", "channel=%23secops"); got["error"] != "channel_not_found" {
		t.Fatalf("history by name: %v", got)
	}
	if n := len(fake.Messages()); n != 2 {
		t.Fatalf("Messages() = %d", n)
	}
}

func TestSlackCreateAndInvite(t *testing.T) {
	fake := NewSlack()
	srv := httptest.NewServer(fake.Handler())
	defer srv.Close()
	auth := map[string]string{"Authorization": "Bearer " + SlackToken}
	js := "application/json"
	out := slackCall(t, srv, "conversations.create", auth, js, `{"name":"inc-42","is_private":true}`)
	ch, _ := out["channel"].(map[string]any)
	if out["ok"] != true || ch["name"] != "inc-42" || ch["is_private"] != true || ch["creator"] != SlackBotUserID {
		t.Fatalf("create = %v", out)
	}
	id := ch["id"].(string)
	for _, c := range []struct{ body, want string }{
		{`{"name":"inc-42"}`, "name_taken"},
		{`{"name":"Bad Name"}`, "invalid_name_specials"},
		{`{"name":""}`, "invalid_name_required"},
	} {
		if got := slackCall(t, srv, "conversations.create", auth, js, c.body); got["error"] != c.want {
			t.Errorf("%s: got %v, want %s", c.body, got, c.want)
		}
	}
	if got := slackCall(t, srv, "conversations.invite", auth, js, `{"channel":"`+id+`","users":"U0ALICE,U0BOB"}`); got["ok"] != true {
		t.Fatalf("invite = %v", got)
	}
	for _, c := range []struct{ body, want string }{
		{`{"channel":"` + id + `","users":"U0ALICE"}`, "already_in_channel"},
		{`{"channel":"` + id + `","users":"U0NOBODY"}`, "user_not_found"},
		{`{"channel":"C0NOPE","users":"U0CAROL"}`, "channel_not_found"},
	} {
		if got := slackCall(t, srv, "conversations.invite", auth, js, c.body); got["error"] != c.want {
			t.Errorf("%s: got %v, want %s", c.body, got, c.want)
		}
	}
	got := slackCall(t, srv, "conversations.members", auth, "application/x-www-form-urlencoded", "channel="+id)
	if m, _ := got["members"].([]any); len(m) != 3 {
		t.Fatalf("members = %v", got)
	}
}

func TestSlackWebhookAndFaults(t *testing.T) {
	fake := NewSlack()
	srv := httptest.NewServer(fake.Handler())
	defer srv.Close()
	post := func(path, body string) (int, string, http.Header) {
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	if code, body, _ := post(SlackWebhookPath, `{"text":"hi"}`); code != 200 || body != "ok" {
		t.Fatalf("webhook = %d %q", code, body)
	}
	if code, body, _ := post("/services/T1/B1/wrong", `{"text":"hi"}`); code != 403 || body != "invalid_token" {
		t.Fatalf("bad webhook = %d %q", code, body)
	}
	if code, body, _ := post(SlackWebhookPath, `{}`); code != 400 || body != "no_text" {
		t.Fatalf("empty webhook = %d %q", code, body)
	}
	fake.Inject("/api/", http.StatusTooManyRequests, "7", "", 1)
	code, body, hdr := post("/api/auth.test", "")
	if code != 429 || hdr.Get("Retry-After") != "7" || !strings.Contains(body, "ratelimited") {
		t.Fatalf("fault = %d %q %v", code, body, hdr)
	}
	if m := fake.Messages(); len(m) != 1 || !m[0].Webhook || m[0].Channel != SlackWebhookChannel {
		t.Fatalf("Messages() = %+v", m)
	}
}

func TestSlackLoseAnswer(t *testing.T) {
	fake := NewSlack()
	srv := httptest.NewServer(fake.Handler())
	defer srv.Close()
	fake.LoseAnswer("chat.postMessage")
	_, err := http.Post(srv.URL+"/api/chat.postMessage", "application/x-www-form-urlencoded",
		strings.NewReader(url.Values{"token": {SlackToken}, "channel": {"C0SECOPS"}, "text": {"x"}}.Encode()))
	if err == nil {
		t.Fatal("lost answer: want a transport error")
	}
	if len(fake.Messages()) != 1 {
		t.Fatal("lost answer: the message must still be posted")
	}
}
