package argon2

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"

	xargon2 "golang.org/x/crypto/argon2"
)

// TestSameAsXCrypto compares every derivation with x/crypto's, in one
// Memory reused across parameters (so each runs in an area the previous
// one left dirty, sometimes larger than it needs), and in areas filled
// with ones.
func TestSameAsXCrypto(t *testing.T) {
	var m Memory
	type params struct {
		time, memory uint32
		threads      uint8
		keyLen       uint32
	}
	var ps []params
	for _, threads := range []uint8{1, 2, 3, 4} {
		for _, time := range []uint32{1, 2, 3} {
			for _, memory := range []uint32{8, 64, 97, 256, 1024, 4096} {
				ps = append(ps, params{time, memory, threads, 32})
			}
		}
	}
	ps = append(ps, params{2, 19 * 1024, 1, 32}, params{1, 64, 1, 16}, params{1, 64, 1, 64}, params{1, 64, 1, 100})
	for i, p := range ps {
		pw := []byte(fmt.Sprintf("password %d", i))
		salt := []byte(fmt.Sprintf("salt of %d", i*7919))
		want := xargon2.IDKey(pw, salt, p.time, p.memory, p.threads, p.keyLen)
		if got := m.IDKey(pw, salt, p.time, p.memory, p.threads, p.keyLen); !bytes.Equal(got, want) {
			t.Fatalf("%+v reused: %x, x/crypto %x", p, got, want)
		}
		var dirty Memory
		dirty.b = make([]block, p.memory+8)
		for j := range dirty.b {
			for k := range dirty.b[j] {
				dirty.b[j][k] = ^uint64(0)
			}
		}
		if got := dirty.IDKey(pw, salt, p.time, p.memory, p.threads, p.keyLen); !bytes.Equal(got, want) {
			t.Fatalf("%+v in ones: %x, x/crypto %x", p, got, want)
		}
	}
	if m.Bytes() != 19*1024*1024 {
		t.Errorf("area %d bytes, want the largest parameter's 19 MiB", m.Bytes())
	}
}

// TestRepeatedSameArea derives one key three times in one area, with four
// lanes (each lane of the area dirty from the derivation before).
func TestRepeatedSameArea(t *testing.T) {
	var m Memory
	pw := bytes.Repeat([]byte{1}, 32)
	salt := bytes.Repeat([]byte{2}, 16)
	want := xargon2.IDKey(pw, salt, 3, 32, 4, 32)
	for range 3 {
		if got := m.IDKey(pw, salt, 3, 32, 4, 32); !bytes.Equal(got, want) {
			t.Fatalf("got %x, want %x", got, want)
		}
	}
}

func BenchmarkIDKeyReused(b *testing.B) {
	var m Memory
	for b.Loop() {
		m.IDKey([]byte("passw0rd!"), []byte("0123456789abcdef"), 2, 19*1024, 1, 32)
	}
}

func BenchmarkIDKeyXCrypto(b *testing.B) {
	for b.Loop() {
		xargon2.IDKey([]byte("passw0rd!"), []byte("0123456789abcdef"), 2, 19*1024, 1, 32)
	}
}

// TestAreaOutlivesDroppedMemory derives keys in Memories the caller drops
// at once (new(Memory).IDKey) while another goroutine collects garbage
// without pause: the area must stay mapped until the derivation ends. A
// collection mid-derivation used to run the cleanup that unmaps the area
// (SIGSEGV in processBlocks, seen in CI).
func TestAreaOutlivesDroppedMemory(t *testing.T) {
	pw, salt := []byte("password"), []byte("0123456789abcdef")
	want := xargon2.IDKey(pw, salt, 2, 2048, 2, 32)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				runtime.GC()
			}
		}
	}()
	defer func() { close(stop); <-done }()
	for range 200 {
		if got := new(Memory).IDKey(pw, salt, 2, 2048, 2, 32); !bytes.Equal(got, want) {
			t.Fatalf("got %x, want %x", got, want)
		}
	}
}
