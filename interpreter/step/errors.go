package step

import (
	"errors"
	"fmt"
	"time"
)

// Error is a step failure in the shape Kibana serialises: {type, message, details}.
// Retryable and RetryAfter drive the worker's classification into Temporal
// application errors.
type Error struct {
	Type    string         `json:"type"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
	// Retryable marks transient failures (network errors, 5xx, 429).
	Retryable bool `json:"-"`
	// RetryAfter, when set, is the delay the remote asked for (Retry-After).
	RetryAfter time.Duration `json:"-"`
}

// Error implements error.
func (e *Error) Error() string {
	if e.Type == "" {
		return e.Message
	}
	return e.Type + ": " + e.Message
}

// Errorf returns a permanent *Error of the given type.
func Errorf(typ, format string, args ...any) *Error {
	return &Error{Type: typ, Message: fmt.Sprintf(format, args...)}
}

// Transient returns a retryable *Error of the given type.
func Transient(typ, format string, args ...any) *Error {
	return &Error{Type: typ, Message: fmt.Sprintf(format, args...), Retryable: true}
}

// RetryAfter marks err as retryable after d.
func RetryAfter(err *Error, d time.Duration) *Error {
	err.Retryable = true
	err.RetryAfter = d
	return err
}

// AsError converts any error into an *Error. Errors that are not *Error
// become type "Error" and are treated as permanent.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var se *Error
	if errors.As(err, &se) {
		return se
	}
	return &Error{Type: "Error", Message: err.Error()}
}
