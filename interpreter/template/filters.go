package template

import (
	"encoding/base64"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/secflow/secflow/interpreter/jsvalue"
)

// fctx is what a filter implementation receives besides its input and
// positional arguments: the render context and keyword arguments.
type fctx struct {
	c  *renderCtx
	kw map[string]any
}

// filterFunc implements one Liquid filter.
type filterFunc func(f *fctx, v any, args []any) (any, error)

func arg(args []any, i int) any {
	if i < len(args) {
		return args[i]
	}
	return undef
}

func hasArg(args []any, i int) bool { return i < len(args) && args[i] != undef }

// builtinFilters returns LiquidJS's standard filters plus Kibana's custom ones.
func builtinFilters() map[string]filterFunc {
	m := map[string]filterFunc{
		// string
		"append":                   fAppend,
		"prepend":                  fPrepend,
		"upcase":                   strFn(strings.ToUpper),
		"downcase":                 strFn(strings.ToLower),
		"capitalize":               fCapitalize,
		"strip":                    fStrip,
		"lstrip":                   fLstrip,
		"rstrip":                   fRstrip,
		"strip_newlines":           fStripNewlines,
		"strip_html":               fStripHTML,
		"newline_to_br":            fNewlineToBr,
		"truncate":                 fTruncate,
		"truncatewords":            fTruncatewords,
		"replace":                  fReplace,
		"replace_first":            fReplaceFirst,
		"replace_last":             fReplaceLast,
		"remove":                   fRemove,
		"remove_first":             fRemoveFirst,
		"remove_last":              fRemoveLast,
		"split":                    fSplit,
		"escape":                   fEscape,
		"xml_escape":               fEscape,
		"escape_once":              fEscapeOnce,
		"url_encode":               fURLEncode,
		"url_decode":               fURLDecode,
		"cgi_escape":               fCGIEscape,
		"uri_escape":               fURIEscape,
		"base64_encode":            fBase64Encode,
		"base64_decode":            fBase64Decode,
		"slugify":                  fSlugify,
		"normalize_whitespace":     fNormalizeWhitespace,
		"number_of_words":          fNumberOfWords,
		"array_to_sentence_string": fArrayToSentence,
		// array
		"join":           fJoin,
		"first":          fFirst,
		"last":           fLast,
		"reverse":        fReverse,
		"sort":           fSort,
		"sort_natural":   fSortNatural,
		"size":           fSize,
		"map":            fMap,
		"sum":            fSum,
		"compact":        fCompact,
		"concat":         fConcat,
		"push":           fPush,
		"pop":            fPop,
		"shift":          fShift,
		"unshift":        fUnshift,
		"slice":          fSlice,
		"where":          fWhere(true),
		"reject":         fWhere(false),
		"where_exp":      fWhereExp(true),
		"reject_exp":     fWhereExp(false),
		"group_by":       fGroupBy,
		"group_by_exp":   fGroupByExp,
		"has":            fSearch(searchHas),
		"find":           fSearch(searchFind),
		"find_index":     fSearch(searchIndex),
		"has_exp":        fSearchExp(searchHas),
		"find_exp":       fSearchExp(searchFind),
		"find_index_exp": fSearchExp(searchIndex),
		"uniq":           fUniq,
		"sample":         fSample,
		// math
		"abs":        mathFn1(math.Abs),
		"ceil":       mathFn1(math.Ceil),
		"floor":      mathFn1(math.Floor),
		"at_least":   fAtLeast,
		"at_most":    fAtMost,
		"plus":       mathFn2(func(a, b float64) float64 { return a + b }),
		"minus":      mathFn2(func(a, b float64) float64 { return a - b }),
		"times":      mathFn2(func(a, b float64) float64 { return a * b }),
		"modulo":     mathFn2(jsMod),
		"divided_by": fDividedBy,
		"round":      fRound,
		// misc
		"default":    fDefault,
		"json":       fJSON,
		"jsonify":    fJSON,
		"inspect":    fJSON,
		"to_integer": func(_ *fctx, v any, _ []any) (any, error) { return jsToNumber(v), nil },
		"raw":        func(_ *fctx, v any, _ []any) (any, error) { return v, nil },
		// date
		"date":                fDate,
		"date_to_xmlschema":   fDateFixed("%Y-%m-%dT%H:%M:%S%:z"),
		"date_to_rfc822":      fDateFixed("%a, %d %b %Y %H:%M:%S %z"),
		"date_to_string":      fDateToString("%b"),
		"date_to_long_string": fDateToString("%B"),
		// Kibana custom filters
		"json_parse": fJSONParse,
		"entries":    fEntries,
		"pick":       fPick,
	}
	return m
}

// ---------------------------------------------------------------------------
// String filters.

func strFn(fn func(string) string) filterFunc {
	return func(f *fctx, v any, _ []any) (any, error) {
		s := Stringify(v)
		if err := f.c.useMem(jsvalue.UTF16Len(s)); err != nil {
			return nil, err
		}
		return fn(s), nil
	}
}

func fAppend(f *fctx, v any, args []any) (any, error) {
	if len(args) != 1 {
		return nil, newError("append expect 2 arguments")
	}
	l, r := Stringify(v), Stringify(args[0])
	if err := f.c.useMem(jsvalue.UTF16Len(l) + jsvalue.UTF16Len(r)); err != nil {
		return nil, err
	}
	return l + r, nil
}

func fPrepend(f *fctx, v any, args []any) (any, error) {
	if len(args) != 1 {
		return nil, newError("prepend expect 2 arguments")
	}
	l, r := Stringify(v), Stringify(args[0])
	if err := f.c.useMem(jsvalue.UTF16Len(l) + jsvalue.UTF16Len(r)); err != nil {
		return nil, err
	}
	return r + l, nil
}

func fCapitalize(f *fctx, v any, _ []any) (any, error) {
	s := Stringify(v)
	if err := f.c.useMem(jsvalue.UTF16Len(s)); err != nil {
		return nil, err
	}
	if s == "" {
		return "", nil
	}
	first := jsCharAt(s, 0)
	return strings.ToUpper(first) + strings.ToLower(s[len(first):]), nil
}

func charSet(chars string) map[string]bool {
	set := map[string]bool{}
	for _, r := range chars {
		set[string(r)] = true
	}
	return set
}

// stripper returns the strip, lstrip or rstrip filter: trim removes the
// characters of the optional argument, or JavaScript whitespace.
func stripper(trim func(string, func(rune) bool) string) func(*fctx, any, []any) (any, error) {
	return func(f *fctx, v any, args []any) (any, error) {
		s := Stringify(v)
		if err := f.c.useMem(jsvalue.UTF16Len(s)); err != nil {
			return nil, err
		}
		if hasArg(args, 0) && !isFalsy(args[0]) && Stringify(args[0]) != "" {
			set := charSet(Stringify(args[0]))
			return trim(s, func(r rune) bool { return set[string(r)] }), nil
		}
		return trim(s, jsvalue.IsSpace), nil
	}
}

var (
	fStrip  = stripper(strings.TrimFunc)
	fLstrip = stripper(strings.TrimLeftFunc)
	fRstrip = stripper(strings.TrimRightFunc)
)

func fStripNewlines(f *fctx, v any, _ []any) (any, error) {
	s := Stringify(v)
	if err := f.c.useMem(jsvalue.UTF16Len(s)); err != nil {
		return nil, err
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", ""), "\n", ""), nil
}

func fNewlineToBr(f *fctx, v any, _ []any) (any, error) {
	s := Stringify(v)
	if err := f.c.useMem(jsvalue.UTF16Len(s)); err != nil {
		return nil, err
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\n", "<br />\n"), nil
}

// fStripHTML removes <script>/<style> blocks, comments and tags in one
// linear pass (LiquidJS's current O(n) implementation).
func fStripHTML(f *fctx, v any, _ []any) (any, error) {
	s := Stringify(v)
	if err := f.c.useMem(jsvalue.UTF16Len(s)); err != nil {
		return nil, err
	}
	var b strings.Builder
	lower := strings.ToLower(s)
	i := 0
	for i < len(s) {
		if s[i] != '<' {
			b.WriteByte(s[i])
			i++
			continue
		}
		rest := lower[i:]
		matched := false
		for _, blk := range [][2]string{{"<script", "</script>"}, {"<style", "</style>"}} {
			if strings.HasPrefix(rest, blk[0]) {
				if j := strings.Index(lower[i:], blk[1]); j >= 0 {
					i += j + len(blk[1])
					matched = true
				}
				break
			}
		}
		if matched {
			continue
		}
		if strings.HasPrefix(rest, "<!--") {
			if j := strings.Index(s[i:], "-->"); j >= 0 {
				i += j + 3
				continue
			}
		}
		// <.*?> : the shortest run up to '>' on the same line.
		j := strings.IndexAny(s[i+1:], ">\n\r\u2028\u2029")
		if j >= 0 && s[i+1+j] == '>' {
			i += j + 2
			continue
		}
		b.WriteByte('<')
		i++
	}
	return b.String(), nil
}

func fTruncate(f *fctx, v any, args []any) (any, error) {
	s := Stringify(v)
	l := 50
	if hasArg(args, 0) {
		l = toInteger(args[0])
	}
	o := "..."
	if hasArg(args, 1) {
		o = Stringify(args[1])
	}
	if err := f.c.useMem(jsvalue.UTF16Len(s) + jsvalue.UTF16Len(o)); err != nil {
		return nil, err
	}
	if jsvalue.UTF16Len(s) <= l {
		return v, nil
	}
	end := l - jsvalue.UTF16Len(o)
	if end < 0 {
		end = max(jsvalue.UTF16Len(s)+end, 0)
	}
	return jsSubstr(s, 0, end) + o, nil
}

var reWhitespace = regexp.MustCompile(`\s+`)

func fTruncatewords(f *fctx, v any, args []any) (any, error) {
	s := Stringify(v)
	words := 15
	if hasArg(args, 0) {
		words = toInteger(args[0])
	}
	o := "..."
	if hasArg(args, 1) {
		o = Stringify(args[1])
	}
	if err := f.c.useMem(jsvalue.UTF16Len(s) + jsvalue.UTF16Len(o)); err != nil {
		return nil, err
	}
	arr := reWhitespace.Split(s, -1)
	if words <= 0 {
		words = 1
	}
	ret := strings.Join(arr[:min(words, len(arr))], " ")
	if len(arr) >= words {
		ret += o
	}
	return ret, nil
}

func fReplace(f *fctx, v any, args []any) (any, error) {
	s, pat, rep := Stringify(v), Stringify(arg(args, 0)), Stringify(arg(args, 1))
	parts := jsSplit(s, pat)
	size := jsvalue.UTF16Len(s) + (len(parts)-1)*(jsvalue.UTF16Len(rep)-jsvalue.UTF16Len(pat))
	if err := f.c.useMem(size); err != nil {
		return nil, err
	}
	return strings.Join(parts, rep), nil
}

func fReplaceFirst(f *fctx, v any, args []any) (any, error) {
	s, pat, rep := Stringify(v), Stringify(arg(args, 0)), Stringify(arg(args, 1))
	if err := f.c.useMem(jsvalue.UTF16Len(s) + jsvalue.UTF16Len(pat) + jsvalue.UTF16Len(rep)); err != nil {
		return nil, err
	}
	return strings.Replace(s, pat, rep, 1), nil
}

func fReplaceLast(f *fctx, v any, args []any) (any, error) {
	s, pat, rep := Stringify(v), Stringify(arg(args, 0)), Stringify(arg(args, 1))
	if err := f.c.useMem(jsvalue.UTF16Len(s) + jsvalue.UTF16Len(pat) + jsvalue.UTF16Len(rep)); err != nil {
		return nil, err
	}
	i := strings.LastIndex(s, pat)
	if i < 0 {
		return s, nil
	}
	return s[:i] + rep + s[i+len(pat):], nil
}

func fRemove(f *fctx, v any, args []any) (any, error) {
	s, pat := Stringify(v), Stringify(arg(args, 0))
	if err := f.c.useMem(jsvalue.UTF16Len(s) + jsvalue.UTF16Len(pat)); err != nil {
		return nil, err
	}
	return strings.Join(jsSplit(s, pat), ""), nil
}

func fRemoveFirst(f *fctx, v any, args []any) (any, error) {
	s, pat := Stringify(v), Stringify(arg(args, 0))
	if err := f.c.useMem(jsvalue.UTF16Len(s) + jsvalue.UTF16Len(pat)); err != nil {
		return nil, err
	}
	return strings.Replace(s, pat, "", 1), nil
}

func fRemoveLast(f *fctx, v any, args []any) (any, error) {
	s, pat := Stringify(v), Stringify(arg(args, 0))
	if err := f.c.useMem(jsvalue.UTF16Len(s) + jsvalue.UTF16Len(pat)); err != nil {
		return nil, err
	}
	i := strings.LastIndex(s, pat)
	if i < 0 {
		return s, nil
	}
	return s[:i] + s[i+len(pat):], nil
}

// jsSplit is String.prototype.split(sep) for a string separator.
func jsSplit(s, sep string) []string {
	if sep == "" {
		if jsvalue.IsASCII(s) {
			out := make([]string, len(s))
			for i := range s {
				out[i] = s[i : i+1]
			}
			return out
		}
		u := toUnits(s)
		out := make([]string, len(u))
		for i := range u {
			out[i] = fromUnits(u[i : i+1])
		}
		return out
	}
	return strings.Split(s, sep)
}

func fSplit(f *fctx, v any, args []any) (any, error) {
	s := Stringify(v)
	if err := f.c.useMem(jsvalue.UTF16Len(s)); err != nil {
		return nil, err
	}
	sep := Stringify(arg(args, 0))
	if !hasArg(args, 0) {
		sep = "undefined" // String(undefined) in LiquidJS
	}
	parts := jsSplit(s, sep)
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;")
var htmlUnescaper = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'")

func fEscape(f *fctx, v any, _ []any) (any, error) {
	s := Stringify(v)
	if err := f.c.useMem(jsvalue.UTF16Len(s)); err != nil {
		return nil, err
	}
	return htmlEscaper.Replace(s), nil
}

func fEscapeOnce(f *fctx, v any, _ []any) (any, error) {
	s := Stringify(v)
	if err := f.c.useMem(2 * jsvalue.UTF16Len(s)); err != nil {
		return nil, err
	}
	return htmlEscaper.Replace(htmlUnescaper.Replace(s)), nil
}

// percentEncode implements encodeURIComponent/encodeURI: bytes of the UTF-8
// encoding that are not in keep are %XX-escaped (upper-case hex).
func percentEncode(s string, keep string) (string, error) {
	if !utf8.ValidString(s) {
		return "", newError("URI malformed")
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < utf8.RuneSelf && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(keep, c) >= 0) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
	return b.String(), nil
}

const uriComponentKeep = "-_.!~*'()"
const uriKeep = "-_.!~*'();/?:@&=+$,#"

func fURLEncode(f *fctx, v any, _ []any) (any, error) {
	s, err := percentEncode(Stringify(v), uriComponentKeep)
	if err != nil {
		return nil, err
	}
	return strings.ReplaceAll(s, "%20", "+"), nil
}

func fCGIEscape(f *fctx, v any, _ []any) (any, error) {
	s, err := percentEncode(Stringify(v), "-_.~")
	if err != nil {
		return nil, err
	}
	return strings.ReplaceAll(s, "%20", "+"), nil
}

func fURIEscape(f *fctx, v any, _ []any) (any, error) {
	s, err := percentEncode(Stringify(v), uriKeep)
	if err != nil {
		return nil, err
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "%5B", "["), "%5D", "]"), nil
}

// decodeURIComponent decodes %XX sequences forming valid UTF-8.
func decodeURIComponent(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		var buf []byte
		for i < len(s) && s[i] == '%' {
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", newError("URI malformed")
			}
			buf = append(buf, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 3
			if utf8.FullRune(buf) {
				break
			}
		}
		i--
		if !utf8.Valid(buf) {
			return "", newError("URI malformed")
		}
		b.Write(buf)
	}
	return b.String(), nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func fURLDecode(f *fctx, v any, _ []any) (any, error) {
	s, err := decodeURIComponent(Stringify(v))
	if err != nil {
		return nil, err
	}
	return strings.ReplaceAll(s, "+", " "), nil
}

func fBase64Encode(f *fctx, v any, _ []any) (any, error) {
	s := Stringify(v)
	if err := f.c.useMem(jsvalue.UTF16Len(s)); err != nil {
		return nil, err
	}
	return base64.StdEncoding.EncodeToString([]byte(s)), nil
}

func fBase64Decode(f *fctx, v any, _ []any) (any, error) {
	s := Stringify(v)
	if err := f.c.useMem(jsvalue.UTF16Len(s)); err != nil {
		return nil, err
	}
	// Node's Buffer.from(s, 'base64') is lenient: it ignores invalid
	// characters, accepts URL-safe alphabet and missing padding.
	var clean strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
			clean.WriteByte(c)
		case c == '-':
			clean.WriteByte('+')
		case c == '_':
			clean.WriteByte('/')
		case c == '=':
			i = len(s)
		}
	}
	cs := clean.String()
	if len(cs)%4 == 1 {
		cs = cs[:len(cs)-1]
	}
	b, err := base64.RawStdEncoding.DecodeString(cs)
	if err != nil {
		return "", nil
	}
	return strings.ToValidUTF8(string(b), "\ufffd"), nil
}

var (
	reSlugDefault = regexp.MustCompile(`[^\p{M}\p{L}\p{Nd}]+`)
	reSlugPretty  = regexp.MustCompile(`[^\p{M}\p{L}\p{Nd}._~!$&'()+,;=@]+`)
	reSlugASCII   = regexp.MustCompile(`[^A-Za-z0-9]+`)
	reSlugLatin   = regexp.MustCompile(`[^A-Za-z0-9]+`)
	reSlugRaw     = regexp.MustCompile(`\s+`)
)

// fSlugify follows Jekyll/LiquidJS slugify(str, mode = "default", cased = false).
func fSlugify(f *fctx, v any, args []any) (any, error) {
	s := Stringify(v)
	if err := f.c.useMem(jsvalue.UTF16Len(s)); err != nil {
		return nil, err
	}
	mode := "default"
	if hasArg(args, 0) {
		mode = Stringify(args[0])
	}
	cased := hasArg(args, 1) && isTruthy(args[1])
	var re *regexp.Regexp
	switch mode {
	case "raw":
		re = reSlugRaw
	case "pretty":
		re = reSlugPretty
	case "ascii":
		re = reSlugASCII
	case "latin":
		s = removeAccents(s)
		re = reSlugLatin
	case "none":
		re = nil
	default:
		re = reSlugDefault
	}
	if re != nil {
		s = re.ReplaceAllString(s, "-")
		s = strings.Trim(s, "-")
	}
	if !cased {
		s = strings.ToLower(s)
	}
	return s, nil
}

func removeAccents(s string) string {
	var b strings.Builder
	for _, r := range s {
		if base, ok := latinFold[r]; ok {
			b.WriteString(base)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

var latinFold = func() map[rune]string {
	m := map[rune]string{}
	groups := map[string]string{
		"a": "àáâãäåāăą", "A": "ÀÁÂÃÄÅĀĂĄ", "c": "çćĉċč", "C": "ÇĆĈĊČ", "e": "èéêëēĕėęě",
		"E": "ÈÉÊËĒĔĖĘĚ", "i": "ìíîïĩīĭįı", "I": "ÌÍÎÏĨĪĬĮİ", "n": "ñńņňŉ", "N": "ÑŃŅŇ",
		"o": "òóôõöøōŏő", "O": "ÒÓÔÕÖØŌŎŐ", "u": "ùúûüũūŭůűų", "U": "ÙÚÛÜŨŪŬŮŰŲ",
		"y": "ýÿŷ", "Y": "ÝŸŶ", "s": "śŝşš", "S": "ŚŜŞŠ", "z": "źżž", "Z": "ŹŻŽ",
		"g": "ĝğġģ", "G": "ĜĞĠĢ", "d": "ďđ", "D": "ĎĐ", "l": "ĺļľŀł", "L": "ĹĻĽĿŁ",
		"r": "ŕŗř", "R": "ŔŖŘ", "t": "ţťŧ", "T": "ŢŤŦ", "ss": "ß", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ",
	}
	for base, chars := range groups {
		for _, r := range chars {
			m[r] = base
		}
	}
	return m
}()

func fNormalizeWhitespace(f *fctx, v any, _ []any) (any, error) {
	s := Stringify(v)
	if err := f.c.useMem(jsvalue.UTF16Len(s)); err != nil {
		return nil, err
	}
	return reWhitespace.ReplaceAllString(s, " "), nil
}

func isCJK(r rune) bool {
	return r >= 0x4E00 && r <= 0x9FFF || r >= 0xF900 && r <= 0xFAFF || r >= 0x3400 && r <= 0x4DBF ||
		r >= 0x3040 && r <= 0x309F || r >= 0x30A0 && r <= 0x30FF || r >= 0xAC00 && r <= 0xD7AF
}

func fNumberOfWords(f *fctx, v any, args []any) (any, error) {
	s := Stringify(v)
	if err := f.c.useMem(jsvalue.UTF16Len(s)); err != nil {
		return nil, err
	}
	s = strings.TrimFunc(s, jsvalue.IsSpace)
	if s == "" {
		return float64(0), nil
	}
	mode := ""
	if hasArg(args, 0) {
		mode = Stringify(args[0])
	}
	countCJK := func() (int, int) {
		cjk, other := 0, 0
		inWord := false
		for _, r := range s {
			switch {
			case isCJK(r):
				cjk++
				inWord = false
			case unicode.IsSpace(r):
				inWord = false
			default:
				if !inWord {
					other++
				}
				inWord = true
			}
		}
		return cjk, other
	}
	switch mode {
	case "cjk":
		a, b := countCJK()
		return float64(a + b), nil
	case "auto":
		a, b := countCJK()
		if a > 0 {
			return float64(a + b), nil
		}
	}
	return float64(len(reWhitespace.Split(s, -1))), nil
}

func fArrayToSentence(f *fctx, v any, args []any) (any, error) {
	arr := toArray(v)
	connector := "and"
	if hasArg(args, 0) {
		connector = Stringify(args[0])
	}
	strs := make([]string, len(arr))
	size := 0
	for i, e := range arr {
		strs[i] = joinElem(e)
		size += jsvalue.UTF16Len(strs[i])
	}
	if err := f.c.useMem(size + len(arr) + jsvalue.UTF16Len(connector)); err != nil {
		return nil, err
	}
	switch len(arr) {
	case 0:
		return "", nil
	case 1:
		return arr[0], nil
	case 2:
		return strs[0] + " " + connector + " " + strs[1], nil
	}
	return strings.Join(strs[:len(strs)-1], ", ") + ", " + connector + " " + strs[len(strs)-1], nil
}

// ---------------------------------------------------------------------------
// Array filters.

// joinElem converts an array element like Array.prototype.join does.
func joinElem(e any) string {
	if isNil(e) {
		return ""
	}
	return jsString(e)
}

func fJoin(f *fctx, v any, args []any) (any, error) {
	arr := toArray(v)
	sep := " "
	if hasArg(args, 0) && !isNil(args[0]) {
		sep = Stringify(args[0])
	}
	strs := make([]string, len(arr))
	size := jsvalue.UTF16Len(sep) * max(len(arr)-1, 0)
	for i, e := range arr {
		strs[i] = joinElem(e)
		size += jsvalue.UTF16Len(strs[i])
	}
	if err := f.c.useMem(size); err != nil {
		return nil, err
	}
	return strings.Join(strs, sep), nil
}

func fFirst(f *fctx, v any, _ []any) (any, error) {
	switch x := norm(v).(type) {
	case []any:
		return readProperty(x, float64(0)), nil
	case string:
		return readProperty(x, float64(0)), nil
	}
	return "", nil
}

func fLast(f *fctx, v any, _ []any) (any, error) {
	switch x := norm(v).(type) {
	case []any:
		return readProperty(x, float64(-1)), nil
	case string:
		if x == "" {
			return undef, nil
		}
		return jsCharAt(x, jsvalue.UTF16Len(x)-1), nil
	}
	return "", nil
}

func fReverse(f *fctx, v any, _ []any) (any, error) {
	arr := toArray(v)
	if err := f.c.useMem(len(arr)); err != nil {
		return nil, err
	}
	out := make([]any, len(arr))
	for i, e := range arr {
		out[len(arr)-1-i] = e
	}
	return out, nil
}

func orderedCompare(a, b any) int {
	an, bn := isNil(a), isNil(b)
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	}
	if jsLess(a, b) {
		return -1
	}
	if jsGreater(a, b) {
		return 1
	}
	return 0
}

func caseInsensitiveCompare(a, b any) int {
	an, bn := isNil(a), isNil(b)
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	}
	as, bs := strings.ToLower(jsString(a)), strings.ToLower(jsString(b))
	return jsvalue.CompareUTF16(as, bs)
}

func (f *fctx) pathValue(item any, path string) any {
	cur := item
	for _, p := range strings.Split(path, ".") {
		cur = readProperty(cur, p)
	}
	return cur
}

func sortBy(f *fctx, v any, args []any, cmp func(a, b any) int) (any, error) {
	arr := toArray(v)
	if err := f.c.useMem(len(arr)); err != nil {
		return nil, err
	}
	type pair struct{ item, key any }
	pairs := make([]pair, len(arr))
	prop := ""
	if hasArg(args, 0) && !isFalsy(args[0]) {
		prop = Stringify(args[0])
	}
	for i, e := range arr {
		k := e
		if prop != "" {
			k = f.pathValue(e, prop)
		}
		pairs[i] = pair{e, toValue(k)}
	}
	if err := f.c.useWork(len(arr)); err != nil {
		return nil, err
	}
	sort.SliceStable(pairs, func(i, j int) bool { return cmp(pairs[i].key, pairs[j].key) < 0 })
	out := make([]any, len(pairs))
	for i, p := range pairs {
		out[i] = p.item
	}
	return out, nil
}

func fSort(f *fctx, v any, args []any) (any, error) { return sortBy(f, v, args, orderedCompare) }
func fSortNatural(f *fctx, v any, args []any) (any, error) {
	return sortBy(f, v, args, caseInsensitiveCompare)
}

// fSize is LiquidJS `size`: (v && v.length) || 0.
func fSize(f *fctx, v any, _ []any) (any, error) {
	switch x := norm(v).(type) {
	case string:
		return float64(jsvalue.UTF16Len(x)), nil
	case []any:
		return float64(len(x)), nil
	case map[string]any:
		if l, ok := x["length"]; ok && isTruthy(l) {
			return norm(l), nil
		}
	}
	return float64(0), nil
}

func fMap(f *fctx, v any, args []any) (any, error) {
	arr := toArray(v)
	if err := f.c.useMem(len(arr)); err != nil {
		return nil, err
	}
	prop := Stringify(arg(args, 0))
	out := make([]any, len(arr))
	for i, e := range arr {
		out[i] = toValue(f.pathValue(e, prop))
	}
	return out, nil
}

func fSum(f *fctx, v any, args []any) (any, error) {
	arr := toArray(v)
	prop := ""
	if hasArg(args, 0) && !isFalsy(args[0]) {
		prop = Stringify(args[0])
	}
	sum := 0.0
	for _, e := range arr {
		x := e
		if prop != "" {
			x = f.pathValue(e, prop)
		}
		n := jsToNumber(x)
		if !math.IsNaN(n) {
			sum += n
		}
	}
	return sum, nil
}

func fCompact(f *fctx, v any, _ []any) (any, error) {
	arr := toArray(v)
	if err := f.c.useMem(len(arr)); err != nil {
		return nil, err
	}
	out := make([]any, 0, len(arr))
	for _, e := range arr {
		if !isNil(e) {
			out = append(out, e)
		}
	}
	return out, nil
}

func fConcat(f *fctx, v any, args []any) (any, error) {
	l := toArray(v)
	var r []any
	if hasArg(args, 0) {
		r = toArray(args[0])
	}
	if err := f.c.useMem(len(l) + len(r)); err != nil {
		return nil, err
	}
	out := make([]any, 0, len(l)+len(r))
	out = append(out, l...)
	return append(out, r...), nil
}

func fPush(f *fctx, v any, args []any) (any, error) {
	l := toArray(v)
	if err := f.c.useMem(len(l) + 1); err != nil {
		return nil, err
	}
	out := make([]any, 0, len(l)+1)
	out = append(out, l...)
	return append(out, arg(args, 0)), nil
}

func fUnshift(f *fctx, v any, args []any) (any, error) {
	l := toArray(v)
	if err := f.c.useMem(len(l)); err != nil {
		return nil, err
	}
	out := make([]any, 0, len(l)+1)
	out = append(out, arg(args, 0))
	return append(out, l...), nil
}

func fPop(f *fctx, v any, _ []any) (any, error) {
	l := toArray(v)
	if err := f.c.useMem(len(l)); err != nil {
		return nil, err
	}
	if len(l) == 0 {
		return []any{}, nil
	}
	return append([]any{}, l[:len(l)-1]...), nil
}

func fShift(f *fctx, v any, _ []any) (any, error) {
	l := toArray(v)
	if err := f.c.useMem(len(l)); err != nil {
		return nil, err
	}
	if len(l) == 0 {
		return []any{}, nil
	}
	return append([]any{}, l[1:]...), nil
}

func fSlice(f *fctx, v any, args []any) (any, error) {
	v = norm(toValue(v))
	if isNil(v) {
		return []any{}, nil
	}
	begin := toInteger(arg(args, 0))
	length := 1
	if hasArg(args, 1) {
		length = toInteger(args[1])
	}
	if arr, ok := v.([]any); ok {
		if begin < 0 {
			begin += len(arr)
		}
		if begin < 0 || length < 0 {
			return []any{}, nil
		}
		if err := f.c.useMem(length); err != nil {
			return nil, err
		}
		return append([]any{}, jsSliceArr(arr, begin, begin+length)...), nil
	}
	s := Stringify(v)
	n := jsvalue.UTF16Len(s)
	if begin < 0 {
		begin += n
	}
	if begin < 0 || length < 0 {
		return "", nil
	}
	if err := f.c.useMem(length); err != nil {
		return nil, err
	}
	return jsSubstr(s, begin, begin+length), nil
}

// parsePropertyPath parses a where/group_by property argument ("a.b[0]").
func (f *fctx) parsePropertyPath(prop any) (*valueExpr, error) {
	sc := scanner{s: Stringify(prop)}
	sc.skipBlank()
	props, err := sc.readProperties(true)
	if err != nil {
		return nil, err
	}
	if len(props) == 0 {
		return nil, nil
	}
	return &valueExpr{kind: exPath, props: props}, nil
}

// evalPathOn evaluates a property path with item as the root scope.
func (f *fctx) evalPathOn(path *valueExpr, item any) (any, error) {
	if path == nil {
		return undef, nil
	}
	var cur any = item
	for _, p := range path.props {
		k, err := f.c.evalOperand(p)
		if err != nil {
			return nil, err
		}
		cur = readProperty(cur, k)
	}
	return cur, nil
}

func matches(value, expected any, expectedGiven bool) bool {
	if !expectedGiven {
		return isTruthy(value)
	}
	return equals(value, expected)
}

func fWhere(include bool) filterFunc {
	return func(f *fctx, v any, args []any) (any, error) {
		arr := toArray(v)
		if err := f.c.useMem(len(arr)); err != nil {
			return nil, err
		}
		path, err := f.parsePropertyPath(arg(args, 0))
		if err != nil {
			return nil, err
		}
		expected := arg(args, 1)
		out := []any{}
		for _, item := range arr {
			val, err := f.evalPathOn(path, item)
			if err != nil {
				return nil, err
			}
			if matches(val, expected, expected != undef) == include {
				out = append(out, item)
			}
		}
		return out, nil
	}
}

// compileExp parses the expression argument of the *_exp filters.
func (f *fctx) compileExp(exp any) (*filteredValue, error) {
	sc := scanner{s: Stringify(exp)}
	return sc.readFilteredValue(f.c.e)
}

func (f *fctx) evalExpWith(fv *filteredValue, name string, item any) (any, error) {
	if err := f.c.useWork(1); err != nil {
		return nil, err
	}
	f.c.push(map[string]any{name: item})
	v, err := f.c.evalValue(fv)
	f.c.pop()
	if err != nil {
		return nil, err
	}
	return toValue(v), nil
}

func fWhereExp(include bool) filterFunc {
	return func(f *fctx, v any, args []any) (any, error) {
		fv, err := f.compileExp(arg(args, 1))
		if err != nil {
			return nil, err
		}
		name := Stringify(arg(args, 0))
		arr := toArray(v)
		if err := f.c.useMem(len(arr)); err != nil {
			return nil, err
		}
		out := []any{}
		for _, item := range arr {
			val, err := f.evalExpWith(fv, name, item)
			if err != nil {
				return nil, err
			}
			if val == include {
				out = append(out, item)
			}
		}
		return out, nil
	}
}

// groupKey returns a key identifying v with SameValueZero semantics.
type groupKey struct {
	kind byte
	s    string
	f    float64
	p    uintptr
}

func keyOf(v any) groupKey {
	v = norm(toValue(v))
	switch x := v.(type) {
	case nil:
		return groupKey{kind: 'n'}
	case undefinedT:
		return groupKey{kind: 'u'}
	case string:
		return groupKey{kind: 's', s: x}
	case bool:
		if x {
			return groupKey{kind: 'b', f: 1}
		}
		return groupKey{kind: 'b'}
	case []any:
		if len(x) == 0 {
			return groupKey{kind: 'e', p: 0}
		}
		return groupKey{kind: 'a', p: uintptrOf(&x[0])}
	case map[string]any:
		return groupKey{kind: 'm', p: mapPtr(x)}
	}
	if n, ok := jsvalue.Number(v); ok {
		if math.IsNaN(n) {
			return groupKey{kind: 'N'}
		}
		if n == 0 {
			n = 0
		}
		return groupKey{kind: 'f', f: n}
	}
	return groupKey{kind: 'o', s: jsString(v)}
}

func groupInto(keys []any, items []any) []any {
	index := map[groupKey]int{}
	var out []any
	var groups [][]any
	var names []any
	for i, k := range keys {
		gk := keyOf(k)
		j, ok := index[gk]
		if !ok {
			j = len(groups)
			index[gk] = j
			groups = append(groups, nil)
			names = append(names, k)
		}
		groups[j] = append(groups[j], items[i])
	}
	out = make([]any, len(groups))
	for i := range groups {
		out[i] = map[string]any{"name": names[i], "items": groups[i]}
	}
	return out
}

func fGroupBy(f *fctx, v any, args []any) (any, error) {
	arr := toEnumerable(v)
	path, err := f.parsePropertyPath(arg(args, 0))
	if err != nil {
		return nil, err
	}
	if err := f.c.useMem(len(arr)); err != nil {
		return nil, err
	}
	keys := make([]any, len(arr))
	for i, item := range arr {
		k, err := f.evalPathOn(path, item)
		if err != nil {
			return nil, err
		}
		keys[i] = toValue(k)
	}
	return groupInto(keys, arr), nil
}

func fGroupByExp(f *fctx, v any, args []any) (any, error) {
	fv, err := f.compileExp(arg(args, 1))
	if err != nil {
		return nil, err
	}
	name := Stringify(arg(args, 0))
	arr := toEnumerable(v)
	if err := f.c.useMem(len(arr)); err != nil {
		return nil, err
	}
	keys := make([]any, len(arr))
	for i, item := range arr {
		k, err := f.evalExpWith(fv, name, item)
		if err != nil {
			return nil, err
		}
		keys[i] = k
	}
	return groupInto(keys, arr), nil
}

const (
	searchHas = iota
	searchFind
	searchIndex
)

func searchResult(mode, idx int, item any) any {
	switch mode {
	case searchHas:
		return idx >= 0
	case searchFind:
		if idx < 0 {
			return undef
		}
		return item
	}
	if idx < 0 {
		return undef
	}
	return float64(idx)
}

func fSearch(mode int) filterFunc {
	return func(f *fctx, v any, args []any) (any, error) {
		path, err := f.parsePropertyPath(arg(args, 0))
		if err != nil {
			return nil, err
		}
		expected := arg(args, 1)
		for i, item := range toArray(v) {
			val, err := f.evalPathOn(path, item)
			if err != nil {
				return nil, err
			}
			if matches(val, expected, expected != undef) {
				return searchResult(mode, i, item), nil
			}
		}
		return searchResult(mode, -1, nil), nil
	}
}

func fSearchExp(mode int) filterFunc {
	return func(f *fctx, v any, args []any) (any, error) {
		fv, err := f.compileExp(arg(args, 1))
		if err != nil {
			return nil, err
		}
		name := Stringify(arg(args, 0))
		for i, item := range toArray(v) {
			val, err := f.evalExpWith(fv, name, item)
			if err != nil {
				return nil, err
			}
			if isJSTruthy(val) {
				return searchResult(mode, i, item), nil
			}
		}
		return searchResult(mode, -1, nil), nil
	}
}

// isJSTruthy is JavaScript truthiness (used where LiquidJS tests `if (value)`).
func isJSTruthy(v any) bool {
	v = toValue(v)
	switch x := v.(type) {
	case nil, undefinedT:
		return false
	case bool:
		return x
	case string:
		return x != ""
	}
	if n, ok := jsvalue.Number(v); ok {
		return n != 0 && !math.IsNaN(n)
	}
	return true
}

func fUniq(f *fctx, v any, _ []any) (any, error) {
	arr := toArray(v)
	if err := f.c.useMem(len(arr)); err != nil {
		return nil, err
	}
	seen := map[groupKey]bool{}
	out := []any{}
	for _, e := range arr {
		k := keyOf(e)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, e)
	}
	return out, nil
}

// fSample is deterministic: LiquidJS shuffles randomly, which workflow code
// must not do, so sample returns the first element (or the first count).
func fSample(f *fctx, v any, args []any) (any, error) {
	v = norm(toValue(v))
	if isNil(v) {
		return []any{}, nil
	}
	var items []any
	if arr, ok := v.([]any); ok {
		items = arr
	} else {
		for _, r := range Stringify(v) {
			items = append(items, string(r))
		}
	}
	if err := f.c.useMem(len(items)); err != nil {
		return nil, err
	}
	count := 1
	if hasArg(args, 0) {
		count = toInteger(args[0])
	}
	if count == 1 {
		if len(items) == 0 {
			return undef, nil
		}
		return items[0], nil
	}
	return append([]any{}, jsSliceArr(items, 0, count)...), nil
}

// ---------------------------------------------------------------------------
// Math filters.

func mathFn1(fn func(float64) float64) filterFunc {
	return func(_ *fctx, v any, _ []any) (any, error) { return fn(toNumber(v)), nil }
}

func mathFn2(fn func(a, b float64) float64) filterFunc {
	return func(_ *fctx, v any, args []any) (any, error) {
		b := math.NaN()
		if len(args) > 0 {
			b = toNumber(args[0])
		}
		return fn(toNumber(v), b), nil
	}
}

func jsMod(a, b float64) float64 { return math.Mod(a, b) }

func fAtLeast(_ *fctx, v any, args []any) (any, error) {
	r := toNumber(v)
	for _, a := range args {
		n := toNumber(a)
		if n > r {
			r = n
		}
	}
	return r, nil
}

func fAtMost(_ *fctx, v any, args []any) (any, error) {
	r := toNumber(v)
	for _, a := range args {
		n := toNumber(a)
		if n < r {
			r = n
		}
	}
	return r, nil
}

func fDividedBy(_ *fctx, v any, args []any) (any, error) {
	a := toNumber(v)
	b := math.NaN()
	if len(args) > 0 {
		b = toNumber(args[0])
	}
	if len(args) > 1 && toNumber(args[1]) != 0 {
		return math.Floor(a / b), nil
	}
	return a / b, nil
}

// jsRound is Math.round (half rounds towards +Infinity).
func jsRound(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	r := math.Floor(x)
	if x-r >= 0.5 {
		r++
	}
	return r
}

func fRound(_ *fctx, v any, args []any) (any, error) {
	x := toNumber(v)
	n := 0.0
	if len(args) > 0 {
		n = toNumber(args[0])
	}
	amp := math.Pow(10, n)
	return jsRound(x*amp) / amp, nil
}

// ---------------------------------------------------------------------------
// Misc filters.

func fDefault(f *fctx, v any, args []any) (any, error) {
	def := arg(args, 0)
	v = norm(toValue(v))
	switch x := v.(type) {
	case []any:
		if len(x) > 0 {
			return v, nil
		}
		return def, nil
	case string:
		if x != "" {
			return v, nil
		}
		return def, nil
	}
	if v == false && f.kw != nil && isJSTruthy(f.kw["allow_false"]) {
		return false, nil
	}
	if isFalsy(v) {
		return def, nil
	}
	return v, nil
}

func fJSON(f *fctx, v any, args []any) (any, error) {
	indent := ""
	if len(args) > 0 {
		indent = jsonIndent(args[0])
	}
	s, ok, err := jsonStringify(v, indent)
	if err != nil {
		return nil, err
	}
	if !ok {
		return undef, nil
	}
	if err := f.c.useMem(jsvalue.UTF16Len(s)); err != nil {
		return nil, err
	}
	return s, nil
}

// fJSONParse is Kibana's json_parse: JSON.parse strings, return the input
// unchanged when it is not a string or not valid JSON.
func fJSONParse(f *fctx, v any, _ []any) (any, error) {
	s, ok := v.(string)
	if !ok {
		return v, nil
	}
	if err := f.c.useMem(jsvalue.UTF16Len(s)); err != nil {
		return nil, err
	}
	out, err := jsonParse(s)
	if err != nil {
		return v, nil
	}
	return out, nil
}

// fEntries is Kibana's entries: object -> [{key, value}] (keys sorted).
func fEntries(f *fctx, v any, _ []any) (any, error) {
	m, ok := norm(v).(map[string]any)
	if !ok {
		return v, nil
	}
	if err := f.c.useMem(len(m)); err != nil {
		return nil, err
	}
	out := make([]any, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, map[string]any{"key": k, "value": m[k]})
	}
	return out, nil
}

// fPick is Kibana's pick: keep only the given dotted paths, preserving
// nesting. Arguments are several strings or a single array of strings.
func fPick(f *fctx, v any, args []any) (any, error) {
	paths := args
	if len(args) == 1 {
		if arr, ok := norm(toValue(args[0])).([]any); ok {
			paths = arr
		}
	}
	src, ok := norm(v).(map[string]any)
	if !ok {
		if arr, isArr := norm(v).([]any); isArr {
			out := make([]any, len(arr))
			for i, e := range arr {
				p, err := fPick(f, toValue(e), args)
				if err != nil {
					return nil, err
				}
				out[i] = p
			}
			return out, nil
		}
		return v, nil
	}
	out := map[string]any{}
	for _, p := range paths {
		ps, ok := toValue(p).(string)
		if !ok {
			continue
		}
		pickPath(src, out, strings.Split(ps, "."))
	}
	return out, nil
}

func pickPath(src, dst map[string]any, parts []string) {
	val, ok := src[parts[0]]
	if !ok {
		return
	}
	if len(parts) == 1 {
		dst[parts[0]] = val
		return
	}
	child, ok := norm(val).(map[string]any)
	if !ok {
		return
	}
	next, ok := dst[parts[0]].(map[string]any)
	if !ok {
		next = map[string]any{}
	}
	pickPath(child, next, parts[1:])
	if len(next) > 0 {
		dst[parts[0]] = next
	}
}

func uintptrOf(p *any) uintptr { return reflect.ValueOf(p).Pointer() }

func mapPtr(m map[string]any) uintptr { return reflect.ValueOf(m).Pointer() }
