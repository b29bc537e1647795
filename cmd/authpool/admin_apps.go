package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/authpool/authpool/client"
)

// appCmds manage applications (OAuth / OpenID Connect clients).
var appCmds = []adminCmd{
	{group: "apps", verb: "list", help: "list applications (OAuth clients)", run: appsList},
	{group: "apps", verb: "get", args: "<appId>", min: 1, max: 1, help: "show an application", run: appsGet},
	{group: "apps", verb: "create", flags: []string{"name", "type", "redirect-uris", "logout-uris", "scopes", "first-party", "access-ttl", "id-ttl", "refresh-ttl"},
		help: "create an application of -type web, spa, native or machine; a web or machine app's client secret is shown once", run: appsCreate},
	{group: "apps", verb: "update", args: "<appId>", min: 1, max: 1, flags: []string{"name", "redirect-uris", "logout-uris", "scopes", "first-party", "access-ttl", "id-ttl", "refresh-ttl"},
		help: "change an application (a list flag replaces the list; the type never changes)", run: appsUpdate},
	{group: "apps", verb: "delete", args: "<appId>", min: 1, max: 1, help: "delete an application; its credentials stop working at once", run: appsDelete},
	{group: "apps", verb: "rotate-secret", args: "<appId>", min: 1, max: 1, help: "give a web or machine app a new client secret (shown once); the old one stops working at once", run: appsRotateSecret},
}

func appsTable(w io.Writer, list []client.App) {
	fmt.Fprintln(w, "ID\tTYPE\tNAME\tFIRST PARTY\tREDIRECT URIS\tCREATED")
	for _, a := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\t%t\t%s\t%s\n", a.ID, a.Type, a.Name, a.FirstParty, orDash(strings.Join(a.RedirectURIs, ",")), fmtTime(a.CreatedAt))
	}
}

func printApp(e *adminEnv, a *client.App) error {
	return e.print(a, func(w io.Writer) {
		row := func(k, v string) { fmt.Fprintf(w, "%s\t%s\n", k, v) }
		row("id", a.ID)
		row("name", a.Name)
		row("type", a.Type)
		if a.ClientSecret != "" {
			row("client secret", a.ClientSecret+"  (shown this once: keep it)")
		}
		row("redirect uris", orDash(strings.Join(a.RedirectURIs, " ")))
		row("logout uris", orDash(strings.Join(a.PostLogoutRedirectURIs, " ")))
		row("scopes", orDash(strings.Join(a.Scopes, " ")))
		row("first party", strconv.FormatBool(a.FirstParty))
		row("token lifetimes", "access "+a.AccessTokenTTL+", id "+a.IDTokenTTL+", refresh "+a.RefreshTokenTTL)
		row("created", fmtTime(a.CreatedAt))
		row("updated", fmtTime(a.UpdatedAt))
	})
}

func appsList(ctx context.Context, e *adminEnv, _ []string) error {
	list, err := e.mc.ListApps(ctx, e.pool)
	if err != nil {
		return err
	}
	return e.print(list, func(w io.Writer) { appsTable(w, list) })
}

func appsGet(ctx context.Context, e *adminEnv, args []string) error {
	a, err := e.mc.GetApp(ctx, e.pool, args[0])
	if err != nil {
		return err
	}
	return printApp(e, a)
}

func appsCreate(ctx context.Context, e *adminEnv, _ []string) error {
	f := e.flags
	in := client.CreateAppRequest{
		Name: f.name, Type: f.dataType, RedirectURIs: splitList(f.redirectURIs), PostLogoutRedirectURIs: splitList(f.logoutURIs),
		FirstParty: f.firstParty, AccessTokenTTL: f.accessTTL, IDTokenTTL: f.idTTL, RefreshTokenTTL: f.refreshTTL,
	}
	if e.setFlg["scopes"] {
		in.Scopes = splitList(f.scopes)
	}
	a, err := e.mc.CreateApp(ctx, e.pool, in)
	if err != nil {
		return err
	}
	return printApp(e, a)
}

func appsUpdate(ctx context.Context, e *adminEnv, args []string) error {
	f := e.flags
	var in client.UpdateAppRequest
	str := func(flag string, v string) *string {
		if e.setFlg[flag] {
			return &v
		}
		return nil
	}
	list := func(flag string, v string) *[]string {
		if e.setFlg[flag] {
			l := splitList(v)
			if l == nil {
				l = []string{}
			}
			return &l
		}
		return nil
	}
	in.Name, in.AccessTokenTTL, in.IDTokenTTL, in.RefreshTokenTTL = str("name", f.name), str("access-ttl", f.accessTTL), str("id-ttl", f.idTTL), str("refresh-ttl", f.refreshTTL)
	in.RedirectURIs, in.PostLogoutRedirectURIs, in.Scopes = list("redirect-uris", f.redirectURIs), list("logout-uris", f.logoutURIs), list("scopes", f.scopes)
	if e.setFlg["first-party"] {
		in.FirstParty = &f.firstParty
	}
	a, err := e.mc.UpdateApp(ctx, e.pool, args[0], in)
	if err != nil {
		return err
	}
	return printApp(e, a)
}

func appsDelete(ctx context.Context, e *adminEnv, args []string) error {
	if err := e.mc.DeleteApp(ctx, e.pool, args[0]); err != nil {
		return err
	}
	return e.print(map[string]string{"deleted": args[0]}, func(w io.Writer) { fmt.Fprintf(w, "application %s deleted\n", args[0]) })
}

func appsRotateSecret(ctx context.Context, e *adminEnv, args []string) error {
	a, err := e.mc.RotateAppSecret(ctx, e.pool, args[0])
	if err != nil {
		return err
	}
	return printApp(e, a)
}
