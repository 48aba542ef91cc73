// Package slack implements the Slack step types: `slack` (a .slack
// incoming-webhook connector), `slack_api` / `slack_api.<subAction>` (the
// .slack_api connector's postMessage, postBlockkit and validChannelId) and
// `slack2.<action>` (the Slack v2 connector's sendMessage,
// sendBlockKitMessage, createConversation, inviteToConversation, whoAmI and
// getConversationHistory), over the Slack Web API with
// github.com/slack-go/slack.
//
// Posting is idempotent per step: every message carries the step's
// idempotency key in its message metadata (event_type "secflow_step",
// event_payload {key}); before posting, the channel's recent history is
// read with include_all_metadata and a message already carrying the key is
// returned instead of posting again. Channel creation and invitations are
// idempotent by nature (name_taken / already_in_channel on a retry are
// recognised as our own earlier success). The webhook step cannot read
// back what it posted and is at-least-once.
package slack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/slack-go/slack"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// DefaultAPIURL is the Slack Web API base URL used when the connector's
// config has no apiUrl.
const DefaultAPIURL = "https://slack.com/api/"

// Message metadata marking a message posted by a secflow step.
const (
	MetadataEventType = "secflow_step"
	MetadataKeyField  = "key"
)

// Connector types.
const (
	typeWebhook = ".slack"
	typeAPI     = ".slack_api"
	typeV2      = ".slack2"
)

// historyPage and historyPages bound the look-up of an earlier post: the
// historyPages×historyPage most recent messages of the channel.
const (
	historyPage  = 200
	historyPages = 5
)

// client is a Slack Web API client bound to one resolved connector.
type client struct {
	api     *slack.Client
	conn    *step.Connector
	secrets []string
	origin  string
	log     func(msg string, args ...any)
}

// newClient resolves the connector (by id or name, of one of types) and
// builds a slack-go client pointed at its API URL.
func newClient(ctx context.Context, rt step.Runtime, in step.Input, types ...string) (*client, error) {
	conn, err := rt.Connector(ctx, in.ConnectorID, types...)
	if err != nil {
		return nil, err
	}
	secrets := activitykit.SecretValues(conn)
	token := conn.Secrets["token"]
	if token == "" {
		return nil, step.Errorf("ConnectorConfigError", "Connector %s has no secrets.token", conn.ID)
	}
	apiURL := conn.ConfigString("apiUrl")
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	if !strings.HasSuffix(apiURL, "/") {
		apiURL += "/"
	}
	if !activitykit.HostAllowed(rt, apiURL) {
		return nil, step.Errorf("Error", "the apiUrl host of connector %s is not added to the allowedHosts list of connectors.yaml", conn.ID)
	}
	hc, err := activitykit.ClientFor(rt.HTTPClient(), conn)
	if err != nil {
		return nil, step.Errorf("ConnectorConfigError", "%s", activitykit.Redact(err.Error(), secrets...))
	}
	return &client{
		api:     slack.New(token, slack.OptionAPIURL(apiURL), slack.OptionHTTPClient(activitykit.LimitResponses(hc, 0))),
		conn:    conn,
		secrets: secrets,
		origin:  activitykit.Origin(apiURL),
		log:     rt.Logger().Warn,
	}, nil
}

// transientCodes are Slack API error codes worth retrying.
var transientCodes = map[string]bool{
	"ratelimited": true, "internal_error": true, "fatal_error": true, "service_unavailable": true,
	"request_timeout": true, "team_added_to_org": true,
}

// classify turns a slack-go error into a classified *step.Error of type
// ConnectorExecutionError whose message is the Slack error code (Kibana's
// serviceMessage), without secrets.
func (c *client) classify(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var rl *slack.RateLimitedError
	var sc slack.StatusCodeError
	var se slack.SlackErrorResponse
	switch {
	case errors.As(err, &rl):
		return step.RetryAfter(step.Errorf("ConnectorExecutionError", "ratelimited"), rl.RetryAfter)
	case errors.As(err, &sc):
		e := &step.Error{Type: "ConnectorExecutionError",
			Message: fmt.Sprintf("unexpected http response from slack: %d %s", sc.Code, strings.TrimSpace(strings.TrimPrefix(sc.Status, fmt.Sprint(sc.Code))))}
		return activitykit.Classify(e, sc.Code, nil)
	case errors.As(err, &se):
		e := &step.Error{Type: "ConnectorExecutionError", Message: se.Err, Retryable: transientCodes[se.Err]}
		if se.Needed != "" {
			e.Details = map[string]any{"needed": se.Needed, "provided": se.Provided}
		}
		return activitykit.RedactError(e, c.secrets...)
	case ctx.Err() != nil || isNetwork(err):
		return activitykit.NetworkError(ctx, err, c.origin, c.secrets...)
	}
	return activitykit.RedactError(&step.Error{Type: "ConnectorExecutionError", Message: err.Error()}, c.secrets...)
}

// isNetwork reports transport-level failures: no response was received.
func isNetwork(err error) bool {
	var ue *url.Error
	var ne net.Error
	return errors.As(err, &ue) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// slackCode returns the Slack error code of err ("" when err is not an API error).
func slackCode(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}

// isChannelID reports whether ref looks like a conversation ID (C…, G…,
// D… in upper case; channel names are always lower case).
func isChannelID(ref string) bool {
	if len(ref) < 3 || !strings.ContainsRune("CGD", rune(ref[0])) {
		return false
	}
	for _, r := range ref {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// channelID resolves a channel reference (an ID, "#name" or "name") to an
// ID, listing public and private conversations for names.
func (c *client) channelID(ctx context.Context, ref string) (string, error) {
	if isChannelID(ref) {
		return ref, nil
	}
	ch, err := c.findChannel(ctx, strings.TrimPrefix(ref, "#"))
	if err != nil {
		return "", err
	}
	if ch == nil {
		return "", step.Errorf("ConnectorExecutionError", "channel_not_found")
	}
	return ch.ID, nil
}

// findChannel lists conversations for one named name (nil when absent).
func (c *client) findChannel(ctx context.Context, name string) (*slack.Channel, error) {
	cursor := ""
	for page := 0; page < 50; page++ {
		activitykit.Heartbeat(ctx)
		chans, next, err := c.api.GetConversationsContext(ctx, &slack.GetConversationsParameters{
			Cursor: cursor, Limit: 1000, Types: []string{"public_channel", "private_channel"}, ExcludeArchived: true})
		if err != nil {
			return nil, c.classify(ctx, err)
		}
		for i := range chans {
			if chans[i].Name == name {
				return &chans[i], nil
			}
		}
		if next == "" {
			return nil, nil
		}
		cursor = next
	}
	return nil, nil
}

// metadata is the message metadata that marks a post with key.
func metadata(key string) slack.SlackMetadata {
	return slack.SlackMetadata{EventType: MetadataEventType, EventPayload: map[string]any{MetadataKeyField: key}}
}

// findPosted looks for a message carrying key in the channel's recent
// history. It returns nil when there is none, and also when history cannot
// be read for lack of a scope (then posting stays at-least-once).
func (c *client) findPosted(ctx context.Context, channelID, key string) (*slack.Message, error) {
	// No `oldest` bound: after a workflow reset the activity is scheduled
	// anew with the same key, later than the earlier post.
	params := &slack.GetConversationHistoryParameters{ChannelID: channelID, Limit: historyPage, IncludeAllMetadata: true}
	for page := 0; page < historyPages; page++ {
		activitykit.Heartbeat(ctx)
		res, err := c.api.GetConversationHistoryContext(ctx, params)
		if err != nil {
			switch slackCode(err) {
			case "missing_scope", "not_in_channel", "not_allowed_token_type":
				c.log("slack: cannot read channel history to de-duplicate; posting without the check",
					"connector", c.conn.ID, "error", slackCode(err))
				return nil, nil
			}
			return nil, c.classify(ctx, err)
		}
		for i := range res.Messages {
			m := &res.Messages[i]
			if m.Metadata.EventType == MetadataEventType && fmt.Sprint(m.Metadata.EventPayload[MetadataKeyField]) == key {
				return m, nil
			}
		}
		if !res.HasMore || res.ResponseMetaData.NextCursor == "" {
			return nil, nil
		}
		params.Cursor = res.ResponseMetaData.NextCursor
	}
	return nil, nil
}

// post is one message to send.
type post struct {
	channel  string
	text     string
	blocks   []any // JSON-like Block Kit blocks
	threadTS string
	unfurl   map[string]bool // unfurl_links / unfurl_media when set
}

// posted is the result of postOnce.
type posted struct {
	channel string
	ts      string
	text    string
	blocks  []any
	// again is true when an earlier attempt had already posted the message.
	again bool
}

// postOnce posts p unless a message carrying key is already in the channel.
func (c *client) postOnce(ctx context.Context, p post, key string) (*posted, error) {
	chID, err := c.channelID(ctx, p.channel)
	if err != nil {
		return nil, err
	}
	if key != "" {
		m, err := c.findPosted(ctx, chID, key)
		if err != nil {
			return nil, err
		}
		if m != nil {
			out := &posted{channel: chID, ts: m.Timestamp, text: m.Text, again: true}
			if len(m.Blocks.BlockSet) > 0 {
				if v, err := activitykit.JSONLike(m.Blocks); err == nil {
					out.blocks, _ = v.([]any)
				}
			}
			return out, nil
		}
	}
	opts := []slack.MsgOption{}
	if p.text != "" {
		opts = append(opts, slack.MsgOptionText(p.text, false))
	}
	if len(p.blocks) > 0 {
		raw, err := activitykit.EncodeJSON(p.blocks)
		if err != nil {
			return nil, step.Errorf("InputValidationError", "blocks: %v", err)
		}
		var blocks slack.Blocks
		if err := blocks.UnmarshalJSON(raw); err != nil {
			return nil, step.Errorf("InputValidationError", "blocks are not valid Block Kit: %v", err)
		}
		opts = append(opts, slack.MsgOptionBlocks(blocks.BlockSet...))
	}
	if p.threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(p.threadTS))
	}
	if v, ok := p.unfurl["links"]; ok && !v {
		opts = append(opts, slack.MsgOptionDisableLinkUnfurl())
	}
	if v, ok := p.unfurl["media"]; ok && !v {
		opts = append(opts, slack.MsgOptionDisableMediaUnfurl())
	}
	if key != "" {
		opts = append(opts, slack.MsgOptionMetadata(metadata(key)))
	}
	ch, ts, err := c.api.PostMessageContext(ctx, chID, opts...)
	if err != nil {
		return nil, c.classify(ctx, err)
	}
	return &posted{channel: ch, ts: ts, text: p.text, blocks: p.blocks}, nil
}

// envelope renders a post the way chat.postMessage answers.
func (p *posted) envelope() map[string]any {
	msg := map[string]any{"type": "message", "text": p.text, "ts": p.ts}
	if len(p.blocks) > 0 {
		msg["blocks"] = p.blocks
	}
	return map[string]any{"ok": true, "channel": p.channel, "ts": p.ts, "message": msg}
}

// channelOutput renders a conversation as {ok: true, channel: {...}}.
func channelOutput(ch *slack.Channel) (any, error) {
	v, err := activitykit.JSONLike(ch)
	if err != nil {
		return nil, step.Errorf("Error", "encoding channel: %v", err)
	}
	return map[string]any{"ok": true, "channel": v}, nil
}

// blocksValue reads Block Kit blocks given as a list, as a JSON string of a
// list, or as a JSON string of {"blocks": [...]} (Kibana's postBlockkit).
func blocksValue(v any) ([]any, error) {
	switch b := v.(type) {
	case nil:
		return nil, nil
	case []any:
		return b, nil
	case map[string]any:
		if l, ok := b["blocks"].([]any); ok {
			return l, nil
		}
		return nil, fmt.Errorf(`block kit body must contain field "blocks"`)
	case string:
		if strings.TrimSpace(b) == "" {
			return nil, nil
		}
		parsed, err := activitykit.DecodeJSON([]byte(b))
		if err != nil {
			return nil, fmt.Errorf("block kit body is not valid JSON - %v", err)
		}
		return blocksValue(parsed)
	}
	return nil, fmt.Errorf("blocks must be a list or a JSON string")
}

// stringList reads a list of strings given as a list or a comma-separated string.
func stringList(v any) []string {
	var out []string
	switch x := v.(type) {
	case string:
		for _, s := range strings.Split(x, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	case []any:
		for _, e := range x {
			if s := strings.TrimSpace(activitykit.Stringify(e)); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// str reads a string param ("" when absent or not a string).
func str(params map[string]any, key string) string {
	s, _ := params[key].(string)
	return s
}
