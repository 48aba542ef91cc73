package slack

import (
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/secflow/secflow/activities/activitykit/activitytest"
	"github.com/secflow/secflow/internal/sandbox"
)

func TestV2SendMessageAndBlockKit(t *testing.T) {
	e := newEnv(t)
	out, err := RunV2(bg, e.rt, input("slack2.sendMessage", "", map[string]any{"channel": "C0SECOPS", "text": "hello", "threadTs": "1.2", "unfurlLinks": false}))
	if err != nil {
		t.Fatal(err)
	}
	msgs := e.fake.Messages()
	if len(msgs) != 1 || out.(map[string]any)["timestamp"] != msgs[0].TS || msgs[0].ThreadTS != "1.2" {
		t.Fatalf("output %v, messages %+v", out, msgs)
	}
	form, _ := url.ParseQuery(e.requests("chat.postMessage")[0].Body)
	if form.Get("unfurl_links") != "false" || form.Get("thread_ts") != "1.2" {
		t.Fatalf("form = %v", form)
	}
	in := input("slack2.sendBlockKitMessage", "slack-api", map[string]any{"channel": "#alerts",
		"blocks": `[{"type":"header","text":{"type":"plain_text","text":"Critical"}}]`})
	in.IdempotencyKey = "wf-1/blocks"
	if _, err := RunV2(bg, e.rt, in); err != nil {
		t.Fatal(err)
	}
	if msgs := e.fake.Messages(); len(msgs) != 2 || msgs[1].ChannelName != "alerts" || len(msgs[1].Blocks) != 1 {
		t.Fatalf("messages = %+v", msgs)
	}
	_, err = RunV2(bg, e.rt, input("slack2.sendBlockKitMessage", "slack-api", map[string]any{"channel": "#alerts"}))
	if se := activitytest.StepError(t, err); se.Type != "InputValidationError" {
		t.Fatalf("no blocks: %+v", se)
	}
}

func TestV2CreateConversationIsIdempotent(t *testing.T) {
	e := newEnv(t)
	in := input("slack2.createConversation", "slack-api", map[string]any{"name": "inc-4711", "isPrivate": true})
	out1, err := RunV2(bg, e.rt, in)
	if err != nil {
		t.Fatal(err)
	}
	ch1 := out1.(map[string]any)["channel"].(map[string]any)
	if out1.(map[string]any)["ok"] != true || ch1["name"] != "inc-4711" || ch1["is_private"] != true {
		t.Fatalf("output = %v", out1)
	}
	creates := e.requests("conversations.create")
	if form, _ := url.ParseQuery(creates[0].Body); form.Get("name") != "inc-4711" || form.Get("is_private") != "true" {
		t.Fatalf("create request = %+v", creates[0])
	}
	// A crash after the channel was created: the retry must not fail nor create another.
	out2, err := RunV2(bg, e.rt, in)
	if err != nil {
		t.Fatal(err)
	}
	if id := out2.(map[string]any)["channel"].(map[string]any)["id"]; id != ch1["id"] {
		t.Fatalf("retry returned channel %v, want %v", id, ch1["id"])
	}
	n := 0
	for _, c := range e.fake.Channels() {
		if c.Name == "inc-4711" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d channels named inc-4711", n)
	}
	// A channel someone else created under that name stays a conflict.
	_, err = RunV2(bg, e.rt, input("slack2.createConversation", "slack-api", map[string]any{"name": "general"}))
	if se := activitytest.StepError(t, err); se.Message != "name_taken" || se.Retryable {
		t.Fatalf("foreign name_taken: %+v", se)
	}
}

func TestV2InviteIsIdempotent(t *testing.T) {
	e := newEnv(t)
	in := input("slack2.inviteToConversation", "slack-api", map[string]any{"channel": "C0SECOPS", "users": []any{"U0BOB", "U0CAROL"}})
	e.fake.LoseAnswer("conversations.invite")
	if _, err := RunV2(bg, e.rt, in); err == nil || !activitytest.StepError(t, err).Retryable {
		t.Fatalf("lost answer: %v", err)
	}
	out, err := RunV2(bg, e.rt, in)
	if err != nil {
		t.Fatal(err)
	}
	if out.(map[string]any)["channel"].(map[string]any)["id"] != "C0SECOPS" {
		t.Fatalf("output = %v", out)
	}
	// Partly done: alice is a member, carol is not yet in C0ALERTS.
	if _, err := RunV2(bg, e.rt, input("slack2.inviteToConversation", "slack-api", map[string]any{"channel": "C0ALERTS", "users": "U0ALICE,U0CAROL"})); err != nil {
		t.Fatal(err)
	}
	members := map[string][]string{}
	for _, c := range e.fake.Channels() {
		sort.Strings(c.Members)
		members[c.ID] = c.Members
	}
	if got := strings.Join(members["C0SECOPS"], ","); got != "U0ALICE,U0BOB,U0CAROL,U0SECFLOW" {
		t.Fatalf("C0SECOPS members = %s", got)
	}
	if got := strings.Join(members["C0ALERTS"], ","); got != "U0ALICE,U0CAROL,U0SECFLOW" {
		t.Fatalf("C0ALERTS members = %s", got)
	}
	_, err = RunV2(bg, e.rt, input("slack2.inviteToConversation", "slack-api", map[string]any{"channel": "C0SECOPS", "users": []any{"U0NOBODY"}}))
	if se := activitytest.StepError(t, err); se.Message != "user_not_found" || se.Retryable {
		t.Fatalf("unknown user: %+v", se)
	}
}

func TestV2WhoAmIAndHistory(t *testing.T) {
	e := newEnv(t)
	out, err := RunV2(bg, e.rt, input("slack2.whoAmI", "slack-api", nil))
	if err != nil {
		t.Fatal(err)
	}
	if m := out.(map[string]any); m["user_id"] != sandbox.SlackBotUserID || m["team_id"] != sandbox.SlackTeamID {
		t.Fatalf("whoAmI = %v", out)
	}
	for i, txt := range []string{"one", "two"} {
		in := input("slack2.sendMessage", "slack-api", map[string]any{"channel": "C0SECOPS", "text": txt})
		in.IdempotencyKey = "wf/" + txt + string(rune('0'+i))
		if _, err := RunV2(bg, e.rt, in); err != nil {
			t.Fatal(err)
		}
	}
	out, err = RunV2(bg, e.rt, input("slack2.getConversationHistory", "slack-api", map[string]any{"channel": "#secops", "limit": float64(1)}))
	if err != nil {
		t.Fatal(err)
	}
	m := out.(map[string]any)
	msgs := m["messages"].([]any)
	if len(msgs) != 1 || msgs[0].(map[string]any)["text"] != "two" || m["hasMore"] != true || m["nextCursor"] == nil {
		t.Fatalf("history = %v", out)
	}
	activitytest.NoSecrets(t, out, allSecrets...)
	_, err = RunV2(bg, e.rt, input("slack2.nukeWorkspace", "slack-api", nil))
	if se := activitytest.StepError(t, err); se.Type != "InputValidationError" {
		t.Fatalf("unknown action: %+v", se)
	}
}

func TestV2Aliases(t *testing.T) {
	e := newEnv(t)
	out, err := RunV2(bg, e.rt, input("slack2.createChannel", "slack-api", map[string]any{"name": "inc-alias"}))
	if err != nil {
		t.Fatal(err)
	}
	id := out.(map[string]any)["channel"].(map[string]any)["id"].(string)
	if _, err := RunV2(bg, e.rt, input("slack2.inviteUsers", "slack-api", map[string]any{"channel": id, "users": "U0ALICE"})); err != nil {
		t.Fatal(err)
	}
	if _, err := RunV2(bg, e.rt, input("slack2.postMessage", "slack-api", map[string]any{"channel": id, "text": "fallback",
		"blocks": []any{map[string]any{"type": "divider"}}})); err != nil {
		t.Fatal(err)
	}
	msgs := e.fake.Messages()
	if len(msgs) != 1 || msgs[0].Channel != id || len(msgs[0].Blocks) != 1 || msgs[0].Text != "fallback" {
		t.Fatalf("messages = %+v", msgs)
	}
}
