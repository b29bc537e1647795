// Package importer reads the user exports of other systems (and
// authpool's own) and turns each record into an api.UserRecord, the line
// the admin import route takes. One file per source format. Readers stream:
// a file of millions of users is never held in memory. A record that cannot
// be converted (a hash in a format authpool does not verify, a missing
// identifier) is reported as a *RecordError naming its number, and reading
// goes on; a file whose structure is broken stops the reader.
package importer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/authpool/authpool/api"
)

// MaxRecordBytes bounds one record of a JSON file (an element of its
// array, or one line); a bigger one stops the reader (inside an array
// there is no way to skip to the next element safely) or, in a JSON-lines
// file, is refused alone.
const MaxRecordBytes = 1 << 20

// Reader yields the records of one file in order.
type Reader interface {
	// Next returns the next record and its number (1-based, in file
	// order; the line number for JSON-lines and CSV files). At the end it
	// returns io.EOF. A *RecordError refuses that record only: call Next
	// again for the following one. Any other error is fatal.
	Next() (n int, rec *api.UserRecord, err error)
}

// RecordError is a record the reader could not convert.
type RecordError struct {
	N      int
	Reason string
	Msg    string
}

func (e *RecordError) Error() string { return fmt.Sprintf("record %d: %s", e.N, e.Msg) }

// Options carry what some formats need besides the file.
type Options struct {
	// Firebase is the project's password hash config (Authentication →
	// Users → Password hash parameters); without it, Firebase users are
	// imported without a password.
	Firebase FirebaseConfig
}

// FirebaseConfig is a Firebase project's scrypt parameters.
type FirebaseConfig struct {
	SignerKey     string // base64_signer_key
	SaltSeparator string // base64_salt_separator
	Rounds        int
	MemCost       int
}

type opener func(r io.Reader, opt Options) (Reader, error)

var formats = map[string]opener{
	"authpool": newAuthpool,
	"authing":  newAuthing,
	"auth0":    newAuth0,
	"firebase": newFirebase,
	"keycloak": newKeycloak,
	"supabase": newSupabase,
	"ory":      newOry,
}

// Formats lists the format names NewReader accepts.
func Formats() []string {
	out := make([]string, 0, len(formats))
	for f := range formats {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// NewReader returns the reader of format over r.
func NewReader(format string, r io.Reader, opt Options) (Reader, error) {
	open, ok := formats[format]
	if !ok {
		return nil, fmt.Errorf("importer: unknown format %q (one of %s)", format, strings.Join(Formats(), ", "))
	}
	return open(r, opt)
}

// budget is a reader whose allowance is reset before each record, so a
// single record cannot make the JSON decoder buffer without end.
type budget struct {
	r    io.Reader
	left int
}

var errTooBig = errors.New("record too large")

func (b *budget) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errTooBig
	}
	if len(p) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= n
	return n, err
}

// jsonStream yields the objects of a JSON file that is an array of
// objects, a sequence of objects (JSON lines), or an object holding the
// array under key (when key is not empty).
type jsonStream struct {
	br      *bufio.Reader
	b       *budget
	dec     *json.Decoder
	key     string
	started bool
	array   bool
	n       int
}

func newJSONStream(r io.Reader, key string) *jsonStream {
	br := bufio.NewReaderSize(r, 64<<10)
	b := &budget{r: br, left: MaxRecordBytes}
	return &jsonStream{br: br, b: b, dec: json.NewDecoder(b), key: key}
}

// firstByte returns the first byte that is not white space or a BOM,
// leaving it unread.
func firstByte(br *bufio.Reader) (byte, error) {
	for {
		c, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		switch c {
		case ' ', '\n', '\r', '\t', 0xEF, 0xBB, 0xBF:
			continue
		}
		return c, br.UnreadByte()
	}
}

func (s *jsonStream) start() error {
	s.started = true
	first, err := firstByte(s.br)
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case first == '[':
		if _, err := s.dec.Token(); err != nil {
			return err
		}
		s.array = true
	case first == '{' && s.key != "":
		// An object holding the array: walk its members to the key.
		if _, err := s.dec.Token(); err != nil {
			return err
		}
		for {
			s.b.left = MaxRecordBytes
			t, err := s.dec.Token()
			if err != nil {
				return err
			}
			k, ok := t.(string)
			if !ok {
				return fmt.Errorf("no %q array in the file", s.key)
			}
			if k == s.key {
				t, err := s.dec.Token()
				if err != nil {
					return err
				}
				if d, ok := t.(json.Delim); !ok || d != '[' {
					return fmt.Errorf("%q is not an array", s.key)
				}
				s.array = true
				return nil
			}
			if k == "data" {
				// An API answer saved as is ({"statusCode": 200, "data":
				// {"list": [...]}}, one page): read its list.
				var page struct {
					List json.RawMessage `json:"list"`
				}
				if err := s.dec.Decode(&page); err == nil && len(page.List) > 0 && page.List[0] == '[' {
					s.dec = json.NewDecoder(bytes.NewReader(page.List))
					if _, err := s.dec.Token(); err != nil {
						return err
					}
					s.array = true
					return nil
				} else if err != nil {
					return err
				}
				continue
			}
			var skip json.RawMessage
			if err := s.dec.Decode(&skip); err != nil {
				return err
			}
		}
	}
	return nil
}

// next decodes the next object into v, returning its number.
func (s *jsonStream) next(v any) (int, error) {
	if !s.started {
		if err := s.start(); err != nil {
			return 0, s.fatal(err)
		}
	}
	s.b.left = MaxRecordBytes
	if s.array && !s.dec.More() {
		// The array must close: a file cut short is not a whole one.
		if t, err := s.dec.Token(); err != nil || t != json.Delim(']') {
			if err == nil {
				err = fmt.Errorf("unexpected %v", t)
			}
			return 0, s.fatal(err)
		}
		return 0, io.EOF
	}
	var raw json.RawMessage
	if err := s.dec.Decode(&raw); err != nil {
		if err == io.EOF && !s.array {
			return 0, io.EOF
		}
		return 0, s.fatal(err)
	}
	s.n++
	if err := json.Unmarshal(raw, v); err != nil {
		var ute *json.UnmarshalTypeError
		msg := err.Error()
		if errors.As(err, &ute) {
			msg = fmt.Sprintf("member %s has the wrong type: want %s", ute.Field, ute.Type)
		}
		return s.n, &RecordError{N: s.n, Reason: "invalid_record", Msg: msg}
	}
	return s.n, nil
}

func (s *jsonStream) fatal(err error) error {
	if errors.Is(err, errTooBig) {
		return fmt.Errorf("importer: record %d is larger than %d bytes", s.n+1, MaxRecordBytes)
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("importer: the file ends inside record %d", s.n+1)
	}
	return fmt.Errorf("importer: invalid JSON after record %d: %w", s.n, err)
}

// refuse builds a RecordError.
func refuse(n int, reason, format string, args ...any) *RecordError {
	return &RecordError{N: n, Reason: reason, Msg: fmt.Sprintf(format, args...)}
}

// customData turns a metadata object's members into user-defined values:
// scalars and objects as they are, arrays as their JSON text (no field type
// holds an array), nulls dropped.
func customData(dst map[string]json.RawMessage, src map[string]json.RawMessage) map[string]json.RawMessage {
	for k, v := range src {
		t := strings.TrimSpace(string(v))
		switch {
		case t == "" || t == "null":
			continue
		case t[0] == '[':
			var c bytes.Buffer
			if json.Compact(&c, v) == nil {
				t = c.String()
			}
			b, _ := json.Marshal(t)
			v = b
		}
		if dst == nil {
			dst = map[string]json.RawMessage{}
		}
		dst[k] = v
	}
	return dst
}

// plusPhone gives a number without a country prefix sign its "+" when it
// is all digits and long enough to carry a country code.
func plusPhone(p string) string {
	p = strings.TrimSpace(p)
	if p == "" || strings.HasPrefix(p, "+") {
		return p
	}
	if len(p) >= 8 && strings.Trim(p, "0123456789") == "" {
		return "+" + p
	}
	return p
}
