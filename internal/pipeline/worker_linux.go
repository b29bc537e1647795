package pipeline

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// limitMemory caps the worker's address space, so that even one huge
// allocation (new ArrayBuffer(2e9), a string doubled past the limit) fails
// at once instead of growing the process: the runtime then ends the worker
// with "out of memory". The cap is the address space the process already
// uses plus room for the heap's limit and the runtime's own reservations.
// The race detector reserves terabytes of shadow address space, so race
// builds (tests) rely on the watchdog alone.
func limitMemory(limit int64) {
	if raceEnabled {
		return
	}
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return
	}
	pages, err := strconv.ParseUint(f[0], 10, 64)
	if err != nil {
		return
	}
	as := pages*uint64(os.Getpagesize()) + 2*uint64(limit) + 512<<20
	_ = syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: as, Max: as})
}

// isolate makes a worker die with the server (it must never outlive it).
func isolate(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
