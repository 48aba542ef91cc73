package slack

import (
	"context"
	"time"

	"github.com/slack-go/slack"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// Actions of the Slack (v2) connector and their params.
const (
	actSendMessage        = "sendMessage"
	actSendBlockKit       = "sendBlockKitMessage"
	actCreateConversation = "createConversation"
	actInvite             = "inviteToConversation"
	actWhoAmI             = "whoAmI"
	actHistory            = "getConversationHistory"

	p2Channel     = "channel"
	p2Text        = "text"
	p2Blocks      = "blocks"
	p2ThreadTS    = "threadTs"
	p2UnfurlLinks = "unfurlLinks"
	p2UnfurlMedia = "unfurlMedia"
	p2Name        = "name"
	p2IsPrivate   = "isPrivate"
	p2Users       = "users"
	p2Limit       = "limit"
	p2Oldest      = "oldest"
	p2Latest      = "latest"
	p2Inclusive   = "inclusive"
	p2Cursor      = "cursor"
)

var v2Spec = &step.Spec{
	Type:     "slack2.*",
	Kind:     step.KindActivity,
	Category: "notify",
	Status:   step.StatusCore,
	Summary:  "Slack (v2) connector actions: send messages, create channels, invite users, read history.",
	Doc: "Runs an action of Kibana's Slack (v2) connector with a bot token (a `.slack2` or `.slack_api` connector, " +
		"`secrets.token`; `config.apiUrl` overrides https://slack.com/api/):\n\n" +
		"- `slack2.sendMessage` {channel, text, threadTs?, unfurlLinks?, unfurlMedia?} → `{timestamp}`\n" +
		"- `slack2.sendBlockKitMessage` {channel, blocks, text?, threadTs?} → `{timestamp}`\n" +
		"- `slack2.createConversation` {name, isPrivate?} → conversations.create's answer `{ok, channel}`\n" +
		"- `slack2.inviteToConversation` {channel, users} → conversations.invite's answer `{ok, channel}`\n" +
		"- `slack2.whoAmI` → `{ok, url, team, user, team_id, user_id, bot_id}`\n" +
		"- `slack2.getConversationHistory` {channel, limit?, oldest?, latest?, inclusive?, cursor?} → `{ok, channel, messages, nextCursor, hasMore}`\n" +
		"- secflow aliases: `slack2.postMessage` (sendMessage, or sendBlockKitMessage when `blocks` is given), " +
		"`slack2.createChannel` (createConversation), `slack2.inviteUsers` (inviteToConversation)\n\n" +
		"Every action is safe to retry: messages carry the step's idempotency key in their metadata and are looked " +
		"up before posting again; a channel this bot already created under that name, or users already in the " +
		"channel, count as done. Slack errors fail with `ConnectorExecutionError` (the Slack error code); rate " +
		"limits and 5xx are retryable and honour `Retry-After`.",
	OpenWith: true,
	With: []step.Field{
		{Name: p2Channel, Type: step.String, Doc: "Conversation ID or #name.", Example: "C0SECOPS"},
		{Name: p2Text, Type: step.String, Doc: "Message text (fallback text for Block Kit messages)."},
		{Name: p2Blocks, Type: step.Any, Doc: "Block Kit blocks (a list, or a JSON string of one)."},
		{Name: p2ThreadTS, Type: step.String, Doc: "Reply in the thread of this message timestamp."},
		{Name: p2UnfurlLinks, Type: step.Bool, Doc: "Unfurl links (Slack's default when absent)."},
		{Name: p2UnfurlMedia, Type: step.Bool, Doc: "Unfurl media (Slack's default when absent)."},
		{Name: p2Name, Type: step.String, Doc: "createConversation: channel name (lower case, digits, - and _).", Example: "inc-4711"},
		{Name: p2IsPrivate, Type: step.Bool, Default: false, Doc: "createConversation: create a private channel."},
		{Name: p2Users, Type: step.Any, Doc: "inviteToConversation: user IDs, a list or a comma-separated string.", Example: []any{"U0ALICE", "U0BOB"}},
		{Name: p2Limit, Type: step.Int, Default: 100, Doc: "getConversationHistory: page size."},
		{Name: p2Oldest, Type: step.String, Doc: "getConversationHistory: only messages after this timestamp."},
		{Name: p2Latest, Type: step.String, Doc: "getConversationHistory: only messages before this timestamp."},
		{Name: p2Inclusive, Type: step.Bool, Doc: "getConversationHistory: include messages at oldest/latest."},
		{Name: p2Cursor, Type: step.String, Doc: "getConversationHistory: nextCursor of the previous page."},
	},
	NeedsConnector: true,
	Output: step.Output{
		Doc:     "Depends on the action; sendMessage and sendBlockKitMessage return the message timestamp.",
		Example: `{"timestamp": "1700000000.000100"}`,
	},
	Examples: []step.Example{{
		Title: "Open a war-room channel and invite responders",
		YAML: `- name: war_room
  type: slack2.createConversation
  connector-id: soc-slack
  with:
    name: "inc-{{ event.alerts[0].kibana.alert.uuid | slice: 0, 8 }}"
    isPrivate: false
- name: invite
  type: slack2.inviteToConversation
  connector-id: soc-slack
  with:
    channel: "{{ steps.war_room.output.channel.id }}"
    users: [U0ALICE, U0BOB]`,
	}},
	Activity:  RunV2,
	Timeout:   time.Minute,
	Heartbeat: true,
	Source:    "activities/slack/slack2.go",
}

func init() { step.Register(v2Spec) }

// v2Aliases maps secflow's alternative action names to the connector's.
var v2Aliases = map[string]string{"postMessage": actSendMessage, "createChannel": actCreateConversation, "inviteUsers": actInvite}

// RunV2 performs `slack2.<action>`.
func RunV2(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	act, params := activitykit.SubAction(in, "slack2")
	if a, ok := v2Aliases[act]; ok {
		act = a
		if act == actSendMessage && params[p2Blocks] != nil {
			act = actSendBlockKit
		}
	}
	switch act {
	case actSendMessage, actSendBlockKit, actCreateConversation, actInvite, actWhoAmI, actHistory:
	default:
		return nil, step.Errorf("InputValidationError", "slack2: unknown action %q (sendMessage, sendBlockKitMessage, "+
			"createConversation, inviteToConversation, whoAmI, getConversationHistory)", act)
	}
	stop := activitykit.KeepAlive(ctx, 0)
	defer stop()
	c, err := newClient(ctx, rt, in, typeV2, typeAPI)
	if err != nil {
		return nil, err
	}
	switch act {
	case actSendMessage, actSendBlockKit:
		return c.send(ctx, act, params, in.IdempotencyKey)
	case actCreateConversation:
		return c.createConversation(ctx, params)
	case actInvite:
		return c.invite(ctx, params)
	case actWhoAmI:
		who, err := c.api.AuthTestContext(ctx)
		if err != nil {
			return nil, c.classify(ctx, err)
		}
		return map[string]any{"ok": true, "url": who.URL, "team": who.Team, "user": who.User,
			"team_id": who.TeamID, "user_id": who.UserID, "bot_id": who.BotID}, nil
	default:
		return c.history(ctx, params)
	}
}

func (c *client) send(ctx context.Context, act string, params map[string]any, key string) (any, error) {
	p := post{channel: str(params, p2Channel), text: str(params, p2Text), threadTS: str(params, p2ThreadTS), unfurl: map[string]bool{}}
	if p.channel == "" {
		return nil, step.Errorf("InputValidationError", "slack2.%s: channel is required", act)
	}
	var err error
	if p.blocks, err = blocksValue(params[p2Blocks]); err != nil {
		return nil, step.Errorf("InputValidationError", "slack2.%s: %v", act, err)
	}
	switch {
	case act == actSendBlockKit && len(p.blocks) == 0:
		return nil, step.Errorf("InputValidationError", "slack2.sendBlockKitMessage: blocks is required")
	case act == actSendMessage && p.text == "":
		return nil, step.Errorf("InputValidationError", "slack2.sendMessage: text is required")
	case act == actSendMessage:
		p.blocks = nil
	}
	if b, ok := activitykit.Bool(params[p2UnfurlLinks]); ok {
		p.unfurl["links"] = b
	}
	if b, ok := activitykit.Bool(params[p2UnfurlMedia]); ok {
		p.unfurl["media"] = b
	}
	res, err := c.postOnce(ctx, p, key)
	if err != nil {
		return nil, err
	}
	return map[string]any{"timestamp": res.ts}, nil
}

// createConversation creates a channel; on a retry, name_taken for a
// channel this bot created is the earlier attempt's success.
func (c *client) createConversation(ctx context.Context, params map[string]any) (any, error) {
	name := str(params, p2Name)
	if name == "" {
		return nil, step.Errorf("InputValidationError", "slack2.createConversation: name is required")
	}
	private, _ := activitykit.Bool(params[p2IsPrivate])
	ch, err := c.api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: name, IsPrivate: private})
	if err == nil {
		return channelOutput(ch)
	}
	if slackCode(err) != "name_taken" {
		return nil, c.classify(ctx, err)
	}
	who, werr := c.api.AuthTestContext(ctx)
	if werr != nil {
		return nil, c.classify(ctx, werr)
	}
	existing, ferr := c.findChannel(ctx, name)
	if ferr != nil {
		return nil, ferr
	}
	if existing == nil || existing.Creator != who.UserID || existing.IsPrivate != private {
		return nil, c.classify(ctx, err)
	}
	return channelOutput(existing)
}

// invite invites users; users already in the channel (an earlier attempt)
// are not invited again.
func (c *client) invite(ctx context.Context, params map[string]any) (any, error) {
	channel := str(params, p2Channel)
	users := stringList(params[p2Users])
	if channel == "" || len(users) == 0 {
		return nil, step.Errorf("InputValidationError", "slack2.inviteToConversation: channel and users are required")
	}
	chID, err := c.channelID(ctx, channel)
	if err != nil {
		return nil, err
	}
	ch, err := c.api.InviteUsersToConversationContext(ctx, chID, users...)
	if err == nil {
		return channelOutput(ch)
	}
	if slackCode(err) != "already_in_channel" {
		return nil, c.classify(ctx, err)
	}
	members := map[string]bool{}
	cursor := ""
	for {
		activitykit.Heartbeat(ctx)
		ids, next, merr := c.api.GetUsersInConversationContext(ctx, &slack.GetUsersInConversationParameters{ChannelID: chID, Cursor: cursor, Limit: 1000})
		if merr != nil {
			return nil, c.classify(ctx, merr)
		}
		for _, id := range ids {
			members[id] = true
		}
		if next == "" {
			break
		}
		cursor = next
	}
	var missing []string
	for _, u := range users {
		if !members[u] {
			missing = append(missing, u)
		}
	}
	if len(missing) > 0 {
		if ch, err = c.api.InviteUsersToConversationContext(ctx, chID, missing...); err != nil {
			return nil, c.classify(ctx, err)
		}
		return channelOutput(ch)
	}
	ch, err = c.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: chID})
	if err != nil {
		return nil, c.classify(ctx, err)
	}
	return channelOutput(ch)
}

func (c *client) history(ctx context.Context, params map[string]any) (any, error) {
	channel := str(params, p2Channel)
	if channel == "" {
		return nil, step.Errorf("InputValidationError", "slack2.getConversationHistory: channel is required")
	}
	chID, err := c.channelID(ctx, channel)
	if err != nil {
		return nil, err
	}
	limit := 100
	if n, ok := activitykit.Int(params[p2Limit]); ok && n > 0 {
		limit = int(n)
	}
	inclusive, _ := activitykit.Bool(params[p2Inclusive])
	res, err := c.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: chID,
		Limit: limit, Oldest: activitykit.Stringify(params[p2Oldest]), Latest: activitykit.Stringify(params[p2Latest]),
		Inclusive: inclusive, Cursor: str(params, p2Cursor)})
	if err != nil {
		return nil, c.classify(ctx, err)
	}
	msgs := make([]any, 0, len(res.Messages))
	for _, m := range res.Messages {
		e := map[string]any{"ts": m.Timestamp, "type": m.Type, "text": m.Text}
		for k, v := range map[string]string{"subtype": m.SubType, "user": m.User, "bot_id": m.BotID,
			"username": m.Username, "thread_ts": m.ThreadTimestamp} {
			if v != "" {
				e[k] = v
			}
		}
		if m.ReplyCount > 0 {
			e["reply_count"] = float64(m.ReplyCount)
		}
		if len(m.Blocks.BlockSet) > 0 {
			if v, err := activitykit.JSONLike(m.Blocks); err == nil {
				e["blocks"] = v
			}
		}
		msgs = append(msgs, e)
	}
	out := map[string]any{"ok": true, "channel": chID, "messages": msgs, "hasMore": res.HasMore}
	if res.ResponseMetaData.NextCursor != "" {
		out["nextCursor"] = res.ResponseMetaData.NextCursor
	}
	return out, nil
}
