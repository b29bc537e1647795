package sqlstore

import (
	"testing"
	"time"

	"github.com/authpool/authpool/internal/storetest"
	"github.com/authpool/authpool/internal/userpool"
)

// TestCounts: a store opened with Counts counts each statement it sends
// (plain, prepared, in a transaction) and each transaction, on both
// backends; the benchmarks' round-trip figures rest on it.
func TestCounts(t *testing.T) {
	for backend, url := range storetest.DatabaseURLs(t) {
		t.Run(backend, func(t *testing.T) {
			var c Counts
			s, err := OpenWith(t.Context(), url, OpenOptions{Counts: &c})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			now := time.Now().UTC()
			p := &userpool.Pool{ID: "pc", Name: "c", CreatedAt: now}
			if err := s.CreatePool(t.Context(), p); err != nil {
				t.Fatal(err)
			}
			u := &userpool.User{ID: "uc", PoolID: p.ID, Email: "c@example.com", CreatedAt: now, UpdatedAt: now}
			if err := s.CreateUser(t.Context(), u); err != nil {
				t.Fatal(err)
			}
			sess := &userpool.Session{ID: "sc", PoolID: p.ID, UserID: u.ID, ExpiresAt: now.Add(time.Hour)}
			if err := s.CreateSession(t.Context(), sess); err != nil {
				t.Fatal(err)
			}
			delta := func(name string, wantStmts, wantTxs int64, fn func() error) {
				t.Helper()
				s0, t0 := c.Statements.Load(), c.Transactions.Load()
				if err := fn(); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if got := c.Statements.Load() - s0; got != wantStmts {
					t.Errorf("%s: %d statements, want %d", name, got, wantStmts)
				}
				if got := c.Transactions.Load() - t0; got != wantTxs {
					t.Errorf("%s: %d transactions, want %d", name, got, wantTxs)
				}
			}
			delta("GetSession (prepared)", 1, 0, func() error { _, err := s.GetSession(t.Context(), "sc"); return err })
			delta("GetSessionUser with values", 1, 0, func() error { _, _, _, err := s.GetSessionUser(t.Context(), "sc", true); return err })
			delta("GetUser (plain)", 1, 0, func() error { _, err := s.GetUser(t.Context(), p.ID, u.ID); return err })
			delta("GetSessionUser of nothing (the fallback read)", 2, 0, func() error {
				if _, _, _, err := s.GetSessionUser(t.Context(), "none", false); err != userpool.ErrSessionNotFound {
					t.Errorf("GetSessionUser(none): %v", err)
				}
				return nil
			})
			delta("UpdateUser (read and write in one transaction)", 2, 1, func() error {
				_, err := s.UpdateUser(t.Context(), p.ID, u.ID, func(x *userpool.User) error { x.LoginsCount++; return nil })
				return err
			})
		})
	}
}
