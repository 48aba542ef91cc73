package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"sync"
	"time"
)

func init() { register("pagerduty", func() Service { return NewPagerDuty() }) }

// PagerDutyEvent is one event the PagerDuty fake accepted.
type PagerDutyEvent struct {
	RoutingKey string         `json:"-"`
	Action     string         `json:"event_action"`
	DedupKey   string         `json:"dedup_key"`
	Payload    map[string]any `json:"payload,omitempty"`
	Links      []any          `json:"links,omitempty"`
	Images     []any          `json:"images,omitempty"`
	Client     string         `json:"client,omitempty"`
	ClientURL  string         `json:"client_url,omitempty"`
	At         time.Time      `json:"at"`
}

// PagerDutyAlert is the alert (and incident) a dedup key opened.
type PagerDutyAlert struct {
	DedupKey string `json:"dedupKey"`
	// Status is triggered, acknowledged or resolved.
	Status   string `json:"status"`
	Summary  string `json:"summary"`
	Severity string `json:"severity"`
	Source   string `json:"source"`
	// Events counts the events applied to this alert (the first trigger included).
	Events int `json:"events"`
}

// PagerDuty is a fake of the PagerDuty Events API v2
// (https://developer.pagerduty.com/docs/events-api-v2/trigger-events):
// POST /v2/enqueue with the routing key in the body, 202
// {status, message, dedup_key} on success, 400 {status: "invalid event",
// message, errors} otherwise. A trigger whose dedup key matches an open
// (triggered or acknowledged) alert is merged into it rather than opening a
// new one, as the real service de-duplicates.
type PagerDuty struct {
	mu     sync.Mutex
	events []PagerDutyEvent
	alerts []*PagerDutyAlert
	// Faults injects error answers (429, 5xx...).
	Faults
	lost lostAnswers
}

// NewPagerDuty returns an empty PagerDuty fake accepting PagerDutyRoutingKey.
func NewPagerDuty() *PagerDuty { return &PagerDuty{} }

// Name implements Service.
func (p *PagerDuty) Name() string { return "pagerduty" }

// LoseAnswer serves the next request whose path ends with suffix (or, as
// "POST /comment", whose method and path suffix match) and then drops the
// connection instead of answering (the crash window). Note that Go's HTTP
// client transparently retries an idempotent request (GET) whose answer is
// lost on a reused connection.
func (p *PagerDuty) LoseAnswer(suffix string) { p.lost.lose(suffix) }

// Events returns every accepted event, oldest first.
func (p *PagerDuty) Events() []PagerDutyEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]PagerDutyEvent(nil), p.events...)
}

// Alerts returns every alert opened so far, oldest first.
func (p *PagerDuty) Alerts() []PagerDutyAlert {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]PagerDutyAlert, len(p.alerts))
	for i, a := range p.alerts {
		out[i] = *a
	}
	return out
}

// Handler implements Service.
func (p *PagerDuty) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/v2/enqueue", p.enqueue)
	return p.Wrap(p.lost.wrap(mux), nil, func(status int) string {
		return `{"status":"error","message":"` + http.StatusText(status) + `","errors":[]}`
	})
}

func pdInvalid(w http.ResponseWriter, errs ...string) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"status": "invalid event",
		"message": "Event object is invalid", "errors": errs})
}

var pdSeverities = map[string]bool{"critical": true, "error": true, "warning": true, "info": true}

func (p *PagerDuty) enqueue(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"status": "invalid request",
			"message": "Content-Type must be application/json", "errors": []string{}})
		return
	}
	body, _ := io.ReadAll(r.Body)
	var ev PagerDutyEvent
	var raw struct {
		PagerDutyEvent
		RoutingKey string `json:"routing_key"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"status": "invalid request",
			"message": "Invalid JSON", "errors": []string{err.Error()}})
		return
	}
	ev = raw.PagerDutyEvent
	ev.RoutingKey = raw.RoutingKey
	if ev.RoutingKey == "" {
		ev.RoutingKey = r.Header.Get("X-Routing-Key")
	}
	switch {
	case ev.RoutingKey == "":
		pdInvalid(w, "'routing_key' is missing or blank")
		return
	case len(ev.RoutingKey) != 32:
		pdInvalid(w, "Length of 'routing_key' is incorrect (should be 32 characters)")
		return
	case ev.RoutingKey != PagerDutyRoutingKey:
		pdInvalid(w, "Invalid routing key")
		return
	}
	if len(ev.DedupKey) > 255 {
		pdInvalid(w, "'dedup_key' must be at most 255 characters")
		return
	}
	switch ev.Action {
	case "trigger":
		var errs []string
		str := func(k string) string { s, _ := ev.Payload[k].(string); return s }
		if str("summary") == "" {
			errs = append(errs, "'payload.summary' is missing or blank")
		} else if len(str("summary")) > 1024 {
			errs = append(errs, "'payload.summary' must be at most 1024 characters")
		}
		if str("source") == "" {
			errs = append(errs, "'payload.source' is missing or blank")
		}
		if !pdSeverities[str("severity")] {
			errs = append(errs, "'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')")
		}
		if len(errs) > 0 {
			pdInvalid(w, errs...)
			return
		}
		if ev.DedupKey == "" {
			b := make([]byte, 16)
			_, _ = rand.Read(b)
			ev.DedupKey = hex.EncodeToString(b)
		}
		p.mu.Lock()
		if a := p.openLocked(ev.DedupKey); a != nil {
			a.Events++
		} else {
			p.alerts = append(p.alerts, &PagerDutyAlert{DedupKey: ev.DedupKey, Status: "triggered",
				Summary: str("summary"), Severity: str("severity"), Source: str("source"), Events: 1})
		}
	case "acknowledge", "resolve":
		if ev.DedupKey == "" {
			pdInvalid(w, "'dedup_key' is missing or blank")
			return
		}
		p.mu.Lock()
		if a := p.openLocked(ev.DedupKey); a != nil {
			a.Events++
			if ev.Action == "resolve" {
				a.Status = "resolved"
			} else {
				a.Status = "acknowledged"
			}
		}
	default:
		pdInvalid(w, "'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')")
		return
	}
	ev.At = time.Now().UTC()
	p.events = append(p.events, ev)
	p.mu.Unlock()
	writeJSON(w, http.StatusAccepted, map[string]any{"status": "success", "message": "Event processed",
		"dedup_key": ev.DedupKey})
}

// openLocked returns the open alert with the dedup key, if any.
func (p *PagerDuty) openLocked(key string) *PagerDutyAlert {
	for _, a := range p.alerts {
		if a.DedupKey == key && a.Status != "resolved" {
			return a
		}
	}
	return nil
}
