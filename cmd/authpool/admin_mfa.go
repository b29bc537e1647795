package main

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/authpool/authpool/client"
)

// mfaCmds show and manage a user's second factors (docs/MFA.md); the
// pool's policy is the setting mfaPolicy (pools set mfaPolicy=required).
var mfaCmds = []adminCmd{
	{group: "mfa", verb: "get", args: "<userId>", min: 1, max: 1, help: "show a user's second factors (never secrets)", run: mfaGet},
	{group: "mfa", verb: "require", args: "<userId> <true|false>", min: 2, max: 2, help: "require MFA of one user whatever the pool's policy", run: mfaRequire},
	{group: "mfa", verb: "reset", args: "<userId>", min: 1, max: 1, help: "remove a user's factors and recovery codes and end their sessions", run: mfaReset},
}

func printMFA(e *adminEnv, st *client.MFAStatus) error {
	return e.print(st, func(w io.Writer) {
		fmt.Fprintf(w, "required by an administrator: %t\nrecovery codes left: %d\n", st.Required, st.RecoveryCodesLeft)
		fmt.Fprintln(w, "KIND\tCONFIRMED\tCREATED\tLAST USED")
		for _, f := range st.Factors {
			fmt.Fprintf(w, "%s\t%t\t%s\t%s\n", f.Kind, f.Confirmed, fmtTime(f.CreatedAt), fmtTime(f.LastUsedAt))
		}
	})
}

func mfaGet(ctx context.Context, e *adminEnv, args []string) error {
	st, err := e.mc.GetUserMFA(ctx, e.pool, args[0])
	if err != nil {
		return err
	}
	return printMFA(e, st)
}

func mfaRequire(ctx context.Context, e *adminEnv, args []string) error {
	req, err := strconv.ParseBool(args[1])
	if err != nil {
		return fmt.Errorf("mfa require: want true or false, got %q", args[1])
	}
	st, err := e.mc.SetUserMFARequired(ctx, e.pool, args[0], req)
	if err != nil {
		return err
	}
	return printMFA(e, st)
}

func mfaReset(ctx context.Context, e *adminEnv, args []string) error {
	r, err := e.mc.ResetUserMFA(ctx, e.pool, args[0])
	if err != nil {
		return err
	}
	return e.print(r, func(w io.Writer) {
		fmt.Fprintf(w, "user %s: %d factor(s) removed; %d session(s) ended\n", args[0], r.FactorsRemoved, r.SessionsRevoked)
	})
}
