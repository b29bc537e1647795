package main

import (
	"context"
	"fmt"
	"io"

	"github.com/authpool/authpool/client"
)

// adminKeyCmds manage named administrator keys (one per operator,
// optionally read-only), with the administrator key.
var adminKeyCmds = []adminCmd{
	{group: "admin-keys", verb: "create", args: "<name>", min: 1, max: 1, flags: []string{"read-only"},
		help: "make a named administrator key (printed once; -read-only: it may only read)", run: adminKeysCreate},
	{group: "admin-keys", verb: "list", help: "list the named administrator keys (never their secrets)", run: adminKeysList},
	{group: "admin-keys", verb: "revoke", args: "<keyId>", min: 1, max: 1, help: "revoke a named key: it stops at once, its console sessions end", run: adminKeysRevoke},
}

func keyRole(k client.NamedAdminKey) string {
	if k.ReadOnly {
		return "read-only"
	}
	return "full"
}

func adminKeysCreate(ctx context.Context, e *adminEnv, args []string) error {
	k, err := e.mc.CreateAdminKey(ctx, args[0], e.flags.readOnly)
	if err != nil {
		return err
	}
	return e.print(k, func(w io.Writer) {
		fmt.Fprintf(w, "id\t%s\n", k.ID)
		fmt.Fprintf(w, "name\t%s\n", k.Name)
		fmt.Fprintf(w, "role\t%s\n", keyRole(k.NamedAdminKey))
		fmt.Fprintf(w, "key\t%s  (shown once: the server keeps only its hash)\n", k.Key)
	})
}

func adminKeysList(ctx context.Context, e *adminEnv, _ []string) error {
	keys, err := e.mc.ListAdminKeys(ctx)
	if err != nil {
		return err
	}
	return e.print(keys, func(w io.Writer) {
		fmt.Fprintln(w, "ID\tNAME\tROLE\tCREATED\tREVOKED")
		for _, k := range keys {
			revoked := "-"
			if k.RevokedAt != nil {
				revoked = fmtTime(*k.RevokedAt)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, keyRole(k), fmtTime(k.CreatedAt), revoked)
		}
	})
}

func adminKeysRevoke(ctx context.Context, e *adminEnv, args []string) error {
	if err := e.mc.RevokeAdminKey(ctx, args[0]); err != nil {
		return err
	}
	fmt.Fprintf(e.out, "revoked %s\n", args[0])
	return nil
}
