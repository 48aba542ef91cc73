package datastep

import (
	"math"
	"sort"
	"strings"

	"github.com/secflow/secflow/interpreter/jsvalue"
)

const maxAggregateItems = 100000

type metric struct {
	name      string
	operation string
	field     string
}

type bucketRange struct {
	from, to *float64
	label    string
	hasLabel bool
}

type bucketConfig struct {
	field  string
	ranges []bucketRange
}

// getFieldValue follows a dotted path through objects.
func getFieldValue(item any, field string) (any, bool) {
	cur := item
	for _, p := range strings.Split(field, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		v, ok := m[p]
		if !ok {
			return nil, false
		}
		cur = v
	}
	return cur, true
}

// parseMetrics accepts both Kibana shapes: the current array
// [{name, operation, field}] and the older record {name: {type, field}}.
func parseMetrics(raw any) ([]metric, error) {
	var out []metric
	switch x := raw.(type) {
	case []any:
		if len(x) == 0 {
			return nil, fail("metrics must be a non-empty array")
		}
		for _, e := range x {
			m, _ := e.(map[string]any)
			name, _ := m["name"].(string)
			op, _ := m["operation"].(string)
			field, _ := m["field"].(string)
			out = append(out, metric{name: name, operation: op, field: field})
		}
	case map[string]any:
		if len(x) == 0 {
			return nil, fail("metrics must be a non-empty object")
		}
		for _, k := range sortedKeys(x) {
			m, _ := x[k].(map[string]any)
			op, _ := m["type"].(string)
			if op == "" {
				op, _ = m["operation"].(string)
			}
			field, _ := m["field"].(string)
			out = append(out, metric{name: k, operation: op, field: field})
		}
	default:
		return nil, fail("metrics must be a non-empty object")
	}
	for _, m := range out {
		switch m.operation {
		case "count":
		case "sum", "avg", "min", "max":
			if m.field == "" {
				return nil, fail(`Metric "%s" uses operation "%s" but no field was provided. Only "count" does not require a field.`, m.name, m.operation)
			}
		default:
			return nil, fail(`Metric "%s" has unsupported operation "%s". Supported operations: count, sum, avg, min, max.`, m.name, m.operation)
		}
	}
	return out, nil
}

func parseGroupBy(raw any) ([]string, error) {
	switch x := raw.(type) {
	case string:
		if x != "" {
			return []string{x}, nil
		}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		if len(out) > 0 {
			return out, nil
		}
	}
	return nil, fail("group_by must be a non-empty string or array of strings")
}

func parseBuckets(raw any) (*bucketConfig, error) {
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, nil
	}
	cfg := &bucketConfig{}
	cfg.field, _ = m["field"].(string)
	ranges, _ := m["ranges"].([]any)
	if cfg.field == "" || len(ranges) == 0 {
		return nil, fail("buckets must have a field and at least one range")
	}
	for _, r := range ranges {
		rm, _ := r.(map[string]any)
		var br bucketRange
		if f, ok := jsvalue.Number(rm["from"]); ok {
			br.from = &f
		}
		if f, ok := jsvalue.Number(rm["to"]); ok {
			br.to = &f
		}
		if l, ok := rm["label"].(string); ok {
			br.label, br.hasLabel = l, true
		}
		cfg.ranges = append(cfg.ranges, br)
	}
	return cfg, nil
}

func (b *bucketConfig) assign(item any) (string, bool) {
	v, _ := getFieldValue(item, b.field)
	f, ok := jsvalue.Number(v)
	if !ok || math.IsNaN(f) {
		return "", false
	}
	for _, r := range b.ranges {
		if (r.from == nil || f >= *r.from) && (r.to == nil || f < *r.to) {
			if r.hasLabel {
				return r.label, true
			}
			switch {
			case r.from != nil && r.to != nil:
				return jsString(*r.from) + "-" + jsString(*r.to), true
			case r.from != nil:
				return jsString(*r.from) + "+", true
			case r.to != nil:
				return "<" + jsString(*r.to), true
			}
			return "*", true
		}
	}
	return "", false
}

func computeMetric(items []any, m metric) any {
	if m.operation == "count" {
		return float64(len(items))
	}
	var vals []float64
	for _, it := range items {
		v, _ := getFieldValue(it, m.field)
		if f, ok := jsvalue.Number(v); ok && !math.IsNaN(f) {
			vals = append(vals, f)
		}
	}
	if len(vals) == 0 {
		return nil
	}
	switch m.operation {
	case "sum", "avg":
		sum := 0.0
		for _, v := range vals {
			sum += v
		}
		if m.operation == "avg" {
			return sum / float64(len(vals))
		}
		return sum
	case "min":
		r := vals[0]
		for _, v := range vals[1:] {
			if v < r {
				r = v
			}
		}
		return r
	}
	r := vals[0]
	for _, v := range vals[1:] {
		if v > r {
			r = v
		}
	}
	return r
}

// compareValues orders two scalar values like JavaScript's < and >.
func compareValues(a, b any) int {
	fa, aNum := jsvalue.Number(a)
	fb, bNum := jsvalue.Number(b)
	if aNum && bNum {
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	}
	sa, bs := jsString(a), jsString(b)
	return strings.Compare(sa, bs)
}

func runAggregate(c Call) (any, error) {
	items, err := c.config("items")
	if err != nil {
		return nil, err
	}
	arr, ok := items.([]any)
	if !ok {
		return nil, fail("Expected items to be an array, but received %s.", jsvalue.TypeOf(items))
	}
	if len(arr) == 0 {
		return []any{}, nil
	}
	if len(arr) > maxAggregateItems {
		return nil, fail("Input array has %d items, exceeding the maximum of %d.", len(arr), maxAggregateItems)
	}
	in, err := c.input()
	if err != nil {
		return nil, err
	}
	groupBy, err := parseGroupBy(in["group_by"])
	if err != nil {
		return nil, err
	}
	metrics, err := parseMetrics(in["metrics"])
	if err != nil {
		return nil, err
	}
	buckets, err := parseBuckets(in["buckets"])
	if err != nil {
		return nil, err
	}
	orderBy, _ := in["order_by"].(string)
	if orderBy == "" {
		orderBy, _ = in["sort_by"].(string)
	}
	order, _ := in["order"].(string)
	if order == "" {
		order, _ = in["sort_order"].(string)
	}
	limit := 0
	if f, ok := jsvalue.Number(in["limit"]); ok && f > 0 {
		limit = int(math.Ceil(f))
	}

	type group struct {
		values []any
		items  []any
	}
	keys := append([]string{}, groupBy...)
	if buckets != nil {
		keys = append(keys, "_bucket")
	}
	index := map[string]*group{}
	var order2 []string
	for _, item := range arr {
		var bucket string
		if buckets != nil {
			b, ok := buckets.assign(item)
			if !ok {
				continue
			}
			bucket = b
		}
		vals := make([]any, len(keys))
		parts := make([]string, len(keys))
		for i, k := range keys {
			var v any
			if k == "_bucket" && buckets != nil {
				v = bucket
			} else {
				v, _ = getFieldValue(item, k)
			}
			vals[i] = v
			parts[i] = stableJSON(v, true)
		}
		key := strings.Join(parts, "\x00")
		g, ok := index[key]
		if !ok {
			g = &group{values: vals}
			index[key] = g
			order2 = append(order2, key)
		}
		g.items = append(g.items, item)
	}
	results := make([]map[string]any, 0, len(order2))
	for _, k := range order2 {
		g := index[k]
		rec := make(map[string]any, len(keys)+len(metrics))
		for i, key := range keys {
			rec[key] = g.values[i]
		}
		for _, m := range metrics {
			rec[m.name] = computeMetric(g.items, m)
		}
		results = append(results, rec)
	}
	if orderBy != "" {
		desc := order == "desc"
		sort.SliceStable(results, func(i, j int) bool {
			a, b := results[i][orderBy], results[j][orderBy]
			switch {
			case a == nil && b == nil:
				return false
			case a == nil:
				return false
			case b == nil:
				return true
			}
			c := compareValues(a, b)
			if desc {
				c = -c
			}
			return c < 0
		})
	}
	if limit > 0 && limit < len(results) {
		results = results[:limit]
	}
	out := make([]any, len(results))
	for i, r := range results {
		out[i] = r
	}
	return out, nil
}
