// Command authpool runs the authpool user-authentication server.
//
//	authpool [serve]   start the server (the default)
//	authpool migrate   apply database migrations and exit
//	authpool admin ... administer a running server over its admin API
//	                   (admin reset-key: replace a lost administrator key)
//	authpool version   print the module version and VCS revision
//	authpool help      the commands, their flags and every AUTHPOOL_* setting
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "authpool:", err)
		os.Exit(1)
	}
}
