package datastep

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/secflow/secflow/interpreter/jsvalue"
	"github.com/secflow/secflow/interpreter/template"
)

const maxJSONSource = 10 * 1024 * 1024 // 10 MB

// runParseJSON implements data.parseJson: strings are JSON.parse'd, other
// values returned as they are.
func runParseJSON(c Call) (any, error) {
	src, err := c.config("source")
	if err != nil {
		return nil, err
	}
	if src == nil {
		return nil, fail("Source is null or undefined")
	}
	s, ok := src.(string)
	if !ok {
		return src, nil
	}
	if len(s) > maxJSONSource {
		return nil, fail("Source exceeds maximum allowed size of 10 MB")
	}
	v, err := parseJSON(s)
	if err != nil {
		return nil, fail("Invalid JSON: %s", err.Error())
	}
	return v, nil
}

// parseJSON is JSON.parse with V8-style error messages.
func parseJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, jsonError(s, err, dec.InputOffset())
	}
	off := dec.InputOffset()
	rest := s[off:]
	if t := strings.TrimLeft(rest, " \t\r\n"); t != "" {
		pos := len(s) - len(t)
		return nil, unexpectedToken(s, pos)
	}
	return v, nil
}

func jsonError(s string, err error, off int64) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		pos := int(se.Offset) - 1
		if pos < 0 {
			pos = 0
		}
		if pos >= len(s) {
			return errors.New("Unexpected end of JSON input")
		}
		return unexpectedToken(s, pos)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("Unexpected end of JSON input")
	}
	return err
}

func unexpectedToken(s string, pos int) error {
	r, _ := utf8.DecodeRuneInString(s[pos:])
	return errors.New("Unexpected token '" + string(r) + "' in JSON at position " + jsString(float64(jsvalue.UTF16Len(s[:pos]))))
}

// runStringifyJSON implements data.stringifyJson (pretty = 2-space indent).
func runStringifyJSON(c Call) (any, error) {
	if _, ok := c.Config["source"]; !ok {
		return nil, fail("Source cannot be serialized to JSON (e.g., functions)")
	}
	src, err := c.config("source")
	if err != nil {
		return nil, err
	}
	in, err := c.input()
	if err != nil {
		return nil, err
	}
	indent := ""
	if jsvalue.Truthy(in["pretty"]) {
		indent = "  "
	}
	s, ok, err := template.JSONStringify(src, indent)
	if err != nil {
		return nil, fail("Cannot stringify source: %s", err.Error())
	}
	if !ok {
		return nil, fail("Source cannot be serialized to JSON (e.g., functions)")
	}
	return s, nil
}
