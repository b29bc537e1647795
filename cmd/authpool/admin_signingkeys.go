package main

import (
	"context"
	"fmt"
	"io"

	"github.com/authpool/authpool/client"
)

// signingKeyCmds list and rotate the token signing keys (not the
// administrator key: that is reset-key).
var signingKeyCmds = []adminCmd{
	{group: "keys", verb: "list", help: "list the token signing keys (kid, algorithm, state, times; never private material)", run: signingKeysList},
	{group: "keys", verb: "rotate", help: "add a token signing key: published at once, it signs after the server's lead time", run: signingKeysRotate},
}

// retiresAt prints a key's retirement time, or "-".
func retiresAt(k client.SigningKey) string {
	if k.RetiresAt == nil {
		return "-"
	}
	return fmtTime(*k.RetiresAt)
}

func signingKeysList(ctx context.Context, e *adminEnv, _ []string) error {
	keys, err := e.mc.ListSigningKeys(ctx)
	if err != nil {
		return err
	}
	return e.print(keys, func(w io.Writer) {
		fmt.Fprintln(w, "KID\tALGORITHM\tSTATE\tCREATED\tSIGNS FROM\tRETIRES AT")
		for _, k := range keys {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", k.Kid, k.Algorithm, k.State, fmtTime(k.CreatedAt), fmtTime(k.SignsFrom), retiresAt(k))
		}
	})
}

func signingKeysRotate(ctx context.Context, e *adminEnv, _ []string) error {
	k, err := e.mc.RotateSigningKey(ctx)
	if err != nil {
		return err
	}
	return e.print(k, func(w io.Writer) {
		fmt.Fprintf(w, "kid\t%s\n", k.Kid)
		fmt.Fprintf(w, "algorithm\t%s\n", k.Algorithm)
		fmt.Fprintf(w, "state\t%s\n", k.State)
		fmt.Fprintf(w, "created\t%s\n", fmtTime(k.CreatedAt))
		fmt.Fprintf(w, "signs from\t%s  (published now; the current key signs until then)\n", fmtTime(k.SignsFrom))
	})
}
