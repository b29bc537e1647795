// Package storetest is the conformance suite every userpool.Store backend
// must pass, and the place tests get their database URLs from: SQLite
// always, PostgreSQL when AUTHPOOL_TEST_POSTGRES_URL is set (CI sets it).
//
// A backend's test runs the suite once per backend, opening a fresh
// database for every subtest:
//
//	for backend := range storetest.DatabaseURLs(t) {
//		t.Run(backend, func(t *testing.T) {
//			storetest.Run(t, func(t *testing.T) userpool.Store {
//				s, err := sqlstore.Open(t.Context(), storetest.DatabaseURLs(t)[backend])
//				...
//				t.Cleanup(func() { s.Close() })
//				return s
//			})
//		})
//	}
//
// End-to-end tests of other packages use DatabaseURLs the same way to run
// against every backend. The package imports no backend, so any package may
// import it without a cycle.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authpool/authpool/internal/userpool"
)

// PostgresURLEnv names the environment variable holding the URL of a
// PostgreSQL database the tests may create schemas in.
const PostgresURLEnv = "AUTHPOOL_TEST_POSTGRES_URL"

// DatabaseURLs returns a URL per available backend, each naming an empty
// database of its own: "sqlite" always (a file in t.TempDir()), and
// "postgres" when AUTHPOOL_TEST_POSTGRES_URL is set. The PostgreSQL URL
// selects a fresh schema through search_path, and the schema is dropped
// when the test ends; close stores opened on it before then (t.Cleanup
// registered after this call runs first).
func DatabaseURLs(t testing.TB) map[string]string {
	t.Helper()
	urls := map[string]string{"sqlite": "sqlite:" + filepath.Join(t.TempDir(), "test.db")}
	base := os.Getenv(PostgresURLEnv)
	if base == "" {
		t.Log("PostgreSQL tests skipped: set " + PostgresURLEnv + " (for example postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
		return urls
	}
	// Only the URL form: the database URL's scheme is what picks a backend.
	if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
		t.Fatalf("storetest: %s must be a postgres:// URL", PostgresURLEnv)
	}
	urls["postgres"] = freshSchema(t, base)
	return urls
}

// freshSchema creates a schema with a random name and returns base with
// search_path pointing to it. Schemas, unlike databases, are cheap to create
// and drop, and need no extra privileges beyond CREATE on the database.
func freshSchema(t testing.TB, base string) string {
	t.Helper()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("storetest: random schema name: %v", err)
	}
	schema := "t_" + hex.EncodeToString(b[:])
	ident := pgx.Identifier{schema}.Sanitize()
	u, err := url.Parse(base)
	if err != nil {
		// url.Error would repeat the URL, password included.
		t.Fatalf("storetest: %s is not a valid URL", PostgresURLEnv)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()

	exec := func(ctx context.Context, sql string) error {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		_, err = conn.Exec(ctx, sql)
		return errors.Join(err, conn.Close(ctx))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// pgx errors name host, user and database, never the password.
	if err := exec(ctx, "CREATE SCHEMA "+ident); err != nil {
		t.Fatalf("storetest: %s is set but PostgreSQL is unusable: %v", PostgresURLEnv, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := exec(ctx, "DROP SCHEMA IF EXISTS "+ident+" CASCADE"); err != nil {
			t.Errorf("storetest: drop schema %s: %v", schema, err)
		}
	})

	return u.String()
}

// Run runs the conformance suite against stores made by open. Each subtest
// calls open for a fresh, empty store and runs in parallel with the others,
// so open must be safe for concurrent use; it should close the store with
// t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) userpool.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s userpool.Store)
	}{
		{"Users/CreateAndGet", testCreateAndGetUser},
		{"Users/LookupByEmptyValue", testLookupByEmptyValue},
		{"Users/Duplicates", testDuplicateUsers},
		{"Users/IdentifierKeys", testIdentifierKeys},
		{"Users/IdentifierKeysOnUpdate", testIdentifierKeysOnUpdate},
		{"Users/DuplicatesArePerPool", testDuplicatesPerPool},
		{"Users/EmptyFieldsDoNotCollide", testEmptyFieldsDoNotCollide},
		{"Users/UpdateRoundTrip", testUpdateUserRoundTrip},
		{"Users/UpdateFnErrorAborts", testUpdateFnErrorAborts},
		{"Users/UpdateToTakenValue", testUpdateToTakenValue},
		{"Users/UpdateMissing", testUpdateMissingUser},
		{"Users/Delete", testDeleteUser},
		{"Users/ForeignPasswordHash", testForeignPasswordHash},
		{"Users/ImportAndExport", testImportUsers},
		{"Sessions/CreateAndGet", testCreateAndGetSession},
		{"Sessions/Extend", testExtendSession},
		{"Sessions/ExpiredCannotBeExtended", testExpiredSessionNotExtended},
		{"Sessions/Revoke", testRevokeSession},
		{"Sessions/RevokeUserSessions", testRevokeUserSessions},
		{"Sessions/RevokeOtherSessions", testRevokeOtherSessions},
		{"Pools/CreateGetList", testPools},
		{"Pools/EnsureDefaultIdempotent", testEnsureDefaultPool},
		{"SigningKeys/AddIfNone", testSigningKeys},
		{"SigningKeys/Lifecycle", testSigningKeyLifecycle},
		{"Pools/Settings", testPoolSettings},
		{"Counters/IncrGetResetPurge", testCounters},
		{"Counters/Add", testAddCounter},
		{"Records/SessionAndCounterReset", testSessionAndResetRecords},
		{"Records/CounterGiveBack", testCounterGiveBack},
		{"Records/Login", testLoginRecords},
		{"Sessions/SessionUser", testSessionUser},
		{"Counters/GetCounters", testGetCounters},
		{"Audit/AppendAndFilter", testAudit},
		{"TransportKeys/Ensure", testTransportKeys},
		{"Codes/PutUseReplace", testCodes},
		{"Codes/Purge", testPurgeCodes},
		{"Counters/Decr", testDecrCounter},
		{"Secrets/Ensure", testServerSecrets},
		{"Fields/DefineUpdateDelete", testFields},
		{"Fields/UserValues", testUserValues},
		{"Fields/ValueChangeRecords", testValueChangeRecords},
		{"Fields/CountValues", testCountFieldValues},
		{"Admin/ListUsers", testListUsers},
		{"Admin/ListUserSessions", testListUserSessions},
		{"Admin/Keys", testAdminKeys},
		{"Audit/WrittenWithChanges", testAuditWithChanges},
		{"Audit/Purge", testAuditPurge},
		{"Captchas/CreateTakePurge", testCaptchas},
		{"Race/TakeCaptchaOnce", testRaceTakeCaptcha},
		{"Race/CounterIncrements", testRaceCounter},
		{"Race/ValueVsTypeChange", testRaceValueVsTypeChange},
		{"Race/AdminKeyIfNone", testRaceAdminKey},
		{"Race/CreateUserSameValue", testRaceCreateUser},
		{"Race/EnsureDefaultPool", testRaceEnsureDefaultPool},
		{"Race/AddSigningKeyIfNone", testRaceAddSigningKey},
		{"Race/RotateSigningKey", testRaceRotateSigningKey},
		{"Race/EnsureTransportKey", testRaceEnsureTransportKey},
		{"Race/RevokeAndGetSession", testRaceRevokeSession},
		{"Race/ConcurrentLogins", testRaceConcurrentLogins},
		{"Race/SpendCodeOnce", testRaceSpendCode},
		{"Race/CodeAttempts", testRaceCodeAttempts},
		{"Race/EnsureServerSecret", testRaceServerSecret},
		{"Pipelines/CRUDAndOrder", testPipelines},
		{"Pipelines/LogsBounded", testPipelineLogs},
		{"Webhooks/Subscriptions", testSubscriptions},
		{"Webhooks/OutboxFanOut", testOutboxFanOut},
		{"Webhooks/OutboxRollback", testOutboxRollback},
		{"Webhooks/DeliveryLifecycle", testDeliveryLifecycle},
		{"Race/ClaimDeliveries", testRaceClaimDeliveries},
		{"Webhooks/NewDeliveriesAndRelease", testNewDeliveries},
		{"Webhooks/RecordAttempts", testRecordAttempts},
		{"Messages/Queue", testMessageQueue},
		{"Race/ClaimMessages", testRaceClaimMessages},
		{"Apps/CRUDAndIsolation", testApps},
		{"Apps/Secret", testAppSecret},
		{"MFA/Factors", testMFAFactors},
		{"MFA/Challenges", testMFAChallenges},
		{"Race/MFA", testRaceMFA},
		{"Passkeys/CRUD", testPasskeys},
		{"Passkeys/Ceremonies", testWebAuthnCeremonies},
		{"Race/Passkeys", testRacePasskeys},
		{"OIDC/AuthRequests", testOIDCAuthRequests},
		{"Race/ClaimCode", testRaceClaimCode},
		{"OIDC/Grants", testOIDCGrants},
		{"Race/Refresh", testRaceRefresh},
		{"OIDC/Consents", testOIDCConsents},
		{"OIDC/BrowserSessions", testOIDCBrowserSessions},
		{"Users/DeleteOIDCRows", testDeleteUserOIDC},
		{"Console/Sessions", testConsoleSessions},
		{"Console/NamedAdminKeys", testNamedAdminKeys},
		{"Race/NamedAdminKeyName", testRaceNamedAdminKey},
		{"Console/ListUserPage", testListUserPage},
		{"Console/PoolStats", testPoolStats},
		{"Console/ListUserIdentities", testListUserIdentities},
		{"Connectors/CRUDAndIsolation", testConnectors},
		{"Connectors/SocialStates", testSocialStates},
		{"Connectors/Identities", testIdentities},
		{"Race/Identity", testRaceIdentity},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// t0 is the suite's clock: times are injected, never read from the wall,
// and have millisecond precision, the coarsest a backend may keep.
var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535_000_000, time.UTC)

// newPool creates a pool for the test; users need one to belong to.
func newPool(t *testing.T, s userpool.Store, id string) *userpool.Pool {
	t.Helper()
	p := &userpool.Pool{ID: id, Name: "Pool " + id, CreatedAt: t0}
	if err := s.CreatePool(t.Context(), p); err != nil {
		t.Fatalf("CreatePool(%q): %v", id, err)
	}
	return p
}

// newUser creates a user with the given email, username and phone.
func newUser(t *testing.T, s userpool.Store, poolID, id, email, username, phone string) *userpool.User {
	t.Helper()
	u := &userpool.User{
		ID: id, PoolID: poolID, Email: email, Phone: phone,
		Profile:   userpool.Profile{Username: username},
		CreatedAt: t0, UpdatedAt: t0,
	}
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser(%q, %q, %q, %q): %v", id, email, username, phone, err)
	}
	return u
}

// newSession creates a session of the user, alive from t0 until expires.
func newSession(t *testing.T, s userpool.Store, u *userpool.User, id string, expires time.Time) *userpool.Session {
	t.Helper()
	sess := &userpool.Session{
		ID: id, PoolID: u.PoolID, UserID: u.ID,
		CreatedAt: t0, ExpiresAt: expires,
		ClientIP: "192.0.2.7", UserAgent: "storetest/1.0",
	}
	if err := s.CreateSession(t.Context(), sess); err != nil {
		t.Fatalf("CreateSession(%q): %v", id, err)
	}
	return sess
}

// checkEqual fails the test unless got has want's field values; times are
// compared as instants, so a backend may return them in any location.
func checkEqual(t *testing.T, what string, want, got any) {
	t.Helper()
	if diffs := diff("", reflect.ValueOf(want), reflect.ValueOf(got)); len(diffs) > 0 {
		t.Errorf("%s differs:\n\t%s", what, strings.Join(diffs, "\n\t"))
	}
}

var timeType = reflect.TypeFor[time.Time]()

func diff(path string, want, got reflect.Value) []string {
	if want.Kind() == reflect.Pointer {
		if want.IsNil() || got.IsNil() {
			if want.IsNil() != got.IsNil() {
				return []string{fmt.Sprintf("%s: want %v, got %v", path, want, got)}
			}
			return nil
		}
		return diff(path, want.Elem(), got.Elem())
	}
	switch {
	case want.Type() == timeType:
		w, g := want.Interface().(time.Time), got.Interface().(time.Time)
		if !w.Equal(g) {
			return []string{fmt.Sprintf("%s: want %v, got %v", path, w, g)}
		}
		return nil
	case want.Kind() == reflect.Slice && want.Type().Elem().Kind() != reflect.Uint8:
		if want.Len() != got.Len() {
			return []string{fmt.Sprintf("%s: want %d elements, got %d", path, want.Len(), got.Len())}
		}
		var out []string
		for i := range want.Len() {
			out = append(out, diff(fmt.Sprintf("%s[%d]", path, i), want.Index(i), got.Index(i))...)
		}
		return out
	case want.Kind() == reflect.Struct:
		var out []string
		for i := range want.NumField() {
			f := want.Type().Field(i)
			name := f.Name
			if path != "" {
				name = path + "." + f.Name
			}
			out = append(out, diff(name, want.Field(i), got.Field(i))...)
		}
		return out
	default:
		if !reflect.DeepEqual(want.Interface(), got.Interface()) {
			return []string{fmt.Sprintf("%s: want %#v, got %#v", path, want.Interface(), got.Interface())}
		}
		return nil
	}
}

// checkErr fails the test unless errors.Is(err, want) and, for a domain
// error, the messages agree too: ErrEmailTaken and ErrPhoneTaken share code
// and reason, so errors.Is alone cannot tell which field collided.
func checkErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got error %v, want %v", what, err, want)
		return
	}
	if w, ok := errors.AsType[*userpool.Error](want); ok {
		if g, _ := errors.AsType[*userpool.Error](err); g.Message != w.Message {
			t.Errorf("%s: got error %v, want %v", what, err, want)
		}
	}
}

// checkNoErr stops the test on an unexpected error.
func checkNoErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// ctx returns the test's context; a shorthand for the many calls below.
func ctx(t *testing.T) context.Context { return t.Context() }
