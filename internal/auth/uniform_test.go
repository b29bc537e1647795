package auth_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/auth"
	"github.com/authpool/authpool/internal/courier"
	"github.com/authpool/authpool/internal/notify"
	"github.com/authpool/authpool/internal/password"
	"github.com/authpool/authpool/internal/sqlstore"
	"github.com/authpool/authpool/internal/storetest"
	"github.com/authpool/authpool/internal/token"
	"github.com/authpool/authpool/internal/userpool"
)

// recordingStore passes the calls a code-sending request may make to a
// real store and writes down each one: the method and, for a write of
// records, the kinds of records. Its embedded Store is nil, so any other
// call panics: nothing the request does escapes the record.
type recordingStore struct {
	userpool.Store // nil on purpose
	real           userpool.Store
	mu             sync.Mutex
	calls          []string
}

func (r *recordingStore) note(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, fmt.Sprintf(format, args...))
}

func (r *recordingStore) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}

func (r *recordingStore) GetPool(ctx context.Context, id string) (*userpool.Pool, error) {
	r.note("GetPool")
	return r.real.GetPool(ctx, id)
}

func (r *recordingStore) EnsureDefaultPool(ctx context.Context, p *userpool.Pool) (*userpool.Pool, error) {
	r.note("EnsureDefaultPool")
	return r.real.EnsureDefaultPool(ctx, p)
}

func (r *recordingStore) GetUserByEmail(ctx context.Context, poolID, email string) (*userpool.User, error) {
	r.note("GetUserByEmail")
	return r.real.GetUserByEmail(ctx, poolID, email)
}

func (r *recordingStore) GetUserByPhone(ctx context.Context, poolID, phone string) (*userpool.User, error) {
	r.note("GetUserByPhone")
	return r.real.GetUserByPhone(ctx, poolID, phone)
}

func (r *recordingStore) IncrCounter(ctx context.Context, key string, window time.Duration, now time.Time) (int64, time.Time, error) {
	r.note("IncrCounter")
	return r.real.IncrCounter(ctx, key, window, now)
}

func (r *recordingStore) DecrCounter(ctx context.Context, key string, now time.Time) error {
	r.note("DecrCounter")
	return r.real.DecrCounter(ctx, key, now)
}

func (r *recordingStore) PutCode(ctx context.Context, c *userpool.VerificationCode) error {
	r.note("PutCode")
	return r.real.PutCode(ctx, c)
}

func (r *recordingStore) UseCode(ctx context.Context, poolID, purpose, target string, fn func(*userpool.VerificationCode) bool) error {
	r.note("UseCode")
	return r.real.UseCode(ctx, poolID, purpose, target, fn)
}

func (r *recordingStore) AppendAudit(ctx context.Context, e *userpool.AuditEvent) error {
	r.note("AppendAudit")
	return r.real.AppendAudit(ctx, e)
}

func (r *recordingStore) WriteRecords(ctx context.Context, recs ...userpool.Record) error {
	kinds := make([]string, len(recs))
	for i, rec := range recs {
		kinds[i] = fmt.Sprintf("%T", rec)
	}
	r.note("WriteRecords(%s)", strings.Join(kinds, ", "))
	return r.real.WriteRecords(ctx, recs...)
}

// TestSendCodeSameWorkForEveryTarget: with the uniform option, a code
// request for an address or phone number that has an account makes
// exactly the store calls, in the same order, as one for a target that
// has none, in every scene; the same answer, too. Whether the code goes
// out is decided by the queue's worker, out of the caller's sight. (Before
// the queue, a known address also stored a code, sent the mail inline and
// wrote an audit event, which is what its answer took longer for.)
func TestSendCodeSameWorkForEveryTarget(t *testing.T) {
	for name, url := range storetest.DatabaseURLs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st, err := sqlstore.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			tokens, err := token.NewManager(ctx, st, "https://test", nil, token.Lifecycle{})
			if err != nil {
				t.Fatal(err)
			}
			tmpl, err := notify.LoadTemplates("")
			if err != nil {
				t.Fatal(err)
			}
			sealer, err := courier.NewSealer(make([]byte, 32))
			if err != nil {
				t.Fatal(err)
			}
			mail := notify.Console{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			rec := &recordingStore{real: st}
			var clockMu sync.Mutex
			clock := time.Now().UTC()
			now := func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return clock }
			svc := auth.New(rec, tokens, password.New(password.DefaultParams(), 1), auth.Config{
				Mailer: mail, SMS: mail, Templates: tmpl, Sealer: sealer, CodeSecret: []byte("code-secret"),
				VerifyEmailLink: func(string, string, string) string { return "https://test/verify" },
			}, now, slog.New(slog.DiscardHandler))
			set := userpool.DefaultPoolSettings()
			set.UniformLoginError = true
			pool, err := svc.EnsureDefaultPool(ctx, "", set)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.CreateUser(ctx, &userpool.User{ID: "u1", PoolID: pool.ID, Email: "known@example.com", Phone: "+8613800138000",
				CreatedAt: now(), UpdatedAt: now()}); err != nil {
				t.Fatal(err)
			}
			rec.take()

			ip := 0
			call := func(send func(m auth.Meta) error) ([]string, error) {
				ip++ // a client address of its own, and a later minute: no limit of another case interferes
				clockMu.Lock()
				clock = clock.Add(2 * time.Minute)
				clockMu.Unlock()
				err := send(auth.Meta{ClientIP: fmt.Sprintf("192.0.2.%d", ip)})
				return rec.take(), err
			}
			cases := map[string]func(target string) func(auth.Meta) error{}
			for _, scene := range []string{"RESET_PASSWORD", "VERIFY_EMAIL", "CHANGE_EMAIL"} {
				cases["email "+scene] = func(target string) func(auth.Meta) error {
					return func(m auth.Meta) error { return svc.SendEmail(ctx, m, target+"@example.com", scene) }
				}
			}
			cases["sms"] = func(target string) func(auth.Meta) error {
				phone := map[string]string{"known": "+8613800138000", "nobody": "+8613900139000"}[target]
				return func(m auth.Meta) error { return svc.SendSmsCode(ctx, m, phone) }
			}
			for name, send := range cases {
				known, kerr := call(send("known"))
				unknown, uerr := call(send("nobody"))
				if kerr != nil || uerr != nil {
					t.Fatalf("%s: answers %v and %v, want both nil", name, kerr, uerr)
				}
				if !slices.Equal(known, unknown) {
					t.Errorf("%s: the store work differs\n known:   %v\n unknown: %v", name, known, unknown)
				}
				if !slices.Contains(known, "WriteRecords(*userpool.VerificationCode, *userpool.MessageJob)") {
					t.Errorf("%s: the code and its job are not written in one transaction: %v", name, known)
				}
			}
		})
	}
}
