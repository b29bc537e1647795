package storecache

// bounded is a map with a limit on its entries and on the sum of their
// sizes (an estimate in bytes). When a new entry would pass either, arbitrary
// entries make room; an entry larger than an eighth of the byte limit is
// not kept at all (its reads go to the store), so that one pool with huge
// pipelines cannot push out every other.
type bounded[K comparable, V any] struct {
	m               map[K]sized[V]
	used            int
	maxLen, maxSize int
}

type sized[V any] struct {
	v    V
	size int
}

func newBounded[K comparable, V any](maxLen, maxSize int) *bounded[K, V] {
	return &bounded[K, V]{m: map[K]sized[V]{}, maxLen: maxLen, maxSize: maxSize}
}

func (b *bounded[K, V]) get(k K) (V, bool) {
	e, ok := b.m[k]
	return e.v, ok
}

func (b *bounded[K, V]) put(k K, v V, size int) {
	b.del(k)
	if size > b.maxSize/8 {
		return
	}
	for k2 := range b.m {
		if len(b.m) < b.maxLen && b.used+size <= b.maxSize {
			break
		}
		b.del(k2)
	}
	b.m[k] = sized[V]{v, size}
	b.used += size
}

func (b *bounded[K, V]) del(k K) {
	if e, ok := b.m[k]; ok {
		b.used -= e.size
		delete(b.m, k)
	}
}

func (b *bounded[K, V]) clear() {
	clear(b.m)
	b.used = 0
}

// keys lists the keys.
func (b *bounded[K, V]) keys() []K {
	ks := make([]K, 0, len(b.m))
	for k := range b.m {
		ks = append(ks, k)
	}
	return ks
}
