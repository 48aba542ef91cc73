package slack

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/secflow/secflow/activities/activitykit/activitytest"
	"github.com/secflow/secflow/internal/connectors"
	"github.com/secflow/secflow/internal/sandbox"
)

func TestAPIPostMessageRequestAndOutput(t *testing.T) {
	e := newEnv(t)
	out, err := RunAPI(bg, e.rt, input("slack_api", "slack-api", map[string]any{
		"subAction":       "postMessage",
		"subActionParams": map[string]any{"channelIds": []any{"C0SECOPS"}, "text": "Case 42 opened"},
	}))
	if err != nil {
		t.Fatal(err)
	}
	posts := e.requests("/api/chat.postMessage")
	if len(posts) != 1 || posts[0].Method != http.MethodPost || posts[0].ContentType != "application/x-www-form-urlencoded" {
		t.Fatalf("requests = %+v", posts)
	}
	form, err := url.ParseQuery(posts[0].Body)
	if err != nil {
		t.Fatal(err)
	}
	if form.Get("channel") != "C0SECOPS" || form.Get("text") != "Case 42 opened" || form.Get("token") != sandbox.SlackToken {
		t.Fatalf("form = %v", form)
	}
	var meta map[string]any
	if err := json.Unmarshal([]byte(form.Get("metadata")), &meta); err != nil {
		t.Fatalf("metadata %q: %v", form.Get("metadata"), err)
	}
	if meta["event_type"] != MetadataEventType || meta["event_payload"].(map[string]any)["key"] != "wf-1/notify" {
		t.Fatalf("metadata = %v", meta)
	}
	m := out.(map[string]any)
	msg, _ := m["message"].(map[string]any)
	if m["ok"] != true || m["channel"] != "C0SECOPS" || m["ts"] == "" || msg["text"] != "Case 42 opened" || msg["ts"] != m["ts"] {
		t.Fatalf("output = %v", out)
	}
	// The history look-up ran before the post, with metadata.
	hist := e.requests("/api/conversations.history")
	if len(hist) != 1 || !strings.Contains(hist[0].Body, "include_all_metadata=1") {
		t.Fatalf("history requests = %+v", hist)
	}
	activitytest.NoSecrets(t, out, allSecrets...)
}

func TestAPIRetryAfterLostAnswerPostsOnce(t *testing.T) {
	for _, typ := range []string{"slack_api.postMessage", "slack2.sendMessage"} {
		t.Run(typ, func(t *testing.T) {
			e := newEnv(t)
			in := input(typ, "slack-api", map[string]any{"channelNames": []any{"#secops"}, "channel": "#secops", "text": "Host isolated"})
			run := RunAPI
			if strings.HasPrefix(typ, "slack2") {
				run = RunV2
			}
			e.fake.LoseAnswer("chat.postMessage")
			_, err := run(bg, e.rt, in)
			if se := activitytest.StepError(t, err); !se.Retryable {
				t.Fatalf("lost answer must be retryable: %+v", se)
			}
			if n := len(e.fake.Messages()); n != 1 {
				t.Fatalf("first attempt posted %d messages", n)
			}
			first := e.fake.Messages()[0]
			out, err := run(bg, e.rt, in)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(e.fake.Messages()); n != 1 {
				t.Fatalf("retry posted again: %d messages", n)
			}
			if n := len(e.requests("chat.postMessage")); n != 1 {
				t.Fatalf("retry sent chat.postMessage again: %d", n)
			}
			m := out.(map[string]any)
			if ts := m["ts"]; ts != nil && ts != first.TS {
				t.Fatalf("retry output ts %v, want %s", ts, first.TS)
			}
			if ts := m["timestamp"]; ts != nil && ts != first.TS {
				t.Fatalf("retry output timestamp %v, want %s", ts, first.TS)
			}
			// A different step (another key) does post.
			in.IdempotencyKey = "wf-1/other"
			if _, err := run(bg, e.rt, in); err != nil {
				t.Fatal(err)
			}
			if n := len(e.fake.Messages()); n != 2 {
				t.Fatalf("another step: %d messages", n)
			}
		})
	}
}

func TestAPIBlocksAndChannelSelection(t *testing.T) {
	e := newEnv(t)
	blocks := `{"blocks":[{"type":"section","text":{"type":"mrkdwn","text":"*crit*"}}]}`
	if _, err := RunAPI(bg, e.rt, input("slack_api.postBlockkit", "slack-api", map[string]any{"channels": []any{"alerts"}, "text": blocks})); err != nil {
		t.Fatal(err)
	}
	_, err := RunAPI(bg, e.rt, input("slack_api.postMessage", "slack-api", map[string]any{
		"channelNames": []any{"#general"}, "channelIds": []any{"C0SECOPS"}, "text": "fallback",
		"blocks": []any{map[string]any{"type": "divider"}},
	}))
	if err != nil {
		t.Fatal(err)
	}
	msgs := e.fake.Messages()
	if len(msgs) != 2 || msgs[0].ChannelName != "alerts" || len(msgs[0].Blocks) != 1 ||
		msgs[1].ChannelName != "general" || msgs[1].Text != "fallback" || len(msgs[1].Blocks) != 1 {
		t.Fatalf("messages = %+v", msgs)
	}
	out, err := RunAPI(bg, e.rt, input("slack_api.validChannelId", "slack-api", map[string]any{"channelId": "C0SECOPS"}))
	if err != nil {
		t.Fatal(err)
	}
	if ch := out.(map[string]any)["channel"].(map[string]any); ch["id"] != "C0SECOPS" || ch["name"] != "secops" {
		t.Fatalf("validChannelId = %v", out)
	}
}

func TestAPIErrors(t *testing.T) {
	cases := []struct {
		name      string
		setup     func(e *env)
		with      map[string]any
		typ       string
		msg       string
		retryable bool
		wait      time.Duration
	}{
		{"unknown channel", nil, map[string]any{"channelIds": []any{"C0UNKNOWN1"}, "text": "x"}, "ConnectorExecutionError", "channel_not_found", false, 0},
		{"unknown channel name", nil, map[string]any{"channelNames": []any{"#nope"}, "text": "x"}, "ConnectorExecutionError", "channel_not_found", false, 0},
		{"no channel", nil, map[string]any{"text": "x"}, "ConnectorExecutionError", "One of channels, channelIds, or channelNames is required and cannot be empty", false, 0},
		{"no text", nil, map[string]any{"channelIds": []any{"C0SECOPS"}}, "InputValidationError", "slack_api.postMessage: text is required", false, 0},
		{"bad blocks", nil, map[string]any{"channelIds": []any{"C0SECOPS"}, "blocks": "{not json"}, "InputValidationError", "", false, 0},
		{"rate limited", func(e *env) { e.fake.Inject("/api/chat.postMessage", 429, "9", "", 1) },
			map[string]any{"channelIds": []any{"C0SECOPS"}, "text": "x"}, "ConnectorExecutionError", "ratelimited", true, 9 * time.Second},
		{"server error", func(e *env) { e.fake.Inject("/api/", 502, "", "", 1) },
			map[string]any{"channelIds": []any{"C0SECOPS"}, "text": "x"}, "ConnectorExecutionError", "unexpected http response from slack: 502 Bad Gateway", true, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			if c.setup != nil {
				c.setup(e)
			}
			_, err := RunAPI(bg, e.rt, input("slack_api.postMessage", "slack-api", c.with))
			se := activitytest.StepError(t, err)
			if se.Type != c.typ || (c.msg != "" && se.Message != c.msg) || se.Retryable != c.retryable || se.RetryAfter != c.wait {
				t.Fatalf("error = %+v retryable=%v after=%v", se, se.Retryable, se.RetryAfter)
			}
			activitytest.NoSecrets(t, err, allSecrets...)
			if len(e.fake.Messages()) != 0 {
				t.Fatal("nothing should be posted")
			}
		})
	}
}

func TestAPIInvalidTokenAndAllowedChannels(t *testing.T) {
	e := newEnv(t)
	rt := runtimeWith(t, connectors.Def{ID: "bad", Type: ".slack_api", Config: map[string]any{"apiUrl": e.srv.URL + "/api/"}},
		"token", "xoxb-not-the-right-token")
	_, err := RunAPI(bg, rt, input("slack_api.postMessage", "bad", map[string]any{"channelIds": []any{"C0SECOPS"}, "text": "x"}))
	se := activitytest.StepError(t, err)
	if se.Message != "invalid_auth" || se.Retryable {
		t.Fatalf("error = %+v", se)
	}
	activitytest.NoSecrets(t, err, "xoxb-not-the-right-token")

	rt = runtimeWith(t, connectors.Def{ID: "restricted", Type: ".slack_api", Config: map[string]any{"apiUrl": e.srv.URL + "/api/",
		"allowedChannels": []any{map[string]any{"id": "C0SECOPS", "name": "#secops"}}}}, "token", sandbox.SlackToken)
	_, err = RunAPI(bg, rt, input("slack_api.postMessage", "restricted", map[string]any{"channelIds": []any{"C0GENERAL"}, "text": "x"}))
	if se := activitytest.StepError(t, err); se.Message != "One or more provided channels are not included in the allowed channels list" {
		t.Fatalf("allowedChannels: %+v", se)
	}
	if _, err = RunAPI(bg, rt, input("slack_api.postMessage", "restricted", map[string]any{"channelNames": []any{"#secops"}, "text": "x"})); err != nil {
		t.Fatal(err)
	}
	_, err = RunAPI(bg, e.rt, input("slack_api.deleteEverything", "slack-api", map[string]any{}))
	if se := activitytest.StepError(t, err); se.Type != "InputValidationError" {
		t.Fatalf("unknown sub-action: %+v", se)
	}
}
