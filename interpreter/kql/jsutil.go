package kql

import "github.com/secflow/secflow/interpreter/jsvalue"

// jsNumberString is JavaScript's String(n); see jsvalue.FormatNumber.
func jsNumberString(f float64) string { return jsvalue.FormatNumber(f) }

// jsParseFloat is the global parseFloat; see jsvalue.ParseFloat.
func jsParseFloat(s string) float64 { return jsvalue.ParseFloat(s) }
