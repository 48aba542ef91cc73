package kql

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/secflow/secflow/interpreter/jsvalue"
)

// Date math as @kbn/datemath parses it (with moment.js semantics): `now`
// or `<ISO date>||` followed by operations `+N<unit>`, `-N<unit>`,
// `/<unit>` with units y M w d h m s ms. Times are in UTC (Kibana uses the
// server's local zone, which is UTC in a standard deployment); weeks start
// on Sunday (moment's default locale).

// maxJSTime is the largest absolute JavaScript Date value in milliseconds.
const maxJSTime = 8.64e15

// parseDateMath resolves text against now; ok is false when the text is not
// valid date math (Kibana then compares the raw string).
func parseDateMath(text string, now time.Time) (time.Time, bool) {
	if text == "" {
		return time.Time{}, false
	}
	var t time.Time
	var mathStr string
	if strings.HasPrefix(text, "now") {
		t = time.UnixMilli(now.UnixMilli()).UTC()
		mathStr = text[len("now"):]
	} else {
		parseStr := text
		if i := strings.Index(text, "||"); i >= 0 {
			parseStr, mathStr = text[:i], text[i+2:]
		}
		var ok bool
		if t, ok = parseISO(parseStr); !ok {
			return time.Time{}, false
		}
	}
	if mathStr == "" {
		return t, inJSRange(t)
	}
	return applyDateMath([]rune(mathStr), t)
}

// jsNaNChar is isNaN(mathString.charAt(i)): false for digits, white space
// and past the end (Number("") is 0), true otherwise.
func jsNaNChar(rs []rune, i int) bool {
	if i >= len(rs) {
		return false
	}
	r := rs[i]
	return !(r >= '0' && r <= '9') && !jsvalue.IsSpace(r)
}

func isASCIILetter(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

func applyDateMath(rs []rune, t time.Time) (time.Time, bool) {
	n := len(rs)
	i := 0
	for i < n {
		c := rs[i]
		i++
		var typ int
		switch c {
		case '/':
			typ = 0
		case '+':
			typ = 1
		case '-':
			typ = 2
		default:
			return time.Time{}, false
		}
		var num float64
		switch {
		case jsNaNChar(rs, i):
			num = 1
		case n == 2:
			// Kibana keeps the character as the number and then reads it
			// again as the unit: never a valid unit.
			return time.Time{}, false
		default:
			from := i
			for !jsNaNChar(rs, i) {
				i++
				if i >= n {
					return time.Time{}, false
				}
			}
			num = jsParseInt(string(rs[from:i]))
			if math.IsNaN(num) {
				return time.Time{}, false
			}
		}
		if typ == 0 && num != 1 {
			return time.Time{}, false
		}
		if i >= n {
			return time.Time{}, false
		}
		unit := string(rs[i])
		i++
		for i < n && isASCIILetter(rs[i]) {
			unit += string(rs[i])
			i++
		}
		var ok bool
		switch typ {
		case 0:
			t, ok = startOf(t, unit)
		case 1:
			t, ok = addUnit(t, num, unit)
		default:
			t, ok = addUnit(t, -num, unit)
		}
		if !ok || !inJSRange(t) {
			return time.Time{}, false
		}
	}
	return t, true
}

// jsParseInt is parseInt(s, 10) for strings of digits and white space.
func jsParseInt(s string) float64 {
	s = strings.TrimLeftFunc(s, jsvalue.IsSpace)
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if end == 0 {
		return math.NaN()
	}
	f, _ := strconv.ParseFloat(s[:end], 64)
	return f
}

func inJSRange(t time.Time) bool {
	y := t.Year()
	if y < -271821 || y > 275760 {
		return false
	}
	return math.Abs(float64(t.UnixMilli())) <= maxJSTime
}

var fixedUnitMs = map[string]float64{
	"ms": 1,
	"s":  1000,
	"m":  60 * 1000,
	"h":  60 * 60 * 1000,
	"d":  24 * 60 * 60 * 1000,
	"w":  7 * 24 * 60 * 60 * 1000,
}

func addUnit(t time.Time, num float64, unit string) (time.Time, bool) {
	if ms, ok := fixedUnitMs[unit]; ok {
		total := float64(t.UnixMilli()) + num*ms
		if math.Abs(total) > maxJSTime {
			return time.Time{}, false
		}
		return time.UnixMilli(int64(total)).UTC(), true
	}
	var months float64
	switch unit {
	case "M":
		months = num
	case "y":
		months = num * 12
	default:
		return time.Time{}, false
	}
	if math.Abs(months) > 4e6 {
		return time.Time{}, false
	}
	total := t.Year()*12 + int(t.Month()) - 1 + int(months)
	y, m := floorDiv(total, 12), time.Month(floorMod(total, 12)+1)
	d := t.Day()
	if last := daysIn(y, m); d > last {
		d = last // moment clamps to the end of the month
	}
	return time.Date(y, m, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC), true
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func floorMod(a, b int) int { return a - floorDiv(a, b)*b }

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func startOf(t time.Time, unit string) (time.Time, bool) {
	y, mo, d := t.Date()
	switch unit {
	case "y":
		return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), true
	case "M":
		return time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC), true
	case "w":
		return time.Date(y, mo, d-int(t.Weekday()), 0, 0, 0, 0, time.UTC), true
	case "d":
		return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC), true
	case "h":
		return time.Date(y, mo, d, t.Hour(), 0, 0, 0, time.UTC), true
	case "m":
		return time.Date(y, mo, d, t.Hour(), t.Minute(), 0, 0, time.UTC), true
	case "s":
		return time.Date(y, mo, d, t.Hour(), t.Minute(), t.Second(), 0, time.UTC), true
	case "ms":
		return t, true
	}
	return time.Time{}, false
}

// moment's ISO 8601 forms (extended and basic; week and ordinal dates are
// not supported).
var (
	isoExtended = regexp.MustCompile(`^\s*([+-]\d{6}|\d{4})-(\d\d)(?:-(\d\d))?(?:(?:T| )(\d\d)(?::(\d\d)(?::(\d\d)(?:[.,](\d+))?)?)?([+-]\d\d(?::?\d\d)?|\s*Z)?)?$`)
	isoBasic    = regexp.MustCompile(`^\s*([+-]\d{6}|\d{4})(?:(\d\d)(\d\d))?(?:(?:T| )(\d\d)(?:(\d\d)(?:(\d\d)(?:[.,](\d+))?)?)?([+-]\d\d(?::?\d\d)?|\s*Z)?)?$`)
)

// parseISO parses an ISO 8601 date as moment(string) does; dates without an
// offset are taken as UTC.
func parseISO(s string) (time.Time, bool) {
	m := isoExtended.FindStringSubmatch(s)
	if m == nil {
		m = isoBasic.FindStringSubmatch(s)
	}
	if m == nil {
		return time.Time{}, false
	}
	atoi := func(x string, def int) int {
		if x == "" {
			return def
		}
		n, _ := strconv.Atoi(x)
		return n
	}
	year := atoi(strings.TrimPrefix(m[1], "+"), 0)
	month := atoi(m[2], 1)
	day := atoi(m[3], 1)
	hour, minute, sec := atoi(m[4], 0), atoi(m[5], 0), atoi(m[6], 0)
	ms := 0
	if frac := m[7]; frac != "" {
		frac += "00"
		ms = atoi(frac[:3], 0)
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, time.Month(month)) ||
		minute > 59 || sec > 59 || hour > 24 || (hour == 24 && (minute != 0 || sec != 0 || ms != 0)) {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, ms*int(time.Millisecond), time.UTC)
	if tz := strings.TrimSpace(m[8]); tz != "" && tz != "Z" {
		sign := 1
		if tz[0] == '-' {
			sign = -1
		}
		digits := strings.ReplaceAll(tz[1:], ":", "")
		oh := atoi(digits[:2], 0)
		om := 0
		if len(digits) >= 4 {
			om = atoi(digits[2:4], 0)
		}
		t = t.Add(-time.Duration(sign*(oh*60+om)) * time.Minute)
	}
	return t, inJSRange(t)
}

// isoString is Date.prototype.toISOString.
func isoString(t time.Time) string {
	t = t.UTC()
	y := t.Year()
	var ys string
	switch {
	case y >= 0 && y <= 9999:
		ys = pad(y, 4)
	case y < 0:
		ys = "-" + pad(-y, 6)
	default:
		ys = "+" + pad(y, 6)
	}
	return ys + t.Format("-01-02T15:04:05.000Z")
}

func pad(n, width int) string {
	s := strconv.Itoa(n)
	for len(s) < width {
		s = "0" + s
	}
	return s
}
