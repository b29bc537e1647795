package sqlstore

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/authpool/authpool/internal/storetest"
	"github.com/authpool/authpool/internal/userpool"
)

// TestClassify pins which driver errors mean an unreachable database
// (1008), text PostgreSQL cannot hold (1001), and which pass unchanged;
// the mapped ones must still be the driver's error to errors.Is, which
// database/sql relies on to retry a bad connection.
func TestClassify(t *testing.T) {
	pg := func(code string) error { return &pgconn.PgError{Severity: "FATAL", Code: code} }
	cases := []struct {
		name string
		err  error
		code userpool.Code // 0: passes unchanged
	}{
		{"admin shutdown", pg("57P01"), userpool.CodeUnavailable},
		{"crash shutdown", pg("57P02"), userpool.CodeUnavailable},
		{"cannot connect now", pg("57P03"), userpool.CodeUnavailable},
		{"too many connections", pg("53300"), userpool.CodeUnavailable},
		{"connection failure", pg("08006"), userpool.CodeUnavailable},
		{"connect error", &pgconn.ConnectError{}, userpool.CodeUnavailable},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, userpool.CodeUnavailable},
		{"dropped", fmt.Errorf("failed to receive message: %w", io.ErrUnexpectedEOF), userpool.CodeUnavailable},
		{"closed", fmt.Errorf("x: %w", pgconn.ErrConnClosed), userpool.CodeUnavailable},
		{"bad conn", driver.ErrBadConn, userpool.CodeUnavailable},
		{"NUL", pg("22021"), userpool.CodeBadRequest},
		{"bad encoding", pg("22P05"), userpool.CodeBadRequest},
		{"unique", pg("23505"), 0},
		{"syntax", pg("42601"), 0},
		{"end of rows", io.EOF, 0},
		{"skip", driver.ErrSkip, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := classify(c.err)
			if c.code == 0 {
				if got != c.err {
					t.Fatalf("classify changed %v into %v", c.err, got)
				}
				return
			}
			if e := userpool.AsError(got); e.Code != c.code {
				t.Fatalf("code %d, want %d", e.Code, c.code)
			}
			if !errors.Is(got, c.err) {
				t.Fatal("the driver's error is lost")
			}
			// A use case that wraps it as internal still answers its code.
			if e := userpool.AsError(userpool.Internal(fmt.Errorf("auth: %w", got))); e.Code != c.code {
				t.Fatalf("through Internal: code %d, want %d", e.Code, c.code)
			}
		})
	}
}

// TestPostgresInvalidText reads and writes text PostgreSQL cannot hold:
// each is a coded 1001, not an internal error, whatever route it came by.
func TestPostgresInvalidText(t *testing.T) {
	url, ok := storetest.DatabaseURLs(t)["postgres"]
	if !ok {
		t.Skip("PostgreSQL not configured")
	}
	s := open(t, url)
	p, err := s.EnsureDefaultPool(t.Context(), &userpool.Pool{ID: "p1", Name: "default", IsDefault: true, Settings: userpool.DefaultPoolSettings()})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"a\x00b", "\xff\xfe", "\xc0\xaf"} {
		_, err := s.GetUserByEmail(t.Context(), p.ID, v)
		if e := userpool.AsError(err); e.Code != userpool.CodeBadRequest {
			t.Errorf("GetUserByEmail(%q): %v, want code 1001", v, err)
		}
		_, _, err = s.IncrCounter(t.Context(), v, 60e9, s.now())
		if e := userpool.AsError(err); e.Code != userpool.CodeBadRequest {
			t.Errorf("IncrCounter(%q): %v, want code 1001", v, err)
		}
	}
}
