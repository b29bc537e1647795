package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/authpool/authpool/internal/userpool"
)

// withRecords runs write on the writer; when there are records, it runs
// write and their inserts in one transaction, so that a change and what
// reports it (audit events, webhook events) are stored together or not at
// all. write's error is returned as is.
func (s *Store) withRecords(ctx context.Context, op string, recs []userpool.Record, write func(q queryer) error) error {
	if len(recs) == 0 {
		return write(s.write)
	}
	return s.inTxRecords(ctx, op, recs, write)
}

// WriteRecords stores records that accompany no other change, in one
// transaction.
func (s *Store) WriteRecords(ctx context.Context, recs ...userpool.Record) error {
	if len(recs) == 0 {
		return nil
	}
	return s.inTxRecords(ctx, "write records", recs, func(queryer) error { return nil })
}

// inTxRecords runs write and then inserts recs, in one transaction; once
// it has committed deliveries, it wakes this process's dispatcher.
func (s *Store) inTxRecords(ctx context.Context, op string, recs []userpool.Record, write func(q queryer) error) error {
	var due bool
	err := s.inTx(ctx, op, func(tx *sql.Tx) error {
		if err := write(tx); err != nil {
			return err
		}
		var err error
		due, err = s.insertRecords(ctx, tx, recs)
		return err
	})
	if err == nil && due {
		s.added.fire()
	}
	return err
}

// insertRecords inserts each record through tx (a transaction) and says
// whether an event fanned out into deliveries.
//
// On PostgreSQL the records that only write go as one statement
// (recordbatch.go), after the others.
func (s *Store) insertRecords(ctx context.Context, tx queryer, recs []userpool.Record) (bool, error) {
	return s.insertRecordsLed(ctx, tx, recs, nil)
}

// insertRecordsLed is insertRecords whose batch on PostgreSQL also runs
// lead, a write of the caller's that must change exactly one row (the
// batch's WITH queries are attached to it: one round trip for both). A
// lead that changes no row fails with errLeadMissed. Without PostgreSQL,
// lead runs first, as its own statement.
func (s *Store) insertRecordsLed(ctx context.Context, tx queryer, recs []userpool.Record, lead *batchedStmt) (bool, error) {
	var batch *recordBatch
	if s.d.name == "postgres" {
		n := 0
		for _, r := range recs {
			if batched(r) {
				n++
			}
		}
		if n > 1 || lead != nil {
			batch = &recordBatch{lead: lead}
		}
	} else if lead != nil {
		res, err := tx.ExecContext(ctx, lead.query, lead.args...)
		if err != nil {
			return false, leadError{err}
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return false, errLeadMissed
		}
	}
	due := false
	for _, r := range recs {
		var err error
		q := tx
		if batch != nil && batched(r) {
			q = batch
			_, batch.event = r.(*userpool.Event)
		}
		switch r := r.(type) {
		case *userpool.AuditEvent:
			err = s.insertAudit(ctx, q, r)
		case *userpool.Event:
			var n int64
			n, err = s.insertEvent(ctx, q, r)
			due = due || n > 0
		case *userpool.ValueChange:
			err = s.changeValues(ctx, q, r)
		case *userpool.Session:
			err = s.insertSession(ctx, q, r)
		case *userpool.CounterReset:
			if _, err = q.ExecContext(ctx, s.d.q("DELETE FROM counters WHERE key = ?"), r.Key); err != nil {
				err = fmt.Errorf("sqlstore: reset counter: %w", err)
			}
		case *userpool.CounterGiveBack:
			err = s.decrCounter(ctx, q, r.Key, r.At)
		case *userpool.VerificationCode:
			err = s.putCode(ctx, q, r)
		case *userpool.MessageJob:
			err = s.insertMessage(ctx, q, r)
		case *userpool.MFAChallengeSpend:
			err = s.spendChallenge(ctx, q, r)
		case *userpool.RecoveryCodeSpend:
			err = s.spendRecoveryCode(ctx, q, r)
		case *userpool.PasskeyUse:
			err = s.usePasskey(ctx, q, r)
		case *userpool.IdentityLink:
			err = s.linkIdentity(ctx, q, r)
		case nil:
			err = errors.New("sqlstore: nil record")
		default:
			err = fmt.Errorf("sqlstore: unknown record type %T", r)
		}
		if err != nil {
			return false, err
		}
	}
	if batch != nil {
		n, err := batch.exec(ctx, tx)
		if err != nil {
			return false, err
		}
		due = due || n > 0
	}
	// Every caller commits right after the records: from here on the
	// give-backs count as given (see CounterGiveBack).
	for _, r := range recs {
		if g, ok := r.(*userpool.CounterGiveBack); ok {
			g.Sent = true
		}
	}
	return due, nil
}

// newEventID returns a Standard Webhooks style message id.
func newEventID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return "msg_" + hex.EncodeToString(b[:])
}

// insertEvent fans e out into one delivery per enabled subscription of its
// pool that listens to its type (or to "*"), in one INSERT ... SELECT; with
// no such subscription it inserts nothing. The delivery id is
// event id + ":" + subscription id, so writing one event twice fails
// instead of delivering it twice. It returns how many deliveries it
// inserted.
func (s *Store) insertEvent(ctx context.Context, q queryer, e *userpool.Event) (int64, error) {
	if e.Type == "" || e.PoolID == "" {
		return 0, errors.New("sqlstore: write event: Type and PoolID are required")
	}
	if !json.Valid(e.Payload) {
		return 0, fmt.Errorf("sqlstore: write event %s: payload is not JSON", e.Type)
	}
	if e.ID == "" {
		e.ID = newEventID()
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = s.now()
	}
	e.CreatedAt = s.d.norm(e.CreatedAt)
	at := s.d.timeArg(e.CreatedAt)
	ts := "CAST(? AS " + s.d.timeType + ")"
	res, err := q.ExecContext(ctx, s.d.q(`INSERT INTO webhook_deliveries
		(id, event_id, pool_id, subscription_id, type, payload, status, attempts, next_attempt_at, created_at)
		SELECT CAST(? AS TEXT) || ':' || id, CAST(? AS TEXT), pool_id, id, CAST(? AS TEXT), CAST(? AS TEXT), 'pending', 0, `+ts+`, `+ts+`
		FROM webhook_subscriptions
		WHERE pool_id = ? AND enabled = ? AND (events LIKE '%,*,%' OR events LIKE ? ESCAPE '\')`),
		e.ID, e.ID, e.Type, string(e.Payload), at, at, e.PoolID, true, "%,"+likeEscape(e.Type)+",%")
	if err != nil {
		return 0, fmt.Errorf("sqlstore: write event %s: %w", e.Type, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlstore: write event %s: %w", e.Type, err)
	}
	return n, nil
}

// likeEscape escapes the LIKE wildcards of v for ESCAPE '\'.
func likeEscape(v string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(v)
}
