package storecache

import "testing"

func TestBoundedLimits(t *testing.T) {
	b := newBounded[int, string](4, 800)
	for i := range 10 {
		b.put(i, "v", 50)
		if len(b.m) > 4 || b.used > 800 {
			t.Fatalf("after %d puts: %d entries, %d bytes; limits 4 and 800", i+1, len(b.m), b.used)
		}
	}
	if _, ok := b.get(9); !ok {
		t.Fatal("the newest entry was not kept")
	}
	// At the byte limit and past it.
	b.clear()
	for i := range 8 {
		b.put(i, "v", 100) // exactly an eighth: kept
	}
	if len(b.m) != 4 || b.used != 400 {
		t.Fatalf("%d entries, %d bytes, want 4 and 400", len(b.m), b.used)
	}
	b = newBounded[int, string](100, 800)
	for i := range 9 {
		b.put(i, "v", 100)
	}
	if len(b.m) != 8 || b.used != 800 {
		t.Fatalf("%d entries, %d bytes, want 8 and 800", len(b.m), b.used)
	}
	b.put(100, "big", 101) // past an eighth: never kept, evicts nothing
	if _, ok := b.get(100); ok || len(b.m) != 8 {
		t.Fatalf("an entry past an eighth of the budget was kept (%d entries)", len(b.m))
	}
	// Replacing an entry accounts its old size.
	b.put(0, "v", 10)
	b.put(0, "v", 10)
	if _, ok := b.get(0); !ok {
		t.Fatal("replaced entry missing")
	}
	sum := 0
	for _, e := range b.m {
		sum += e.size
	}
	if sum != b.used {
		t.Fatalf("used %d, entries sum to %d", b.used, sum)
	}
}
