package storetest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/authpool/authpool/internal/userpool"
)

func testTransportKeys(t *testing.T, s userpool.Store) {
	_, err := s.GetTransportKey(ctx(t), "authing-password")
	checkErr(t, "GetTransportKey on a new store", err, userpool.ErrNotFound)

	k1 := &userpool.TransportKey{Purpose: "authing-password", PrivatePEM: []byte("pem-1"), CreatedAt: t0}
	got, err := s.EnsureTransportKey(ctx(t), k1)
	checkNoErr(t, "EnsureTransportKey k1", err)
	checkEqual(t, "key after ensuring k1", k1, got)

	// A second offer for the same purpose keeps the first key.
	k2 := &userpool.TransportKey{Purpose: "authing-password", PrivatePEM: []byte("pem-2"), CreatedAt: t0.Add(time.Hour)}
	got, err = s.EnsureTransportKey(ctx(t), k2)
	checkNoErr(t, "EnsureTransportKey k2", err)
	checkEqual(t, "key after offering k2", k1, got)
	got, err = s.GetTransportKey(ctx(t), "authing-password")
	checkNoErr(t, "GetTransportKey", err)
	checkEqual(t, "stored key", k1, got)

	// Purposes are independent.
	other := &userpool.TransportKey{Purpose: "other", PrivatePEM: []byte("pem-other"), CreatedAt: t0}
	got, err = s.EnsureTransportKey(ctx(t), other)
	checkNoErr(t, "EnsureTransportKey other", err)
	checkEqual(t, "key of another purpose", other, got)
	got, err = s.GetTransportKey(ctx(t), "authing-password")
	checkNoErr(t, "GetTransportKey", err)
	checkEqual(t, "first purpose's key", k1, got)

	if _, err := s.EnsureTransportKey(ctx(t), &userpool.TransportKey{Purpose: "", PrivatePEM: []byte("x")}); err == nil {
		t.Error("EnsureTransportKey with an empty purpose: want an error")
	}
}

func testRaceEnsureTransportKey(t *testing.T, s userpool.Store) {
	const n = 8
	keys := make([]*userpool.TransportKey, n)
	errs := together(n, func(i int) error {
		var err error
		keys[i], err = s.EnsureTransportKey(ctx(t), &userpool.TransportKey{
			Purpose: "authing-password", PrivatePEM: fmt.Appendf(nil, "pem-%d", i), CreatedAt: t0,
		})
		return err
	})
	for i, err := range errs {
		checkNoErr(t, fmt.Sprintf("EnsureTransportKey %d", i), err)
	}
	for i := 1; i < n; i++ {
		if !bytes.Equal(keys[i].PrivatePEM, keys[0].PrivatePEM) {
			t.Fatalf("replica %d got key %q, replica 0 got %q: want one key for all", i, keys[i].PrivatePEM, keys[0].PrivatePEM)
		}
	}
}
