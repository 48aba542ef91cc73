package jsvalue

import (
	"encoding/json"
	"math"
	"testing"
)

func TestNumber(t *testing.T) {
	tests := []struct {
		in   any
		want float64
		ok   bool
	}{
		{float64(1.5), 1.5, true},
		{float32(2), 2, true},
		{int(3), 3, true},
		{int8(-4), -4, true},
		{uint16(5), 5, true},
		{uint64(6), 6, true},
		{json.Number("7.25"), 7.25, true},
		{"8", 0, false},
		{nil, 0, false},
		{true, 0, false},
	}
	for _, tt := range tests {
		got, ok := Number(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Number(%#v) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if f, ok := Number(json.Number("x")); !ok || !math.IsNaN(f) {
		t.Errorf("Number(json.Number(x)) = %v, %v; want NaN, true", f, ok)
	}
}

func TestFormatNumber(t *testing.T) {
	tests := map[float64]string{
		5: "5", 3.14: "3.14", 1e21: "1e+21", 0.30000000000000004: "0.30000000000000004",
		-0.0: "0", 1e-7: "1e-7", 1.5e-7: "1.5e-7", 0.000001: "0.000001", -2.5: "-2.5",
		123e20: "1.23e+22", 1e20: "100000000000000000000", math.Inf(1): "Infinity",
		math.Inf(-1): "-Infinity", 5e-324: "5e-324",
	}
	for in, want := range tests {
		if got := FormatNumber(in); got != want {
			t.Errorf("FormatNumber(%v) = %q, want %q", in, got, want)
		}
	}
	if got := FormatNumber(math.NaN()); got != "NaN" {
		t.Errorf("FormatNumber(NaN) = %q", got)
	}
}

func TestTruthyTypeOfString(t *testing.T) {
	tests := []struct {
		in     any
		truthy bool
		typeOf string
		str    string
	}{
		{nil, false, "object", "null"},
		{false, false, "boolean", "false"},
		{true, true, "boolean", "true"},
		{"", false, "string", ""},
		{"a", true, "string", "a"},
		{float64(0), false, "number", "0"},
		{math.NaN(), false, "number", "NaN"},
		{int64(2), true, "number", "2"},
		{json.Number("1e21"), true, "number", "1e+21"},
		{[]any{}, true, "object", ""},
		{[]any{float64(1), nil, "b", []any{true}}, true, "object", "1,,b,true"},
		{map[string]any{}, true, "object", "[object Object]"},
	}
	for _, tt := range tests {
		if got := Truthy(tt.in); got != tt.truthy {
			t.Errorf("Truthy(%#v) = %v", tt.in, got)
		}
		if got := TypeOf(tt.in); got != tt.typeOf {
			t.Errorf("TypeOf(%#v) = %q", tt.in, got)
		}
		if got := String(tt.in); got != tt.str {
			t.Errorf("String(%#v) = %q, want %q", tt.in, got, tt.str)
		}
	}
}

func TestParseFloat(t *testing.T) {
	tests := map[string]float64{
		"3.5abc": 3.5, "  -12": -12, ".5": 0.5, "5.": 5, "1e3x": 1000, "1e": 1,
		"-Infinityx": math.Inf(-1), "1e999": math.Inf(1), "\u00a0 7": 7,
	}
	for in, want := range tests {
		if got := ParseFloat(in); got != want {
			t.Errorf("ParseFloat(%q) = %v, want %v", in, got, want)
		}
	}
	for _, in := range []string{"", "abc", ".", "-", "e5"} {
		if got := ParseFloat(in); !math.IsNaN(got) {
			t.Errorf("ParseFloat(%q) = %v, want NaN", in, got)
		}
	}
}

func TestStringToNumber(t *testing.T) {
	tests := map[string]float64{
		"": 0, "  ": 0, " 42 ": 42, "0x1f": 31, "0b101": 5, "0o17": 15,
		"-Infinity": math.Inf(-1), "1e3": 1000, "-1.5": -1.5,
	}
	for in, want := range tests {
		if got := StringToNumber(in); got != want {
			t.Errorf("StringToNumber(%q) = %v, want %v", in, got, want)
		}
	}
	for _, in := range []string{"12px", "0x", "0xzz", "Infinityx", "1,5"} {
		if got := StringToNumber(in); !math.IsNaN(got) {
			t.Errorf("StringToNumber(%q) = %v, want NaN", in, got)
		}
	}
}

func TestStrings(t *testing.T) {
	if got := Trim("\u3000 a b\ufeff\n"); got != "a b" {
		t.Errorf("Trim = %q", got)
	}
	lens := map[string]int{"": 0, "abc": 3, "é": 1, "😀": 2, "a😀b": 4, "\xff": 1}
	for in, want := range lens {
		if got := UTF16Len(in); got != want {
			t.Errorf("UTF16Len(%q) = %d, want %d", in, got, want)
		}
	}
	cmps := []struct {
		a, b string
		want int
	}{
		{"a", "b", -1}, {"b", "a", 1}, {"a", "a", 0}, {"a", "ab", -1},
		// U+FFFF is one unit 0xFFFF; U+1F600 starts with 0xD83D, so it sorts first.
		{"\U0001F600", "\uFFFF", -1}, {"\uFFFF", "\U0001F600", 1},
	}
	for _, tt := range cmps {
		if got := CompareUTF16(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareUTF16(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestScalarString(t *testing.T) {
	tests := []struct {
		in   any
		want string
		ok   bool
	}{
		{nil, "null", true},
		{true, "true", true},
		{"x", "x", true},
		{float64(3), "3", true},
		{int64(-2), "-2", true},
		{json.Number("1e21"), "1e+21", true},
		{[]any{1.0}, "", false},
		{map[string]any{}, "", false},
	}
	for _, tt := range tests {
		got, ok := ScalarString(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ScalarString(%#v) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
