package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/authpool/authpool/internal/userpool"
)

// GetTransportKey reads the key stored for purpose.
func (s *Store) GetTransportKey(ctx context.Context, purpose string) (*userpool.TransportKey, error) {
	k, err := s.transportKey(ctx, s.read, purpose)
	if err != nil && !errors.Is(err, userpool.ErrNotFound) {
		return nil, fmt.Errorf("sqlstore: get transport key: %w", err)
	}
	return k, err
}

func (s *Store) transportKey(ctx context.Context, q queryer, purpose string) (*userpool.TransportKey, error) {
	k := &userpool.TransportKey{Purpose: purpose}
	err := q.QueryRowContext(ctx, s.d.q("SELECT private_pem, created_at FROM transport_keys WHERE purpose = ?"), purpose).
		Scan(&k.PrivatePEM, timeDest{&k.CreatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userpool.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return k, nil
}

// EnsureTransportKey inserts k unless its purpose already has a key (the
// primary key turns a concurrent second insert into a no-op), then reads
// the stored key from the writer, which has seen whichever insert won.
func (s *Store) EnsureTransportKey(ctx context.Context, k *userpool.TransportKey) (*userpool.TransportKey, error) {
	if k.Purpose == "" || len(k.PrivatePEM) == 0 {
		return nil, errors.New("sqlstore: ensure transport key: purpose and key are required")
	}
	created := k.CreatedAt
	if created.IsZero() {
		created = s.now()
	}
	if _, err := s.write.ExecContext(ctx, s.d.q("INSERT INTO transport_keys (purpose, private_pem, created_at) VALUES (?, ?, ?) ON CONFLICT (purpose) DO NOTHING"),
		k.Purpose, k.PrivatePEM, s.d.timeArg(s.d.norm(created))); err != nil {
		return nil, fmt.Errorf("sqlstore: ensure transport key: %w", err)
	}
	got, err := s.transportKey(ctx, s.write, k.Purpose)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: ensure transport key: %w", err)
	}
	return got, nil
}
