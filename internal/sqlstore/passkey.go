package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/authpool/authpool/internal/userpool"
)

const passkeyColumns = "id, pool_id, user_id, credential_id, public_key, attestation_type, attestation_format, aaguid, sign_count, transports, " +
	"user_present, user_verified, backup_eligible, backup_state, name, created_at, last_used_at"

// passkeyRow scans a passkey; the counter and the transports need a
// conversion.
type passkeyRow struct {
	p          userpool.Passkey
	count      int64
	transports string
}

func (r *passkeyRow) dest() []any {
	p := &r.p
	return []any{&p.ID, &p.PoolID, &p.UserID, &p.CredentialID, &p.PublicKey, &p.AttestationType, &p.AttestationFormat, &p.AAGUID,
		&r.count, &r.transports, boolDest{&p.UserPresent}, boolDest{&p.UserVerified}, boolDest{&p.BackupEligible}, boolDest{&p.BackupState},
		&p.Name, timeDest{&p.CreatedAt}, timeDest{&p.LastUsedAt}}
}

func (r *passkeyRow) passkey() *userpool.Passkey {
	p := r.p
	p.SignCount = uint32(r.count)
	if r.transports != "" {
		p.Transports = strings.Split(r.transports, ",")
	}
	return &p
}

// CreatePasskey inserts p; the unique index on (pool, credential id) turns
// a second registration of one credential into a no-op, reported as
// ErrPasskeyExists.
func (s *Store) CreatePasskey(ctx context.Context, p *userpool.Passkey, recs ...userpool.Record) error {
	p.CreatedAt, p.LastUsedAt = s.d.norm(p.CreatedAt), s.d.norm(p.LastUsedAt)
	return s.inTxRecords(ctx, "create passkey", recs, func(q queryer) error {
		// The limit holds under concurrent registrations: the user's row
		// is locked (PostgreSQL; SQLite's one writer serializes anyway)
		// and then the passkeys are counted in a statement of their own.
		// One statement doing both would count in the snapshot taken
		// before it waited for the lock (READ COMMITTED), missing the
		// passkey the lock's holder inserted: three of twelve racing
		// registrations at 19 passed that way on PostgreSQL.
		var one int
		err := q.QueryRowContext(ctx, s.d.q("SELECT 1 FROM users WHERE pool_id = ? AND id = ?"+s.d.forUpdate), p.PoolID, p.UserID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return userpool.ErrUserNotFound
		}
		if err != nil {
			return fmt.Errorf("sqlstore: create passkey: lock user: %w", err)
		}
		var n int
		if err := q.QueryRowContext(ctx, s.d.q("SELECT count(*) FROM passkeys WHERE pool_id = ? AND user_id = ?"), p.PoolID, p.UserID).Scan(&n); err != nil {
			return fmt.Errorf("sqlstore: create passkey: count: %w", err)
		}
		if n >= userpool.MaxPasskeys {
			return userpool.ErrTooManyPasskeys
		}
		res, err := q.ExecContext(ctx, s.d.q("INSERT INTO passkeys ("+passkeyColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (pool_id, credential_id) DO NOTHING"),
			p.ID, p.PoolID, p.UserID, p.CredentialID, p.PublicKey, p.AttestationType, p.AttestationFormat, p.AAGUID, int64(p.SignCount),
			strings.Join(p.Transports, ","), p.UserPresent, p.UserVerified, p.BackupEligible, p.BackupState, p.Name,
			s.d.timeArg(p.CreatedAt), s.d.timeArg(p.LastUsedAt))
		if s.d.foreignKeyViolation(err) {
			return userpool.ErrUserNotFound
		}
		if err := affected(res, err, "create passkey"); err != nil {
			if errors.Is(err, errNothingDone) {
				return userpool.ErrPasskeyExists
			}
			return err
		}
		return nil
	})
}

// ListPasskeys returns the user's passkeys, oldest first.
func (s *Store) ListPasskeys(ctx context.Context, poolID, userID string) ([]*userpool.Passkey, error) {
	rows, err := s.read.QueryContext(ctx, s.d.q("SELECT "+passkeyColumns+" FROM passkeys WHERE pool_id = ? AND user_id = ? ORDER BY created_at, id"), poolID, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list passkeys: %w", err)
	}
	defer rows.Close()
	var out []*userpool.Passkey
	for rows.Next() {
		var r passkeyRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, fmt.Errorf("sqlstore: list passkeys: %w", err)
		}
		out = append(out, r.passkey())
	}
	return out, rows.Err()
}

// GetPasskeyByCredential reads a passkey by its credential id.
func (s *Store) GetPasskeyByCredential(ctx context.Context, poolID string, credentialID []byte) (*userpool.Passkey, error) {
	var r passkeyRow
	err := s.read.QueryRowContext(ctx, s.d.q("SELECT "+passkeyColumns+" FROM passkeys WHERE pool_id = ? AND credential_id = ?"), poolID, credentialID).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userpool.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get passkey: %w", err)
	}
	return r.passkey(), nil
}

// RenamePasskey sets the name of one of the user's passkeys.
func (s *Store) RenamePasskey(ctx context.Context, poolID, userID, id, name string, recs ...userpool.Record) error {
	err := s.inTxRecords(ctx, "rename passkey", recs, func(q queryer) error {
		res, err := q.ExecContext(ctx, s.d.q("UPDATE passkeys SET name = ? WHERE pool_id = ? AND user_id = ? AND id = ?"), name, poolID, userID, id)
		return affected(res, err, "rename passkey")
	})
	if errors.Is(err, errNothingDone) {
		return userpool.ErrNotFound
	}
	return err
}

// DeletePasskey deletes one of the user's passkeys.
func (s *Store) DeletePasskey(ctx context.Context, poolID, userID, id string, recs ...userpool.Record) error {
	err := s.inTxRecords(ctx, "delete passkey", recs, func(q queryer) error {
		res, err := q.ExecContext(ctx, s.d.q("DELETE FROM passkeys WHERE pool_id = ? AND user_id = ? AND id = ?"), poolID, userID, id)
		return affected(res, err, "delete passkey")
	})
	if errors.Is(err, errNothingDone) {
		return userpool.ErrNotFound
	}
	return err
}

// usePasskey moves a passkey's counter inside a login's transaction, only
// from the value the login verified against: of two logins racing with
// one passkey, one matches the row and the other's whole write fails.
func (s *Store) usePasskey(ctx context.Context, q queryer, r *userpool.PasskeyUse) error {
	res, err := q.ExecContext(ctx, s.d.q("UPDATE passkeys SET sign_count = ?, backup_state = ?, user_verified = ?, last_used_at = ? WHERE pool_id = ? AND id = ? AND sign_count = ?"),
		int64(r.SignCount), r.BackupState, r.UserVerified, s.d.timeArg(s.d.norm(r.At)), r.PoolID, r.ID, int64(r.Prev))
	if err := affected(res, err, "use passkey"); err != nil {
		if errors.Is(err, errNothingDone) {
			return userpool.ErrPasskeyChanged
		}
		return err
	}
	return nil
}

// CreateWebAuthnCeremony stores c.
func (s *Store) CreateWebAuthnCeremony(ctx context.Context, c *userpool.WebAuthnCeremony) error {
	c.CreatedAt, c.ExpiresAt = s.d.norm(c.CreatedAt), s.d.norm(c.ExpiresAt)
	_, err := s.write.ExecContext(ctx, s.d.q("INSERT INTO webauthn_ceremonies (id, pool_id, purpose, user_id, binding, session, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
		c.ID, c.PoolID, c.Purpose, c.UserID, c.Binding, c.Session, s.d.timeArg(c.CreatedAt), s.d.timeArg(c.ExpiresAt))
	if err != nil {
		return fmt.Errorf("sqlstore: create webauthn ceremony: %w", err)
	}
	return nil
}

// TakeWebAuthnCeremony is one DELETE ... RETURNING: of two finishes of one
// ceremony, on any replicas, one gets the row.
func (s *Store) TakeWebAuthnCeremony(ctx context.Context, poolID, id string) (*userpool.WebAuthnCeremony, error) {
	c := new(userpool.WebAuthnCeremony)
	err := s.write.QueryRowContext(ctx, s.d.q("DELETE FROM webauthn_ceremonies WHERE pool_id = ? AND id = ? RETURNING id, pool_id, purpose, user_id, binding, session, created_at, expires_at"),
		poolID, id).Scan(&c.ID, &c.PoolID, &c.Purpose, &c.UserID, &c.Binding, &c.Session, timeDest{&c.CreatedAt}, timeDest{&c.ExpiresAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userpool.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: take webauthn ceremony: %w", err)
	}
	return c, nil
}
