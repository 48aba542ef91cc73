// Package duration parses and formats Elastic Workflows durations
// ("1w2d3h4m5s6ms"), byte sizes ("10mb") and scheduled intervals.
package duration

import (
	"errors"
	"time"
)

// Parse parses a compound duration with units w d h m s ms in strictly
// descending order.
func Parse(s string) (time.Duration, error) {
	return 0, errors.New("not implemented")
}

// Format is the inverse of Parse, e.g. 90*time.Minute gives "1h30m".
func Format(d time.Duration) string {
	return d.String()
}

// ParseBytes parses a byte size such as "10mb" (1kb = 1024 bytes).
func ParseBytes(s string) (int64, error) {
	return 0, errors.New("not implemented")
}

// ValidInterval checks a scheduled trigger `every` interval.
func ValidInterval(s string) error {
	return nil
}
