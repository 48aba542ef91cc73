package datastep

import (
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/secflow/secflow/interpreter/jsvalue"
	"github.com/secflow/secflow/interpreter/template"
)

const (
	maxRegexInput   = 100000
	maxRegexPattern = 10000
	maxRegexArray   = 10000
)

// jsRegex is a JavaScript RegExp compiled for Go's RE2 engine.
type jsRegex struct {
	re     *regexp.Regexp
	global bool
	sticky bool
	names  []string
}

var (
	reNestedQuantifiers = regexp.MustCompile(`\([^)]*[*+?][^)]*\)[*+?]`)
	reOverlappingAlt    = regexp.MustCompile(`\([^)]*\|[^)]*\)[*+]`)
	reMultipleQuant     = regexp.MustCompile(`[*+?]\{|\}\{|[*+?][*+?]`)
)

// detectRedos mirrors Kibana's detectRedosPatterns so the same patterns are
// rejected (RE2 itself cannot backtrack catastrophically).
func detectRedos(pattern string) string {
	if reNestedQuantifiers.MatchString(pattern) {
		return "Potentially dangerous regex pattern detected: nested quantifiers like (a+)+ can cause catastrophic backtracking (ReDoS vulnerability)"
	}
	if reOverlappingAlt.MatchString(pattern) && hasOverlappingAlternation(pattern) {
		return "Potentially dangerous regex pattern detected: overlapping alternations with quantifiers like (a|aa)+ can cause catastrophic backtracking (ReDoS vulnerability)"
	}
	if reMultipleQuant.MatchString(pattern) {
		return "Potentially dangerous regex pattern detected: multiple consecutive quantifiers can cause catastrophic backtracking (ReDoS vulnerability)"
	}
	return ""
}

// hasOverlappingAlternation reports whether some parenthesised alternation
// has a letter shared (case-insensitively) by one alternative and a later one
// (the effect of Kibana's back-referencing overlap check).
func hasOverlappingAlternation(p string) bool {
	for i := 0; i < len(p); i++ {
		if p[i] != '(' {
			continue
		}
		j := strings.IndexByte(p[i+1:], ')')
		if j < 0 {
			return false
		}
		alts := strings.Split(p[i+1:i+1+j], "|")
		for a := 0; a < len(alts); a++ {
			for _, r := range strings.ToLower(alts[a]) {
				if r < 'a' || r > 'z' {
					continue
				}
				for b := a + 1; b < len(alts); b++ {
					if strings.ContainsRune(strings.ToLower(alts[b]), r) {
						return true
					}
				}
			}
		}
	}
	return false
}

// compileJS compiles a JavaScript pattern with JavaScript flags.
func compileJS(pattern, flags string) (*jsRegex, error) {
	if jsvalue.UTF16Len(pattern) > maxRegexPattern {
		return nil, fail("Pattern exceeds maximum allowed length of %d characters. Current length: %d", maxRegexPattern, jsvalue.UTF16Len(pattern))
	}
	if msg := detectRedos(pattern); msg != "" {
		return nil, fail("%s", msg)
	}
	jr := &jsRegex{}
	seen := map[rune]bool{}
	prefix := ""
	for _, f := range flags {
		if seen[f] || !strings.ContainsRune("dgimsuvy", f) {
			return nil, fail("Invalid regex pattern: %s. Invalid flags supplied to RegExp constructor '%s'", pattern, flags)
		}
		seen[f] = true
		switch f {
		case 'g':
			jr.global = true
		case 'y':
			jr.sticky = true
		case 'i', 'm', 's':
			prefix += string(f)
		}
	}
	src := pattern
	if prefix != "" {
		src = "(?" + prefix + ")" + pattern
	}
	re, err := regexp.Compile(src)
	if err != nil {
		msg := err.Error()
		if e, ok := err.(*syntax.Error); ok {
			msg = "Invalid regular expression: /" + pattern + "/" + flags + ": " + string(e.Code)
		}
		return nil, fail("Invalid regex pattern: %s. %s", pattern, msg)
	}
	jr.re = re
	jr.names = re.SubexpNames()
	return jr, nil
}

func (c Call) regexSource(verb string) (any, []any, bool, error) {
	src, err := c.config("source")
	if err != nil {
		return nil, nil, false, err
	}
	if src == nil {
		return nil, nil, false, fail("Source cannot be null or undefined. Please provide a string or array of strings to %s.", verb)
	}
	arr, isArr := src.([]any)
	if !isArr {
		s, ok := src.(string)
		if !ok {
			if verb == "extract from" {
				return nil, nil, false, fail("Expected source to be a string or array, but received %s. Please provide a string or array of strings to extract from.", jsvalue.TypeOf(src))
			}
			return nil, nil, false, fail("Expected source to be a string or array, but received %s. Please provide a string or array of strings.", jsvalue.TypeOf(src))
		}
		arr = []any{s}
	}
	if isArr && len(arr) > maxRegexArray {
		return nil, nil, false, fail("Input array exceeds maximum allowed length of %d items to prevent performance issues. Current length: %d", maxRegexArray, len(arr))
	}
	for _, it := range arr {
		if s, ok := it.(string); ok && jsvalue.UTF16Len(s) > maxRegexInput {
			return nil, nil, false, fail("Input string exceeds maximum allowed length of %d characters to prevent ReDoS attacks. Current length: %d", maxRegexInput, jsvalue.UTF16Len(s))
		}
	}
	return src, arr, isArr, nil
}

// byteOffset converts a UTF-16 offset in s to a byte offset (len(s)+1 when past the end).
func byteOffset(s string, units int) int {
	if units <= 0 {
		return 0
	}
	n := 0
	for i, r := range s {
		if n >= units {
			return i
		}
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	if n >= units {
		return len(s)
	}
	return len(s) + 1
}

// exec is RegExp.prototype.exec including lastIndex handling for g/y.
func (jr *jsRegex) exec(s string, lastIndex *int) []int {
	start := 0
	if jr.global || jr.sticky {
		start = byteOffset(s, *lastIndex)
		if start > len(s) {
			*lastIndex = 0
			return nil
		}
	}
	var loc []int
	for _, m := range jr.re.FindAllStringSubmatchIndex(s, -1) {
		if m[0] >= start {
			loc = m
			break
		}
	}
	if loc == nil || (jr.sticky && loc[0] != start) {
		if jr.global || jr.sticky {
			*lastIndex = 0
		}
		return nil
	}
	if jr.global || jr.sticky {
		*lastIndex = jsvalue.UTF16Len(s[:loc[1]])
	}
	return loc
}

// jsParseInt is parseInt(s, 10): leading sign and digits, else NaN (ok=false).
func jsParseInt(s string) (int, bool) {
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == i {
		return 0, false
	}
	n, err := strconv.Atoi(s[:j])
	if err != nil {
		return 0, false
	}
	return n, true
}

func group(s string, loc []int, i int) any {
	if i < 0 || 2*i+1 >= len(loc) || loc[2*i] < 0 {
		return nil
	}
	return s[loc[2*i]:loc[2*i+1]]
}

func runRegexExtract(c Call) (any, error) {
	_, arr, isArr, err := c.regexSource("extract from")
	if err != nil {
		return nil, err
	}
	if len(arr) == 0 {
		return []any{}, nil
	}
	errorIfNoMatch := false
	if v, err := c.config("errorIfNoMatch"); err != nil {
		return nil, err
	} else {
		errorIfNoMatch = jsvalue.Truthy(v)
	}
	in, err := c.input()
	if err != nil {
		return nil, err
	}
	pattern, _ := in["pattern"].(string)
	flags, _ := in["flags"].(string)
	fields, _ := in["fields"].(map[string]any)
	jr, err := compileJS(pattern, flags)
	if err != nil {
		return nil, err
	}
	lastIndex := 0
	out := make([]any, 0, len(arr))
	for _, it := range arr {
		s, ok := it.(string)
		if !ok {
			out = append(out, nil)
			continue
		}
		loc := jr.exec(s, &lastIndex)
		if loc == nil {
			if errorIfNoMatch {
				return nil, fail(`Pattern "%s" did not match the source text. Set errorIfNoMatch to false to return null instead.`, pattern)
			}
			out = append(out, nil)
			continue
		}
		rec := make(map[string]any, len(fields))
		for name, ref := range fields {
			r := template.Stringify(ref)
			if strings.HasPrefix(r, "$") {
				idx, ok := jsParseInt(r[1:])
				if !ok {
					rec[name] = nil
				} else {
					rec[name] = group(s, loc, idx)
				}
				continue
			}
			rec[name] = nil
			for gi, gn := range jr.names {
				if gn != "" && gn == r {
					rec[name] = group(s, loc, gi)
				}
			}
		}
		out = append(out, rec)
	}
	if !isArr {
		return out[0], nil
	}
	return out, nil
}

// expandJS expands a JavaScript replacement string for one match.
func (jr *jsRegex) expandJS(repl, s string, loc []int) string {
	if !strings.Contains(repl, "$") {
		return repl
	}
	ngroups := len(loc)/2 - 1
	hasNames := false
	for _, n := range jr.names {
		if n != "" {
			hasNames = true
		}
	}
	var b strings.Builder
	for i := 0; i < len(repl); i++ {
		ch := repl[i]
		if ch != '$' || i+1 >= len(repl) {
			b.WriteByte(ch)
			continue
		}
		next := repl[i+1]
		switch {
		case next == '$':
			b.WriteByte('$')
			i++
		case next == '&':
			b.WriteString(s[loc[0]:loc[1]])
			i++
		case next == '`':
			b.WriteString(s[:loc[0]])
			i++
		case next == '\'':
			b.WriteString(s[loc[1]:])
			i++
		case next >= '0' && next <= '9':
			n := int(next - '0')
			used := 1
			if i+2 < len(repl) && repl[i+2] >= '0' && repl[i+2] <= '9' {
				two := n*10 + int(repl[i+2]-'0')
				if two >= 1 && two <= ngroups {
					n, used = two, 2
				}
			}
			if n >= 1 && n <= ngroups {
				if g, ok := group(s, loc, n).(string); ok {
					b.WriteString(g)
				}
				i += used
			} else {
				b.WriteByte('$')
			}
		case next == '<' && hasNames:
			end := strings.IndexByte(repl[i+2:], '>')
			if end < 0 {
				b.WriteByte('$')
				continue
			}
			name := repl[i+2 : i+2+end]
			for gi, gn := range jr.names {
				if gn == name && gn != "" {
					if g, ok := group(s, loc, gi).(string); ok {
						b.WriteString(g)
					}
				}
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// replace is String.prototype.replace(regex, replacement); it also returns
// what String.prototype.match would count.
func (jr *jsRegex) replace(s, repl string) (string, int) {
	var matches [][]int
	if jr.global {
		matches = jr.re.FindAllStringSubmatchIndex(s, -1)
		if jr.sticky {
			var kept [][]int
			pos := 0
			for _, m := range matches {
				if m[0] != pos {
					break
				}
				kept = append(kept, m)
				pos = m[1]
			}
			matches = kept
		}
	} else {
		last := 0
		if loc := jr.exec(s, &last); loc != nil {
			matches = [][]int{loc}
		}
	}
	count := len(matches)
	if !jr.global && count == 1 {
		count = len(matches[0]) / 2
	}
	if len(matches) == 0 {
		return s, 0
	}
	var b strings.Builder
	prev := 0
	for _, m := range matches {
		b.WriteString(s[prev:m[0]])
		b.WriteString(jr.expandJS(repl, s, m))
		prev = m[1]
	}
	b.WriteString(s[prev:])
	return b.String(), count
}

func runRegexReplace(c Call) (any, error) {
	src, arr, isArr, err := c.regexSource("replace in")
	if err != nil {
		return nil, err
	}
	if len(arr) == 0 {
		return []any{}, nil
	}
	detailed := false
	if v, err := c.config("detailed"); err != nil {
		return nil, err
	} else {
		detailed = jsvalue.Truthy(v)
	}
	in, err := c.input()
	if err != nil {
		return nil, err
	}
	pattern, _ := in["pattern"].(string)
	flags, _ := in["flags"].(string)
	replacement := template.Stringify(in["replacement"])
	jr, err := compileJS(pattern, flags)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(arr))
	total := 0
	for i, it := range arr {
		s, ok := it.(string)
		if !ok {
			out[i] = jsString(it)
			if _, isObj := it.(map[string]any); isObj {
				out[i] = "[object Object]"
			}
			continue
		}
		if !utf8.ValidString(s) {
			s = strings.ToValidUTF8(s, "\ufffd")
		}
		r, n := jr.replace(s, replacement)
		out[i] = r
		total += n
	}
	var result any = out
	if !isArr {
		result = out[0]
	}
	if detailed {
		original := src
		return map[string]any{"original": original, "replaced": result, "matchCount": float64(total)}, nil
	}
	return result, nil
}
