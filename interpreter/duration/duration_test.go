package duration

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

const ms = time.Millisecond

func TestParseValid(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
	}{
		// C35 valid examples.
		{"1ms", 1 * ms}, {"30s", 30 * time.Second}, {"5m", 5 * time.Minute}, {"2h", 2 * time.Hour},
		{"1d", 24 * time.Hour}, {"1w", 7 * 24 * time.Hour}, {"1h30m", 90 * time.Minute},
		// The spec says 777 845 006 ms for 1w2d3h4m5s6ms, a typo:
		// 604800000+172800000+10800000+240000+5000+6 = 788645006.
		{"1w2d3h4m5s6ms", 788645006 * ms},
		{"1h500ms", 3600500 * ms}, {"0s", 0}, {"2h30m", 9000000 * ms},
		// Kibana's duration.test.ts.
		{"500ms", 500 * ms}, {"999ms", 999 * ms}, {"60s", 60000 * ms}, {"24h", 86400000 * ms},
		{"7d", 604800000 * ms}, {"4w", 2419200000 * ms}, {"1w1d1h1m1s1ms", (604800000 + 86400000 + 3600000 + 60000 + 1000 + 1) * ms},
		{"1d12h", (86400000 + 43200000) * ms}, {"5m30s", 330000 * ms}, {"1w3d", (604800000 + 259200000) * ms},
		{"999w", 999 * 604800000 * ms}, {"1000d", 1000 * 86400000 * ms}, {"9999h", 9999 * 3600000 * ms},
		{"0w", 0}, {"0d", 0}, {"0h", 0}, {"0m", 0}, {"0ms", 0}, {"0w1d", 86400000 * ms}, {"1h0m", 3600000 * ms},
		{"0s500ms", 500 * ms}, {"1w1h", (604800000 + 3600000) * ms}, {"1d1m", (86400000 + 60000) * ms},
		{"1h1s", 3601000 * ms}, {"1m1ms", 60001 * ms}, {"1w1ms", 604800001 * ms},
		{"1wd"[:2], 7 * 24 * time.Hour}, {"1w1d", 8 * 24 * time.Hour}, {"1w1d1h", (8*24 + 1) * time.Hour},
		{"1w1d1h1m", (8*24+1)*time.Hour + time.Minute}, {"1w1d1h1m1s", (8*24+1)*time.Hour + time.Minute + time.Second},
		{"007s", 7 * time.Second},
		// At the length limit; too large for time.Duration: saturates.
		{strings.Repeat("1", MaxLength-1) + "s", math.MaxInt64},
		{"52w365d24h60m60s999ms", (52*7*24*3600+365*24*3600+24*3600+3600+60)*time.Second + 999*ms},
	}
	for _, c := range cases {
		got, err := Parse(c.in)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
		if !Valid(c.in) {
			t.Errorf("Valid(%q) = false", c.in)
		}
	}
}

func TestParseInvalid(t *testing.T) {
	invalid := []string{
		// C35 invalid examples.
		"", "soon", "1m1h", "5h 30m", "1.5s", "1s1w", "5ss", "-1s", "0", "1,000s", "ms500", "10y",
		// Kibana's duration.test.ts.
		"invalid-duration", "10m5ss", "3d4w", "2h1d", "5m10h", "1ms1s", "30s5m", "12h1d", "2d1w", "  ",
		"s5", "5x", "15z", "w", "s", "m", "h", "d", "ms", "1w2x3h", "1h2m3", "1h,30m", "2h+30m",
		"1d1w", "1h1d", "1s1m", "1s1s", "1ms1ms", " 1s", "1s ", "1S", "1H",
		strings.Repeat("1", MaxLength) + "s",
	}
	for _, in := range invalid {
		_, err := Parse(in)
		if err == nil {
			t.Errorf("Parse(%q) = nil error", in)
			continue
		}
		want := "Invalid duration format: " + in + `. Use format like "1w2d3h4m5s6ms" with units in descending order.`
		if err.Error() != want {
			t.Errorf("Parse(%q) error = %q, want %q", in, err, want)
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) error does not wrap ErrInvalid", in)
		}
		if Valid(in) {
			t.Errorf("Valid(%q) = true", in)
		}
	}
}

func TestFormat(t *testing.T) {
	cases := []struct {
		in   time.Duration
		want string
	}{
		{90 * time.Minute, "1h30m"}, {0, "0s"}, {500 * ms, "500ms"}, {788645006 * ms, "1w2d3h4m5s6ms"},
		{8 * 24 * time.Hour, "1w1d"}, {time.Hour + 500*ms, "1h500ms"}, {1500 * time.Microsecond, "1ms"},
		{time.Microsecond, "0s"}, {-90 * time.Second, "-1m30s"}, {30 * time.Second, "30s"},
	}
	for _, c := range cases {
		if got := Format(c.in); got != c.want {
			t.Errorf("Format(%v) = %q, want %q", c.in, got, c.want)
		}
	}
	// Round trip for non-negative millisecond durations.
	for _, d := range []time.Duration{0, ms, 59 * time.Second, 25 * time.Hour, 788645006 * ms, 123456789 * ms} {
		back, err := Parse(Format(d))
		if err != nil || back != d {
			t.Errorf("Parse(Format(%v)) = %v, %v", d, back, err)
		}
	}
	if Format(math.MinInt64) == "" {
		t.Error("Format(MinInt64) empty")
	}
}

func TestParseBytes(t *testing.T) {
	cases := []struct {
		in   string
		want int64
	}{
		{"10mb", 10 << 20}, {"1kb", 1024}, {"512b", 512}, {"1gb", 1 << 30}, {"20MB", 20 << 20},
		{"1.5kb", 1536}, {"1.5 KB", 1536}, {"2  Gb", 2 << 30}, {"0b", 0}, {"0.5b", 0}, {"10Mb", 10 << 20},
	}
	for _, c := range cases {
		got, err := ParseBytes(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "10", "mb", "10tb", "-1mb", "1.mb", ".5mb", " 10mb", "10mb ", "10 m b", "1e3kb", "99999999999999999999gb"} {
		if got, err := ParseBytes(bad); err == nil {
			t.Errorf("ParseBytes(%q) = %d, want error", bad, got)
		}
	}
}

func TestValidInterval(t *testing.T) {
	for _, ok := range []string{"1m", "15m", "60s", "90s", "120s", "2h", "1d", "0m", "100s", "059s"} {
		if err := ValidInterval(ok); err != nil {
			t.Errorf("ValidInterval(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"30s", "59s", "5s", "1w", "1h30m", "", "m", "1.5m", "60S", " 1m", "1ms"} {
		err := ValidInterval(bad)
		if err == nil {
			t.Errorf("ValidInterval(%q) = nil, want error", bad)
			continue
		}
		if err.Error() != `Scheduled interval must be at least 1 minute. Use format like "1m", "90s", "2h", "1d"` {
			t.Errorf("ValidInterval(%q) message %q", bad, err)
		}
	}
}
