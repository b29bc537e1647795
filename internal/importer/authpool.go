package importer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"github.com/authpool/authpool/api"
)

// authpoolReader reads authpool's own export: JSON lines of
// api.UserRecord (the export's closing {"end":true} line is skipped). A
// line too long or not a record is refused alone.
type authpoolReader struct {
	br *bufio.Reader
	n  int
}

func newAuthpool(r io.Reader, _ Options) (Reader, error) {
	return &authpoolReader{br: bufio.NewReaderSize(r, 64<<10)}, nil
}

func (a *authpoolReader) Next() (int, *api.UserRecord, error) {
	for {
		line, tooLong, err := readLine(a.br, MaxRecordBytes)
		if err != nil && err != io.EOF {
			return 0, nil, err
		}
		if err == io.EOF && len(line) == 0 && !tooLong {
			return 0, nil, io.EOF
		}
		a.n++
		if tooLong {
			return a.n, nil, refuse(a.n, "line_too_long", "the line is longer than %d bytes", MaxRecordBytes)
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 || bytes.Equal(line, []byte(`{"end":true}`)) {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		rec := new(api.UserRecord)
		if err := dec.Decode(rec); err != nil {
			var ute *json.UnmarshalTypeError
			if errors.As(err, &ute) {
				return a.n, nil, refuse(a.n, "invalid_record", "member %s has the wrong type: want %s", ute.Field, ute.Type)
			}
			return a.n, nil, refuse(a.n, "invalid_record", "not a user record: %v", err)
		}
		return a.n, rec, nil
	}
}

// readLine reads one line without its line end; a line longer than limit
// is read to its end and dropped (tooLong).
func readLine(br *bufio.Reader, limit int) (b []byte, tooLong bool, err error) {
	for {
		frag, err := br.ReadSlice('\n')
		if !tooLong {
			if len(b)+len(frag) > limit+2 {
				tooLong, b = true, nil
			} else {
				b = append(b, frag...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		b = bytes.TrimRight(b, "\r\n")
		return b, tooLong, err
	}
}
