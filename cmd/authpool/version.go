package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
)

// printVersion prints the module version and the VCS revision the binary
// was built from, from its build information.
func printVersion(_ context.Context, _ []string, _ func(string) string, stdout, _ io.Writer) error {
	bi, _ := debug.ReadBuildInfo()
	fmt.Fprint(stdout, versionText(bi))
	return nil
}

// moduleVersion is the -ldflags version if set, else the module version
// the Go toolchain stamped ("(devel)" or a pseudo-version for a build
// from a checkout, a tag for `go install ...@v1.2.3`).
func moduleVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(unknown)"
}

// versionText renders the build information: module version, VCS
// revision and time, whether the tree had local changes, Go version.
func versionText(bi *debug.BuildInfo) string {
	v := version
	if v == "" && bi != nil {
		v = bi.Main.Version
	}
	if v == "" {
		v = "(unknown)"
	}
	out := "authpool " + v + "\n"
	settings := map[string]string{}
	if bi != nil {
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
	}
	if rev := settings["vcs.revision"]; rev != "" {
		out += "revision " + rev
		if t := settings["vcs.time"]; t != "" {
			out += " (" + t + ")"
		}
		if settings["vcs.modified"] == "true" {
			out += ", with local changes"
		}
		out += "\n"
	} else {
		out += "revision unknown (this build carries no VCS information; go build or go install in a git clone records it)\n"
	}
	if bi != nil && bi.GoVersion != "" {
		out += fmt.Sprintf("built with %s\n", bi.GoVersion)
	}
	return out
}
