package sqlstore

import "testing"

func TestRenumber(t *testing.T) {
	for _, c := range []struct {
		in     string
		offset int
		want   string
	}{
		{"DELETE FROM counters WHERE key = $1", 0, "DELETE FROM counters WHERE key = $1"},
		{"DELETE FROM counters WHERE key = $1", 7, "DELETE FROM counters WHERE key = $8"},
		{"VALUES ($1, $2, $10) AND $9", 3, "VALUES ($4, $5, $13) AND $12"},
		{"SELECT '$' || $2, $", 1, "SELECT '$' || $3, $"},
	} {
		if got := renumber(c.in, c.offset); got != c.want {
			t.Errorf("renumber(%q, %d) = %q, want %q", c.in, c.offset, got, c.want)
		}
	}
}
