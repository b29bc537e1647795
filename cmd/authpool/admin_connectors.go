package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/authpool/authpool/client"
)

// connectorCmds manage a pool's connectors (upstream identity providers,
// docs/SOCIAL.md). The client secret is read from a file, never a flag
// (other local users see command lines), and never printed.
var connectorCmds = []adminCmd{
	{group: "connectors", verb: "list", help: "list connectors (upstream identity providers)", run: connectorsList},
	{group: "connectors", verb: "get", args: "<id>", min: 1, max: 1, help: "show a connector", run: connectorsGet},
	{group: "connectors", verb: "create", args: "<id>", min: 1, max: 1,
		flags: []string{"type", "label", "icon", "client-id", "client-secret-file", "issuer", "auth-url", "token-url", "userinfo-url", "scopes", "claim", "team-id", "key-id", "tenant", "disabled"},
		help:  "create a connector of -type oidc (-issuer) or oauth2 (-auth-url, -token-url, -userinfo-url, -claim subject=...); prints the callback URL to register upstream", run: connectorsCreate},
	{group: "connectors", verb: "update", args: "<id>", min: 1, max: 1,
		flags: []string{"label", "icon", "client-id", "client-secret-file", "issuer", "auth-url", "token-url", "userinfo-url", "scopes", "claim", "team-id", "key-id", "tenant", "disabled"},
		help:  "change a connector (-disabled=true|false; -claim replaces the mapping; the type never changes)", run: connectorsUpdate},
	{group: "connectors", verb: "delete", args: "<id>", min: 1, max: 1, help: "delete a connector (the identities it linked stay)", run: connectorsDelete},
}

func printConnector(e *adminEnv, c *client.Connector) error {
	return e.print(c, func(w io.Writer) {
		row := func(k, v string) { fmt.Fprintf(w, "%s\t%s\n", k, v) }
		row("id", c.ID)
		row("type", c.Type)
		row("label", c.Label)
		row("enabled", strconv.FormatBool(c.Enabled))
		row("client id", c.ClientID)
		row("client secret", map[bool]string{true: "stored (never shown)", false: "-"}[c.HasSecret])
		row("issuer", orDash(c.Issuer))
		row("endpoints", orDash(strings.TrimSpace(c.AuthURL+" "+c.TokenURL+" "+c.UserInfoURL)))
		row("scopes", orDash(strings.Join(c.Scopes, " ")))
		if c.TeamID != "" || c.KeyID != "" || c.Tenant != "" {
			row("team / key / tenant", orDash(c.TeamID)+" / "+orDash(c.KeyID)+" / "+orDash(c.Tenant))
		}
		var claims []string
		for k, v := range c.ClaimMap {
			claims = append(claims, k+"="+v)
		}
		row("claims", orDash(strings.Join(claims, " ")))
		row("callback url", c.CallbackURL+"  (register it at the upstream)")
		row("created", fmtTime(c.CreatedAt))
		row("updated", fmtTime(c.UpdatedAt))
	})
}

func connectorsList(ctx context.Context, e *adminEnv, _ []string) error {
	list, err := e.mc.ListConnectors(ctx, e.pool)
	if err != nil {
		return err
	}
	return e.print(list, func(w io.Writer) {
		fmt.Fprintln(w, "ID\tTYPE\tLABEL\tENABLED\tCREATED")
		for _, c := range list {
			fmt.Fprintf(w, "%s\t%s\t%s\t%t\t%s\n", c.ID, c.Type, c.Label, c.Enabled, fmtTime(c.CreatedAt))
		}
	})
}

func connectorsGet(ctx context.Context, e *adminEnv, args []string) error {
	c, err := e.mc.GetConnector(ctx, e.pool, args[0])
	if err != nil {
		return err
	}
	return printConnector(e, c)
}

// connectorSecret reads -client-secret-file (trailing newline dropped).
func connectorSecret(e *adminEnv) (*string, error) {
	if !e.setFlg["client-secret-file"] {
		return nil, nil
	}
	b, err := os.ReadFile(e.flags.clientSecretFile)
	if err != nil {
		return nil, err
	}
	s := strings.TrimRight(string(b), "\r\n")
	return &s, nil
}

func claimMap(list []string) (map[string]string, error) {
	m := map[string]string{}
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("-claim %q: want name=key", kv)
		}
		m[k] = v
	}
	return m, nil
}

func connectorsCreate(ctx context.Context, e *adminEnv, args []string) error {
	f := e.flags
	secret, err := connectorSecret(e)
	if err != nil {
		return err
	}
	claims, err := claimMap(f.claims)
	if err != nil {
		return err
	}
	enabled := !f.disabled
	in := client.CreateConnectorRequest{
		ID: args[0], Type: f.dataType, Label: f.label, Icon: f.icon, Enabled: &enabled, ClientID: f.clientID,
		Issuer: f.issuer, AuthURL: f.authURL, TokenURL: f.tokenURL, UserInfoURL: f.userInfoURL, Scopes: splitList(f.scopes),
		TeamID: f.teamID, KeyID: f.keyID, Tenant: f.tenant,
	}
	if len(claims) > 0 {
		in.ClaimMap = claims
	}
	if secret != nil {
		in.ClientSecret = *secret
	}
	c, err := e.mc.CreateConnector(ctx, e.pool, in)
	if err != nil {
		return err
	}
	return printConnector(e, c)
}

func connectorsUpdate(ctx context.Context, e *adminEnv, args []string) error {
	f := e.flags
	var in client.UpdateConnectorRequest
	str := func(flag string, v string) *string {
		if e.setFlg[flag] {
			return &v
		}
		return nil
	}
	in.Label, in.Icon, in.ClientID, in.Issuer = str("label", f.label), str("icon", f.icon), str("client-id", f.clientID), str("issuer", f.issuer)
	in.AuthURL, in.TokenURL, in.UserInfoURL = str("auth-url", f.authURL), str("token-url", f.tokenURL), str("userinfo-url", f.userInfoURL)
	in.TeamID, in.KeyID, in.Tenant = str("team-id", f.teamID), str("key-id", f.keyID), str("tenant", f.tenant)
	if e.setFlg["scopes"] {
		l := splitList(f.scopes)
		if l == nil {
			l = []string{}
		}
		in.Scopes = &l
	}
	if e.setFlg["claim"] {
		m, err := claimMap(f.claims)
		if err != nil {
			return err
		}
		in.ClaimMap = &m
	}
	if e.setFlg["disabled"] {
		enabled := !f.disabled
		in.Enabled = &enabled
	}
	var err error
	if in.ClientSecret, err = connectorSecret(e); err != nil {
		return err
	}
	c, err := e.mc.UpdateConnector(ctx, e.pool, args[0], in)
	if err != nil {
		return err
	}
	return printConnector(e, c)
}

func connectorsDelete(ctx context.Context, e *adminEnv, args []string) error {
	if err := e.mc.DeleteConnector(ctx, e.pool, args[0]); err != nil {
		return err
	}
	return e.print(map[string]string{"deleted": args[0]}, func(w io.Writer) { fmt.Fprintf(w, "connector %s deleted\n", args[0]) })
}
