package duration

import (
	"math"
	"testing"
)

// FuzzParse checks that Parse never panics and that every accepted
// duration below the saturation point survives Format and Parse again.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"1w2d3h4m5s6ms", "1h30m", "0s", "1m1h", "5ss", "", "1.5s", "999999999999999999999w", "90s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil || d == math.MaxInt64 {
			return
		}
		back, err := Parse(Format(d))
		if err != nil || back != d {
			t.Fatalf("Parse(%q) = %v; Parse(Format) = %v, %v", s, d, back, err)
		}
		_ = ValidInterval(s)
	})
}
