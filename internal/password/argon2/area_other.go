//go:build !unix

package argon2

// newArea allocates n blocks on the heap (area_unix.go maps them outside
// it where it can).
func newArea(m *Memory, n uint32) { m.b = make([]block, n) }

func freeArea(m *Memory) { m.b = nil }
