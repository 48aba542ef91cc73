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
