package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/authpool/authpool/internal/config"
)

// help prints the whole help, or one command's ("authpool help serve").
func help(_ context.Context, args []string, _ func(string) string, stdout, _ io.Writer) error {
	if len(args) > 0 {
		cmd, ok := findCommand(args[0])
		if !ok {
			return fmt.Errorf("help: unknown command %q", args[0])
		}
		commandHelp(stdout, cmd)
		return nil
	}
	fmt.Fprint(stdout, "usage: authpool [<command>] [flags]\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(stdout, "  %-9s %s\n", c.name, c.summary)
		if c.flags != nil {
			printFlags(stdout, c, "              ")
		}
	}
	fmt.Fprintln(stdout)
	settingsHelp(stdout)
	return nil
}

// commandHelp prints one command's usage, flags and, for the commands
// that read the configuration, the settings.
func commandHelp(w io.Writer, c command) {
	if c.name == "admin" {
		adminUsage(w)
		return
	}
	usage := "usage: authpool " + c.name
	if c.flags != nil {
		usage += " [flags]"
	}
	fmt.Fprintf(w, "%s\n\n%s\n", usage, c.summary)
	if c.flags != nil {
		fmt.Fprintln(w, "\nflags:")
		printFlags(w, c, "  ")
	}
	if c.settings {
		fmt.Fprintln(w)
		settingsHelp(w)
	}
}

// printFlags lists the flags c declares, each indented by indent.
func printFlags(w io.Writer, c command, indent string) {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.flags(fs)
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "%s-%s %s  %s\n", indent, f.Name, name, usage)
	})
}

// settingsHelp lists every AUTHPOOL_* variable with its file key, its
// default and its meaning, from config.Variables (so it follows the code).
func settingsHelp(w io.Writer) {
	fmt.Fprint(w, `settings: the built-in defaults, then the JSON file named by AUTHPOOL_CONFIG
(its keys are shown in brackets), then these environment variables. Any of
them may be given as <NAME>_FILE, the path of a file holding the value (for
secrets). README.md explains each in full; "(pool)" settings are the default
pool's first values, which the admin API changes afterwards.

`)
	for _, v := range config.Variables() {
		def := "unset"
		if v.Default != "" {
			def = "default " + v.Default
		}
		key := ""
		if v.FileKey != "" {
			key = " [" + v.FileKey + "]"
		}
		meaning := strings.Replace(v.Meaning, " (default pool's first setting)", " (pool)", 1)
		fmt.Fprintf(w, "  %s%s, %s\n      %s\n", v.Name, key, def, meaning)
	}
}
