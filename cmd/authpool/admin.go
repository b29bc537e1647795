package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/importer"
)

// adminEnv is what every admin subcommand gets: the client, the addressed
// pool, the parsed flags and where to write.
type adminEnv struct {
	mc     *client.ManagementClient
	pool   string
	json   bool
	out    io.Writer
	errOut io.Writer // progress of long commands (import)
	flags  *adminFlags
	setFlg map[string]bool // flags given on the command line
}

// adminFlags are every flag of every admin subcommand; each subcommand
// lists the ones it accepts, and any other is refused.
type adminFlags struct {
	url, key, pool               string
	json                         bool
	label, description, dataType string
	search                       string
	offset, limit                int
	email, username, phone       string
	password, passwordFile       string
	emailVerified, phoneVerified bool
	user, event, since, until    string
	name, id                     string
	// pipelines and webhooks
	stage, scriptFile, endpoint, secret string
	timeout, hosts, events, sampleFile  string
	webhook, eventID, status            string
	order                               int
	disabled, rotateSecret              bool
	env, unsetEnv                       multiFlag
	// applications
	redirectURIs, logoutURIs, scopes string
	accessTTL, idTTL, refreshTTL     string
	firstParty                       bool
	// fields
	userEditable bool
	// connectors
	clientID, clientSecretFile, issuer string
	authURL, tokenURL, userInfoURL     string
	teamID, keyID, tenant              string
	icon                               string
	claims                             multiFlag
	// import and export
	format, source, output, checkpoint string
	dryRun, resume, includeHashes      bool
	hashKey, saltSeparator             string
	rounds, memCost                    int
	// named administrator keys
	readOnly bool
}

// multiFlag is a flag that may be given several times.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func (f *adminFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.url, "url", "", "server URL (default $AUTHPOOL_ADMIN_URL, else http://127.0.0.1:8080)")
	fs.StringVar(&f.key, "key", "", "administrator key (default $AUTHPOOL_ADMIN_KEY or the file $AUTHPOOL_ADMIN_KEY_FILE)")
	fs.StringVar(&f.pool, "pool", "", "user pool id (default $AUTHPOOL_ADMIN_POOL, else the default pool)")
	fs.BoolVar(&f.json, "json", false, "print JSON instead of a table")
	fs.BoolVar(&f.readOnly, "read-only", false, "admin-keys create: the key may only read")
	fs.StringVar(&f.label, "label", "", "field label")
	fs.StringVar(&f.description, "description", "", "field description")
	fs.BoolVar(&f.userEditable, "user-editable", false, "end users may set their own value of the field (-user-editable=false to stop)")
	fs.StringVar(&f.dataType, "type", "", "field data type, or application type: web, spa, native, machine")
	fs.StringVar(&f.search, "search", "", "substring of email, username or phone")
	fs.IntVar(&f.offset, "offset", 0, "users to skip")
	fs.IntVar(&f.limit, "limit", 0, "most rows to return")
	fs.StringVar(&f.email, "email", "", "email address")
	fs.StringVar(&f.username, "username", "", "username")
	fs.StringVar(&f.phone, "phone", "", "phone number (+ and digits)")
	fs.StringVar(&f.password, "password", "", "password (visible to other local users; prefer -password-file)")
	fs.StringVar(&f.passwordFile, "password-file", "", "file holding the password")
	fs.BoolVar(&f.emailVerified, "email-verified", false, "email verified flag")
	fs.BoolVar(&f.phoneVerified, "phone-verified", false, "phone verified flag")
	fs.StringVar(&f.user, "user", "", "user id")
	fs.StringVar(&f.event, "event", "", "event name, e.g. admin.user.block")
	fs.StringVar(&f.since, "since", "", "RFC 3339 time or a duration ago (e.g. 24h)")
	fs.StringVar(&f.until, "until", "", "RFC 3339 time or a duration ago")
	fs.StringVar(&f.name, "name", "", "name (of a pool or a pipeline)")
	fs.StringVar(&f.id, "id", "", "pool id")
	fs.StringVar(&f.stage, "stage", "", "pipeline stage: pre-register, post-register, pre-authentication, post-authentication")
	fs.StringVar(&f.scriptFile, "script-file", "", "file holding a pipeline's JavaScript")
	fs.StringVar(&f.endpoint, "endpoint", "", "URL of an http pipeline or a webhook receiver")
	fs.StringVar(&f.secret, "secret", "", "signing secret (whsec_...; generated when absent)")
	fs.StringVar(&f.timeout, "timeout", "", "pipeline time limit, e.g. 2s (empty: the server's default)")
	fs.StringVar(&f.hosts, "hosts", "", "comma-separated hosts a script's http helper may call")
	fs.Var(&f.env, "env", "NAME=VALUE of a pipeline's env (repeatable)")
	fs.Var(&f.unsetEnv, "unset-env", "NAME of a pipeline env variable to remove (repeatable)")
	fs.IntVar(&f.order, "order", 0, "pipeline's place within its stage")
	fs.BoolVar(&f.disabled, "disabled", false, "create disabled")
	fs.BoolVar(&f.rotateSecret, "rotate-secret", false, "generate a new signing secret")
	fs.StringVar(&f.events, "events", "", "comma-separated webhook event types, or *")
	fs.StringVar(&f.sampleFile, "sample-file", "", `JSON test input: {"user": {...}, "context": {"params": {...}, "request": {...}}}`)
	fs.StringVar(&f.webhook, "webhook", "", "webhook subscription id")
	fs.StringVar(&f.eventID, "event-id", "", "event id (webhook-id, msg_...)")
	fs.StringVar(&f.status, "status", "", "delivery status: pending, delivered or failed")
	fs.StringVar(&f.redirectURIs, "redirect-uris", "", "comma-separated redirect URIs of an application")
	fs.StringVar(&f.logoutURIs, "logout-uris", "", "comma-separated post-logout redirect URIs of an application")
	fs.StringVar(&f.scopes, "scopes", "", "comma-separated scopes an application may ask for")
	fs.StringVar(&f.format, "format", "", "import file format: "+strings.Join(importer.Formats(), ", "))
	fs.StringVar(&f.source, "source", "", "import source name, part of the idempotency key (default: the format)")
	fs.StringVar(&f.output, "o", "", "export file (default: standard output)")
	fs.StringVar(&f.checkpoint, "checkpoint", "", "import checkpoint file (default: FILE.checkpoint)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "check and report, write nothing")
	fs.BoolVar(&f.resume, "resume", false, "continue an interrupted import after its checkpoint")
	fs.BoolVar(&f.includeHashes, "include-hashes", false, "export password hashes too (keep the file secret)")
	fs.StringVar(&f.hashKey, "hash-key", "", "Firebase base64_signer_key")
	fs.StringVar(&f.saltSeparator, "salt-separator", "", "Firebase base64_salt_separator")
	fs.IntVar(&f.rounds, "rounds", 0, "Firebase scrypt rounds")
	fs.IntVar(&f.memCost, "mem-cost", 0, "Firebase scrypt mem_cost")
	fs.BoolVar(&f.firstParty, "first-party", false, "the application is the pool owner's own: no consent page")
	fs.StringVar(&f.clientID, "client-id", "", "a connector's client id at the upstream")
	fs.StringVar(&f.clientSecretFile, "client-secret-file", "", "file holding a connector's client secret (an empty file removes it)")
	fs.StringVar(&f.issuer, "issuer", "", "an oidc connector's issuer URL (found by discovery)")
	fs.StringVar(&f.authURL, "auth-url", "", "an oauth2 connector's authorization endpoint")
	fs.StringVar(&f.tokenURL, "token-url", "", "an oauth2 connector's token endpoint")
	fs.StringVar(&f.userInfoURL, "userinfo-url", "", "an oauth2 connector's userinfo endpoint")
	fs.StringVar(&f.icon, "icon", "", "a connector button's icon (https URL)")
	fs.StringVar(&f.teamID, "team-id", "", "an apple connector's Team ID")
	fs.StringVar(&f.keyID, "key-id", "", "an apple connector's Key ID (of the .p8 key given as -client-secret-file)")
	fs.StringVar(&f.tenant, "tenant", "", "a microsoft connector's tenant (id or domain)")
	fs.Var(&f.claims, "claim", "an oauth2 connector's claim mapping, name=key (subject, email, emailVerified, name, username, picture); repeatable")
	fs.StringVar(&f.accessTTL, "access-ttl", "", "access token lifetime, e.g. 15m (empty: 1h)")
	fs.StringVar(&f.idTTL, "id-ttl", "", "ID token lifetime (empty: 1h)")
	fs.StringVar(&f.refreshTTL, "refresh-ttl", "", "refresh token lifetime (empty: 720h)")
}

// commonFlags apply to every subcommand.
var commonFlags = []string{"url", "key", "pool", "json"}

// adminCmd is one `authpool admin <group> [<verb>]` subcommand.
type adminCmd struct {
	group, verb string
	args        string // positional arguments, for usage
	min, max    int    // how many positional arguments
	flags       []string
	help        string
	run         func(ctx context.Context, e *adminEnv, args []string) error
	// local, instead of run, works on this machine's store, not over the
	// admin API (admin_key.go); it takes no flags.
	local func(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error
}

func adminUsage(w io.Writer) {
	fmt.Fprintln(w, `usage: authpool admin [-url URL] [-key KEY] [-pool ID] [--json] <command> [flags] [args]

Talks to a running server's admin API. The key comes from -key,
AUTHPOOL_ADMIN_KEY or AUTHPOOL_ADMIN_KEY_FILE; the URL from -url or
AUTHPOOL_ADMIN_URL. Flags may come before or after the arguments.
"reset-key" works on this machine's database instead (AUTHPOOL_DATABASE_URL).

commands:`)
	for _, c := range adminCmds {
		parts := []string{c.group}
		if c.verb != "" {
			parts = append(parts, c.verb)
		}
		if c.args != "" {
			parts = append(parts, c.args)
		}
		for _, f := range c.flags {
			parts = append(parts, "[-"+f+"]")
		}
		fmt.Fprintf(w, "  %s\n      %s\n", strings.Join(parts, " "), c.help)
	}
}

// admin runs an admin subcommand over HTTP.
func admin(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var f adminFlags
	fs := flag.NewFlagSet("admin", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f.register(fs)
	pos, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) || err == nil && (len(pos) == 0 || pos[0] == "help") {
		adminUsage(stdout)
		return nil
	}
	if err != nil {
		return fmt.Errorf("admin: %w (see authpool admin help)", err)
	}
	cmd, rest, err := findAdminCmd(pos)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if cmd.local != nil {
		if len(set) > 0 || len(rest) > 0 {
			return fmt.Errorf("admin %s takes no flags or arguments: it works on the database AUTHPOOL_DATABASE_URL names", cmd.group)
		}
		return cmd.local(ctx, getenv, stdout, stderr)
	}
	for name := range set {
		if !slices.Contains(commonFlags, name) && !slices.Contains(cmd.flags, name) {
			return fmt.Errorf("admin %s %s: flag -%s does not apply (see authpool admin help)", cmd.group, cmd.verb, name)
		}
	}
	if len(rest) < cmd.min || len(rest) > cmd.max {
		return fmt.Errorf("admin %s %s: want arguments %s (see authpool admin help)", cmd.group, cmd.verb, strings.TrimSpace(cmd.args+" "))
	}
	e, err := newAdminEnv(&f, set, getenv, stdout)
	if err != nil {
		return err
	}
	e.errOut = stderr
	if err := cmd.run(ctx, e, rest); err != nil {
		var ce *client.Error
		if errors.As(err, &ce) {
			return fmt.Errorf("admin %s %s: %s (code %d, %s)", cmd.group, cmd.verb, ce.Message, ce.Code, ce.Reason)
		}
		return fmt.Errorf("admin %s %s: %w", cmd.group, cmd.verb, err)
	}
	return nil
}

// parseInterleaved parses flags wherever they appear among the
// positional arguments (flag.Parse alone stops at the first argument).
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

func findAdminCmd(pos []string) (*adminCmd, []string, error) {
	for i := range adminCmds {
		c := &adminCmds[i]
		if c.group != pos[0] {
			continue
		}
		if len(pos) > 1 && c.verb == pos[1] {
			return c, pos[2:], nil
		}
	}
	// A group alone runs its default verb ("pools" lists pools).
	for i := range adminCmds {
		c := &adminCmds[i]
		if c.group == pos[0] && c.verb == "" {
			return c, pos[1:], nil
		}
	}
	return nil, nil, fmt.Errorf("admin: unknown command %q (see authpool admin help)", strings.Join(pos[:min(2, len(pos))], " "))
}

func newAdminEnv(f *adminFlags, set map[string]bool, getenv func(string) string, out io.Writer) (*adminEnv, error) {
	first := func(vals ...string) string {
		for _, v := range vals {
			if v != "" {
				return v
			}
		}
		return ""
	}
	key := first(f.key, getenv("AUTHPOOL_ADMIN_KEY"))
	if key == "" {
		if path := getenv("AUTHPOOL_ADMIN_KEY_FILE"); path != "" {
			b, err := os.ReadFile(path)
			if err != nil {
				return nil, fmt.Errorf("admin: AUTHPOOL_ADMIN_KEY_FILE: %w", err)
			}
			key = strings.TrimSpace(string(b))
		}
	}
	if key == "" {
		return nil, errors.New("admin: no administrator key: give -key or set AUTHPOOL_ADMIN_KEY (the server printed one at first start)")
	}
	mc := client.NewManagementClient(client.ManagementOptions{
		Host:     first(f.url, getenv("AUTHPOOL_ADMIN_URL"), "http://127.0.0.1:8080"),
		AdminKey: key,
		Timeout:  30 * time.Second,
	})
	return &adminEnv{
		mc: mc, pool: first(f.pool, getenv("AUTHPOOL_ADMIN_POOL"), "default"),
		json: f.json, out: out, flags: f, setFlg: set,
	}, nil
}

// print writes v as indented JSON with --json, else calls table with a
// tabwriter that is flushed afterwards.
func (e *adminEnv) print(v any, table func(w io.Writer)) error {
	if e.json {
		enc := json.NewEncoder(e.out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(e.out, 2, 8, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}

// timeFlag reads an RFC 3339 time, or a duration meaning that long ago.
func timeFlag(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		return time.Now().Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("-%s %q: want RFC 3339 time or a duration such as 24h", name, v)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
