package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

func init() { register("slack", func() Service { return NewSlack() }) }

// Identifiers of the Slack fake's workspace and bot user.
const (
	SlackTeamID    = "T00000000"
	SlackBotUserID = "U0SECFLOW"
	SlackBotID     = "B0SECFLOW"
	// SlackWebhookChannel is the channel incoming-webhook posts land in.
	SlackWebhookChannel = "C0ALERTS"
)

// SlackMessage is one message the Slack fake holds.
type SlackMessage struct {
	Channel     string         `json:"channel"`
	ChannelName string         `json:"channelName"`
	TS          string         `json:"ts"`
	Text        string         `json:"text,omitempty"`
	Blocks      []any          `json:"blocks,omitempty"`
	Metadata    map[string]any `json:"metadata,omitempty"`
	ThreadTS    string         `json:"threadTs,omitempty"`
	User        string         `json:"user,omitempty"`
	// Webhook is true for messages posted through the incoming webhook.
	Webhook bool `json:"webhook,omitempty"`
}

// SlackChannel is one conversation of the Slack fake.
type SlackChannel struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	IsPrivate bool     `json:"isPrivate"`
	Creator   string   `json:"creator"`
	Created   int64    `json:"created"`
	Members   []string `json:"members"`
}

// Slack is a fake of the Slack Web API (https://api.slack.com/methods) and
// of one incoming webhook. It answers the way Slack does: HTTP 200 with
// {"ok": false, "error": "<code>"} for API errors, the token taken from
// "Authorization: Bearer" or the `token` form/query parameter.
type Slack struct {
	mu       sync.Mutex
	channels []*SlackChannel
	users    map[string]string // id -> name
	messages []SlackMessage
	seq      int64
	base     int64
	// Faults injects error answers (429 with Retry-After, 5xx...).
	Faults
	lost lostAnswers
}

// NewSlack returns a Slack fake with channels #secops, #alerts and #general
// and users U0ALICE, U0BOB, U0CAROL besides the bot.
func NewSlack() *Slack {
	now := time.Now().Unix()
	s := &Slack{
		users: map[string]string{SlackBotUserID: "secflow", "U0ALICE": "alice", "U0BOB": "bob", "U0CAROL": "carol"},
		base:  now,
	}
	for _, c := range []struct{ id, name string }{{"C0SECOPS", "secops"}, {SlackWebhookChannel, "alerts"}, {"C0GENERAL", "general"}} {
		s.channels = append(s.channels, &SlackChannel{ID: c.id, Name: c.name, Creator: "U0ALICE", Created: now,
			Members: []string{"U0ALICE", SlackBotUserID}})
	}
	return s
}

// Name implements Service.
func (s *Slack) Name() string { return "slack" }

// LoseAnswer serves the next request whose path ends with suffix (or, as
// "POST /comment", whose method and path suffix match) and then drops the
// connection instead of answering (the crash window). Note that Go's HTTP
// client transparently retries an idempotent request (GET) whose answer is
// lost on a reused connection.
func (s *Slack) LoseAnswer(suffix string) { s.lost.lose(suffix) }

// Messages returns every message posted so far, oldest first.
func (s *Slack) Messages() []SlackMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SlackMessage, len(s.messages))
	copy(out, s.messages)
	return out
}

// Channels returns every channel, in creation order.
func (s *Slack) Channels() []SlackChannel {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SlackChannel, len(s.channels))
	for i, c := range s.channels {
		out[i] = *c
		out[i].Members = append([]string(nil), c.Members...)
	}
	return out
}

// Handler implements Service.
func (s *Slack) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/{method}", s.api)
	mux.HandleFunc("/services/", s.webhook)
	return s.Wrap(s.lost.wrap(mux), nil, slackFaultBody)
}

// slackParams holds the arguments of one Web API call, from the query, a
// form body or a JSON body.
type slackParams struct {
	form url.Values
	json map[string]any
}

func (p slackParams) str(k string) string {
	if p.json != nil {
		switch v := p.json[k].(type) {
		case string:
			return v
		case bool:
			return strconv.FormatBool(v)
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		case []any:
			parts := make([]string, 0, len(v))
			for _, e := range v {
				parts = append(parts, fmt.Sprint(e))
			}
			return strings.Join(parts, ",")
		}
	}
	return p.form.Get(k)
}

// structured returns a JSON-valued argument (blocks, metadata): a JSON
// value in a JSON body, a JSON-encoded string in a form.
func (p slackParams) structured(k string) (any, error) {
	if p.json != nil {
		if v, ok := p.json[k]; ok {
			if s, isStr := v.(string); isStr {
				var out any
				if err := json.Unmarshal([]byte(s), &out); err != nil {
					return nil, err
				}
				return out, nil
			}
			return v, nil
		}
	}
	raw := p.form.Get(k)
	if raw == "" {
		return nil, nil
	}
	var out any
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		return nil, err
	}
	return out, nil
}

func slackTruthy(v string) bool { return v == "1" || v == "true" }

func slackErr(w http.ResponseWriter, code string) {
	writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": code})
}

func (s *Slack) api(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	p := slackParams{form: r.URL.Query()}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if r.Method == http.MethodPost {
		body, _ := io.ReadAll(r.Body)
		switch mt {
		case "application/json":
			if err := json.Unmarshal(body, &p.json); err != nil {
				slackErr(w, "invalid_json")
				return
			}
		default:
			form, err := url.ParseQuery(string(body))
			if err != nil {
				slackErr(w, "invalid_form_data")
				return
			}
			for k, v := range form {
				p.form[k] = v
			}
		}
	}
	token := ""
	if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "Bearer ") {
		token = strings.TrimPrefix(a, "Bearer ")
	} else if p.json == nil {
		token = p.form.Get("token")
	}
	if token == "" {
		slackErr(w, "not_authed")
		return
	}
	if token != SlackToken {
		slackErr(w, "invalid_auth")
		return
	}
	switch r.PathValue("method") {
	case "auth.test":
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "url": "https://secflow-sandbox.slack.com/",
			"team": "secflow sandbox", "user": "secflow", "team_id": SlackTeamID, "user_id": SlackBotUserID,
			"bot_id": SlackBotID, "is_enterprise_install": false})
	case "chat.postMessage":
		s.postMessage(w, p)
	case "conversations.history":
		s.history(w, p)
	case "conversations.create":
		s.create(w, p)
	case "conversations.invite":
		s.invite(w, p)
	case "conversations.info":
		s.info(w, p)
	case "conversations.list":
		s.list(w, p)
	case "conversations.members":
		s.members(w, p)
	default:
		slackErr(w, "unknown_method")
	}
}

// channelLocked finds a channel by id, "#name" or "name".
func (s *Slack) channelLocked(ref string) *SlackChannel {
	name := strings.TrimPrefix(ref, "#")
	for _, c := range s.channels {
		if c.ID == ref || c.Name == name {
			return c
		}
	}
	return nil
}

func (s *Slack) nextTSLocked() string {
	s.seq++
	return fmt.Sprintf("%d.%06d", s.base+s.seq/1000000, s.seq%1000000)
}

func slackContains(list []string, v string) bool {
	for _, e := range list {
		if e == v {
			return true
		}
	}
	return false
}

func (s *Slack) postMessage(w http.ResponseWriter, p slackParams) {
	blocksV, err := p.structured("blocks")
	if err != nil {
		slackErr(w, "invalid_blocks_format")
		return
	}
	var blocks []any
	if blocksV != nil {
		b, ok := blocksV.([]any)
		if !ok {
			slackErr(w, "invalid_blocks_format")
			return
		}
		blocks = b
	}
	metaV, err := p.structured("metadata")
	if err != nil {
		slackErr(w, "invalid_metadata_format")
		return
	}
	var meta map[string]any
	if metaV != nil {
		m, ok := metaV.(map[string]any)
		if !ok || m["event_type"] == nil {
			slackErr(w, "invalid_metadata_format")
			return
		}
		meta = m
	}
	text := p.str("text")
	if text == "" && len(blocks) == 0 && p.str("attachments") == "" {
		slackErr(w, "no_text")
		return
	}
	s.mu.Lock()
	c := s.channelLocked(p.str("channel"))
	if c == nil {
		s.mu.Unlock()
		slackErr(w, "channel_not_found")
		return
	}
	if !slackContains(c.Members, SlackBotUserID) {
		s.mu.Unlock()
		slackErr(w, "not_in_channel")
		return
	}
	m := SlackMessage{Channel: c.ID, ChannelName: c.Name, TS: s.nextTSLocked(), Text: text, Blocks: blocks,
		Metadata: meta, ThreadTS: p.str("thread_ts"), User: SlackBotUserID}
	s.messages = append(s.messages, m)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "channel": m.Channel, "ts": m.TS,
		"message": slackMessageJSON(m, false)})
}

// slackMessageJSON renders m the way conversations.history does.
func slackMessageJSON(m SlackMessage, withMeta bool) map[string]any {
	out := map[string]any{"type": "message", "text": m.Text, "ts": m.TS, "team": SlackTeamID}
	if m.Webhook {
		out["subtype"] = "bot_message"
		out["bot_id"] = SlackBotID
	} else {
		out["user"] = m.User
		out["bot_id"] = SlackBotID
		out["app_id"] = "A0SECFLOW"
	}
	if len(m.Blocks) > 0 {
		out["blocks"] = m.Blocks
	}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
	}
	if withMeta && m.Metadata != nil {
		out["metadata"] = m.Metadata
	}
	return out
}

// slackPageArgs reads `limit` and the opaque `cursor` (an offset).
func slackPageArgs(p slackParams, def int) (offset, limit int) {
	limit = def
	if n, err := strconv.Atoi(p.str("limit")); err == nil && n > 0 {
		limit = min(n, 1000)
	}
	if c := p.str("cursor"); c != "" {
		if b, err := base64.StdEncoding.DecodeString(c); err == nil {
			offset, _ = strconv.Atoi(strings.TrimPrefix(string(b), "offset:"))
		}
	}
	return offset, limit
}

func slackNextCursor(offset, limit, total int) string {
	if offset+limit >= total {
		return ""
	}
	return base64.StdEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(offset+limit)))
}

func (s *Slack) history(w http.ResponseWriter, p slackParams) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channelLocked(p.str("channel"))
	if c == nil || p.str("channel") != c.ID {
		// conversations.history takes an ID only.
		slackErr(w, "channel_not_found")
		return
	}
	if !slackContains(c.Members, SlackBotUserID) {
		slackErr(w, "not_in_channel")
		return
	}
	withMeta := slackTruthy(p.str("include_all_metadata"))
	var msgs []map[string]any
	for i := len(s.messages) - 1; i >= 0; i-- {
		m := s.messages[i]
		if m.Channel != c.ID {
			continue
		}
		if o := p.str("oldest"); o != "" && m.TS < o {
			continue
		}
		if l := p.str("latest"); l != "" && m.TS > l {
			continue
		}
		msgs = append(msgs, slackMessageJSON(m, withMeta))
	}
	offset, limit := slackPageArgs(p, 100)
	total := len(msgs)
	end := min(offset+limit, total)
	if offset > total {
		offset = total
	}
	page := msgs[offset:end]
	if page == nil {
		page = []map[string]any{}
	}
	cur := slackNextCursor(offset, limit, total)
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "messages": page, "has_more": cur != "",
		"pin_count": 0, "channel_actions_ts": nil, "channel_actions_count": 0,
		"response_metadata": map[string]any{"next_cursor": cur}})
}

// slackChannelJSON renders c as a Slack conversation object.
func slackChannelJSON(c *SlackChannel) map[string]any {
	return map[string]any{
		"id": c.ID, "name": c.Name, "name_normalized": c.Name, "created": c.Created, "creator": c.Creator,
		"is_channel": !c.IsPrivate, "is_group": c.IsPrivate, "is_im": false, "is_mpim": false,
		"is_private": c.IsPrivate, "is_archived": false, "is_general": c.Name == "general", "unlinked": 0,
		"is_shared": false, "is_org_shared": false, "is_ext_shared": false, "is_pending_ext_shared": false,
		"pending_shared": []string{}, "context_team_id": SlackTeamID, "shared_team_ids": []string{SlackTeamID},
		"is_member": slackContains(c.Members, SlackBotUserID), "num_members": len(c.Members),
		"topic":          map[string]any{"value": "", "creator": "", "last_set": 0},
		"purpose":        map[string]any{"value": "", "creator": "", "last_set": 0},
		"previous_names": []string{},
	}
}

var slackChannelName = regexp.MustCompile(`^[a-z0-9_-]+$`)

func (s *Slack) create(w http.ResponseWriter, p slackParams) {
	name := p.str("name")
	switch {
	case name == "":
		slackErr(w, "invalid_name_required")
		return
	case len(name) > 80:
		slackErr(w, "invalid_name_maxlength")
		return
	case !slackChannelName.MatchString(name):
		slackErr(w, "invalid_name_specials")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.channelLocked(name) != nil {
		slackErr(w, "name_taken")
		return
	}
	c := &SlackChannel{ID: fmt.Sprintf("C%08d", len(s.channels)+1), Name: name, IsPrivate: slackTruthy(p.str("is_private")),
		Creator: SlackBotUserID, Created: time.Now().Unix(), Members: []string{SlackBotUserID}}
	s.channels = append(s.channels, c)
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "channel": slackChannelJSON(c)})
}

func (s *Slack) invite(w http.ResponseWriter, p slackParams) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channelLocked(p.str("channel"))
	if c == nil {
		slackErr(w, "channel_not_found")
		return
	}
	if !slackContains(c.Members, SlackBotUserID) {
		slackErr(w, "not_in_channel")
		return
	}
	var users []string
	for _, u := range strings.Split(p.str("users"), ",") {
		if u = strings.TrimSpace(u); u != "" {
			users = append(users, u)
		}
	}
	if len(users) == 0 {
		slackErr(w, "no_user")
		return
	}
	var errs []map[string]any
	code := ""
	for _, u := range users {
		switch {
		case u == SlackBotUserID:
			code = "cant_invite_self"
		case s.users[u] == "":
			code = "user_not_found"
		case slackContains(c.Members, u):
			code = "already_in_channel"
		default:
			continue
		}
		errs = append(errs, map[string]any{"user": u, "ok": false, "error": code})
	}
	if len(errs) > 0 {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": code, "errors": errs})
		return
	}
	c.Members = append(c.Members, users...)
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "channel": slackChannelJSON(c)})
}

func (s *Slack) info(w http.ResponseWriter, p slackParams) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channelLocked(p.str("channel"))
	if c == nil || c.ID != p.str("channel") {
		slackErr(w, "channel_not_found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "channel": slackChannelJSON(c)})
}

func (s *Slack) list(w http.ResponseWriter, p slackParams) {
	s.mu.Lock()
	defer s.mu.Unlock()
	types := p.str("types")
	if types == "" {
		types = "public_channel"
	}
	var all []map[string]any
	for _, c := range s.channels {
		if c.IsPrivate && (!strings.Contains(types, "private_channel") || !slackContains(c.Members, SlackBotUserID)) {
			continue
		}
		if !c.IsPrivate && !strings.Contains(types, "public_channel") {
			continue
		}
		all = append(all, slackChannelJSON(c))
	}
	offset, limit := slackPageArgs(p, 100)
	end := min(offset+limit, len(all))
	offset = min(offset, len(all))
	page := all[offset:end]
	if page == nil {
		page = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "channels": page,
		"response_metadata": map[string]any{"next_cursor": slackNextCursor(offset, limit, len(all))}})
}

func (s *Slack) members(w http.ResponseWriter, p slackParams) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channelLocked(p.str("channel"))
	if c == nil || c.ID != p.str("channel") {
		slackErr(w, "channel_not_found")
		return
	}
	m := append([]string(nil), c.Members...)
	sort.Strings(m)
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "members": m,
		"response_metadata": map[string]any{"next_cursor": ""}})
}

// webhook serves the incoming webhook: POST a JSON payload, answer "ok".
func (s *Slack) webhook(w http.ResponseWriter, r *http.Request) {
	text := func(status int, body string) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
	if r.Method != http.MethodPost {
		text(http.StatusMethodNotAllowed, "invalid_method")
		return
	}
	if r.URL.Path != SlackWebhookPath {
		if strings.Count(r.URL.Path, "/") == 4 {
			text(http.StatusForbidden, "invalid_token")
			return
		}
		text(http.StatusNotFound, "no_service")
		return
	}
	body, _ := io.ReadAll(r.Body)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
		form, _ := url.ParseQuery(string(body))
		body = []byte(form.Get("payload"))
	}
	var payload struct {
		Text     string         `json:"text"`
		Blocks   []any          `json:"blocks"`
		Metadata map[string]any `json:"metadata"`
	}
	if err := json.Unmarshal(body, &payload); err != nil {
		text(http.StatusBadRequest, "invalid_payload")
		return
	}
	if payload.Text == "" && len(payload.Blocks) == 0 {
		text(http.StatusBadRequest, "no_text")
		return
	}
	s.mu.Lock()
	c := s.channelLocked(SlackWebhookChannel)
	s.messages = append(s.messages, SlackMessage{Channel: c.ID, ChannelName: c.Name, TS: s.nextTSLocked(),
		Text: payload.Text, Blocks: payload.Blocks, Metadata: payload.Metadata, Webhook: true})
	s.mu.Unlock()
	text(http.StatusOK, "ok")
}

// slackFaultBody is what Slack answers with an error status: a JSON error
// for 429, an HTML page otherwise.
func slackFaultBody(status int) string {
	if status == http.StatusTooManyRequests {
		return `{"ok":false,"error":"ratelimited"}`
	}
	return "<html><body>" + http.StatusText(status) + "</body></html>"
}
