package sqlstore

import (
	"fmt"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/storetest"
	"github.com/authpool/authpool/internal/userpool"
)

// TestImportKeepsStatisticsFresh: on PostgreSQL an import analyzes the
// tables it fills once the rows it imported double, so the batch lookups
// are planned for the rows there are, not for the empty tables the import
// began with (with autovacuum off they were never analyzed, and each
// batch scanned the whole pool: docs/BENCHMARKS.md, bulk import).
func TestImportKeepsStatisticsFresh(t *testing.T) {
	url, ok := storetest.DatabaseURLs(t)["postgres"]
	if !ok {
		t.Skip("PostgreSQL only")
	}
	s := open(t, url)
	ctx := t.Context()
	if err := s.CreatePool(ctx, &userpool.Pool{ID: "p1", Name: "p1"}); err != nil {
		t.Fatal(err)
	}
	analyzed := func() bool {
		var n int
		err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_user_tables
			WHERE schemaname = current_schema() AND relname = 'user_imports' AND last_analyze IS NOT NULL`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	batch := func(from, n int) []*userpool.ImportItem {
		var items []*userpool.ImportItem
		for i := from; i < from+n; i++ {
			items = append(items, &userpool.ImportItem{ExternalID: fmt.Sprint(i),
				User: &userpool.User{Email: fmt.Sprintf("u%d@example.com", i), EmailVerified: true}})
		}
		return items
	}
	if err := s.ImportUsers(ctx, "p1", "src", batch(0, 999), false); err != nil {
		t.Fatal(err)
	}
	if analyzed() {
		t.Fatal("analyzed before 1,000 rows were imported")
	}
	if err := s.ImportUsers(ctx, "p1", "src", batch(999, 1), false); err != nil {
		t.Fatal(err)
	}
	// The statistics collector reports with a delay of its own.
	for i := 0; !analyzed(); i++ {
		if i == 100 {
			t.Fatal("user_imports not analyzed after 1,000 imported rows")
		}
		_, _ = s.read.ExecContext(ctx, "SELECT pg_stat_clear_snapshot()")
		time.Sleep(50 * time.Millisecond)
	}
}
