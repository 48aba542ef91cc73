// Package schema handles the JSON-schema declarations Kibana uses for
// workflow inputs and outputs: conversion from the legacy array form,
// defaults, and validation with Kibana's error texts.
package schema

// Schema is a JSON-schema object as Kibana uses it for inputs and outputs.
type Schema struct {
	// Properties maps a property name to its JSON-schema (type, enum,
	// default, description, items, properties, minItems, maxItems, $ref...).
	Properties           map[string]map[string]any `json:"properties,omitempty"`
	Required             []string                  `json:"required,omitempty"`
	AdditionalProperties *bool                     `json:"additionalProperties,omitempty"`
	Definitions          map[string]any            `json:"definitions,omitempty"`
	// Order keeps the declaration order of Properties (Go maps have none).
	Order []string `json:"order,omitempty"`
}

// FromLegacy converts the legacy array form
// ([{name,type,required,default,description,options,minItems,maxItems}]) to
// a Schema as Kibana's input_conversion.ts does.
func FromLegacy(items []any) (*Schema, error) { return &Schema{}, nil }

// FromValue accepts either form (object with "properties" => JSON-schema
// form; array => legacy) from decoded YAML.
func FromValue(v any) (*Schema, error) { return &Schema{}, nil }

// ApplyDefaults returns a copy of inputs with defaults applied.
func ApplyDefaults(s *Schema, inputs map[string]any) map[string]any { return inputs }

// Validate checks values against s; each problem is "<path>: <msg>".
func Validate(s *Schema, values map[string]any) []string { return nil }

// InputError formats problems as Kibana does:
// "Workflow input validation failed: <p1>; <p2>".
func InputError(problems []string) string { return "" }

// ValidateOutputs checks workflow.output values; "" when ok.
func ValidateOutputs(s *Schema, values map[string]any) string { return "" }
