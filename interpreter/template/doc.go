// Package template implements the templating language of Elastic Workflows
// (§4 of the semantics spec): Liquid behaving like LiquidJS 10.x as Kibana
// configures it (strictFilters, lax variables, ownPropertyOnly, a tag
// allow-list, parse/render/memory limits and Kibana's json_parse, entries
// and pick filters), plus the type-preserving "${{ }}" expressions and the
// recursive renderer Kibana applies to step `with` blocks.
//
// # Why not github.com/osteele/liquid
//
// The team pinned osteele/liquid v1.6.0, and its parser, expression and
// filter packages were evaluated. It models Shopify/Ruby Liquid and could not
// be bent to LiquidJS in the places that decide observable values:
// comparisons cannot take filtered operands and and/or are left-associative
// (LiquidJS: right-associative, filters after the whole expression); arrays
// and numbers print Go-style; there are no hooks to count render work or
// allocations (LiquidJS renderLimit/memoryLimit); unknown-filter, tag and
// limit errors carry different texts; there is no `echo`, `liquid`,
// `increment`/`decrement` semantics of LiquidJS, no *_exp filters, no
// undefined/null distinction, and Go map iteration order leaks into output.
// The package therefore contains its own small Liquid implementation
// (scanner.go, lexer.go, parse.go, render.go) ported from LiquidJS's
// tokenizer, operators and filters, and does not import osteele/liquid.
//
// # Behaviour (matches Kibana/LiquidJS)
//
//   - Unknown filters fail at parse time with "undefined filter: <name>";
//     error texts never carry LiquidJS's ", line:N, col:M" suffix.
//   - Missing variables and properties are undefined and render as "".
//   - Only own properties are visible: obj.constructor, __proto__ and
//     toString are undefined unless the object really has such a key.
//   - Tags: assign, for, capture, case, comment, decrement, increment, cycle,
//     if, unless, break, continue, raw, echo, liquid and inline comments.
//     Other tags fail with `tag "<name>" not found`; templates matching
//     /\{%-?\s*(include|render|layout)\s/i fail first with
//     "Template contains unsupported tags.".
//   - Limits: "parse length limit exceeded" (ParseLimit characters),
//     "memory alloc limit exceeded" (MemoryLimit units charged like LiquidJS:
//     ranges, array/string filters, json output) and
//     "template render limit exceeded" (see below).
//   - {{ }} output is stringified like LiquidJS (Stringify): arrays are
//     concatenated, objects print "[object Object]", numbers like JS String(n),
//     dates like Date.prototype.toString in UTC.
//   - Truthiness: only false, nil and undefined are falsy. `==` compares
//     arrays element-wise and objects by identity; `empty`, `blank` and `nil`
//     literals behave like LiquidJS drops; relational operators follow
//     JavaScript's abstract comparison; and/or are right-associative.
//   - Property access: a.size/a.length/a.first/a.last, a[1], a[-1], a.0,
//     s.size/s.length (UTF-16 units), obj.size (number of keys).
//   - Filters: the LiquidJS 10.x standard set (string, array, math, url,
//     html, base64, date, misc including where_exp/find_exp/has/group_by/sum,
//     json with indent omitting undefined members, default with allow_false,
//     date with "now"/"today") and Kibana's json_parse, entries and pick.
//   - Render/Evaluate/Check follow Kibana's templating_engine.ts (first "{{"
//     to last "}}" extraction, "The provided expression is invalid. Got: ...").
//
// # Deliberate differences
//
//   - Object keys are visited in sorted order wherever JavaScript would use
//     insertion order (for over objects, json/inspect, entries, pick, group
//     keys of objects, Render of maps).
//   - renderLimit is not measured in wall-clock time: every rendered node,
//     loop iteration, filter call and per-element filter step costs one unit
//     of work and a render may spend RenderLimit × WorkPerMillisecond units.
//     The result is deterministic, as Temporal workflow code requires.
//   - No goroutines, timers, time.Now or randomness: "now" comes from
//     Options.Now (also exposed as the `now` variable when the context has
//     none) and `sample` is deterministic: it returns the first element, or
//     the first `count` elements.
//   - Dates are formatted in UTC (Kibana's server timezone is assumed to be
//     UTC); %c, %x and %X use the en-US formats; %Z prints the zone name
//     ("UTC"). Date strings are parsed for ISO 8601 and common RFC 1123/2822,
//     Date.toString and US forms; strings V8 would accept beyond these are
//     treated as invalid (the filter returns its input, as LiquidJS does for
//     invalid dates). A timezone argument may be minutes (JS sign), "+HH:MM"
//     or an IANA name.
//   - Evaluate returns JSON-like Go values: undefined becomes nil (and is
//     dropped from objects), NaN and ±Infinity become nil, dates become their
//     JSON (ISO 8601) strings, LiquidJS literal drops become their primitive
//     values. Results may share structure with the context.
//   - Numbers are float64 (int, int64 and json.Number inputs are accepted);
//     other Go types in the context (typed slices/maps, structs) are
//     converted to the JSON-like model when read.
//   - Keyword filter arguments are only meaningful for default (allow_false);
//     LiquidJS would pass [key, value] pairs to other filters.
//   - increment/decrement keep their counters per render instead of writing
//     into the caller's context map; a root variable named size/first/last
//     that does not exist is undefined.
//   - Case mapping uses Go's Unicode tables (e.g. "ß" | upcase stays "ß",
//     JavaScript gives "SS"); url_encode/url_decode fail with "URI malformed"
//     on invalid UTF-8; base64_decode is lenient like Node's Buffer.
//   - Syntax error texts other than the ones listed above follow LiquidJS's
//     wording but are not guaranteed byte-identical (LiquidJS snapshots and
//     positions differ).
//
// # Concurrency and cost
//
// An Engine is safe for concurrent use; parsed templates are cached (up to
// 512 distinct sources). Rendering a typical step `with` block costs about
// 50 µs (see BenchmarkRenderWith).
package template
