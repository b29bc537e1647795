package storecache_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/sqlstore"
	"github.com/authpool/authpool/internal/storecache"
	"github.com/authpool/authpool/internal/storetest"
	"github.com/authpool/authpool/internal/userpool"
)

// valueReads counts the reads of user values that reach the store.
type valueReads struct {
	*sqlstore.Store
	n atomic.Int64
}

func (s *valueReads) ListUserValues(ctx context.Context, poolID, userID string) ([]*userpool.UserValue, error) {
	s.n.Add(1)
	return s.Store.ListUserValues(ctx, poolID, userID)
}

// A pool without fields has no user values: while the feed is up the
// cache answers so without reading them, and once a field is defined (the
// change heard) the values are read again and the new one is there; while
// the feed is down every call reads the store.
func TestValuesOfAPoolWithoutFields(t *testing.T) {
	for name, url := range storetest.DatabaseURLs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st, err := sqlstore.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			now := time.Now().UTC().Truncate(time.Second)
			if err := st.CreatePool(ctx, &userpool.Pool{ID: "pv", Name: "pv", Settings: userpool.DefaultPoolSettings(), CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
			u := &userpool.User{PoolID: "pv", ID: "u1", Email: "v@example.com", CreatedAt: now, UpdatedAt: now}
			if err := st.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			reads := &valueReads{Store: st}
			c := storecache.New(reads, false)
			st.SetChangeWatcher(c)
			c.Up()
			list := func() []*userpool.UserValue {
				t.Helper()
				vals, err := c.ListUserValues(ctx, "pv", "u1")
				if err != nil {
					t.Fatal(err)
				}
				return vals
			}
			for range 3 {
				if vals := list(); len(vals) != 0 {
					t.Fatalf("values of a pool without fields: %v", vals)
				}
			}
			if n := reads.n.Load(); n != 0 {
				t.Fatalf("%d reads of the values of a pool without fields, want 0", n)
			}

			if err := st.CreateField(ctx, &userpool.Field{PoolID: "pv", Key: "bio", DataType: userpool.TypeString, Label: "Bio", CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
			if err := st.SetUserValues(ctx, "pv", "u1", []*userpool.UserValue{{Key: "bio", DataType: userpool.TypeString, Value: `"hi"`, UpdatedAt: now}}); err != nil {
				t.Fatal(err)
			}
			if vals := list(); len(vals) != 1 || vals[0].Key != "bio" || vals[0].Value != `"hi"` {
				t.Fatalf("values after a field was defined: %v", vals)
			}
			if n := reads.n.Load(); n != 1 {
				t.Fatalf("%d reads of the values once the pool has a field, want 1", n)
			}

			c.Down()
			reads.n.Store(0)
			list()
			list()
			if n := reads.n.Load(); n != 2 {
				t.Fatalf("%d reads of the values while the feed is down, want 2", n)
			}
		})
	}
}
