// Package schema handles the JSON-schema declarations Kibana uses for
// workflow inputs and outputs: conversion from the legacy array form,
// defaults, and validation with Kibana's error texts.
//
// It follows Kibana's field_conversion.ts (normalizeFieldsToJsonSchema,
// applyInputDefaults), build_fields_zod_validator.ts and
// workflow_output_step_impl.ts; validation messages are Zod 4's English
// messages, which is what Kibana shows.
package schema

import (
	"fmt"
	"sort"

	"github.com/secflow/secflow/interpreter/jsvalue"
	"gopkg.in/yaml.v3"
)

// Schema is a JSON-schema object as Kibana uses it for inputs and outputs.
type Schema struct {
	// Properties maps a property name to its JSON-schema (type, enum,
	// default, description, items, properties, minItems, maxItems, $ref...).
	Properties           map[string]map[string]any `json:"properties,omitempty"`
	Required             []string                  `json:"required,omitempty"`
	AdditionalProperties *bool                     `json:"additionalProperties,omitempty"`
	Definitions          map[string]any            `json:"definitions,omitempty"`
	// Defs holds "$defs" (the newer JSON-schema spelling of definitions);
	// "#/$defs/X" references resolve against it.
	Defs map[string]any `json:"$defs,omitempty"`
	// Order keeps the declaration order of Properties (Go maps have none).
	Order []string `json:"order,omitempty"`
}

// order returns the property names: Order first (those that exist), then
// any others sorted.
func (s *Schema) order() []string {
	if s == nil {
		return nil
	}
	seen := make(map[string]bool, len(s.Properties))
	out := make([]string, 0, len(s.Properties))
	for _, k := range s.Order {
		if _, ok := s.Properties[k]; ok && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	var rest []string
	for k := range s.Properties {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

func (s *Schema) isRequired(name string) bool {
	for _, r := range s.Required {
		if r == name {
			return true
		}
	}
	return false
}

// root is the schema as a JSON-like object, for "$ref" resolution.
func (s *Schema) root() map[string]any {
	props := make(map[string]any, len(s.Properties))
	for k, v := range s.Properties {
		props[k] = v
	}
	req := make([]any, len(s.Required))
	for i, r := range s.Required {
		req[i] = r
	}
	r := map[string]any{"properties": props, "required": req}
	if s.AdditionalProperties != nil {
		r["additionalProperties"] = *s.AdditionalProperties
	}
	if s.Definitions != nil {
		r["definitions"] = s.Definitions
	}
	if s.Defs != nil {
		r["$defs"] = s.Defs
	}
	return r
}

// FromLegacy converts the legacy array form
// ([{name,type,required,default,description,options,minItems,maxItems}]) to
// a Schema exactly as Kibana's input_conversion.ts does: choice becomes
// {type: string, enum: options}; array becomes {type: array, items: {anyOf:
// [string, number, boolean]}} with minItems/maxItems when given; description
// (when non-empty) and default (when present) are copied; names of entries
// with `required: true` are collected into Required; AdditionalProperties is
// false. Entries that are not objects or have no name are skipped, as in
// Kibana. Order keeps declaration order.
func FromLegacy(items []any) (*Schema, error) {
	f := false
	s := &Schema{Properties: map[string]map[string]any{}, AdditionalProperties: &f}
	for i, raw := range items {
		item, ok := normalize(raw).(map[string]any)
		if !ok {
			continue
		}
		name := jsString(item["name"])
		if !jsvalue.Truthy(item["name"]) {
			continue
		}
		typ, _ := item["type"].(string)
		prop := map[string]any{}
		switch typ {
		case "string", "number", "boolean", "array":
			prop["type"] = typ
		case "choice":
			prop["type"] = "string"
		default:
			return nil, fmt.Errorf("input %d (%s): unsupported type %q (want string, number, boolean, choice or array)", i, name, typ)
		}
		if d, ok := item["description"].(string); ok && d != "" {
			prop["description"] = d
		}
		if d, ok := item["default"]; ok {
			prop["default"] = d
		}
		switch typ {
		case "choice":
			if opts, ok := item["options"]; ok {
				prop["enum"] = opts
			}
		case "array":
			prop["items"] = map[string]any{"anyOf": []any{
				map[string]any{"type": "string"},
				map[string]any{"type": "number"},
				map[string]any{"type": "boolean"},
			}}
			if v, ok := item["minItems"]; ok {
				prop["minItems"] = v
			}
			if v, ok := item["maxItems"]; ok {
				prop["maxItems"] = v
			}
		}
		if _, dup := s.Properties[name]; !dup {
			s.Order = append(s.Order, name)
		}
		s.Properties[name] = prop
		if item["required"] == true {
			s.Required = append(s.Required, name)
		}
	}
	return s, nil
}

// FromValue accepts either form from decoded YAML or JSON: an object with a
// "properties" object is the JSON-schema form; an array is the legacy form.
// nil, and an object without "properties", give a nil Schema (Kibana then
// does not validate). A yaml.Node (or *yaml.Node) is accepted too and keeps
// the declaration order of the JSON-schema form's properties.
func FromValue(v any) (*Schema, error) {
	switch n := v.(type) {
	case *yaml.Node:
		if n == nil {
			return nil, nil
		}
		return fromNode(n)
	case yaml.Node:
		return fromNode(&n)
	}
	v = normalize(v)
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []any:
		return FromLegacy(x)
	case map[string]any:
		rawProps, ok := x["properties"]
		if !ok {
			return nil, nil
		}
		props, ok := rawProps.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("inputs: properties must be an object, got %s", typeName(rawProps))
		}
		s := &Schema{Properties: make(map[string]map[string]any, len(props))}
		for k, p := range props {
			if pm, ok := p.(map[string]any); ok {
				s.Properties[k] = pm
			}
		}
		if req, ok := x["required"].([]any); ok {
			for _, r := range req {
				if rs, ok := r.(string); ok {
					s.Required = append(s.Required, rs)
				}
			}
		}
		if ap, ok := x["additionalProperties"].(bool); ok {
			s.AdditionalProperties = &ap
		}
		if d, ok := x["definitions"].(map[string]any); ok {
			s.Definitions = d
		}
		if d, ok := x["$defs"].(map[string]any); ok {
			s.Defs = d
		}
		s.Order = s.order()
		return s, nil
	}
	return nil, fmt.Errorf("inputs: want a list of inputs or a JSON schema object, got %s", typeName(v))
}

func fromNode(n *yaml.Node) (*Schema, error) {
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, fmt.Errorf("inputs: %w", err)
	}
	s, err := FromValue(v)
	if err != nil || s == nil {
		return s, err
	}
	// Recover the declaration order of a JSON-schema form's properties.
	m := n
	if m.Kind == yaml.DocumentNode && len(m.Content) == 1 {
		m = m.Content[0]
	}
	if m.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == "properties" && m.Content[i+1].Kind == yaml.MappingNode {
				var order []string
				pm := m.Content[i+1]
				for j := 0; j+1 < len(pm.Content); j += 2 {
					order = append(order, pm.Content[j].Value)
				}
				s.Order = order
				s.Order = s.order()
			}
		}
	}
	return s, nil
}

// normalize converts decoded YAML/JSON into the JSON-like value convention:
// map[any]any and other maps become map[string]any, other slices []any.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case []map[string]any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	}
	return v
}

// jsString is String(v) for scalars; other values print as fmt.Sprint.
func jsString(v any) string {
	if s, ok := jsvalue.ScalarString(v); ok {
		return s
	}
	return fmt.Sprint(v)
}
