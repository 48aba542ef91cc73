package template

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // IANA zones also on hosts without tzdata (static container image)

	"github.com/secflow/secflow/interpreter/jsvalue"
)

const defaultDateFormat = "%A, %B %-e, %Y at %-l:%M %P %z"

var reISODate = regexp.MustCompile(`^([+-]\d{6}|\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$`)

// otherDateLayouts are non-ISO forms that V8's Date parser accepts and that
// occur in practice (RFC 1123/2822, Date.prototype.toString, US forms).
var otherDateLayouts = []string{
	time.RFC1123, time.RFC1123Z, "Mon, 2 Jan 2006 15:04:05 MST", "Mon, 2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04:05 MST", "2 Jan 2006 15:04:05 -0700", "02 Jan 2006 15:04:05 -0700",
	"Mon Jan 02 2006 15:04:05 GMT-0700", "Mon Jan 2 2006 15:04:05 GMT-0700",
	"Mon Jan 02 2006", "Mon Jan 2 2006",
	time.ANSIC, time.UnixDate, time.RubyDate,
	"January 2, 2006 15:04:05", "January 2, 2006 15:04", "January 2, 2006", "Jan 2, 2006 15:04:05",
	"Jan 2, 2006", "Jan 2 2006", "2 January 2006", "2 Jan 2006", "1/2/2006 15:04:05", "1/2/2006 15:04", "1/2/2006",
	"2006/01/02 15:04:05", "2006/01/02",
}

// parseJSDate parses a date string the way `new Date(s)` does for common
// formats. Strings without an offset are interpreted in UTC.
func parseJSDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if m := reISODate.FindStringSubmatch(s); m != nil {
		year, _ := strconv.Atoi(m[1])
		month, day := 1, 1
		if m[2] != "" {
			month, _ = strconv.Atoi(m[2])
		}
		if m[3] != "" {
			day, _ = strconv.Atoi(m[3])
		}
		var hh, mm, ss, ns int
		if m[4] != "" {
			hh, _ = strconv.Atoi(m[4])
			mm, _ = strconv.Atoi(m[5])
		}
		if m[6] != "" {
			ss, _ = strconv.Atoi(m[6])
		}
		if m[7] != "" {
			frac := (m[7] + "000")[:3]
			ms, _ := strconv.Atoi(frac)
			ns = ms * int(time.Millisecond)
		}
		if month < 1 || month > 12 || day < 1 || day > 31 || hh > 24 || mm > 59 || ss > 59 || (hh == 24 && (mm != 0 || ss != 0 || ns != 0)) {
			return time.Time{}, false
		}
		loc := time.UTC
		if z := m[8]; z != "" && z != "Z" && z != "z" {
			sign := 1
			if z[0] == '-' {
				sign = -1
			}
			digits := strings.ReplaceAll(z[1:], ":", "")
			oh, _ := strconv.Atoi(digits[:2])
			om := 0
			if len(digits) >= 4 {
				om, _ = strconv.Atoi(digits[2:4])
			}
			loc = time.FixedZone("", sign*(oh*3600+om*60))
		}
		t := time.Date(year, time.Month(month), day, hh, mm, ss, ns, loc)
		if t.Day() != day {
			return time.Time{}, false
		}
		return t.UTC(), true
	}
	for _, layout := range otherDateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	if strings.Contains(s, "(") {
		// "Thu Jan 01 2026 10:00:00 GMT+0000 (Coordinated Universal Time)"
		return parseJSDate(strings.TrimSpace(s[:strings.Index(s, "(")]))
	}
	return time.Time{}, false
}

// dateLocation converts LiquidJS's timezoneOffset argument: a number of
// minutes (JS getTimezoneOffset sign: positive is west of UTC), an offset
// string like "+08:00", or an IANA zone name.
func dateLocation(tz any) *time.Location {
	tz = toValue(tz)
	if isNil(tz) {
		return time.UTC
	}
	if f, ok := jsvalue.Number(tz); ok {
		if math.IsNaN(f) {
			return time.UTC
		}
		return time.FixedZone("", -int(f)*60)
	}
	s, ok := tz.(string)
	if !ok || s == "" {
		return time.UTC
	}
	if s[0] == '+' || s[0] == '-' {
		digits := strings.ReplaceAll(s[1:], ":", "")
		if len(digits) >= 2 {
			h, err1 := strconv.Atoi(digits[:2])
			m := 0
			var err2 error
			if len(digits) >= 4 {
				m, err2 = strconv.Atoi(digits[2:4])
			}
			if err1 == nil && err2 == nil {
				sign := 1
				if s[0] == '-' {
					sign = -1
				}
				return time.FixedZone("", sign*(h*3600+m*60))
			}
		}
	}
	if loc, err := time.LoadLocation(s); err == nil {
		return loc
	}
	return time.UTC
}

// parseDate is LiquidJS parseDate: "now"/"today", numbers (seconds since the
// epoch), digit strings (seconds), date strings and Date values.
func (f *fctx) parseDate(v any, tz any) (time.Time, bool) {
	v = norm(toValue(v))
	loc := dateLocation(tz)
	var t time.Time
	switch x := v.(type) {
	case nil, undefinedT:
		return time.Time{}, false
	case time.Time:
		t = x
	case string:
		if x == "now" || x == "today" {
			t = f.c.clock()
		} else if x != "" && strings.Trim(x, "0123456789") == "" {
			n, err := strconv.ParseFloat(x, 64)
			if err != nil {
				return time.Time{}, false
			}
			t = time.UnixMilli(int64(n * 1000))
		} else {
			p, ok := parseJSDate(x)
			if !ok {
				return time.Time{}, false
			}
			t = p
		}
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > 8.64e12 {
			return time.Time{}, false
		}
		t = time.UnixMilli(int64(x * 1000))
	default:
		return time.Time{}, false
	}
	return t.In(loc), true
}

func fDate(f *fctx, v any, args []any) (any, error) {
	size := 0
	if s, ok := v.(string); ok {
		size += jsvalue.UTF16Len(s)
	}
	if s, ok := toValue(arg(args, 0)).(string); ok {
		size += jsvalue.UTF16Len(s)
	}
	if err := f.c.useMem(size); err != nil {
		return nil, err
	}
	t, ok := f.parseDate(v, arg(args, 1))
	if !ok {
		return v, nil
	}
	format := toValue(arg(args, 0))
	fs := defaultDateFormat
	if !isNil(format) {
		fs = Stringify(format)
	}
	return strftime(t, fs), nil
}

func fDateFixed(format string) filterFunc {
	return func(f *fctx, v any, _ []any) (any, error) {
		t, ok := f.parseDate(v, undef)
		if !ok {
			return v, nil
		}
		return strftime(t, format), nil
	}
}

func fDateToString(month string) filterFunc {
	return func(f *fctx, v any, args []any) (any, error) {
		t, ok := f.parseDate(v, undef)
		if !ok {
			return v, nil
		}
		typ, style := toValue(arg(args, 0)), toValue(arg(args, 1))
		if typ == "ordinal" {
			d := strconv.Itoa(t.Day())
			if style == "US" {
				return strftime(t, month+" "+d+"%q, %Y"), nil
			}
			return strftime(t, d+"%q "+month+" %Y"), nil
		}
		return strftime(t, "%d "+month+" %Y"), nil
	}
}

var reStrftime = regexp.MustCompile(`%([-_0^#:]+)?(\d+)?([EO])?(.)`)

var strftimePadWidth = map[byte]int{'d': 2, 'e': 2, 'H': 2, 'I': 2, 'j': 3, 'k': 2, 'l': 2, 'L': 3, 'm': 2, 'M': 2, 'S': 2, 'U': 2, 'W': 2}

var strftimePadSpace = map[byte]bool{'a': true, 'A': true, 'b': true, 'B': true, 'c': true, 'e': true, 'k': true, 'l': true, 'p': true, 'P': true}

// strftime formats t with LiquidJS's strftime directives.
func strftime(t time.Time, format string) string {
	return reStrftime.ReplaceAllStringFunc(format, func(m string) string {
		sub := reStrftime.FindStringSubmatch(m)
		flags, width, conv := sub[1], sub[2], sub[4]
		if len(conv) != 1 {
			return m
		}
		c := conv[0]
		out, ok := strftimeConv(t, c, flags, width)
		if !ok {
			return m
		}
		padChar := "0"
		if strftimePadSpace[c] {
			padChar = " "
		}
		padWidth := strftimePadWidth[c]
		if width != "" {
			padWidth, _ = strconv.Atoi(width)
		}
		if strings.Contains(flags, "^") {
			out = strings.ToUpper(out)
		} else if strings.Contains(flags, "#") {
			if strings.ContainsAny(out, "abcdefghijklmnopqrstuvwxyz") {
				out = strings.ToUpper(out)
			} else {
				out = strings.ToLower(out)
			}
		}
		if strings.Contains(flags, "_") {
			padChar = " "
		} else if strings.Contains(flags, "0") {
			padChar = "0"
		}
		if strings.Contains(flags, "-") {
			padWidth = 0
		}
		if n := padWidth - jsvalue.UTF16Len(out); n > 0 && n < 1024 {
			out = strings.Repeat(padChar, n) + out
		}
		return out
	})
}

func hour12(t time.Time) int {
	h := t.Hour() % 12
	if h == 0 {
		return 12
	}
	return h
}

func weekOfYear(t time.Time, startDay int) string {
	now := t.YearDay() + (startDay - int(t.Weekday()))
	jan1 := time.Date(t.Year(), 1, 1, 0, 0, 0, 0, t.Location())
	then := 7 - int(jan1.Weekday()) + startDay
	return strconv.Itoa(int(math.Floor(float64(now-then)/7)) + 1)
}

func ordinalSuffix(day int) string {
	switch day {
	case 11, 12, 13:
		return "th"
	}
	switch day % 10 {
	case 1:
		return "st"
	case 2:
		return "nd"
	case 3:
		return "rd"
	}
	return "th"
}

func ampm(t time.Time) string {
	if t.Hour() < 12 {
		return "AM"
	}
	return "PM"
}

func strftimeConv(t time.Time, c byte, flags, width string) (string, bool) {
	switch c {
	case 'a':
		return t.Weekday().String()[:3], true
	case 'A':
		return t.Weekday().String(), true
	case 'b', 'h':
		return t.Month().String()[:3], true
	case 'B':
		return t.Month().String(), true
	case 'c':
		return t.Format("1/2/2006, 3:04:05 PM"), true
	case 'C':
		y := strconv.Itoa(t.Year())
		if len(y) > 2 {
			y = y[:2]
		}
		n, _ := strconv.Atoi(y)
		return strconv.Itoa(n), true
	case 'd', 'e':
		return strconv.Itoa(t.Day()), true
	case 'H', 'k':
		return strconv.Itoa(t.Hour()), true
	case 'I', 'l':
		return strconv.Itoa(hour12(t)), true
	case 'j':
		return strconv.Itoa(t.YearDay()), true
	case 'L':
		return strconv.Itoa(t.Nanosecond() / int(time.Millisecond)), true
	case 'm':
		return strconv.Itoa(int(t.Month())), true
	case 'M':
		return strconv.Itoa(t.Minute()), true
	case 'N':
		w, _ := strconv.Atoi(width)
		if w == 0 {
			w = 9
		}
		s := strconv.Itoa(t.Nanosecond() / int(time.Millisecond))
		if len(s) > w {
			s = s[:w]
		}
		if w < 1024 {
			s += strings.Repeat("0", w-len(s))
		}
		return s, true
	case 'p':
		return ampm(t), true
	case 'P':
		return strings.ToLower(ampm(t)), true
	case 'q':
		return ordinalSuffix(t.Day()), true
	case 's':
		return strconv.FormatInt(int64(jsRound(float64(t.UnixMilli())/1000)), 10), true
	case 'S':
		return strconv.Itoa(t.Second()), true
	case 'u':
		d := int(t.Weekday())
		if d == 0 {
			d = 7
		}
		return strconv.Itoa(d), true
	case 'U':
		return weekOfYear(t, 0), true
	case 'w':
		return strconv.Itoa(int(t.Weekday())), true
	case 'W':
		return weekOfYear(t, 1), true
	case 'x':
		return t.Format("1/2/2006"), true
	case 'X':
		return t.Format("3:04:05 PM"), true
	case 'y':
		y := strconv.Itoa(t.Year())
		if len(y) >= 4 {
			return y[2:4], true
		}
		if len(y) > 2 {
			return y[2:], true
		}
		return "", true
	case 'Y':
		return strconv.Itoa(t.Year()), true
	case 'z':
		_, off := t.Zone()
		sign := "+"
		if off < 0 {
			sign = "-"
			off = -off
		}
		h, m := off/3600, (off%3600)/60
		sep := ""
		if strings.Contains(flags, ":") {
			sep = ":"
		}
		return sign + pad2(h) + sep + pad2(m), true
	case 'Z':
		name, off := t.Zone()
		if name == "" || off == 0 && name == "UTC" {
			if off == 0 {
				return "UTC", true
			}
		}
		return name, true
	case 't':
		return "\t", true
	case 'n':
		return "\n", true
	case '%':
		return "%", true
	}
	return "", false
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}
