package sqlstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/authpool/authpool/internal/userpool"
)

// errDryRun rolls back a dry run's transaction after every item was tried.
var errDryRun = errors.New("sqlstore: dry run")

// errSlowPath makes ImportUsers try a batch again item by item.
var errSlowPath = errors.New("sqlstore: an item was refused")

// ImportUsers writes the batch in one transaction. It first writes every
// item straight on; should one be refused (a unique index), that
// transaction is rolled back and the batch is written again with a
// savepoint around each item, so that the refused one leaves the others
// written (PostgreSQL aborts the whole transaction on an error
// otherwise). Savepoints cost SQLite a sub-journal write per page, so the
// fast path is for the usual batch where nothing is refused.
func (s *Store) ImportUsers(ctx context.Context, poolID, source string, items []*userpool.ImportItem, dryRun bool, recs ...userpool.Record) error {
	saved := make([]userpool.User, len(items))
	for i, it := range items {
		saved[i] = *it.User
	}
	err := s.importBatch(ctx, poolID, source, items, dryRun, false, recs)
	if errors.Is(err, errSlowPath) {
		for i, it := range items {
			*it.User = saved[i]
			it.Status, it.UserID, it.Err = "", "", nil
		}
		err = s.importBatch(ctx, poolID, source, items, dryRun, true, recs)
	}
	if err == nil && !dryRun {
		s.analyzeAfterImport(ctx, len(items))
	}
	return err
}

// analyzeAfterImport keeps PostgreSQL's planner statistics in step with a
// bulk import. The batch lookups (external ids, emails, ids IN a list of
// 500) are planned from them: while they still describe the empty tables
// the import started with, PostgreSQL scans every row of the pool and
// source and filters the list, so each batch costs more than the last
// (measured: 472 s for the first 100,000 users, docs/BENCHMARKS.md).
// Autovacuum would analyze the tables in time, but it may be off or
// behind; so the store analyzes them itself whenever the rows this
// process imported double (1,000, 2,000, 4,000, ...): a few ANALYZE runs
// per import, each reading a fixed sample. SQLite needs none: it plans
// IN lists over an index as probes.
func (s *Store) analyzeAfterImport(ctx context.Context, n int) {
	if s.d.name != "postgres" {
		return
	}
	s.imported.mu.Lock()
	s.imported.rows += int64(n)
	due := s.imported.rows >= max(s.imported.next, 1000)
	if due {
		s.imported.next = 2 * s.imported.rows
	}
	s.imported.mu.Unlock()
	if !due {
		return
	}
	// Statistics are an optimisation: a failure leaves the import correct.
	_, _ = s.write.ExecContext(context.WithoutCancel(ctx), "ANALYZE users, user_imports, user_values, user_identities")
}

func (s *Store) importBatch(ctx context.Context, poolID, source string, items []*userpool.ImportItem, dryRun, savepoints bool, recs []userpool.Record) error {
	err := s.inTxRecords(ctx, "import users", recs, func(q queryer) error {
		st := &importStmts{s: s, q: q}
		defer st.close()
		rest := items
		if !savepoints {
			var err error
			if rest, err = s.importBulk(ctx, q, poolID, source, items); err != nil {
				return err
			}
		}
		for _, it := range rest {
			if savepoints {
				if _, err := q.ExecContext(ctx, "SAVEPOINT import_item"); err != nil {
					return fmt.Errorf("sqlstore: import users: savepoint: %w", err)
				}
			}
			err := s.importItem(ctx, st, poolID, source, it)
			var uerr *userpool.Error
			switch {
			case err == nil:
				if savepoints {
					if _, err := q.ExecContext(ctx, "RELEASE SAVEPOINT import_item"); err != nil {
						return fmt.Errorf("sqlstore: import users: release: %w", err)
					}
				}
				continue
			case !errors.As(err, &uerr):
				return err
			case !savepoints:
				return errSlowPath
			}
			it.Status, it.UserID, it.Err = userpool.ImportRefused, "", err
			if _, err := q.ExecContext(ctx, "ROLLBACK TO SAVEPOINT import_item"); err != nil {
				return fmt.Errorf("sqlstore: import users: rollback to savepoint: %w", err)
			}
		}
		if dryRun {
			return errDryRun
		}
		return nil
	})
	if dryRun && errors.Is(err, errDryRun) {
		return nil
	}
	return err
}

// importBulk writes the items that are new users with nothing but their
// row (no preferred id, values or identities) in a few multi-row
// statements, and returns the others for importItem. Any failure sends
// the batch to the slow path, which judges item by item.
func (s *Store) importBulk(ctx context.Context, q queryer, poolID, source string, items []*userpool.ImportItem) ([]*userpool.ImportItem, error) {
	// Which items are known already: by external id, then by email.
	known := map[string]bool{}
	if err := s.inChunks(len(items), 500, func(lo, hi int) error {
		args := []any{poolID, source}
		for _, it := range items[lo:hi] {
			args = append(args, it.ExternalID)
		}
		rows, err := q.QueryContext(ctx, s.d.q(`SELECT external_id FROM user_imports WHERE pool_id = ? AND source = ? AND external_id IN (?`+
			strings.Repeat(", ?", hi-lo-1)+`)`), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var ext string
			if err := rows.Scan(&ext); err != nil {
				return err
			}
			known["x:"+ext] = true
		}
		return rows.Err()
	}); err != nil {
		return nil, errSlowPath
	}
	var emails []string
	for _, it := range items {
		if it.User.Email != "" {
			emails = append(emails, userpool.EmailKey(it.User.Email))
		}
	}
	if err := s.inChunks(len(emails), 500, func(lo, hi int) error {
		args := []any{poolID}
		for _, e := range emails[lo:hi] {
			args = append(args, e)
		}
		rows, err := q.QueryContext(ctx, s.d.q(`SELECT email_key FROM users WHERE pool_id = ? AND email_key IN (?`+
			strings.Repeat(", ?", hi-lo-1)+`)`), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				return err
			}
			known["e:"+k] = true
		}
		return rows.Err()
	}); err != nil {
		return nil, errSlowPath
	}
	// Preferred ids another user has already are replaced.
	var ids []string
	for _, it := range items {
		if it.User.ID != "" {
			ids = append(ids, it.User.ID)
		}
	}
	if err := s.inChunks(len(ids), 500, func(lo, hi int) error {
		args := []any{poolID}
		for _, id := range ids[lo:hi] {
			args = append(args, id)
		}
		rows, err := q.QueryContext(ctx, s.d.q(`SELECT id FROM users WHERE pool_id = ? AND id IN (?`+
			strings.Repeat(", ?", hi-lo-1)+`)`), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			known["i:"+id] = true
		}
		return rows.Err()
	}); err != nil {
		return nil, errSlowPath
	}
	var bulk, rest []*userpool.ImportItem
	for _, it := range items {
		u := it.User
		if len(it.Values) > 0 || len(it.Identities) > 0 || known["x:"+it.ExternalID] ||
			u.Email != "" && known["e:"+userpool.EmailKey(u.Email)] {
			rest = append(rest, it)
			continue
		}
		bulk = append(bulk, it)
	}
	now := s.now()
	for _, it := range bulk {
		u := it.User
		u.PoolID = poolID
		if u.ID == "" || known["i:"+u.ID] {
			u.ID = importID()
		}
		if u.CreatedAt.IsZero() {
			u.CreatedAt = now
		}
		u.UpdatedAt = now
		s.d.normUser(u)
	}
	// users: 41 parameters a row; 400 rows stay under SQLite's 32766.
	row := "(?" + strings.Repeat(", ?", len(userColumns)+1) + ")"
	head := "INSERT INTO users (" + strings.Join(userColumns, ", ") + ", username_key, email_key) VALUES "
	if err := s.inChunks(len(bulk), 400, func(lo, hi int) error {
		args := make([]any, 0, (hi-lo)*(len(userColumns)+2))
		for _, it := range bulk[lo:hi] {
			args = append(args, s.d.userArgs(it.User)...)
			args = append(args, keyArgs(it.User)...)
		}
		_, err := q.ExecContext(ctx, s.d.q(head+row+strings.Repeat(", "+row, hi-lo-1)), args...)
		return err
	}); err != nil {
		return nil, errSlowPath
	}
	if err := s.inChunks(len(bulk), 1000, func(lo, hi int) error {
		args := make([]any, 0, (hi-lo)*6)
		for _, it := range bulk[lo:hi] {
			args = append(args, poolID, source, it.ExternalID, it.User.ID, passwordDigest(it.User.PasswordHash), s.d.timeArg(s.d.norm(now)))
		}
		const r = "(?, ?, ?, ?, ?, ?)"
		_, err := q.ExecContext(ctx, s.d.q(`INSERT INTO user_imports (pool_id, source, external_id, user_id, password_digest, imported_at) VALUES `+
			r+strings.Repeat(", "+r, hi-lo-1)), args...)
		return err
	}); err != nil {
		return nil, errSlowPath
	}
	for _, it := range bulk {
		it.Status, it.UserID = userpool.ImportCreated, it.User.ID
	}
	return rest, nil
}

// importID is a new imported user's id: a time-ordered UUID (version 7),
// so that a batch's rows land together at the end of the primary key's
// index instead of on hundreds of random pages, which each commit would
// write again (measured: docs/BENCHMARKS.md). Its random part is 74 bits.
func importID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

// inChunks calls fn for [lo, hi) ranges of at most size covering [0, n).
func (s *Store) inChunks(n, size int, fn func(lo, hi int) error) error {
	for lo := 0; lo < n; lo += size {
		if err := fn(lo, min(lo+size, n)); err != nil {
			return err
		}
	}
	return nil
}

// importStmts prepares the statements an import runs for every item once
// per batch (the SQLite driver would parse them again each time).
type importStmts struct {
	s    *Store
	q    queryer
	tx   *sql.Tx
	prep map[string]*sql.Stmt
}

func (st *importStmts) get(ctx context.Context, query string) (*sql.Stmt, error) {
	if st.prep == nil {
		st.prep = map[string]*sql.Stmt{}
	}
	if p := st.prep[query]; p != nil {
		return p, nil
	}
	tx, ok := st.q.(*sql.Tx)
	if !ok {
		return nil, errors.New("sqlstore: import users: not in a transaction")
	}
	p, err := tx.PrepareContext(ctx, st.s.d.q(query))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: import users: prepare: %w", err)
	}
	st.prep[query] = p
	return p, nil
}

func (st *importStmts) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	p, err := st.get(ctx, query)
	if err != nil {
		return nil, err
	}
	return p.ExecContext(ctx, args...)
}

func (st *importStmts) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	p, err := st.get(ctx, query)
	if err != nil {
		// A failed prepare shows as the row's error: prepare once more
		// through the plain path, which reports it.
		return st.q.QueryRowContext(ctx, st.s.d.q(query), args...)
	}
	return p.QueryRowContext(ctx, args...)
}

func (st *importStmts) close() {
	for _, p := range st.prep {
		_ = p.Close()
	}
}

// errDuplicateInSource refuses a record whose email another record of the
// same source already brought: two source accounts never merge into one.
var errDuplicateInSource = &userpool.Error{Code: userpool.CodeUserExists, Reason: "duplicate_in_source",
	Message: "another record of this source with a different external id has the same email"}

// errUnverifiedEmailMatch refuses a record that would be merged, by its
// email alone, into an account that already exists here while the source
// does not say the address was verified.
var errUnverifiedEmailMatch = &userpool.Error{Code: userpool.CodeUserExists, Reason: "email_taken_unverified",
	Message: "an account with this email exists and the source does not say the address is verified: not merged"}

func (s *Store) importItem(ctx context.Context, st *importStmts, poolID, source string, it *userpool.ImportItem) error {
	q := st.q
	u := it.User
	u.PoolID = poolID
	now := s.now()
	digest := passwordDigest(u.PasswordHash)

	// Match: the source's external id first, then the email.
	var userID string
	var oldDigest []byte
	err := st.queryRow(ctx, `SELECT user_id, password_digest FROM user_imports WHERE pool_id = ? AND source = ? AND external_id = ?`,
		poolID, source, it.ExternalID).Scan(&userID, &oldDigest)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlstore: import users: match: %w", err)
	}
	if userID == "" && u.Email != "" {
		err := st.queryRow(ctx, `SELECT id FROM users WHERE pool_id = ? AND email_key = ?`, poolID, userpool.EmailKey(u.Email)).Scan(&userID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlstore: import users: match email: %w", err)
		}
		if userID != "" {
			var other string
			err := q.QueryRowContext(ctx, s.d.q(`SELECT external_id FROM user_imports WHERE pool_id = ? AND source = ? AND user_id = ? AND external_id <> ?`),
				poolID, source, userID, it.ExternalID).Scan(&other)
			if err == nil {
				return errDuplicateInSource
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("sqlstore: import users: match email: %w", err)
			}
			if !u.EmailVerified {
				// An address the source never verified proves nothing:
				// whoever signed up there with someone else's address must
				// not take over (password, profile, blocked state,
				// identities) the account that address has here.
				return errUnverifiedEmailMatch
			}
		}
	}

	if userID == "" {
		if u.ID != "" {
			var n int
			if err := q.QueryRowContext(ctx, s.d.q(`SELECT count(*) FROM users WHERE pool_id = ? AND id = ?`), poolID, u.ID).Scan(&n); err != nil {
				return fmt.Errorf("sqlstore: import users: id: %w", err)
			}
			if n > 0 {
				u.ID = ""
			}
		}
		if u.ID == "" {
			u.ID = importID()
		}
		if u.CreatedAt.IsZero() {
			u.CreatedAt = now
		}
		u.UpdatedAt = now
		s.d.normUser(u)
		if _, err := st.exec(ctx, userInsert, append(s.d.userArgs(u), keyArgs(u)...)...); err != nil {
			return s.d.writeUserErr("import users", err)
		}
		it.Status = userpool.ImportCreated
	} else {
		old, err := s.getUser(ctx, q, "import users", " WHERE pool_id = ? AND id = ?", poolID, userID)
		if err != nil {
			return err
		}
		// The password hash is replaced only while the stored one is the
		// hash this source wrote (or there is none): a password the user
		// set since, or the argon2id a login made of the imported hash,
		// stays.
		stillImported := old.PasswordHash == "" || (oldDigest != nil && bytes.Equal(oldDigest, passwordDigest(old.PasswordHash)))
		if !stillImported || u.PasswordHash == "" {
			u.PasswordHash = old.PasswordHash
			digest = oldDigest
			if !stillImported {
				digest = nil
			}
		}
		u.ID = old.ID
		u.LoginsCount, u.LastLogin = old.LoginsCount, old.LastLogin
		// A verification made here is not undone by a source that has
		// not seen it (the address being the same).
		u.EmailVerified = u.EmailVerified || old.EmailVerified && strings.EqualFold(old.Email, u.Email)
		u.PhoneVerified = u.PhoneVerified || old.PhoneVerified && old.Phone == u.Phone
		if u.SignedUp.IsZero() {
			u.SignedUp = old.SignedUp
		}
		if u.CreatedAt.IsZero() {
			u.CreatedAt = old.CreatedAt
		}
		u.UpdatedAt = now
		s.d.normUser(u)
		args := append(s.d.userArgs(u)[2:], updateKeyArgs(u)...)
		if _, err := q.ExecContext(ctx, s.d.q(userUpdate), append(args, poolID, u.ID)...); err != nil {
			return s.d.writeUserErr("import users", err)
		}
		it.Status = userpool.ImportUpdated
	}
	it.UserID = u.ID

	if err := s.setValues(ctx, q, poolID, u.ID, it.Values); err != nil {
		return err
	}
	for _, id := range it.Identities {
		if id.CreatedAt.IsZero() {
			id.CreatedAt = now
		}
		data := id.Data
		if data == "" {
			data = "{}"
		}
		res, err := q.ExecContext(ctx, s.d.q(`INSERT INTO user_identities (pool_id, user_id, provider, subject, data, created_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (pool_id, provider, subject) DO UPDATE SET data = excluded.data WHERE user_identities.user_id = excluded.user_id`),
			poolID, u.ID, id.Provider, id.Subject, data, s.d.timeArg(s.d.norm(id.CreatedAt)))
		if err != nil {
			return fmt.Errorf("sqlstore: import users: identity: %w", err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return &userpool.Error{Code: userpool.CodeUserExists, Reason: "identity_taken",
				Message: fmt.Sprintf("identity %s|%s belongs to another user", id.Provider, id.Subject)}
		}
	}
	_, err = st.exec(ctx, `INSERT INTO user_imports (pool_id, source, external_id, user_id, password_digest, imported_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (pool_id, source, external_id) DO UPDATE SET user_id = excluded.user_id, password_digest = excluded.password_digest, imported_at = excluded.imported_at`,
		poolID, source, it.ExternalID, u.ID, digest, s.d.timeArg(now))
	if err != nil {
		return fmt.Errorf("sqlstore: import users: remember: %w", err)
	}
	return nil
}

// passwordDigest is what user_imports keeps of an imported hash: enough to
// tell whether the stored hash is still it, nothing to log in with.
func passwordDigest(hash string) []byte {
	if hash == "" {
		return nil
	}
	d := sha256.Sum256([]byte(hash))
	return d[:]
}

// ExportUsers returns one page of the pool's users in id order, with their
// values and identities (two more queries per page, not per user).
func (s *Store) ExportUsers(ctx context.Context, q userpool.ExportQuery) ([]*userpool.ExportedUser, error) {
	where := " WHERE pool_id = ? AND id > ?"
	args := []any{q.PoolID, q.AfterID}
	if q.Search != "" {
		pat := "%" + likeEscaper.Replace(strings.ToLower(q.Search)) + "%"
		where += ` AND (lower(email) LIKE ? ESCAPE '\' OR lower(username) LIKE ? ESCAPE '\' OR phone LIKE ? ESCAPE '\')`
		args = append(args, pat, pat, pat)
	}
	limit := min(max(q.Limit, 1), 1000)
	rows, err := s.read.QueryContext(ctx, s.d.q(userSelect+where+" ORDER BY id LIMIT ?"), append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: export users: %w", err)
	}
	var out []*userpool.ExportedUser
	byID := map[string]*userpool.ExportedUser{}
	for rows.Next() {
		u := new(userpool.User)
		if err := rows.Scan(userDest(u)...); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlstore: export users: %w", err)
		}
		e := &userpool.ExportedUser{User: u}
		out = append(out, e)
		byID[u.ID] = e
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, fmt.Errorf("sqlstore: export users: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	first, last := out[0].ID, out[len(out)-1].ID
	vrows, err := s.read.QueryContext(ctx, s.d.q(`SELECT v.user_id, v.key, f.data_type, f.label, v.value, v.updated_at
		FROM user_values v JOIN user_fields f ON f.pool_id = v.pool_id AND f.key = v.key
		WHERE v.pool_id = ? AND v.user_id >= ? AND v.user_id <= ? ORDER BY v.user_id, v.key`), q.PoolID, first, last)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: export users: values: %w", err)
	}
	for vrows.Next() {
		v := &userpool.UserValue{PoolID: q.PoolID}
		if err := vrows.Scan(&v.UserID, &v.Key, &v.DataType, &v.Label, &v.Value, timeDest{&v.UpdatedAt}); err != nil {
			vrows.Close()
			return nil, fmt.Errorf("sqlstore: export users: values: %w", err)
		}
		if e := byID[v.UserID]; e != nil {
			e.Values = append(e.Values, v)
		}
	}
	if err := errors.Join(vrows.Err(), vrows.Close()); err != nil {
		return nil, fmt.Errorf("sqlstore: export users: values: %w", err)
	}
	irows, err := s.read.QueryContext(ctx, s.d.q(`SELECT user_id, provider, subject, data, created_at FROM user_identities
		WHERE pool_id = ? AND user_id >= ? AND user_id <= ? ORDER BY user_id, provider, subject`), q.PoolID, first, last)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: export users: identities: %w", err)
	}
	for irows.Next() {
		var uid string
		id := new(userpool.Identity)
		if err := irows.Scan(&uid, &id.Provider, &id.Subject, &id.Data, timeDest{&id.CreatedAt}); err != nil {
			irows.Close()
			return nil, fmt.Errorf("sqlstore: export users: identities: %w", err)
		}
		if e := byID[uid]; e != nil {
			e.Identities = append(e.Identities, id)
		}
	}
	if err := errors.Join(irows.Err(), irows.Close()); err != nil {
		return nil, fmt.Errorf("sqlstore: export users: identities: %w", err)
	}
	return out, nil
}
