// Package duration parses and formats Elastic Workflows durations
// ("1w2d3h4m5s6ms", as wait steps, timeouts and retry delays use them), byte
// sizes ("10mb", for max-step-size) and scheduled-trigger intervals.
package duration

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// MaxLength is the longest accepted duration text (Kibana's
// MAX_DURATION_LENGTH).
const MaxLength = 64

// units in the only order Parse accepts.
var units = []struct {
	name string
	d    time.Duration
}{
	{"w", 7 * 24 * time.Hour},
	{"d", 24 * time.Hour},
	{"h", time.Hour},
	{"m", time.Minute},
	{"s", time.Second},
	{"ms", time.Millisecond},
}

// ErrInvalid is wrapped by every Parse error.
var ErrInvalid = errors.New("invalid duration")

type parseError struct{ text string }

func (e *parseError) Error() string {
	return fmt.Sprintf("Invalid duration format: %s. Use format like \"1w2d3h4m5s6ms\" with units in descending order.", e.text)
}

func (e *parseError) Unwrap() error { return ErrInvalid }

// Parse parses a compound duration: non-negative integers each followed by
// one of w d h m s ms, units strictly descending, each at most once, no
// spaces, at most MaxLength characters (Kibana's parseDuration). The error
// text is Kibana's: `Invalid duration format: <d>. Use format like
// "1w2d3h4m5s6ms" with units in descending order.` A value beyond
// time.Duration's range (about 292 years) saturates at the maximum.
func Parse(s string) (time.Duration, error) {
	if s == "" || len(s) > MaxLength {
		return 0, &parseError{s}
	}
	var total time.Duration
	next := 0 // index of the first unit still allowed
	i := 0
	for i < len(s) {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return 0, &parseError{s}
		}
		digits := s[start:i]
		unit := -1
		switch {
		case strings.HasPrefix(s[i:], "ms"):
			unit = 5
		case i < len(s):
			for k := 0; k < 5; k++ {
				if s[i] == units[k].name[0] {
					unit = k
				}
			}
		}
		if unit < next {
			return 0, &parseError{s}
		}
		i += len(units[unit].name)
		next = unit + 1
		total = addSat(total, mulSat(digits, units[unit].d))
	}
	return total, nil
}

// mulSat is digits × unit, saturating at the largest Duration.
func mulSat(digits string, unit time.Duration) time.Duration {
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n > int64(math.MaxInt64/unit) {
		return math.MaxInt64
	}
	return time.Duration(n) * unit
}

func addSat(a, b time.Duration) time.Duration {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// Valid reports whether s is a valid duration (Kibana's isValidDuration).
func Valid(s string) bool {
	_, err := Parse(s)
	return err == nil
}

// Format is the inverse of Parse: d truncated to milliseconds, written with
// the largest units first and zero units left out (90*time.Minute gives
// "1h30m", 8 days "1w1d"); zero gives "0s". A negative d is written with a
// leading "-" (which Parse rejects, as Kibana does).
func Format(d time.Duration) string {
	if d < 0 {
		if d == math.MinInt64 {
			d++
		}
		return "-" + Format(-d)
	}
	d = d.Truncate(time.Millisecond)
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	for _, u := range units {
		if n := d / u.d; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10))
			b.WriteString(u.name)
			d -= n * u.d
		}
	}
	return b.String()
}

var bytesPattern = regexp.MustCompile(`(?i)^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)$`)

// ParseBytes parses a byte size such as "10mb", "1.5 KB" or "512b"
// (`^\d+(\.\d+)?\s*(b|kb|mb|gb)$`, case-insensitive, 1kb = 1024 bytes);
// fractions of a byte are dropped.
func ParseBytes(s string) (int64, error) {
	m := bytesPattern.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("invalid byte size %q: use a number followed by b, kb, mb or gb (e.g. \"10mb\")", s)
	}
	var mult float64
	switch strings.ToLower(m[2]) {
	case "b":
		mult = 1
	case "kb":
		mult = 1 << 10
	case "mb":
		mult = 1 << 20
	default:
		mult = 1 << 30
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("invalid byte size %q: %w", s, err)
	}
	n := math.Floor(v * mult)
	if n >= math.MaxInt64 {
		return 0, fmt.Errorf("invalid byte size %q: too large", s)
	}
	return int64(n), nil
}

// IntervalError is Kibana's message for a scheduled `every` that is not
// allowed (SCHEDULED_INTERVAL_ERROR).
const IntervalError = `Scheduled interval must be at least 1 minute. Use format like "1m", "90s", "2h", "1d"`

var intervalPattern = regexp.MustCompile(`^(([6-9]\d|\d{3,})s|\d+[mhd])$`)

// ValidInterval checks a scheduled trigger `every` interval against
// Kibana's pattern `^(([6-9]\d|\d{3,})s|\d+[mhd])$` (at least one minute;
// seconds only from 60). The error text is IntervalError. Parse gives the
// interval's length.
func ValidInterval(s string) error {
	if !intervalPattern.MatchString(s) {
		return errors.New(IntervalError)
	}
	return nil
}
