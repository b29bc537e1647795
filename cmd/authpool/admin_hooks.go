package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/authpool/authpool/client"
)

// hookCmds manage pipelines and webhooks.
var hookCmds = []adminCmd{
	{group: "pipelines", verb: "list", flags: []string{"stage"}, help: "list pipelines in run order", run: pipelinesList},
	{group: "pipelines", verb: "get", args: "<pipelineId>", min: 1, max: 1, help: "show a pipeline with its script", run: pipelinesGet},
	{group: "pipelines", verb: "create", flags: []string{"stage", "name", "script-file", "endpoint", "secret", "order", "timeout", "hosts", "env", "disabled"},
		help: "create a script (-script-file) or http (-endpoint) pipeline; an http pipeline's secret is shown once", run: pipelinesCreate},
	{group: "pipelines", verb: "update", args: "<pipelineId>", min: 1, max: 1, flags: []string{"name", "script-file", "endpoint", "secret", "rotate-secret", "order", "timeout", "hosts", "env", "unset-env"},
		help: "change a pipeline (-env sets, -unset-env removes a variable)", run: pipelinesUpdate},
	{group: "pipelines", verb: "enable", args: "<pipelineId>", min: 1, max: 1, help: "enable a pipeline", run: pipelinesEnable(true)},
	{group: "pipelines", verb: "disable", args: "<pipelineId>", min: 1, max: 1, help: "disable a pipeline", run: pipelinesEnable(false)},
	{group: "pipelines", verb: "reorder", args: "<stage> <pipelineId>...", min: 2, max: 1000, help: "set the run order of a stage (every pipeline of it, first to run first)", run: pipelinesReorder},
	{group: "pipelines", verb: "delete", args: "<pipelineId>", min: 1, max: 1, help: "delete a pipeline and its log", run: pipelinesDelete},
	{group: "pipelines", verb: "try", args: "<pipelineId>", min: 1, max: 1, flags: []string{"sample-file"}, help: "run a pipeline once against a sample user; nothing is stored", run: pipelinesTry},
	{group: "pipelines", verb: "logs", args: "<pipelineId>", min: 1, max: 1, flags: []string{"limit"}, help: "show a pipeline's log, newest first", run: pipelinesLogs},

	{group: "webhooks", verb: "list", help: "list webhook subscriptions", run: webhooksList},
	{group: "webhooks", verb: "get", args: "<webhookId>", min: 1, max: 1, help: "show a subscription", run: webhooksGet},
	{group: "webhooks", verb: "create", flags: []string{"endpoint", "events", "secret", "disabled"}, help: "subscribe -endpoint to -events; the secret is shown once", run: webhooksCreate},
	{group: "webhooks", verb: "update", args: "<webhookId>", min: 1, max: 1, flags: []string{"endpoint", "events", "secret", "rotate-secret"}, help: "change a subscription", run: webhooksUpdate},
	{group: "webhooks", verb: "enable", args: "<webhookId>", min: 1, max: 1, help: "enable a subscription", run: webhooksEnable(true)},
	{group: "webhooks", verb: "disable", args: "<webhookId>", min: 1, max: 1, help: "disable a subscription (its deliveries wait)", run: webhooksEnable(false)},
	{group: "webhooks", verb: "delete", args: "<webhookId>", min: 1, max: 1, help: "delete a subscription with its deliveries", run: webhooksDelete},
	{group: "webhooks", verb: "deliveries", flags: []string{"webhook", "event-id", "status", "limit"}, help: "list deliveries, newest first", run: deliveriesList},
	{group: "webhooks", verb: "delivery", args: "<deliveryId>", min: 1, max: 1, help: "show a delivery, its event and every attempt", run: deliveryGet},
	{group: "webhooks", verb: "redeliver", args: "<deliveryId>", min: 1, max: 1, help: "send a delivery again", run: deliveryRedeliver},
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func readFile(name string) (string, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func pipelinesTable(w io.Writer, list []client.Pipeline) {
	fmt.Fprintln(w, "STAGE\tORDER\tID\tNAME\tKIND\tENABLED\tTIMEOUT")
	for _, p := range list {
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%t\t%s\n", p.Stage, p.Order, p.ID, p.Name, p.Kind, p.Enabled, orDash(p.Timeout))
	}
}

func pipelinesList(ctx context.Context, e *adminEnv, _ []string) error {
	list, err := e.mc.ListPipelines(ctx, e.pool, e.flags.stage)
	if err != nil {
		return err
	}
	return e.print(list, func(w io.Writer) { pipelinesTable(w, list) })
}

func printPipeline(e *adminEnv, p *client.Pipeline) error {
	return e.print(p, func(w io.Writer) {
		row := func(k, v string) { fmt.Fprintf(w, "%s\t%s\n", k, v) }
		row("id", p.ID)
		row("stage", p.Stage+" (order "+strconv.Itoa(p.Order)+")")
		row("name", p.Name)
		row("kind", p.Kind)
		row("enabled", strconv.FormatBool(p.Enabled))
		row("timeout", orDash(p.Timeout))
		if p.URL != "" {
			row("url", p.URL)
		}
		if p.Secret != "" {
			row("secret", p.Secret+"  (shown this once: keep it)")
		}
		if len(p.AllowedHosts) > 0 {
			row("allowed hosts", strings.Join(p.AllowedHosts, ", "))
		}
		if len(p.EnvNames) > 0 {
			row("env", strings.Join(p.EnvNames, ", "))
		}
		row("created", fmtTime(p.CreatedAt))
		row("updated", fmtTime(p.UpdatedAt))
		if p.Script != "" {
			fmt.Fprintf(w, "\n%s\n", strings.TrimRight(p.Script, "\n"))
		}
	})
}

func pipelinesGet(ctx context.Context, e *adminEnv, args []string) error {
	p, err := e.mc.GetPipeline(ctx, e.pool, args[0])
	if err != nil {
		return err
	}
	return printPipeline(e, p)
}

// envFlags reads -env NAME=VALUE flags.
func envFlags(vals []string) (map[string]string, error) {
	env := map[string]string{}
	for _, v := range vals {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("-env %q: want NAME=VALUE", k)
		}
		env[k] = val
	}
	return env, nil
}

func pipelinesCreate(ctx context.Context, e *adminEnv, _ []string) error {
	f := e.flags
	in := client.CreatePipelineRequest{Stage: f.stage, Name: f.name, URL: f.endpoint, Secret: f.secret, Timeout: f.timeout, AllowedHosts: splitList(f.hosts)}
	switch {
	case f.scriptFile != "" && f.endpoint != "":
		return fmt.Errorf("give -script-file or -endpoint, not both")
	case f.scriptFile != "":
		in.Kind = client.PipelineKindScript
		src, err := readFile(f.scriptFile)
		if err != nil {
			return err
		}
		in.Script = src
	case f.endpoint != "":
		in.Kind = client.PipelineKindHTTP
	default:
		return fmt.Errorf("give -script-file (a script pipeline) or -endpoint (an http pipeline)")
	}
	if e.setFlg["order"] {
		in.Order = &f.order
	}
	if f.disabled {
		in.Enabled = new(bool)
	}
	env, err := envFlags(f.env)
	if err != nil {
		return err
	}
	if len(env) > 0 {
		in.Env = env
	}
	p, err := e.mc.CreatePipeline(ctx, e.pool, in)
	if err != nil {
		return err
	}
	return printPipeline(e, p)
}

func pipelinesUpdate(ctx context.Context, e *adminEnv, args []string) error {
	f := e.flags
	in := client.UpdatePipelineRequest{RotateSecret: f.rotateSecret}
	str := func(flag string, v string) *string {
		if e.setFlg[flag] {
			return &v
		}
		return nil
	}
	in.Name, in.URL, in.Secret, in.Timeout = str("name", f.name), str("endpoint", f.endpoint), str("secret", f.secret), str("timeout", f.timeout)
	if e.setFlg["script-file"] {
		src, err := readFile(f.scriptFile)
		if err != nil {
			return err
		}
		in.Script = &src
	}
	if e.setFlg["order"] {
		in.Order = &f.order
	}
	if e.setFlg["hosts"] {
		hosts := splitList(f.hosts)
		in.AllowedHosts = &hosts
	}
	env, err := envFlags(f.env)
	if err != nil {
		return err
	}
	if len(env) > 0 || len(f.unsetEnv) > 0 {
		in.Env = map[string]*string{}
		for k, v := range env {
			in.Env[k] = &v
		}
		for _, k := range f.unsetEnv {
			in.Env[k] = nil
		}
	}
	p, err := e.mc.UpdatePipeline(ctx, e.pool, args[0], in)
	if err != nil {
		return err
	}
	return printPipeline(e, p)
}

func pipelinesEnable(enabled bool) func(context.Context, *adminEnv, []string) error {
	return func(ctx context.Context, e *adminEnv, args []string) error {
		p, err := e.mc.EnablePipeline(ctx, e.pool, args[0], enabled)
		if err != nil {
			return err
		}
		return e.print(p, func(w io.Writer) { fmt.Fprintf(w, "pipeline %s enabled: %t\n", p.ID, p.Enabled) })
	}
}

func pipelinesReorder(ctx context.Context, e *adminEnv, args []string) error {
	list, err := e.mc.ReorderPipelines(ctx, e.pool, args[0], args[1:])
	if err != nil {
		return err
	}
	return e.print(list, func(w io.Writer) { pipelinesTable(w, list) })
}

func pipelinesDelete(ctx context.Context, e *adminEnv, args []string) error {
	if err := e.mc.DeletePipeline(ctx, e.pool, args[0]); err != nil {
		return err
	}
	return e.print(map[string]string{"deleted": args[0]}, func(w io.Writer) { fmt.Fprintf(w, "pipeline %s deleted with its log\n", args[0]) })
}

func pipelinesTry(ctx context.Context, e *adminEnv, args []string) error {
	var in client.TryPipelineRequest
	if e.flags.sampleFile != "" {
		b, err := os.ReadFile(e.flags.sampleFile)
		if err != nil {
			return err
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			return fmt.Errorf("-sample-file: %w", err)
		}
	}
	tr, err := e.mc.TryPipeline(ctx, e.pool, args[0], in)
	if err != nil {
		return err
	}
	return e.print(tr, func(w io.Writer) {
		row := func(k, v string) { fmt.Fprintf(w, "%s\t%s\n", k, v) }
		row("outcome", tr.Outcome)
		if tr.Message != "" {
			row("message", tr.Message)
		}
		row("duration", strconv.FormatInt(tr.DurationMs, 10)+"ms")
		for _, k := range slices.Sorted(maps.Keys(tr.Changes)) {
			row("set "+k, tr.Changes[k])
		}
		for _, k := range slices.Sorted(maps.Keys(tr.CustomData)) {
			row("set data."+k, dataText(tr.CustomData[k]))
		}
		if tr.Output != "" {
			fmt.Fprintf(w, "\n%s", tr.Output)
		}
	})
}

func pipelinesLogs(ctx context.Context, e *adminEnv, args []string) error {
	logs, err := e.mc.PipelineLogs(ctx, e.pool, args[0], e.flags.limit)
	if err != nil {
		return err
	}
	return e.print(logs, func(w io.Writer) {
		fmt.Fprintln(w, "TIME\tSTAGE\tOUTCOME\tMS\tMESSAGE\tOUTPUT")
		for _, l := range logs {
			out, _, _ := strings.Cut(strings.TrimRight(l.Output, "\n"), "\n")
			fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\n", fmtTime(l.CreatedAt), l.Stage, l.Outcome, l.DurationMs, orDash(l.Message), orDash(out))
		}
	})
}

func webhooksTable(w io.Writer, list []client.WebhookSubscription) {
	fmt.Fprintln(w, "ID\tENABLED\tEVENTS\tURL\tCREATED")
	for _, s := range list {
		fmt.Fprintf(w, "%s\t%t\t%s\t%s\t%s\n", s.ID, s.Enabled, strings.Join(s.Events, ","), s.URL, fmtTime(s.CreatedAt))
	}
}

func printWebhook(e *adminEnv, s *client.WebhookSubscription) error {
	return e.print(s, func(w io.Writer) {
		row := func(k, v string) { fmt.Fprintf(w, "%s\t%s\n", k, v) }
		row("id", s.ID)
		row("url", s.URL)
		row("events", strings.Join(s.Events, ", "))
		row("enabled", strconv.FormatBool(s.Enabled))
		if s.Secret != "" {
			row("secret", s.Secret+"  (shown this once: keep it)")
		}
		row("created", fmtTime(s.CreatedAt))
		row("updated", fmtTime(s.UpdatedAt))
	})
}

func webhooksList(ctx context.Context, e *adminEnv, _ []string) error {
	list, err := e.mc.ListWebhooks(ctx, e.pool)
	if err != nil {
		return err
	}
	return e.print(list, func(w io.Writer) { webhooksTable(w, list) })
}

func webhooksGet(ctx context.Context, e *adminEnv, args []string) error {
	s, err := e.mc.GetWebhook(ctx, e.pool, args[0])
	if err != nil {
		return err
	}
	return printWebhook(e, s)
}

func webhooksCreate(ctx context.Context, e *adminEnv, _ []string) error {
	in := client.CreateWebhookRequest{URL: e.flags.endpoint, Events: splitList(e.flags.events), Secret: e.flags.secret}
	if e.flags.disabled {
		in.Enabled = new(bool)
	}
	s, err := e.mc.CreateWebhook(ctx, e.pool, in)
	if err != nil {
		return err
	}
	return printWebhook(e, s)
}

func webhooksUpdate(ctx context.Context, e *adminEnv, args []string) error {
	in := client.UpdateWebhookRequest{RotateSecret: e.flags.rotateSecret}
	if e.setFlg["endpoint"] {
		in.URL = &e.flags.endpoint
	}
	if e.setFlg["events"] {
		events := splitList(e.flags.events)
		in.Events = &events
	}
	if e.setFlg["secret"] {
		in.Secret = &e.flags.secret
	}
	s, err := e.mc.UpdateWebhook(ctx, e.pool, args[0], in)
	if err != nil {
		return err
	}
	return printWebhook(e, s)
}

func webhooksEnable(enabled bool) func(context.Context, *adminEnv, []string) error {
	return func(ctx context.Context, e *adminEnv, args []string) error {
		s, err := e.mc.UpdateWebhook(ctx, e.pool, args[0], client.UpdateWebhookRequest{Enabled: &enabled})
		if err != nil {
			return err
		}
		return e.print(s, func(w io.Writer) { fmt.Fprintf(w, "webhook %s enabled: %t\n", s.ID, s.Enabled) })
	}
}

func webhooksDelete(ctx context.Context, e *adminEnv, args []string) error {
	if err := e.mc.DeleteWebhook(ctx, e.pool, args[0]); err != nil {
		return err
	}
	return e.print(map[string]string{"deleted": args[0]}, func(w io.Writer) { fmt.Fprintf(w, "webhook %s deleted with its deliveries\n", args[0]) })
}

func deliveriesTable(w io.Writer, list []client.Delivery) {
	fmt.Fprintln(w, "CREATED\tID\tTYPE\tSTATUS\tATTEMPTS\tLAST ERROR")
	for _, d := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\n", fmtTime(d.CreatedAt), d.ID, d.Type, d.Status, d.Attempts, orDash(d.LastError))
	}
}

func deliveriesList(ctx context.Context, e *adminEnv, _ []string) error {
	list, err := e.mc.ListDeliveries(ctx, e.pool, client.DeliveryQuery{WebhookID: e.flags.webhook, EventID: e.flags.eventID, Status: e.flags.status, Limit: e.flags.limit})
	if err != nil {
		return err
	}
	return e.print(list, func(w io.Writer) { deliveriesTable(w, list) })
}

func deliveryGet(ctx context.Context, e *adminEnv, args []string) error {
	d, err := e.mc.GetDelivery(ctx, e.pool, args[0])
	if err != nil {
		return err
	}
	return e.print(d, func(w io.Writer) {
		deliveriesTable(w, []client.Delivery{d.Delivery})
		fmt.Fprintln(w, "\nATTEMPT\tTIME\tSTATUS\tMS\tWORKER\tERROR")
		for _, a := range d.History {
			fmt.Fprintf(w, "%d\t%s\t%d\t%d\t%s\t%s\n", a.Number, fmtTime(a.CreatedAt), a.StatusCode, a.DurationMs, a.Worker, orDash(a.Error))
		}
		fmt.Fprintf(w, "\n%s\n", d.Event)
	})
}

func deliveryRedeliver(ctx context.Context, e *adminEnv, args []string) error {
	d, err := e.mc.Redeliver(ctx, e.pool, args[0])
	if err != nil {
		return err
	}
	return e.print(d, func(w io.Writer) { fmt.Fprintf(w, "delivery %s is %s again\n", d.ID, d.Status) })
}
