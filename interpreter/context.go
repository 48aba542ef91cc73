package interpreter

// This file builds the template context of §4.6 and computes, statically
// from the definition tree, which steps are graph predecessors of which
// (§3: steps.* shows predecessors only).

// branchKey says that a step sits in branch `branch` of the exclusive
// container with pre-order index `owner` (if/else, switch cases, parallel
// branches).
type branchKey struct{ owner, branch int }

// stepInfo is the static position of a step in the definition.
type stepInfo struct {
	idx   int // pre-order index
	end   int // one past the last pre-order index of its subtree
	chain []branchKey
}

// layout indexes every step of a definition.
type layout struct {
	info   map[*Step]*stepInfo
	byName map[string]*Step
}

// newLayout walks def in document order. Children come in this order:
// steps, else, cases, default, branches, fallback, iteration fallback, so a
// step's fallback steps follow its normal path as in Kibana's graph.
func newLayout(def *Definition) *layout {
	l := &layout{info: map[*Step]*stepInfo{}, byName: map[string]*Step{}}
	n := 0
	var walk func(steps []*Step, chain []branchKey)
	walk = func(steps []*Step, chain []branchKey) {
		for _, s := range steps {
			if s == nil {
				continue
			}
			if _, seen := l.info[s]; seen {
				continue
			}
			in := &stepInfo{idx: n, chain: chain}
			n++
			l.info[s] = in
			if _, dup := l.byName[s.Name]; !dup {
				l.byName[s.Name] = s
			}
			sub := func(b int) []branchKey {
				c := make([]branchKey, len(chain), len(chain)+1)
				copy(c, chain)
				return append(c, branchKey{owner: in.idx, branch: b})
			}
			switch {
			case s.Type == "if":
				walk(s.Steps, sub(0))
				walk(s.Else, sub(1))
			case s.Type == "switch":
				for i, c := range s.Cases {
					walk(c.Steps, sub(i))
				}
				walk(s.Default, sub(len(s.Cases)))
			case s.Type == "parallel" && len(s.Branches) > 0:
				for i, b := range s.Branches {
					walk(b.Steps, sub(i))
				}
			default:
				walk(s.Steps, chain)
				walk(s.Else, chain)
			}
			if s.OnFailure != nil {
				walk(s.OnFailure.Fallback, chain)
			}
			if s.IterationOnFailure != nil {
				walk(s.IterationOnFailure.Fallback, chain)
			}
			in.end = n
		}
	}
	walk(def.Steps, nil)
	if def.Settings.OnFailure != nil {
		walk(def.Settings.OnFailure.Fallback, nil)
	}
	return l
}

// viewer is the point of view of a template rendering: the step about to
// run (self=false), or a point just after it ran with its whole subtree
// visible (self=true: while conditions, retry/continue conditions,
// workflow-level fallbacks).
type viewer struct {
	at   *Step
	self bool
}

// compatible reports whether no exclusive container puts a and b on
// different branches.
func compatible(a, b []branchKey) bool {
	for _, x := range a {
		for _, y := range b {
			if x.owner == y.owner && x.branch != y.branch {
				return false
			}
		}
	}
	return true
}

// visible reports whether the result of step t is visible from v.
func (l *layout) visible(t *Step, v viewer) bool {
	ti, ok := l.info[t]
	if !ok || v.at == nil {
		return false
	}
	vi, ok := l.info[v.at]
	if !ok {
		return false
	}
	if t == v.at {
		return v.self
	}
	if ti.idx > vi.idx && ti.idx < vi.end {
		// t is inside v.at's subtree: visible once v.at ran, or when v.at
		// is a container rendering for its own body (not the case here).
		return v.self
	}
	return ti.idx < vi.idx && compatible(ti.chain, vi.chain)
}

// isDescendant reports whether t is inside the subtree of a.
func (l *layout) isDescendant(t, a *Step) bool {
	ti, ok1 := l.info[t]
	ai, ok2 := l.info[a]
	return ok1 && ok2 && ti.idx > ai.idx && ti.idx < ai.end
}

// stepsView builds `steps` for viewer v from the results in st. Results
// stored under a synthetic name (foreach_<name>, workflow-level fallback
// clones) are resolved through aliases to the step they belong to.
func (r *run) stepsView(st *store, v viewer) map[string]any {
	out := map[string]any{}
	for _, name := range st.names() {
		res := st.get(name)
		if res == nil {
			continue
		}
		t, ok := r.layout.byName[name]
		if !ok {
			base, ok := r.aliases[name]
			if !ok {
				continue
			}
			if base != v.at && !r.layout.isDescendant(v.at, base) && !r.layout.visible(base, v) {
				continue
			}
		} else if !r.layout.visible(t, v) {
			continue
		}
		out[name] = res.value()
	}
	return out
}

// templateContext returns the context of §4.6 for a step rendered in scope
// sc from point of view v.
func (r *run) templateContext(sc *scope, v viewer) map[string]any {
	m := make(map[string]any, len(r.base)+10)
	for _, k := range keysSorted(r.base) {
		m[k] = r.base[k]
	}
	m["now"] = r.now()
	if sc.viewAs != nil {
		v = viewer{at: sc.viewAs, self: true}
	}
	m["steps"] = r.stepsView(sc.store, v)
	vars := make(map[string]any, len(r.variables))
	for _, k := range keysSorted(r.variables) {
		vars[k] = r.variables[k]
	}
	m["variables"] = vars
	if r.output != nil {
		m["output"] = r.output
	}
	if sc.foreach != nil {
		m["foreach"] = sc.foreach
	}
	if sc.while != nil {
		m["while"] = sc.while
	}
	if sc.errVal != nil {
		m["error"] = sc.errVal
	}
	return m
}
