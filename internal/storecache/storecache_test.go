package storecache_test

import (
	"context"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/sqlstore"
	"github.com/authpool/authpool/internal/storecache"
	"github.com/authpool/authpool/internal/storetest"
	"github.com/authpool/authpool/internal/userpool"
)

// slowRead is the real store whose GetPool, once armed, waits after reading
// until released: a read that raced with a change.
type slowRead struct {
	*sqlstore.Store
	read, release chan struct{}
}

func (s *slowRead) GetPool(ctx context.Context, id string) (*userpool.Pool, error) {
	p, err := s.Store.GetPool(ctx, id)
	if s.read != nil {
		close(s.read)
		<-s.release
	}
	return p, err
}

// A read that started before a change and ends after the change was heard
// must not put the old value in the cache.
func TestFillRacingAChangeIsNotKept(t *testing.T) {
	for name, url := range storetest.DatabaseURLs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st, err := sqlstore.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			p := &userpool.Pool{ID: "p1", Name: "p1", Settings: userpool.DefaultPoolSettings(), CreatedAt: time.Now().UTC()}
			if err := st.CreatePool(ctx, p); err != nil {
				t.Fatal(err)
			}
			slow := &slowRead{Store: st, read: make(chan struct{}), release: make(chan struct{})}
			c := storecache.New(slow, false)
			st.SetChangeWatcher(c)
			c.Up()
			done := make(chan *userpool.Pool)
			go func() {
				got, err := c.GetPool(ctx, "p1")
				if err != nil {
					t.Error(err)
				}
				done <- got
			}()
			<-slow.read // the old settings are read
			if _, err := st.UpdatePool(ctx, "p1", func(p *userpool.Pool) error {
				p.Settings.PasswordMinLength = 20
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			close(slow.release)
			if got := <-done; got.Settings.PasswordMinLength == 20 {
				t.Fatal("the racing read saw the new settings: the test did not race")
			}
			slow.read = nil
			got, err := c.GetPool(ctx, "p1")
			if err != nil {
				t.Fatal(err)
			}
			if got.Settings.PasswordMinLength != 20 {
				t.Fatalf("after the change: PasswordMinLength %d from the cache, want 20", got.Settings.PasswordMinLength)
			}
		})
	}
}

// While the feed is down nothing is served from memory.
func TestDownServesFromStore(t *testing.T) {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, storetest.DatabaseURLs(t)["sqlite"])
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p := &userpool.Pool{ID: "p1", Name: "p1", Settings: userpool.DefaultPoolSettings(), CreatedAt: time.Now().UTC()}
	if err := st.CreatePool(ctx, p); err != nil {
		t.Fatal(err)
	}
	c := storecache.New(st, false)
	c.Up()
	for range 2 {
		if _, err := c.GetPool(ctx, "p1"); err != nil {
			t.Fatal(err)
		}
	}
	if h, _ := c.Stats(); h != 1 {
		t.Fatalf("hits %d while up, want 1", h)
	}
	c.Down()
	for range 2 {
		if _, err := c.GetPool(ctx, "p1"); err != nil {
			t.Fatal(err)
		}
	}
	if h, m := c.Stats(); h != 1 || m != 3 {
		t.Fatalf("hits %d misses %d after down, want 1 and 3", h, m)
	}
}

// The caches keep the Store contract: the conformance suite over the
// wrapper, sessions cached, the feed up (own writes are all it hears).
func TestConformance(t *testing.T) {
	for backend := range storetest.DatabaseURLs(t) {
		t.Run(backend, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) userpool.Store {
				url := storetest.DatabaseURLs(t)[backend]
				if backend == "postgres" {
					url += "&pool_max_conns=4"
				}
				st, err := sqlstore.Open(context.Background(), url)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				c := storecache.New(st, true)
				st.SetChangeWatcher(c)
				c.Up()
				return c
			})
		})
	}
}
