//go:build !linux

package pipeline

import "os/exec"

// limitMemory: only Linux caps a worker's address space; elsewhere the
// watchdog and the server's kill on overrun bound it.
func limitMemory(int64) {}

func isolate(*exec.Cmd) {}
