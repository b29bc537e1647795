package authingcompat

// docCost is what one document asks of the server, measured before it
// runs: for its largest operation, the selections it expands to and its
// introspection fields; and whether every operation asks for nothing but
// introspection (its answer may then be cached, if the engine too ran
// nothing else: call.cacheable, limits.go).
type docCost struct {
	selections        int
	introspection     int
	introspectionOnly bool
}

// measure counts the selections of each operation as the engine expands
// them: every field (aliased duplicates too), every fragment spread and
// inline fragment, and the contents of a named fragment each time it is
// spread. It stops counting an operation once it passes limit, so a chain
// of fragments that doubles at each step costs no more than limit steps.
// Fragment cycles (which the engine refuses) are not followed.
func (d *document) measure(limit int) docCost {
	c := docCost{introspectionOnly: true}
	for _, op := range d.ops {
		w := costWalk{d: d, limit: limit, active: map[string]bool{}}
		w.walk(op, true)
		c.selections = max(c.selections, w.selections)
		c.introspection = max(c.introspection, w.introspection)
		c.introspectionOnly = c.introspectionOnly && w.onlyIntrospection
	}
	return c
}

type costWalk struct {
	d                 *document
	limit             int
	active            map[string]bool
	selections        int
	introspection     int
	onlyIntrospection bool
	sawRoot           bool
}

func (w *costWalk) walk(sels []selection, root bool) {
	if root && !w.sawRoot {
		w.sawRoot, w.onlyIntrospection = true, true
	}
	for _, s := range sels {
		if w.selections > w.limit {
			return
		}
		w.selections++
		switch {
		case s.spread != "":
			frag, ok := w.d.frags[s.spread]
			if !ok || w.active[s.spread] {
				continue // the engine refuses both
			}
			w.active[s.spread] = true
			w.walk(frag, root)
			delete(w.active, s.spread)
		case s.name == "":
			w.walk(s.sels, root)
		default:
			if s.name == "__schema" || s.name == "__type" {
				w.introspection++
			} else if root && s.name != "__typename" {
				w.onlyIntrospection = false
			}
			w.walk(s.sels, false)
		}
	}
}
