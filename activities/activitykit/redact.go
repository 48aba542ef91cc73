package activitykit

import (
	"encoding/base64"
	"net/url"
	"sort"
	"strings"

	"github.com/secflow/secflow/interpreter/step"
)

// Redacted replaces secret values in text.
const Redacted = "[REDACTED]"

// Redact replaces every occurrence of each non-empty secret in s with
// [REDACTED]. Longer secrets are replaced first so that a secret containing
// another is fully hidden.
func Redact(s string, secrets ...string) string {
	if len(secrets) == 0 || s == "" {
		return s
	}
	sorted := append([]string(nil), secrets...)
	sort.Slice(sorted, func(i, j int) bool { return len(sorted[i]) > len(sorted[j]) })
	for _, sec := range sorted {
		if len(sec) >= 3 {
			s = strings.ReplaceAll(s, sec, Redacted)
		}
	}
	return s
}

// basicPairs are the secret keys that go out together as HTTP Basic
// credentials (user, password).
var basicPairs = [][2]string{{"user", "password"}, {"username", "password"}, {"email", "apiToken"}}

// SecretValues lists the resolved secret values of c (for Redact), plus the
// forms in which they travel and may be echoed back: URL-escaped (query and
// path) and, for user/password pairs, the base64 of "user:password" of a
// Basic Authorization header.
func SecretValues(c *step.Connector) []string {
	if c == nil {
		return nil
	}
	out := make([]string, 0, len(c.Secrets))
	seen := map[string]bool{}
	add := func(v string) {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	for _, v := range c.Secrets {
		add(v)
		add(url.QueryEscape(v))
		add(url.PathEscape(v))
	}
	for _, p := range basicPairs {
		if u, pw := c.Secrets[p[0]], c.Secrets[p[1]]; u != "" || pw != "" {
			add(base64.StdEncoding.EncodeToString([]byte(u + ":" + pw)))
		}
	}
	return out
}

// RedactError scrubs secrets from err's message and string details; it
// returns err (modified in place) for chaining.
func RedactError(err *step.Error, secrets ...string) *step.Error {
	if err == nil || len(secrets) == 0 {
		return err
	}
	err.Message = Redact(err.Message, secrets...)
	if err.Details != nil {
		err.Details, _ = redactValue(err.Details, secrets).(map[string]any)
	}
	return err
}

// RedactValue returns a copy of a JSON-like value with secrets scrubbed from
// every string (keys included).
func RedactValue(v any, secrets ...string) any {
	if len(secrets) == 0 {
		return v
	}
	return redactValue(v, secrets)
}

func redactValue(v any, secrets []string) any {
	switch x := v.(type) {
	case string:
		return Redact(x, secrets...)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactValue(e, secrets)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[Redact(k, secrets...)] = redactValue(e, secrets)
		}
		return out
	}
	return v
}
