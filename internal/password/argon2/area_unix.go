//go:build unix

package argon2

import (
	"runtime"
	"syscall"
	"unsafe"
)

// newArea maps n blocks of anonymous memory outside the Go heap: an area
// lives as long as its hasher slot, and on the heap it would count as live
// data, so the collector would let garbage grow in proportion to it
// (GOGC: 100 % of 38 MiB of areas is 38 MiB of garbage allowed on top).
// The kernel gives the pages zeroed and on first touch.
func newArea(m *Memory, n uint32) {
	mem, err := syscall.Mmap(-1, 0, int(n)*blockLength*8, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		// Out of address space or mappings: the heap then (the hash must
		// not fail for it).
		m.b = make([]block, n)
		return
	}
	m.b = unsafe.Slice((*block)(unsafe.Pointer(&mem[0])), n)
	m.unmap = runtime.AddCleanup(m, func(mem []byte) { _ = syscall.Munmap(mem) }, mem)
	m.mapped = mem
}

// freeArea unmaps the area now rather than when m is collected.
func freeArea(m *Memory) {
	if m.mapped != nil {
		m.unmap.Stop()
		_ = syscall.Munmap(m.mapped)
	}
	m.b, m.mapped = nil, nil
}
