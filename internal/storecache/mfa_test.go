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

// flagReads counts the reads of users' MFA flags that reach the store.
type flagReads struct {
	*sqlstore.Store
	n atomic.Int64
}

func (s *flagReads) MFARequiredFor(ctx context.Context, poolID, userID string) (bool, error) {
	s.n.Add(1)
	return s.Store.MFARequiredFor(ctx, poolID, userID)
}

// TestMFAFlagOfAPoolWithoutOne (PostgreSQL): while nobody in a pool is
// required to pass MFA, the cache answers false without reading the
// user's flag; when another replica requires it of a user (heard through
// the change feed, migration 0023's trigger), this replica reads the flag
// again and sees it; turned off again, the reads stop.
func TestMFAFlagOfAPoolWithoutOne(t *testing.T) {
	url, ok := storetest.DatabaseURLs(t)["postgres"]
	if !ok {
		t.Skip("AUTHPOOL_TEST_POSTGRES_URL not set")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := sqlstore.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	other, err := sqlstore.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	now := time.Now().UTC().Truncate(time.Second)
	if err := st.CreatePool(ctx, &userpool.Pool{ID: "pm", Name: "pm", Settings: userpool.DefaultPoolSettings(), CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"u1", "u2"} {
		if err := st.CreateUser(ctx, &userpool.User{PoolID: "pm", ID: id, Email: id + "@example.com", CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	reads := &flagReads{Store: st}
	c := storecache.New(reads, false)
	st.SetChangeWatcher(c)
	go st.WatchChanges(ctx, c)
	deadline := time.Now().Add(10 * time.Second)
	for up, _ := c.Listening(); !up; up, _ = c.Listening() {
		if time.Now().After(deadline) {
			t.Fatal("the change feed never came up")
		}
		time.Sleep(10 * time.Millisecond)
	}
	flag := func(user string) bool {
		t.Helper()
		v, err := c.MFARequiredFor(ctx, "pm", user)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for range 3 {
		if flag("u1") || flag("u2") {
			t.Fatal("required with no flag set")
		}
	}
	if n := reads.n.Load(); n != 0 {
		t.Fatalf("%d reads of the flag in a pool where nobody has it, want 0", n)
	}

	// Another replica requires it of u1: heard, then read per user.
	if err := other.SetMFARequired(ctx, "pm", "u1", true); err != nil {
		t.Fatal(err)
	}
	for !flag("u1") {
		if time.Now().After(deadline) {
			t.Fatal("the other replica's flag was never seen")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if flag("u2") {
		t.Fatal("u2 required too")
	}
	if reads.n.Load() == 0 {
		t.Fatal("no read of the flag once a user of the pool has it")
	}

	// Off again: the pool is back to no reads.
	if err := other.SetMFARequired(ctx, "pm", "u1", false); err != nil {
		t.Fatal(err)
	}
	// Once the change is heard (the flag read false may come first, from
	// the user's row), a call reads nothing.
	for {
		before := reads.n.Load()
		if flag("u1") || flag("u2") {
			t.Fatal("required after the flag went")
		}
		if reads.n.Load() == before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the pool's last flag going was never heard: every call still reads")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
