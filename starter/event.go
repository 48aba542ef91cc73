package starter

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Body formats Normalize recognises (the `format` label of the metrics).
const (
	FormatEvent   = "event"   // the §8.1 event: {alerts, rule, spaceId, ruleUrl}
	FormatAlert   = "alert"   // one Elastic Security alert document (or search hit)
	FormatAlerts  = "alerts"  // a JSON array of alert documents (or of events)
	FormatNDJSON  = "ndjson"  // one alert document (or event) per line
	defaultSpace  = "default" // Kibana's default space
	severityOrder = "low medium high critical"
)

// Event is one normalised alert event: Body has the shape of the semantics
// spec §8.1 and is what a run receives as `event`. The other fields are the
// facts routing and starting need, extracted once.
type Event struct {
	// Body is the §8.1 event: alerts (nested alert documents), rule
	// {id, name, tags, consumer, producer, ruleTypeId}, spaceId and, when
	// given, ruleUrl and params.
	Body map[string]any
	// AlertIDs are the ids of Body's alerts, in order (the `_id`, else
	// kibana.alert.uuid, else a content hash "sha256:<hex>").
	AlertIDs []string
	// RuleID is rule.id (the rule's saved-object id); RuleName is rule.name.
	RuleID, RuleName string
	// RuleIDs are every id the rule is known by (rule.id, the alerts'
	// kibana.alert.rule.uuid and kibana.alert.rule.rule_id): the values a
	// trigger's `with.rule_id` is matched against.
	RuleIDs []string
	// SpaceID is the Kibana space (default "default").
	SpaceID string
	// Ref, when set, is the blob-store reference of Body, which is then too
	// large to pass inline: runs get it as RunInput.EventRef.
	Ref string
}

// Alerts returns Body's alert documents.
func (e *Event) Alerts() []map[string]any {
	list, _ := e.Body["alerts"].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, a := range list {
		if m, ok := a.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// Severity returns the highest kibana.alert.severity of the alerts
// (critical > high > medium > low > anything else), or "".
func (e *Event) Severity() string {
	best, bestRank := "", -1
	for _, a := range e.Alerts() {
		s, _ := lookup(a, "kibana", "alert", "severity").(string)
		if s == "" {
			continue
		}
		if r := severityRank(s); r > bestRank {
			best, bestRank = s, r
		}
	}
	return best
}

// severityRank orders severities; unknown values rank below "low".
func severityRank(s string) int {
	return strings.Index(severityOrder, strings.ToLower(s))
}

// HostName returns the first host.name found in the alerts, or "".
func (e *Event) HostName() string {
	for _, a := range e.Alerts() {
		switch v := lookup(a, "host", "name").(type) {
		case string:
			if v != "" {
				return v
			}
		case []any:
			for _, x := range v {
				if s, ok := x.(string); ok && s != "" {
					return s
				}
			}
		}
	}
	return ""
}

// Summary is the run's StaticSummary: "<rule name> on <host> (<severity>)",
// dropping the parts that are unknown.
func (e *Event) Summary() string {
	s := e.RuleName
	if s == "" {
		s = "alert"
	}
	if h := e.HostName(); h != "" {
		s += " on " + h
	}
	if sev := e.Severity(); sev != "" {
		s += " (" + sev + ")"
	}
	if n := len(e.AlertIDs); n > 1 {
		s += fmt.Sprintf(", %d alerts", n)
	}
	return s
}

// single returns the event restricted to its i-th alert (per-alert mode).
func (e *Event) single(i int) *Event {
	body := make(map[string]any, len(e.Body))
	for k, v := range e.Body {
		body[k] = v
	}
	body["alerts"] = []any{e.Alerts()[i]}
	return &Event{Body: body, AlertIDs: []string{e.AlertIDs[i]}, RuleID: e.RuleID,
		RuleName: e.RuleName, RuleIDs: e.RuleIDs, SpaceID: e.SpaceID}
}

// RejectError is a body the starter refuses; Reason is the metric label.
type RejectError struct {
	Reason string // malformed | unrecognised | too_many_alerts | too_deep | empty
	Msg    string
}

func (e *RejectError) Error() string { return e.Msg }

func reject(reason, format string, args ...any) error {
	return &RejectError{Reason: reason, Msg: fmt.Sprintf(format, args...)}
}

// Limits bound what Normalize accepts.
type Limits struct {
	// MaxDepth is the deepest JSON nesting accepted (default 64).
	MaxDepth int
	// MaxAlerts is the most alert documents one request may carry (default 1000).
	MaxAlerts int
}

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = 64
	}
	if l.MaxAlerts <= 0 {
		l.MaxAlerts = 1000
	}
	return l
}

// Normalize parses a request body in any accepted format and returns the
// §8.1 events it holds, and the format it was recognised as:
//
//   - a §8.1 event {alerts: [...], rule, spaceId, ruleUrl} (also the legacy
//     {alerts: {new: [...]}}): one event; a missing rule, or missing rule
//     fields, are taken from the first alert's kibana.alert.rule.*;
//   - one alert document, with kibana.alert.* fields either nested or
//     dotted ("kibana.alert.rule.name") as Elasticsearch stores them, or an
//     Elasticsearch search hit {_id, _index, _source};
//   - a JSON array of alert documents (or of events);
//   - NDJSON: one alert document (or event) per line.
//
// Alert documents are expanded to nested objects and grouped into one event
// per rule (kibana.alert.rule.uuid), in order of first appearance.
func Normalize(body []byte, lim Limits) ([]*Event, string, error) {
	lim = lim.withDefaults()
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, "", reject("empty", "empty body: expected an alert event, an alert document, an array of them or NDJSON")
	}
	if err := checkDepth(body, lim.MaxDepth); err != nil {
		return nil, "", err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var values []any
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := 1 + bytes.Count(body[:min(int(dec.InputOffset()), len(body))], []byte("\n"))
			return nil, "", reject("malformed", "malformed JSON (value %d, line %d): %v", len(values)+1, line, err)
		}
		values = append(values, v)
	}
	format := FormatNDJSON
	if len(values) == 1 {
		switch values[0].(type) {
		case map[string]any:
			if _, ok := values[0].(map[string]any)["alerts"]; ok {
				format = FormatEvent
			} else {
				format = FormatAlert
			}
		case []any:
			format = FormatAlerts
			values = values[0].([]any)
			if len(values) == 0 {
				return nil, "", reject("empty", "empty array: no alert to process")
			}
		default:
			return nil, "", reject("unrecognised", "unrecognised body: a JSON %s is neither an alert event, an alert document nor an array of them", jsonKind(values[0]))
		}
	}
	g := grouper{byRule: map[string]int{}}
	var events []*Event
	count := 0
	for i, v := range values {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, "", reject("unrecognised", "item %d: expected a JSON object (alert document or event), got %s", i+1, jsonKind(v))
		}
		if _, isEvent := obj["alerts"]; isEvent {
			ev, err := normalizeEvent(obj)
			if err != nil {
				return nil, "", itemError(err, i, len(values))
			}
			count += len(ev.AlertIDs)
			events = append(events, ev)
			continue
		}
		doc, err := alertDocument(obj)
		if err != nil {
			return nil, "", itemError(err, i, len(values))
		}
		count++
		g.add(doc)
	}
	if count > lim.MaxAlerts {
		return nil, "", reject("too_many_alerts", "too many alerts in one request: %d (limit %d)", count, lim.MaxAlerts)
	}
	events = append(events, g.events()...)
	return events, format, nil
}

func itemError(err error, i, n int) error {
	var re *RejectError
	if n > 1 && errors.As(err, &re) {
		return &RejectError{Reason: re.Reason, Msg: fmt.Sprintf("item %d: %s", i+1, re.Msg)}
	}
	return err
}

// normalizeEvent completes a §8.1 event.
func normalizeEvent(obj map[string]any) (*Event, error) {
	body := make(map[string]any, len(obj)+2)
	for k, v := range obj {
		body[k] = v
	}
	var raw []any
	switch a := obj["alerts"].(type) {
	case []any:
		raw = a
	case map[string]any: // legacy {alerts: {new: [...], ongoing: [...], recovered: [...]}}
		for _, k := range []string{"new", "ongoing", "recovered"} {
			if list, ok := a[k].([]any); ok {
				raw = append(raw, list...)
			}
		}
	default:
		return nil, reject("unrecognised", "event.alerts must be an array of alert documents, got %s", jsonKind(obj["alerts"]))
	}
	if len(raw) == 0 {
		return nil, reject("empty", "event.alerts is empty: no alert to process")
	}
	alerts := make([]any, len(raw))
	for i, a := range raw {
		m, ok := a.(map[string]any)
		if !ok {
			return nil, reject("unrecognised", "event.alerts[%d] must be an object, got %s", i, jsonKind(a))
		}
		if src, ok := m["_source"].(map[string]any); ok {
			m = hitToDoc(m, src)
		}
		alerts[i] = expandDotted(m)
	}
	body["alerts"] = alerts
	rule, _ := obj["rule"].(map[string]any)
	if obj["rule"] != nil && rule == nil {
		return nil, reject("unrecognised", "event.rule must be an object, got %s", jsonKind(obj["rule"]))
	}
	first := alerts[0].(map[string]any)
	body["rule"] = completeRule(rule, first)
	if s, _ := obj["spaceId"].(string); s == "" {
		body["spaceId"] = spaceOf(first)
	}
	return finish(body), nil
}

// alertDocument checks and expands one alert document (or search hit).
func alertDocument(obj map[string]any) (map[string]any, error) {
	if src, ok := obj["_source"].(map[string]any); ok {
		obj = hitToDoc(obj, src)
	}
	doc := expandDotted(obj)
	_, hasID := doc["_id"].(string)
	if lookup(doc, "kibana", "alert") == nil && lookup(doc, "signal") == nil && !hasID {
		return nil, reject("unrecognised", "unrecognised body: expected an alert event {alerts, rule, spaceId}, "+
			"an alert document with kibana.alert.* fields (or an _id), an array of them, or NDJSON")
	}
	return doc, nil
}

// hitToDoc turns an Elasticsearch hit into the alert document Kibana
// builds: the _source with _id and _index added.
func hitToDoc(hit, src map[string]any) map[string]any {
	doc := make(map[string]any, len(src)+2)
	for k, v := range src {
		doc[k] = v
	}
	for _, k := range []string{"_id", "_index"} {
		if v, ok := hit[k]; ok {
			doc[k] = v
		}
	}
	return doc
}

// grouper collects alert documents into one event per rule.
type grouper struct {
	byRule map[string]int
	groups [][]any
}

func (g *grouper) add(doc map[string]any) {
	key := ruleKey(doc)
	i, ok := g.byRule[key]
	if !ok {
		i = len(g.groups)
		g.byRule[key] = i
		g.groups = append(g.groups, nil)
	}
	g.groups[i] = append(g.groups[i], doc)
}

func (g *grouper) events() []*Event {
	out := make([]*Event, 0, len(g.groups))
	for _, alerts := range g.groups {
		first := alerts[0].(map[string]any)
		body := map[string]any{
			"alerts":  alerts,
			"rule":    completeRule(nil, first),
			"spaceId": spaceOf(first),
		}
		if u, _ := lookup(first, "kibana", "alert", "rule", "url").(string); u != "" {
			body["ruleUrl"] = u
		} else if u, _ := lookup(first, "kibana", "alert", "url").(string); u != "" {
			body["ruleUrl"] = u
		}
		out = append(out, finish(body))
	}
	return out
}

func ruleKey(doc map[string]any) string {
	for _, path := range [][]string{{"kibana", "alert", "rule", "uuid"}, {"kibana", "alert", "rule", "rule_id"}, {"kibana", "alert", "rule", "name"}} {
		if s, _ := lookup(doc, path...).(string); s != "" {
			return s
		}
	}
	return ""
}

// completeRule fills the §8.1 rule object from kibana.alert.rule.* of the
// first alert, keeping every field the sender gave.
func completeRule(rule, alert map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range rule {
		out[k] = v
	}
	from := map[string][]string{
		"id":         {"kibana", "alert", "rule", "uuid"},
		"name":       {"kibana", "alert", "rule", "name"},
		"tags":       {"kibana", "alert", "rule", "tags"},
		"consumer":   {"kibana", "alert", "rule", "consumer"},
		"producer":   {"kibana", "alert", "rule", "producer"},
		"ruleTypeId": {"kibana", "alert", "rule", "rule_type_id"},
	}
	for k, path := range from {
		if isEmpty(out[k]) {
			if v := lookup(alert, path...); !isEmpty(v) {
				out[k] = v
			}
		}
	}
	if isEmpty(out["id"]) {
		if v := lookup(alert, "kibana", "alert", "rule", "rule_id"); !isEmpty(v) {
			out["id"] = v
		}
	}
	return out
}

func spaceOf(alert map[string]any) string {
	switch v := lookup(alert, "kibana", "space_ids").(type) {
	case []any:
		if len(v) > 0 {
			if s, ok := v[0].(string); ok && s != "" {
				return s
			}
		}
	case string:
		if v != "" {
			return v
		}
	}
	return defaultSpace
}

// finish extracts the routing facts from a complete §8.1 body.
func finish(body map[string]any) *Event {
	ev := &Event{Body: body}
	rule, _ := body["rule"].(map[string]any)
	ev.RuleID = scalarString(rule["id"])
	ev.RuleName = scalarString(rule["name"])
	ev.SpaceID, _ = body["spaceId"].(string)
	if ev.SpaceID == "" {
		ev.SpaceID = defaultSpace
	}
	seen := map[string]bool{}
	addID := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			ev.RuleIDs = append(ev.RuleIDs, s)
		}
	}
	addID(ev.RuleID)
	for _, a := range ev.Alerts() {
		ev.AlertIDs = append(ev.AlertIDs, alertID(a))
		addID(scalarString(lookup(a, "kibana", "alert", "rule", "uuid")))
		addID(scalarString(lookup(a, "kibana", "alert", "rule", "rule_id")))
	}
	return ev
}

// alertID is the alert's identity: _id, else kibana.alert.uuid, else a hash
// of its canonical JSON (Go's encoding/json sorts map keys).
func alertID(a map[string]any) string {
	if s := scalarString(a["_id"]); s != "" {
		return s
	}
	if s := scalarString(lookup(a, "kibana", "alert", "uuid")); s != "" {
		return s
	}
	b, _ := json.Marshal(a)
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// expandDotted turns dotted keys ("kibana.alert.rule.name") into nested
// objects, recursively (arrays included). A dotted key that would overwrite
// a non-object value is kept as it is.
func expandDotted(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// Plain keys first, then dotted ones shortest first, so the result does
	// not depend on map order.
	sort.Slice(keys, func(i, j int) bool {
		di, dj := strings.Count(keys[i], "."), strings.Count(keys[j], ".")
		if di != dj {
			return di < dj
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		v := expandValue(m[k])
		if !strings.Contains(k, ".") || strings.HasPrefix(k, ".") || strings.HasSuffix(k, ".") || strings.Contains(k, "..") {
			if existing, ok := out[k].(map[string]any); ok {
				if vm, ok := v.(map[string]any); ok {
					mergeInto(existing, vm)
					continue
				}
			}
			out[k] = v
			continue
		}
		parts := strings.Split(k, ".")
		cur := out
		ok := true
		for _, p := range parts[:len(parts)-1] {
			next, exists := cur[p]
			if !exists {
				nm := map[string]any{}
				cur[p] = nm
				cur = nm
				continue
			}
			nm, isMap := next.(map[string]any)
			if !isMap {
				ok = false
				break
			}
			cur = nm
		}
		if !ok {
			out[k] = v
			continue
		}
		last := parts[len(parts)-1]
		if existing, isMap := cur[last].(map[string]any); isMap {
			if vm, ok := v.(map[string]any); ok {
				mergeInto(existing, vm)
				continue
			}
		}
		cur[last] = v
	}
	return out
}

func mergeInto(dst, src map[string]any) {
	for k, v := range src {
		if dm, ok := dst[k].(map[string]any); ok {
			if sm, ok := v.(map[string]any); ok {
				mergeInto(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

func expandValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return expandDotted(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = expandValue(e)
		}
		return out
	}
	return v
}

// lookup walks nested objects; nil when a step is missing.
func lookup(m map[string]any, path ...string) any {
	var cur any = m
	for _, p := range path {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = obj[p]
	}
	return cur
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	}
	return false
}

// scalarString renders a string or number as a string ("" otherwise).
func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64, int, int64, json.Number:
		return fmt.Sprint(x)
	}
	return ""
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// checkDepth rejects JSON nested deeper than max without decoding it, so a
// hostile body cannot make the decoder recurse (strings are skipped).
func checkDepth(b []byte, max int) error {
	depth := 0
	inString, escaped := false, false
	for _, c := range b {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > max {
				return reject("too_deep", "JSON nested deeper than %d levels", max)
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}
