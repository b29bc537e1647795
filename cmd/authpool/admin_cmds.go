package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authpool/authpool/client"
)

// adminCmds lists every `authpool admin` subcommand; the help text is
// built from it.
var adminCmds = slices.Concat(coreCmds, mfaCmds, importCmds, hookCmds, appCmds, connectorCmds, signingKeyCmds, adminKeyCmds, keyCmds)

// coreCmds manage pools, fields, users, sessions and the audit log;
// hookCmds (admin_hooks.go) pipelines and webhooks; appCmds
// (admin_apps.go) applications (OAuth clients); signingKeyCmds
// (admin_signingkeys.go) the token signing keys; keyCmds
// (admin_key.go) the administrator key.
var coreCmds = []adminCmd{
	{group: "pools", help: "list user pools", run: poolsList},
	{group: "pools", verb: "get", args: "[<poolId>]", max: 1, help: "show a pool's settings (default: -pool)", run: poolsGet},
	{group: "pools", verb: "create", flags: []string{"name", "id"}, help: "create a user pool", run: poolsCreate},
	{group: "pools", verb: "set", args: "<setting>=<value>...", min: 1, max: 100, flags: []string{"name"}, help: "change settings of -pool, e.g. verifyOldEmail=false tokenTTL=24h", run: poolsSet},

	{group: "fields", verb: "list", help: "list user-defined fields", run: fieldsList},
	{group: "fields", verb: "define", args: "<key> <STRING|NUMBER|BOOLEAN|DATETIME|OBJECT>", min: 2, max: 2, flags: []string{"label", "description", "user-editable"}, help: "define a field", run: fieldsDefine},
	{group: "fields", verb: "update", args: "<key>", min: 1, max: 1, flags: []string{"label", "description", "type", "user-editable"}, help: "change a field's label, description, type or whether users may edit it", run: fieldsUpdate},
	{group: "fields", verb: "delete", args: "<key>", min: 1, max: 1, help: "delete a field and every value of it", run: fieldsDelete},

	{group: "users", verb: "list", flags: []string{"search", "offset", "limit"}, help: "list users, newest first", run: usersList},
	{group: "users", verb: "get", args: "<userId>", min: 1, max: 1, help: "show a user", run: usersGet},
	{group: "users", verb: "create", flags: []string{"email", "username", "phone", "password", "password-file", "email-verified", "phone-verified"}, help: "create a user", run: usersCreate},
	{group: "users", verb: "block", args: "<userId>", min: 1, max: 1, help: "block a user and end their sessions", run: usersBlock},
	{group: "users", verb: "unblock", args: "<userId>", min: 1, max: 1, help: "let a blocked user log in again", run: usersUnblock},
	{group: "users", verb: "delete", args: "<userId>", min: 1, max: 1, help: "delete a user", run: usersDelete},
	{group: "users", verb: "verify", args: "<userId>", min: 1, max: 1, flags: []string{"email-verified", "phone-verified"}, help: "set verified flags (-email-verified=true|false)", run: usersVerify},

	{group: "sessions", verb: "list", args: "<userId>", min: 1, max: 1, help: "list a user's alive sessions", run: sessionsList},
	{group: "sessions", verb: "revoke", args: "<userId> [<sessionId>]", min: 1, max: 2, help: "end one session, or all of the user's", run: sessionsRevoke},

	{group: "audit", flags: []string{"user", "event", "since", "until", "limit"}, help: "show the audit log, newest first", run: auditList},
}

func poolsList(ctx context.Context, e *adminEnv, _ []string) error {
	pools, err := e.mc.ListPools(ctx)
	if err != nil {
		return err
	}
	return e.print(pools, func(w io.Writer) {
		fmt.Fprintln(w, "ID\tNAME\tDEFAULT\tCREATED")
		for _, p := range pools {
			fmt.Fprintf(w, "%s\t%s\t%t\t%s\n", p.ID, p.Name, p.IsDefault, fmtTime(p.CreatedAt))
		}
	})
}

func printPool(e *adminEnv, p *client.Pool) error {
	return e.print(p, func(w io.Writer) {
		fmt.Fprintf(w, "id\t%s\nname\t%s\ndefault\t%t\ncreated\t%s\n\nSETTING\tVALUE\n", p.ID, p.Name, p.IsDefault, fmtTime(p.CreatedAt))
		names := make([]string, 0, len(p.Settings))
		for n := range p.Settings {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			fmt.Fprintf(w, "%s\t%v\n", n, p.Settings[n])
		}
	})
}

func poolsGet(ctx context.Context, e *adminEnv, args []string) error {
	id := e.pool
	if len(args) == 1 {
		id = args[0]
	}
	p, err := e.mc.GetPool(ctx, id)
	if err != nil {
		return err
	}
	return printPool(e, p)
}

func poolsCreate(ctx context.Context, e *adminEnv, _ []string) error {
	p, err := e.mc.CreatePool(ctx, client.CreatePoolRequest{ID: e.flags.id, Name: e.flags.name})
	if err != nil {
		return err
	}
	return printPool(e, p)
}

// poolsSet parses name=value pairs: true/false are booleans, whole
// numbers are numbers, anything else (durations such as 15m) is text.
func poolsSet(ctx context.Context, e *adminEnv, args []string) error {
	in := client.UpdatePoolRequest{Settings: map[string]any{}}
	if e.setFlg["name"] {
		in.Name = &e.flags.name
	}
	for _, a := range args {
		name, val, ok := strings.Cut(a, "=")
		if !ok || name == "" {
			return fmt.Errorf("%q: want <setting>=<value>", a)
		}
		switch {
		case val == "true" || val == "false":
			in.Settings[name] = val == "true"
		default:
			if n, err := strconv.ParseInt(val, 10, 64); err == nil {
				in.Settings[name] = n
			} else {
				in.Settings[name] = val
			}
		}
	}
	p, err := e.mc.UpdatePool(ctx, e.pool, in)
	if err != nil {
		return err
	}
	return printPool(e, p)
}

func printFields(e *adminEnv, v any, fields []client.Field) error {
	return e.print(v, func(w io.Writer) {
		fmt.Fprintln(w, "KEY\tTYPE\tLABEL\tDESCRIPTION\tUSER-EDITABLE")
		for _, f := range fields {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%t\n", f.Key, f.DataType, f.Label, orDash(f.Description), f.UserEditable)
		}
	})
}

func fieldsList(ctx context.Context, e *adminEnv, _ []string) error {
	fields, err := e.mc.ListFields(ctx, e.pool)
	if err != nil {
		return err
	}
	return printFields(e, fields, fields)
}

func fieldsDefine(ctx context.Context, e *adminEnv, args []string) error {
	f, err := e.mc.DefineField(ctx, e.pool, client.DefineFieldRequest{
		Key: args[0], DataType: strings.ToUpper(args[1]), Label: e.flags.label, Description: e.flags.description, UserEditable: e.flags.userEditable,
	})
	if err != nil {
		return err
	}
	return printFields(e, f, []client.Field{*f})
}

func fieldsUpdate(ctx context.Context, e *adminEnv, args []string) error {
	var in client.UpdateFieldRequest
	if e.setFlg["label"] {
		in.Label = &e.flags.label
	}
	if e.setFlg["description"] {
		in.Description = &e.flags.description
	}
	if e.setFlg["type"] {
		in.DataType = &e.flags.dataType
	}
	if e.setFlg["user-editable"] {
		in.UserEditable = &e.flags.userEditable
	}
	f, err := e.mc.UpdateField(ctx, e.pool, args[0], in)
	if err != nil {
		return err
	}
	return printFields(e, f, []client.Field{*f})
}

func fieldsDelete(ctx context.Context, e *adminEnv, args []string) error {
	if err := e.mc.DeleteField(ctx, e.pool, args[0]); err != nil {
		return err
	}
	return e.print(map[string]string{"deleted": args[0]}, func(w io.Writer) {
		fmt.Fprintf(w, "field %s deleted with its values\n", args[0])
	})
}

func usersTable(w io.Writer, users []client.User) {
	fmt.Fprintln(w, "ID\tEMAIL\tUSERNAME\tPHONE\tBLOCKED\tLOGINS\tCREATED")
	for _, u := range users {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%t\t%d\t%s\n", u.ID, orDash(u.Email), orDash(u.Username), orDash(u.Phone), u.Blocked, u.LoginsCount, fmtTime(u.CreatedAt))
	}
}

func usersList(ctx context.Context, e *adminEnv, _ []string) error {
	list, err := e.mc.ListUsers(ctx, e.pool, client.ListUsersOptions{Search: e.flags.search, Offset: e.flags.offset, Limit: e.flags.limit})
	if err != nil {
		return err
	}
	return e.print(list, func(w io.Writer) {
		usersTable(w, list.Users)
		fmt.Fprintf(w, "\n%d-%d of %d\n", min(list.Offset+1, list.Total), list.Offset+len(list.Users), list.Total)
	})
}

func printUser(e *adminEnv, v any, u *client.User) error {
	return e.print(v, func(w io.Writer) {
		row := func(k, v string) { fmt.Fprintf(w, "%s\t%s\n", k, v) }
		row("id", u.ID)
		row("email", orDash(u.Email)+" (verified: "+strconv.FormatBool(u.EmailVerified)+")")
		row("phone", orDash(u.Phone)+" (verified: "+strconv.FormatBool(u.PhoneVerified)+")")
		row("username", orDash(u.Username))
		row("nickname", orDash(u.Nickname))
		row("blocked", strconv.FormatBool(u.Blocked))
		row("logins", strconv.Itoa(u.LoginsCount))
		row("last login", fmtTime(u.LastLogin)+" from "+orDash(u.LastIP))
		row("created", fmtTime(u.CreatedAt))
		keys := make([]string, 0, len(u.CustomData))
		for k := range u.CustomData {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			row("data."+k, dataText(u.CustomData[k]))
		}
	})
}

func usersGet(ctx context.Context, e *adminEnv, args []string) error {
	u, err := e.mc.GetUser(ctx, e.pool, args[0])
	if err != nil {
		return err
	}
	return printUser(e, u, u)
}

func usersCreate(ctx context.Context, e *adminEnv, _ []string) error {
	pw := e.flags.password
	if e.flags.passwordFile != "" {
		b, err := os.ReadFile(e.flags.passwordFile)
		if err != nil {
			return err
		}
		pw = strings.TrimRight(string(b), "\r\n")
	}
	u, err := e.mc.CreateUser(ctx, e.pool, client.CreateUserRequest{
		Email: e.flags.email, Username: e.flags.username, Phone: e.flags.phone, Password: pw,
		EmailVerified: e.flags.emailVerified, PhoneVerified: e.flags.phoneVerified,
	})
	if err != nil {
		return err
	}
	return printUser(e, u, u)
}

func usersBlock(ctx context.Context, e *adminEnv, args []string) error {
	b, err := e.mc.BlockUser(ctx, e.pool, args[0])
	if err != nil {
		return err
	}
	return e.print(b, func(w io.Writer) {
		fmt.Fprintf(w, "user %s blocked; %d session(s) ended\n", b.ID, b.SessionsRevoked)
	})
}

func usersUnblock(ctx context.Context, e *adminEnv, args []string) error {
	u, err := e.mc.UnblockUser(ctx, e.pool, args[0])
	if err != nil {
		return err
	}
	return e.print(u, func(w io.Writer) { fmt.Fprintf(w, "user %s unblocked\n", u.ID) })
}

func usersDelete(ctx context.Context, e *adminEnv, args []string) error {
	if err := e.mc.DeleteUser(ctx, e.pool, args[0]); err != nil {
		return err
	}
	return e.print(map[string]string{"deleted": args[0]}, func(w io.Writer) { fmt.Fprintf(w, "user %s deleted\n", args[0]) })
}

func usersVerify(ctx context.Context, e *adminEnv, args []string) error {
	var in client.UpdateUserRequest
	if e.setFlg["email-verified"] {
		in.EmailVerified = &e.flags.emailVerified
	}
	if e.setFlg["phone-verified"] {
		in.PhoneVerified = &e.flags.phoneVerified
	}
	if in.EmailVerified == nil && in.PhoneVerified == nil {
		return fmt.Errorf("give -email-verified=true|false and/or -phone-verified=true|false")
	}
	u, err := e.mc.UpdateUser(ctx, e.pool, args[0], in)
	if err != nil {
		return err
	}
	return printUser(e, u, u)
}

func sessionsList(ctx context.Context, e *adminEnv, args []string) error {
	list, err := e.mc.ListUserSessions(ctx, e.pool, args[0])
	if err != nil {
		return err
	}
	return e.print(list, func(w io.Writer) {
		fmt.Fprintln(w, "ID\tCREATED\tEXPIRES\tIP\tUSER AGENT")
		for _, s := range list {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", s.ID, fmtTime(s.CreatedAt), fmtTime(s.ExpiresAt), orDash(s.ClientIP), orDash(s.UserAgent))
		}
	})
}

func sessionsRevoke(ctx context.Context, e *adminEnv, args []string) error {
	if len(args) == 2 {
		if err := e.mc.RevokeSession(ctx, e.pool, args[0], args[1]); err != nil {
			return err
		}
		return e.print(map[string]int{"revoked": 1}, func(w io.Writer) { fmt.Fprintf(w, "session %s ended\n", args[1]) })
	}
	n, err := e.mc.RevokeUserSessions(ctx, e.pool, args[0])
	if err != nil {
		return err
	}
	return e.print(map[string]int{"revoked": n}, func(w io.Writer) { fmt.Fprintf(w, "%d session(s) of user %s ended\n", n, args[0]) })
}

func auditList(ctx context.Context, e *adminEnv, _ []string) error {
	since, err := timeFlag("since", e.flags.since)
	if err != nil {
		return err
	}
	until, err := timeFlag("until", e.flags.until)
	if err != nil {
		return err
	}
	events, err := e.mc.ListAudit(ctx, e.pool, client.AuditQuery{UserID: e.flags.user, Event: e.flags.event, Since: since, Until: until, Limit: e.flags.limit})
	if err != nil {
		return err
	}
	return e.print(events, func(w io.Writer) {
		fmt.Fprintln(w, "TIME\tEVENT\tUSER\tIP\tDETAIL")
		for _, ev := range events {
			keys := make([]string, 0, len(ev.Detail))
			for k := range ev.Detail {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			var d []string
			for _, k := range keys {
				d = append(d, k+"="+ev.Detail[k])
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", fmtTime(ev.CreatedAt), ev.Event, orDash(ev.UserID), orDash(ev.ClientIP), orDash(strings.Join(d, " ")))
		}
	})
}

// dataText shows a user-defined value: text as is, times in RFC 3339,
// everything else (numbers, booleans, objects) as JSON.
func dataText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
