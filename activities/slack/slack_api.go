package slack

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/secflow/secflow/activities/activitykit"
	"github.com/secflow/secflow/interpreter/step"
)

// Sub-actions and param names of the .slack_api connector.
const (
	subPostMessage    = "postMessage"
	subPostBlockkit   = "postBlockkit"
	subValidChannelID = "validChannelId"

	pChannels     = "channels"
	pChannelIDs   = "channelIds"
	pChannelNames = "channelNames"
	pChannel      = "channel"
	pText         = "text"
	pBlocks       = "blocks"
	pChannelID    = "channelId"
)

var apiWith = []step.Field{
	{Name: pChannelIDs, Type: step.List, Doc: "Channel IDs; the first is used. Must be in the connector's allowedChannels when it has any.", Example: []any{"C0SECOPS"}},
	{Name: pChannelNames, Type: step.List, Doc: "Channel names starting with #; the first is used (takes precedence over channelIds).", Example: []any{"#secops"}},
	{Name: pChannels, Type: step.List, Doc: "Deprecated channel list (name or ID); the first is used."},
	{Name: pChannel, Type: step.String, Doc: "secflow extension: one channel, by ID or name, when no list is given."},
	{Name: pText, Type: step.String, Doc: "postMessage: the message text (fallback text with blocks). postBlockkit: a JSON document {\"blocks\": [...]}."},
	{Name: pBlocks, Type: step.Any, Doc: "secflow extension for postMessage: Block Kit blocks, as a list or a JSON string."},
	{Name: pChannelID, Type: step.String, Doc: "validChannelId: the channel ID to check."},
}

const apiDoc = "Runs a sub-action of Kibana's `.slack_api` connector against the Slack Web API with the connector's bot " +
	"token (`secrets.token`; `config.apiUrl` overrides https://slack.com/api/):\n\n" +
	"- `postMessage`: posts `text` (and, as a secflow extension, `blocks`) to the first of `channelNames`, " +
	"`channelIds`, `channels` or `channel`; the output is Slack's chat.postMessage answer `{ok, channel, ts, message}`.\n" +
	"- `postBlockkit`: posts the blocks of the JSON document in `text`.\n" +
	"- `validChannelId`: returns conversations.info for `channelId`.\n\n" +
	"Posts are exactly-once per step: the message carries the step's idempotency key in its metadata " +
	"(event_type `secflow_step`) and a retry first looks for it in the channel history (needs the " +
	"`channels:history`/`groups:history` scopes; without them the check is skipped). Slack errors fail with " +
	"`ConnectorExecutionError` whose message is Slack's error code (`channel_not_found`, `not_in_channel`, ...); " +
	"rate limits and 5xx are retryable and honour `Retry-After`."

var apiSpec = &step.Spec{
	Type:     "slack_api",
	Kind:     step.KindActivity,
	Category: "notify",
	Status:   step.StatusCore,
	Summary:  "Run a .slack_api connector sub-action given as {subAction, subActionParams}.",
	Doc:      apiDoc,
	With: []step.Field{
		{Name: "subAction", Type: step.String, Required: true, Enum: []string{subPostMessage, subPostBlockkit, subValidChannelID}, Doc: "The sub-action."},
		{Name: "subActionParams", Type: step.Object, Required: true, Doc: "The sub-action's params (see slack_api.*)."},
	},
	NeedsConnector: true,
	Output: step.Output{
		Doc:     "postMessage/postBlockkit: Slack's chat.postMessage answer. validChannelId: {ok, channel}.",
		Example: `{"ok": true, "channel": "C0SECOPS", "ts": "1700000000.000100", "message": {"type": "message", "text": "Host isolated", "ts": "1700000000.000100"}}`,
	},
	Examples: []step.Example{{
		Title: "Post to a channel",
		YAML: `- name: notify
  type: slack_api
  connector-id: soc-slack-api
  with:
    subAction: postMessage
    subActionParams:
      channelIds: [C0SECOPS]
      text: "Case {{ steps.open_case.output.case.id }} opened"`,
	}},
	Activity:  RunAPI,
	Timeout:   time.Minute,
	Heartbeat: true,
	Source:    "activities/slack/slack_api.go",
}

var apiFamilySpec = &step.Spec{
	Type:           "slack_api.*",
	Kind:           step.KindActivity,
	Category:       "notify",
	Status:         step.StatusCore,
	Summary:        "Run a .slack_api connector sub-action: slack_api.postMessage, slack_api.postBlockkit, slack_api.validChannelId.",
	Doc:            apiDoc,
	With:           apiWith,
	NeedsConnector: true,
	Output:         apiSpec.Output,
	Examples: []step.Example{{
		Title: "Post blocks to a channel by name",
		YAML: `- name: notify
  type: slack_api.postMessage
  connector-id: soc-slack-api
  with:
    channelNames: ["#secops"]
    text: "New critical alert"
    blocks:
      - type: section
        text: { type: mrkdwn, text: "*Critical* alert on host-1" }`,
	}},
	Activity:  RunAPI,
	Timeout:   time.Minute,
	Heartbeat: true,
	Source:    "activities/slack/slack_api.go",
}

func init() {
	step.Register(apiSpec)
	step.Register(apiFamilySpec)
}

// RunAPI performs `slack_api` and `slack_api.<subAction>`.
func RunAPI(ctx context.Context, rt step.Runtime, in step.Input) (any, error) {
	sub, params := activitykit.SubAction(in, "slack_api")
	switch sub {
	case subPostMessage, subPostBlockkit, subValidChannelID:
	case "":
		return nil, step.Errorf("InputValidationError", "slack_api: with.subAction is required")
	default:
		return nil, step.Errorf("InputValidationError", "slack_api: unknown sub-action %q (postMessage, postBlockkit, validChannelId)", sub)
	}
	stop := activitykit.KeepAlive(ctx, 0)
	defer stop()
	c, err := newClient(ctx, rt, in, typeAPI)
	if err != nil {
		return nil, err
	}
	if sub == subValidChannelID {
		id := str(params, pChannelID)
		if id == "" {
			return nil, step.Errorf("ConnectorExecutionError", "The channel id is empty")
		}
		ch, err := c.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: id})
		if err != nil {
			return nil, c.classify(ctx, err)
		}
		return channelOutput(ch)
	}
	channel, err := c.pickChannel(params)
	if err != nil {
		return nil, err
	}
	p := post{channel: channel}
	if sub == subPostBlockkit {
		if p.blocks, err = blocksValue(params[pText]); err != nil || len(p.blocks) == 0 {
			if err == nil {
				err = errNoBlocks
			}
			return nil, step.Errorf("InputValidationError", "slack_api.postBlockkit: %v", err)
		}
	} else {
		p.text = str(params, pText)
		if p.blocks, err = blocksValue(params[pBlocks]); err != nil {
			return nil, step.Errorf("InputValidationError", "slack_api.postMessage: %v", err)
		}
		if p.text == "" && len(p.blocks) == 0 {
			return nil, step.Errorf("InputValidationError", "slack_api.postMessage: text is required")
		}
	}
	res, err := c.postOnce(ctx, p, in.IdempotencyKey)
	if err != nil {
		return nil, err
	}
	return res.envelope(), nil
}

// errNoBlocks is postBlockkit's error for a document without blocks.
var errNoBlocks = errors.New(`block kit body must contain field "blocks"`)

// pickChannel applies Kibana's channel priority (channelNames, channelIds,
// deprecated channels; then secflow's channel) and the connector's
// allowedChannels.
func (c *client) pickChannel(params map[string]any) (string, error) {
	var allowedIDs, allowedNames []string
	if list, ok := c.conn.Config["allowedChannels"].([]any); ok {
		for _, e := range list {
			m, _ := e.(map[string]any)
			if id := str(m, "id"); id != "" {
				allowedIDs = append(allowedIDs, id)
			}
			if n := str(m, "name"); n != "" {
				allowedNames = append(allowedNames, strings.TrimPrefix(n, "#"))
			}
		}
	}
	check := func(ch string, allowed []string) error {
		if len(allowed) == 0 {
			return nil
		}
		for _, a := range allowed {
			if a == strings.TrimPrefix(ch, "#") {
				return nil
			}
		}
		return step.Errorf("ConnectorExecutionError", "One or more provided channels are not included in the allowed channels list")
	}
	if names := stringList(params[pChannelNames]); len(names) > 0 {
		for _, n := range names {
			if !strings.HasPrefix(n, "#") {
				return "", step.Errorf("InputValidationError", "Channel name must start with #")
			}
		}
		return names[0], check(names[0], allowedNames)
	}
	if ids := stringList(params[pChannelIDs]); len(ids) > 0 {
		return ids[0], check(ids[0], allowedIDs)
	}
	if chs := stringList(params[pChannels]); len(chs) > 0 {
		return chs[0], nil
	}
	if ch := str(params, pChannel); ch != "" {
		return ch, nil
	}
	return "", step.Errorf("ConnectorExecutionError", "One of channels, channelIds, or channelNames is required and cannot be empty")
}
