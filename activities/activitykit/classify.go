package activitykit

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/secflow/secflow/interpreter/step"
)

// Retryable reports whether an HTTP status is worth retrying: 5xx and 429.
func Retryable(status int) bool { return status >= 500 || status == http.StatusTooManyRequests }

// StatusError builds the *step.Error for a non-2xx response with the given
// type and message, and classifies it: 5xx and 429 are retryable; for 429
// and 503 a Retry-After header (seconds or HTTP date) sets RetryAfter;
// every other status is permanent.
func StatusError(res *Response, typ, message string, details map[string]any) *step.Error {
	e := &step.Error{Type: typ, Message: message, Details: details}
	Classify(e, res.Status, res.Header)
	return e
}

// Classify sets e.Retryable and e.RetryAfter from an HTTP status and headers.
func Classify(e *step.Error, status int, h http.Header) *step.Error {
	e.Retryable = Retryable(status)
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		if d, ok := ParseRetryAfter(h.Get("Retry-After"), time.Now()); ok {
			e.RetryAfter = d
		}
	}
	return e
}

// ParseRetryAfter parses a Retry-After value: delay-seconds or an HTTP date
// (relative to now). Negative results are clamped to zero.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		if n < 0 {
			n = 0
		}
		return time.Duration(n * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}
